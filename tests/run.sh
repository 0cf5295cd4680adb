#!/usr/bin/env bash
# The test command (`make test` runs it after `make container`): every tier, in order.
#   1. formatting and lints (cargo fmt --check, clippy -D warnings), cargo tests: unit tests on
#      fakes and temp dirs, and the root tier (real kernel) as root; clippy and the cargo tests
#      again with the Rust netlink backend (feature netlink-rust, in target-rust/), and its
#      build, ./docker-run-rust (make container-rust)
#   2. generated files current: the C header (cbindgen) and the netlink bindings (bindgen)
#   3. the C ABI, C++ wrapper and original-project tests (tests/abi.sh)
#   4. make install and a C program built against it with pkg-config (tests/install.sh); the
#      original project's migration, step by step, against the installed library
#      (tests/migration.sh, docs/MIGRATION.md)
#   5. docker-run end to end (tests/e2e.sh), a Docker user's day (tests/daily.sh: -d, logs, inspect,
#      ps -a, start, rm, restart policies), and the e2e network part with ./docker-run-rust;
#      images made by podman and tests/helpers/mkimage.sh, loaded and run (tests/images.sh)
#   6. escape attempts (tests/escape.sh, tests/escape-process.sh); faults, SIGKILL during start, load, 1000 containers
#      under valgrind and ASan (tests/stress.sh), and the load with ./docker-run-rust; the fuzz
#      corpus replayed (tests/fuzz/run.sh 0)
#   7. a smoke run of the benchmark (bench/run.sh with N=3)
# Ends with `N passed, N failed` over the suites; non-zero when any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh

# The suites start containers on the default bridge, which stays between containers like
# Docker's docker0. At the end, cleanup takes what dead containers left (cgroup parents, NAT
# rules of an idle bridge) in any case; the bridge goes too when this run created it.
had_bridge=$(ip -o link show docker-run0 2>/dev/null)
clean_up_after_run() {
    ./docker-run cleanup >/dev/null 2>&1
    [ -n "$had_bridge" ] || ip link del docker-run0 2>/dev/null
}
trap clean_up_after_run EXIT

suite() {
    local name=$1; shift
    echo "=== $name: $*"
    if "$@"; then pass "$name"; else fail "$name"; fi
}

suite "cargo fmt --check" cargo fmt --all --check
suite "cargo clippy -D warnings" cargo clippy --workspace --all-targets -q -- -D warnings
suite "cargo clippy -D warnings (netlink-rust)" cargo clippy --workspace --all-targets -q \
    --features container-runtime/netlink-rust -- -D warnings
suite "module graph and function length" python3 tests/lint_modules.py
# The root tier of the cargo tests (real namespaces, cgroups, links) is the test_as_root
# feature: without it those tests show as ignored. In CI (CI=true, as root) a skip is a failure.
# The second run builds with the Rust netlink backend (make NETLINK=rust) in its own target
# dir: the runtime's networking, the child's included, goes through it, and net::conformance
# runs both backends.
RUST_TARGET=target-rust
if [ "$(id -u)" -eq 0 ]; then
    suite "cargo test (root tier included)" cargo test --release -p container-runtime \
        --features test_as_root -- --test-threads=2
    suite "cargo test, netlink-rust (root tier included)" env CARGO_TARGET_DIR=$RUST_TARGET \
        cargo test --release -p container-runtime --features test_as_root,netlink-rust -- --test-threads=2
else
    suite "cargo test (no root: root tier ignored)" cargo test --release -p container-runtime \
        -- --test-threads=2
    suite "cargo test, netlink-rust (no root: root tier ignored)" env CARGO_TARGET_DIR=$RUST_TARGET \
        cargo test --release -p container-runtime --features netlink-rust -- --test-threads=2
    if [ "${CI:-}" = true ]; then fail "cargo root tier" "CI=true needs root: the root tests did not run"; fi
fi
suite "build with NETLINK=rust (make container-rust)" make -s container-rust
suite "header is current" cargo run -q -p codegen -- header --check

# bindgen needs libclang; CI installs it (libclang-dev), elsewhere a missing one is a visible skip.
echo "=== bindings are current"
cargo run -q -p codegen -- bindings --check
case $? in
    0) pass "bindings are current" ;;
    3) if [ "${CI:-}" = true ]; then fail "bindings are current" "libclang missing in CI"
       else echo "skipped: bindings check needs libclang (apt-get install libclang-dev)"; fi ;;
    *) fail "bindings are current" ;;
esac

suite "C/C++ ABI" tests/abi.sh
suite "install and pkg-config" tests/install.sh
suite "migration of the original project" tests/migration.sh
suite "docker-run end to end" env NETLINK="${NETLINK:-c}" tests/e2e.sh
suite "docker-run as a daily Docker (-d, logs, inspect, ps -a, start, rm, restart)" tests/daily.sh
suite "docker-run end to end, network part, NETLINK=rust" env DR=./docker-run-rust NETLINK=rust \
    tests/e2e.sh --only network
suite "images: podman's archives into the store, docker-run load and run IMAGE" tests/images.sh
# The OCI runtime: directly, through podman and through containerd's shim; compared with runc;
# under the OCI project's own validation suite (built from its Debian source package).
suite "container-runtime (OCI): cli, podman, containerd" tests/oci.sh
suite "container-runtime against runc: what the process sees, the state" tests/oci-conformance.sh
suite "container-runtime under the OCI runtime-tools validation suite" tests/oci-validation.sh
suite "escape attempts" tests/escape.sh
suite "escape attempts: processes (seccomp, keyrings, host binary, state, pids)" tests/escape-process.sh
suite "faults, SIGKILL, load, C API under valgrind/ASan" tests/stress.sh
suite "load, NETLINK=rust" env DR=./docker-run-rust tests/stress.sh --only load
suite "fuzz corpus replay" tests/fuzz/run.sh 0
# The bench runs in `make bench`; here only a smoke run with N=3 (no timing is asserted).
suite "bench smoke test (N=3)" env N=3 CONC=5 CONC_REPS=1 RSS_N=1 bench/run.sh
summary
