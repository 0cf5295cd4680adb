#!/usr/bin/env bash
# tests/deps.sh: the packages the test command needs, in one place (`make test` and .ci/run run
# this). On Debian or Ubuntu, as root, it installs the missing ones; otherwise it names them in
# one line and fails. Building and running docker-run need none of them.
#   tests/deps.sh           install what is missing (root), or fail naming it
#   tests/deps.sh --list    print the list
set -uo pipefail

# Debian package names, and why the tests need each.
PACKAGES=(
    iproute2           # ip: the tests' own network namespaces and veths
    iptables           # NAT and published ports
    procps             # ps, pgrep in the suites
    bsdutils           # script(1): the TTY tests
    util-linux         # flock, findmnt, unshare
    python3            # the "outside host" peer in the network tests; the code checks
    libc6-dev          # static test helpers (tests/helpers/probe.c, gcc -static)
    pkg-config         # the install test
    valgrind           # the C ABI under memcheck
    libclang-dev       # bindgen: the bindings drift check
    clang              # the libFuzzer harnesses (corpus replay)
    libclang-rt-dev    # clang's sanitizer runtime (ASan, libFuzzer)
    crun               # bench peers
    runc               # bench peer; the reference of tests/oci-conformance.sh
    conmon             # podman's monitor (tests/oci.sh)
    containernetworking-plugins   # podman's networks (CNI) in tests/oci.sh
    containerd         # tests/oci.sh: containerd, ctr and the runc v2 shim
    bubblewrap
    time               # GNU time: the bench's peak RSS
    gnuplot-nox        # the bench's plot
    podman             # tests/images.sh: images imported and saved as docker and OCI archives
                       # (as root, import and save only: its dependencies conmon and
                       # containers-common come along; no uidmap or skopeo needed)
)

if [ "${1:-}" = --list ]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "tests/deps.sh: not a Debian or Ubuntu system; make sure the equivalents of these are installed: ${PACKAGES[*]}" >&2
    exit 0
fi

missing() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || printf '%s ' "$p"
    done
}

todo=$(missing)
[ -z "$todo" ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/deps.sh: missing packages: ${todo% } (as root: apt-get install ${todo% })" >&2
    exit 1
fi
echo "tests/deps.sh: installing ${todo% }" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
log=$(mktemp /tmp/deps-install.XXXXXX)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $todo; } >"$log" 2>&1; then
    tail -5 "$log" >&2
    echo "tests/deps.sh: could not install: $(missing)" >&2
    exit 1
fi
todo=$(missing)
if [ -n "$todo" ]; then
    echo "tests/deps.sh: still missing after apt-get install: ${todo% }" >&2
    exit 1
fi
