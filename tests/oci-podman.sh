#!/usr/bin/env bash
# tests/oci-podman.sh RT WORK: podman (the Debian package) with --runtime RT; run by tests/oci.sh
# inside a private mount namespace of its own (unshare --mount), so that podman's mounts (the
# container's /dev/shm, its /etc/hosts) and the /var/lib it is given stay there.
#
# podman gets a store of its own (--root/--runroot, storage.conf, containers.conf, a CNI config
# dir, its tmp dir) under WORK, and /var/lib is WORK/varlib (podman 4 writes its blob-info
# cache to /var/lib/containers whatever --root says). containers.conf lowers default_ulimits:
# podman asks for the host's nofile/nproc maximum, which needs CAP_SYS_RESOURCE, missing from
# root's bounding set here. The published port is on the test's own network (its own bridge
# and subnet) and reached on that bridge's address. Removed at the end: the containers, the
# network and its bridge, libpod_parent/ and its conmon cgroup when this test made them.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
RT=$1
work=$2
CLEANUPS=()
at_exit() { CLEANUPS+=("$1"); }
run_cleanups() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1; done
}
trap run_cleanups EXIT

mkdir -p "$work/varlib" "$work/tmp" "$work/cni" "$work/libpod" || exit 1
mount --bind "$work/varlib" /var/lib || { fail "private /var/lib"; summary; }
for c in /sys/fs/cgroup/*/; do
    [ -d "$c/libpod_parent" ] || at_exit "rmdir '$c/libpod_parent/conmon' '$c/libpod_parent'"
done
# CNI's firewall and portmap plugins add chains (CNI-*) they never remove: the ones this test
# made go at the end, with the rules that jump to them.
cni_chains() { iptables -t "$1" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^CNI-/ { print $2 }' | sort; }
cni_before_nat=$(cni_chains nat)
cni_before_filter=$(cni_chains filter)
remove_new_cni_chains() {
    local t before new c rule
    for t in nat filter; do
        before=cni_before_$t
        new=$(comm -13 <(printf '%s\n' "${!before}") <(cni_chains $t) | grep .)
        [ -z "$new" ] && continue
        for c in $new; do
            iptables -t $t -S | grep -E -- "-j $c( |\$)" | sed 's/^-A /-D /' | while read -r rule; do
                eval "iptables -t $t $rule"
            done
        done
        for c in $new; do iptables -t $t -F "$c"; done
        for c in $new; do iptables -t $t -X "$c"; done
    done
}
at_exit remove_new_cni_chains
cat >"$work/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$work/podman/run"
graphroot = "$work/podman/root"
CONF
cat >"$work/containers.conf" <<CONF
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
events_logger = "none"
cgroup_manager = "cgroupfs"
tmp_dir = "$work/libpod"
static_dir = "$work/podman/root/libpod"
volume_path = "$work/podman/root/volumes"
[network]
network_backend = "cni"
network_config_dir = "$work/cni"
CONF
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" TMPDIR="$work/tmp"
pod() {
    podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/tmp" \
        --storage-driver vfs --events-backend none --cgroup-manager cgroupfs --runtime "$RT" "$@"
}
at_exit "pod rm -af -t 0"
# step NAME CMD...: pass when CMD succeeds, else fail with the end of its output.
step() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(printf '%s' "$out" | tail -3)"; fi
}

# The image: the default rootfs plus the static probe (a TCP server for the port test).
src="$work/img"
cp -a rootfs "$src" && cp "$work/bin/probe" "$src/bin/probe" && mkdir -p "$src/data"
tar -C "$src" --numeric-owner -cf "$work/img.tar" . && rm -rf "$src"
step "podman import of the default rootfs" pod import --change 'CMD ["/bin/sh"]' "$work/img.tar" localhost/cr-test:1
IMG=localhost/cr-test:1

expect "run: output" "hello" "$(pod run --rm $IMG echo hello 2>&1)"
pod run --rm $IMG sh -c 'exit 7' >/dev/null 2>&1
expect "run: the exit status" 7 $?
out=$(script -qec "podman --root $work/podman/root --runroot $work/podman/run --tmpdir $work/tmp --storage-driver vfs --events-backend none --cgroup-manager cgroupfs --runtime $RT run --rm -it $IMG sh -c 'tty; stty size'" /dev/null < <(sleep 4) 2>&1 | tr -d '\r')
expect_match "run -it: a terminal" "/dev/pts/[0-9]+" "$out"

id=$(pod run -d $IMG sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done' 2>&1)
expect "run -d: running" running "$(pod inspect -f '{{.State.Status}}' "$id" 2>&1)"
sleep 0.5
expect "logs" started "$(pod logs "$id" 2>&1)"
expect "exec: output" "in c" "$(pod exec "$id" sh -c 'echo in c' 2>&1)"
pod exec "$id" sh -c 'exit 4' >/dev/null 2>&1
expect "exec: the exit status" 4 $?
expect_match "exec -it: a terminal" "/dev/pts/[0-9]+" "$(script -qec "podman --root $work/podman/root --runroot $work/podman/run --tmpdir $work/tmp --storage-driver vfs --events-backend none --cgroup-manager cgroupfs --runtime $RT exec -it $id tty" /dev/null < <(sleep 4) 2>&1 | tr -d '\r')"
step "pause" pod pause "$id"
expect "paused" paused "$(pod inspect -f '{{.State.Status}}' "$id" 2>&1)"
step "unpause" pod unpause "$id"
expect "running again" running "$(pod inspect -f '{{.State.Status}}' "$id" 2>&1)"
step "stop" pod stop -t 5 "$id"
expect "stop: exited, by its TERM trap" "exited 0" "$(pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id" 2>&1)"
expect_match "logs after stop" "bye" "$(pod logs "$id" 2>&1)"
step "rm" pod rm "$id"
expect "rm: gone" "" "$(pod ps -aq 2>&1)"

id=$(pod run -d $IMG sleep 1000 2>&1)
step "kill" pod kill "$id"
pod wait "$id" >/dev/null 2>&1
expect "kill: exited 137" "exited 137" "$(pod inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id" 2>&1)"
step "rm -f" pod rm -f "$id"

expect "--user" "1000 1000" "$(pod run --rm --user 1000:1000 $IMG sh -c 'echo $(id -u) $(id -g)' 2>&1)"
expect "--hostname" "pod-host" "$(pod run --rm --hostname pod-host $IMG hostname 2>&1)"
out=$(pod run --rm --read-only $IMG sh -c 'touch /x 2>&1; echo rc=$?' 2>&1)
expect_match "--read-only: the root cannot be written" "Read-only file system.*rc=1|rc=1" "$out"
out=$(pod run --rm --memory 64m $IMG sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' 2>&1)
expect "--memory 64m: the cgroup limit" 67108864 "$out"
step "volume create" pod volume create crvol
pod run --rm -v crvol:/data $IMG sh -c 'echo kept >/data/f' >/dev/null 2>&1
expect "a volume keeps data between containers" kept "$(pod run --rm -v crvol:/data $IMG cat /data/f 2>&1)"
mkdir -p "$work/host" && echo from-host >"$work/host/f"
expect "a bind mount" from-host "$(pod run --rm -v "$work/host:/mnt:ro" $IMG cat /mnt/f 2>&1)"

# A published port on the test's own network: reached on its bridge's address.
step "network create" pod network create --subnet 10.213.7.0/24 crtest
br=$(pod network inspect -f '{{.NetworkInterface}}' crtest 2>/dev/null)
[ -n "$br" ] && at_exit "ip link del '$br'"
at_exit "pod network rm -f crtest"
id=$(pod run -d --network crtest -p 18087:8080 $IMG /bin/probe serve 8080 port-ok 2>&1)
out=
for i in $(seq 50); do
    out=$("$work/bin/probe" connect 10.213.7.1 18087 500 2>/dev/null) && break
    sleep 0.1
done
expect "a published port answers on the test network's gateway" port-ok "$out"
step "rm -f the server" pod rm -f -t 0 "$id"
summary
