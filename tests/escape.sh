#!/usr/bin/env bash
# Escape attempts from inside a default container (bridge network, Docker's default
# capabilities, no user namespace): each must fail, and the host must be unchanged afterwards.
# Usage: tests/escape.sh   (root; a built ./docker-run and ./rootfs; gcc with libc6-dev for a
# static helper). Ends with `N passed, N failed`; non-zero on failure.
#
# No rootfs has a tool for several of the system calls tried here (open_by_handle_at,
# finit_module, reboot, ptrace, user namespaces), so the static helper tests/helpers/probe.c is
# built into a temporary directory and bind-mounted read-only at /run (a directory every rootfs has, so no
# mount point is created in the shared ./rootfs). Scratch files, nodes and mount points are made
# in the container's own /dev (a fresh tmpfs without nodev, unlike --tmpfs), never in ./rootfs. Every verb prints "VERB: OK ..." when
# the attempt worked and "VERB: ERRNO" when it failed. Nothing here can harm the host when it
# fails as it must, and the attempts are chosen to stay harmless if it does not: reboot gets a
# wrong magic number, module loading an empty image, sysctl writes the value already there, the
# binary overwritten is the test's own copy.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
require_root "the escape-attempt suite"

ROOTFS=$PWD/rootfs
[ -x ./docker-run ] && [ -d "$ROOTFS/bin" ] || { echo "build first: make container"; exit 1; }
WORK=$(mktemp -d /tmp/escape.XXXXXX)
chmod 755 "$WORK"
# A private copy: a concurrent `make container` rewriting ./docker-run cannot break the run.
cp ./docker-run "$WORK/docker-run"
DR=$WORK/docker-run
export DOCKER_RUN_ROOTFS=$ROOTFS
MARKER=$WORK/host-marker
echo secret >"$MARKER"
HOSTPIDS=()
NAMES=()
MOUNTED=()
cleanup() {
    local n p m
    for n in "${NAMES[@]}"; do "$DR" kill "$n" >/dev/null 2>&1; done
    for p in "${HOSTPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run ARGS...: a default container (bridge network), helper at /h; output and status.
run() { timeout -k 5 30 "$DR" --rm -v "$WORK/h:/run:ro" "$@" </dev/null 2>&1; }
# attempt NAME WANT_REGEX CMD...: runs CMD (a shell command line) in a default container; the
# output must match WANT_REGEX (the failure) and must not contain "OK" from the helper.
attempt() {
    local name=$1 want=$2; shift 2
    local out
    out=$(run sh -c "$*")
    if printf '%s' "$out" | grep -q ': OK\|ESCAPED\|WRITABLE\|PLANTED_SEEN'; then
        fail "$name" "the attempt worked: $out"
    else
        expect_match "$name" "$want" "$out"
    fi
}
# refused CMD: a shell snippet that prints "refused" when CMD fails (its exit status, not one
# tool's wording) and "WORKED" when it succeeds.
refused() { printf '{ %s; } >/dev/null 2>&1 && echo WORKED || echo refused' "$1"; }
# wait_running NAME: until `docker-run ps` lists the container
wait_running() { for _ in $(seq 100); do "$DR" ps | grep -q " $1\$" && return 0; sleep 0.1; done; return 1; }

# --- the helper ------------------------------------------------------------------------------
if ! build_probe "$WORK/h"; then
    fail "build the static helper" "gcc -static failed (apt-get install libc6-dev)"
    summary
fi
pass "build the static helper"
# The first container on the default bridge creates it and prints the subnet it got: not here.
"$DR" --rm true </dev/null >/dev/null 2>&1

# A host process the container must neither see nor signal nor trace.
sleep 300 &
HOSTPID=$!
HOSTPIDS+=("$HOSTPID")
# The host's network before: every link with its flags, routes, addresses. Other test suites
# may add their own links meanwhile, so afterwards everything from before must be there
# unchanged and none of what the container tried to add may be.
# Carrier flags (NO-CARRIER, LOWER_UP) and "linkdown" follow the bridge's ports, which the
# containers of this test add and remove: only names and the administrative UP flag count.
host_links() {
    ip -o link show | grep -v ' veth' | awk -F': ' '{print $2, ($3 ~ /[<,]UP[,>]/ ? "UP" : "DOWN")}' |
        sed 's/@[^ ]*//' | sort
}
host_routes() { ip route show | grep -v 'dev veth' | sed 's/ linkdown//' | sort; }
links_before=$(host_links)
routes_before=$(host_routes)
addrs_before=$(ip -o addr show | grep -v ' veth' | awk '{print $2, $4}' | sort)
# still_there NAME BEFORE AFTER: every line of BEFORE is in AFTER
still_there() {
    local missing
    missing=$(comm -23 <(printf '%s\n' "$2") <(printf '%s\n' "$3"))
    if [ -z "$missing" ]; then pass "$1"; else fail "$1" "changed or gone: $missing"; fi
}
hostname_before=$(hostname)

# --- host processes --------------------------------------------------------------------------
echo "=== host processes"
out=$(run sh -c 'ls /proc | grep -E "^[0-9]+$" | tr "\n" " "')
if printf '%s' "$out" | grep -qw "$HOSTPID"; then
    fail "ls /proc shows no host pid" "host pid $HOSTPID listed: $out"
else
    # sh is PID 1; ls, grep and tr are the next few.
    expect_match "ls /proc shows only the container's pids" '^1( [2-9])* ?$' "$out"
fi
attempt "kill -0 a host pid ($HOSTPID)" "^refused$" "$(refused "kill -0 $HOSTPID")"
attempt "kill(2) a host pid" "kill: ESRCH" "/run/probe kill $HOSTPID"
attempt "ptrace(PTRACE_ATTACH) a host pid" "ptrace: (ESRCH|EPERM)" "/run/probe ptrace $HOSTPID"
attempt "/proc/$HOSTPID is absent" "^absent$" "[ -e /proc/$HOSTPID ] && echo present || echo absent"
expect "the host process is still alive" 0 "$(kill -0 "$HOSTPID" 2>/dev/null; echo $?)"

# --- the host file system ------------------------------------------------------------------
echo "=== host file system"
attempt "read a host file by its host path" "^no$" "cat $MARKER 2>/dev/null || echo no"
attempt "through /proc/1/root" "^no$" "cat /proc/1/root$MARKER 2>/dev/null || echo no"
attempt "through /proc/self/root" "^no$" "cat /proc/self/root$MARKER 2>/dev/null || echo no"
attempt "/proc/self/root is the container's /" "^same$" \
    '[ "$(ls /proc/self/root/ | tr "\n" " ")" = "$(ls / | tr "\n" " ")" ] && echo same'
attempt "through .. from /" "^no$" "cd /; cd ../../../..; cat .$MARKER 2>/dev/null || echo no"
attempt "chroot escape (chroot into a subdir, fchdir out, climb, chroot .)" "chroot_escape: ENOENT" \
    "/run/probe chroot_escape $MARKER"
attempt "open_by_handle_at (shocker: the root inode of the host's file system)" \
    "open_by_handle_at: EPERM" "/run/probe open_by_handle_at /run/probe"
disk=$(findmnt -no SOURCE / | head -1)
if [ -b "$disk" ]; then
    maj=$(( $(stat -c '0x%t' "$disk") )); min=$(( $(stat -c '0x%T' "$disk") ))
    attempt "mount the host disk ($disk, $maj:$min) from a node made inside" "^refused$" \
        "mknod /dev/xdisk b $maj $min; mkdir -p /dev/mnt; $(refused "mount -t ext4 -o ro /dev/xdisk /dev/mnt")"
    attempt "read a node of the host disk made inside (devices cgroup)" "^denied$" \
        "mknod /dev/xdisk b $maj $min && { head -c 512 /dev/xdisk >/dev/null 2>&1 && echo READ || echo denied; }"
    attempt "mount the host disk inside a user namespace of the container's own" \
        "userns_mount: (EPERM|EACCES|EINVAL)|userns: " \
        "mknod /dev/xdisk b $maj $min; mkdir -p /dev/mnt; /run/probe userns_mount /dev/xdisk /dev/mnt"
    for dev in /dev/vda /dev/sda /dev/nvme0n1; do
        [ -b "$dev" ] || continue
        attempt "no host block device $dev in the container's /dev" "^absent$" "[ -e $dev ] && echo present || echo absent"
    done
else
    fail "host disk tests" "no block device behind / ($disk)"
fi
attempt "open a /dev/fuse node made inside (c 10 229, devices cgroup)" "^denied$" \
    "mknod /dev/xfuse c 10 229 && { (exec 3<>/dev/xfuse) 2>/dev/null && echo OPENED || echo denied; }"
attempt "mount a fresh proc in a user+pid namespace of its own" "userns_proc: (EPERM|EACCES)|userns: " \
    "/run/probe userns_proc"

# --- the container's own root file system --------------------------------------------------------
echo "=== a root file system of its own"
# One container plants files for the next one (a /bin entry, a file in /) and keeps running;
# a second container, started meanwhile, must not see them, nor may the rootfs directory.
PLANT=escape-planted-$$
cname=esc-$$-plant
NAMES+=("$cname")
"$DR" --rm --name "$cname" --network none sh -c \
    "echo evil > /$PLANT && echo evil > /bin/$PLANT && echo evil >> /etc/passwd && touch /dev/planted && sleep 30" \
    </dev/null >/dev/null 2>&1 &
HOSTPIDS+=($!)
if wait_running "$cname"; then
    eventually 50 "$DR" exec "$cname" sh -c 'test -f /dev/planted' ||
        fail "the planting container wrote its files" "no /dev/planted after 5 s"
    attempt "a file planted by a running container is invisible to a second one" "^clean$" \
        "if [ -e /$PLANT ] || [ -e /bin/$PLANT ] || grep -q '^evil' /etc/passwd; then echo PLANTED_SEEN; else echo clean; fi"
    if [ -e "$ROOTFS/$PLANT" ] || [ -e "$ROOTFS/bin/$PLANT" ] || grep -q '^evil' "$ROOTFS/etc/passwd"; then
        fail "the rootfs directory is unchanged by a container's writes" "planted: $(ls "$ROOTFS/$PLANT" "$ROOTFS/bin/$PLANT" 2>/dev/null)"
    else
        pass "the rootfs directory is unchanged by a container's writes"
    fi
    # --rm: its layer is in memory, in no host mount table, under no host path.
    found=$(find /var/lib/docker-run /run/docker-run -name "$PLANT" 2>/dev/null)
    expect "a --rm container's writes are nowhere on the host's disk" "" "$found"
    "$DR" kill "$cname" >/dev/null 2>&1
else
    fail "a file planted by a running container" "the container did not start"
fi
# A container started after it is gone does not see its files either.
attempt "a file planted by an earlier container is gone for the next one" "^clean$" \
    "if [ -e /$PLANT ] || [ -e /bin/$PLANT ]; then echo PLANTED_SEEN; else echo clean; fi"
# On an old build the plant reached the shared rootfs: undo it so later suites run clean.
rm -f "$ROOTFS/$PLANT" "$ROOTFS/bin/$PLANT"
sed -i '/^evil$/d' "$ROOTFS/etc/passwd"

# --- the working directory -----------------------------------------------------------------------
echo "=== the working directory (CVE-2024-21626)"
# docker-run started with host directories open (fd 7: a directory holding the marker, fd 8:
# the host's /): -w /proc/self/fd/N for every N the process can hold must never give the
# container a host directory as its working directory, from where the marker (and .. up to the
# host's root) would be reachable.
rel_marker=${MARKER#/}
cwd_escapes=""
for n in $(seq 0 24); do
    out=$(exec 7<"$WORK" 8</; run -w /proc/self/fd/$n --network none sh -c \
        "cat host-marker ./$rel_marker 2>/dev/null | grep -q secret && echo ESCAPED; echo started" 2>&1)
    case "$out" in *ESCAPED*) cwd_escapes="$cwd_escapes $n" ;; esac
done
if [ -z "$cwd_escapes" ]; then
    pass "-w /proc/self/fd/N never leads to a host directory (N = 0..24, host directories held as 7 and 8)"
else
    fail "-w /proc/self/fd/N never leads to a host directory" "escaped with N =$cwd_escapes"
fi
out=$(exec 7<"$WORK"; run -w /proc/self/fd/7 --network none true 2>&1); rc=$?
expect_match "-w /proc/self/fd/7 (a host directory) is refused with a clear message" \
    "working directory /proc/self/fd/7: it leads out of the container" "$out"
expect "  and docker-run exits 125" 125 "$rc"

# --- mount flags ---------------------------------------------------------------------------------
echo "=== mount flags"
# A host directory with a submount (a tmpfs), bound :ro: the submount must be read-only too.
mkdir -p "$WORK/vol/sub" "$WORK/nx"
mount -t tmpfs -o size=1m tmpfs "$WORK/vol/sub" && MOUNTED+=("$WORK/vol/sub")
# A noexec source with the probe on it, bound :ro: noexec must stay.
mount -t tmpfs -o size=4m,noexec,nosuid,nodev tmpfs "$WORK/nx" && MOUNTED+=("$WORK/nx")
cp "$WORK/h/probe" "$WORK/nx/probe"
out=$(run --network none -v "$WORK/vol:/vol:ro" sh -c "$(refused "touch /vol/sub/written")")
expect "write into a submount of a :ro volume's source (read-only recursively)" "refused" "$out"
[ -e "$WORK/vol/sub/written" ] && fail "  nothing written on the host" "$WORK/vol/sub/written exists" || pass "  nothing written on the host"
# (probe kill 1 signals 0 to the container's own PID 1: it succeeds whenever probe runs.)
out=$(run --network none -v "$WORK/nx:/nx:ro" sh -c "$(refused "/nx/probe kill 1")")
expect "a :ro volume keeps its source's noexec" "refused" "$out"
out=$(run --network none --tmpfs /scratch sh -c "cp /run/probe /scratch/p && $(refused "/scratch/p kill 1")")
expect "--tmpfs is noexec by default, as Docker" "refused" "$out"
out=$(run --network none --tmpfs /scratch sh -c \
    "mknod /scratch/null c 1 3 2>/dev/null; $(refused "echo x > /scratch/null")")
expect "--tmpfs is nodev by default, as Docker" "refused" "$out"
out=$(run --network none --tmpfs /scratch:exec sh -c "cp /run/probe /scratch/p && /scratch/p kill 1 2>&1")
expect_match "--tmpfs DST:exec still executes" "kill: OK" "$out"
# moby's per-CPU thermal_throttle masks: only where the host has them.
tt=$(ls -d /sys/devices/system/cpu/cpu*/thermal_throttle 2>/dev/null | head -1)
if [ -n "$tt" ]; then
    attempt "$tt is masked" "^masked$" "[ -z \"\$(ls $tt)\" ] && echo masked || echo VISIBLE_WRITABLE"
else
    pass "thermal_throttle masks (this host has no /sys/devices/system/cpu/cpu*/thermal_throttle: nothing to mask; unit test thermal_throttle_masks)"
fi
# Without a devices cgroup (cgroup v2), the root is nodev: a node shipped in the image cannot
# open a device. With v1's devices controller (this host), the allow-list guards instead.
if [ -d /sys/fs/cgroup/devices ]; then
    attempt "a host disk node planted in the image cannot be read (devices cgroup)" "^denied$" \
        "mknod /disknode b 8 0 2>/dev/null || mknod /disknode b 253 0; { head -c1 /disknode >/dev/null 2>&1 && echo READ || echo denied; }"
else
    attempt "the rootfs is mounted nodev (no devices cgroup)" "nodev" \
        "awk '\$5 == \"/\" {print \$6}' /proc/self/mountinfo"
fi

# --- kernel interfaces ---------------------------------------------------------------------
echo "=== kernel interfaces"
attempt "write /proc/sysrq-trigger" "^failed$" "(echo h > /proc/sysrq-trigger) 2>/dev/null && echo written || echo failed"
for f in hostname domainname core_pattern ns_last_pid; do
    [ -e /proc/sys/kernel/$f ] || continue
    # The value already there: harmless even if the write went through.
    attempt "write /proc/sys/kernel/$f" "Read-only file system" \
        "v=\$(cat /proc/sys/kernel/$f); echo \"\$v\" > /proc/sys/kernel/$f"
done
attempt "remount /proc/sys read-write" "^refused$" "$(refused "mount -o remount,rw /proc/sys")"
attempt "sysfs is read-only" "Read-only file system" "echo 1 > /sys/kernel/uevent_helper 2>&1 || mkdir /sys/x"
attempt "init_module(2)" "init_module: (EPERM|ENOSYS)" "/run/probe init_module"
attempt "finit_module(2)" "finit_module: (EPERM|ENOSYS)" "/run/probe finit_module"
attempt "insmod" "^refused$" "$(refused "insmod /run/probe")"
attempt "CAP_SYS_MODULE is not in the bounding set" "^no$" \
    "b=\$(grep CapBnd /proc/self/status | awk '{print \$2}'); [ \$(( 0x\$b >> 16 & 1 )) = 1 ] && echo yes || echo no"
attempt "reboot(2)" "reboot: EPERM" "/run/probe reboot"

# --- hostname and network ------------------------------------------------------------------
echo "=== hostname and network"
attempt "sethostname(2)" "^sethostname: EPERM$" "/run/probe sethostname escaped-$$"
attempt "hostname x" "^refused$" "$(refused "hostname escaped-$$")"
attempt "write /proc/sys/kernel/hostname" "Read-only file system" "echo escaped-$$ > /proc/sys/kernel/hostname"
expect "the host's hostname is unchanged" "$hostname_before" "$(hostname)"
attempt "ip link add (a dummy link)" "^refused$" "$(refused "ip link add esc$$ type dummy")"
attempt "ip addr add" "^refused$" "$(refused "ip addr add 10.250.$(( $$ % 250 )).1/32 dev lo")"
attempt "ip route add" "^refused$" "$(refused "ip route add 10.251.0.0/24 dev lo")"
attempt "ip link set eth0 down" "^refused$" "$(refused "ip link set eth0 down")"
attempt "move eth0 into another namespace (pid 1)" "^refused$" "$(refused "ip link set eth0 netns 1")"
still_there "the host's links are unchanged" "$links_before" "$(host_links)"
still_there "the host's routes are unchanged" "$routes_before" "$(host_routes)"
still_there "the host's addresses are unchanged" "$addrs_before" "$(ip -o addr show | grep -v ' veth' | awk '{print $2, $4}' | sort)"
expect "no link esc$$ on the host" "" "$(ip -o link show esc$$ 2>/dev/null)"
expect "no address 10.250.$(( $$ % 250 )).1 on the host" "" "$(ip -o addr show | grep "10\.250\.$(( $$ % 250 ))\.1/")"
expect "no route 10.251.0.0/24 on the host" "" "$(ip route show 10.251.0.0/24)"

# --- cgroup limits -------------------------------------------------------------------------
echo "=== cgroup limits"
# /sys/fs/cgroup is there (as in Docker), read-only, rooted at the container's own cgroup.
attempt "every cgroup file system in the container is read-only" "^ro-only$" \
    "awk '\$5 ~ /^\/sys\/fs\/cgroup/ && \$6 !~ /^ro/ {print \"WRITABLE\", \$5}' /proc/self/mountinfo; echo ro-only"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then limit_file=memory.max; else limit_file=memory/memory.limit_in_bytes; fi
out=$(run -m 64m sh -c "$(refused "echo 1073741824 >/sys/fs/cgroup/$limit_file"); cat /sys/fs/cgroup/$limit_file")
expect "write to /sys/fs/cgroup inside fails (raise its own memory limit)" "$(printf 'refused\n67108864')" "$out"
attempt "create a cgroup under /sys/fs/cgroup" "^refused refused $" \
    "{ $(refused "mkdir /sys/fs/cgroup/x"); $(refused "mkdir /sys/fs/cgroup/\$(ls /sys/fs/cgroup | head -1)/x"); } | tr '\n' ' '"
attempt "remount /sys/fs/cgroup read-write" "^refused refused $" \
    "{ $(refused "mount -o remount,rw /sys/fs/cgroup"); $(refused "mount -o remount,rw /sys/fs/cgroup/\$(ls /sys/fs/cgroup | head -1)"); } | tr '\n' ' '"
attempt "no release_agent under /sys/fs/cgroup (CVE-2022-0492)" "^absent$" \
    "ls /sys/fs/cgroup/*/release_agent /sys/fs/cgroup/release_agent 2>/dev/null | sed 's/^/ESCAPED /'; echo absent"
attempt "no host cgroup shows: the container's own is the root" "^own$" \
    "awk -F: '\$3 != \"/\" {print \"ESCAPED\", \$0}' /proc/self/cgroup; echo own"
attempt "mount the memory cgroup" "^refused$" "mkdir -p /dev/cg; $(refused "mount -t cgroup -o memory cgroup /dev/cg")"
attempt "mount cgroup2" "^refused$" "mkdir -p /dev/cg; $(refused "mount -t cgroup2 none /dev/cg")"
attempt "/sys is read-only (no cgroup file system to make there)" "Read-only file system" "mkdir /sys/fs/x"
# The container's cgroup seen from the host, and a write from inside through a user namespace
# of the container's own (a new cgroup namespace rooted at its own cgroup, the v1 hierarchy
# mounted there): the host's view of the limits must not move.
# limit_attempt NAME CONTROLLER FILE VALUE DOCKER-RUN-FLAGS
limit_attempt() {
    local name=$1 ctl=$2 file=$3 value=$4 flags=$5
    local cname=esc-$$-$ctl
    NAMES+=("$cname")
    "$DR" --rm --name "$cname" $flags -v "$WORK/h:/run:ro" sh -c \
        "while [ ! -e /dev/go ]; do sleep 0.05; done; /run/probe userns_cgroup $ctl $file $value; sleep 30" \
        </dev/null >"$WORK/$cname.out" 2>&1 &
    HOSTPIDS+=($!)
    if ! wait_running "$cname"; then fail "$name" "the container did not start: $(cat "$WORK/$cname.out")"; return; fi
    local pid cg before after
    pid=$("$DR" inspect -f '{{.State.Pid}}' "$cname")
    cg=/sys/fs/cgroup/$ctl$(awk -F: -v c="$ctl" '$2 == c {print $3}' /proc/$pid/cgroup)
    local show=$file
    [ "$file" = devices.allow ] && show=devices.list   # write-only; the list is what counts
    before=$(cat "$cg/$show")
    "$DR" exec "$cname" touch /dev/go
    # The probe prints one line when it is done: refused on the way (userns: EPERM) or written.
    if ! eventually 50 test -s "$WORK/$cname.out"; then
        "$DR" kill "$cname" >/dev/null 2>&1
        fail "$name" "the attempt never ran: $(tr '\n' ' ' <"$WORK/$cname.out")"
        return
    fi
    after=$(cat "$cg/$show")
    "$DR" kill "$cname" >/dev/null 2>&1
    if [ "$before" = "$after" ]; then
        pass "$name ($cg/$show stays $(echo $before | head -c 60); inside: $(head -1 "$WORK/$cname.out"))"
    else
        fail "$name" "$cg/$show: $(echo $before | head -c 60) -> $(echo $after | head -c 60); inside: $(tr '\n' ' ' <"$WORK/$cname.out")"
    fi
}
limit_attempt "raise its own memory limit (user+cgroup namespace, v1 mount)" memory memory.limit_in_bytes 1073741824 "-m 64m"
limit_attempt "raise its own pids limit (user+cgroup namespace, v1 mount)" pids pids.max max "--pids-limit 50"
limit_attempt "raise its own CPU quota (user+cgroup namespace, v1 mount)" cpu cpu.cfs_quota_us -1 "--cpus 0.5"
limit_attempt "allow every device (user+cgroup namespace, v1 mount)" devices devices.allow a ""

# --- the runtime binary ------------------------------------------------------------------------
# CVE-2019-5736 (/proc/PID/exe of a joining exec, and of an exec'd #!/proc/self/exe command):
# tests/escape-process.sh, "the host binary".

# --- documented weakness ---------------------------------------------------------------------
echo "=== documented: --no-pivot (chroot) is escapable by root inside"
out=$(run --no-pivot --network none sh -c "/run/probe chroot_escape $MARKER")
if grep -q "chroot_escape: OK" <<<"$out"; then
    pass "--no-pivot: the chroot escape works, as docs/SECURITY.md says"
else
    fail "--no-pivot: the chroot escape works, as docs/SECURITY.md says" "update docs/SECURITY.md: $out"
fi

expect "the host process is still alive at the end" 0 "$(kill -0 "$HOSTPID" 2>/dev/null; echo $?)"
summary
