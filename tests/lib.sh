# Shared helpers for the shell test suites: check NAME CMD..., summary.
# Each suite prints `N passed, N failed` as its last line and exits non-zero on failure.
PASSED=0
FAILED=0
FAILED_NAMES=()

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); printf 'FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '     %s\n' "$2"; return 0; }

# expect NAME WANT GOT: equal strings
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want [$2], got [$3]"; fi
}

# expect_match NAME REGEX GOT
expect_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "want /$2/, got [$3]"; fi
}

# eventually TRIES CMD...: CMD succeeds within TRIES attempts, 0.1 s apart (status 1 if never)
eventually() {
    local n=$1
    shift
    for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# Root tiers: skipped visibly outside CI, a failure in CI.
require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        if [ "${CI:-}" = true ]; then
            fail "root tier" "tests need root and CI=true: a skipped root tier is a failure"
            summary
        fi
        echo "skipped: $1 needs root (run the test command with sudo)"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
}

summary() {
    [ "${#FAILED_NAMES[@]}" -gt 0 ] && printf 'failed: %s\n' "${FAILED_NAMES[*]}"
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}

# container_veths_left SECONDS: the host ends of container veths still there after waiting up to
# SECONDS. A dead container's veth goes with its network namespace, which the kernel tears down
# asynchronously, on one work queue for all namespaces: many at once can take a while on a busy
# machine. When some are left, also names the processes outside the host's network namespace
# (a container process that lives on would hold its veth).
container_veths_left() {
    local left i
    for i in $(seq $(( $1 * 10 ))); do
        left=$(ip -o link show type veth | grep -o 'veth[0-9a-f]\{11\}' | sort -u)
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo $left
    local host p ns
    host=$(readlink /proc/self/ns/net)
    for p in /proc/[0-9]*; do
        ns=$(readlink "$p/ns/net" 2>/dev/null)
        [ -n "$ns" ] && [ "$ns" != "$host" ] && printf '(pid %s %s in %s) ' "${p#/proc/}" "$(cat "$p/comm" 2>/dev/null)" "$ns"
    done
    dmesg 2>/dev/null | grep -i 'unregister_netdevice' | tail -2
}

# build_probe DIR: the static helper tests/helpers/probe.c as DIR/probe (bind-mount DIR into a
# container to use it there: every rootfs flavor has /run).
build_probe() {
    mkdir -p "$1" && gcc -static -O1 -Wall -Wextra -o "$1/probe" "$(dirname "${BASH_SOURCE[0]}")/helpers/probe.c"
}
