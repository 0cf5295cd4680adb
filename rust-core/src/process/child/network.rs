//! The network inside: `lo` up, and for bridge networking eth0's address, link and default
//! route, through what the parent prepared for the build's netlink backend
//! ([`ChildNetlink`]): allocation-free, on a socket opened here (a socket always acts on the
//! namespace it was created in).

use super::set_errno;
use crate::net::{ChildNet, ChildNetlink};
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
pub(super) fn loopback_up(net: &ChildNet) -> i32 {
    rc(net.loopback_up())
}

/// Address, link up and default route for the veth peer, from the go-ahead.
pub(super) fn configure_eth0(net: &ChildNet, go: &GoMsg) -> i32 {
    rc(net.configure(go.address(), go.prefix(), go.gateway()))
}
