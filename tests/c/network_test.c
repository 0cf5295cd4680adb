/*
 * network_test.c: Tier 2 tests of the original project's network.h API (include/network.h),
 * linked against libcontainer_runtime (tests/abi.sh builds it against the .a and the .so).
 *
 *   network_test
 *
 * Part 1 needs no privileges: argument checks, lxc_convert_mac(), new_hwaddr(). Part 2 needs
 * root and runs in a private network namespace of its own (unshare(CLONE_NEWNET) first, and a
 * check that it differs from the host's), plus child processes in namespaces of their own for
 * moves, so the host's interfaces and routes are never touched and no packet leaves.
 * Without root part 2 is skipped visibly; when CI=true a skip counts as a failure.
 *
 * Every call but lxc_mkifname() is also checked to allocate nothing: this program replaces
 * malloc() and counts. The last line is "N passed, N failed"; the exit status is non-zero if
 * anything failed.
 */
#define _GNU_SOURCE

/* The original's own includes come first: network.h must work after them. */
#include <arpa/inet.h>
#include <net/if.h>
#include "network.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sockios.h>

static int passed;
static int failed;

static void check(bool ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	}
}

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

/* ---- allocation counting: malloc() and friends, replaced -------------------------------- */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static volatile int counting;
static volatile long allocations;

void *malloc(size_t size)
{
	if (counting)
		allocations++;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocations++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (counting)
		allocations++;
	return __libc_realloc(p, size);
}

void free(void *p)
{
	__libc_free(p);
}

/* A call's result equals want, and the call allocated nothing. */
static void check_rc(long got, long want, long allocs, const char *expr, const char *file, int line)
{
	if (got == want && allocs == 0) {
		passed++;
		return;
	}
	failed++;
	if (got != want)
		fprintf(stderr, "FAIL %s:%d: %s returned %ld (%s), expected %ld (%s)\n", file, line,
			expr, got, got < 0 ? strerror((int)-got) : "ok", want,
			want < 0 ? strerror((int)-want) : "ok");
	else
		fprintf(stderr, "FAIL %s:%d: %s allocated %ld times\n", file, line, expr, allocs);
}

#define CHECK_RC(call, want)                                                              \
	do {                                                                              \
		long got_, allocs_;                                                       \
		allocations = 0;                                                          \
		counting = 1;                                                             \
		got_ = (call);                                                            \
		counting = 0;                                                             \
		allocs_ = allocations;                                                    \
		check_rc(got_, (want), allocs_, #call, __FILE__, __LINE__);               \
	} while (0)

/* ---- helpers that ask the kernel directly, not through the library ---------------------- */

static int ioctl_sock(void)
{
	return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static int link_flags(const char *name)
{
	struct ifreq ifr;
	int fd = ioctl_sock(), ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	close(fd);
	return ret < 0 ? -1 : ifr.ifr_flags;
}

static bool get_mac(const char *name, unsigned char mac[6])
{
	struct ifreq ifr;
	int fd = ioctl_sock(), ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ret = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (ret < 0)
		return false;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return true;
}

/* The address of SIOCGIFADDR, SIOCGIFBRDADDR or SIOCGIFNETMASK as dotted text. */
static const char *ipv4_of(const char *name, unsigned long request, char *buf)
{
	struct ifreq ifr;
	int fd = ioctl_sock(), ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ret = ioctl(fd, request, &ifr);
	close(fd);
	if (ret < 0)
		return "none";
	return inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, buf,
			 INET_ADDRSTRLEN);
}

/* Whether /proc/self/net/route has a route out of dev to dest/mask via gw (hex, as there). */
static bool has_route(const char *dev, const char *dest, const char *gw, const char *mask)
{
	char line[256], d[IFNAMSIZ], de[16], g[16], m[16];
	unsigned flags, refcnt, use, metric;
	bool found = false;
	FILE *f = fopen("/proc/self/net/route", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %15s %15s %x %u %u %u %15s", d, de, g, &flags, &refcnt, &use,
			   &metric, m) == 8 &&
		    strcmp(d, dev) == 0 && strcmp(de, dest) == 0 && strcmp(g, gw) == 0 &&
		    strcmp(m, mask) == 0)
			found = true;
	}
	fclose(f);
	return found;
}

static bool bridge_add(const char *name)
{
	int fd = ioctl_sock(), ret = ioctl(fd, SIOCBRADDBR, name);

	close(fd);
	return ret == 0;
}

/* SIOCBRDELIF only succeeds for a port of the bridge: an independent check of attach. */
static bool bridge_has_port_then_remove(const char *bridge, const char *port)
{
	struct ifreq ifr;
	int fd = ioctl_sock(), ret;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
	ifr.ifr_ifindex = (int)if_nametoindex(port);
	ret = ioctl(fd, SIOCBRDELIF, &ifr);
	close(fd);
	return ret == 0;
}

/* A process in a new network namespace, blocked until stop_netns_child(). */
struct netns_child {
	pid_t pid;
	int hold;
};

static bool start_netns_child(struct netns_child *c)
{
	int ready[2], hold[2];
	char ok = 0;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
		return false;
	c->pid = fork();
	if (c->pid == 0) {
		char byte = unshare(CLONE_NEWNET) == 0;

		if (write(ready[1], &byte, 1) != 1)
			_exit(1);
		if (read(hold[0], &byte, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	c->hold = hold[1];
	if (c->pid < 0 || read(ready[0], &ok, 1) != 1)
		ok = 0;
	close(ready[0]);
	return ok == 1;
}

static void stop_netns_child(struct netns_child *c)
{
	close(c->hold);
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

/* Whether /proc/PID/net/dev lists the link. */
static bool link_in_netns_of(pid_t pid, const char *name)
{
	char path[64], line[256], want[IFNAMSIZ + 2];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	snprintf(want, sizeof(want), "%s:", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		while (*p == ' ')
			p++;
		if (strncmp(p, want, strlen(want)) == 0)
			found = true;
	}
	fclose(f);
	return found;
}

/* ---- part 1: no privileges ------------------------------------------------------------- */

static char long_name[] = "0123456789abcdef"; /* 16 bytes: one too many */

static void test_argument_checks(void)
{
	struct in_addr a = { 0 };

	CHECK_RC(lxc_netdev_up(NULL), -EINVAL);
	CHECK_RC(lxc_netdev_up(""), -EINVAL);
	CHECK_RC(lxc_netdev_up(long_name), -EINVAL);
	CHECK_RC(lxc_netdev_down("a/b"), -EINVAL);
	CHECK_RC(netdev_set_flag("..", IFF_UP), -EINVAL);
	CHECK_RC(lxc_veth_create("ok0", long_name), -EINVAL);
	CHECK_RC(lxc_veth_create(NULL, "ok1"), -EINVAL);
	CHECK_RC(lxc_netdev_move_by_name(NULL, 1, "eth0"), -EINVAL);
	CHECK_RC(lxc_netdev_move_by_name("lo", 0, "eth0"), -EINVAL);
	CHECK_RC(lxc_netdev_move_by_name("lo", 1, "e:0"), -EINVAL);
	CHECK_RC(lxc_netdev_move_by_index(0, 1, NULL), -ENODEV);
	CHECK_RC(lxc_netdev_move_by_index(1, -5, NULL), -EINVAL);
	CHECK_RC(setup_private_host_hw_addr(NULL), -EINVAL);
	CHECK_RC(lxc_bridge_attach("br 0", "lo"), -EINVAL);
	CHECK_RC(lxc_bridge_attach("br0", NULL), -EINVAL);
	CHECK_RC(lxc_ipv4_addr_add(1, NULL, NULL, 24), -EINVAL);
	CHECK_RC(lxc_ipv4_addr_add(1, &a, NULL, 33), -EINVAL);
	CHECK_RC(lxc_ipv4_addr_add(0, &a, NULL, 24), -ENODEV);
	CHECK_RC(lxc_ipv4_gateway_add(0, &a), -ENODEV);
	CHECK_RC(lxc_ipv4_dest_add(1, NULL), -EINVAL);
	CHECK_RC(lxc_ipv4_dest_add(-1, &a), -ENODEV);
	CHECK_RC(setup_hw_addr(NULL, "lo"), -EINVAL);
	CHECK_RC(setup_hw_addr("02:00:00:00:00:01", long_name), -EINVAL);
	CHECK_RC(lxc_netdev_delete_by_index(0), -ENODEV);
	CHECK_RC(lxc_netdev_delete_by_name(""), -EINVAL);

	errno = 0;
	CHECK(lxc_mkifname(NULL) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(lxc_mkifname(long_name) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(lxc_mkifname("a/XXX") == NULL && errno == EINVAL);
}

static void test_convert_mac(void)
{
	struct sockaddr sa;
	static const unsigned char want[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
	static const char *const bad[] = {
		"", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02-42-ac-11-00-02", "0g:42:ac:11:00:02",
		"123:42:ac:11:00:02", "02:42:ac:11:00:02 ", "02::ac:11:00:02", ":02:42:ac:11:00",
	};
	char buf[32];
	size_t i;

	memset(&sa, 0, sizeof(sa));
	CHECK_RC(lxc_convert_mac(strcpy(buf, "02:42:ac:11:00:02"), &sa), 0);
	CHECK(sa.sa_family == ARPHRD_ETHER && memcmp(sa.sa_data, want, 6) == 0);
	memset(&sa, 0, sizeof(sa));
	CHECK_RC(lxc_convert_mac(strcpy(buf, "2:42:AC:11:0:2"), &sa), 0);
	CHECK(memcmp(sa.sa_data, want, 6) == 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&sa, 0x5a, sizeof(sa));
		CHECK_RC(lxc_convert_mac(strcpy(buf, bad[i]), &sa), -EINVAL);
		CHECK(sa.sa_family == 0x5a5a); /* unchanged */
	}
	CHECK_RC(lxc_convert_mac(NULL, &sa), -EINVAL);
	CHECK_RC(lxc_convert_mac(strcpy(buf, "02:42:ac:11:00:02"), NULL), -EINVAL);
}

static long hwaddr_allocs;

static void new_hwaddr_counted(char *buf)
{
	allocations = 0;
	counting = 1;
	new_hwaddr(buf);
	counting = 0;
	hwaddr_allocs += allocations;
}

static void test_new_hwaddr(void)
{
	char a[18], b[18];
	struct sockaddr sa;
	int i, differ = 0;

	memset(a, 'x', sizeof(a));
	new_hwaddr_counted(a);
	CHECK(strlen(a) == 17 && strncmp(a, "00:16:3e:", 9) == 0);
	for (i = 9; i < 17; i++)
		CHECK(i % 3 == 2 ? a[i] == ':' : strchr("0123456789abcdef", a[i]) != NULL);
	CHECK(lxc_convert_mac(a, &sa) == 0);
	/* Random: ten more are not all the same as the first (chance 2^-240). */
	for (i = 0; i < 10; i++) {
		new_hwaddr_counted(b);
		differ += strcmp(a, b) != 0;
	}
	CHECK(differ > 0);
	new_hwaddr_counted(NULL);
	CHECK(hwaddr_allocs == 0);
}

/* ---- part 2: root, in private network namespaces --------------------------------------- */

static void test_link_up_down(void)
{
	CHECK((link_flags("lo") & IFF_UP) == 0);
	CHECK_RC(lxc_netdev_up("lo"), 0);
	CHECK((link_flags("lo") & IFF_UP) != 0);
	CHECK_RC(lxc_netdev_down("lo"), 0);
	CHECK((link_flags("lo") & IFF_UP) == 0);
	CHECK_RC(netdev_set_flag("lo", IFF_UP | IFF_PROMISC), 0);
	CHECK((link_flags("lo") & (IFF_UP | IFF_PROMISC)) == IFF_UP); /* only IFF_UP changes */
	CHECK_RC(netdev_set_flag("lo", 0), 0);
	CHECK((link_flags("lo") & IFF_UP) == 0);
	CHECK_RC(lxc_netdev_up("nosuchlink0"), -ENODEV);
	CHECK_RC(lxc_netdev_down("nosuchlink0"), -ENODEV);
	CHECK_RC(lxc_netdev_up("lo"), 0);
}

static void test_veth_and_delete(void)
{
	int index;

	CHECK_RC(lxc_veth_create("nt0", "nt1"), 0);
	CHECK(link_exists("nt0") && link_exists("nt1"));
	CHECK((link_flags("nt0") & IFF_UP) == 0);
	CHECK_RC(lxc_veth_create("nt0", "nt2"), -EEXIST);
	CHECK_RC(lxc_veth_create("nt3", "nt1"), -EEXIST);
	CHECK(!link_exists("nt2") && !link_exists("nt3"));

	CHECK_RC(lxc_netdev_delete_by_name("nt0"), 0);
	CHECK(!link_exists("nt0") && !link_exists("nt1")); /* the peer goes with it */
	CHECK_RC(lxc_netdev_delete_by_name("nt0"), -ENODEV);

	CHECK_RC(lxc_veth_create("nt4", "nt5"), 0);
	index = (int)if_nametoindex("nt5");
	CHECK_RC(lxc_netdev_delete_by_index(index), 0);
	CHECK(!link_exists("nt4") && !link_exists("nt5"));
	CHECK_RC(lxc_netdev_delete_by_index(index), -ENODEV);
}

static void test_mkifname(void)
{
	char tmpl[] = "ntXXXX", one[] = "nqX", fixed[] = "nfree0", taken[] = "lo";
	char names[36][8];
	char *name;
	int i, j;

	name = lxc_mkifname(tmpl);
	CHECK(name != NULL && name != tmpl);
	CHECK(strcmp(tmpl, "ntXXXX") == 0); /* the template is left unchanged */
	if (name) {
		CHECK(strlen(name) == 6 && strncmp(name, "nt", 2) == 0);
		for (i = 2; i < 6; i++)
			CHECK(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", name[i]) != NULL);
		CHECK(!link_exists(name));
		free(name);
	}

	name = lxc_mkifname(fixed);
	CHECK(name != NULL && strcmp(name, "nfree0") == 0);
	free(name);
	errno = 0;
	CHECK(lxc_mkifname(taken) == NULL && errno == EEXIST);

	/* One X has 36 names: take them all, then free one and get exactly that one back. */
	for (i = 0; i < 36; i += 2) {
		snprintf(names[i], sizeof(names[i]), "nq%c", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]);
		snprintf(names[i + 1], sizeof(names[i + 1]), "nq%c",
			 "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i + 1]);
		CHECK_RC(lxc_veth_create(names[i], names[i + 1]), 0);
	}
	errno = 0;
	CHECK(lxc_mkifname(one) == NULL && errno == EEXIST);
	CHECK_RC(lxc_netdev_delete_by_name("nqK"), 0); /* and its peer nqL */
	for (j = 0; j < 5; j++) {
		name = lxc_mkifname(one);
		CHECK(name != NULL && (strcmp(name, "nqK") == 0 || strcmp(name, "nqL") == 0));
		free(name);
	}
	for (i = 0; i < 36; i += 2)
		if (link_exists(names[i]))
			lxc_netdev_delete_by_name(names[i]);
}

static void test_mac(void)
{
	unsigned char before[6], after[6];
	char mac[18] = "02:11:22:33:44:55";

	CHECK_RC(lxc_veth_create("nm0", "nm1"), 0);
	CHECK(get_mac("nm0", before));
	CHECK_RC(setup_private_host_hw_addr("nm0"), 0);
	CHECK(get_mac("nm0", after));
	CHECK(after[0] == 0xfe && memcmp(before + 1, after + 1, 5) == 0);
	CHECK_RC(setup_private_host_hw_addr("nosuchlink0"), -ENODEV);

	CHECK_RC(setup_hw_addr(mac, "nm1"), 0);
	CHECK(get_mac("nm1", after));
	CHECK(memcmp(after, "\x02\x11\x22\x33\x44\x55", 6) == 0);
	new_hwaddr(mac);
	CHECK_RC(setup_hw_addr(mac, "nm1"), 0);
	CHECK(get_mac("nm1", after) && after[0] == 0x00 && after[1] == 0x16 && after[2] == 0x3e);
	CHECK_RC(setup_hw_addr("01:00:5e:00:00:01", "nm1"), -EADDRNOTAVAIL);
	CHECK_RC(setup_hw_addr("02:11:22:33:44", "nm1"), -EINVAL);
	CHECK_RC(setup_hw_addr(mac, "nosuchlink0"), -ENODEV);
	lxc_netdev_delete_by_name("nm0");
}

static void test_bridge_attach(void)
{
	CHECK(bridge_add("nbr0"));
	CHECK_RC(lxc_veth_create("nb0", "nb1"), 0);
	CHECK_RC(lxc_bridge_attach("nbr0", "nb0"), 0);
	CHECK(bridge_has_port_then_remove("nbr0", "nb0"));
	CHECK(!bridge_has_port_then_remove("nbr0", "nb1"));
	CHECK_RC(lxc_bridge_attach("nosuchbr0", "nb1"), -ENODEV);
	CHECK_RC(lxc_bridge_attach("nbr0", "nosuchlink0"), -ENODEV);
	lxc_netdev_delete_by_name("nb0");
	lxc_netdev_delete_by_name("nbr0");
}

static void test_move(void)
{
	struct netns_child c;
	pid_t gone;
	int index;

	if (!start_netns_child(&c)) {
		CHECK(!"a child in a network namespace of its own");
		return;
	}
	CHECK_RC(lxc_veth_create("nv0", "nv1"), 0);
	CHECK_RC(lxc_netdev_move_by_name("nv1", c.pid, "eth0"), 0);
	CHECK(!link_exists("nv1") && link_in_netns_of(c.pid, "eth0"));
	CHECK(!link_in_netns_of(c.pid, "nv1"));

	CHECK_RC(lxc_veth_create("nv2", "nv3"), 0);
	index = (int)if_nametoindex("nv3");
	CHECK_RC(lxc_netdev_move_by_index(index, c.pid, NULL), 0); /* keeps its name */
	CHECK(!link_exists("nv3") && link_in_netns_of(c.pid, "nv3"));
	CHECK_RC(lxc_netdev_move_by_index(index, c.pid, NULL), -ENODEV); /* gone from here */

	CHECK_RC(lxc_netdev_move_by_name("nosuchlink0", c.pid, "eth0"), -ENODEV);

	/* A pid that no longer exists: a reaped child's. The link stays. */
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	CHECK_RC(lxc_netdev_move_by_name("nv2", gone, NULL), -ESRCH);
	CHECK(link_exists("nv2"));

	/*
	 * The new name is taken there: the kernel moves the link first and renames it there,
	 * so it arrives under its old name and the call says -EEXIST (as LXC's does).
	 */
	CHECK_RC(lxc_netdev_move_by_name("nv2", c.pid, "eth0"), -EEXIST);
	CHECK(!link_exists("nv2") && link_in_netns_of(c.pid, "nv2"));

	stop_netns_child(&c);
	lxc_netdev_delete_by_name("nv0");
	lxc_netdev_delete_by_name("nv2");
}

static void test_addresses_and_routes(void)
{
	struct in_addr addr, bcast, gw, far;
	char buf[INET_ADDRSTRLEN];
	int index;

	CHECK_RC(lxc_veth_create("na0", "na1"), 0);
	CHECK_RC(lxc_netdev_up("na0"), 0);
	CHECK_RC(lxc_netdev_up("na1"), 0);
	index = (int)if_nametoindex("na0");

	inet_pton(AF_INET, "10.211.0.2", &addr);
	inet_pton(AF_INET, "10.211.0.255", &bcast);
	CHECK_RC(lxc_ipv4_addr_add(index, &addr, &bcast, 24), 0);
	CHECK(strcmp(ipv4_of("na0", SIOCGIFADDR, buf), "10.211.0.2") == 0);
	CHECK(strcmp(ipv4_of("na0", SIOCGIFBRDADDR, buf), "10.211.0.255") == 0);
	CHECK(strcmp(ipv4_of("na0", SIOCGIFNETMASK, buf), "255.255.255.0") == 0);
	CHECK_RC(lxc_ipv4_addr_add(index, &addr, &bcast, 24), -EEXIST);
	CHECK_RC(lxc_ipv4_addr_add(99999, &addr, &bcast, 24), -ENODEV);

	/* Without a broadcast address, none is set. */
	inet_pton(AF_INET, "10.212.0.2", &addr);
	CHECK_RC(lxc_ipv4_addr_add((int)if_nametoindex("na1"), &addr, NULL, 16), 0);
	CHECK(strcmp(ipv4_of("na1", SIOCGIFADDR, buf), "10.212.0.2") == 0);
	CHECK(strcmp(ipv4_of("na1", SIOCGIFBRDADDR, buf), "0.0.0.0") == 0);

	/* A gateway outside the link's subnet needs a host route first. */
	inet_pton(AF_INET, "192.0.2.1", &far);
	CHECK_RC(lxc_ipv4_gateway_add(index, &far), -ENETUNREACH);
	CHECK_RC(lxc_ipv4_dest_add(index, &far), 0);
	CHECK(has_route("na0", "010200C0", "00000000", "FFFFFFFF"));
	CHECK_RC(lxc_ipv4_dest_add(index, &far), -EEXIST);
	CHECK_RC(lxc_ipv4_dest_add(99999, &far), -ENODEV);
	CHECK_RC(lxc_ipv4_gateway_add(index, &far), 0);
	CHECK(has_route("na0", "00000000", "010200C0", "00000000"));

	inet_pton(AF_INET, "10.211.0.1", &gw);
	CHECK_RC(lxc_ipv4_gateway_add(index, &gw), -EEXIST);
	/* For an index no link has, the kernel finds no route to the gateway. */
	CHECK_RC(lxc_ipv4_gateway_add(99999, &gw), -ENETUNREACH);
	lxc_netdev_delete_by_name("na0");
}

/* A default route without a gateway, in a namespace of its own (the main one has one). */
static void test_gateway_without_address(void)
{
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		int ok = unshare(CLONE_NEWNET) == 0 && lxc_veth_create("ng0", "ng1") == 0 &&
			 lxc_netdev_up("ng0") == 0 &&
			 lxc_ipv4_gateway_add((int)if_nametoindex("ng0"), NULL) == 0 &&
			 has_route("ng0", "00000000", "00000000", "00000000");
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * The original's shape: a raw clone() into a new network namespace while another thread
 * allocates all the time, then lo up, a veth, an address, a gateway and a MAC in the child.
 * A call that took malloc's lock in the child could deadlock here (the alarm ends it).
 */
static volatile int hammering = 1;

static void *hammer(void *arg)
{
	(void)arg;
	while (hammering)
		free(malloc(64));
	return NULL;
}

static char clone_stack[256 * 1024];

static int clone_child(void *arg)
{
	struct in_addr addr, gw;
	char mac[18];
	int index;

	(void)arg;
	alarm(10);
	/* _exit, not return: the return path runs exit(), whose stdio and malloc locks may be
	 * held by the hammering thread at the time of the clone. */
	inet_pton(AF_INET, "10.213.0.2", &addr);
	inet_pton(AF_INET, "10.213.0.1", &gw);
	if (lxc_netdev_up("lo") || lxc_veth_create("nc0", "eth0") || lxc_netdev_up("eth0") ||
	    lxc_netdev_up("nc0"))
		_exit(1);
	index = (int)if_nametoindex("eth0");
	if (lxc_ipv4_addr_add(index, &addr, NULL, 24) || lxc_ipv4_gateway_add(index, &gw))
		_exit(2);
	new_hwaddr(mac);
	if (setup_hw_addr(mac, "eth0"))
		_exit(3);
	_exit(0);
}

static void test_after_raw_clone(void)
{
	pthread_t t;
	pid_t pid;
	int status = -1;

	pthread_create(&t, NULL, hammer, NULL);
	pid = clone(clone_child, clone_stack + sizeof(clone_stack), CLONE_NEWNET | SIGCHLD, NULL);
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	hammering = 0;
	pthread_join(t, NULL);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool enter_private_netns(void)
{
	char host[64] = "", ours[64] = "";

	if (readlink("/proc/self/ns/net", host, sizeof(host) - 1) < 0)
		return false;
	if (unshare(CLONE_NEWNET) < 0)
		return false;
	if (readlink("/proc/self/ns/net", ours, sizeof(ours) - 1) < 0)
		return false;
	return strcmp(host, ours) != 0;
}

int main(void)
{
	const char *ci = getenv("CI");

	test_argument_checks();
	test_convert_mac();
	test_new_hwaddr();

	if (geteuid() != 0) {
		printf("skipped: network.h tests on real links need root\n");
		if (ci && strcmp(ci, "true") == 0) {
			failed++;
			fprintf(stderr, "FAIL: CI=true and the root part was skipped\n");
		}
	} else if (!enter_private_netns()) {
		/* Never go on in the host's namespace. */
		failed++;
		fprintf(stderr, "FAIL: could not enter a private network namespace: %s\n",
			strerror(errno));
	} else {
		test_link_up_down();
		test_veth_and_delete();
		test_mkifname();
		test_mac();
		test_bridge_attach();
		test_move();
		test_addresses_and_routes();
		test_gateway_without_address();
		test_after_raw_clone();
	}

	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
