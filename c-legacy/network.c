/* SPDX-License-Identifier: MIT */
/*
 * Network verbs over rtnetlink: see network.h. Each verb builds its request in
 * a struct legacy_nlmsg on its own stack and runs one transaction per message.
 */
#include <errno.h>
#include <string.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "network.h"

/*
 * Mirror the kernel's dev_valid_name(): 1..IFNAMSIZ-1 bytes, not "." or
 * "..", no '/', ':' or whitespace. Checking here gives the same -EINVAL for
 * lookups, where the kernel would only say -ENODEV.
 */
int legacy_ifname_check(const char *name)
{
	size_t len;
	const char *p;

	if (!name)
		return -EINVAL;
	len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	for (p = name; *p; p++) {
		switch (*p) {
		case '/':
		case ':':
		case ' ':
		case '\t':
		case '\n':
		case '\v':
		case '\f':
		case '\r':
			return -EINVAL;
		}
	}
	return 0;
}

/* Start a link request: header plus a struct ifinfomsg. */
static int link_msg_init(struct legacy_nlmsg *m, uint16_t type, uint16_t flags,
			 int index, unsigned int ifi_flags, unsigned int change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = index,
		.ifi_flags = ifi_flags,
		.ifi_change = change,
	};
	int ret;

	ret = legacy_nlmsg_init(m, 0, type, flags);
	if (ret < 0)
		return ret;
	return legacy_nlmsg_append(m, &ifi, sizeof(ifi));
}

/*
 * Start an RTM_SETLINK (or RTM_DELLINK) for the link called @name: with index
 * 0, the kernel finds the device by IFLA_IFNAME itself, in one round trip.
 */
static int link_msg_by_name(struct legacy_nlmsg *m, uint16_t type,
			    const char *name, unsigned int ifi_flags,
			    unsigned int change)
{
	int ret;

	ret = link_msg_init(m, type, 0, 0, ifi_flags, change);
	if (ret < 0)
		return ret;
	return legacy_nla_put_string(m, IFLA_IFNAME, name);
}

static int parse_link(const struct nlmsghdr *nlh, void *arg)
{
	struct legacy_link_info *info = arg;
	const struct ifinfomsg *ifi;
	const struct rtattr *rta;
	size_t off, len;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EBADMSG;

	ifi = NLMSG_DATA(nlh);
	memset(info, 0, sizeof(*info));
	info->index = ifi->ifi_index;
	info->flags = ifi->ifi_flags;

	len = nlh->nlmsg_len;
	for (off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ifi)));
	     off < len && len - off >= RTA_LENGTH(0);) {
		size_t plen;

		rta = (const void *)((const char *)nlh + off);
		if (rta->rta_len < RTA_LENGTH(0) || rta->rta_len > len - off)
			return -EBADMSG;
		off += RTA_ALIGN(rta->rta_len);
		plen = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case IFLA_MTU:
			if (plen >= sizeof(uint32_t))
				memcpy(&info->mtu, RTA_DATA(rta), sizeof(uint32_t));
			break;
		case IFLA_MASTER:
			if (plen >= sizeof(uint32_t))
				memcpy(&info->master, RTA_DATA(rta), sizeof(uint32_t));
			break;
		case IFLA_ADDRESS:
			if (plen > sizeof(info->addr))
				plen = sizeof(info->addr);
			memcpy(info->addr, RTA_DATA(rta), plen);
			info->addr_len = (uint32_t)plen;
			break;
		}
	}
	return 0;
}

int legacy_link_get(struct legacy_nl *h, const char *name,
		    struct legacy_link_info *info)
{
	struct legacy_nlmsg m;
	struct legacy_link_info scratch;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;

	ret = link_msg_init(&m, RTM_GETLINK, 0, 0, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_string(&m, IFLA_IFNAME, name);
	if (ret < 0)
		return ret;
	/* Statistics are most of a reply and we never read them. */
	ret = legacy_nla_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (ret < 0)
		return ret;

	memset(&scratch, 0, sizeof(scratch));
	ret = legacy_netlink_transaction(h, &m, parse_link, &scratch);
	if (ret < 0)
		return ret;
	/* An ACK without an RTM_NEWLINK would be a kernel bug. */
	if (scratch.index <= 0)
		return -EBADMSG;
	if (info)
		*info = scratch;
	return 0;
}

/* The index of the link called @name, or a negative errno. */
static int link_index(struct legacy_nl *h, const char *name)
{
	struct legacy_link_info info;
	int ret;

	ret = legacy_link_get(h, name, &info);
	if (ret < 0)
		return ret;
	return info.index;
}

int legacy_link_exists(struct legacy_nl *h, const char *name)
{
	int ret;

	ret = legacy_link_get(h, name, NULL);
	if (ret == -ENODEV)
		return 0;
	if (ret < 0)
		return ret;
	return 1;
}

static int link_set_flags(struct legacy_nl *h, const char *name,
			  unsigned int flags, unsigned int change)
{
	struct legacy_nlmsg m;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = link_msg_by_name(&m, RTM_SETLINK, name, flags, change);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_link_up(struct legacy_nl *h, const char *name)
{
	return link_set_flags(h, name, IFF_UP, IFF_UP);
}

int legacy_link_down(struct legacy_nl *h, const char *name)
{
	return link_set_flags(h, name, 0, IFF_UP);
}

int legacy_link_delete(struct legacy_nl *h, const char *name)
{
	struct legacy_nlmsg m;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = link_msg_by_name(&m, RTM_DELLINK, name, 0, 0);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

/* RTM_SETLINK on @name carrying one u32 attribute. */
static int link_set_u32(struct legacy_nl *h, const char *name, uint16_t type,
			uint32_t value)
{
	struct legacy_nlmsg m;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = link_msg_by_name(&m, RTM_SETLINK, name, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_u32(&m, type, value);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_veth_create(struct legacy_nl *h, const char *name,
		       const char *peer_name, pid_t peer_netns_pid,
		       int peer_netns_fd, const uint8_t *peer_mac,
		       uint32_t mtu)
{
	struct legacy_nlmsg m;
	struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peer;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = legacy_ifname_check(peer_name);
	if (ret < 0)
		return ret;
	if (peer_netns_pid < -1 || peer_netns_fd < -1)
		return -EINVAL;
	if (peer_netns_pid >= 0 && peer_netns_fd >= 0)
		return -EINVAL;

	ret = link_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_string(&m, IFLA_IFNAME, name);
	if (ret < 0)
		return ret;
	if (mtu) {
		ret = legacy_nla_put_u32(&m, IFLA_MTU, mtu);
		if (ret < 0)
			return ret;
	}

	linkinfo = legacy_nla_begin_nested(&m, IFLA_LINKINFO);
	if (!linkinfo)
		return -EMSGSIZE;
	ret = legacy_nla_put_string(&m, IFLA_INFO_KIND, "veth");
	if (ret < 0)
		return ret;
	data = legacy_nla_begin_nested(&m, IFLA_INFO_DATA);
	if (!data)
		return -EMSGSIZE;

	/*
	 * VETH_INFO_PEER holds a struct ifinfomsg followed by the peer's own
	 * IFLA_* attributes; its IFLA_NET_NS_* create the peer directly in the
	 * target namespace.
	 */
	peer = legacy_nla_begin_nested(&m, VETH_INFO_PEER);
	if (!peer)
		return -EMSGSIZE;
	ret = legacy_nlmsg_append(&m, &peer_ifi, sizeof(peer_ifi));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_string(&m, IFLA_IFNAME, peer_name);
	if (ret < 0)
		return ret;
	if (peer_netns_pid >= 0) {
		ret = legacy_nla_put_u32(&m, IFLA_NET_NS_PID,
					 (uint32_t)peer_netns_pid);
		if (ret < 0)
			return ret;
	} else if (peer_netns_fd >= 0) {
		ret = legacy_nla_put_u32(&m, IFLA_NET_NS_FD,
					 (uint32_t)peer_netns_fd);
		if (ret < 0)
			return ret;
	}
	if (peer_mac) {
		ret = legacy_nla_put_buffer(&m, IFLA_ADDRESS, peer_mac, ETH_ALEN);
		if (ret < 0)
			return ret;
	}
	if (mtu) {
		ret = legacy_nla_put_u32(&m, IFLA_MTU, mtu);
		if (ret < 0)
			return ret;
	}
	legacy_nla_end_nested(&m, peer);
	legacy_nla_end_nested(&m, data);
	legacy_nla_end_nested(&m, linkinfo);

	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_bridge_create(struct legacy_nl *h, const char *name)
{
	struct legacy_nlmsg m;
	struct rtattr *linkinfo;
	int ret;

	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;

	ret = link_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_string(&m, IFLA_IFNAME, name);
	if (ret < 0)
		return ret;
	linkinfo = legacy_nla_begin_nested(&m, IFLA_LINKINFO);
	if (!linkinfo)
		return -EMSGSIZE;
	ret = legacy_nla_put_string(&m, IFLA_INFO_KIND, "bridge");
	if (ret < 0)
		return ret;
	legacy_nla_end_nested(&m, linkinfo);

	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_bridge_attach(struct legacy_nl *h, const char *bridge,
			 const char *ifname)
{
	int index;

	/* Check both names before the first round trip. */
	index = legacy_ifname_check(ifname);
	if (index < 0)
		return index;
	index = link_index(h, bridge);
	if (index < 0)
		return index;
	return link_set_u32(h, ifname, IFLA_MASTER, (uint32_t)index);
}

int legacy_link_move_to_netns_pid(struct legacy_nl *h, const char *name,
				  pid_t pid)
{
	if (pid <= 0)
		return -EINVAL;
	return link_set_u32(h, name, IFLA_NET_NS_PID, (uint32_t)pid);
}

int legacy_link_move_to_netns_fd(struct legacy_nl *h, const char *name,
				 int fd)
{
	if (fd < 0)
		return -EBADF;
	return link_set_u32(h, name, IFLA_NET_NS_FD, (uint32_t)fd);
}

int legacy_link_rename(struct legacy_nl *h, const char *name,
		       const char *new_name)
{
	struct legacy_nlmsg m;
	int index, ret;

	ret = legacy_ifname_check(new_name);
	if (ret < 0)
		return ret;
	/* IFLA_IFNAME is the new name here, so the link goes by index. */
	index = link_index(h, name);
	if (index < 0)
		return index;

	ret = link_msg_init(&m, RTM_SETLINK, 0, index, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_string(&m, IFLA_IFNAME, new_name);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_link_set_mac(struct legacy_nl *h, const char *name,
			const uint8_t mac[6])
{
	struct legacy_nlmsg m;
	int ret;

	if (!mac)
		return -EINVAL;
	ret = legacy_ifname_check(name);
	if (ret < 0)
		return ret;
	ret = link_msg_by_name(&m, RTM_SETLINK, name, 0, 0);
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, IFLA_ADDRESS, mac, ETH_ALEN);
	if (ret < 0)
		return ret;
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_link_set_mtu(struct legacy_nl *h, const char *name, uint32_t mtu)
{
	if (mtu == 0)
		return -EINVAL;
	return link_set_u32(h, name, IFLA_MTU, mtu);
}

int legacy_ipv4_addr_add(struct legacy_nl *h, const char *name,
			 struct in_addr addr, int prefixlen)
{
	struct legacy_nlmsg m;
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET,
		.ifa_scope = RT_SCOPE_UNIVERSE,
	};
	int index, ret;

	if (prefixlen < 0 || prefixlen > 32)
		return -EINVAL;
	index = link_index(h, name);
	if (index < 0)
		return index;
	ifa.ifa_prefixlen = (unsigned char)prefixlen;
	ifa.ifa_index = (unsigned int)index;

	ret = legacy_nlmsg_init(&m, 0, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		return ret;
	ret = legacy_nlmsg_append(&m, &ifa, sizeof(ifa));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, IFA_LOCAL, &addr, sizeof(addr));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, IFA_ADDRESS, &addr, sizeof(addr));
	if (ret < 0)
		return ret;
	/* /31 and /32 have no broadcast address (RFC 3021). */
	if (prefixlen <= 30) {
		uint32_t host = prefixlen ? ~0U >> prefixlen : ~0U;
		struct in_addr brd = { .s_addr = addr.s_addr | htonl(host) };

		ret = legacy_nla_put_buffer(&m, IFA_BROADCAST, &brd, sizeof(brd));
		if (ret < 0)
			return ret;
	}
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}

int legacy_ipv4_default_route_add(struct legacy_nl *h, struct in_addr gateway,
				  const char *ifname)
{
	struct legacy_nlmsg m;
	struct rtmsg rtm = {
		.rtm_family = AF_INET,
		.rtm_dst_len = 0,
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};
	int index = 0, ret;

	if (gateway.s_addr == htonl(INADDR_ANY))
		return -EINVAL;
	if (ifname) {
		index = link_index(h, ifname);
		if (index < 0)
			return index;
	}

	ret = legacy_nlmsg_init(&m, 0, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		return ret;
	ret = legacy_nlmsg_append(&m, &rtm, sizeof(rtm));
	if (ret < 0)
		return ret;
	ret = legacy_nla_put_buffer(&m, RTA_GATEWAY, &gateway, sizeof(gateway));
	if (ret < 0)
		return ret;
	if (index > 0) {
		ret = legacy_nla_put_u32(&m, RTA_OIF, (uint32_t)index);
		if (ret < 0)
			return ret;
	}
	return legacy_netlink_transaction(h, &m, NULL, NULL);
}
