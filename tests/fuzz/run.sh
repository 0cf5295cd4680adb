#!/usr/bin/env bash
# Fuzzes, with libFuzzer for a bounded time each, after replaying their kept corpora (seeds and
# every crasher ever found, as regression inputs):
#   config  the configuration side of the C ABI (tests/fuzz/fuzz_config.c, corpus tests/fuzz/corpus)
#   cli     docker-run's command-line parsing (tests/fuzz/fuzz_cli.cpp over cpp-demo/cli.hpp,
#           corpus tests/fuzz/corpus-cli)
#   tests/fuzz/run.sh [SECONDS]      (default 60; FUZZ_SECONDS works too; 0: replay only)
# The library is rebuilt into target/fuzz with SanitizerCoverage (stable rustc: -C passes=
# sancov-module, as cargo-fuzz does; --target keeps build scripts uninstrumented), so the fuzzer
# is guided by the Rust code's coverage; the harness is built with clang -fsanitize=fuzzer,
# address. A crash, leak or sanitizer report is written to tests/fuzz/corpus/ as crash-*/leak-*
# (keep it there once fixed: it is replayed on every run). Without clang's libFuzzer the corpus is
# still replayed with a gcc build (-DFUZZ_STANDALONE) and the fuzzing is a visible skip.
# Ends with `N passed, N failed`; non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

SECONDS_TO_FUZZ=${1:-${FUZZ_SECONDS:-60}}
CORPUS=tests/fuzz/corpus
OUT=target/fuzz
LIBS=(-lpthread -ldl -lm -lrt)
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
SANCOV="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=4
 -C llvm-args=-sanitizer-coverage-inline-8bit-counters -C llvm-args=-sanitizer-coverage-pc-table
 -C llvm-args=-sanitizer-coverage-trace-compares -C debug-assertions -C overflow-checks"

have_libfuzzer() {
    command -v clang >/dev/null &&
        printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$WORK/t.c" &&
        clang -fsanitize=fuzzer -o "$WORK/t" "$WORK/t.c" 2>/dev/null
}

if have_libfuzzer; then
    echo "=== build the instrumented library ($OUT/$TRIPLE/release)"
    if CARGO_TARGET_DIR=$OUT RUSTFLAGS="$SANCOV" timeout 900 cargo build --release \
        --target "$TRIPLE" -p container-runtime --lib >"$WORK/cargo.log" 2>&1; then
        pass "instrumented library builds"
    else
        tail -20 "$WORK/cargo.log"; fail "instrumented library builds"; summary
    fi
    # fuzz_one NAME COMPILER SOURCE CORPUS
    fuzz_one() {
        local name=$1 cc=$2 src=$3 corpus=$4 bin=$OUT/fuzz_$1
        if $cc -g -O1 -fsanitize=fuzzer,address -Iinclude -o "$bin" "$src" \
            "$OUT/$TRIPLE/release/libcontainer_runtime.a" "${LIBS[@]}" 2>"$WORK/cc.log"; then
            pass "$name: harness builds ($cc, libFuzzer + ASan)"
        else
            cat "$WORK/cc.log"; fail "$name: harness builds"; return
        fi
        echo "=== $name: replay $corpus"
        if timeout 300 "$bin" -runs=0 -rss_limit_mb=2048 "$corpus" >"$WORK/replay.log" 2>&1; then
            pass "$name: corpus replays clean ($(ls "$corpus" | wc -l) inputs)"
        else
            tail -30 "$WORK/replay.log"; fail "$name: corpus replays clean"
        fi
        [ "$SECONDS_TO_FUZZ" -gt 0 ] || return 0
        echo "=== $name: fuzz for $SECONDS_TO_FUZZ s"
        rm -rf "$WORK/corpus"; mkdir -p "$WORK/corpus"
        timeout -k 10 $((SECONDS_TO_FUZZ + 120)) "$bin" -max_total_time="$SECONDS_TO_FUZZ" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$corpus/" \
            "$WORK/corpus" "$corpus" >"$WORK/fuzz.log" 2>&1
        local rc=$?
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|DONE' "$WORK/fuzz.log" | sed 's/^/    /'
        if [ $rc = 0 ]; then
            pass "$name: no crash in $SECONDS_TO_FUZZ s"
        else
            grep -A30 -E '^==[0-9]+==ERROR|RT_STATUS_PANIC|panic through|deadly signal' "$WORK/fuzz.log" | head -40
            fail "$name: no crash in $SECONDS_TO_FUZZ s" "exit $rc; the input is in $corpus/ (crash-*/leak-*/timeout-*)"
        fi
    }
    fuzz_one config clang tests/fuzz/fuzz_config.c "$CORPUS"
    fuzz_one cli "clang++ -std=c++17" tests/fuzz/fuzz_cli.cpp tests/fuzz/corpus-cli
else
    echo "libFuzzer not available (apt-get install clang): replaying the corpus with gcc only"
    if gcc -std=c11 -g -DFUZZ_STANDALONE -Iinclude -o "$WORK/fuzz_replay" tests/fuzz/fuzz_config.c \
        target/release/libcontainer_runtime.a "${LIBS[@]}" 2>"$WORK/cc.log"; then
        if timeout 300 "$WORK/fuzz_replay" "$CORPUS"/*; then pass "corpus replays clean"; else fail "corpus replays clean"; fi
    else
        cat "$WORK/cc.log"; fail "replay harness builds"
    fi
    if g++ -std=c++17 -g -DFUZZ_STANDALONE -Iinclude -o "$WORK/fuzz_cli_replay" tests/fuzz/fuzz_cli.cpp \
        target/release/libcontainer_runtime.a "${LIBS[@]}" 2>"$WORK/cc.log"; then
        if timeout 300 "$WORK/fuzz_cli_replay" tests/fuzz/corpus-cli/*; then pass "cli corpus replays clean"; else fail "cli corpus replays clean"; fi
    else
        cat "$WORK/cc.log"; fail "cli replay harness builds"
    fi
    if [ "${CI:-}" = true ]; then fail "fuzzing" "clang with libFuzzer missing in CI"; else echo "skipped: fuzzing"; fi
fi
summary
