/* SPDX-License-Identifier: MIT */
/*
 * network.h: the netlink API of the original project ("C++ 实现 docker 容器"), which copied
 * LXC's network.c and nl.c and reached them through LXC's network.h. The same functions, with
 * LXC's signatures and semantics, are provided by libcontainer_runtime (.a and .so), so that
 * code written against them links without the copied files (docs/MIGRATION.md, step 1).
 *
 * Written for this project (c-legacy/lxc.c), not taken from LXC. Each function opens its own
 * NETLINK_ROUTE socket in the calling thread's network namespace, sends one or two requests
 * and closes it again.
 *
 * Returns: 0 on success or a negative errno (as LXC's do). A missing interface gives -ENODEV
 * (so does an index of 0 or below, what if_nametoindex() returns for a missing one), a bad
 * interface name (empty, 16 bytes or longer, "." or "..", containing '/', ':' or white
 * space) or a NULL argument -EINVAL, before the kernel is asked.
 *
 * After clone(): every function except lxc_mkifname() allocates nothing and takes no lock
 * (no malloc, no stdio, no rand()), so it may be called in a child made by a raw clone() of a
 * multi-threaded program, as the original's container child does for lo and eth0.
 * lxc_mkifname() allocates its result; call it before cloning. None prints, exits or aborts.
 */
#ifndef CONTAINER_RUNTIME_NETWORK_H
#define CONTAINER_RUNTIME_NETWORK_H

#include <netinet/in.h>  /* struct in_addr */
#include <sys/socket.h>  /* struct sockaddr */
#include <sys/types.h>   /* pid_t */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * netdev_set_flag - set or clear IFF_UP on a link
 * @name: the interface name
 * @flag: IFF_UP to set it up, 0 to set it down; only the IFF_UP bit is changed
 */
int netdev_set_flag(const char *name, int flag);

/* lxc_netdev_up - netdev_set_flag(name, IFF_UP) */
int lxc_netdev_up(const char *name);

/* lxc_netdev_down - netdev_set_flag(name, 0) */
int lxc_netdev_down(const char *name);

/*
 * lxc_veth_create - create the veth pair name1/name2 in the caller's network namespace
 *
 * Both ends are created down. -EEXIST if either name is taken.
 */
int lxc_veth_create(const char *name1, const char *name2);

/*
 * lxc_netdev_move_by_index - move a link into the network namespace of a process
 * @ifindex: the link, in the caller's namespace
 * @pid:     the process whose network namespace receives it
 * @ifname:  its name there, or NULL to keep the current one
 *
 * Moving costs the kernel a grace period (16-32 ms). -ENODEV if there is no such link,
 * -ESRCH if there is no such process. -EEXIST if @ifname is taken there: the kernel moves
 * the link first and renames it there, so it has then moved under its old name (as with LXC).
 */
int lxc_netdev_move_by_index(int ifindex, pid_t pid, const char *ifname);

/* lxc_netdev_move_by_name - lxc_netdev_move_by_index() for the link called @ifname */
int lxc_netdev_move_by_name(const char *ifname, pid_t pid, const char *newname);

/*
 * setup_private_host_hw_addr - set the first byte of a link's MAC to 0xfe
 *
 * The host end of a veth gets a MAC above every container's, so a bridge, which takes the
 * lowest MAC of its ports, keeps a stable address.
 */
int setup_private_host_hw_addr(char *veth1);

/*
 * lxc_bridge_attach - make @ifname a port of the Linux bridge @bridge
 *
 * -ENODEV if either is missing. Open vSwitch bridges are not supported (LXC calls ovs-vsctl).
 */
int lxc_bridge_attach(const char *bridge, const char *ifname);

/*
 * lxc_convert_mac - parse "xx:xx:xx:xx:xx:xx" into an Ethernet sockaddr
 * @macaddr:  six groups of one or two hex digits separated by ':'
 * @sockaddr: sa_family is set to ARPHRD_ETHER and the six bytes to sa_data
 *
 * -EINVAL for anything else (fewer or more groups, other characters); @sockaddr is then
 * unchanged.
 */
int lxc_convert_mac(char *macaddr, struct sockaddr *sockaddr);

/*
 * lxc_ipv4_addr_add - add an IPv4 address to the link @ifindex
 * @addr:   the address
 * @bcast:  the broadcast address, sent as given; NULL for none
 * @prefix: the prefix length, 0 to 32
 *
 * The kernel adds the prefix route. -EEXIST if the address is there already.
 */
int lxc_ipv4_addr_add(int ifindex, struct in_addr *addr, struct in_addr *bcast, int prefix);

/*
 * lxc_ipv4_gateway_add - add the default route via @gw out of the link @ifindex
 * @gw: the gateway; NULL for a default route straight out of the link (no gateway)
 *
 * -ENETUNREACH if the gateway is not on a network of the link (add a route to it first with
 * lxc_ipv4_dest_add()) or no link has that index, -EEXIST if there is a default route
 * already.
 */
int lxc_ipv4_gateway_add(int ifindex, struct in_addr *gw);

/*
 * lxc_ipv4_dest_add - add a host route (/32) to @dest out of the link @ifindex
 *
 * Makes a gateway outside the link's subnet reachable for lxc_ipv4_gateway_add().
 */
int lxc_ipv4_dest_add(int ifindex, struct in_addr *dest);

/*
 * setup_hw_addr - set the MAC of @ifname to @hwaddr ("xx:xx:xx:xx:xx:xx")
 *
 * -EINVAL if @hwaddr does not parse (see lxc_convert_mac()), -EADDRNOTAVAIL for a multicast
 * address.
 */
int setup_hw_addr(char *hwaddr, const char *ifname);

/*
 * lxc_mkifname - a free interface name from a template
 * @template_with_trailing_Xs: e.g. "vethXXXXXX"; left unchanged
 *
 * Replaces the trailing X's with random characters from [0-9A-Z] until the name is not in use
 * in the caller's network namespace. A template without trailing X's is returned as is if
 * that name is free.
 *
 * Returns: a copy the caller may free(), or NULL with errno set: EINVAL for a template that is
 * not a valid interface name, EEXIST when no free name was found, ENOMEM. Allocates: call it
 * before clone(). Another process may take the name before you create it (-EEXIST then).
 */
char *lxc_mkifname(char *template_with_trailing_Xs);

/*
 * lxc_netdev_delete_by_index - delete the link @ifindex (for a veth, both ends)
 *
 * Costs a grace period (tens of ms). -ENODEV if there is no such link.
 */
int lxc_netdev_delete_by_index(int ifindex);

/* lxc_netdev_delete_by_name - lxc_netdev_delete_by_index() for the link called @name */
int lxc_netdev_delete_by_name(const char *name);

/*
 * new_hwaddr - a random MAC in LXC's range, 00:16:3e:xx:xx:xx
 * @hwaddr: at least 18 bytes; receives the address and a NUL
 *
 * Lock-free (getrandom(2), no rand()); a NULL @hwaddr is ignored.
 */
void new_hwaddr(char *hwaddr);

#ifdef __cplusplus
}
#endif

#endif /* CONTAINER_RUNTIME_NETWORK_H */
