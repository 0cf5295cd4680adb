#!/usr/bin/env bash
# tests/oci-validation.sh: the OCI runtime-tools validation suite (validation/*.go, written by
# the OCI project, not by us) run against ./container-runtime as the binary under test.
# tests/deps.sh fetches its Debian source package and the Go packages; this script builds it
# offline (GOPATH mode, Debian's /usr/share/gocode, our tests/helpers/tap-go for the one
# library Debian lacks) into target/oci-validation/ and runs every test, each with its own
# --root and TMPDIR. The tests in PASS must pass whole (every TAP line ok); the others are run
# and reported with why they fail (KNOWN below), without failing the suite.
#   tests/oci-validation.sh [TEST...]       only these tests
#   REF=/usr/sbin/runc tests/oci-validation.sh --compare    also run runc, print both columns
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the OCI validation suite (containers, cgroups)"
RT=${RT:-$PWD/container-runtime}
RT_TOOLS_DIR=${RT_TOOLS_DIR:-/var/cache/container-runtime-tests/runtime-tools}
SRC=$RT_TOOLS_DIR/src
[ -x "$RT" ] || { fail "runtime $RT is built (make container)"; summary; }
[ -f "$SRC/validation/util/test.go" ] || { fail "runtime-tools source in $SRC (tests/deps.sh)"; summary; }
command -v go >/dev/null || { fail "go is installed (tests/deps.sh)"; summary; }
COMPARE=
[ "${1:-}" = --compare ] && { COMPARE=${REF:-$(command -v runc)}; shift; }

# Expected to pass whole on container-runtime.
PASS=(
    config_updates_without_affect create default delete_only_create_resources delete_resources
    hostname kill kill_no_effect killsig linux_cgroups_cpus linux_cgroups_devices
    linux_cgroups_pids linux_cgroups_relative_cpus linux_cgroups_relative_devices
    linux_cgroups_relative_pids linux_devices linux_masked_paths linux_mount_label
    linux_ns_nopath linux_ns_path linux_ns_path_type linux_process_apparmor_profile
    linux_readonly_paths linux_rootfs_propagation linux_sysctl linux_uid_mappings misc_props
    mounts process process_capabilities_fail process_oom_score_adj process_rlimits_fail
    process_user root_readonly_true state poststart_fail poststop poststop_fail
    prestart_fail
)
# Why the others fail; runc (1.1.5) fails each of them too, but where marked "ours".
declare -A KNOWN=(
    [delete]="expects delete of a created container to fail; runc and engines delete it"
    [hooks]="the suite's expected output is misspelt (post-start1 for 'post-start1 called'): never ok"
    [hooks_stdin]="expects prestart's state 'created', the spec now says 'creating'"
    [start]="expects create without process to succeed; runc and we refuse it at create"
    [poststart]="racy: the hook and the process both append to one file right after start; whichever runs first wins (our hook won once in CI under load; passes most runs)"
    [pidfile]="racy: it kills a container whose 'true' may have exited ('container not running')"
    [linux_seccomp]="the suite's own check fails the same way under runc"
    [process_rlimits]="runtimetest (Go 1.19) raises its own soft RLIMIT_NOFILE to the hard one"
    [process_capabilities]="the suite cannot build its config (exit 1 before any container)"
    [prestart]="expects prestart hooks at start (spec 1.0.2); runc and the spec now: at create"
    [linux_cgroups_blkio]="this kernel has no blkio.weight (bfq): runc fails to create too"
    [linux_cgroups_relative_blkio]="ours: blockIO IOPS throttles refused (runc: no blkio.weight here)"
    [linux_cgroups_hugetlb]="hugetlb is on the hybrid cgroup2 here: runc fails to create too"
    [linux_cgroups_relative_hugetlb]="hugetlb is on the hybrid cgroup2 here"
    [linux_cgroups_network]="no net_cls/net_prio hierarchy here: runc fails to create too"
    [linux_cgroups_relative_network]="no net_cls/net_prio hierarchy here"
    [linux_cgroups_memory]="ours: disableOOMKiller refused, reservation and swappiness ignored; runc: kernel memory (gone in Linux 6)"
    [linux_cgroups_relative_memory]="ours: disableOOMKiller refused"
    [linux_ns_itype]="ours: no mount namespace is refused (runc then mounts in the host's namespace)"
)

build=$PWD/target/oci-validation
work=$(mktemp -d /tmp/cr-validation.XXXXXX)
chmod 755 "$work"   # the user namespace tests' mapped root walks to its bundle
cleanup() {
    local r id
    for r in "$work"/root-*; do
        [ -d "$r" ] || continue
        for id in $(ls "$r" 2>/dev/null); do
            "$RT" --root "$r" delete --force "$id" >/dev/null 2>&1
            [ -n "$COMPARE" ] && "$COMPARE" --root "$r" delete --force "$id" >/dev/null 2>&1
        done
    done
    # The suite's cgroupsPaths (absolute /cgrouptest, relative testdir/cgrouptest/container).
    for d in /sys/fs/cgroup/*/cgrouptest /sys/fs/cgroup/*/container-runtime/testdir/cgrouptest/container \
             /sys/fs/cgroup/*/container-runtime/testdir/cgrouptest /sys/fs/cgroup/*/container-runtime/testdir; do
        [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Build: GOPATH mode, no network (GOPROXY=off), the cache under target/.
echo "--- build (runtime-tools $(cat "$SRC/VERSION" 2>/dev/null))"
gopath=$build/gopath
mkdir -p "$gopath/src/github.com/opencontainers" "$gopath/src/github.com/mndrix" "$build/bin"
ln -sfn "$SRC" "$gopath/src/github.com/opencontainers/runtime-tools"
ln -sfn "$PWD/tests/helpers/tap-go" "$gopath/src/github.com/mndrix/tap-go"
export GOPATH=$gopath:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$build/gocache
TESTS=("$@")
[ ${#TESTS[@]} -eq 0 ] && TESTS=($(cd "$SRC/validation" && ls -d */ | tr -d / | grep -vx util))
(cd "$gopath/src/github.com/opencontainers/runtime-tools" &&
    CGO_ENABLED=0 go build -o "$build/bin/runtimetest" ./cmd/runtimetest) ||
    { fail "build runtimetest"; summary; }
for t in "${TESTS[@]}"; do
    (cd "$gopath/src/github.com/opencontainers/runtime-tools" &&
        go build -o "$build/bin/$t.t" "./validation/$t/$t.go") || fail "build validation/$t"
done

# run_one RUNTIME NAME TEST: the test's TAP in $work/NAME-TEST.tap; prints its ok and not ok
# counts, its exit status and whether it passed whole: every TAP line ok, or, for the tests that
# print none (the hook tests, the *_fail ones), exit 0 and no error diagnostic.
# The runtime is a wrapper with its own --root; cwd holds the rootfs tarball and runtimetest.
run_one() {
    local rt=$1 name=$2 t=$3 wrap=$work/$2-runtime
    if [ ! -x "$wrap" ]; then
        printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$rt" "$work/root-$name" >"$wrap"
        chmod +x "$wrap"
        mkdir -p "$work/root-$name" "$work/tmp-$name" "$work/cwd"
        chmod 755 "$work/tmp-$name"
        cp "$SRC"/rootfs-*.tar.gz "$build/bin/runtimetest" "$work/cwd/"
    fi
    (cd "$work/cwd" && RUNTIME=$wrap TMPDIR=$work/tmp-$name timeout 180 "$build/bin/$t.t" \
        >"$work/$name-$t.tap" 2>&1)
    local rc=$? ok notok whole=no
    ok=$(grep -c '^ok' "$work/$name-$t.tap")
    notok=$(grep -c '^not ok' "$work/$name-$t.tap")
    if [ "$rc" = 0 ] && [ "$notok" = 0 ]; then
        if [ "$ok" -gt 0 ] || ! grep -q '"error":' "$work/$name-$t.tap"; then whole=yes; fi
    fi
    echo "$ok $notok $rc $whole"
}

in_pass() { [[ " ${PASS[*]} " == *" $1 "* ]]; }

echo "--- run"
[ -n "$COMPARE" ] && printf '%-34s %-16s %s\n' test container-runtime "runc ($COMPARE)"
for t in "${TESTS[@]}"; do
    [ -x "$build/bin/$t.t" ] || continue
    read -r ok notok rc whole < <(run_one "$RT" ours "$t")
    if [ -n "$COMPARE" ]; then
        read -r rok rnotok rrc rwhole < <(run_one "$COMPARE" ref "$t")
        printf '%-34s %-24s %s\n' "$t" "$([ $whole = yes ] && echo pass || echo FAIL) ($ok/$notok rc=$rc)" \
            "$([ $rwhole = yes ] && echo pass || echo FAIL) ($rok/$rnotok rc=$rrc)"
    fi
    if in_pass "$t"; then
        if [ $whole = yes ]; then
            pass "validation/$t ($ok TAP ok)"
        else
            fail "validation/$t" "$ok ok, $notok not ok, exit $rc: $(grep -m3 -A3 '^not ok\|level=error' "$work/ours-$t.tap" | tr '\n' ' ' | cut -c1-400)"
        fi
    else
        echo "     not expected to pass: validation/$t ($ok ok, $notok not ok, exit $rc): ${KNOWN[$t]:-no reason recorded}"
        [ $whole = yes ] && echo "     (it passes now: add it to PASS)"
    fi
done
summary
