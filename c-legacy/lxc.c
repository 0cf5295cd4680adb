/* SPDX-License-Identifier: MIT */
/*
 * The original project's network.h API (include/network.h), LXC's functions
 * with LXC's signatures, written for this project on the c-legacy builder
 * (nl.h) and verbs (network.h). Each function opens a socket on its stack,
 * runs one or two transactions and closes it: nothing allocates, locks,
 * prints or exits, except lxc_mkifname(), which returns a heap copy as LXC's
 * does. See lxc.h for the names the library gives these functions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/random.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "nl.h"
#include "network.h"
#ifdef LEGACY_LXC_PREFIX
#include "lxc.h"
#else
#include "../include/network.h"
#endif

/* Scope-based cleanup of a handler on the stack (LXC memory_utils.h style). */
static inline void nl_closep(struct legacy_nl *h)
{
	legacy_netlink_close(h);
}
#define __do_nl_close __attribute__((__cleanup__(nl_closep)))

/* What lxc_mkifname() puts in place of an X (LXC uses the same set). */
static const char ifname_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
#define IFNAME_NCHARS (sizeof(ifname_chars) - 1)

/* Most names lxc_mkifname() tries before giving up with EEXIST. */
#define MKIFNAME_TRIES 1000

int netdev_set_flag(const char *name, int flag)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	if (flag & IFF_UP)
		return legacy_link_up(&h, name);
	return legacy_link_down(&h, name);
}

int lxc_netdev_up(const char *name)
{
	return netdev_set_flag(name, IFF_UP);
}

int lxc_netdev_down(const char *name)
{
	return netdev_set_flag(name, 0);
}

int lxc_veth_create(const char *name1, const char *name2)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	int ret;

	ret = legacy_ifname_check(name1);
	if (ret == 0)
		ret = legacy_ifname_check(name2);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_veth_create(&h, name1, name2, -1, -1, NULL, 0);
}

/* Start a link request addressed by index. */
static int link_msg_by_index(struct legacy_nlmsg *m, uint16_t type, int ifindex)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
	};
	int ret;

	ret = legacy_nlmsg_init(m, 0, type, 0);
	if (ret < 0)
		return ret;
	return legacy_nlmsg_append(m, &ifi, sizeof(ifi));
}

static int move_by_index(struct legacy_nl *h, int ifindex, pid_t pid,
			 const char *ifname)
{
	struct legacy_nlmsg m;
	int ret;

	ret = link_msg_by_index(&m, RTM_SETLINK, ifindex);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_u32(&m, IFLA_NET_NS_PID, (uint32_t)pid);
	if (ret < 0)
		return ret;
	/* The kernel renames the link as it moves it. */
	if (ifname) {
		ret = legacy_nla_put_string(&m, IFLA_IFNAME, ifname);
		if (ret < 0)
			return ret;
	}
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

/* Arguments of a move, checked before any socket is opened. */
static int check_move(pid_t pid, const char *ifname)
{
	if (pid <= 0)
		return -EINVAL;
	if (ifname)
		return legacy_ifname_check(ifname);
	return 0;
}

int lxc_netdev_move_by_index(int ifindex, pid_t pid, const char *ifname)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	int ret;

	/* No link has an index of 0 or below (if_nametoindex() gives 0). */
	if (ifindex <= 0)
		return -ENODEV;
	ret = check_move(pid, ifname);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return move_by_index(&h, ifindex, pid, ifname);
}

int lxc_netdev_move_by_name(const char *ifname, pid_t pid, const char *newname)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	struct legacy_link_info info;
	int ret;

	ret = legacy_ifname_check(ifname);
	if (ret == 0)
		ret = check_move(pid, newname);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	ret = legacy_link_get(&h, ifname, &info);
	if (ret < 0)
		return ret;
	return move_by_index(&h, info.index, pid, newname);
}

int setup_private_host_hw_addr(char *veth1)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	struct legacy_link_info info;
	int ret;

	ret = legacy_ifname_check(veth1);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	ret = legacy_link_get(&h, veth1, &info);
	if (ret < 0)
		return ret;
	/* Only an Ethernet address has a first byte to change. */
	if (info.addr_len != 6)
		return -EINVAL;
	info.addr[0] = 0xfe;
	return legacy_link_set_mac(&h, veth1, info.addr);
}

int lxc_bridge_attach(const char *bridge, const char *ifname)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	int ret;

	ret = legacy_ifname_check(bridge);
	if (ret == 0)
		ret = legacy_ifname_check(ifname);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_bridge_attach(&h, bridge, ifname);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Six groups of one or two hex digits separated by ':' and nothing else. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi, lo;

		if (i > 0 && *s++ != ':')
			return -EINVAL;
		hi = hex_value(*s);
		if (hi < 0)
			return -EINVAL;
		s++;
		lo = hex_value(*s);
		if (lo < 0) {
			mac[i] = (uint8_t)hi;
		} else {
			mac[i] = (uint8_t)(hi << 4 | lo);
			s++;
		}
	}
	return *s ? -EINVAL : 0;
}

int lxc_convert_mac(char *macaddr, struct sockaddr *sockaddr)
{
	uint8_t mac[6];
	int ret;

	if (!sockaddr)
		return -EINVAL;
	ret = parse_mac(macaddr, mac);
	if (ret < 0)
		return ret;
	sockaddr->sa_family = ARPHRD_ETHER;
	memcpy(sockaddr->sa_data, mac, sizeof(mac));
	return 0;
}

int lxc_ipv4_addr_add(int ifindex, struct in_addr *addr, struct in_addr *bcast,
		      int prefix)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	struct legacy_nlmsg m;
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET,
		.ifa_scope = RT_SCOPE_UNIVERSE,
	};
	int ret;

	if (ifindex <= 0)
		return -ENODEV;
	if (!addr || prefix < 0 || prefix > 32)
		return -EINVAL;
	ifa.ifa_prefixlen = (unsigned char)prefix;
	ifa.ifa_index = (unsigned int)ifindex;

	ret = legacy_nlmsg_init(&m, 0, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		return ret;
	ret = legacy_nlmsg_append(&m, &ifa, sizeof(ifa));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, IFA_LOCAL, addr, sizeof(*addr));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, IFA_ADDRESS, addr, sizeof(*addr));
	if (ret < 0)
		return ret;
	/* As LXC: the caller's broadcast address, as given. */
	if (bcast) {
		ret = legacy_nla_put_buffer(&m, IFA_BROADCAST, bcast, sizeof(*bcast));
		if (ret < 0)
			return ret;
	}

	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(&h, &m, NULL, NULL);
}

/*
 * RTM_NEWROUTE in the main table out of @ifindex: to @dst/@dst_len, or the
 * default route (@dst NULL), via @gw if not NULL.
 */
static int route_add(int ifindex, const struct in_addr *dst, int dst_len,
		     const struct in_addr *gw)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	struct legacy_nlmsg m;
	struct rtmsg rtm = {
		.rtm_family = AF_INET,
		.rtm_dst_len = (unsigned char)dst_len,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		/* A route without a gateway reaches hosts on the link itself. */
		.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	int ret;

	if (ifindex <= 0)
		return -ENODEV;

	ret = legacy_nlmsg_init(&m, 0, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		return ret;
	ret = legacy_nlmsg_append(&m, &rtm, sizeof(rtm));
	if (ret < 0)
		return ret;
	if (dst) {
		ret = legacy_nla_put_buffer(&m, RTA_DST, dst, sizeof(*dst));
		if (ret < 0)
			return ret;
	}
	if (gw) {
		ret = legacy_nla_put_buffer(&m, RTA_GATEWAY, gw, sizeof(*gw));
		if (ret < 0)
			return ret;
	}
	ret = legacy_nla_put_u32(&m, RTA_OIF, (uint32_t)ifindex);
	if (ret < 0)
		return ret;

	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(&h, &m, NULL, NULL);
}

int lxc_ipv4_gateway_add(int ifindex, struct in_addr *gw)
{
	/* 0.0.0.0 is no gateway at all. */
	if (gw && gw->s_addr == htonl(INADDR_ANY))
		gw = NULL;
	return route_add(ifindex, NULL, 0, gw);
}

int lxc_ipv4_dest_add(int ifindex, struct in_addr *dest)
{
	if (!dest)
		return -EINVAL;
	return route_add(ifindex, dest, 32, NULL);
}

int setup_hw_addr(char *hwaddr, const char *ifname)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	uint8_t mac[6];
	int ret;

	ret = parse_mac(hwaddr, mac);
	if (ret == 0)
		ret = legacy_ifname_check(ifname);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_link_set_mac(&h, ifname, mac);
}

/*
 * Fill @buf with random bytes without a lock or an allocation: getrandom(2),
 * else /dev/urandom, else (neither available) the clock and the pid, which is
 * enough for names and MACs that are checked or only need to differ.
 */
static void random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i, got = 0;
	struct timespec ts;
	uint64_t x;
	int fd;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < len) {
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			while (got < len) {
				ssize_t n = read(fd, p + got, len - got);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				got += (size_t)n;
			}
			close(fd);
		}
	}
	if (got < len) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
		    ((uint64_t)getpid() << 17);
		for (i = got; i < len; i++) {
			/* xorshift64: cheap, good enough for this fallback. */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (uint8_t)x;
		}
	}
}

void new_hwaddr(char *hwaddr)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[6] = { 0x00, 0x16, 0x3e };
	int i;

	if (!hwaddr)
		return;
	random_bytes(mac + 3, 3);
	for (i = 0; i < 6; i++) {
		hwaddr[i * 3] = hex[mac[i] >> 4];
		hwaddr[i * 3 + 1] = hex[mac[i] & 0xf];
		hwaddr[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

/* Where @c is in ifname_chars (it is one of them). */
static size_t ifname_char_index(char c)
{
	return c <= '9' ? (size_t)(c - '0') : (size_t)(c - 'A') + 10;
}

/* Advance the X positions of @name, from @first to @len, like an odometer. */
static void next_name(char *name, size_t first, size_t len)
{
	size_t i = len, d;

	while (i > first) {
		i--;
		d = (ifname_char_index(name[i]) + 1) % IFNAME_NCHARS;
		name[i] = ifname_chars[d];
		if (d != 0)
			break;
	}
}

char *lxc_mkifname(char *template_with_trailing_Xs)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	const char *tmpl = template_with_trailing_Xs;
	char name[IFNAMSIZ];
	uint8_t rnd[IFNAMSIZ];
	size_t len, first, i;
	unsigned long space = 1, tries;
	char *copy;
	int ret;

	if (!tmpl || legacy_ifname_check(tmpl) < 0) {
		errno = EINVAL;
		return NULL;
	}
	/* Bounded for the compiler too: the check above allows at most 15. */
	len = strnlen(tmpl, sizeof(name) - 1);
	memcpy(name, tmpl, len);
	name[len] = '\0';
	for (first = len; first > 0 && name[first - 1] == 'X'; first--)
		;

	/*
	 * Start at a random name and count up from there: every name of a small
	 * space (one X has 36) is tried, a large one up to MKIFNAME_TRIES.
	 */
	random_bytes(rnd, sizeof(rnd));
	for (i = len; i-- > first;) {
		name[i] = ifname_chars[rnd[i] % IFNAME_NCHARS];
		if (space < MKIFNAME_TRIES)
			space *= IFNAME_NCHARS;
	}
	tries = space < MKIFNAME_TRIES ? space : MKIFNAME_TRIES;

	ret = legacy_netlink_open(&h);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	for (; tries > 0; tries--) {
		ret = legacy_link_exists(&h, name);
		if (ret < 0) {
			errno = -ret;
			return NULL;
		}
		if (ret == 0) {
			copy = strdup(name);
			if (!copy)
				errno = ENOMEM;
			return copy;
		}
		next_name(name, first, len);
	}
	errno = EEXIST;
	return NULL;
}

int lxc_netdev_delete_by_index(int ifindex)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	struct legacy_nlmsg m;
	int ret;

	if (ifindex <= 0)
		return -ENODEV;
	ret = link_msg_by_index(&m, RTM_DELLINK, ifindex);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(&h, &m, NULL, NULL);
}

int lxc_netdev_delete_by_name(const char *name)
{
	__do_nl_close struct legacy_nl h = { .fd = -1 };
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = legacy_netlink_open(&h);
	if (ret < 0)
		return ret;
	return legacy_link_delete(&h, name);
}
