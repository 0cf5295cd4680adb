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

# build_probe DIR: the static helper tests/helpers/probe.c as DIR/probe (bind-mount DIR into a
# container to use it there: every rootfs flavor has /run).
build_probe() {
    mkdir -p "$1" && gcc -static -O1 -Wall -Wextra -o "$1/probe" "$(dirname "${BASH_SOURCE[0]}")/helpers/probe.c"
}
