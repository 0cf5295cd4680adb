#!/usr/bin/env bash
# tests/oci-containerd.sh RT WORK: containerd (the Debian package) driving RT through its
# io.containerd.runc.v2 shim, as Kubernetes does (the shim's BinaryName option is what
# `ctr run --runc-binary` sets); run by tests/oci.sh.
#
# containerd runs with a root, state dir, sockets and plugin dir of its own under WORK (the
# CRI plugin off), ctr uses the namespace cr-test, and the runtime's --root is under WORK too
# (--runc-root). Containers run on a copy of the default rootfs (--rootfs: no image, no
# snapshotter mounts). At the end: the tasks and containers go, containerd (our own process) is
# stopped, and the cgroups of the namespace (<controller>/cr-test) are removed when this test
# made them.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
RT=$1
work=$2/ctd
CLEANUPS=()
at_exit() { CLEANUPS+=("$1"); }
run_cleanups() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1; done
}
trap run_cleanups EXIT
NS=cr-test
mkdir -p "$work/opt" "$work/runc" || exit 1
for c in /sys/fs/cgroup/*/; do
    [ -d "$c$NS" ] || at_exit "for d in '$c$NS'/*/; do rmdir \"\$d\"; done; rmdir '$c$NS'"
done
cat >"$work/config.toml" <<CONF
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
CONF
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
ctd_pid=$!
at_exit "kill $ctd_pid; wait $ctd_pid"
c() { ctr --address "$work/containerd.sock" -n $NS "$@"; }
for i in $(seq 100); do c version >/dev/null 2>&1 && break; sleep 0.1; done
c version >/dev/null 2>&1 || { fail "containerd starts" "$(tail -3 "$work/containerd.log")"; summary; }
pass "containerd starts with its own root, state and socket"
cp -a rootfs "$work/rootfs"
RUN=(run --runc-binary "$RT" --runc-root "$work/runc" --env PATH=/usr/bin:/bin --rootfs)
at_exit 'for t in $(c task ls -q); do c task kill -s SIGKILL $t; sleep 0.2; c task rm -f $t; done; for k in $(c c ls -q); do c c rm $k; done'
# task_status ID: RUNNING, PAUSED, STOPPED
task_status() { c task ls | awk -v id="$1" '$1 == id { print $3 }'; }
wait_task() {
    local i
    for i in $(seq 100); do [ "$(task_status "$1")" = "$2" ] && return 0; sleep 0.05; done
    return 1
}

expect "ctr run: output" "hi" "$(c "${RUN[@]}" --rm "$work/rootfs" c1 echo hi 2>&1 | tr -d '\r')"
c "${RUN[@]}" --rm "$work/rootfs" c1b sh -c 'exit 3' >/dev/null 2>&1
expect "ctr run: the exit status" 3 $?

c "${RUN[@]}" -d "$work/rootfs" c2 sh -c 'while :; do sleep 0.1; done' >/dev/null 2>&1
expect "run -d: running" RUNNING "$(task_status c2)"
expect "task exec: output" "in c2" "$(c task exec --exec-id e1 c2 sh -c 'echo in c2' 2>&1)"
c task exec --exec-id e2 c2 sh -c 'exit 6' >/dev/null 2>&1
expect "task exec: the exit status" 6 $?
c task pause c2
expect "task pause: paused" PAUSED "$(task_status c2)"
c task resume c2
expect "task resume: running" RUNNING "$(task_status c2)"
c task kill -s SIGKILL c2
wait_task c2 STOPPED
expect "task kill: stopped" STOPPED "$(task_status c2)"
c task rm c2 >/dev/null 2>&1
expect "task rm" 0 $?
c c rm c2

# The limit as the host's cgroup of the task's init has it (ctr's spec mounts no cgroupfs).
c "${RUN[@]}" -d --memory-limit 67108864 "$work/rootfs" c3 sleep 100 >/dev/null 2>&1
pid=$(c task ls | awk '$1 == "c3" { print $2 }')
mem=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup" 2>/dev/null)
expect "--memory-limit: the task's cgroup limit" 67108864 "$(cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes" 2>&1)"
c task kill -s SIGKILL c3; wait_task c3 STOPPED; c task rm c3 >/dev/null; c c rm c3

# A user namespace: ctr applies --uidmap only to images, so the spec comes from `ctr oci spec`
# with the mappings added, on a copy of the rootfs owned by the mapped root.
# The mapped root must reach it: the work dirs are 0700 (mktemp).
chmod 711 "$work/.." "$work"
cp -a rootfs "$work/rootfs-userns" && chown -R 100000:100000 "$work/rootfs-userns"
c oci spec >"$work/userns.json"
python3 - "$work/userns.json" "$work/rootfs-userns" <<'PY'
import json, sys
path, rootfs = sys.argv[1:]
s = json.load(open(path))
s["root"] = {"path": rootfs}
s["process"]["args"] = ["sh", "-c", "cat /proc/self/uid_map; id -u"]
s["process"]["env"] = ["PATH=/usr/bin:/bin"]
s["linux"]["namespaces"].append({"type": "user"})
s["linux"]["cgroupsPath"] = "/cr-test/c4"
m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
s["linux"]["uidMappings"] = m
s["linux"]["gidMappings"] = m
json.dump(s, open(path, "w"))
PY
out=$(c run --runc-binary "$RT" --runc-root "$work/runc" --config "$work/userns.json" --rm c4 2>&1)
expect "a user namespace (uidMappings): root inside is 100000 outside" "0 100000 65536 0" "$(echo $out)"
expect "the runtime's state is empty again" "" "$(ls "$work/runc/$NS" 2>/dev/null)"
summary
