#!/usr/bin/env bash
# Tier 2: the C ABI and the C++ wrapper, through the committed header and the static library.
#   tests/abi.sh                 (ROOTFS=./rootfs by default; root runs the container parts)
# Checks: the headers compile alone as C11 and C++17; the library exports exactly the API (the
# C API of container_runtime.h and the original project's network.h API); tests/c/abi_test.c,
# tests/c/network_test.c (against the .a and the .so), tests/cpp/abi_test.cpp,
# tests/cpp/network_header.cpp and tests/cpp/original_main.cpp build with -Werror and pass;
# the C test's non-container part is clean under valgrind. Programs are built into
# tests/{c,cpp}/*.bin (git-ignored). Ends with `N passed, N failed`; non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh

ROOTFS=${ROOTFS:-./rootfs}
CC=${CC:-gcc}
CXX=${CXX:-g++}
WARN=(-Wall -Wextra -Werror -pedantic)
STATICLIB=target/release/libcontainer_runtime.a
SHAREDLIB=target/release/libcontainer_runtime.so
LINKLIBS=(-lpthread -ldl -lm -lrt)
# The hostname tests/cpp/original_main.cpp sets, as the original project does.
ORIGINAL_HOSTNAME=shiyanlou

LOGDIR=$(mktemp -d /tmp/abi-test.XXXXXX)
trap 'ip link del drorig0 2>/dev/null; rm -rf "$LOGDIR"' EXIT

# run_logged NAME CMD...: runs CMD with its output in a file (not a pipe: a container child
# stuck before exec would hold a pipe open forever), shows the output, passes on exit 0.
run_logged() {
    local name=$1; shift
    local log="$LOGDIR/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' _).log"
    timeout -k 10 600 "$@" >"$log" 2>&1
    local rc=$?
    sed 's/^/    /' "$log"
    if [ "$rc" -eq 0 ]; then pass "$name"; else fail "$name" "exit status $rc"; fi
    return "$rc"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

root_skip() {
    if [ "${CI:-}" = true ]; then
        fail "$1" "needs root and CI=true: a skip is a failure"
    else
        echo "skipped: $1 needs root"
    fi
}

echo "=== library"
if cargo build --release -p container-runtime >"$LOGDIR/cargo.log" 2>&1; then
    pass "library builds"
else
    tail -30 "$LOGDIR/cargo.log"
    fail "library builds"
fi
if [ ! -d "$ROOTFS/bin" ]; then
    fail "rootfs $ROOTFS exists" "build it with make rootfs"
fi

echo "=== header alone"
printf '#include "container_runtime.h"\nint main(void) { return runtime_version() == 0; }\n' >"$LOGDIR/h.c"
cp "$LOGDIR/h.c" "$LOGDIR/h.cpp"
run_logged "header compiles as C11" "$CC" -std=c11 "${WARN[@]}" -Iinclude -fsyntax-only "$LOGDIR/h.c"
run_logged "header compiles as C++17" "$CXX" -std=c++17 "${WARN[@]}" -Iinclude -fsyntax-only "$LOGDIR/h.cpp"
printf '#include "network.h"\nint main(void) { return lxc_netdev_up(0) == 0; }\n' >"$LOGDIR/n.c"
cp "$LOGDIR/n.c" "$LOGDIR/n.cpp"
run_logged "network.h compiles alone as C11" "$CC" -std=c11 "${WARN[@]}" -Iinclude -fsyntax-only "$LOGDIR/n.c"
run_logged "network.h compiles alone as C++17" "$CXX" -std=c++17 "${WARN[@]}" -Iinclude -fsyntax-only "$LOGDIR/n.cpp"
printf '#include "docker.hpp"\nint main() { return rt::version().empty(); }\n' >"$LOGDIR/w.cpp"
run_logged "docker.hpp compiles alone as C++17" "$CXX" -std=c++17 "${WARN[@]}" -Iinclude -fsyntax-only "$LOGDIR/w.cpp"

echo "=== exports"
# Functions a header declares (runtime_test_panic only exists with the test-panic feature).
header_functions() {
    sed -n 's/^[a-z].*[ *]\([a-z_][a-z0-9_]*\)(.*/\1/p' "$1" | sort -u
}
api_functions() { header_functions include/container_runtime.h; }
lxc_functions() { header_functions include/network.h; }
if [ "$(lxc_functions | wc -l)" -ne 17 ]; then
    fail "network.h declares the original's 17 functions" "found: $(lxc_functions | tr '\n' ' ')"
fi
if [ -f "$SHAREDLIB" ]; then
    exports=$(nm -D --defined-only "$SHAREDLIB" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort -u)
    if ! grep -qx container_start <<<"$exports"; then
        fail "exports" "container_start is not exported by $SHAREDLIB"
    elif stray=$(grep -Ev '^(container_|cgroup_|veth_|bridge_|link_|error_|runtime_|image_)' <<<"$exports" |
            grep -vxF -f <(lxc_functions)); then
        fail "exports" "unexpected exported names: $(tr '\n' ' ' <<<"$stray")"
    else
        pass "exports: only the API's prefixes and network.h ($(wc -l <<<"$exports") names)"
    fi
    missing=$(comm -23 <({ api_functions | grep -vx runtime_test_panic; lxc_functions; } | sort -u) \
        <(printf '%s\n' "$exports"))
    if [ -z "$missing" ]; then
        pass "every container_runtime.h and network.h function is exported by the .so"
    else
        fail "every container_runtime.h and network.h function is exported by the .so" "missing: $(tr '\n' ' ' <<<"$missing")"
    fi
else
    fail "exports" "$SHAREDLIB not found"
fi
# nm cannot read the archive's LTO objects (their bitcode trips the linker plugin): readelf can.
archive=$(readelf -sW "$STATICLIB" 2>/dev/null | awk '$5 == "GLOBAL" && $7 != "UND" {print $8}' | sort -u)
missing=$(comm -23 <(lxc_functions) <(printf '%s\n' "$archive"))
if [ -n "$archive" ] && [ -z "$missing" ]; then
    pass "every network.h function is defined in the .a"
else
    fail "every network.h function is defined in the .a" "missing: $(tr '\n' ' ' <<<"$missing")"
fi
# A new export without an ABI test is a gap: every function must appear in its C test.
untested=$(api_functions | while read -r f; do grep -q "\b$f\b" tests/c/abi_test.c || echo "$f"; done)
if [ -z "$untested" ]; then
    pass "every header function is used in tests/c/abi_test.c"
else
    fail "every header function is used in tests/c/abi_test.c" "not covered: $(tr '\n' ' ' <<<"$untested")"
fi
untested=$(lxc_functions | while read -r f; do grep -q "\b$f(" tests/c/network_test.c || echo "$f"; done)
if [ -z "$untested" ]; then
    pass "every network.h function is used in tests/c/network_test.c"
else
    fail "every network.h function is used in tests/c/network_test.c" "not covered: $(tr '\n' ' ' <<<"$untested")"
fi

echo "=== build"
built_c=false built_cpp=false built_main=false built_net=false built_net_so=false built_net_cpp=false
# The library built above has the default netlink backend, the C one.
EXPECT_BACKEND=(-DEXPECTED_NETLINK_BACKEND='"c"')
run_logged "build tests/c/abi_test.bin" "$CC" -std=c11 "${WARN[@]}" -g -Iinclude "${EXPECT_BACKEND[@]}" \
    -o tests/c/abi_test.bin tests/c/abi_test.c "$STATICLIB" "${LINKLIBS[@]}" && built_c=true
run_logged "build tests/cpp/abi_test.bin" "$CXX" -std=c++17 "${WARN[@]}" -g -Iinclude "${EXPECT_BACKEND[@]}" \
    -o tests/cpp/abi_test.bin tests/cpp/abi_test.cpp "$STATICLIB" "${LINKLIBS[@]}" && built_cpp=true
run_logged "build tests/c/network_test.bin (static)" "$CC" -std=c11 "${WARN[@]}" -g -Iinclude \
    -o tests/c/network_test.bin tests/c/network_test.c "$STATICLIB" "${LINKLIBS[@]}" && built_net=true
# The shared library under its SONAME, as an installed copy would be found.
mkdir -p "$LOGDIR/lib" && ln -sf "$PWD/$SHAREDLIB" "$LOGDIR/lib/libcontainer_runtime.so.0"
run_logged "build tests/c/network_test_so.bin (shared)" "$CC" -std=c11 "${WARN[@]}" -g -Iinclude \
    -o tests/c/network_test_so.bin tests/c/network_test.c "$SHAREDLIB" && built_net_so=true
run_logged "build tests/cpp/network_header.bin" "$CXX" -std=c++17 "${WARN[@]}" -g -Iinclude \
    -o tests/cpp/network_header.bin tests/cpp/network_header.cpp "$STATICLIB" "${LINKLIBS[@]}" && built_net_cpp=true
# The original project's main.cpp: its own flags were -Wall -Wextra -Werror, no -pedantic.
run_logged "build tests/cpp/original_main.bin" "$CXX" -std=c++17 -Wall -Wextra -Werror -g -Iinclude \
    -o tests/cpp/original_main.bin tests/cpp/original_main.cpp "$STATICLIB" "${LINKLIBS[@]}" && built_main=true

echo "=== run"
$built_c && run_logged "tests/c/abi_test.bin" tests/c/abi_test.bin "$ROOTFS"
$built_cpp && run_logged "tests/cpp/abi_test.bin" tests/cpp/abi_test.bin "$ROOTFS"
$built_net && run_logged "tests/c/network_test.bin (static)" tests/c/network_test.bin
$built_net_so && run_logged "tests/c/network_test_so.bin (shared)" \
    env LD_LIBRARY_PATH="$LOGDIR/lib" tests/c/network_test_so.bin
$built_net_cpp && run_logged "tests/cpp/network_header.bin" tests/cpp/network_header.bin

if ! $built_main; then
    :
elif ! is_root; then
    root_skip "original_main"
else
    # While the shell waits for more input, the host pings the container's address: a reply
    # from the container (the static helper: the host may have no ping).
    build_probe "$LOGDIR/h" || fail "build tests/helpers/probe.c"
    { printf 'hostname\nip -4 -o addr show eth0\n'; sleep 4; } |
        timeout -k 10 60 tests/cpp/original_main.bin "$ROOTFS" >"$LOGDIR/main.log" 2>&1 &
    main=$!
    reply=no
    for _ in $(seq 20); do
        sleep 0.2
        "$LOGDIR/h/probe" ping 10.89.0.100 300 >/dev/null 2>&1 && { reply=yes; break; }
    done
    wait $main
    rc=$?
    ip link del drorig0 2>/dev/null
    out=$(cat "$LOGDIR/main.log")
    sed 's/^/    /' <<<"$out"
    if grep -qx -- "...start container" <<<"$out" && grep -qx "$ORIGINAL_HOSTNAME" <<<"$out" &&
        grep -qx -- "stop container..." <<<"$out" && grep -q "inet 10.89.0.100/24" <<<"$out" &&
        [ "$reply" = yes ] && [ "$rc" -eq 0 ]; then
        pass "original_main: a shell fed from stdin prints $ORIGINAL_HOSTNAME, has 10.89.0.100 on drorig0, answers a ping from the host"
    else
        fail "original_main: a shell fed from stdin prints $ORIGINAL_HOSTNAME, has 10.89.0.100 on drorig0, answers a ping from the host" "ping reply: $reply, status $rc"
    fi
fi

echo "=== valgrind"
if ! command -v valgrind >/dev/null; then
    echo "skipped: valgrind is not installed (apt-get install valgrind)"
elif $built_c; then
    # Known false positives of the optimised (LTO, opt-level 3) library: LLVM may compare an
    # Option<i64>'s payload before its tag (`opt.filter(|&x| x != -1 && ...)` becomes
    # `cmp payload,-1; je; cmpb tag,0`), a branch on an uninitialised None payload whose result
    # does not matter. Checked by hand against a debug build, which is clean. Add a function
    # here only after the same check.
    cat >"$LOGDIR/rust.supp" <<'SUPP'
{
   option-payload-before-tag: set_key (resources.rs, memory vs memory-swap)
   Memcheck:Cond
   fun:*container_runtime*cgroups*resources*set_key*
}
SUPP
    # The container part is too slow under valgrind: the argument/state/error part only.
    run_logged "valgrind tests/c/abi_test.bin --no-containers" \
        valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
        --suppressions="$LOGDIR/rust.supp" tests/c/abi_test.bin "$ROOTFS" --no-containers
fi

summary
