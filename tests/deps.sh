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
    # tests/oci-validation.sh: the OCI runtime-tools validation suite, built offline from its
    # Debian source package (fetched below) with Debian's Go and these libraries
    golang-go
    golang-github-blang-semver-dev
    golang-github-google-uuid-dev
    golang-github-hashicorp-go-multierror-dev
    golang-github-mrunalp-fileutils-dev
    golang-github-opencontainers-specs-dev
    golang-github-opencontainers-selinux-dev
    golang-github-sirupsen-logrus-dev
    golang-gocapability-dev
    golang-github-urfave-cli-dev
    golang-github-xeipuuv-gojsonschema-dev
    golang-golang-x-sys-dev
)

# The runtime-tools source (its validation/ suite is in no binary package): Debian's source
# package, the trixie version (bookworm's orig tarball is missing from the mirror; this one
# builds with bookworm's Go 1.19), unpacked where tests/oci-validation.sh looks for it.
RT_TOOLS_PKG=golang-github-opencontainers-runtime-tools
RT_TOOLS_VERSION=0.9.0.109.ge931285-1
RT_TOOLS_DIR=${RT_TOOLS_DIR:-/var/cache/container-runtime-tests/runtime-tools}

if [ "${1:-}" = --list ]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi

# fetch_runtime_tools: the source into $RT_TOOLS_DIR/src, once. A deb-src line of our own for
# the Debian mirror apt already uses; apt-get source --download-only (no dpkg-source needed:
# the orig tarball is the upstream tree, Debian's patches touch only its unit tests).
fetch_runtime_tools() {
    [ -f "$RT_TOOLS_DIR/src/validation/util/test.go" ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "tests/deps.sh: the runtime-tools source is missing ($RT_TOOLS_DIR/src); as root this script fetches it" >&2
        return 1
    fi
    local mirror list=/etc/apt/sources.list.d/container-runtime-tests-src.sources
    mirror=$(grep -h '^URIs:.*/debian$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')
    [ -n "$mirror" ] || mirror=$(grep -h '^deb .*/debian ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
    [ -n "$mirror" ] || { echo "tests/deps.sh: no Debian mirror in apt's sources" >&2; return 1; }
    [ -f "$list" ] || printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" >"$list"
    mkdir -p "$RT_TOOLS_DIR" && rm -rf "$RT_TOOLS_DIR/src" "$RT_TOOLS_DIR"/*.tar.* || return 1
    apt-get update -qq >/dev/null 2>&1
    (cd "$RT_TOOLS_DIR" && apt-get source -qq --download-only "$RT_TOOLS_PKG=$RT_TOOLS_VERSION" >/dev/null 2>&1)
    local orig
    orig=$(ls "$RT_TOOLS_DIR/${RT_TOOLS_PKG}_"*.orig.tar.* 2>/dev/null | head -1)
    [ -n "$orig" ] || { echo "tests/deps.sh: apt-get source $RT_TOOLS_PKG=$RT_TOOLS_VERSION fetched nothing" >&2; return 1; }
    mkdir -p "$RT_TOOLS_DIR/src" && tar -xf "$orig" -C "$RT_TOOLS_DIR/src" --strip-components=1 || return 1
    [ -f "$RT_TOOLS_DIR/src/validation/util/test.go" ]
}

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
if [ -z "$todo" ]; then
    fetch_runtime_tools
    exit $?
fi
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
fetch_runtime_tools
