//! The original project's network.h API (include/network.h), exported under LXC's names.
//!
//! The functions are C (c-legacy/lxc.c, built as `legacy_*`): rustc's version script exports
//! only Rust symbols from the shared library and hides every C one, so each name here is a
//! Rust export that calls its C function and nothing else. No argument checks here: the C
//! checks them (NULL and bad names give -EINVAL) and returns 0 or a negative errno, as LXC's
//! do. Nothing here allocates or can panic, so the functions stay safe in a child after a raw
//! `clone()`, like their C. They are not part of container_runtime.h (cbindgen skips this
//! module): include/network.h declares them.

use std::ffi::{c_char, c_int};

use crate::net::legacy::lxc_sys as sys;
use sys::{in_addr, pid_t, sockaddr};

/// One export: `name(args) -> ret` calls `sys::c_name(args)`.
macro_rules! reexport {
    ($($name:ident => $c:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "` of include/network.h.")]
        #[unsafe(no_mangle)]
        pub extern "C" fn $name($($arg: $ty),*) -> $ret {
            // SAFETY: the C function has this very signature; it checks NULL pointers itself,
            // and the validity of the others is the documented contract with the caller.
            unsafe { sys::$c($($arg),*) }
        }
    )*};
}

reexport! {
    netdev_set_flag => legacy_netdev_set_flag(name: *const c_char, flag: c_int) -> c_int;
    lxc_netdev_up => legacy_lxc_netdev_up(name: *const c_char) -> c_int;
    lxc_netdev_down => legacy_lxc_netdev_down(name: *const c_char) -> c_int;
    lxc_veth_create => legacy_lxc_veth_create(name1: *const c_char, name2: *const c_char) -> c_int;
    lxc_netdev_move_by_index =>
        legacy_lxc_netdev_move_by_index(ifindex: c_int, pid: pid_t, ifname: *const c_char) -> c_int;
    lxc_netdev_move_by_name =>
        legacy_lxc_netdev_move_by_name(ifname: *const c_char, pid: pid_t, newname: *const c_char)
            -> c_int;
    setup_private_host_hw_addr => legacy_setup_private_host_hw_addr(veth1: *mut c_char) -> c_int;
    lxc_bridge_attach =>
        legacy_lxc_bridge_attach(bridge: *const c_char, ifname: *const c_char) -> c_int;
    lxc_convert_mac => legacy_lxc_convert_mac(macaddr: *mut c_char, sockaddr: *mut sockaddr) -> c_int;
    lxc_ipv4_addr_add => legacy_lxc_ipv4_addr_add(
        ifindex: c_int,
        addr: *mut in_addr,
        bcast: *mut in_addr,
        prefix: c_int
    ) -> c_int;
    lxc_ipv4_gateway_add => legacy_lxc_ipv4_gateway_add(ifindex: c_int, gw: *mut in_addr) -> c_int;
    lxc_ipv4_dest_add => legacy_lxc_ipv4_dest_add(ifindex: c_int, dest: *mut in_addr) -> c_int;
    setup_hw_addr => legacy_setup_hw_addr(hwaddr: *mut c_char, ifname: *const c_char) -> c_int;
    lxc_mkifname => legacy_lxc_mkifname(template: *mut c_char) -> *mut c_char;
    lxc_netdev_delete_by_index => legacy_lxc_netdev_delete_by_index(ifindex: c_int) -> c_int;
    lxc_netdev_delete_by_name => legacy_lxc_netdev_delete_by_name(name: *const c_char) -> c_int;
    new_hwaddr => legacy_new_hwaddr(hwaddr: *mut c_char) -> ();
}
