#!/usr/bin/env bash
# docker-run as a daily Docker: a Docker user's session with detached containers (-d), logs,
# wait, attach, inspect, ps -a, start of a stopped container on its own files, rm, --rm,
# restart policies, a SIGKILLed monitor then cleanup, and an OOM kill recorded with -m.
# Usage: tests/daily.sh   (root; a built ./docker-run and ./rootfs). DR=PATH tests another binary.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the daily-use suite"

SRC_DR=${DR:-./docker-run}
[ -x "$SRC_DR" ] && [ -d rootfs/bin ] || { echo "build first: make container (no $SRC_DR)"; exit 1; }
WORK=$(mktemp -d /tmp/daily.XXXXXX)
# A private copy: a concurrent `make container` rewriting ./docker-run cannot break the run
# (and the monitors of detached containers run this binary's code).
cp "$SRC_DR" "$WORK/docker-run"
DR=$WORK/docker-run
export DOCKER_RUN_ROOTFS=$PWD/rootfs
LAYERS=/var/lib/docker-run/containers
T=d$$
NAMES=()
# new_name VAR SUFFIX: VAR=a container name of this run (removed at the end, also on failure)
new_name() { printf -v "$1" '%s' "$T-$2"; NAMES+=("$T-$2"); }
cleanup() {
    for n in "${NAMES[@]}"; do timeout 20 "$DR" rm -f "$n" >/dev/null 2>&1; done
    timeout 20 "$DR" cleanup >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
dr() { timeout 60 "$DR" "$@" </dev/null; }
# cgroup_of PID: the container cgroup's name (its id) of a process; cgroups_left NAME: its dirs
cgroup_of() { awk -F: '$2 == "pids" {print $3}' "/proc/${1:-0}/cgroup" 2>/dev/null; }
cgroups_left() { [ -n "$1" ] && ls -d /sys/fs/cgroup/*"$1" 2>/dev/null; }
# until_true SECONDS CMD...: polls CMD every 0.1 s
until_true() { local n=$(( $1 * 10 )); shift; for _ in $(seq $n); do "$@" && return 0; sleep 0.1; done; return 1; }
status_of() { dr inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
is_status() { [ "$(status_of "$1")" = "$2" ]; }
dr --rm true >/dev/null 2>&1   # the default bridge exists before the first measured start

# --- -d, ps, logs, wait, inspect ---------------------------------------------------------------
new_name n1 web
t0=$(date +%s%N)
id=$(dr -d --name "$n1" sh -c 'echo start; echo oops >&2; for i in 0 1 2; do echo tick $i; sleep 0.3; done; exit 3'); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "-d exits 0" 0 $rc
expect_match "-d prints the full id" "^[0-9a-f]{64}$" "$id"
if [ $ms -lt 800 ]; then pass "-d returns at once ($ms ms)"; else fail "-d returns at once" "$ms ms"; fi
expect_match "ps shows it Up, with Docker's columns" "^${id:0:12} .*\"sh -c echo start; e…\" .* Up .* $n1\$" "$(dr ps | grep " $n1\$")"
expect "ps' header is Docker's" "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" "$(dr ps | head -1 | tr -s ' ')"
expect "inspect --format '{{.State.Running}}'" true "$(dr inspect --format '{{.State.Running}}' "$n1")"
pid=$(dr inspect -f '{{.State.Pid}}' "$n1")
expect "inspect .State.Pid is the container's first process" "sh" "$(cat /proc/"$pid"/comm 2>/dev/null)"
mon=$(ps -o ppid= -p "${pid:-0}" | tr -d ' ')
expect "the monitor is docker-run itself" "docker-run" "$(cat /proc/"$mon"/comm 2>/dev/null)"
msid=$(ps -o sid= -p "$mon" | tr -d ' ')
expect "  without a terminal" "?" "$(ps -o tty= -p "$mon" | tr -d ' ')"
expect "  in a session of its own, not its leader (double-forked)" yes \
    "$([ "$msid" != "$mon" ] && [ "$msid" != "$(ps -o sid= -p $$ | tr -d ' ')" ] && echo yes)"
out=$(timeout 20 "$DR" logs -f "$n1" 2>/dev/null </dev/null); rc=$?
expect "logs -f follows until the container exits" "start tick 0 tick 1 tick 2" "$(echo $out)"
expect "  and exits 0" 0 $rc
expect "logs keeps stdout and stderr apart" "oops" "$(dr logs "$n1" 2>&1 >/dev/null)"
expect "logs --tail 1" "tick 2" "$(dr logs --tail 1 "$n1" 2>/dev/null)"
expect_match "logs -t prefixes RFC 3339 times" "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z start$" "$(dr logs -t "$n1" 2>/dev/null | head -1)"
expect "logs by id prefix" "start" "$(dr logs "${id:0:7}" 2>/dev/null | head -1)"
expect "wait prints the exit code" 3 "$(dr wait "$n1")"
expect "wait of one that exited before" 3 "$(dr wait "$id")"
expect_match "ps -a shows it Exited (3) ... ago" "Exited \(3\) .* ago .* $n1\$" "$(dr ps -a | grep " $n1\$")"
expect "ps without -a does not list it" "" "$(dr ps | grep " $n1\$")"
expect_match "ps -a --no-trunc: the full id and command" "^$id +[^ ]+ +\"sh -c echo start; echo oops >&2; for i in 0 1 2; do echo tick .i; sleep 0.3; done; exit 3\" " "$(dr ps -a --no-trunc | grep " $n1\$")"
expect "ps -a -q --no-trunc: full ids" "$id" "$(dr ps -a -q --no-trunc | grep "^$id\$")"
# column_at TEXT WORD: where WORD starts in TEXT (characters, so that "…" counts one)
column_at() { python3 -c 'import sys; print(sys.argv[1].find(sys.argv[2]))' "$1" "$2"; }
ps_out=$(dr ps -a)
expect "ps' columns line up with the header, however long the rootfs path ($DOCKER_RUN_ROOTFS)" \
    "$(column_at "$(head -1 <<<"$ps_out")" NAMES)" "$(column_at "$(grep " $n1\$" <<<"$ps_out")" "$n1")"
expect "inspect --format of several fields" "exited 3 false /$n1 0" \
    "$(dr inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}} {{.Name}} {{.State.Pid}}' "$n1")"
dr inspect "$n1" >"$WORK/inspect.json"
check=$(python3 - "$id" "$WORK/inspect.json" <<'PY' 2>&1
import json, sys
want = sys.argv[1]
c = json.load(open(sys.argv[2]))[0]
assert c["Id"] == want, c["Id"]
assert c["Path"] == "sh" and c["Args"][0] == "-c", (c["Path"], c["Args"])
s = c["State"]
for k in ("Status", "Running", "Paused", "Pid", "ExitCode", "OOMKilled", "StartedAt", "FinishedAt"):
    assert k in s, k
assert s["StartedAt"] < s["FinishedAt"], (s["StartedAt"], s["FinishedAt"])
for k in ("Image", "Cmd", "Env", "WorkingDir", "User", "Hostname"):
    assert k in c["Config"], k
for k in ("Binds", "NetworkMode", "PortBindings", "Memory", "RestartPolicy", "AutoRemove"):
    assert k in c["HostConfig"], k
for k in ("IPAddress", "Gateway", "MacAddress", "Ports"):
    assert k in c["NetworkSettings"], k
assert list(c)[0] == "Id", list(c)
print("ok")
PY
)
expect "inspect prints docker inspect's essential fields as a JSON array" ok "$check"
log=$(dr inspect -f '{{.LogPath}}' "$n1")
expect_match "the log is in Docker's json-file shape" '^\{"log":"start\\n","stream":"stdout","time":"20[0-9-]+T[0-9:.]+Z"\}$' "$(grep '"log":"start' "$log")"
expect "the log and the record are root's alone" "600 600 700" \
    "$(stat -c %a "$log" "$LAYERS/$id/container.json" "$LAYERS/$id" | tr '\n' ' ' | sed 's/ $//')"

# --- attach --------------------------------------------------------------------------------------
new_name n2 attach
dr -d --name "$n2" sh -c 'sleep 0.5; echo late; exit 2' >/dev/null
out=$(timeout 20 "$DR" attach "$n2" </dev/null 2>&1); rc=$?
expect "attach shows what comes, until the end" "late" "$out"
expect "  and exits with its code" 2 $rc

# --- a stopped container keeps its files; start runs it again on them ----------------------------
new_name n3 keep
out=$(dr --name "$n3" --security-opt seccomp=unconfined sh -c 'cat /kept 2>/dev/null || echo none; echo data >/kept; grep ^Seccomp: /proc/self/status; exit 4' 2>&1); rc=$?
expect "a foreground run without --rm: its exit code" 4 $rc
expect "  its first run sees no file" "none Seccomp: 0" "$(echo $out)"
expect "  it is kept: ps -a shows Exited (4)" 1 "$(dr ps -a | grep " $n3\$" | grep -c 'Exited (4)')"
kid=$(dr inspect -f '{{.Id}}' "$n3")
expect "  its layer stays" yes "$([ -d "$LAYERS/$kid/upper" ] && echo yes)"
out=$(dr --rm --name "$n3" true 2>&1); rc=$?
expect_match "its name stays taken until rm" "already in use" "$out"
expect "  with 125" 125 $rc
expect "  its output was logged (Docker logs every container)" "none Seccomp: 0" "$(echo $(dr logs "$n3" 2>&1))"
new_name n15 fg
out=$(dr --name "$n15" sh -c 'echo out; echo err >&2; exit 3' 2>"$WORK/fg.err"); rc=$?
expect "a foreground container shows stdout and stderr as they come, and logs them" "out|err|3|out|err" \
    "$out|$(cat "$WORK/fg.err")|$rc|$(dr logs "$n15" 2>/dev/null)|$(dr logs "$n15" 2>&1 >/dev/null)"
out=$(timeout 30 "$DR" start -a "$n3" </dev/null 2>&1); rc=$?
expect "start -a runs it again on its own files, with its own seccomp policy" "data Seccomp: 0" "$(echo $out)"
expect "  and exits with its code" 4 $rc
expect "start of a stopped container prints its name" "$n3" "$(dr start "$n3")"
until_true 10 is_status "$n3" exited
expect "  and it runs detached, its output in the log" "data" "$(dr logs --tail 2 "$n3" 2>&1 | head -1)"
out=$(dr start "$n1" 2>&1; dr start "$n1" 2>&1)
expect_match "start of a running container is refused" "already running|is running" "$out"
dr wait "$n1" >/dev/null

# --- rm, rm -f, --rm ------------------------------------------------------------------------------
new_name n4 busy
bid=$(dr -d --name "$n4" -p 18471:80 sleep 30)
until_true 5 is_status "$n4" running
cg=$(cgroup_of "$(dr inspect -f '{{.State.Pid}}' "$n4")")
out=$(dr rm "$n4" 2>&1); rc=$?
expect_match "rm of a running container is refused" "is running: stop it" "$out"
expect "  with 125" 125 $rc
expect "rm -f kills and removes it" "$n4" "$(dr rm -f "$n4")"
expect "  its layer, record and log are gone" "" "$(ls -d "$LAYERS/$bid" 2>/dev/null)"
expect "  its cgroup is gone" "" "$(cgroups_left "$cg")"
expect "  its state record and name are gone" "" "$(ls /run/docker-run/containers/"$bid" /run/docker-run/names/"$n4" 2>/dev/null)"
expect "  its published port is gone" "" "$(iptables -w -t nat -S 2>/dev/null | grep -- '--dport 18471')"
expect "  ps -a does not list it" "" "$(dr ps -a | grep " $n4\$")"
expect "rm of a stopped one" "$n1" "$(dr rm "$n1")"
expect "  leaves nothing of it" "" "$(ls -d "$LAYERS/$id" 2>/dev/null)"
new_name n5 rm
rid=$(dr -d --rm --name "$n5" sh -c 'sleep 0.3; exit 7')
expect "wait on a --rm container gives its exit code" 7 "$(dr wait "$rid")"
until_true 5 test ! -e "$LAYERS/$rid"
expect "--rm: nothing is left after its exit" "" "$(ls -d "$LAYERS/$rid" 2>/dev/null; dr ps -a | grep " $n5\$")"
# --- a container without --name gets one, as in Docker (adjective_surname) ------------------------
gid=$(dr -d sh -c 'echo named; sleep 30')
gname=$(dr inspect -f '{{.Name}}' "$gid" 2>&1); gname=${gname#/}
[ -n "$gname" ] && NAMES+=("$gname")
expect_match "-d without --name: a generated name" "^[a-z]+_[a-z]+[0-9]?$" "$gname"
expect_match "  in ps' NAMES column" "^${gid:0:12} .* $gname\$" "$(dr ps | grep "^${gid:0:12} ")"
expect "  found by it: logs, rm -f" "named $gname" "$(dr logs "$gname" 2>&1) $(dr rm -f "$gname" 2>&1)"

# --- several ids, one of them unknown: the others are still acted on (as Docker) -----------------
new_name n12 multi1
new_name n13 multi2
dr -d --name "$n12" sh -c 'exit 5' >/dev/null
dr -d --name "$n13" sh -c 'exit 6' >/dev/null
out=$(dr wait "$n12" "no-such-$T" "$n13" 2>"$WORK/err"); rc=$?
expect "wait A MISSING B: both codes" "5 6" "$(echo $out)"
expect "  the missing one reported, and status 125" "docker-run: no such container: no-such-$T 125" "$(cat "$WORK/err") $rc"
out=$(dr inspect -f '{{.Name}}' "no-such-$T" "$n12" 2>/dev/null); rc=$?
expect "inspect -f MISSING A: A's line, status 125" "/$n12 125" "$out $rc"
n=$(dr inspect "$n12" "no-such-$T" "$n13" 2>/dev/null | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'); rc=${PIPESTATUS[0]}
expect "inspect A MISSING B: a JSON array of the two found" 2 "$n"
out=$(dr rm "no-such-$T" "$n12" "$n13" 2>/dev/null); rc=$?
expect "rm MISSING A B: both removed, status 125" "$n12 $n13 125" "$(echo $out) $rc"
expect "  ps -a lists neither" "" "$(dr ps -a | grep -E " ($n12|$n13)\$")"

# --- restart ----------------------------------------------------------------------------------------
new_name n14 restart
dr -d --name "$n14" sh -c 'echo ran; sleep 30' >/dev/null
until_true 5 is_status "$n14" running
p1=$(dr inspect -f '{{.State.Pid}}' "$n14")
expect "restart of a running container prints its name" "$n14" "$(dr restart -t 1 "$n14" 2>&1)"
until_true 5 is_status "$n14" running
p2=$(dr inspect -f '{{.State.Pid}}' "$n14")
expect "  it runs again, a new process, its log goes on" "running yes ran ran" \
    "$(status_of "$n14") $([ "$p1" != "$p2" ] && [ -e /proc/$p2 ] && echo yes) $(echo $(dr logs "$n14"))"
dr stop -t 1 "$n14" >/dev/null
expect "start right after stop (its monitor still releasing its name)" "$n14" "$(dr start "$n14" 2>&1)"
dr rm -f "$n14" >/dev/null

out=$(dr logs no-such-container-$T 2>&1); rc=$?
expect_match "logs of an unknown container: a clear error" "no such container: no-such-container-$T" "$out"
expect "  with 125" 125 $rc

# --- failures of -d: the exit code, nothing left --------------------------------------------------
new_name n6 nocmd
out=$(dr -d --name "$n6" /no/such/cmd 2>&1); rc=$?
expect "-d of a missing command: 127" 127 $rc
expect_match "  with the reason" "/no/such/cmd" "$out"
expect "  and nothing of it is left" "" "$(dr ps -a | grep " $n6\$")"
out=$(dr -d --restart sometimes true 2>&1); rc=$?
expect_match "--restart with a bad policy: a clear error" "invalid restart policy \"sometimes\"" "$out"
expect "  with 125" 125 $rc
out=$(dr -d --rm --restart always true 2>&1); rc=$?
expect_match "--restart with --rm is refused" "cannot be combined with --rm" "$out"

# --- restart policies -----------------------------------------------------------------------------
new_name n7 onfail
dr -d --name "$n7" --restart on-failure:2 sh -c 'echo run; exit 1' >/dev/null
expect "on-failure:2: wait returns after the last try" 1 "$(timeout 30 "$DR" wait "$n7")"
expect "  it ran three times" "run run run" "$(echo $(dr logs "$n7"))"
expect "  RestartCount 2, RestartPolicy on-failure" "2 on-failure 2" \
    "$(dr inspect -f '{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' "$n7")"
new_name n8 always
dr -d --name "$n8" --restart always sh -c 'echo up; sleep 0.2' >/dev/null
until_true 10 test "$(dr logs "$n8" 2>/dev/null | grep -c up)" -ge 3
expect_match "always: restarted after each exit, exit 0 included" "^[1-9][0-9]*$" "$(dr inspect -f '{{.RestartCount}}' "$n8")"
dr stop -t 1 "$n8" >/dev/null
sleep 1
expect "  stop ends it for good" "exited" "$(status_of "$n8")"
new_name n9 no
dr -d --name "$n9" sh -c 'exit 1' >/dev/null
dr wait "$n9" >/dev/null
expect "--restart no (the default): no restart" 0 "$(dr inspect -f '{{.RestartCount}}' "$n9")"

# --- a SIGKILLed monitor, then cleanup ------------------------------------------------------------
new_name n10 orphan
oid=$(dr -d --name "$n10" -p 18472:80 sleep 60)
until_true 5 is_status "$n10" running
opid=$(dr inspect -f '{{.State.Pid}}' "$n10")
ocg=$(cgroup_of "$opid")
mon=$(ps -o ppid= -p "${opid:-0}" | tr -d ' ')
[ -n "$mon" ] && kill -KILL "$mon"
sleep 0.3
expect "after SIGKILL of its monitor the container still runs" running "$(status_of "$n10")"
dr kill "$n10" >/dev/null
until_true 5 test ! -e /proc/"$opid"
expect_match "  once it is gone too: Exited (255), its status unknown" "Exited \(255\)" "$(dr ps -a | grep " $n10\$")"
dr cleanup >/dev/null
expect "cleanup removes its cgroup" "" "$(cgroups_left "$ocg")"
expect "  its state record and name" "" "$(ls /run/docker-run/containers/"$oid" /run/docker-run/names/"$n10" 2>/dev/null)"
expect "  its published port" "" "$(iptables -w -t nat -S 2>/dev/null | grep -- '--dport 18472')"
expect "  and keeps what the user has not removed (record and layer)" yes "$([ -d "$LAYERS/$oid/upper" ] && echo yes)"
expect "  recorded as exited" "exited 255" "$(dr inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$n10")"
dr rm "$n10" >/dev/null
expect "then rm removes the rest" "" "$(ls -d "$LAYERS/$oid" 2>/dev/null)"

# --- OOM kill recorded ---------------------------------------------------------------------------
new_name n11 oom
dr -d --name "$n11" -m 32m --memory-swap 32m dd if=/dev/zero of=/dev/null bs=64M count=1 >/dev/null
expect "a detached memory hog over -m 32m: wait says 137" 137 "$(dr wait "$n11")"
expect "  inspect says OOMKilled" "true 137" "$(dr inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' "$n11")"

# --- nothing of this run is left --------------------------------------------------------------------
for n in "${NAMES[@]}"; do dr rm -f "$n" >/dev/null 2>&1; done
NAMES=()
expect "every container of the run is removed" "" "$(dr ps -a | grep " $T-")"
expect "no cgroup left" "" "$(find /sys/fs/cgroup/*/docker-run -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -3)"
expect "no monitor left" "" "$(pgrep -f "^$DR" 2>/dev/null)"
summary
