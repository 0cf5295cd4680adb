/* SPDX-License-Identifier: MIT */
/*
 * The original project's network.h API (include/network.h) as the library
 * builds it: the same functions under legacy_-prefixed names.
 *
 * Why the renaming: rustc's version script for the shared library exports
 * only Rust symbols and hides every C one, so rust-core/src/ffi/lxc.rs
 * defines each LXC name as a Rust export that calls the legacy_ function
 * declared here. C never defines an unprefixed name in the library, so the
 * two can never collide in libcontainer_runtime.a. Compiled on its own
 * (without LEGACY_LXC_PREFIX, as step 0 of docs/MIGRATION.md does), lxc.c
 * defines LXC's names directly.
 */
#ifndef LEGACY_LXC_H
#define LEGACY_LXC_H

#define netdev_set_flag legacy_netdev_set_flag
#define lxc_netdev_up legacy_lxc_netdev_up
#define lxc_netdev_down legacy_lxc_netdev_down
#define lxc_veth_create legacy_lxc_veth_create
#define lxc_netdev_move_by_index legacy_lxc_netdev_move_by_index
#define lxc_netdev_move_by_name legacy_lxc_netdev_move_by_name
#define setup_private_host_hw_addr legacy_setup_private_host_hw_addr
#define lxc_bridge_attach legacy_lxc_bridge_attach
#define lxc_convert_mac legacy_lxc_convert_mac
#define lxc_ipv4_addr_add legacy_lxc_ipv4_addr_add
#define lxc_ipv4_gateway_add legacy_lxc_ipv4_gateway_add
#define lxc_ipv4_dest_add legacy_lxc_ipv4_dest_add
#define setup_hw_addr legacy_setup_hw_addr
#define lxc_mkifname legacy_lxc_mkifname
#define lxc_netdev_delete_by_index legacy_lxc_netdev_delete_by_index
#define lxc_netdev_delete_by_name legacy_lxc_netdev_delete_by_name
#define new_hwaddr legacy_new_hwaddr

#include "../include/network.h"

#endif /* LEGACY_LXC_H */
