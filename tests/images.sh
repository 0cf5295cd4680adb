#!/usr/bin/env bash
# The image store (rust-core/src/image) on images made by a real tool. podman imports a copy of
# the default rootfs (with a setuid file, another owner and a device node added) with Env, Cmd,
# WorkingDir, ExposedPorts and a label, and saves it as docker-archive, oci-archive and oci-dir;
# an ignored cargo test (image::tests::podman_saved_images_load) loads each into one store and
# checks tags, config, layers and every file against the rootfs and against `podman inspect`.
#
# podman gets a store of its own (--root/--runroot, storage.conf and containers.conf) under a
# temp dir, and runs in a private mount namespace whose /var/lib is a temp dir as well: as root,
# podman 4 writes its blob-info cache to /var/lib/containers whatever --root says. So nothing of
# the host's container storage is read or written, and removing the temp dir removes it all
# (the vfs driver mounts nothing).
#
# Not in tests/run.sh yet (it needs podman in the package list). Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the image store end-to-end test"

if ! command -v podman >/dev/null; then
    echo "installing podman"
    apt-get install -y -qq --no-install-recommends podman >/dev/null || { fail "install podman"; summary; }
fi
[ -x rootfs/bin/sh ] || make rootfs >/dev/null || { fail "make rootfs"; summary; }

# What the host's container storage looks like now: it must look the same at the end.
host_storage() { ls -la --time-style=full-iso /var/lib/containers /run/containers 2>&1; }
host_before=$(host_storage)

work=$(mktemp -d /tmp/dr-images.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/varlib" "$work/tmp"
cat >"$work/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$work/podman/run"
graphroot = "$work/podman/root"
CONF
cat >"$work/containers.conf" <<CONF
[engine]
events_logger = "none"
cgroup_manager = "cgroupfs"
CONF
cat >"$work/podman.sh" <<SH
#!/bin/sh
mount --bind "$work/varlib" /var/lib || exit 1
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" TMPDIR="$work/tmp"
exec podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/tmp" \
    --storage-driver vfs --events-backend none "\$@"
SH
chmod +x "$work/podman.sh"
pod() { unshare --mount --propagation private "$work/podman.sh" "$@"; }
# step NAME CMD...: pass when CMD succeeds, else fail with the end of its output.
step() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(printf '%s' "$out" | tail -3)"; fi
}

# The image's content: the default rootfs plus what a real image may hold.
src="$work/rootfs"
cp -a rootfs "$src"
mkdir -p "$src/home/user" "$src/srv"
echo "owned" >"$src/home/user/file"
chown -R 1000:1000 "$src/home/user"
cp "$src/bin/busybox" "$src/bin/setuid-test" 2>/dev/null || cp "$src/bin/sh" "$src/bin/setuid-test"
chmod 4755 "$src/bin/setuid-test"
mknod "$src/dev/null-node" c 1 3
tar -C "$src" --numeric-owner -cf "$work/rootfs.tar" .

step "podman import" pod import \
    --change 'CMD ["/bin/sh", "-c", "echo $GREETING"]' \
    --change 'ENV GREETING=hello' \
    --change 'WORKDIR /srv' \
    --change 'EXPOSE 8080' \
    --change 'LABEL org.example=yes' \
    "$work/rootfs.tar" localhost/dr-e2e:v1
pod inspect --format '{{.Id}}' localhost/dr-e2e:v1 >"$work/id"
pod inspect --format '{{range .RootFS.Layers}}{{.}}{{end}}' localhost/dr-e2e:v1 >"$work/diff_id"
echo "$src" >"$work/rootfs_dir"
step "podman save docker-archive" pod save -q --format docker-archive -o "$work/docker.tar" localhost/dr-e2e:v1
step "podman save oci-archive" pod save -q --format oci-archive -o "$work/oci.tar" localhost/dr-e2e:v1
step "podman save oci-dir" pod save -q --format oci-dir -o "$work/ocidir" localhost/dr-e2e:v1
gzip -c "$work/docker.tar" >"$work/docker.tar.gz"

if [ -s "$work/id" ] && [ -s "$work/diff_id" ]; then
    echo "=== cargo test image::tests::podman_saved_images_load"
    if DR_IMAGE_E2E="$work" cargo test -q --release -p container-runtime --lib \
        image::tests::podman_saved_images_load -- --ignored --exact --nocapture; then
        pass "the store loads podman's images"
    else
        fail "the store loads podman's images"
    fi
else
    fail "podman inspect" "no id or diff_id for localhost/dr-e2e:v1"
fi
expect "the host's container storage is untouched" "$host_before" "$(host_storage)"
summary
