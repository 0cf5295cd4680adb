#!/usr/bin/env bash
# tests/oci.sh: ./container-runtime, the OCI runtime, driven three ways:
#   cli         directly, as engines call runc: spec, create/start/state/kill/delete, run,
#               exec, pause/resume, ps, list, update, features, the JSON log, runc's error
#               messages and exit codes, concurrent runtimes on one --root;
#   podman      the Debian package, with --runtime ./container-runtime, on an image imported
#               from the default rootfs: run, run -it, -d + logs + stop, exec, kill,
#               pause/unpause, rm, a published port on the test's own network, a volume, --user,
#               --read-only, --hostname, --memory;
#   containerd  the Debian package, started with its own root, state and socket; ctr run
#               --runc-binary ./container-runtime (through the io.containerd.runc.v2 shim, as
#               Kubernetes uses it): run, detached + exec + kill, pause/resume, a memory limit,
#               a user namespace.
# Each part removes what it made, also on failure: stores, state, cgroups (libpod_parent and
# conmon, the containerd namespace's), network, mounts, processes. Traffic goes only to
# addresses of the test's own network.
#   tests/oci.sh [--only PART[,PART]]    parts: cli, podman, containerd (default: all)
#   RT=/usr/sbin/runc tests/oci.sh       the same expectations checked against runc
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the OCI runtime tests (containers, cgroups, podman, containerd)"

ONLY=cli,podman,containerd
[ "${1:-}" = --only ] && ONLY=$2
part() { [[ ,$ONLY, == *,$1,* ]]; }
RT=${RT:-$PWD/container-runtime}
[ -x "$RT" ] || { fail "runtime $RT is built (make container)"; summary; }
[ -x rootfs/bin/sh ] || make -s rootfs >/dev/null || { fail "make rootfs"; summary; }

work=$(mktemp -d /tmp/cr-oci.XXXXXX)
CLEANUPS=()
# at_exit CMD: run CMD (a string) at exit, last registered first.
at_exit() { CLEANUPS+=("$1"); }
run_cleanups() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1; done
    rm -rf "$work"
}
trap run_cleanups EXIT
build_probe "$work/bin" || { fail "build tests/helpers/probe.c"; summary; }

# A bundle: runc's default spec with ARGS as the process, no terminal, the rootfs shared
# read-only (root.path absolute).
# make_bundle DIR ARGS...
make_bundle() {
    local dir=$1
    shift
    mkdir -p "$dir"
    "$RT" spec --bundle "$dir" || return 1
    python3 - "$dir/config.json" "$PWD/rootfs" "$@" <<'PY'
import json, sys
path, rootfs, args = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))
c["process"]["args"] = args
c["process"]["terminal"] = False
c["root"] = {"path": rootfs, "readonly": True}
c["hostname"] = "c-test"
json.dump(c, open(path, "w"), indent=1)
PY
}

# waits up to 5 s for `state ID` to say STATUS
wait_status() {
    local i
    for i in $(seq 100); do
        [ "$(state_field "$1" status)" = "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
state_field() { "$RT" --root "$R" state "$1" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])" 2>/dev/null; }

# cgroup_dirs_left "CONTROLLERS:PATH"...: those of the lines whose directory still exists
cgroup_dirs_left() {
    local l c p
    for l in $1; do
        c=${l%%:*}; p=${l#*:}
        [ "$p" = / ] && continue
        [ -z "$c" ] && c=unified
        [ -d "/sys/fs/cgroup/${c#name=}$p" ] && printf '%s ' "$l"
    done
}

cli_part() {
    R=$work/state
    at_exit "for c in \$('$RT' --root '$R' list -q); do '$RT' --root '$R' delete --force \$c; done"
    local b=$work/b1 out pid
    expect_match "--version names the runtime and the spec" "spec: 1\." "$("$RT" --version)"
    make_bundle "$b" sh -c 'echo started; exec sleep 100'
    expect "spec writes config.json" 0 $?
    out=$("$RT" spec --bundle "$b" 2>&1)
    expect_match "spec refuses to overwrite config.json" "config.json exists. Remove it first" "$out"

    "$RT" --root "$R" create --bundle "$b" --pid-file "$work/c1.pid" c1 >"$work/c1.out" 2>"$work/c1.err" </dev/null
    expect "create exits 0" 0 $?
    pid=$(cat "$work/c1.pid" 2>/dev/null)
    expect "state after create: created" created "$(state_field c1 status)"
    expect "state pid is the pid file's" "$pid" "$(state_field c1 pid)"
    expect "state bundle" "$b" "$(state_field c1 bundle)"
    expect "state id" c1 "$(state_field c1 id)"
    expect_match "state created is RFC 3339" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$(state_field c1 created)"
    expect "the process has not run before start" "" "$(cat "$work/c1.out")"
    expect_match "root is 0700" "^700$" "$(stat -c %a "$R")"
    out=$("$RT" --root "$R" create --bundle "$b" c1 2>&1)
    expect_match "a second create of c1 fails" "container with given ID already exists" "$out"
    "$RT" --root "$R" start c1
    expect "start exits 0" 0 $?
    wait_status c1 running
    expect "state after start: running" running "$(state_field c1 status)"
    sleep 0.2
    expect "the process ran after start" started "$(cat "$work/c1.out")"
    out=$("$RT" --root "$R" start c1 2>&1)
    expect_match "start twice fails" "cannot start an already running container" "$out"
    out=$("$RT" --root "$R" delete c1 2>&1)
    expect_match "delete of a running container needs --force" "cannot delete container c1 that is not stopped: running" "$out"
    expect_match "list shows it" "^c1 +$pid +running +$b" "$("$RT" --root "$R" list | tail -n +2)"
    expect "list --format json" c1 "$("$RT" --root "$R" list --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
    expect_match "ps --format json lists the init" "^\[.*\b$pid\b.*\]$" "$("$RT" --root "$R" ps --format json c1)"

    "$RT" --root "$R" pause c1
    expect "pause exits 0" 0 $?
    expect "state after pause: paused" paused "$(state_field c1 status)"
    "$RT" --root "$R" resume c1
    expect "state after resume: running" running "$(state_field c1 status)"
    out=$("$RT" --root "$R" resume c1 2>&1)
    expect_match "resume of a running container fails" "container not paused" "$out"

    local cgs
    cgs=$(awk -F: '{ print $2 ":" $3 }' "/proc/$pid/cgroup" | grep -v '^name=systemd:')
    "$RT" --root "$R" kill c1 KILL
    expect "kill KILL exits 0" 0 $?
    wait_status c1 stopped
    expect "state after kill: stopped" stopped "$(state_field c1 status)"
    out=$("$RT" --root "$R" kill c1 TERM 2>&1)
    expect_match "kill of a stopped container: not running" "container not running" "$out"
    "$RT" --root "$R" delete c1
    expect "delete exits 0" 0 $?
    out=$("$RT" --root "$R" state c1 2>&1)
    expect "state after delete fails" "1 container does not exist" "$? $(tail -1 <<<"$out" | sed 's/.*msg="\(.*\)"/\1/')"
    expect "the state root is empty again" "" "$(ls "$R")"
    expect "delete removes the container's cgroups" "" "$(cgroup_dirs_left "$cgs")"
    cli_run_part "$b"
    cli_error_part "$b"
    cli_spec_part
}

cli_run_part() {
    local b=$1 out
    make_bundle "$work/b2" sh -c 'echo out; echo err >&2; exit 3'
    out=$("$RT" --root "$R" run --bundle "$work/b2" r1 2>"$work/r1.err" </dev/null)
    expect "run waits and exits with the process's status" "3" "$?"
    expect "run's process has the runtime's stdout and stderr" "out err" "$out $(grep -x err "$work/r1.err")"
    expect "run removes the container" "" "$(ls "$R")"
    # --preserve-fds N: fds 3..3+N-1 reach the process, the ones after do not
    make_bundle "$work/b3" sh -c 'cat <&3; [ -e /proc/self/fd/4 ] && echo fd4-leaked; exit 0'
    out=$(echo preserved | "$RT" --root "$R" run --preserve-fds 1 --bundle "$work/b3" r3 3<&0 4</dev/null 2>&1 </dev/null)
    expect "run --preserve-fds 1: fd 3 reaches the process, fd 4 does not" "preserved" "$out"
    out=$("$RT" --root "$R" run --preserve-fds x --bundle "$work/b3" r4 2>&1 </dev/null)
    expect "run --preserve-fds x is refused naming the flag" "1 yes" "$? $(grep -q 'invalid --preserve-fds' <<<"$out" && echo yes)"
    "$RT" --root "$R" run --detach --bundle "$b" r2 >/dev/null 2>&1 </dev/null
    expect "run --detach exits 0" 0 $?
    expect "run --detach: running" running "$(state_field r2 status)"
    out=$("$RT" --root "$R" exec r2 sh -c 'echo in $(hostname); exit 5' 2>&1)
    expect "exec: output and status" "5 in c-test" "$? $out"
    out=$(printf '{"args":["sh","-c","id -u; pwd"],"cwd":"/tmp","user":{"uid":1234,"gid":0},"env":["PATH=/bin"]}' >"$work/p.json"
          "$RT" --root "$R" exec --process "$work/p.json" r2 2>&1)
    expect "exec --process: user and cwd" "1234 /tmp" "$(echo $out)"
    "$RT" --root "$R" update --memory 33554432 --pids-limit 50 r2
    expect "update --memory --pids-limit exits 0" 0 $?
    echo '{"pids":{"limit":60}}' | "$RT" --root "$R" update --resources - r2
    expect "update --resources - exits 0" 0 $?
    "$RT" --root "$R" kill --all r2 KILL
    wait_status r2 stopped
    expect "kill --all: stopped" stopped "$(state_field r2 status)"
    "$RT" --root "$R" delete r2
    "$RT" --root "$R" delete --force r2
    expect "delete --force of a missing container succeeds" 0 $?
}

cli_error_part() {
    local b=$1 out i oks=0
    out=$("$RT" --root "$R" state ../x 2>&1)
    expect_match "an invalid id is refused" "invalid container ID format" "$out"
    out=$("$RT" --root "$R" start 2>&1)
    expect_match "a missing id: runc's usage error" "start.{0,3} requires exactly 1 argument" "$out"
    "$RT" --root "$R" --log "$work/log.json" --log-format json start nope 2>/dev/null
    expect "start of a missing container exits 1" 1 $?
    out=$(python3 -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])][-1]; print(l["level"], l["msg"])' "$work/log.json")
    expect "--log-format json: the error as a JSON line in --log" "error container does not exist" "$out"
    if [ "$RT" = "$PWD/container-runtime" ]; then
        out=$("$RT" --root "$R" --systemd-cgroup list 2>&1)
        expect_match "--systemd-cgroup is refused clearly" "systemd-cgroup is not supported" "$out"
    fi
    out=$("$RT" --root "$R" create --bogus x 2>&1)
    expect_match "an unknown flag is named" "flag provided but not defined: -bogus" "$out"
    out=$("$RT" features | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ociVersionMin"], "seccomp" in d["linux"])')
    expect "features is JSON" "1.0.0 True" "$out"
    mkdir -p "$work/bad" && echo '{"ociVersion": "1.0.2", "process": {"args": 5}}' >"$work/bad/config.json"
    "$RT" --root "$R" create --bundle "$work/bad" bad >/dev/null 2>&1
    expect "a bad config.json fails" 1 $?
    expect "and leaves nothing behind" "" "$(ls "$R")"
    # Five runtimes create the same id at once: one wins, the root stays consistent.
    for i in 1 2 3 4 5; do
        "$RT" --root "$R" create --bundle "$b" same >/dev/null 2>&1 </dev/null &
    done
    for i in 1 2 3 4 5; do wait -n && oks=$((oks + 1)); done
    expect "concurrent creates of one id: exactly one succeeds" 1 $oks
    expect "and it is created" created "$(state_field same status)"
    out=$("$RT" --root "$R" kill same SIGNOPE 2>&1)
    expect_match "an unknown signal is named" "SIGNOPE" "$out"
    "$RT" --root "$R" delete same
    expect "delete of a created container" "" "$(ls "$R")"
    if [ "$RT" = "$PWD/container-runtime" ] || [ "$RT" = "$PWD/target/debug/container-runtime" ]; then
        expect "no freezer cgroup of ours is left" "" "$(ls -d /sys/fs/cgroup/freezer/container-runtime 2>/dev/null)"
    fi
}

# Behaviours the external validation suite (runtime-tools, tests/oci-validation.sh) found.
cli_spec_part() {
    local out
    # A seccomp allowlist written before openat2 and close_range (runtime-tools' default
    # profile) denies both with EPERM. Without no_new_privs the filter goes in before the
    # capabilities are dropped, so the runtime's own last steps run under it: the working
    # directory is still entered, and descriptors the runtime inherited still do not leak.
    make_bundle "$work/sc" sh -c 'pwd; ls /proc/self/fd | tr "\n" " "'
    python3 - "$work/sc/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["cwd"] = "/tmp"
c["process"]["noNewPrivileges"] = False
c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["openat2", "close_range"], "action": "SCMP_ACT_ERRNO"}]}
json.dump(c, open(sys.argv[1], "w"))
PY
    out=$("$RT" --root "$R" run --bundle "$work/sc" sc 2>&1 </dev/null 7</dev/null)
    expect "a profile denying openat2 and close_range: cwd entered, no inherited fd" "/tmp 0 1 2 3 " "$(echo $out) "

    # A create killed half-way (here in its createRuntime hook) leaves a directory without
    # state.json: delete removes it with what it names (the init, the cgroup), as runc does,
    # and the id can be created again.
    local cg=cr-test-stale-$$ pid i
    make_bundle "$work/st" sleep 100
    python3 - "$work/st/config.json" "$work/hook-ran" "$cg" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "touch %s; sleep 3" % sys.argv[2]]}]}
c["linux"]["cgroupsPath"] = "/" + sys.argv[3]
json.dump(c, open(sys.argv[1], "w"))
PY
    at_exit "rmdir /sys/fs/cgroup/*/$cg /sys/fs/cgroup/$cg"
    "$RT" --root "$R" create --bundle "$work/st" stale >/dev/null 2>&1 </dev/null &
    pid=$!
    for i in $(seq 100); do [ -e "$work/hook-ran" ] && break; sleep 0.05; done
    kill -KILL $pid; wait $pid 2>/dev/null
    expect "a create killed in its hook leaves its directory" "stale" "$(ls "$R")"
    out=$("$RT" --root "$R" delete stale 2>&1)
    expect_match "delete of what it left: container does not exist" "container does not exist" "$out"
    expect "and removes the directory" "" "$(ls "$R")"
    expect "and the cgroup" "" "$(ls -d /sys/fs/cgroup/*/$cg /sys/fs/cgroup/$cg 2>/dev/null)"
    "$RT" --root "$R" create --bundle "$work/st" stale >/dev/null 2>&1 </dev/null
    expect "the id can be created again" created "$(state_field stale status)"
    "$RT" --root "$R" delete --force stale

    # A foreground run forwards the signals it gets to the container's init, as runc does: a
    # SIGTERM to the runtime (an engine stopping it, a user's kill) reaches the process, and
    # the runtime exits with its status.
    make_bundle "$work/sig" sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
    at_exit "'$RT' --root '$R' delete --force sig"
    "$RT" --root "$R" run --bundle "$work/sig" sig >"$work/sig.out" 2>&1 </dev/null &
    pid=$!
    for i in $(seq 100); do grep -q ready "$work/sig.out" && break; sleep 0.05; done
    kill -TERM $pid
    for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
    kill -KILL $pid 2>/dev/null
    wait $pid
    expect "run forwards SIGTERM to the container: its trap's status" "7" "$?"
    expect "and its output" "ready got TERM" "$(echo $(cat "$work/sig.out"))"
    expect "and the container is deleted" "" "$(ls "$R")"

    # --pidfd-socket (runc 1.2's, containerd's shim uses it): a pidfd of the init from create,
    # of the process from exec. exec --preserve-fds N: fds 3..3+N-1 reach the process.
    make_bundle "$work/pf" sleep 100
    at_exit "'$RT' --root '$R' delete --force pf"
    pidfd_receiver "$work/pf.sock" >"$work/pf.got" & local rcv=$!
    for i in $(seq 100); do [ -S "$work/pf.sock" ] && break; sleep 0.05; done
    "$RT" --root "$R" create --bundle "$work/pf" --pidfd-socket "$work/pf.sock" pf >/dev/null 2>&1 </dev/null
    wait $rcv
    out=$(state_field pf pid)
    expect "create --pidfd-socket: a pidfd of the init" "${out:-no state}" "$(cat "$work/pf.got")"
    "$RT" --root "$R" start pf
    pidfd_receiver "$work/pe.sock" >"$work/pe.got" & rcv=$!
    for i in $(seq 100); do [ -S "$work/pe.sock" ] && break; sleep 0.05; done
    "$RT" --root "$R" exec --detach --pid-file "$work/pe.pid" --pidfd-socket "$work/pe.sock" pf sleep 5 >/dev/null 2>&1 </dev/null
    wait $rcv
    out=$(cat "$work/pe.pid" 2>/dev/null)
    expect "exec --pidfd-socket: a pidfd of the exec's process" "${out:-no pid file}" "$(cat "$work/pe.got")"
    out=$(echo preserved | "$RT" --root "$R" exec --preserve-fds 1 pf sh -c 'cat <&3; [ -e /proc/self/fd/4 ] && echo fd4-leaked; exit 0' 3<&0 4</dev/null 2>&1 </dev/null)
    expect "exec --preserve-fds 1: fd 3 reaches the process, fd 4 does not" "preserved" "$out"
    "$RT" --root "$R" delete --force pf

    # A relative cgroupsPath (the spec allows one) goes beneath the runtime's own parent, and
    # delete removes what it made there.
    make_bundle "$work/rel" sleep 100
    python3 - "$work/rel/config.json" "cr-test-rel-$$/c" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["linux"]["cgroupsPath"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY
    at_exit "'$RT' --root '$R' delete --force rel"
    "$RT" --root "$R" create --bundle "$work/rel" rel >/dev/null 2>&1 </dev/null
    out=$(state_field rel pid)
    expect "a relative cgroupsPath: the init is in <hierarchy>/container-runtime/PATH" \
        "/container-runtime/cr-test-rel-$$/c" "$(awk -F: '$2 == "pids" {print $3}' "/proc/${out:-0}/cgroup" 2>/dev/null)"
    "$RT" --root "$R" delete --force rel
    expect "delete removes the directories it made for it" "" \
        "$(ls -d /sys/fs/cgroup/*/container-runtime/cr-test-rel-$$ 2>/dev/null)"

    # A failed poststart or poststop hook is a warning that stops nothing: the hooks after it
    # still run (the spec; runtime-tools' poststart_fail and poststop_fail).
    make_bundle "$work/hk" true
    python3 - "$work/hk/config.json" "$work" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); w = sys.argv[2]
h = lambda f: {"path": "/bin/sh", "args": ["sh", "-c", "touch %s/%s" % (w, f)]}
c["hooks"] = {"poststart": [{"path": "/bin/false"}, h("poststart-2")],
              "poststop": [{"path": "/bin/false"}, h("poststop-2")]}
json.dump(c, open(sys.argv[1], "w"))
PY
    "$RT" --root "$R" run --bundle "$work/hk" hk >/dev/null 2>&1 </dev/null
    expect "after a failed poststart and poststop hook, the next ones run" "poststart-2 poststop-2" \
        "$(cd "$work" && echo $(ls -d poststart-2 poststop-2 2>/dev/null))"
}

# pidfd_receiver SOCKET: listens on SOCKET, takes one descriptor (SCM_RIGHTS) and prints the
# pid of the pidfd it is (fdinfo's Pid:).
pidfd_receiver() {
    timeout 20 python3 - "$1" <<'PY'
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(64, socket.CMSG_LEN(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:fds.itemsize])
for line in open("/proc/self/fdinfo/%d" % fds[0]):
    if line.startswith("Pid:"):
        print(line.split()[1])
PY
}

part cli && { echo "--- cli"; cli_part; }
# podman in a private mount namespace of its own (tests/oci-podman.sh says why).
podman_part() {
    local t
    for t in podman conmon; do
        command -v $t >/dev/null || { fail "$t is installed (tests/deps.sh)"; return; }
    done
    if unshare --mount --propagation private tests/oci-podman.sh "$RT" "$work"; then
        pass "podman drives the runtime"
    else
        fail "podman drives the runtime"
    fi
}

part podman && { echo "--- podman"; podman_part; }
containerd_part() {
    local t
    for t in containerd ctr containerd-shim-runc-v2; do
        command -v $t >/dev/null || { fail "$t is installed (tests/deps.sh)"; return; }
    done
    if tests/oci-containerd.sh "$RT" "$work"; then
        pass "containerd drives the runtime"
    else
        fail "containerd drives the runtime"
    fi
}

part containerd && { echo "--- containerd"; containerd_part; }
summary
