#!/usr/bin/env bash
# The migration path of docs/MIGRATION.md, step by step, on the original project's shape
# (tests/migration/: its docker.hpp, reconstructed in the original style, its main.cpp and its
# Makefile, which compiles C with gcc and C++ with g++):
#   0. the original as it is, with our c-legacy network.h implementation compiled in as the
#      stand-in for the LXC C it copied;
#   1. network.c and nl.c deleted, linked against the installed libcontainer_runtime;
#   2. the original docker.hpp replaced by the installed one, main.cpp unchanged;
#   3. a main.cpp on the rt:: API: limits, bridge networking with leases;
#   4. the library built with the Rust netlink backend (make NETLINK=rust): steps 1 to 3
#      rebuilt against it, unchanged, pass the same checks.
# Each step builds against `make install` into a temporary prefix and runs its docker-run with
# commands fed to the shell on stdin: the container has its hostname and, on a bridge of its
# own (drmig0, 10.86.0.1/24, created here and removed after), its address and a default route
# via the gateway, and while the shell waits it answers a ping from the gateway (the static
# helper tests/helpers/probe.c, so that neither host nor rootfs needs ping). Everything created
# here is removed, also on failure. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the migration test"

REPO=$PWD
ROOTFS=$(realpath "${ROOTFS:-./rootfs}")
BRIDGE=drmig0
SUBNET=10.86.0.0/24
GATEWAY=10.86.0.1
IP=10.86.0.100
WORK=$(mktemp -d /tmp/migration.XXXXXX)
PREFIX=$WORK/prefix
DR=$REPO/docker-run

# Containers of step 3 that a failed run left (they have names), the bridge, veths the
# original-style docker.hpp made (drmv...), the NAT rules and leases the library kept for the
# bridge, the prefix.
cleanup() {
    local id link
    for id in migration-step3-shell migration-step3-other; do
        [ -e "/run/docker-run/names/$id" ] && "$DR" kill "$id" >/dev/null 2>&1
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^drmv'); do
        ip link del "$link" 2>/dev/null
    done
    ip link del "$BRIDGE" 2>/dev/null
    [ -x "$DR" ] && "$DR" cleanup >/dev/null 2>&1
    rm -rf "/run/docker-run/leases/$BRIDGE" "$WORK"
}
trap cleanup EXIT

if ip -o link show "$BRIDGE" >/dev/null 2>&1 || ip -4 -o route show | grep -q '^10\.86\.'; then
    fail "$BRIDGE and $SUBNET are free" "$(ip -o link show "$BRIDGE" 2>&1; ip -4 -o route show | grep '^10\.86\.')"
    summary
fi
[ -x "$DR" ] || { fail "docker-run is built (make container)"; summary; }

make -s install PREFIX="$PREFIX" >"$WORK/install.log" 2>&1
expect "make install PREFIX=... succeeds" 0 $?
[ -e "$PREFIX/include/network.h" ] && pass "network.h is installed" || fail "network.h is installed"

# The bridge the original expects to exist (it used Docker's docker0).
ip link add "$BRIDGE" type bridge && ip addr add "$GATEWAY/24" dev "$BRIDGE" && ip link set "$BRIDGE" up
expect "bridge $BRIDGE at $GATEWAY/24" 0 $?

SHELL_CMDS="hostname
ip -4 -o addr show eth0
cat /proc/net/route
cat /sys/class/net/eth0/address"
# The default route via the gateway, as /proc/net/route has it (little-endian hex).
GATEWAY_HEX=0100560A
build_probe "$WORK/probe" || fail "build tests/helpers/probe.c"

# step_dir NAME: a fresh directory for the step called NAME with the original's main.cpp.
step_dir() {
    local dir
    dir=$WORK/$(printf '%s' "$1" | tr -c 'A-Za-z0-9' _)
    mkdir -p "$dir" && cp tests/migration/original/main.cpp "$dir/"
    echo "$dir"
}

# build NAME DIR MAKE-ARGS...: runs the step's Makefile (its `all` target, as the original).
build() {
    local name=$1 dir=$2; shift 2
    if make -C "$dir" "$@" >"$dir/build.log" 2>&1 && [ -x "$dir/docker-run" ]; then
        pass "$name: builds"
        return 0
    fi
    sed 's/^/    /' "$dir/build.log" | tail -30
    fail "$name: builds"
    return 1
}

# run_shell DIR ADDR ARGS...: the step's docker-run with SHELL_CMDS on stdin, output in
# DIR/run.log. While the shell waits for more input, the gateway pings the container at ADDR
# (empty: the address the program prints as "ip ADDR"). Prints the exit status and whether
# the ping had a reply (yes/no).
run_shell() {
    local dir=$1 addr=$2 given=$2 main reply=no rc; shift 2
    (cd "$dir" && { printf '%s\n' "$SHELL_CMDS"; sleep 4; echo 'exit 0'; } |
        timeout -k 5 60 ./docker-run "$@" >run.log 2>&1) &
    main=$!
    for _ in $(seq 25); do
        sleep 0.2
        [ -n "$given" ] || addr=$(sed -n 's/^ip //p' "$dir/run.log" 2>/dev/null)
        [ -n "$addr" ] && "$WORK/probe/probe" ping "$addr" 300 >/dev/null 2>&1 && { reply=yes; break; }
    done
    wait "$main"
    rc=$?
    echo "$rc $reply"
}

# The container's veth pair goes with its network namespace, which the kernel tears down a
# little after the last process left: wait up to 30 s, then print what is left.
links_gone() {
    local i left
    for i in $(seq 60); do
        left=$(ip -o link show | grep -E "drmv|master $BRIDGE")
        [ -z "$left" ] && return
        sleep 0.5
    done
    echo "$left"
}

# check_container NAME DIR "RC REPLY": what a user sees from the original's main.cpp.
check_container() {
    local name=$1 dir=$2 rc=${3% *} reply=${3#* } out
    out=$(cat "$dir/run.log")
    sed 's/^/    /' <<<"$out"
    expect "$name: exits 0" 0 "$rc"
    expect_match "$name: main.cpp's messages" '^\.\.\.start container' "$out"
    expect_match "$name: stop message" 'stop container\.\.\.' "$out"
    expect "$name: hostname shiyanlou" shiyanlou "$(grep -x shiyanlou <<<"$out")"
    expect_match "$name: eth0 has $IP/24" "inet $IP/24" "$out"
    expect_match "$name: a default route via $GATEWAY on eth0" "^eth0[[:space:]]+00000000[[:space:]]+$GATEWAY_HEX" "$out"
    expect "$name: it answers a ping from the gateway" yes "$reply"
    expect "$name: no mount of the rootfs is left on the host" "" "$(grep -F " $ROOTFS/" /proc/self/mountinfo)"
    expect "$name: no veth is left" "" "$(links_gone)"
}

echo "=== step 0: the original, with the stand-in for the copied LXC C"
dir=$(step_dir "step 0")
cp tests/migration/original/docker.hpp tests/migration/original/Makefile "$dir/"
# LXC's network.h, as the original copied it: ours declares the same functions.
cp include/network.h "$dir/"
if build "step 0" "$dir" LXC="$REPO/c-legacy"; then
    [ -e "$dir/network.o" ] && [ -e "$dir/nl.o" ] && [ -e "$dir/lxc.o" ]
    expect "step 0: gcc compiled the C into the program" 0 $?
    expect "step 0: it does not link the library" "" "$(ldd "$dir/docker-run" | grep container_runtime)"
    rc=$(run_shell "$dir" "$IP" "$ROOTFS")
    check_container "step 0" "$dir" "$rc"
    expect_match "step 0: eth0 has new_hwaddr()'s MAC" '^00:16:3e:' "$(grep -E '^([0-9a-f]{2}:){5}' "$dir/run.log")"
fi

# step1 NAME PREFIX: the original's docker.hpp and main.cpp, network.c and nl.c deleted,
# linked against the library installed in PREFIX.
step1() {
    local name=$1 prefix=$2 dir rc
    dir=$(step_dir "$name")
    cp tests/migration/original/docker.hpp "$dir/"
    cp tests/migration/step1.mk "$dir/Makefile"
    cmp -s tests/migration/original/docker.hpp "$dir/docker.hpp"
    expect "$name: docker.hpp is the original's" 0 $?
    build "$name" "$dir" PREFIX="$prefix" || return
    expect_match "$name: it links the shared library" "libcontainer_runtime\.so\.0 => $prefix/lib" \
        "$(ldd "$dir/docker-run")"
    rc=$(run_shell "$dir" "$IP" "$ROOTFS")
    check_container "$name" "$dir" "$rc"
    expect_match "$name: eth0 has new_hwaddr()'s MAC" '^00:16:3e:' "$(grep -E '^([0-9a-f]{2}:){5}' "$dir/run.log")"
}

# step2 NAME PREFIX: the installed docker.hpp instead of the original's, main.cpp unchanged.
step2() {
    local name=$1 prefix=$2 dir rc
    dir=$(step_dir "$name")
    cp tests/migration/step2.mk "$dir/Makefile"
    cmp -s tests/migration/original/main.cpp "$dir/main.cpp"
    expect "$name: main.cpp is the original's" 0 $?
    build "$name" "$dir" PREFIX="$prefix" || return
    expect "$name: no network.h function is called any more" "" \
        "$(nm "$dir/docker-run" | grep -E ' U (lxc_|netdev_set_flag|setup_|new_hwaddr)')"
    rc=$(run_shell "$dir" "$IP" "$ROOTFS")
    check_container "$name" "$dir" "$rc"
}

# step3 NAME PREFIX BACKEND: a main.cpp on the rt:: API, limits and leases; the library it runs
# on names its netlink backend BACKEND.
step3() {
    local name=$1 prefix=$2 backend=$3 dir result out first second
    dir=$(step_dir "$name")
    cp tests/migration/step3/main.cpp tests/migration/step3/Makefile "$dir/"
    build "$name" "$dir" PREFIX="$prefix" || return
    result=$(run_shell "$dir" "" "$ROOTFS" "$BRIDGE" "$SUBNET")
    out=$(cat "$dir/run.log")
    sed 's/^/    /' <<<"$out"
    expect "$name: exits 0" 0 "${result% *}"
    expect "$name: the library's netlink backend is $backend" "$backend" "$(sed -n 's/^netlink //p' <<<"$out")"
    expect "$name: hostname shiyanlou" shiyanlou "$(grep -x shiyanlou <<<"$out")"
    first=$(sed -n 's/^ip //p' <<<"$out")
    second=$(sed -n 's/^second ip //p' <<<"$out")
    expect_match "$name: a leased address in $SUBNET" '^10\.86\.0\.[0-9]+$' "$first"
    expect_match "$name: eth0 has it" "inet $first/24" "$out"
    expect_match "$name: a second container gets another lease" '^10\.86\.0\.[0-9]+$' "$second"
    [ -n "$first" ] && [ "$first" != "$second" ]
    expect "$name: the two leases differ ($first, $second)" 0 $?
    expect "$name: the memory limit reads back" 67108864 "$(sed -n 's/^memory //p' <<<"$out")"
    expect_match "$name: a default route via $GATEWAY on eth0" "^eth0[[:space:]]+00000000[[:space:]]+$GATEWAY_HEX" "$out"
    expect "$name: it answers a ping from the gateway" yes "${result#* }"
    expect "$name: no container is left" "" "$("$DR" ps 2>/dev/null | grep migration-step3)"
}

echo "=== step 1: network.c and nl.c deleted, linked against libcontainer_runtime"
step1 "step 1" "$PREFIX"
echo "=== step 2: the installed docker.hpp instead of the original's, main.cpp unchanged"
step2 "step 2" "$PREFIX"
echo "=== step 3: the rt:: API: limits, bridge networking with leases"
step3 "step 3" "$PREFIX" c

echo "=== step 4: the Rust netlink backend (make NETLINK=rust), the same programs rebuilt"
# Built beside the default build (target-rust/, ./docker-run-rust: make container-rust) and
# installed into a prefix of its own; steps 1 to 3 rebuilt against it, unchanged, pass the same
# checks. Step 1's network.h functions are C in this library too (see docs/MIGRATION.md).
PREFIX_RUST=$WORK/prefix-rust
make -s container-rust >"$WORK/install-rust.log" 2>&1 &&
    make -s install NETLINK=rust CARGO_TARGET_DIR=target-rust DOCKER_RUN=docker-run-rust \
        PREFIX="$PREFIX_RUST" >>"$WORK/install-rust.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -30 "$WORK/install-rust.log" | sed 's/^/    /'
expect "step 4: make NETLINK=rust install PREFIX=... succeeds" 0 $rc
expect "step 4: its docker-run names the backend" "docker-run $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1) (netlink: rust)" \
    "$("$PREFIX_RUST/bin/docker-run" --version 2>&1)"
step1 "step 4 (step 1 rebuilt)" "$PREFIX_RUST"
step2 "step 4 (step 2 rebuilt)" "$PREFIX_RUST"
step3 "step 4 (step 3 rebuilt)" "$PREFIX_RUST" rust

cleanup
trap - EXIT
expect "the bridge is gone" "" "$(ip -o link show "$BRIDGE" 2>/dev/null)"
expect "no NAT rule for $SUBNET is left" "" "$(iptables -t nat -S 2>/dev/null | grep -F 10.86.0.0/24)"
summary
