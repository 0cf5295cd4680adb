/* SPDX-License-Identifier: MIT */
/*
 * Network verbs over rtnetlink, in the style of LXC's network.c: veth pairs,
 * bridges, link state, namespaces, names, MAC, MTU, IPv4 address and default
 * route. Interfaces are always named, never indexed: names are resolved inside
 * these functions (RTM_GETLINK, or IFLA_IFNAME where the kernel looks the link
 * up by name itself, which saves a round trip).
 *
 * Every verb sends one request (two when a name must be resolved first) on
 * the handler's socket, acts on that socket's network namespace, and returns
 * 0 or a negative errno. None allocates, prints, exits or aborts, so all may
 * run in a child right after a raw clone(). An interface name is 1 to 15
 * bytes (IFNAMSIZ - 1) without '/', ':' or ASCII whitespace; anything else
 * gives -EINVAL before the kernel is asked. A missing interface gives
 * -ENODEV.
 */
#ifndef LEGACY_NETWORK_H
#define LEGACY_NETWORK_H

#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "nl.h"

/**
 * struct legacy_link_info - what legacy_link_get() reports about a link
 * @index:    the interface index
 * @master:   the index of its master (e.g. a bridge), 0 if none
 * @flags:    IFF_* flags (IFF_UP, ...)
 * @mtu:      the MTU, 0 if the kernel did not say
 * @addr_len: number of valid bytes in @addr, 0 if none (6 for Ethernet)
 * @addr:     the link-layer address
 */
struct legacy_link_info {
	int index;
	int master;
	uint32_t flags;
	uint32_t mtu;
	uint32_t addr_len;
	uint8_t addr[32];
};

/**
 * legacy_ifname_check - check an interface name without asking the kernel
 * @name: the name
 *
 * The rules of the kernel's dev_valid_name(), which every verb applies too.
 *
 * Return: 0 if @name is a valid interface name, -EINVAL if not (or NULL).
 */
int legacy_ifname_check(const char *name);

/**
 * legacy_link_get - look a link up by name
 * @h:    an open handler
 * @name: the interface name
 * @info: filled on success; may be NULL to only test existence
 *
 * Return: 0, -ENODEV if there is no such link, another negative errno.
 */
int legacy_link_get(struct legacy_nl *h, const char *name,
		    struct legacy_link_info *info);

/**
 * legacy_link_exists - tell whether a link exists
 * @h:    an open handler
 * @name: the interface name
 *
 * Return: 1 if it exists, 0 if not, a negative errno on failure.
 */
int legacy_link_exists(struct legacy_nl *h, const char *name);

/**
 * legacy_link_up - set a link administratively up (IFF_UP)
 * @h:    an open handler
 * @name: the interface name, e.g. "lo"
 *
 * Return: 0, or a negative errno.
 */
int legacy_link_up(struct legacy_nl *h, const char *name);

/**
 * legacy_link_down - set a link administratively down
 * @h:    an open handler
 * @name: the interface name
 *
 * Return: 0, or a negative errno.
 */
int legacy_link_down(struct legacy_nl *h, const char *name);

/**
 * legacy_link_delete - delete a link (for a veth, both ends go)
 * @h:    an open handler
 * @name: the interface name
 *
 * Costs a network-wide RCU grace period (tens of milliseconds); a veth whose
 * peer lives in a container's namespace dies with that namespace anyway.
 *
 * Return: 0, -ENODEV if there is no such link, another negative errno.
 */
int legacy_link_delete(struct legacy_nl *h, const char *name);

/**
 * legacy_veth_create - create a veth pair, the peer possibly in another netns
 * @h:              an open handler; @name is created in its namespace
 * @name:           the local end
 * @peer_name:      the other end, e.g. "eth0"
 * @peer_netns_pid: create the peer directly in this process's network
 *                  namespace, or -1
 * @peer_netns_fd:  or in the namespace of this nsfs descriptor, or -1
 * @peer_mac:       6 bytes for the peer's MAC, or NULL to let the kernel pick
 * @mtu:            MTU of both ends, 0 for the default
 *
 * Creating the peer in place costs about 0.4 ms; creating it here and then
 * moving it costs a grace period (16-32 ms). Giving both @peer_netns_pid and
 * @peer_netns_fd is an error. The link is created down.
 *
 * Return: 0, -EEXIST if @name (or @peer_name in its namespace) exists,
 * -EINVAL for a bad argument, another negative errno.
 */
int legacy_veth_create(struct legacy_nl *h, const char *name,
		       const char *peer_name, pid_t peer_netns_pid,
		       int peer_netns_fd, const uint8_t *peer_mac,
		       uint32_t mtu);

/**
 * legacy_bridge_create - create a bridge
 * @h:    an open handler
 * @name: the bridge name, e.g. "docker0"
 *
 * The bridge is created down.
 *
 * Return: 0, -EEXIST if a link of that name exists (the caller decides whether
 * that is fine), another negative errno.
 */
int legacy_bridge_create(struct legacy_nl *h, const char *name);

/**
 * legacy_bridge_attach - make a link a port of a bridge (IFLA_MASTER)
 * @h:      an open handler
 * @bridge: the bridge name
 * @ifname: the link to attach
 *
 * Return: 0, -ENODEV if either is missing, another negative errno.
 */
int legacy_bridge_attach(struct legacy_nl *h, const char *bridge,
			 const char *ifname);

/**
 * legacy_link_move_to_netns_pid - move a link into a process's netns
 * @h:    an open handler
 * @name: the link, in the handler's namespace
 * @pid:  the process whose network namespace receives the link
 *
 * Costs a grace period (16-32 ms); prefer creating a veth's peer in place.
 *
 * Return: 0, or a negative errno (-EEXIST if the name is taken there).
 */
int legacy_link_move_to_netns_pid(struct legacy_nl *h, const char *name,
				  pid_t pid);

/**
 * legacy_link_move_to_netns_fd - move a link into the netns of a descriptor
 * @h:    an open handler
 * @name: the link, in the handler's namespace
 * @fd:   an open /proc/PID/ns/net (or bind mount of one)
 *
 * Return: 0, or a negative errno.
 */
int legacy_link_move_to_netns_fd(struct legacy_nl *h, const char *name,
				 int fd);

/**
 * legacy_link_rename - rename a link
 * @h:        an open handler
 * @name:     the current name
 * @new_name: the new name
 *
 * The kernel refuses to rename most links while they are up (-EBUSY).
 *
 * Return: 0, or a negative errno.
 */
int legacy_link_rename(struct legacy_nl *h, const char *name,
		       const char *new_name);

/**
 * legacy_link_set_mac - set a link's Ethernet address
 * @h:    an open handler
 * @name: the interface name
 * @mac:  6 bytes
 *
 * Return: 0, or a negative errno (-EADDRNOTAVAIL for a multicast address).
 */
int legacy_link_set_mac(struct legacy_nl *h, const char *name,
			const uint8_t mac[6]);

/**
 * legacy_link_set_mtu - set a link's MTU
 * @h:    an open handler
 * @name: the interface name
 * @mtu:  the MTU, non-zero
 *
 * Return: 0, or a negative errno (-EINVAL out of the device's range).
 */
int legacy_link_set_mtu(struct legacy_nl *h, const char *name, uint32_t mtu);

/**
 * legacy_ipv4_addr_add - add an IPv4 address to a link
 * @h:         an open handler
 * @name:      the interface name
 * @addr:      the address, network byte order
 * @prefixlen: the prefix length, 0 to 32
 *
 * Sets IFA_LOCAL and IFA_ADDRESS, and IFA_BROADCAST for prefixes up to /30.
 * The kernel adds the prefix route by itself.
 *
 * Return: 0, -EEXIST if the address is already there, another negative errno.
 */
int legacy_ipv4_addr_add(struct legacy_nl *h, const char *name,
			 struct in_addr addr, int prefixlen);

/**
 * legacy_ipv4_default_route_add - add a default IPv4 route via a gateway
 * @h:       an open handler
 * @gateway: the gateway, network byte order, not 0.0.0.0
 * @ifname:  the outgoing interface, or NULL to let the kernel find it
 *
 * The route goes to the main table. The gateway must be reachable through a
 * link that is up.
 *
 * Return: 0, -EEXIST if a default route exists, -ENETUNREACH if the gateway
 * is not on any connected network, another negative errno.
 */
int legacy_ipv4_default_route_add(struct legacy_nl *h, struct in_addr gateway,
				  const char *ifname);

#endif /* LEGACY_NETWORK_H */
