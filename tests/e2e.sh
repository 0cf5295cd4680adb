#!/usr/bin/env bash
# End-to-end tests of ./docker-run: real namespaces, pivot_root, mounts, exit statuses, leaks.
# Usage: tests/e2e.sh [--only network]   (from anywhere; needs root, a built ./docker-run and
#   ./rootfs). --only network runs the setup, the isolation checks, bridge networking and the
#   leak checks: what the netlink backend does. DR=PATH tests another binary next to
#   ./rootfs (e.g. DR=./docker-run-rust, make container-rust); NETLINK=c|rust is the backend
#   its --version must name (without it, either).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
case "${1:-}/${2:-}" in
    /) ONLY= ;;
    --only/network) ONLY=network ;;
    *) echo "usage: tests/e2e.sh [--only network]" >&2; exit 2 ;;
esac
require_root "the docker-run end-to-end suite"

DR=${DR:-./docker-run}
BACKEND_RE=${NETLINK:-(c|rust)}
ROOTFS=$PWD/rootfs
[ -x "$DR" ] && [ -d "$ROOTFS/bin" ] || { echo "build first: make container (no $DR)"; exit 1; }
WORK=$(mktemp -d /tmp/e2e.XXXXXX)
MARKER=$WORK/host-marker-$$
echo secret >"$MARKER"
had_bridge=$(ip -o link show docker-run0 2>/dev/null)
had_netns_mount=$(grep -c ' /run/netns ' /proc/self/mountinfo)
# Mounts made by `ip netns` for the test's own namespace do not count.
host_mounts() { grep -vc /run/netns /proc/self/mountinfo; }
mounts_before=$(host_mounts)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
# The static helper (ping, a TCP server and client, sethostname): no test depends on which tools
# the rootfs has. Inside a container it is /run/probe, through $PROBE.
H=$WORK/h
build_probe "$H" || { fail "build tests/helpers/probe.c" "gcc -static failed (apt-get install libc6-dev)"; summary; }
PROBE="-v $H:/run:ro"
# The first bridge container creates the default bridge and says which subnet it got: start one
# now, so that no test below sees that notice; its gateway tells the tests the subnet.
$DR --rm true </dev/null >/dev/null 2>&1
GW_CIDR=$(ip -4 -o addr show docker-run0 | awk '{print $4}' | head -1)   # e.g. 10.210.0.1/16
GW=${GW_CIDR%/*}; PFX=${GW_CIDR#*/}
IFS=. read -r O1 O2 _ _ <<<"$GW"
NET_RE="$O1\.$O2\."                                                    # the subnet is a /16
STATIC_IP=$O1.$O2.0.250

run() { timeout 60 $DR --rm "$@" </dev/null 2>&1; }
# container_pid DOCKER_RUN_PID: the container's first process (docker-run's child)
container_pid() {
    local c
    for _ in $(seq 50); do c=$(ps -o pid= --ppid "$1" | tr -d ' '); [ -n "$c" ] && break; sleep 0.1; done
    echo "$c"
}
# wait_running NAME: until `docker-run ps` lists the container (started, command running)
wait_running() { for _ in $(seq 50); do $DR ps | grep -q " $1\$" && return 0; sleep 0.1; done; return 1; }

# --- identity and isolation -----------------------------------------------------------
expect "hostname is the default" "container" "$(run hostname)"
expect "hostname from -h" "box1" "$(run -h box1 hostname)"
expect "command is PID 1" "1" "$(run sh -c 'echo $$')"
expect "ps shows only the container's processes" "1 ps" "$(run -- ps -o pid=,comm= | sed 's/^ *//')"
expect "--network none: only lo" "lo" "$(run --network none sh -c 'ls /sys/class/net')"
expect_match "lo is up" "UP" "$(run --network none ip link show lo)"
# (veths of containers that just ended may still be going away: the kernel does that lazily)
expect "--network host: the host's interfaces" "$(ls /sys/class/net 2>/dev/null | grep -v '^veth' | sort | tr '\n' ' ')" \
    "$(run --network host sh -c 'ls /sys/class/net 2>/dev/null | grep -v "^veth" | sort | tr "\n" " "')"
expect "own UTS: host hostname untouched" "$(hostname)" "$(run -h other true; hostname)"

mp=$(run sh -c "awk '{print \$5}' /proc/self/mountinfo | grep -v '^/sys/fs/cgroup' | sort | tr '\n' ' '")
expect "mount table holds only container mounts" \
    "/ /dev /dev/mqueue /dev/pts /dev/shm /etc/hosts /etc/resolv.conf /proc /proc/acpi /proc/bus /proc/fs /proc/interrupts /proc/irq /proc/keys /proc/sys /proc/timer_list /sys /sys/firmware " "$mp"
if echo "$mp" | grep -q "$WORK\|/work\|/run/"; then fail "no host mount visible" "$mp"; else pass "no host mount visible"; fi
# /sys/fs/cgroup as Docker has it: v2 one cgroup2 mount; v1 a tmpfs and each hierarchy the
# container has a cgroup in (the limits' controllers, freezer and name=systemd, as runc places
# Docker's containers), all read-only.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
    want_cg="/sys/fs/cgroup:ro:cgroup2"
    limit_file=memory.max
else
    want_cg=$({ echo "/sys/fs/cgroup:ro:tmpfs"
        for c in cpu cpuacct cpuset memory pids blkio devices freezer systemd; do
            [ -f /sys/fs/cgroup/$c/cgroup.procs ] && echo "/sys/fs/cgroup/$(basename "$(readlink -f /sys/fs/cgroup/$c)"):ro:cgroup"
        done; } | sort -u | tr '\n' ' ')
    limit_file=memory/memory.limit_in_bytes
fi
expect "/sys/fs/cgroup: the container's hierarchies, read-only" "$want_cg" \
    "$(run sh -c "awk '\$5 ~ /^\/sys\/fs\/cgroup/ {split(\$0, a, \" - \"); split(a[2], t, \" \"); print \$5 \":\" substr(\$6, 1, 2) \":\" t[1]}' /proc/self/mountinfo | sort -u | tr '\n' ' '")"
expect "-m 64m: the limit is readable at /sys/fs/cgroup/$limit_file" "67108864" "$(run -m 64m cat /sys/fs/cgroup/$limit_file)"
expect "--pids-limit 50: readable at /sys/fs/cgroup/pids.max or pids/pids.max" "50" \
    "$(run --pids-limit 50 sh -c 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max')"
expect "the container's cgroup is the root of its cgroup namespace" "/" \
    "$(run sh -c "awk -F: '{print \$3}' /proc/self/cgroup | sort -u")"

# Sections that --only network skips are inside `if [ -z "$ONLY" ]` blocks, left unindented.
if [ -z "$ONLY" ]; then
# --- filesystem -------------------------------------------------------------------------
expect "host file outside the rootfs is unreachable" "no" \
    "$(run sh -c "cat $MARKER 2>/dev/null || echo no")"
expect "not through /proc/1/root" "no" \
    "$(run sh -c "cat /proc/1/root$MARKER 2>/dev/null || echo no")"
expect "not through .." "no" \
    "$(run sh -c "cd /; cd ../../../..; cat .$MARKER 2>/dev/null || echo no")"
expect "chroot escape trick fails" "no" \
    "$(run sh -c "mkdir -p /tmp/x; chroot /tmp/x /bin/true 2>/dev/null; cd ../../../; cat .$MARKER 2>/dev/null || echo no")"
expect_match "/proc/sys is read-only" "Read-only" \
    "$(run sh -c 'echo 1 > /proc/sys/kernel/ns_last_pid' )"
# This kernel may lack /proc/sysrq-trigger and /proc/kcore; the write must fail either way.
expect "/proc/sysrq-trigger cannot be written" "failed" "$(run sh -c '(echo h > /proc/sysrq-trigger) 2>/dev/null && echo written || echo failed')"
if [ -e /proc/sysrq-trigger ]; then
    expect_match "/proc/sysrq-trigger is read-only" "Read-only" "$(run sh -c 'echo h > /proc/sysrq-trigger')"
fi
expect "/proc/keys is masked (empty)" "0" "$(run sh -c 'wc -c < /proc/keys' | tr -d ' ')"
expect "/proc/timer_list is masked (empty)" "0" "$(run sh -c 'wc -c < /proc/timer_list' | tr -d ' ')"
expect_match "/proc/keys is masked by /dev/null" "/proc/keys" "$(run sh -c "awk '{print \$5}' /proc/self/mountinfo")"
expect "/sys/firmware is masked (empty dir)" "" "$(run sh -c 'ls /sys/firmware')"
expect_match "sysfs is read-only" "Read-only" "$(run sh -c 'mkdir /sys/x')"
expect "minimal /dev" "console? core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" \
    "$(run sh -c 'ls /dev | tr "\n" " "' | sed 's/ $//; s/^/console? /; s/console? console/console?/')"
expect "/dev/null works" "" "$(run sh -c 'echo x > /dev/null; cat /dev/null')"
expect "/dev/zero works" "4" "$(run sh -c 'head -c 4 /dev/zero | wc -c' | tr -d ' ')"
expect_match "fresh devpts instance" "newinstance|ptmxmode=666" "$(run sh -c 'grep devpts /proc/self/mountinfo')"
expect_match "read-only rootfs (--read-only)" "Read-only" "$(run --read-only sh -c 'touch /x')"
expect "read-only rootfs keeps /dev/shm writable" "ok" "$(run --read-only sh -c 'touch /dev/shm/x && echo ok')"
mkdir -p "$WORK/vol"
echo hello >"$WORK/vol/in"
expect "bind mount (-v) shows host files" "hello" "$(run -v "$WORK/vol:/data" cat /data/in)"
run -v "$WORK/vol:/data" sh -c 'echo out > /data/out' >/dev/null
expect "bind mount writes reach the host" "out" "$(cat "$WORK/vol/out" 2>/dev/null)"
expect_match "read-only bind mount (:ro)" "Read-only" "$(run -v "$WORK/vol:/data:ro" sh -c 'touch /data/y')"
expect_match "tmpfs mount (--tmpfs)" "tmpfs /scratch" "$(run --tmpfs /scratch:size=1m sh -c 'grep scratch /proc/mounts')"
expect "working directory (-w), created if missing" "/work/dir" "$(run -w /work/dir sh -c pwd)"
rmdir "$ROOTFS/work/dir" "$ROOTFS/work" 2>/dev/null
expect "environment (-e) and default PATH" "v|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$(run -e K=v sh -c 'echo "$K|$PATH"')"
printf 'A=1\n# comment\nB=2\n' >"$WORK/env"
expect "--env-file" "1 2" "$(run --env-file "$WORK/env" sh -c 'echo $A $B')"
expect "user (-u)" "1000:1000" "$(run -u 1000:1000 sh -c 'echo $(id -u):$(id -g)')"

# --- privileges ---------------------------------------------------------------------------
expect "default caps deny mount" "failed" "$(run sh -c 'mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo failed')"
expect "default caps deny sethostname (EPERM), the hostname stays" "sethostname: EPERM container" \
    "$(run $PROBE sh -c '/run/probe sethostname hacked; hostname' | tr '\n' ' ' | sed 's/ $//')"
expect_match "default caps deny module loading" "^finit_module: (EPERM|ENOSYS)$" "$(run $PROBE /run/probe finit_module)"
expect "no_new_privs is set" "1" "$(run sh -c "grep NoNewPrivs /proc/self/status | awk '{print \$2}'")"
expect "bounding set is Docker's default" "00000000a80425fb" "$(run sh -c "grep CapBnd /proc/self/status | awk '{print \$2}'")"
expect "non-root user has no effective caps" "0000000000000000" "$(run -u 1000 sh -c "grep CapEff /proc/self/status | awk '{print \$2}'")"
# /dev/fuse (10:229) opens for root on this host; a node of it made inside must not.
out=$(run sh -c 'mknod /tmp/fuse c 10 229 && { (exec 3</tmp/fuse) 2>/dev/null && echo OPENED || echo denied; }; rm -f /tmp/fuse')
expect "a device node made inside cannot be opened (devices cgroup)" "denied" "$out"
disk=$(awk '$2 == "/" {print $1}' /proc/mounts | head -1)
if [ -b "$disk" ]; then
    majmin=$(stat -c '%t %T' "$disk")
    maj=$((16#${majmin% *})); min=$((16#${majmin#* }))
    out=$(run sh -c "rm -f /tmp/disk; mknod /tmp/disk b $maj $min 2>&1; head -c 512 /tmp/disk >/dev/null 2>&1 && echo READ || echo denied; rm -f /tmp/disk")
    expect_match "a node of the host disk ($maj:$min) cannot be read" "denied" "$out"
else
    fail "a node of the host disk cannot be read" "no block device found for /"
fi

# --- exit statuses and errors --------------------------------------------------------------
run true >/dev/null; expect "exit status 0" 0 $?
run sh -c 'exit 3' >/dev/null; expect "exit status 3" 3 $?
$DR --rm --name k137-$$ sleep 30 </dev/null >/dev/null 2>&1 &
drpid=$!
wait_running k137-$$
kill -KILL "$(ps -o pid= --ppid $drpid | tr -d ' ')"
wait $drpid; expect "exit status 137 (SIGKILL from the host)" 137 $?
out=$(run /bin/nope); rc=$?
expect "missing command: 127" 127 $rc
expect "missing command message" "docker-run: exec /bin/nope: No such file or directory" "$out"
out=$(run nope); expect_match "command not in PATH" 'exec: "nope": executable file not found in \$PATH' "$out"
out=$(run /etc/passwd); rc=$?
expect "not executable: 126" 126 $rc
expect_match "not executable message" "exec /etc/passwd: Permission denied" "$out"
out=$(run --rootfs /nonexistent true); rc=$?
expect "missing rootfs: 125" 125 $rc
expect_match "missing rootfs message" "rootfs /nonexistent: No such file or directory" "$out"
out=$(run -h 'bad_host' true); rc=$?
expect "invalid hostname: 125" 125 $rc
expect_match "invalid hostname message" 'invalid hostname "bad_host"' "$out"
out=$(run -v /nonexistent/src:/x true); rc=$?
expect "missing bind source: 125" 125 $rc
expect_match "missing bind source message" "bind mount source /nonexistent/src: No such file or directory" "$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $DR --rm -- true </dev/null 2>&1); rc=$?
expect "without root: 125" 125 $rc
expect_match "  and a message that says root is needed" "^docker-run: .*needs root" "$out"
expect "  in one line" 1 "$(printf '%s\n' "$out" | wc -l)"
out=$(run --bogus true); rc=$?
expect "unknown flag: 125" 125 $rc
expect_match "unknown flag message" "unknown flag: --bogus" "$out"

# --- init, signals, tty ----------------------------------------------------------------------
out=$(run --init sh -c '(sleep 0.2 &); sleep 1; ps -o stat= | grep -c Z')
expect "--init reaps orphaned zombies" "0" "$(echo "$out" | tail -1)"
expect "--init: the command is PID 2" "2" "$(run --init sh -c 'echo $$')"
run --init sh -c 'exit 7' >/dev/null; expect "--init passes the exit status" 7 $?
# SIGTERM to docker-run is forwarded to the container (sh traps it).
mkdir -p "$WORK/sig"
$DR --rm -v "$WORK/sig:/sig" sh -c 'trap "exit 42" TERM; touch /sig/trapped; sleep 30 & wait' </dev/null >/dev/null 2>&1 &
pid=$!
eventually 100 test -e "$WORK/sig/trapped" || fail "SIGTERM test: the container set no trap within 10 s"
kill -TERM $pid
wait $pid; expect "SIGTERM is forwarded to the container" 42 $?
if command -v script >/dev/null; then
    out=$(printf 'tty; stty size; exit 5\n' | timeout 20 script -qec "stty cols 91 rows 31; $DR --rm -it sh" /dev/null 2>&1)
    rc=$?
    expect_match "tty: a pty inside" "/dev/pts/0" "$out"
    expect_match "tty: window size follows the caller" "31 91" "$out"
    expect "tty: exit status through the pty" 5 $rc
    out=$(printf 'sleep 5; echo after\n\003echo alive\nexit\n' | timeout 20 script -qec "$DR --rm -it sh" /dev/null 2>&1)
    expect_match "tty: Ctrl-C reaches the container's foreground process" "alive" "$out"
else
    fail "tty tests" "script(1) missing: apt-get install util-linux (bsdutils)"
fi

# --- resource limits (cgroups) ------------------------------------------------------------------
out=$(run -m 32m --memory-swap 32m dd if=/dev/zero of=/dev/null bs=64M count=1); rc=$?
expect "memory hog over -m 32m is killed: 137" 137 $rc
expect_match "and reported as OOM killed" "killed by the OOM killer" "$out"
run -m 256m dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null; expect "the same hog fits in -m 256m" 0 $?
$DR --rm --name sigkill-$$ sleep 30 </dev/null >"$WORK/kill.out" 2>&1 &
drpid=$!
wait_running sigkill-$$
kill -KILL "$(container_pid $drpid)"; wait $drpid
expect "a plain SIGKILL: 137" 137 $?
if grep -q OOM "$WORK/kill.out"; then fail "a plain SIGKILL is not reported as OOM" "$(cat "$WORK/kill.out")"; else pass "a plain SIGKILL is not reported as OOM"; fi
$DR --rm --pids-limit 20 sh -c '(while :; do sleep 5 & done) 2>/dev/null; sleep 5' </dev/null >/dev/null 2>&1 &
drpid=$!
cpid=$(container_pid $drpid)
sleep 1
cg=/sys/fs/cgroup/pids$(awk -F: '$2 == "pids" {print $3}' /proc/$cpid/cgroup)
cur=$(cat "$cg/pids.current" 2>/dev/null); hits=$(awk '{print $2}' "$cg/pids.events" 2>/dev/null)
if [ -n "$cur" ] && [ "$cur" -le 20 ] && [ "${hits:-0}" -gt 0 ]; then
    pass "fork bomb under --pids-limit 20 is contained ($cur tasks, limit hit $hits times)"
else
    fail "fork bomb under --pids-limit 20 is contained" "cgroup $cg: pids.current=$cur, max events=$hits"
fi
expect "host still responsive during the fork bomb" "ok" "$(timeout 5 sh -c 'echo ok')"
kill -KILL "$cpid"; wait $drpid 2>/dev/null
ticks() { run "$@" sh -c 'timeout 2 sh -c "while :; do :; done"; cat /proc/$$/stat' | awk '{print $16 + $17}' | tail -1; }
half=$(ticks --cpus 0.5); full=$(ticks)
if [ "$half" -ge 60 ] && [ "$half" -le 140 ] && [ "$full" -ge 150 ]; then
    pass "--cpus 0.5 holds a busy loop to about half a CPU ($half vs $full ticks in 2 s)"
else
    fail "--cpus 0.5 holds a busy loop to about half a CPU" "got $half ticks with the limit, $full without"
fi
expect "--cpuset-cpus 0 pins the container" "Cpus_allowed_list:	0" "$(run --cpuset-cpus 0 grep Cpus_allowed_list /proc/self/status)"
for bad in "--cpus 0" "--cpus -1" "-m 12x" "-m -5m" "--cpuset-cpus 64" "--pids-limit abc" "--blkio-weight 5"; do
    out=$(run $bad true); rc=$?
    if [ $rc = 125 ] && echo "$out" | grep -q "invalid value"; then pass "bad limit $bad: 125 and a clear error"; else fail "bad limit $bad" "rc=$rc: $out"; fi
done

# --- managing containers from another terminal: ps, exec, stop, kill, stats, update, cleanup ---
name=e2e-$$
$DR --rm --name $name -h managed -m 32m --memory-swap 32m --tmpfs /tmp \
    sh -c 'while [ ! -e /tmp/go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=48M count=1' </dev/null >"$WORK/managed.out" 2>&1 &
drpid=$!
wait_running $name; expect "ps lists the named container" 0 $?
expect "exec sees the container's hostname" "managed" "$($DR exec $name hostname 2>&1)"
expect "exec is in the container's PID namespace" "yes" "$($DR exec $name sh -c '[ "$(readlink /proc/1/ns/pid)" = "$(readlink /proc/self/ns/pid)" ] && ps -o comm= | grep -q "^sh" && echo yes')"
expect "exec shares the container's network namespace" "yes" "$($DR exec $name sh -c '[ "$(readlink /proc/1/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo yes')"
$DR exec $name sh -c 'exit 4' >/dev/null 2>&1; expect "exec returns the command's status" 4 $?
$DR exec $name /nope >/dev/null 2>&1; expect "exec of a missing command: 127" 127 $?
out=$($DR --rm --name $name true 2>&1); rc=$?
expect_match "a taken name is refused" "already in use" "$out"
expect "  with 125" 125 $rc
out=$($DR stats $name 2>&1)
expect_match "stats report memory and pids" "memory [1-9][0-9]* B .*limit 33554432.*pids [1-9]" "$out"
$DR update --memory 128m $name >/dev/null; expect "update raises the memory limit" 0 $?
expect_match "  and stats show it" "limit 134217728" "$($DR stats $name)"
$DR exec $name touch /tmp/go
wait $drpid; expect "the allocation after the raise succeeds (no OOM)" 0 $?
$DR --rm --name $name sh -c 'trap "" TERM; sleep 100' </dev/null >/dev/null 2>&1 &
drpid=$!
wait_running $name
t0=$(date +%s%N)
$DR stop -t 1 $name >/dev/null
wait $drpid; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "stop kills a container that ignores SIGTERM: 137" 137 $rc
if [ $ms -lt 5000 ]; then pass "  within the timeout ($ms ms)"; else fail "  within the timeout" "$ms ms"; fi
$DR --rm --name $name sh -c 'trap "exit 9" USR1; while :; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &
drpid=$!
wait_running $name
$DR kill -s USR1 $name >/dev/null
wait $drpid; expect "kill -s USR1 delivers the signal" 9 $?
out=$($DR stop no-such-container 2>&1); rc=$?
expect "stop of an unknown container: 125" 125 $rc
expect_match "  with a clear message" "no such container: no-such-container" "$out"
# docker-run killed with SIGKILL: the container lives on; once it is gone, cleanup removes the rest.
$DR --rm --name $name sleep 100 </dev/null >/dev/null 2>&1 &
drpid=$!
wait_running $name
cpid=$(container_pid $drpid)
cid=$(awk -F: '$2 == "pids" {print $3}' /proc/$cpid/cgroup)
kill -KILL $drpid; wait $drpid 2>/dev/null
expect "after SIGKILL of docker-run the container still runs" 0 "$($DR ps | grep -q " $name\$" ; echo $?)"
$DR kill $name >/dev/null
for _ in $(seq 50); do [ -e /proc/$cpid ] || break; sleep 0.1; done
$DR cleanup >/dev/null
expect "cleanup removes its cgroup" "" "$(ls -d /sys/fs/cgroup/*$cid 2>/dev/null)"
expect "cleanup removes its record and name" "" "$(ls /run/docker-run/names/$name /run/docker-run/containers/${cid##*/} 2>/dev/null)"
expect "cleanup removes its copy-on-write layer" "" "$(ls -d /var/lib/docker-run/containers/${cid##*/} 2>/dev/null)"

fi # [ -z "$ONLY" ]

# --- bridge networking ----------------------------------------------------------------------------
expect_match "--version names the netlink backend" "^docker-run [0-9]+\.[0-9]+\.[0-9]+ \(netlink: $BACKEND_RE\)$" \
    "$($DR --version)"
# A fake "outside host": its own network namespace, joined to the host by a veth pair on a /30.
OUT=drout$$; OUTH=droh$$; OUTN=dron$$
ip netns add $OUT
ip link add $OUTH type veth peer name $OUTN
ip link set $OUTN netns $OUT
ip addr add 10.199.77.1/30 dev $OUTH; ip link set $OUTH up
ip netns exec $OUT ip addr add 10.199.77.2/30 dev $OUTN
ip netns exec $OUT ip link set $OUTN up; ip netns exec $OUT ip link set lo up
net_cleanup() {
    ip link del $OUTH 2>/dev/null; ip netns del $OUT 2>/dev/null; ip link del drt$$ 2>/dev/null
    # `ip netns add` leaves its /run/netns mount behind: remove it when this suite made it.
    if [ "$had_netns_mount" = 0 ] && [ -z "$(ip netns list)" ]; then umount /run/netns 2>/dev/null; fi
    rm -rf "$WORK"
}
trap net_cleanup EXIT
out=$(run $PROBE sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/hosts; /run/probe ping '$GW' >/dev/null && echo PING-OK')
expect_match "eth0 has an address in the default subnet" "inet $NET_RE[0-9]+\.[0-9]+/$PFX" "$out"
expect_match "default route via the gateway" "default via $GW dev eth0" "$out"
expect_match "/etc/hosts names the container" "$NET_RE[0-9.]+[[:space:]]+container" "$out"
expect_match "the container pings its gateway" "PING-OK" "$out"
expect "resolv.conf comes from the host" "$(cat /etc/resolv.conf)" "$(run cat /etc/resolv.conf)"
expect_match "MAC derived from the address" "$(printf '02:42:%02x:%02x' "$O1" "$O2")" "$(run cat /sys/class/net/eth0/address)"
$DR --rm --name peer-$$ --ip $STATIC_IP sleep 20 </dev/null >/dev/null 2>&1 &
peer=$!
wait_running peer-$$
expect "two containers ping each other" "ping: reply from $STATIC_IP" "$(run $PROBE /run/probe ping $STATIC_IP)"
out=$(run --ip $STATIC_IP true); rc=$?
expect_match "a static address in use is refused" "$STATIC_IP is already in use" "$out"
expect "  with 125" 125 $rc
$DR kill peer-$$ >/dev/null; wait $peer
# NAT: the outside namespace sees the host's address as the source.
ip netns exec $OUT python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.199.77.2", 7070)); s.listen(1); s.settimeout(20)
open("'"$WORK"'/nat.listening", "w").close()
c, a = s.accept(); c.sendall(a[0].encode()); c.close()' &
srv=$!
eventually 100 test -e "$WORK/nat.listening" || fail "NAT test: the outside listener did not start within 10 s"
expect "outbound NAT: the outside host sees the host's address" "10.199.77.1" \
    "$(run $PROBE /run/probe connect 10.199.77.2 7070)"
wait $srv 2>/dev/null
# A published port, reached from the outside namespace through the host's address.
$DR --rm --name web-$$ -p 18080:80 $PROBE /run/probe serve 80 hello-from-container </dev/null >/dev/null 2>&1 &
web=$!
wait_running web-$$
sleep 0.3
expect "-p 18080:80 is reachable from outside through the host's address" "hello-from-container" \
    "$(ip netns exec $OUT python3 -c '
import socket; s = socket.create_connection(("10.199.77.1", 18080), timeout=5); print(s.recv(100).decode().strip())' 2>&1)"
$DR kill web-$$ >/dev/null; wait $web
expect "published port rules are removed with the container" "" "$(iptables -t nat -S | grep "docker-run:ports")"
# 20 at once: distinct addresses, all reachable, nothing left.
for i in $(seq 20); do
    $DR --rm sh -c 'ip -4 -o addr show eth0 | awk "{print \$4}"; sleep 3' </dev/null >"$WORK/ip.$i" 2>&1 &
done
sleep 1.5
ips=$(cat "$WORK"/ip.* | cut -d/ -f1 | sort -u)
expect "20 concurrent containers get distinct addresses" 20 "$(echo "$ips" | grep -c "^$NET_RE")"
reach=0; for ip in $ips; do "$H/probe" ping "$ip" >/dev/null 2>&1 && reach=$((reach + 1)); done
expect "  and all are reachable from the host" 20 $reach
wait
expect "no veth left" "" "$(container_veths_left 120)"
expect "no lease left" "" "$(ls /run/docker-run/leases/docker-run0/ 2>/dev/null)"
expect_match "NAT rules stay for the next container on the bridge" "docker-run:docker-run0" "$(iptables -t nat -S)"
$DR cleanup >/dev/null
expect "cleanup removes them once no container is left" "" "$(iptables -t nat -S | grep docker-run)"
# Bad input: clear errors, nothing created.
for bad in "--subnet 10.88.0.0/33@invalid CIDR" "--ip 10.99.0.5@not in subnet|outside" "--bridge sixteen-bytes-xx@sixteen-bytes-xx" \
           "--bridge drbad$$ --subnet 10.199.77.0/24@overlaps" "-p 0:80@ports 1-65535" "-p 80:http@HOSTPORT:CONTAINERPORT"; do
    flags=${bad%%@*}; want=${bad#*@}
    out=$(run $flags true); rc=$?
    if [ $rc = 125 ] && echo "$out" | grep -Eq "$want"; then pass "bad network input ($flags): 125, clear error"; else fail "bad network input ($flags)" "rc=$rc: $out"; fi
done
expect "the refused bridge was not created" "" "$(ip -o link show drbad$$ 2>/dev/null)"
# A bridge and subnet of one's own.
out=$(run --bridge drt$$ --subnet 10.198.0.0/24 $PROBE sh -c 'ip -4 -o addr show eth0; /run/probe ping 10.198.0.1 >/dev/null && echo PING-OK')
expect_match "--bridge/--subnet: an address on the new bridge" "inet 10\.198\.0\.2/24" "$out"
expect_match "  and its gateway answers" "PING-OK" "$out"
ip link del drt$$ 2>/dev/null

if [ -z "$ONLY" ]; then
# --- the rest of the command line ------------------------------------------------------------------
out=$($DR --help); rc=$?
expect "--help exits 0" 0 $rc
expect_match "--help lists the flags" "--pids-limit" "$out"
expect "-i and --rm are accepted" "hi" "$(echo hi | $DR --rm -i --rm --network none sh -c 'cat' 2>&1)"
expect "docker-run run CMD" "ok" "$(timeout 60 $DR run --rm echo ok </dev/null 2>&1)"
expect "-e KEY copies the caller's value" "from-host" "$(DRTEST=from-host $DR --rm -e DRTEST --network none sh -c 'echo $DRTEST' </dev/null 2>&1)"
# Limits that the earlier tests do not read back: check the cgroup files from the host.
# --blkio-weight needs a proportional io scheduler (bfq) on the host; without one it is refused.
if ls /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/blkio/blkio.bfq.weight >/dev/null 2>&1; then
    blkio=(--blkio-weight 300)
else
    blkio=()
    out=$($DR --rm --network none --blkio-weight 300 true </dev/null 2>&1); rc=$?
    expect_match "--blkio-weight without a proportional io scheduler: a clear error" \
        "no blkio.weight or blkio.bfq.weight" "$out (status $rc)"
    expect "  with 125" 125 $rc
fi
$DR --rm --name lim-$$ --network none --cpu-shares 512 --cpuset-mems 0 "${blkio[@]}" --memory-swap 96m -m 64m \
    --cpu-period 50000 --cpu-quota 25000 sleep 20 </dev/null >/dev/null 2>&1 &
lim=$!
wait_running lim-$$
cg=$(awk -F: '$2 == "memory" {print $3}' /proc/$(container_pid $lim)/cgroup)
expect "--cpu-shares" 512 "$(cat /sys/fs/cgroup/cpu$cg/cpu.shares)"
expect "--cpu-period/--cpu-quota" "50000 25000" "$(cat /sys/fs/cgroup/cpu$cg/cpu.cfs_period_us /sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us | tr '\n' ' ' | sed 's/ $//')"
expect "--cpuset-mems" 0 "$(cat /sys/fs/cgroup/cpuset$cg/cpuset.mems)"
expect "--memory-swap" $((96 * 1024 * 1024)) "$(cat /sys/fs/cgroup/memory$cg/memory.memsw.limit_in_bytes)"
bw=$(cat /sys/fs/cgroup/blkio$cg/blkio.bfq.weight /sys/fs/cgroup/blkio$cg/blkio.weight 2>/dev/null | awk '{print $NF}' | head -1)
[ ${#blkio[@]} -gt 0 ] && expect "--blkio-weight" 300 "$bw"
$DR kill lim-$$ >/dev/null; wait $lim
# exec -it through a real pty.
$DR --rm --name tty-$$ --network none sleep 20 </dev/null >/dev/null 2>&1 &
ttyc=$!
wait_running tty-$$
out=$(printf 'tty\nexit 3\n' | timeout 20 script -qec "$DR exec -it tty-$$ sh" /dev/null 2>&1); rc=$?
expect_match "exec -it gets a terminal" "/dev/pts/[0-9]" "$out"
expect "exec -it passes the exit status" 3 $rc
$DR kill tty-$$ >/dev/null; wait $ttyc

fi # [ -z "$ONLY" ]

# --- nothing leaked ---------------------------------------------------------------------------
fds_before=$(ls /proc/$$/fd | wc -l)
for i in $(seq 100); do $DR --rm true </dev/null || fail "sequential container $i"; done
pass "100 sequential containers"
pids=()
for i in $(seq 20); do $DR --rm sh -c 'sleep 0.2' </dev/null & pids+=($!); done
ok=0; for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
expect "20 concurrent containers all exit 0" 20 $ok
expect "no zombie left" "" "$(ps -eo stat=,ppid= | awk -v p=$$ '$1 ~ /^Z/ && $2 == p')"
expect "no mount left on the host" "$mounts_before" "$(host_mounts)"
expect "no fd leaked in the test shell" "$fds_before" "$(ls /proc/$$/fd | wc -l)"
leftover=$(find /sys/fs/cgroup/*/docker-run -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -3)
expect "no container cgroup left" "" "$leftover"

# The default bridge stays like Docker's docker0, but a bridge this suite created goes.
[ -z "$had_bridge" ] && ip link del docker-run0 2>/dev/null
$DR cleanup >/dev/null
expect "cleanup leaves no docker-run cgroup parent when no container runs" "" "$(ls -d /sys/fs/cgroup/*/docker-run 2>/dev/null)"
summary
