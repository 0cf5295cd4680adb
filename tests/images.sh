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
# Then docker-run end to end, on stores of its own (DOCKER_RUN_IMAGES under the temp dir):
# `load` of each of podman's formats and `run IMAGE` (the image's Cmd, Env, WorkingDir, its
# files; -e, -w and a COMMAND override), a two-layer image made by tests/helpers/mkimage.sh
# (a whiteout and an opaque directory hide lower files, gzip layers), `import`, `images`,
# `tag`, `rmi` (refused while a container uses the image), a hostile archive refused with
# nothing left behind. Needs root; podman comes from tests/deps.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the image store end-to-end test"

command -v podman >/dev/null || { fail "podman is installed" "run tests/deps.sh"; summary; }
[ -x rootfs/bin/sh ] || make rootfs >/dev/null || { fail "make rootfs"; summary; }

# What the host's container storage looks like now: it must look the same at the end.
host_storage() { ls -la --time-style=full-iso /var/lib/containers /run/containers 2>&1; }
host_before=$(host_storage)

work=$(mktemp -d /tmp/dr-images.XXXXXX)
DR=${DR:-./docker-run}
trap 'cleanup' EXIT
cleanup() {
    [ -n "${busy:-}" ] && kill "$busy" 2>/dev/null && wait "$busy" 2>/dev/null
    rm -rf "$work"
}
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
# Only the node added below: a device node some other suite left in ./rootfs/dev is not ours.
find "$src" \( -type c -o -type b \) -delete
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
# An image with an Entrypoint as well, saved as a gzip-compressed oci-archive.
step "podman import (Entrypoint + Cmd)" pod import \
    --change 'ENTRYPOINT ["/bin/echo", "entry"]' --change 'CMD ["from-cmd"]' --change 'EXPOSE 8080' \
    --change 'EXPOSE 9090/udp' "$work/rootfs.tar" localhost/dr-ep:v1
step "podman save oci-archive (Entrypoint + Cmd)" pod save -q --format oci-archive -o "$work/ep-oci.tar" localhost/dr-ep:v1
gzip -f "$work/ep-oci.tar"
# An image whose User is a name: its groups come from the image's /etc/group.
step "podman import (User)" pod import --change 'USER user' --change 'CMD ["id"]' "$work/rootfs.tar" localhost/dr-user:v1
step "podman save docker-archive (User)" pod save -q --format docker-archive -o "$work/user.tar" localhost/dr-user:v1

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

echo "=== docker-run load, run IMAGE"
[ -x "$DR" ] || make container >/dev/null || fail "make container"
# dr STORE ARGS...: docker-run on the image store $work/STORE, no network, stdin closed.
dr() {
    local store=$1
    shift
    DOCKER_RUN_IMAGES="$work/$store" "$DR" "$@" </dev/null
}
drun() {
    local store=$1
    shift
    dr "$store" run --rm --network none "$@"
}
for fmt in docker.tar docker.tar.gz oci.tar ocidir; do
    store=s-${fmt%%.*}-${fmt##*.}
    out=$(dr "$store" load -i "$work/$fmt" 2>"$work/load.err")
    expect "load -i $fmt" "Loaded image: localhost/dr-e2e:v1" "$out"
    expect_match "$fmt: the device node is skipped with a warning" "warning: .*skipped 1 device node" "$(cat "$work/load.err")"
    expect "$fmt: run IMAGE runs its Cmd with its Env" "hello" "$(drun "$store" localhost/dr-e2e:v1 2>&1)"
    expect "$fmt: the short name finds localhost/" "/srv" "$(drun "$store" dr-e2e:v1 sh -c pwd 2>&1)"
done
st=s-docker-tar
expect "a COMMAND replaces Cmd; WorkingDir is the cwd" "/srv hello" \
    "$(drun $st dr-e2e:v1 sh -c 'echo $(pwd) $GREETING' 2>&1)"
expect "-e overrides the image's Env, -w its WorkingDir" "/tmp bye" \
    "$(drun $st -e GREETING=bye -w /tmp dr-e2e:v1 sh -c 'echo $(pwd) $GREETING' 2>&1)"
expect "the layer's files, owners and set-id bits are there" "owned 1000 4755" \
    "$(drun $st dr-e2e:v1 sh -c 'echo $(cat /home/user/file) $(stat -c %u /home/user/file) $(stat -c %a /bin/setuid-test)' 2>&1)"
expect "the container's writes stay in its own layer" "no" \
    "$(drun $st dr-e2e:v1 sh -c 'echo x >/srv/new' 2>&1; drun $st dr-e2e:v1 sh -c 'test -e /srv/new && echo yes || echo no' 2>&1)"
expect "a rootfs directory still runs without an image" "hi" "$(dr $st run --rm --network none -- echo hi 2>&1)"
out=$(dr $st images 2>&1)
expect_match "images lists it" "^localhost/dr-e2e +v1 +[0-9a-f]{12} " "$(sed -n 2p <<<"$out")"
expect "tag" "" "$(dr $st tag dr-e2e:v1 other:2 2>&1)"
expect "images -q: one id" "1" "$(dr $st images -q | wc -l)"

# Entrypoint + Cmd: run IMAGE, run IMAGE ARGS (Cmd replaced), and inspect shows them apart.
expect "load < a gzip oci-archive (stdin)" "Loaded image: localhost/dr-ep:v1" \
    "$(DOCKER_RUN_IMAGES="$work/$st" "$DR" load <"$work/ep-oci.tar.gz" 2>&1)"
expect "Entrypoint + Cmd; run IMAGE ARGS keeps the Entrypoint" "entry from-cmd|entry a b" \
    "$(drun $st dr-ep:v1 2>&1)|$(drun $st dr-ep:v1 a b 2>&1)"
ep=$(DOCKER_RUN_IMAGES="$work/$st" "$DR" run -d --network none dr-ep:v1 x y 2>&1)
out=$("$DR" inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}} {{.Path}} {{json .Args}}' "$ep" 2>&1)
"$DR" rm -f "$ep" >/dev/null 2>&1
expect "inspect: Config.Entrypoint, Config.Cmd (what follows it), Config.ExposedPorts; Path and Args" \
    '["/bin/echo","entry"] ["x","y"] {"8080/tcp":{},"9090/udp":{}} /bin/echo ["entry","x","y"]' "$out"

dr $st load -i "$work/user.tar" >/dev/null 2>&1
expect_match "User by name: uid, gid and the supplementary groups of the image's /etc/group (users)" \
    "^uid=1000\(user\) gid=1000\(user\) groups=.*100\(users\)" "$(drun $st dr-user:v1 2>&1)"

tests/helpers/mkimage.sh "$work/layers.tar" rootfs localhost/dr-layers:v1 gzip >/dev/null || fail "mkimage.sh"
expect "load a two-layer image with gzip layers" "Loaded image: localhost/dr-layers:v1" "$(dr $st load -i "$work/layers.tar" 2>/dev/null)"
expect "its Cmd, Env, WorkingDir and top layer" "$(printf 'hello\n/srv\nfrom the top layer')" "$(drun $st dr-layers:v1 2>&1)"
expect "a whiteout deletes a lower file, an opaque dir hides the lower entries" "gone gone new" \
    "$(drun $st dr-layers:v1 sh -c 'test -e /etc/wh-victim || echo gone; test -e /opq/old || echo gone; ls /opq' 2>&1 | tr '\n' ' ' | sed 's/ $//')"

# A container that runs an image keeps rmi from deleting it.
DOCKER_RUN_IMAGES="$work/$st" "$DR" run --rm --network none --name img-busy-$$ dr-layers:v1 sleep 30 </dev/null >/dev/null 2>&1 &
busy=$!
for _ in $(seq 50); do "$DR" ps | grep -q " img-busy-$$\$" && break; sleep 0.1; done
out=$(dr $st rmi dr-layers:v1 2>&1); rc=$?
expect_match "rmi of an image a container runs is refused" "in use by a container" "$out (status $rc)"
kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null; busy=
# A stopped container (run without --rm) is started again on its image's layers: kept in use.
DOCKER_RUN_IMAGES="$work/$st" "$DR" run --network none --name img-kept-$$ dr-layers:v1 true </dev/null >/dev/null 2>&1
out=$(dr $st rmi dr-layers:v1 2>&1)
expect_match "rmi of an image a stopped container was made from is refused" "in use by a container" "$out"
expect "  and once that container is removed" "img-kept-$$" "$("$DR" rm img-kept-$$ 2>&1)"
out=$(dr $st rmi dr-layers:v1 2>&1)
expect_match "rmi once it has ended" "^Untagged: localhost/dr-layers:v1" "$out"
expect_match "rmi deletes it" "Deleted: sha256:[0-9a-f]{64}" "$out"
out=$(dr $st rmi nothere 2>&1); rc=$?
expect "rmi of a missing image" "docker-run: no such image: nothere (125)" "$out ($rc)"
out=$(drun $st missing-image:1 2>&1); rc=$?
expect_match "run of a name that is no image runs it as a command (not found)" "127" "$rc"

# import, and a hostile archive: a layer entry that climbs out of the layer.
tar -C rootfs -czf "$work/rootfs.tgz" .
out=$(dr s-import import "$work/rootfs.tgz" imported:1 2>&1)
expect_match "import a gzip root filesystem tar" "^sha256:[0-9a-f]{64}$" "$out"
expect "run the imported image" "ok" "$(drun s-import imported:1 echo ok 2>&1)"
python3 - "$work/hostile.tar" <<'PY'
import hashlib, io, json, sys, tarfile
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for name, data in entries:
            i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    return b.getvalue()
layer = tar([("../../../../tmp/dr-hostile-escape", b"x")])
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
cid = hashlib.sha256(cfg).hexdigest()
man = json.dumps([{"Config": cid + ".json", "RepoTags": ["hostile:1"], "Layers": ["l/layer.tar"]}]).encode()
with open(sys.argv[1], "wb") as f:
    f.write(tar([("manifest.json", man), (cid + ".json", cfg), ("l/layer.tar", layer)]))
PY
out=$(dr s-hostile load -i "$work/hostile.tar" 2>&1); rc=$?
expect_match "a layer entry with ../ is refused" "refused entry.*\.\./.*\(125\)" "$out ($rc)"
expect "nothing of it is left in the store or outside" "0 0 no" \
    "$(ls "$work/s-hostile/layers" | wc -l) $(ls "$work/s-hostile/tmp" | wc -l) $([ -e /tmp/dr-hostile-escape ] && echo yes || echo no)"
expect "the host's container storage is untouched" "$host_before" "$(host_storage)"
summary
