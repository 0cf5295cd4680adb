#!/usr/bin/env bash
# bench/run.sh - container start-to-exit latency, peak memory and concurrency of docker-run
# against crun, runc, bwrap and the bare `unshare` floor, on the same root filesystem.
#
# Every row runs `/bin/true` in a fresh container. The rows are interleaved: each iteration
# runs every row once, in a freshly shuffled order, so drift and noise hit all rows alike.
# Compare ratios from ONE run; absolute times from different runs are not comparable.
# (The approach, the OCI bundle and the hybrid-cgroup workaround come from
# ../shared/bench/peers.sh.)
#
# Rows (names usable in SKIP=):
#   unshare      unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true
#                The floor: namespaces + chroot; no pivot_root, no mounts, no cgroup.
#   bwrap        bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev /bin/true
#   crun         crun run, OCI bundle equivalent to docker-run --network none (see below)
#   crun-cg      the same plus memory 64m and pids 128 (as dr-limits)
#   runc         runc run, same bundle as crun
#   cr-oci       ./container-runtime run, same bundle as crun (the OCI front end over the core)
#   dr-none      ./docker-run --network none /bin/true
#   dr-bridge    ./docker-run /bin/true            (bridge networking, docker-run's default)
#   dr-bridge-rust  the same with ./docker-run-rust, built with the Rust netlink backend
#                (make container-rust); reported against dr-bridge (C backend)
#   dr-limits    ./docker-run --network none -m 64m --pids-limit 128 /bin/true
#   dr-shared    ./docker-run --network none --rootfs-shared /bin/true: no overlay (the rootfs
#                itself as the root), so dr-none minus it is the overlay's cost
#   dr-unconfined  ./docker-run --network none --security-opt seccomp=unconfined /bin/true:
#                no seccomp profile, so dr-none minus it is the profile's cost
#   cabi         bench/c_loop.c: ONE long-lived process that starts and waits a container
#                through the C ABI for every iteration (network none) and times it inside
#                (CLOCK_MONOTONIC around config_new..container_free): the library's own cost,
#                without docker-run's process start. Same shuffle as every other row.
#   cabi-bridge  the same with bridge networking
#
# The OCI bundle (crun, runc) is made to do what docker-run does: namespaces pid, mount,
# uts, ipc, network AND cgroup; pivot_root; /proc, /dev (tmpfs) with the default device
# nodes, /dev/pts, /dev/shm, /dev/mqueue, /sys read-only; Docker's masked paths and
# read-only paths; Docker's default capability set, no_new_privs; a cgroup in every v1
# controller with a deny-all-then-default device list. What still differs: docker-run
# also records state in /run/docker-run (two small files) and resets signal handlers;
# crun/runc write their own state dir and parse JSON; bridge networking has no crun
# counterpart (crun leaves networking to CNI) so dr-bridge is compared with crun's
# no-network median, as the targets say.
#
# After the latency passes: peak RSS (GNU time %M, median of RSS_N runs) and concurrency
# (CONC containers started at once, time until all have exited, median of CONC_REPS).
#
# Usage (as root):   make bench            or   N=3 bench/run.sh   (smoke test)
#
# Environment:
#   N          timed runs per row and pass (default 50)
#   WARMUP     untimed runs per row first (default 2; also a sanity check)
#   GAP_MS     comma-separated idle pauses before each run, one pass each, in ms
#              (default "0,50": back to back, then with 50 ms gaps)
#   SKIP       comma-separated rows to skip; also "rss" and "conc" skip those parts
#   SEED       seed of the per-iteration shuffle (default 1)
#   ROOTFS     root filesystem of every row (default: the repository's ./rootfs)
#   CONC       containers started at once in the concurrency test (default 50)
#   CONC_REPS  repetitions of it (default 3)
#   RSS_N      runs per command for peak RSS (default 5)
#   OUT        output directory (default bench/out; git-ignored)
#   PUBLISH    copy the plot to bench/latency.svg (default 1 when N >= 50, else 0, so a
#              smoke test does not overwrite the committed plot)
#
# Output: a table per pass on stdout (also bench/out/results.txt and results.md),
# raw samples bench/out/samples.csv, the plot bench/out/latency.svg.
# Everything created is removed at exit: the bench cgroups (docker-run-bench in each
# controller), crun/runc state (/run/docker-run-bench), containers. docker-run's own
# persistent host state (bridge docker-run0 and its NAT rule, the /sys/fs/cgroup/*/docker-run
# parents, /run/docker-run) is docker-run's, exists as after any docker-run use, and stays.

set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOP=$(dirname "$HERE")
N=${N:-50}
WARMUP=${WARMUP:-2}
GAP_MS=${GAP_MS:-0,50}
SKIP=${SKIP:-}
SEED=${SEED:-1}
ROOTFS=${ROOTFS:-$TOP/rootfs}
CONC=${CONC:-50}
CONC_REPS=${CONC_REPS:-3}
RSS_N=${RSS_N:-5}
OUT=${OUT:-$HERE/out}
DOCKER_RUN=$TOP/docker-run
DOCKER_RUN_RUST=$TOP/docker-run-rust
OCI_RT=$TOP/container-runtime
STATE_DIR=/run/docker-run-bench
CG_NAME=docker-run-bench
if [[ -z ${PUBLISH:-} ]]; then PUBLISH=0; [[ $N -ge 50 ]] && PUBLISH=1; fi

die() { echo "bench/run.sh: $*" >&2; exit 1; }
case ${1:-} in
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    "") ;;
    *) die "no arguments expected (configure with environment variables; see --help)" ;;
esac
[[ ${BASH_VERSINFO[0]} -ge 5 ]] || die "bash >= 5 is required (for \$EPOCHREALTIME)"
[[ $EUID -eq 0 ]] || die "must run as root"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer (got '$N')"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer"
[[ $GAP_MS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "GAP_MS must be a comma-separated list of integers"
[[ $CONC =~ ^[1-9][0-9]*$ && $CONC_REPS =~ ^[1-9][0-9]*$ && $RSS_N =~ ^[1-9][0-9]*$ ]] ||
    die "CONC, CONC_REPS and RSS_N must be positive integers"
ROOTFS=$(readlink -f "$ROOTFS")
[[ -x $ROOTFS/bin/true ]] || die "no $ROOTFS/bin/true: run 'make container' first (or set ROOTFS)"
[[ -x $DOCKER_RUN ]] || die "no $DOCKER_RUN: run 'make container' first"

skipped() { [[ ,$SKIP, == *,$1,* ]]; }
ALL_ROWS=(unshare bwrap crun crun-cg runc cr-oci dr-none dr-bridge dr-bridge-rust dr-limits dr-shared dr-unconfined cabi cabi-bridge)
ROWS=()
for row in "${ALL_ROWS[@]}"; do
    skipped "$row" && continue
    case $row in
        unshare) tools=(unshare chroot) ;;
        bwrap) tools=(bwrap) ;;
        crun|crun-cg) tools=(crun) ;;
        runc) tools=(runc) ;;
        cabi*) tools=(gcc) ;;
        *) tools=() ;;
    esac
    [[ $row != cr-oci || -x $OCI_RT ]] ||
        die "no $OCI_RT: run 'make container' first (or SKIP=cr-oci)"
    [[ $row != dr-bridge-rust || -x $DOCKER_RUN_RUST ]] ||
        die "no $DOCKER_RUN_RUST: run 'make container-rust' first (or SKIP=dr-bridge-rust)"
    for t in "${tools[@]}"; do
        command -v "$t" >/dev/null || die "'$t' not found (needed by row $row; install it or SKIP=$row)"
    done
    ROWS+=("$row")
done
[[ ${#ROWS[@]} -gt 0 ]] || die "nothing to run"
HAVE_GNUPLOT=1; command -v gnuplot >/dev/null || HAVE_GNUPLOT=0
TIME_BIN=/usr/bin/time
skipped rss || [[ -x $TIME_BIN ]] || die "GNU time missing (apt-get install -y time) or SKIP=rss"

# --- Hybrid cgroup hosts (from peers.sh) ----------------------------------------------
# crun refuses to create cgroups on a hybrid host whose cgroup2 mount has controllers
# enabled. The script re-runs itself in a private mount namespace and covers
# /sys/fs/cgroup/unified with an empty tmpfs there, so every row (docker-run included:
# it then sees a plain v1 host and uses the same v1 controllers it uses on hybrid) sees
# a plain cgroup v1 host. Nothing outside this script's processes is affected.
cgmode=v1
[[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && cgmode=v2
[[ $cgmode == v1 && $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]] &&
    cgmode="v1 hybrid, cgroup2 controllers: $(cat /sys/fs/cgroup/unified/cgroup.controllers)"
if [[ $cgmode == "v1 hybrid, cgroup2 controllers: "?* ]]; then
    if [[ -z ${BENCH_PARENT_MNTNS:-} ]]; then
        BENCH_PARENT_MNTNS=$(readlink /proc/self/ns/mnt) \
            exec unshare --mount --propagation private -- "$BASH" "$(readlink -f "$0")" "$@"
    fi
    [[ $(readlink /proc/self/ns/mnt) != "$BENCH_PARENT_MNTNS" ]] ||
        die "internal error: not in a private mount namespace"
    mount -t tmpfs -o size=1m,mode=0755 docker-run-bench /sys/fs/cgroup/unified ||
        die "cannot hide /sys/fs/cgroup/unified"
    cgmode+=" (hidden from all rows by a private mount ns)"
    UNIFIED_HIDDEN=1
fi

mkdir -p "$OUT"
# A private copy: a concurrent `make container` must not swap the binary mid-run.
cp "$DOCKER_RUN" "$OUT/docker-run.tmp" && mv -f "$OUT/docker-run.tmp" "$OUT/docker-run"
DOCKER_RUN=$OUT/docker-run
if [[ " ${ROWS[*]} " == *" dr-bridge-rust "* ]]; then
    cp "$DOCKER_RUN_RUST" "$OUT/docker-run-rust.tmp" && mv -f "$OUT/docker-run-rust.tmp" "$OUT/docker-run-rust"
    DOCKER_RUN_RUST=$OUT/docker-run-rust
fi
if [[ " ${ROWS[*]} " == *" cr-oci "* ]]; then
    cp "$OCI_RT" "$OUT/container-runtime.tmp" && mv -f "$OUT/container-runtime.tmp" "$OUT/container-runtime"
    OCI_RT=$OUT/container-runtime
fi
SAMPLES=$OUT/samples.csv
ERR=$OUT/last-stderr.txt
BUNDLE=$OUT/bundle
BUNDLE_CG=$OUT/bundle-cg
FIFO_DIR=$OUT/fifo.$$
CLOOP=$OUT/c_loop

# --- OCI bundles: equivalent to docker-run --network none --------------------------
write_config() {  # DIR CGROUPS_PATH EXTRA_RESOURCES
    mkdir -p "$1"
    local caps='"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
        "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"'
    cat >"$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/true" ],
    "env": [ "PATH=/usr/sbin:/usr/bin:/sbin:/bin" ],
    "cwd": "/",
    "capabilities": { "bounding": [ $caps ], "effective": [ $caps ], "permitted": [ $caps ] },
    "noNewPrivileges": true
  },
  "root": { "path": "$ROOTFS", "readonly": false },
  "hostname": "container",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] }
  ],
  "linux": {
    "cgroupsPath": "$2",
    "resources": {
      "devices": [ { "allow": false, "access": "rwm" } ]$3
    },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
    ],
    "maskedPaths": [ "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
      "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap" ],
    "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
      "/proc/sysrq-trigger" ]
  }
}
EOF
}

# --- Cleanup: only what this script created ------------------------------------------
CLOOP_PIDS=()
cleanup() {
    local rt d id pid
    for pid in "${CLOOP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$FIFO_DIR"
    for rt in crun runc; do
        [[ -d $STATE_DIR/$rt ]] || continue
        for d in "$STATE_DIR/$rt"/db-*; do
            [[ -d $d ]] || continue
            id=${d##*/}
            "$rt" --root "$STATE_DIR/$rt" delete -f "$id" >/dev/null 2>&1 || true
        done
    done
    for d in "$STATE_DIR/cr"/db-*; do
        [[ -d $d ]] && "$OCI_RT" --root "$STATE_DIR/cr" delete -f "${d##*/}" >/dev/null 2>&1
    done
    for d in /sys/fs/cgroup/"$CG_NAME" /sys/fs/cgroup/*/"$CG_NAME"; do
        [[ -d $d ]] || continue
        [[ -n ${UNIFIED_HIDDEN:-} && $d == /sys/fs/cgroup/unified/* ]] && continue
        find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [[ -d $d ]] && echo "bench/run.sh: warning: could not remove cgroup $d" >&2
    done
    rm -rf "$STATE_DIR/crun" "$STATE_DIR/runc" "$STATE_DIR/cr"
    rmdir "$STATE_DIR" 2>/dev/null || true
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Commands ------------------------------------------------------------------------------
q() { printf '%q' "$1"; }
declare -A CMD
CMD[unshare]="unshare --pid --fork --mount --uts --ipc --net chroot $(q "$ROOTFS") /bin/true"
CMD[bwrap]="bwrap --unshare-all --bind $(q "$ROOTFS") / --proc /proc --dev /dev /bin/true"
CMD[crun]="crun --root $STATE_DIR/crun run --bundle $(q "$BUNDLE") {id}"
CMD[crun-cg]="crun --root $STATE_DIR/crun run --bundle $(q "$BUNDLE_CG") {id}"
CMD[runc]="runc --root $STATE_DIR/runc run --bundle $(q "$BUNDLE") {id}"
CMD[cr-oci]="$(q "$OCI_RT") --root $STATE_DIR/cr run --bundle $(q "$BUNDLE") {id}"
CMD[dr-none]="$(q "$DOCKER_RUN") --rootfs $(q "$ROOTFS") --network none /bin/true"
CMD[dr-bridge]="$(q "$DOCKER_RUN") --rootfs $(q "$ROOTFS") /bin/true"
CMD[dr-bridge-rust]="$(q "$DOCKER_RUN_RUST") --rootfs $(q "$ROOTFS") /bin/true"
CMD[dr-limits]="$(q "$DOCKER_RUN") --rootfs $(q "$ROOTFS") --network none -m 64m --pids-limit 128 /bin/true"
CMD[dr-shared]="$(q "$DOCKER_RUN") --rootfs $(q "$ROOTFS") --network none --rootfs-shared /bin/true"
CMD[dr-unconfined]="$(q "$DOCKER_RUN") --rootfs $(q "$ROOTFS") --network none --security-opt seccomp=unconfined /bin/true"

declare -A CL_IN CL_OUT
start_cloop() {  # ROW: a long-lived c_loop serving one container per input line
    local row=$1 flag=() in out
    [[ $row == cabi-bridge ]] && flag=(-b)
    mkdir -p "$FIFO_DIR"
    mkfifo "$FIFO_DIR/$row.in" "$FIFO_DIR/$row.out"
    "$CLOOP" "${flag[@]}" "$ROOTFS" <"$FIFO_DIR/$row.in" >"$FIFO_DIR/$row.out" 2>>"$OUT/c_loop-stderr.txt" &
    CLOOP_PIDS+=($!)
    exec {in}>"$FIFO_DIR/$row.in" {out}<"$FIFO_DIR/$row.out"
    CL_IN[$row]=$in; CL_OUT[$row]=$out
}

ELAPSED_US=0
run_row() {  # ROW ID: one container; sets ELAPSED_US; aborts with its stderr on failure
    local row=$1 id=$2 cmd t0 t1 rc=0 us st
    if [[ $row == cabi* ]]; then
        echo go >&"${CL_IN[$row]}"
        read -r -t 60 us st <&"${CL_OUT[$row]}" || die "row $row: no answer from c_loop (see $OUT/c_loop-stderr.txt)"
        [[ $st == 0 ]] || die "row $row: container exited $st (see $OUT/c_loop-stderr.txt)"
        ELAPSED_US=$us
        return 0
    fi
    cmd=${CMD[$row]//\{id\}/$id}
    t0=$EPOCHREALTIME
    eval "$cmd" </dev/null >/dev/null 2>"$ERR" || rc=$?
    t1=$EPOCHREALTIME
    ELAPSED_US=$(( ${t1/./} - ${t0/./} ))
    case $row in
        crun|crun-cg) [[ ! -d $STATE_DIR/crun/$id ]] || crun --root "$STATE_DIR/crun" delete -f "$id" >/dev/null 2>&1 || true ;;
        runc) [[ ! -d $STATE_DIR/runc/$id ]] || runc --root "$STATE_DIR/runc" delete -f "$id" >/dev/null 2>&1 || true ;;
        cr-oci) [[ ! -d $STATE_DIR/cr/$id ]] || "$OCI_RT" --root "$STATE_DIR/cr" delete -f "$id" >/dev/null 2>&1 || true ;;
    esac
    if [[ $rc -ne 0 ]]; then
        echo "bench/run.sh: row $row failed (exit $rc): $cmd" >&2
        sed 's/^/  | /' "$ERR" >&2
        exit 1
    fi
}

# --- Prepare -------------------------------------------------------------------------------
cleanup
mkdir -p "$STATE_DIR/crun" "$STATE_DIR/runc" "$STATE_DIR/cr"
: >"$OUT/c_loop-stderr.txt"
write_config "$BUNDLE" "/$CG_NAME/plain" ""
write_config "$BUNDLE_CG" "/$CG_NAME/limits" ',
      "memory": { "limit": 67108864 },
      "pids": { "limit": 128 }'
if [[ " ${ROWS[*]} " == *" cabi"* ]]; then
    lib=$TOP/target/release/libcontainer_runtime.a
    [[ -f $lib ]] || die "no $lib: run 'make container' first"
    if [[ ! -x $CLOOP || $CLOOP -ot $lib || $CLOOP -ot $HERE/c_loop.c ]]; then
        gcc -O2 -Wall -Wextra -Werror -I"$TOP/include" "$HERE/c_loop.c" "$lib" \
            -lpthread -ldl -lm -lrt -o "$CLOOP" || die "cannot build $CLOOP"
    fi
    for row in cabi cabi-bridge; do skipped "$row" || start_cloop "$row"; done
fi
# docker-run's leftovers check: its container cgroups must be gone after the run
dr_cgroups() { { ls -d /sys/fs/cgroup/*/docker-run/*/ 2>/dev/null || true; } | sort; }
DR_CG_BEFORE=$(dr_cgroups)

{
    echo "# bench/run.sh  $(date -u +%FT%TZ)  kernel $(uname -r)  cpus $(nproc)  cgroup $cgmode"
    echo "#   cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)  mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    for t in crun runc bwrap unshare; do
        command -v $t >/dev/null && echo "#   $t: $($t --version 2>&1 | head -1)"
    done
    echo "#   docker-run: $("$DOCKER_RUN" --version 2>&1 | head -1) (git $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo "?"))  rootfs: $ROOTFS"
    [[ " ${ROWS[*]} " != *" dr-bridge-rust "* ]] || echo "#   docker-run-rust: $("$DOCKER_RUN_RUST" --version 2>&1 | head -1)"
    echo "# N=$N per row and pass, warmup $WARMUP, shuffled round-robin (SEED=$SEED), passes GAP_MS=$GAP_MS; load avg $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/results.txt"

for ((i = 0; i < WARMUP; i++)); do
    for row in "${ROWS[@]}"; do run_row "$row" "db-$$-w$i-$row"; done
done

# --- Timed, interleaved passes ---------------------------------------------------------
echo "gap_ms,row,iteration,us" >"$SAMPLES"
IFS=, read -r -a GAPS <<<"$GAP_MS"
for gap in "${GAPS[@]}"; do
    RANDOM=$SEED
    gap_s=$(awk -v g="$gap" 'BEGIN { print g / 1000 }')
    order=("${ROWS[@]}")
    for ((i = 0; i < N; i++)); do
        for ((j = ${#order[@]} - 1; j > 0; j--)); do
            r=$((RANDOM % (j + 1))); t=${order[j]}; order[j]=${order[r]}; order[r]=$t
        done
        for row in "${order[@]}"; do
            [[ $gap -eq 0 ]] || sleep "$gap_s"
            run_row "$row" "db-$$-g$gap-$i-$row"
            echo "$gap,$row,$i,$ELAPSED_US" >>"$SAMPLES"
        done
    done
done

echo "# load avg after the latency passes: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.txt"

# --- Tables ------------------------------------------------------------------------------------
stats() {  # GAP ROW -> "median_ms p90_ms" (p90 by nearest rank)
    awk -F, -v g="$1" -v r="$2" 'NR > 1 && $1 == g && $2 == r { print $4 }' "$SAMPLES" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- -"; exit }
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            p = int(0.9 * NR); if (p < 0.9 * NR) p++
            printf "%.2f %.2f\n", med / 1000, v[p] / 1000
        }'
}
div() { [[ -n ${1:-} && $1 != - && -n ${2:-} && $2 != - ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo -; }
sub() { [[ -n ${1:-} && $1 != - && -n ${2:-} && $2 != - ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }' || echo -; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "-") print "n/a"; else print (r <= t ? "met" : "NOT met") }'; }

declare -A MED P90
MD=$OUT/results.md
: >"$MD"
for gap in "${GAPS[@]}"; do
    for row in "${ROWS[@]}"; do read -r MED[$gap,$row] P90[$gap,$row] < <(stats "$gap" "$row"); done
    {
        echo
        echo "## pass GAP_MS=$gap ($([[ $gap -eq 0 ]] && echo back to back || echo "${gap} ms idle before each run")), N=$N"
        printf '%-15s %10s %10s %10s %8s\n' row median_ms p90_ms x_unshare x_crun
        for row in "${ROWS[@]}"; do
            printf '%-15s %10s %10s %10s %8s\n' "$row" "${MED[$gap,$row]}" "${P90[$gap,$row]}" \
                "$(div "${MED[$gap,$row]}" "${MED[$gap,unshare]:-}")" "$(div "${MED[$gap,$row]}" "${MED[$gap,crun]:-}")"
        done
        r1=$(div "${MED[$gap,dr-none]:-}" "${MED[$gap,crun]:-}")
        r2=$(div "${MED[$gap,dr-bridge]:-}" "${MED[$gap,crun]:-}")
        r4=$(div "${MED[$gap,cr-oci]:-}" "${MED[$gap,crun]:-}")
        r3=$(div "${MED[$gap,cabi]:-}" "${MED[$gap,unshare]:-}")
        echo "targets: dr-none/crun $r1 (<= 0.80: $(verdict "$r1" 0.8)); dr-bridge/crun $r2 (<= 1.00: $(verdict "$r2" 1.0)); cabi/unshare $r3 (<= 1.50: $(verdict "$r3" 1.5)); cr-oci/crun $r4 (<= 0.80: $(verdict "$r4" 0.8))"
        echo "netlink backends: dr-bridge-rust/dr-bridge $(div "${MED[$gap,dr-bridge-rust]:-}" "${MED[$gap,dr-bridge]:-}") (Rust over C)"
        echo "isolation: overlay $(sub "${MED[$gap,dr-none]:-}" "${MED[$gap,dr-shared]:-}") ms (dr-none - dr-shared), seccomp profile $(sub "${MED[$gap,dr-none]:-}" "${MED[$gap,dr-unconfined]:-}") ms (dr-none - dr-unconfined)"
    } | tee -a "$OUT/results.txt"
    {
        echo
        echo "GAP_MS=$gap, N=$N:"
        echo
        echo "| row | median ms | p90 ms | x unshare | x crun |"
        echo "|---|---:|---:|---:|---:|"
        for row in "${ROWS[@]}"; do
            echo "| $row | ${MED[$gap,$row]} | ${P90[$gap,$row]} | $(div "${MED[$gap,$row]}" "${MED[$gap,unshare]:-}") | $(div "${MED[$gap,$row]}" "${MED[$gap,crun]:-}") |"
        done
    } >>"$MD"
done

# --- Peak RSS ----------------------------------------------------------------------------------
median_of() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if ! skipped rss; then
    declare -A RSS
    RSS_ROWS=()
    for row in dr-none dr-bridge dr-bridge-rust crun runc cr-oci; do skipped "$row" || RSS_ROWS+=("$row"); done
    declare -A RSS_SAMPLES
    for ((i = 0; i < RSS_N; i++)); do
        for row in "${RSS_ROWS[@]}"; do
            cmd=${CMD[$row]//\{id\}/db-$$-rss$i-$row}
            eval "$TIME_BIN -f %M -o $(q "$OUT/rss.txt") $cmd" </dev/null >/dev/null 2>"$ERR" ||
                die "peak RSS run of $row failed: $(cat "$ERR")"
            RSS_SAMPLES[$row]+="$(tail -1 "$OUT/rss.txt") "
        done
    done
    {
        echo
        echo "## peak RSS (GNU time %M: max RSS of the command or its largest descendant; median of $RSS_N)"
        for row in "${RSS_ROWS[@]}"; do
            RSS[$row]=$(tr ' ' '\n' <<<"${RSS_SAMPLES[$row]}" | grep . | median_of)
            printf '%-15s %8s KB   (%s)\n' "$row" "${RSS[$row]}" "${RSS_SAMPLES[$row]% }"
        done
        [[ -n ${RSS[dr-none]:-} && -n ${RSS[crun]:-} ]] &&
            echo "target: docker-run peak RSS / crun $(div "${RSS[dr-none]}" "${RSS[crun]}") (<= 1.00: $(verdict "$(div "${RSS[dr-none]}" "${RSS[crun]}")" 1.0))"
    } | tee -a "$OUT/results.txt"
fi

# --- Concurrency -------------------------------------------------------------------------------
conc_once() {  # ROW TAG: CONC containers at once; echoes the wall ms until all exited
    local row=$1 tag=$2 k cmd pids=() fail=0 t0 t1 pid
    t0=$EPOCHREALTIME
    for ((k = 0; k < CONC; k++)); do
        cmd=${CMD[$row]//\{id\}/db-$$-c$tag-$k-$row}
        # crun: a bundle (so a cgroup) of its own per container, as docker-run has
        [[ $row == crun ]] && cmd=${cmd//$(q "$BUNDLE")/$(q "$OUT/conc/$k")}
        eval "$cmd" </dev/null >/dev/null 2>>"$ERR" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || fail=$((fail + 1)); done
    t1=$EPOCHREALTIME
    [[ $fail -eq 0 ]] || { echo "bench/run.sh: concurrency: $fail of $CONC $row containers failed" >&2; sed 's/^/  | /' "$ERR" | tail -5 >&2; exit 1; }
    awk -v a="${t0/./}" -v b="${t1/./}" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}
if ! skipped conc; then
    for ((k = 0; k < CONC; k++)); do write_config "$OUT/conc/$k" "/$CG_NAME/conc-$k" ""; done
    CONC_ROWS=()
    for row in unshare crun dr-none dr-bridge; do skipped "$row" || CONC_ROWS+=("$row"); done
    declare -A CONC_S
    : >"$ERR"
    for ((i = 0; i < CONC_REPS; i++)); do
        for row in "${CONC_ROWS[@]}"; do CONC_S[$row]+="$(conc_once "$row" "$i") "; done
    done
    {
        echo
        echo "## concurrency: $CONC containers started at once, ms until all exited (median of $CONC_REPS)"
        for row in "${CONC_ROWS[@]}"; do
            m=$(tr ' ' '\n' <<<"${CONC_S[$row]}" | grep . | median_of)
            printf '%-12s %8s ms  x_crun %s   (%s)\n' "$row" "$m" \
                "$(div "$m" "$(tr ' ' '\n' <<<"${CONC_S[crun]:-}" | grep . | median_of)")" "${CONC_S[$row]% }"
        done
    } | tee -a "$OUT/results.txt"
fi

# --- Leftovers ---------------------------------------------------------------------------------
# New container cgroups that no live container (in /run/docker-run/containers) owns. Another
# docker-run user running at the same time (e.g. a test) can show up here: only a warning.
sleep 0.2
leftover=$(comm -13 <(echo "$DR_CG_BEFORE") <(dr_cgroups) | while read -r d; do
    id=$(basename "$d"); [[ -e /run/docker-run/containers/$id ]] || echo "$d"; done)
# a container of someone else's that is being removed right now is gone a moment later
[[ -z $leftover ]] || { sleep 1; leftover=$(while read -r d; do [[ ! -d $d ]] || echo "$d"; done <<<"$leftover"); }
if [[ -n $leftover ]]; then
    echo "bench/run.sh: warning: docker-run container cgroups left behind (ours, or a concurrent docker-run user's):" >&2
    sed 's/^/  /' <<<"$leftover" >&2
fi

# --- Plot --------------------------------------------------------------------------------------
if [[ $HAVE_GNUPLOT -eq 1 ]]; then
    rm -rf "$OUT/plotdata"; mkdir -p "$OUT/plotdata"
    for gap in "${GAPS[@]}"; do
        for row in "${ROWS[@]}"; do
            awk -F, -v g="$gap" -v r="$row" 'NR > 1 && $1 == g && $2 == r { print $4 / 1000 }' \
                "$SAMPLES" >"$OUT/plotdata/$gap-$row.dat"
        done
    done
    {
        echo "ROWS = \"${ROWS[*]}\""
        echo "GAPS = \"${GAPS[*]}\""
        echo "DATADIR = \"$OUT/plotdata\""
        echo "OUTFILE = \"$OUT/latency.svg\""
        echo "TITLE = \"start-to-exit of /bin/true, N=$N per row, $(nproc) CPUs, kernel $(uname -r), $(date -u +%F)\""
    } >"$OUT/plot-vars.gp"
    gnuplot -e "load '$OUT/plot-vars.gp'" "$HERE/plot.gp" 2>"$OUT/gnuplot-stderr.txt" ||
        { cat "$OUT/gnuplot-stderr.txt" >&2; die "gnuplot failed"; }
    echo "# plot: $OUT/latency.svg"
    if [[ $PUBLISH -eq 1 ]]; then cp "$OUT/latency.svg" "$HERE/latency.svg"; echo "# copied to $HERE/latency.svg"; fi
else
    echo "# gnuplot not installed (apt-get install -y gnuplot-nox): no plot"
fi
echo "# raw samples (microseconds): $SAMPLES; tables: $OUT/results.txt, $MD"
