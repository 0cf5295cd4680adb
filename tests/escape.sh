#!/usr/bin/env bash
# Escape attempts from inside a default container (bridge network, Docker's default
# capabilities, no user namespace): each must fail, and the host must be unchanged afterwards.
# Usage: tests/escape.sh   (root; a built ./docker-run and ./rootfs; gcc with libc6-dev for a
# static helper). Ends with `N passed, N failed`; non-zero on failure.
#
# Busybox has no tool for several of the system calls tried here (open_by_handle_at,
# finit_module, reboot, ptrace, user namespaces), so a small static helper is built into a
# temporary directory and bind-mounted read-only at /run (a directory every rootfs has, so no
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
cleanup() {
    local n p
    for n in "${NAMES[@]}"; do "$DR" kill "$n" >/dev/null 2>&1; done
    for p in "${HOSTPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run ARGS...: a default container (bridge network), helper at /h; output and status.
run() { timeout -k 5 30 "$DR" -v "$WORK/h:/run:ro" "$@" </dev/null 2>&1; }
# attempt NAME WANT_REGEX CMD...: runs CMD (a shell command line) in a default container; the
# output must match WANT_REGEX (the failure) and must not contain "OK" from the helper.
attempt() {
    local name=$1 want=$2; shift 2
    local out
    out=$(run sh -c "$*")
    if printf '%s' "$out" | grep -q ': OK\|ESCAPED\|WRITABLE'; then
        fail "$name" "the attempt worked: $out"
    else
        expect_match "$name" "$want" "$out"
    fi
}
# wait_running NAME: until `docker-run ps` lists the container
wait_running() { for _ in $(seq 100); do "$DR" ps | grep -q " $1 " && return 0; sleep 0.1; done; return 1; }

# --- the helper ------------------------------------------------------------------------------
mkdir -p "$WORK/h"
cat >"$WORK/helper.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/reboot.h>
#include <time.h>

/* Each verb prints one line: "<verb>: OK ..." when the attempt worked, "<verb>: <ERRNO-NAME>"
 * when it failed, and exits 0 only when it worked. */
static int failed(const char *verb) {
    printf("%s: %s\n", verb, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    return 1;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A new user namespace in which this (container-root) process is uid 0 mapped to itself. */
static int enter_userns(int extra) {
    if (unshare(CLONE_NEWUSER | extra) != 0) return -1;
    if (write_file("/proc/self/setgroups", "deny") != 0) return -1;
    if (write_file("/proc/self/uid_map", "0 0 1") != 0) return -1;
    if (write_file("/proc/self/gid_map", "0 0 1") != 0) return -1;
    return 0;
}

struct handle { unsigned int bytes; int type; unsigned char data[128]; };

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *v = argv[1];
    if (!strcmp(v, "kill") && argc > 2) {            /* signal 0 a pid */
        if (kill(atoi(argv[2]), 0) != 0) return failed(v);
    } else if (!strcmp(v, "ptrace") && argc > 2) {   /* attach to a pid */
        if (ptrace(PTRACE_ATTACH, atoi(argv[2]), 0, 0) != 0) return failed(v);
    } else if (!strcmp(v, "reboot")) {
        /* A wrong second magic: EPERM without CAP_SYS_BOOT, EINVAL (harmless) with it. */
        if (syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_POWER_OFF, 0) != 0)
            return failed(v);
    } else if (!strcmp(v, "finit_module")) {
        int fd = open("/dev/null", O_RDONLY);
        if (syscall(SYS_finit_module, fd, "", 0) != 0) return failed(v);
    } else if (!strcmp(v, "init_module")) {
        static char image[64];
        if (syscall(SYS_init_module, image, sizeof image, "") != 0) return failed(v);
    } else if (!strcmp(v, "open_by_handle_at") && argc > 2) {
        /* Shocker: a handle for inode 2 (the root directory of an ext4 file system), opened
         * relative to a file of that file system (a bind mount from the host). */
        int mfd = open(argv[2], O_RDONLY);
        if (mfd < 0) return failed("open mount fd");
        struct handle h = { .bytes = 8, .type = 1 };
        unsigned int ino = 2, gen = 0;
        memcpy(h.data, &ino, 4); memcpy(h.data + 4, &gen, 4);
        int fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_DIRECTORY);
        if (fd < 0) return failed(v);
        DIR *d = fdopendir(fd);
        struct dirent *e;
        printf("%s: OK, host root:", v);
        while (d && (e = readdir(d))) printf(" %s", e->d_name);
        printf("\n");
    } else if (!strcmp(v, "chroot_escape") && argc > 2) {
        /* The classic: chroot into a subdirectory while holding a directory outside it, climb. */
        int fd = open("/", O_RDONLY | O_DIRECTORY);
        mkdir("/dev/.escape", 0700);
        if (chroot("/dev/.escape") != 0) return failed("chroot");
        if (fchdir(fd) != 0) return failed("fchdir");
        for (int i = 0; i < 256; i++) if (chdir("..") != 0) break;
        if (chroot(".") != 0) return failed("chroot .");
        if (access(argv[2], F_OK) != 0) return failed(v);
        printf("%s: OK, %s is visible\n", v, argv[2]);
    } else if (!strcmp(v, "userns_cgroup") && argc > 4) {
        /* A user namespace of our own owns a new cgroup namespace whose root is our own
         * cgroup: mount the v1 hierarchy argv[2] and write argv[4] to its file argv[3]. */
        if (enter_userns(0) != 0) return failed("userns");
        if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) != 0) return failed("unshare mnt+cgroup");
        mkdir("/dev/.cg", 0700);
        if (mount("cgroup", "/dev/.cg", "cgroup", 0, argv[2]) != 0) return failed("mount cgroup");
        char path[256];
        snprintf(path, sizeof path, "/dev/.cg/%s", argv[3]);
        if (write_file(path, argv[4]) != 0) return failed(v);
        printf("%s: OK, wrote %s=%s\n", v, argv[3], argv[4]);
    } else if (!strcmp(v, "userns_mount") && argc > 3) {
        /* A user namespace of our own: mount a block device node with a real file system. */
        if (enter_userns(CLONE_NEWNS) != 0) return failed("userns");
        if (mount(argv[2], argv[3], "ext4", MS_RDONLY, 0) != 0) return failed(v);
        printf("%s: OK\n", v);
    } else if (!strcmp(v, "userns_proc")) {
        /* user + pid namespace of our own: mount a fresh proc (would expose unmasked paths). */
        if (enter_userns(CLONE_NEWNS | CLONE_NEWPID) != 0) return failed("userns");
        pid_t p = fork();
        if (p == 0) {
            mkdir("/dev/.proc", 0700);
            if (mount("proc", "/dev/.proc", "proc", 0, 0) != 0) { failed(v); fflush(stdout); _exit(1); }
            printf("%s: OK\n", v);
            fflush(stdout);
            _exit(0);
        }
        int st = 1;
        waitpid(p, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    } else if (!strcmp(v, "exe_snoop") && argc > 2) {
        /* CVE-2019-5736 style: look for a process in our PID namespace whose /proc/PID/exe is
         * not a file we can see (the runtime binary of a joining exec), open it, and try to
         * open it for writing once it is no longer executing. argv[2]: seconds to watch. */
        time_t end = time(0) + atoi(argv[2]);
        char self[64]; snprintf(self, sizeof self, "%d", getpid());
        while (time(0) < end) {
            DIR *d = opendir("/proc");
            struct dirent *e;
            while (d && (e = readdir(d))) {
                if (e->d_name[0] < '1' || e->d_name[0] > '9' || !strcmp(e->d_name, self)) continue;
                char path[300], link[512];
                snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
                int fd = open(path, O_PATH);
                if (fd < 0) continue;
                ssize_t n = readlink(path, link, sizeof link - 1);
                link[n > 0 ? n : 0] = 0;
                if (n > 0 && strncmp(link, "/bin/", 5) && strncmp(link, "/usr/", 5) &&
                    strncmp(link, "/sbin/", 6) && strncmp(link, "/run/", 5)) {
                    printf("%s: OK, got %s\n", v, link);
                    fflush(stdout);
                    char fdpath[64];
                    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
                    for (int i = 0; i < 300; i++) {   /* up to 3 s for the binary to stop running */
                        int w = open(fdpath, O_WRONLY | O_APPEND);
                        if (w >= 0) {
                            /* Proof on the test's own copy of the binary: a marker appended. */
                            ssize_t n = write(w, "ESCAPED", 7);
                            printf("%s: WRITABLE %s (%zd bytes appended)\n", v, link, n);
                            return 0;
                        }
                        if (errno != ETXTBSY) break;
                        usleep(10000);
                    }
                    printf("%s: not writable (%s)\n", v, strerrorname_np(errno));
                    return 0;
                }
                close(fd);
            }
            if (d) closedir(d);
        }
        printf("%s: nothing seen\n", v);
        return 1;
    } else {
        fprintf(stderr, "unknown verb %s\n", v);
        return 2;
    }
    printf("%s: OK\n", v);
    return 0;
}
EOF
if ! gcc -static -O1 -Wall -o "$WORK/h/helper" "$WORK/helper.c" >"$WORK/cc.log" 2>&1; then
    cat "$WORK/cc.log"
    fail "build the static helper" "gcc -static failed (apt-get install libc6-dev)"
    summary
fi
pass "build the static helper"

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
attempt "kill -0 a host pid ($HOSTPID)" "No such process|can't kill" "kill -0 $HOSTPID"
attempt "kill(2) a host pid" "kill: ESRCH" "/run/helper kill $HOSTPID"
attempt "ptrace(PTRACE_ATTACH) a host pid" "ptrace: (ESRCH|EPERM)" "/run/helper ptrace $HOSTPID"
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
    "/run/helper chroot_escape $MARKER"
attempt "open_by_handle_at (shocker: the root inode of the host's file system)" \
    "open_by_handle_at: EPERM" "/run/helper open_by_handle_at /run/helper"
disk=$(findmnt -no SOURCE / | head -1)
if [ -b "$disk" ]; then
    maj=$(( $(stat -c '0x%t' "$disk") )); min=$(( $(stat -c '0x%T' "$disk") ))
    attempt "mount the host disk ($disk, $maj:$min) from a node made inside" "denied|not permitted" \
        "mknod /dev/xdisk b $maj $min; mkdir -p /dev/mnt; mount -t ext4 -o ro /dev/xdisk /dev/mnt"
    attempt "read a node of the host disk made inside (devices cgroup)" "^denied$" \
        "mknod /dev/xdisk b $maj $min && { head -c 512 /dev/xdisk >/dev/null 2>&1 && echo READ || echo denied; }"
    attempt "mount the host disk inside a user namespace of the container's own" \
        "userns_mount: (EPERM|EACCES|EINVAL)|userns: " \
        "mknod /dev/xdisk b $maj $min; mkdir -p /dev/mnt; /run/helper userns_mount /dev/xdisk /dev/mnt"
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
    "/run/helper userns_proc"

# --- kernel interfaces ---------------------------------------------------------------------
echo "=== kernel interfaces"
attempt "write /proc/sysrq-trigger" "^failed$" "(echo h > /proc/sysrq-trigger) 2>/dev/null && echo written || echo failed"
for f in hostname domainname core_pattern ns_last_pid; do
    [ -e /proc/sys/kernel/$f ] || continue
    # The value already there: harmless even if the write went through.
    attempt "write /proc/sys/kernel/$f" "Read-only file system" \
        "v=\$(cat /proc/sys/kernel/$f); echo \"\$v\" > /proc/sys/kernel/$f"
done
attempt "remount /proc/sys read-write" "denied|not permitted" "mount -o remount,rw /proc/sys"
attempt "sysfs is read-only" "Read-only file system" "echo 1 > /sys/kernel/uevent_helper 2>&1 || mkdir /sys/x"
attempt "init_module(2)" "init_module: (EPERM|ENOSYS)" "/run/helper init_module"
attempt "finit_module(2)" "finit_module: (EPERM|ENOSYS)" "/run/helper finit_module"
attempt "insmod" "not permitted|No such|not found|Function not implemented|can't" "insmod /run/helper"
attempt "CAP_SYS_MODULE is not in the bounding set" "^no$" \
    "b=\$(grep CapBnd /proc/self/status | awk '{print \$2}'); [ \$(( 0x\$b >> 16 & 1 )) = 1 ] && echo yes || echo no"
attempt "reboot(2)" "reboot: EPERM" "/run/helper reboot"

# --- hostname and network ------------------------------------------------------------------
echo "=== hostname and network"
attempt "hostname x" "not permitted" "hostname escaped-$$"
attempt "write /proc/sys/kernel/hostname" "Read-only file system" "echo escaped-$$ > /proc/sys/kernel/hostname"
expect "the host's hostname is unchanged" "$hostname_before" "$(hostname)"
attempt "ip link add (a dummy link)" "not permitted|RTNETLINK answers" "ip link add esc$$ type dummy"
attempt "ip addr add" "not permitted|RTNETLINK answers" "ip addr add 10.250.$(( $$ % 250 )).1/32 dev lo"
attempt "ip route add" "not permitted|RTNETLINK answers" "ip route add 10.251.0.0/24 dev lo"
attempt "ip link set eth0 down" "not permitted|RTNETLINK answers" "ip link set eth0 down"
attempt "move eth0 into another namespace (pid 1)" "not permitted|RTNETLINK answers" "ip link set eth0 netns 1"
still_there "the host's links are unchanged" "$links_before" "$(host_links)"
still_there "the host's routes are unchanged" "$routes_before" "$(host_routes)"
still_there "the host's addresses are unchanged" "$addrs_before" "$(ip -o addr show | grep -v ' veth' | awk '{print $2, $4}' | sort)"
expect "no link esc$$ on the host" "" "$(ip -o link show esc$$ 2>/dev/null)"
expect "no address 10.250.$(( $$ % 250 )).1 on the host" "" "$(ip -o addr show | grep "10\.250\.$(( $$ % 250 ))\.1/")"
expect "no route 10.251.0.0/24 on the host" "" "$(ip route show 10.251.0.0/24)"

# --- cgroup limits -------------------------------------------------------------------------
echo "=== cgroup limits"
attempt "no cgroup file system in the container" "^none$" \
    "grep -c cgroup /proc/self/mounts >/dev/null && grep cgroup /proc/self/mounts || echo none"
attempt "mount the memory cgroup" "denied|not permitted" "mkdir -p /dev/cg; mount -t cgroup -o memory cgroup /dev/cg"
attempt "mount cgroup2" "denied|not permitted" "mkdir -p /dev/cg; mount -t cgroup2 none /dev/cg"
attempt "/sys is read-only (no cgroup file system to make there)" "Read-only file system" "mkdir /sys/fs/x"
# The container's cgroup seen from the host, and a write from inside through a user namespace
# of the container's own (a new cgroup namespace rooted at its own cgroup, the v1 hierarchy
# mounted there): the host's view of the limits must not move.
# limit_attempt NAME CONTROLLER FILE VALUE DOCKER-RUN-FLAGS
limit_attempt() {
    local name=$1 ctl=$2 file=$3 value=$4 flags=$5
    local cname=esc-$$-$ctl
    NAMES+=("$cname")
    "$DR" --name "$cname" $flags -v "$WORK/h:/run:ro" sh -c \
        "while [ ! -e /dev/go ]; do sleep 0.05; done; /run/helper userns_cgroup $ctl $file $value; sleep 30" \
        </dev/null >"$WORK/$cname.out" 2>&1 &
    HOSTPIDS+=($!)
    if ! wait_running "$cname"; then fail "$name" "the container did not start: $(cat "$WORK/$cname.out")"; return; fi
    local pid cg before after
    pid=$("$DR" ps | awk -v n="$cname" '$2 == n {print $3}')
    cg=/sys/fs/cgroup/$ctl$(awk -F: -v c="$ctl" '$2 == c {print $3}' /proc/$pid/cgroup)
    local show=$file
    [ "$file" = devices.allow ] && show=devices.list   # write-only; the list is what counts
    before=$(cat "$cg/$show")
    "$DR" exec "$cname" touch /dev/go
    for _ in $(seq 50); do grep -q "userns_cgroup" "$WORK/$cname.out" && break; sleep 0.1; done
    after=$(cat "$cg/$show")
    "$DR" kill "$cname" >/dev/null 2>&1
    if [ "$before" = "$after" ]; then
        pass "$name ($cg/$show stays $(echo $before | head -c 60))"
    else
        fail "$name" "$cg/$show: $(echo $before | head -c 60) -> $(echo $after | head -c 60); inside: $(tr '\n' ' ' <"$WORK/$cname.out")"
    fi
}
limit_attempt "raise its own memory limit (user+cgroup namespace, v1 mount)" memory memory.limit_in_bytes 1073741824 "-m 64m"
limit_attempt "raise its own pids limit (user+cgroup namespace, v1 mount)" pids pids.max max "--pids-limit 50"
limit_attempt "raise its own CPU quota (user+cgroup namespace, v1 mount)" cpu cpu.cfs_quota_us -1 "--cpus 0.5"
limit_attempt "allow every device (user+cgroup namespace, v1 mount)" devices devices.allow a ""

# --- the runtime binary ------------------------------------------------------------------------
echo "=== the runtime binary"
# CVE-2019-5736: a process joining the container (docker-run exec) runs the runtime's binary
# until its exec; /proc/PID/exe of it must not hand the container the host binary. The runtime
# used for the exec is the test's own copy, so a successful write only damages the copy.
cp "$DR" "$WORK/docker-run-copy"
sum_before=$(sha256sum <"$WORK/docker-run-copy")
cname=esc-$$-exe
NAMES+=("$cname")
"$DR" --name "$cname" --network none -v "$WORK/h:/run:ro" /run/helper exe_snoop 20 </dev/null >"$WORK/exe.out" 2>&1 &
snooper=$!
HOSTPIDS+=("$snooper")
if wait_running "$cname"; then
    for _ in $(seq 150); do
        timeout 10 "$WORK/docker-run-copy" exec "$cname" true >/dev/null 2>&1 || break
        grep -q "exe_snoop" "$WORK/exe.out" && break
    done
    "$DR" kill "$cname" >/dev/null 2>&1
    wait "$snooper" 2>/dev/null
    out=$(cat "$WORK/exe.out")
    if grep -q "got\|WRITABLE" <<<"$out"; then
        fail "/proc/PID/exe of a joining exec does not expose the host binary" "$out"
    else
        pass "/proc/PID/exe of a joining exec does not expose the host binary"
    fi
    expect "the runtime binary used for exec is unchanged" "$sum_before" "$(sha256sum <"$WORK/docker-run-copy")"
else
    fail "/proc/PID/exe of a joining exec" "the container did not start: $(cat "$WORK/exe.out")"
fi

# --- documented weakness ---------------------------------------------------------------------
echo "=== documented: --no-pivot (chroot) is escapable by root inside"
out=$(run --no-pivot --network none sh -c "/run/helper chroot_escape $MARKER")
if grep -q "chroot_escape: OK" <<<"$out"; then
    pass "--no-pivot: the chroot escape works, as docs/SECURITY.md says"
else
    fail "--no-pivot: the chroot escape works, as docs/SECURITY.md says" "update docs/SECURITY.md: $out"
fi

expect "the host process is still alive at the end" 0 "$(kill -0 "$HOSTPID" 2>/dev/null; echo $?)"
summary
