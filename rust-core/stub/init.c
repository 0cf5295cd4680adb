/* docker-run-init: the runtime's exec stub, the only program a container's own processes are
 * started from. See rust-core/src/process/stub.rs for why it exists; in short: the runtime's
 * child is a clone of the host program (docker-run, or any C/C++ program linking the library),
 * and whatever it execs first sees that host binary as /proc/self/exe, so a `#!/proc/self/exe`
 * command would run the host binary inside the container, where another process could open it
 * through /proc/PID/exe and write to the host's file (CVE-2019-5736). The child therefore execs
 * this stub from a sealed memfd first; the stub execs the command, so at the command's execve
 * /proc/self/exe is the sealed memfd, never a host file.
 *
 * Freestanding: no libc, raw system calls, a few KB, built static by build.rs and embedded in
 * the library. Two modes, by argv[0]:
 *
 *   docker-run-exec SOCK TERMINAL EXEC_STEP INITFORK_STEP N CAND_1..CAND_N ARGV...
 *       execve the first candidate that works (like execvp); on failure report
 *       (EXEC_STEP, candidate index, errno) on the sync socket SOCK and exit 1.
 *   docker-run-init (same arguments)
 *       the container's init (--init, and an exec's first process): fork the command (as
 *       above, in its own process group, in the terminal's foreground when TERMINAL is 1),
 *       forward every signal to it, reap every zombie, exit with its status (128+signal).
 *
 * Signals arrive blocked (the runtime blocked them all); the command gets them unblocked. The
 * report is the runtime's ChildMsg: u32 kind (1: error), u32 step, u32 index, i32 errno. */

#include <asm/unistd.h>

typedef unsigned long u64;

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n"
        "\tand $-16, %rsp\n\tcall stub_main\n\thlt\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n\tmov x0, sp\n\tbl stub_main\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "docker-run-init: only x86_64 and aarch64"
#endif

#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* The constants this needs, as the kernel's UAPI defines them (same on both architectures). */
#define SIG_SETMASK 2
#define SIGCHLD 17
#define F_SETFD 2
#define FD_CLOEXEC 1
#define MSG_NOSIGNAL 0x4000
#define WNOHANG 1
#define TIOCSPGRP 0x5410
#define PR_SET_DUMPABLE 4
#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define EINTR 4

struct child_msg {
	unsigned int kind, step, index;
	int err;
};

/* The compiler may emit calls to these for struct copies even when freestanding. */
void *memset(void *d, int c, u64 n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, u64 n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

static __attribute__((noreturn)) void die(int code)
{
	for (;;)
		sys1(__NR_exit_group, code);
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static u64 len(const char *s)
{
	u64 n = 0;
	while (s[n])
		n++;
	return n;
}

/* A decimal number, or -1. */
static long number(const char *s)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

struct args {
	long sock, terminal, exec_step, initfork_step, ncand;
	char **cand, **argv, **envp;
};

/* "exec PATH: errno N" on stderr, for when nobody reads the socket any more (an OCI create
 * whose runtime exited before start released the container). */
static void report_stderr(const char *path, long err)
{
	char num[24];
	int i = sizeof num;
	unsigned long v = (unsigned long)err;
	num[--i] = '\n';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && i > 0);
	sys3(__NR_write, 2, "container init: exec ", 21);
	sys3(__NR_write, 2, path, len(path));
	sys3(__NR_write, 2, ": errno ", 8);
	sys3(__NR_write, 2, num + i, sizeof num - (unsigned long)i);
}

static void report(const struct args *a, long step, long index, long err)
{
	struct child_msg m = { 1, (unsigned int)step, (unsigned int)index, (int)err };
	if (sys6(__NR_sendto, a->sock, (long)&m, sizeof m, MSG_NOSIGNAL, 0, 0) < 0)
		report_stderr(a->ncand > index ? a->cand[index] : a->argv[0], err);
}

/* execve over the candidates like execvp: the first error other than ENOENT wins. */
static __attribute__((noreturn)) void exec_command(const struct args *a)
{
	u64 none = 0;
	long failed_index = 0, failed = ENOENT;
	sys4(__NR_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none);
	/* EOF on the socket now means the exec worked. */
	sys3(__NR_fcntl, a->sock, F_SETFD, FD_CLOEXEC);
	for (long i = 0; i < a->ncand; i++) {
		long e = -sys3(__NR_execve, a->cand[i], a->argv, a->envp);
		if (e != ENOENT && e != ENOTDIR) {
			if (failed == ENOENT)
				failed_index = i, failed = e;
			if (e != EACCES)
				break;
		}
	}
	report(a, a->exec_step, failed_index, failed);
	die(1);
}

/* Forwards every signal but SIGCHLD to pid, reaps every child, exits with pid's status. */
static __attribute__((noreturn)) void forward_and_reap(long pid)
{
	u64 all = ~0UL;
	unsigned char info[128];
	for (;;) {
		long sig = sys4(__NR_rt_sigtimedwait, &all, info, 0, sizeof all);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			sys2(__NR_kill, pid, sig);
			continue;
		}
		for (;;) {
			int status = 0;
			long r = sys4(__NR_wait4, -1, &status, WNOHANG, 0);
			if (r <= 0)
				break;
			if (r == pid)
				die((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
		}
	}
}

static __attribute__((noreturn)) void init(const struct args *a)
{
	u64 all = ~0UL;
	/* Arrive blocked already; block them anyway, sigtimedwait needs it (SIGCHLD's default is
	 * to discard). */
	sys4(__NR_rt_sigprocmask, SIG_SETMASK, &all, 0, sizeof all);
	/* PID 1 for the container's whole life: keep its memory and descriptors out of reach. */
	sys2(__NR_prctl, PR_SET_DUMPABLE, 0);
	long pid = sys6(__NR_clone, SIGCHLD, 0, 0, 0, 0, 0);
	if (pid < 0) {
		report(a, a->initfork_step, 0, -pid);
		die(1);
	}
	if (pid == 0) {
		/* Its own process group in the terminal's foreground: a Ctrl-C typed there reaches
		 * the command once, not also this init (which would forward it again). */
		sys2(__NR_setpgid, 0, 0);
		if (a->terminal) {
			int self = (int)sys0(__NR_getpid);
			sys3(__NR_ioctl, 0, TIOCSPGRP, &self);
		}
		exec_command(a);
	}
	/* The command reports its exec errors itself, and EOF must come from its exec: close the
	 * socket here, and whatever else is above stdio. */
	sys3(__NR_close_range, 3, ~0U, 0);
	forward_and_reap(pid);
}

static __attribute__((noreturn)) void usage(void)
{
	static const char msg[] =
		"docker-run-init: the container runtime's exec stub; not a command to run\n";
	sys3(__NR_write, 2, msg, len(msg));
	die(127);
}

__attribute__((noreturn, used)) void stub_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	struct args a;
	if (argc < 6)
		usage();
	a.sock = number(argv[1]);
	a.terminal = number(argv[2]);
	a.exec_step = number(argv[3]);
	a.initfork_step = number(argv[4]);
	a.ncand = number(argv[5]);
	if (a.sock < 0 || a.terminal < 0 || a.exec_step < 0 || a.initfork_step < 0 || a.ncand < 1 ||
	    argc < 6 + a.ncand + 1)
		usage();
	a.cand = argv + 6;
	a.argv = argv + 6 + a.ncand;
	a.envp = argv + argc + 1;
	if (streq(argv[0], "docker-run-exec"))
		exec_command(&a);
	if (streq(argv[0], "docker-run-init"))
		init(&a);
	usage();
}
