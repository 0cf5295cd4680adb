/* SPDX-License-Identifier: MIT */
/*
 * C-level tests of c-legacy/: the message builder's capacity checks and
 * argument validation (no privileges needed), then, as root, a few verbs in a
 * private network namespace (unshare(CLONE_NEWNET), so the host's interfaces
 * are never touched).
 *
 * Build and run from the repository root:
 *   cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ic-legacy \
 *      tests/c/test_legacy_netlink.c c-legacy/nl.c c-legacy/network.c \
 *      -o tests/c/test_legacy_netlink.bin && tests/c/test_legacy_netlink.bin
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "legacy.h"

static int passed, failed;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (cond) {                                                   \
			passed++;                                             \
		} else {                                                      \
			failed++;                                             \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                             \
		}                                                             \
	} while (0)

static void test_builder_capacity(void)
{
	struct legacy_nlmsg m;
	struct rtattr *nest;
	char big[LEGACY_NLMSG_SIZE];
	uint32_t used;

	CHECK(legacy_nlmsg_init(NULL, 0, RTM_GETLINK, 0) == -EINVAL);
	CHECK(legacy_nlmsg_init(&m, NLMSG_HDRLEN - 1, RTM_GETLINK, 0) == -EINVAL);

	/* Default capacity, flags always carry REQUEST and ACK. */
	CHECK(legacy_nlmsg_init(&m, 0, RTM_GETLINK, 0) == 0);
	CHECK(m.cap == LEGACY_NLMSG_SIZE);
	CHECK(m.hdr.nlmsg_len == NLMSG_HDRLEN);
	CHECK((m.hdr.nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) ==
	      (NLM_F_REQUEST | NLM_F_ACK));

	/* A payload larger than the buffer fails and leaves the message as is. */
	memset(big, 'x', sizeof(big));
	CHECK(legacy_nla_put_buffer(&m, IFLA_IFNAME, big, sizeof(big)) == -EMSGSIZE);
	CHECK(m.hdr.nlmsg_len == NLMSG_HDRLEN);

	/* A 32-byte message: header (16) + one u32 attribute (8) + 8 spare. */
	CHECK(legacy_nlmsg_init(&m, 32, RTM_SETLINK, 0) == 0);
	CHECK(legacy_nla_put_u32(&m, IFLA_MTU, 1500) == 0);
	CHECK(m.hdr.nlmsg_len == 24);
	/* "eth0" takes 4 + 5 -> 12 bytes: no room. */
	CHECK(legacy_nla_put_string(&m, IFLA_IFNAME, "eth0") == -EMSGSIZE);
	CHECK(m.hdr.nlmsg_len == 24);
	CHECK(legacy_nla_put_u32(&m, IFLA_MTU, 1500) == 0);
	CHECK(m.hdr.nlmsg_len == 32);
	CHECK(legacy_nla_put_u32(&m, IFLA_MTU, 1500) == -EMSGSIZE);
	CHECK(legacy_nla_begin_nested(&m, IFLA_LINKINFO) == NULL);
	CHECK(legacy_nlmsg_append(&m, "x", 1) == -EMSGSIZE);

	CHECK(legacy_nla_put_string(&m, IFLA_IFNAME, NULL) == -EINVAL);
	CHECK(legacy_nla_put_buffer(&m, IFLA_ADDRESS, NULL, 6) == -EINVAL);

	/* Nested lengths cover their children, padding included. */
	CHECK(legacy_nlmsg_init(&m, 0, RTM_NEWLINK, 0) == 0);
	nest = legacy_nla_begin_nested(&m, IFLA_LINKINFO);
	CHECK(nest != NULL);
	if (nest) {
		CHECK(legacy_nla_put_string(&m, IFLA_INFO_KIND, "veth") == 0);
		legacy_nla_end_nested(&m, nest);
		used = m.hdr.nlmsg_len;
		CHECK(nest->rta_len == RTA_LENGTH(RTA_ALIGN(RTA_LENGTH(5))));
		CHECK(used == NLMSG_HDRLEN + (uint32_t)nest->rta_len);
	}
	legacy_nla_end_nested(&m, NULL);
}

static void test_arguments(void)
{
	struct legacy_nl closed = { .fd = -1 };
	struct legacy_nlmsg m;
	struct in_addr a = { .s_addr = htonl(0x0a000001) };
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	legacy_netlink_close(NULL);
	legacy_netlink_close(&closed);
	CHECK(closed.fd == -1);
	CHECK(legacy_netlink_open(NULL) == -EINVAL);

	CHECK(legacy_nlmsg_init(&m, 0, RTM_GETLINK, 0) == 0);
	CHECK(legacy_netlink_transaction(&closed, &m, NULL, NULL) == -EINVAL);
	CHECK(legacy_netlink_transaction(NULL, &m, NULL, NULL) == -EINVAL);

	/* Bad names are refused before any I/O (the handler is closed). */
	CHECK(legacy_link_up(&closed, "0123456789abcdef") == -EINVAL);
	CHECK(legacy_link_up(&closed, "") == -EINVAL);
	CHECK(legacy_link_up(&closed, NULL) == -EINVAL);
	CHECK(legacy_link_down(&closed, "a/b") == -EINVAL);
	CHECK(legacy_link_delete(&closed, "a b") == -EINVAL);
	CHECK(legacy_link_exists(&closed, "..") == -EINVAL);
	CHECK(legacy_veth_create(&closed, "v0", "0123456789abcdef", -1, -1,
				 NULL, 0) == -EINVAL);
	CHECK(legacy_veth_create(&closed, "v0", "eth0", 1, 3, NULL, 0) == -EINVAL);
	CHECK(legacy_bridge_create(&closed, "eth0:1") == -EINVAL);
	CHECK(legacy_link_set_mac(&closed, "eth0", NULL) == -EINVAL);
	CHECK(legacy_link_set_mtu(&closed, "eth0", 0) == -EINVAL);
	CHECK(legacy_link_move_to_netns_pid(&closed, "eth0", 0) == -EINVAL);
	CHECK(legacy_link_move_to_netns_fd(&closed, "eth0", -1) == -EBADF);
	CHECK(legacy_ipv4_addr_add(&closed, "eth0", a, 33) == -EINVAL);
	CHECK(legacy_ipv4_default_route_add(&closed, (struct in_addr){ 0 },
					    NULL) == -EINVAL);
	/* A valid name reaches the transaction, which refuses the closed socket. */
	CHECK(legacy_link_set_mac(&closed, "eth0", mac) == -EINVAL);
}

static void test_kernel(void)
{
	struct legacy_nl h;
	struct legacy_link_info info;
	const uint8_t mac[6] = { 2, 0x42, 0, 0, 0, 7 };

	if (unshare(CLONE_NEWNET) < 0) {
		failed++;
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return;
	}

	CHECK(legacy_netlink_open(&h) == 0);
	CHECK(legacy_link_up(&h, "lo") == 0);
	CHECK(legacy_link_get(&h, "lo", &info) == 0);
	CHECK(info.flags & IFF_UP);
	CHECK(legacy_veth_create(&h, "ct0", "ct1", -1, -1, mac, 1400) == 0);
	CHECK(legacy_link_get(&h, "ct1", &info) == 0);
	CHECK(info.addr_len == 6 && memcmp(info.addr, mac, 6) == 0);
	CHECK(info.mtu == 1400);
	CHECK(legacy_veth_create(&h, "ct0", "ct2", -1, -1, NULL, 0) == -EEXIST);
	CHECK(legacy_link_exists(&h, "ct2") == 0);
	CHECK(legacy_link_delete(&h, "ct0") == 0);
	CHECK(legacy_link_exists(&h, "ct1") == 0);
	CHECK(legacy_link_delete(&h, "ct0") == -ENODEV);
	legacy_netlink_close(&h);
	CHECK(h.fd == -1);
	legacy_netlink_close(&h);
}

int main(void)
{
	test_builder_capacity();
	test_arguments();
	if (geteuid() == 0)
		test_kernel();
	else
		printf("kernel tests skipped: needs root\n");

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
