#!/usr/bin/env bash
# The process side of the escape classes (issue 12), written as attacks: from inside a default
# container (the kernel's attack surface, the host's keyrings, the host binary through
# /proc/PID/exe), as a local user who could write into the state directory (umask 000, forged
# records), and against the runtime's own checks (bridge names, capabilities). Each attempt
# must fail and the host must be unchanged. The C caller's attack (a reaped and reused pid) is
# in tests/c/abi_test.c (test_reaped_pid_is_never_signalled).
# Usage: tests/escape-process.sh   (root; a built ./docker-run and ./rootfs; gcc with libc6-dev
# for the static helper). Ends with `N passed, N failed`; non-zero on failure.
#
# Nothing here can harm the host when it fails as it must: the binary that an attack would
# overwrite is the test's own copy, forged records name the test's own processes and
# directories, and every one of them is removed at exit.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the process escape suite"

ROOTFS=$PWD/rootfs
[ -x ./docker-run ] && [ -d "$ROOTFS/bin" ] || { echo "build first: make container"; exit 1; }
WORK=$(mktemp -d /tmp/escape-proc.XXXXXX)
chmod 755 "$WORK"
cp ./docker-run "$WORK/docker-run"
DR=$WORK/docker-run
export DOCKER_RUN_ROOTFS=$ROOTFS
STATE=/run/docker-run
HOSTPIDS=()
NAMES=()
FORGED=()
BRIDGES=()
cleanup() {
    local n p
    for n in "${NAMES[@]}"; do "$DR" kill "$n" >/dev/null 2>&1; done
    for p in "${HOSTPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for p in "${FORGED[@]}"; do rm -f "$p"; done
    # Bridges an old build would have made from the refused names, with their lease dirs.
    for n in "${BRIDGES[@]}"; do ip link del "$n" 2>/dev/null; rm -rf "$STATE/leases/$n"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run ARGS...: a container with no network, the helper at /run; output and status.
run() { timeout -k 5 30 "$DR" --network none -v "$WORK/h:/run:ro" "$@" </dev/null 2>&1; }
# wait_running NAME: until `docker-run ps` lists the container
wait_running() { for _ in $(seq 100); do "$DR" ps | grep -q " $1 " && return 0; sleep 0.1; done; return 1; }
# container_pid NAME: the host pid of its first process
container_pid() { "$DR" ps | awk -v n="$1" '$2 == n {print $3}'; }
hex_id() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

if ! build_probe "$WORK/h"; then
    fail "build the static helper" "gcc -static failed (apt-get install libc6-dev)"
    summary
fi
pass "build the static helper"
P=$WORK/h/probe
SURFACE="io_uring_setup userfaultfd perf_event_open keyctl add_key request_key"

# --- seccomp -------------------------------------------------------------------------------------
echo "=== the kernel's attack surface (seccomp)"
out=$(run /run/probe surface)
for call in $SURFACE; do
    expect_match "default container: $call is refused" "^$call: EPERM$" "$(grep "^$call:" <<<"$out")"
done
out=$(run --security-opt seccomp=unconfined /run/probe surface)
for call in $SURFACE; do
    line=$(grep "^$call:" <<<"$out")
    if [ -n "$line" ] && ! grep -q EPERM <<<"$line"; then
        pass "seccomp=unconfined: $call reaches the kernel ($line)"
    else
        fail "seccomp=unconfined: $call reaches the kernel" "$out"
    fi
done
cat >"$WORK/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["userfaultfd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
EOF
out=$(run --security-opt "seccomp=$WORK/profile.json" /run/probe surface)
expect_match "a profile file: its rule applies (userfaultfd EACCES)" "^userfaultfd: EACCES$" \
    "$(grep '^userfaultfd:' <<<"$out")"
expect_match "a profile file: what it allows reaches the kernel" "^io_uring_setup: EFAULT$" \
    "$(grep '^io_uring_setup:' <<<"$out")"
echo '{"defaultAction": "SCMP_ACT_NOPE"}' >"$WORK/bad.json"
out=$(run --security-opt "seccomp=$WORK/bad.json" true); rc=$?
expect "a bad profile: docker-run exits 125" 125 "$rc"
expect_match "a bad profile: the message names the mistake" 'seccomp profile: unknown action "SCMP_ACT_NOPE"' "$out"
out=$(run --security-opt "seccomp=$WORK/none.json" true); rc=$?
expect_match "a missing profile file: 125 and its path" "^125 .*none.json" "$rc $out"

# --- keyrings --------------------------------------------------------------------------------------
echo "=== kernel keyrings"
secret=s3cret-$$
# The host side: docker-run runs in a session keyring that holds a secret.
host_read=$("$P" keyring_add "$secret" "$WORK/serial" sh -c '"$0" keyring_read "$(cat "$1")"' "$P" "$WORK/serial")
expect_match "the host process can read its session key (the test works)" "OK, read $secret" "$host_read"
for opt in "" "--security-opt seccomp=unconfined"; do
    # shellcheck disable=SC2086 # $opt is one option or none
    out=$("$P" keyring_add "$secret" "$WORK/serial" sh -c \
        'timeout 30 "$0" --network none '"$opt"' -v "$1:/run:ro" /run/probe keyring_read "$(cat "$2")" </dev/null 2>&1' \
        "$DR" "$WORK/h" "$WORK/serial")
    what="read the invoking process's session key${opt:+ ($opt)}"
    if grep -q "$secret" <<<"$out"; then fail "$what" "$out"; else expect_match "$what" "keyring_read: E" "$out"; fi
done
expect_match "reach root's user keyring" "keyring_user: EPERM" "$(run /run/probe keyring_user)"

# --- the host binary -------------------------------------------------------------------------------
echo "=== the host binary (CVE-2019-5736)"
# A command whose interpreter is /proc/self/exe runs whatever the runtime exec'd it from.
printf '#!/proc/self/exe --version\n' >"$WORK/h/evil"
printf '#!/proc/self/exe --env-file /proc/self/fd/0\n' >"$WORK/h/evil-wait"
chmod 755 "$WORK/h/evil" "$WORK/h/evil-wait"
out=$(run /run/evil)
if grep -q "netlink:" <<<"$out"; then
    fail "a #!/proc/self/exe command does not run the host's docker-run" "$out"
else
    expect_match "a #!/proc/self/exe command does not run the host's docker-run" "docker-run-init: the container runtime's exec stub" "$out"
fi
out=$(run --init /run/evil)
if grep -q "netlink:" <<<"$out"; then fail "the same with --init" "$out"; else pass "the same with --init"; fi
cp "$DR" "$WORK/docker-run-copy"
sum_before=$(sha256sum <"$WORK/docker-run-copy")
cname=escp-$$-exe
NAMES+=("$cname")
"$DR" --name "$cname" --init --network none -v "$WORK/h:/run:ro" /run/probe exe_snoop 20 </dev/null >"$WORK/exe.out" 2>&1 &
HOSTPIDS+=($!)
if wait_running "$cname"; then
    pid=$(container_pid "$cname")
    expect_match "the --init PID 1 runs the sealed stub, not a host binary" "^/memfd:docker-run-init" "$(readlink "/proc/$pid/exe")"
    out=$(timeout 10 "$WORK/docker-run-copy" exec "$cname" /run/evil 2>&1)
    if grep -q "netlink:" <<<"$out"; then fail "exec of a #!/proc/self/exe command does not run the host's docker-run" "$out"
    else pass "exec of a #!/proc/self/exe command does not run the host's docker-run"; fi
    # A joining exec runs the runtime's binary from its clone until its own exec: the snooper
    # tries /proc/PID/exe of each (this used to be tests/escape.sh's "joining exec" check).
    for _ in $(seq 50); do
        timeout 10 "$WORK/docker-run-copy" exec "$cname" true >/dev/null 2>&1 || break
        grep -q "got\|WRITABLE" "$WORK/exe.out" && break
    done
    # The host binary would wait for its stdin inside the container: time for the snooper.
    for _ in 1 2 3; do
        sleep 2 | timeout 10 "$WORK/docker-run-copy" exec "$cname" /run/evil-wait >/dev/null 2>&1
        grep -q "got\|WRITABLE" "$WORK/exe.out" && break
    done
    sleep 1
    "$DR" kill "$cname" >/dev/null 2>&1
    out=$(cat "$WORK/exe.out")
    if grep -q "got\|WRITABLE" <<<"$out"; then
        fail "/proc/PID/exe of a joining exec or an exec'd #!/proc/self/exe command reaches no host file" "$out"
    else
        pass "/proc/PID/exe of a joining exec or an exec'd #!/proc/self/exe command reaches no host file"
    fi
    expect "the runtime binary used for exec is unchanged" "$sum_before" "$(sha256sum <"$WORK/docker-run-copy")"
else
    fail "/proc/PID/exe attacks" "the container did not start: $(cat "$WORK/exe.out")"
fi

# --- capabilities and bridge names ------------------------------------------------------------------
echo "=== capabilities and names"
out=$("$P" with_inheritable "$DR" --network none -u 1000 -v "$WORK/h:/run:ro" /run/probe capinh </dev/null 2>&1)
expect "a -u 1000 container does not keep the host's inheritable set" "capinh: 0000000000000000" "$out"
out=$("$P" with_inheritable "$DR" --network none -v "$WORK/h:/run:ro" /run/probe capinh </dev/null 2>&1)
expect "a root container does not keep the host's inheritable set" "capinh: 0000000000000000" "$out"
for bad in 'br+' 'br!x'; do
    ip link show "$bad" >/dev/null 2>&1 || BRIDGES+=("$bad")
    out=$("$DR" --bridge "$bad" true </dev/null 2>&1); rc=$?
    expect_match "bridge name $bad is refused (iptables would not read it literally)" \
        "^125 .*not allowed in a bridge name" "$rc $out"
    if ip link show "$bad" >/dev/null 2>&1; then fail "no bridge $bad was made"; fi
done

# --- the state directory -----------------------------------------------------------------------------
echo "=== the state directory (umask 000, forged records)"
cname=escp-$$-umask
NAMES+=("$cname")
(umask 000; exec "$DR" --name "$cname" -v "$WORK/h:/run:ro" /run/probe sleep 30 </dev/null >/dev/null 2>&1) &
HOSTPIDS+=($!)
if wait_running "$cname"; then
    expect "under umask 000: $STATE is 0700" 700 "$(stat -c %a "$STATE")"
    expect "under umask 000: nothing in $STATE is writable by others" "" "$(find "$STATE" -perm /022 ! -type l)"
    expect "under umask 000: everything in $STATE is root's" "" "$(find "$STATE" ! -user root)"
    "$DR" kill "$cname" >/dev/null 2>&1
else
    fail "under umask 000" "the container did not start"
fi
# A record naming an unrelated host process, with its real start time (what a local user who
# could write the state directory would forge): kill, stop and exec must refuse it.
sleep 300 &
victim=$!
HOSTPIDS+=("$victim")
start_time=$(awk '{print $22}' "/proc/$victim/stat")
id=$(hex_id)
record=$STATE/containers/$id
FORGED+=("$record")
printf 'id=%s\nstarting=0\npid=%s\nstart_time=%s\ncreated=1\nhostname=x\ncommand=sleep\n' \
    "$id" "$victim" "$start_time" >"$record"
chmod 600 "$record"
out=$("$DR" kill "$id" 2>&1); rc=$?
expect_match "kill refuses a forged record naming a host process" "^1[0-9]* .*not in the container's cgroup" "$rc $out"
out=$("$DR" stop -t 1 "$id" 2>&1); rc=$?
expect_match "stop refuses it" "^1[0-9]* .*not in the container's cgroup" "$rc $out"
out=$("$DR" exec "$id" true 2>&1); rc=$?
expect_match "exec refuses to join its namespaces" "^1[0-9]* .*not in the container's cgroup" "$rc $out"
out=$("$DR" ps 2>&1)
expect "ps does not list it" "" "$(grep -F "${id:0:12}" <<<"$out")"
expect "the host process is still alive" 0 "$(kill -0 "$victim" 2>/dev/null; echo $?)"
# A record whose id climbs out of the state directory: cleanup must not delete the target.
mkdir -p "$WORK/victim/inside"
id2=$(hex_id)
FORGED+=("$STATE/containers/$id2")
printf 'id=../../..%s/victim\npid=999999999\nstart_time=1\n' "$WORK" >"$STATE/containers/$id2"
chmod 600 "$STATE/containers/$id2"
"$DR" cleanup >/dev/null 2>&1
expect "cleanup does not delete what a forged id names" yes "$([ -d "$WORK/victim/inside" ] && echo yes)"
# A record that someone else could write is not read at all.
chmod 666 "$record"
out=$("$DR" kill "$id" 2>&1)
expect_match "a record others can write is ignored" "no such container" "$out"
expect "the host process survived all of it" 0 "$(kill -0 "$victim" 2>/dev/null; echo $?)"

summary
