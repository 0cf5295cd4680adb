#!/usr/bin/env bash
# Faults, SIGKILL and load: whatever happens to a start, nothing is left behind.
#   tests/stress.sh [--only load]   (root; a built ./docker-run, ./rootfs and static library;
#   ~2.5 minutes). --only load runs (c) alone; DR=PATH loads another binary (e.g.
#   DR=./docker-run-rust, the Rust netlink backend's: make container-rust).
# (a) faults: a setup step fails (mount, hostname, exec, netlink, address, subnet, cgroup): the
#     error names the step and its cause, docker-run exits 125/126/127 and leaves nothing.
# (b) docker-run killed with SIGKILL at a random moment of its start, 50 times (bridge
#     networking); once the containers are gone, `docker-run cleanup` leaves nothing.
# (c) load: 200 containers on the bridge, 20 at a time, each pinging the gateway: all succeed,
#     nothing is left, the test shell's fd count is back where it started.
# (d) tests/c/stress_test.c: 1000 containers created, started, waited for and freed through the
#     C API, clean under valgrind memcheck and under AddressSanitizer (STRESS_N=... to change).
# "Nothing" is checked against a snapshot taken at the start: no new veth, lease, cgroup, state
# record, per-container file, host mount or process. Other suites running at the same time on
# the same host could add their own items; run this one alone.
# Ends with `N passed, N failed`; non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
case "${1:-}/${2:-}" in
    /) ONLY= ;;
    --only/load) ONLY=load ;;
    *) echo "usage: tests/stress.sh [--only load]" >&2; exit 2 ;;
esac
require_root "the stress suite"

ROOTFS=$PWD/rootfs
SRC_DR=${DR:-./docker-run}
[ -x "$SRC_DR" ] && [ -d "$ROOTFS/bin" ] || { echo "build first: make container (no $SRC_DR)"; exit 1; }
WORK=$(mktemp -d /tmp/stress.XXXXXX)
# A private copy: a concurrent `make container` rewriting ./docker-run cannot break the run.
cp "$SRC_DR" "$WORK/docker-run"
DR=$WORK/docker-run
export DOCKER_RUN_ROOTFS=$ROOTFS
STATE=/run/docker-run
STRESS_N=${STRESS_N:-1000}   # containers of tests/c/stress_test.c
TAG=stress-$$            # in the argv of every container of this run (found with pgrep -f)
FAKEBR=drfk$$            # a veth pair of our own, passed as a "bridge": a real netlink error
NAMES=()
BGPIDS=()

# Processes of this run: our docker-runs and their containers, by the tag in their argv.
tagged_pids() { pgrep -f -- "$TAG" | grep -vx "$$" || true; }
cleanup() {
    local n p
    for n in "${NAMES[@]}"; do timeout 5 "$DR" kill "$n" >/dev/null 2>&1; done
    for p in "${BGPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip link del "${FAKEBR}a" 2>/dev/null
    # A NAT rule the runtime may have left for the fake bridge (see the check after the fault).
    iptables -w -t nat -S POSTROUTING 2>/dev/null | grep -- "docker-run:${FAKEBR}a" | sed 's/^-A/-D/' |
        while read -r rule; do eval "iptables -w -t nat $rule"; done
    ip link del "drov$$" 2>/dev/null
    rm -rf "$STATE/leases/${FAKEBR}a" "$STATE/leases/drov$$"
    timeout 20 "$DR" cleanup >/dev/null 2>&1
    # What `docker-run cleanup` does not remove (see the failures): lease files of dead owners
    # and per-container files without a record, created by this run only.
    if [ -f "$WORK/before" ]; then
        comm -13 "$WORK/before" <(snapshot | sort -u) | not_others | while read -r kind item; do
            case $kind in
                lease) pid=$(cut -d' ' -f1 "$STATE/leases/$item" 2>/dev/null)
                       [ -n "$pid" ] && [ -e "/proc/$pid" ] && continue
                       flock "$STATE/leases/${item%%/*}/.lock" rm -f "$STATE/leases/$item" ;;
                files) [ -e "$STATE/containers/$item" ] || rm -rf "${STATE:?}/files/$item" ;;
                containers) [[ $item == .*.tmp ]] && rm -f "$STATE/containers/$item" ;;
            esac
        done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- what a container can leave behind --------------------------------------------------------
# snapshot: one line per item (kind and name); mounts made by `ip netns` for other tests'
# namespaces do not count.
snapshot() {
    ip -o link show type veth | grep -o 'veth[0-9a-f]\{11\}' | sed 's/^/veth /'
    find "$STATE/leases" -mindepth 2 -maxdepth 2 ! -name '.*' -printf 'lease %P\n' 2>/dev/null
    find /sys/fs/cgroup/*/docker-run /sys/fs/cgroup/docker-run -mindepth 1 -maxdepth 1 -type d \
        -printf 'cgroup %P\n' 2>/dev/null
    for d in containers names files; do
        find "$STATE/$d" -mindepth 1 -maxdepth 1 -printf "$d %P\n" 2>/dev/null
    done
    # A container's mounts live in its own mount namespace: a leak would show on the host
    # under the rootfs or the state directory.
    awk -v r="$ROOTFS" -v s="$STATE" 'index($5, r) == 1 || index($5, s) == 1 {print "mount", $5}' /proc/self/mountinfo
}
# The static helper (ping): no test depends on which tools the rootfs has. The default bridge is
# made first (its first container prints the subnet it got); its gateway tells the subnet.
build_probe "$WORK/h" || { fail "build tests/helpers/probe.c" "gcc -static failed (apt-get install libc6-dev)"; summary; }
PROBE=(-v "$WORK/h:/run:ro")
"$DR" --rm true </dev/null >/dev/null 2>&1
GW=$(ip -4 -o addr show docker-run0 | awk '{print $4}' | head -1); GW=${GW%/*}
IFS=. read -r O1 O2 _ _ <<<"$GW"
snapshot | sort -u >"$WORK/before"
# Items of other users' containers (running meanwhile, e.g. a benchmark) are not ours: their
# state record's command lacks our tag. Everything else that is new is a leftover of this run.
others_ids() {
    local f
    for f in "$STATE"/containers/*; do
        [ -f "$f" ] && ! grep -q -- "^command=.*$TAG" "$f" && basename "$f"
    done
}
not_others() {
    local others kind item pid
    others=" $(others_ids | tr '\n' ' ') "
    while read -r kind item; do
        case $kind in
            cgroup|containers|files) [[ $others == *" $item "* ]] && continue ;;
            veth) [[ $others == *" ${item#veth}"* ]] && continue ;;
            names) [[ $item == *"$TAG"* ]] || continue ;;
            lease)
                pid=$(cut -d' ' -f1 "$STATE/leases/$item" 2>/dev/null)
                if [ -n "$pid" ] && [ -e "/proc/$pid" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$TAG"; then
                    continue
                fi ;;
        esac
        echo "$kind $item"
    done
}
# no_leftovers NAME [BASELINE]: nothing new since the start (or BASELINE), no process of ours
no_leftovers() {
    local new procs
    # A dead container's veth goes with its network namespace, which the kernel tears down
    # asynchronously: give that a few seconds.
    for _ in $(seq 25); do
        new=$(comm -13 "${2:-$WORK/before}" <(snapshot | sort -u) | not_others)
        [ -z "$new" ] && break
        sleep 0.2
    done
    procs=$(tagged_pids | tr '\n' ' ')
    if [ -z "$new" ] && [ -z "$procs" ]; then
        pass "$1: nothing left"
    else
        fail "$1: nothing left" "left: $(echo $new | head -c 1500) ${procs:+processes: $procs}"
    fi
}
# reaped SECONDS: until the first process of every container of ours that has a state record is
# reaped (a zombie still counts as alive for the runtime, and PID 1 of this host may be slow
# to reap the orphans of a killed docker-run)
reaped() {
    local end=$((SECONDS + $1)) f pid left
    while :; do
        left=
        for f in "$STATE"/containers/*; do
            [ -f "$f" ] && grep -q -- "^command=.*$TAG" "$f" || continue
            pid=$(sed -n 's/^pid=//p' "$f")
            [ -e "/proc/$pid" ] && left="$left $pid"
        done
        [ -z "$left" ] && return 0
        [ $SECONDS -ge $end ] && { echo "$left"; return 1; }
        sleep 0.2
    done
}
# wait_gone SECONDS: until no process of ours is left
wait_gone() {
    local end=$((SECONDS + $1))
    while [ -n "$(tagged_pids)" ] && [ $SECONDS -lt $end ]; do sleep 0.1; done
    [ -z "$(tagged_pids)" ]
}
wait_running() { for _ in $(seq 100); do "$DR" ps | grep -q " $1\$" && return 0; sleep 0.1; done; return 1; }
# run ARGS...: docker-run in the foreground (bounded), output and status
run() { timeout -k 5 60 "$DR" --rm "$@" </dev/null 2>&1; }
# fault NAME WANT_STATUS WANT_REGEX ARGS...
fault() {
    local name=$1 want_rc=$2 want=$3; shift 3
    local out rc
    out=$(run "$@"); rc=$?
    if [ "$rc" = "$want_rc" ] && grep -Eq -- "$want" <<<"$out"; then
        pass "$name: $rc, \"$out\""
    else
        fail "$name" "want $want_rc and /$want/, got $rc: $out"
    fi
    no_leftovers "$name"
}

# (a), (b) and (d) are inside `if [ -z "$ONLY" ]` blocks (--only load skips them), unindented.
if [ -z "$ONLY" ]; then
# --- (a) faults --------------------------------------------------------------------------------
echo "=== (a) a setup step fails: the error names it, nothing is left"
# /run exists in every rootfs: no mount point is created in the shared ./rootfs.
fault "bad tmpfs options (the child's mount fails)" 125 "mount tmpfs on /run: Invalid argument" \
    --tmpfs /run:size=abc sh -c ": $TAG"
fault "bad hostname" 125 'invalid hostname "bad_host"' -h bad_host sh -c ": $TAG"
fault "exec not found" 127 "exec /bin/nope-$TAG: No such file or directory" "/bin/nope-$TAG"
fault "exec not executable" 126 "exec /etc/passwd: Permission denied" /etc/passwd "$TAG"
fault "command not in PATH" 127 'executable file not found in \$PATH' "nope-$TAG"
fault "bad working directory (a file)" 125 "passwd|Not a directory|File exists" -w /etc/passwd/x sh -c ": $TAG"

# A static address held by a running container.
ip=$O1.$O2.250.$((RANDOM % 200 + 20))
NAMES+=("peer-$TAG")
"$DR" --rm --name "peer-$TAG" --ip "$ip" sh -c "sleep 30; : $TAG" </dev/null >/dev/null 2>&1 &
BGPIDS+=($!)
if wait_running "peer-$TAG"; then
    out=$(run --ip "$ip" sh -c ": $TAG"); rc=$?
    if [ $rc = 125 ] && grep -q "$ip is already in use" <<<"$out"; then
        pass "an address in use (--ip $ip): 125, \"$out\""
    else
        fail "an address in use (--ip $ip)" "rc=$rc: $out"
    fi
    "$DR" kill "peer-$TAG" >/dev/null
    wait_gone 10
    no_leftovers "an address in use"
else
    fail "an address in use" "the peer did not start"
fi

# A netlink error after clone: the "bridge" is one end of a veth pair of ours, so attaching the
# container's host end to it fails in the kernel (EOPNOTSUPP).
if ip link add "${FAKEBR}a" type veth peer name "${FAKEBR}b"; then
    fault "netlink error (attach to a link that is not a bridge)" 125 \
        "netlink attach veth[0-9a-f]+ to bridge ${FAKEBR}a: Operation not supported" \
        --bridge "${FAKEBR}a" --subnet 10.213.$((RANDOM % 250)).0/24 sh -c ": $TAG"
    # A bridge's NAT rule is kept for its next container; `docker-run cleanup` removes it once
    # no container is left on the bridge.
    timeout 30 "$DR" cleanup >/dev/null 2>&1
    expect "  no NAT rule left for it after docker-run cleanup" "" "$(iptables -w -t nat -S 2>/dev/null | grep -- "${FAKEBR}a")"
    ip link del "${FAKEBR}a"
    rm -rf "$STATE/leases/${FAKEBR}a"
else
    fail "netlink error" "could not create the veth pair ${FAKEBR}a/${FAKEBR}b"
fi
fault "a bridge subnet overlapping docker-run0" 125 "overlaps" \
    --bridge "drov$$" --subnet "$O1.$O2.77.0/24" sh -c ": $TAG"
expect "  the refused bridge was not created" "" "$(ip -o link show "drov$$" 2>/dev/null)"
rm -rf "$STATE/leases/drov$$"
fault "a cgroup value the host cannot give (--cpuset-mems 5)" 125 "cpuset-mems.*node 5" \
    --cpuset-mems 5 sh -c ": $TAG"

# A cgroup write the kernel refuses: a memory limit below what the container holds in tmpfs
# (not reclaimable without swap) gives EBUSY; the container keeps running, limit unchanged.
name=upd-$TAG
NAMES+=("$name")
"$DR" --rm --name "$name" --network none sh -c "head -c 30000000 /dev/zero >/dev/shm/x; touch /dev/shm/held; sleep 30; : $TAG" \
    </dev/null >/dev/null 2>&1 &
BGPIDS+=($!)
if wait_running "$name" && eventually 50 "$DR" exec "$name" sh -c 'test -e /dev/shm/held'; then
    pid=$("$DR" inspect -f '{{.State.Pid}}' "$name")
    cg=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
    before=$(cat "$cg/memory.limit_in_bytes")
    out=$(timeout 30 "$DR" update --memory 8m "$name" 2>&1); rc=$?
    if [ $rc = 125 ] && grep -q "memory.limit_in_bytes: Device or resource busy" <<<"$out"; then
        pass "a cgroup write refused (update --memory 8m below usage): 125, \"$out\""
    else
        fail "a cgroup write refused (update --memory 8m below usage)" "rc=$rc: $out"
    fi
    expect "  the limit is unchanged" "$before" "$(cat "$cg/memory.limit_in_bytes")"
    expect "  the container still runs" 0 "$("$DR" ps | grep -q " $name\$"; echo $?)"
    "$DR" kill "$name" >/dev/null
    wait_gone 10
    no_leftovers "a cgroup write refused"
else
    fail "a cgroup write refused" "the container did not start"
fi

# --- (b) SIGKILL during start --------------------------------------------------------------------
echo "=== (b) docker-run killed with SIGKILL during start, 50 times"
killed_early=0
for i in $(seq 50); do
    "$DR" --rm --name "sk$i-$TAG" sh -c "sleep 2; : $TAG" </dev/null >/dev/null 2>&1 &
    p=$!
    sleep "$(printf '0.%03d' $((RANDOM % 31)))"
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    [ $? = 137 ] && killed_early=$((killed_early + 1))
done
pass "50 starts killed (random 0-30 ms; $killed_early killed before they ended)"
# Containers whose start completed live on until their `sleep 2` ends; a child caught before
# its exec must leave by itself (EOF on its sync socket).
if wait_gone 20; then
    pass "every container and child of the killed starts exits by itself"
else
    fail "every container and child of the killed starts exits by itself" \
        "still running: $(ps -o pid=,stat=,args= -p "$(tagged_pids | tr '\n' ',' | sed 's/,$//')" 2>/dev/null)"
    for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null; done
    wait_gone 5
fi
if left=$(reaped 20); then
    pass "every container of the killed starts is reaped"
else
    fail "every container of the killed starts is reaped" "pids still in /proc:$left ($(ps -o pid=,stat= -p "${left// /,}" | tr '\n' ' '))"
fi
out=$(timeout 60 "$DR" cleanup 2>&1); rc=$?
expect_match "docker-run cleanup" "removed [0-9]+ leftover items" "$out"
no_leftovers "after 50 SIGKILLs and cleanup"
# The next start works (no stale lease, name or lock in the way).
expect "a start after the SIGKILLs pings the gateway" "ok" \
    "$(run --name "sk1-$TAG" "${PROBE[@]}" sh -c "/run/probe ping $GW >/dev/null && echo ok; : $TAG")"

fi # [ -z "$ONLY" ]

# --- (c) load ------------------------------------------------------------------------------------
echo "=== (c) 200 containers on the bridge, 20 at a time, each pinging the gateway"
snapshot | sort -u >"$WORK/before-load"   # the load is judged on its own
fds_before=$(ls /proc/$$/fd | wc -l)
ok=0
t0=$SECONDS
for batch in $(seq 10); do
    pids=()
    for j in $(seq 20); do
        timeout -k 5 60 "$DR" --rm "${PROBE[@]}" sh -c "/run/probe ping $GW >/dev/null; : $TAG" </dev/null >"$WORK/load.$batch.$j" 2>&1 &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
done
expect "200 containers ping the gateway ($((SECONDS - t0)) s)" 200 "$ok"
[ "$ok" = 200 ] || grep -h . "$WORK"/load.* | sort | uniq -c | head -5
wait_gone 10
no_leftovers "after the load" "$WORK/before-load"
expect "the test shell's fd count is back where it started" "$fds_before" "$(ls /proc/$$/fd | wc -l)"

if [ -z "$ONLY" ]; then
# --- (d) the C boundary, 1000 containers, under valgrind and AddressSanitizer --------------------
echo "=== (d) tests/c/stress_test.c: $STRESS_N containers under valgrind and under ASan"
CFLAGS_T=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude)
LIBS_T=(target/release/libcontainer_runtime.a -lpthread -ldl -lm -lrt)
# run_c NAME CMD...: bounded, output in a file (a pipe held open by a stuck child would hang us)
run_c() {
    local name=$1; shift
    timeout -k 10 280 "$@" >"$WORK/c.log" 2>&1
    local rc=$?
    grep -v '^  [0-9]* containers$' "$WORK/c.log" | tail -20 | sed 's/^/    /'
    if [ $rc = 0 ] && grep -q "^[0-9]* passed, 0 failed$" "$WORK/c.log"; then pass "$name"; else fail "$name" "exit status $rc"; fi
}
if gcc "${CFLAGS_T[@]}" -o "$WORK/stress_test" tests/c/stress_test.c "${LIBS_T[@]}" 2>"$WORK/cc.log"; then
    if command -v valgrind >/dev/null; then
        # The suppressions of tests/abi.sh (Rust optimiser artefacts, checked there), taken from it
        # so that there is one list, plus one for this test: the child's bind and remount mounts
        # pass a NULL file system type, which mount(2) allows and this valgrind flags.
        sed -n "/<<'SUPP'/,/^SUPP\$/p" tests/abi.sh | sed '1d;$d' >"$WORK/rust.supp"
        cat >>"$WORK/rust.supp" <<'SUPP'
{
   mount-without-fstype: bind and remount mounts pass no file system type (valid for mount(2))
   Memcheck:Param
   mount(type)
   fun:mount
}
SUPP
        t0=$SECONDS
        run_c "valgrind: $STRESS_N containers, no leak, no invalid access" \
            valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            --suppressions="$WORK/rust.supp" "$WORK/stress_test" "$ROOTFS" "$STRESS_N"
        echo "    ($((SECONDS - t0)) s)"
    else
        fail "valgrind" "valgrind is not installed (apt-get install valgrind)"
    fi
else
    cat "$WORK/cc.log"; fail "build tests/c/stress_test.c"
fi
if gcc "${CFLAGS_T[@]}" -fsanitize=address -fno-omit-frame-pointer -o "$WORK/stress_test_asan" \
    tests/c/stress_test.c "${LIBS_T[@]}" 2>"$WORK/cc.log"; then
    run_c "ASan: $STRESS_N containers" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        "$WORK/stress_test_asan" "$ROOTFS" "$STRESS_N"
else
    cat "$WORK/cc.log"; fail "build tests/c/stress_test.c with -fsanitize=address"
fi
no_leftovers "after the C stress test" "$WORK/before-load"
fi # [ -z "$ONLY" ]

summary
