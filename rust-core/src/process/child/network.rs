//! The network inside: `lo` up, and for bridge networking eth0's address, link and default
//! route, through the netlink backend's allocation-free verbs on a socket opened here (a
//! socket always acts on the namespace it was created in).

use std::ffi::CStr;

use super::set_errno;
use crate::net::{Backend, Client};
use crate::process::sync::GoMsg;

/// 0, or -1 with errno set.
fn rc(result: Result<(), nix::errno::Errno>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            set_errno(e as i32);
            -1
        }
    }
}

/// Brings `lo` up.
pub(super) fn loopback_up() -> i32 {
    rc(Backend::open_raw().and_then(|mut nl| nl.link_up_raw(c"lo")))
}

/// Address, link up and default route for the veth peer, from the go-ahead.
pub(super) fn configure_eth0(eth0: &CStr, go: &GoMsg) -> i32 {
    rc(Backend::open_raw().and_then(|mut nl| {
        nl.ipv4_addr_add_raw(eth0, go.address(), go.prefix())?;
        nl.link_up_raw(eth0)?;
        nl.ipv4_default_route_add_raw(go.gateway(), Some(eth0))
    }))
}
