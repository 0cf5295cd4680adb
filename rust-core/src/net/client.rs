//! The netlink client: what container networking asks of the kernel, independent of the code
//! that builds the messages. [`super::legacy::Netlink`] implements it over the C code in
//! c-legacy/; a second backend implements the same trait and passes the same tests; a fake
//! records calls for tests without root.
//!
//! Two traits. [`Client`] is the parent's (`&str` names, [`NetError`]; it may allocate).
//! [`ChildNetlink`] is what the cloned child does between clone and exec, where the host's
//! allocator may be locked: prepared in the parent (allocating as it likes), then run in the
//! child with bare [`Errno`]s and no allocation at all, also on failure.

use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

use nix::errno::Errno;

use super::{InvalidNet, NetError};

/// Where [`Client::veth_create`] puts the peer.
#[derive(Debug, Clone, Copy)]
pub enum PeerNetns<'fd> {
    /// The socket's own namespace, next to the first end.
    Current,
    /// The network namespace of this process (a container's init).
    Pid(libc::pid_t),
    /// The network namespace behind this nsfs descriptor (`/proc/PID/ns/net`).
    Fd(BorrowedFd<'fd>),
}

/// What [`Client::link_info`] reports about a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    /// Index of the master (e.g. the bridge), if any.
    pub master: Option<u32>,
    /// `IFF_*` flags.
    pub flags: u32,
    pub mtu: u32,
    /// The Ethernet address, if the link has a 6-byte one.
    pub mac: Option<[u8; 6]>,
}

impl LinkInfo {
    /// Administratively up (`IFF_UP`).
    pub fn is_up(&self) -> bool {
        self.flags & libc::IFF_UP as u32 != 0
    }
}

/// An IPv4 route of the main table: the interface it goes through and its destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub ifname: String,
    pub dest: (Ipv4Addr, u8),
}

/// One NETLINK_ROUTE connection, acting on the network namespace it was opened in. Every verb
/// takes `&mut self`: a connection is not shared between threads.
pub trait Client {
    /// Opens a connection in the calling thread's network namespace.
    fn open() -> Result<Self, NetError>
    where
        Self: Sized;

    /// Looks a link up by name.
    fn link_info(&mut self, name: &str) -> Result<LinkInfo, NetError>;

    /// Tells whether a link of that name exists.
    fn link_exists(&mut self, name: &str) -> Result<bool, NetError>;

    fn link_up(&mut self, name: &str) -> Result<(), NetError>;

    fn link_down(&mut self, name: &str) -> Result<(), NetError>;

    /// Deletes a link (both ends of a veth). Costs a grace period (tens of ms): a container's
    /// veth goes away with its namespace, so this is for cleanup after failures.
    fn link_delete(&mut self, name: &str) -> Result<(), NetError>;

    /// Creates the veth pair `name`/`peer`, the peer directly inside `peer_netns` (about
    /// 0.4 ms, where creating it here and moving it costs 16-32 ms). `peer_mac` `None` lets the
    /// kernel choose; `mtu` applies to both ends, `None` for the default. Both ends are down.
    fn veth_create(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: PeerNetns<'_>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<(), NetError>;

    /// Creates a bridge (down). An existing link of that name gives errno `EEXIST`.
    fn bridge_create(&mut self, name: &str) -> Result<(), NetError>;

    /// Makes `ifname` a port of `bridge`.
    fn bridge_attach(&mut self, bridge: &str, ifname: &str) -> Result<(), NetError>;

    /// Moves a link into the network namespace of `pid` (costs a grace period).
    fn link_move_to_netns_pid(&mut self, name: &str, pid: libc::pid_t) -> Result<(), NetError>;

    /// Moves a link into the network namespace behind `fd` (`/proc/PID/ns/net`).
    fn link_move_to_netns_fd(&mut self, name: &str, fd: BorrowedFd<'_>) -> Result<(), NetError>;

    /// Renames a link; the kernel refuses for most links while they are up (`EBUSY`).
    fn link_rename(&mut self, name: &str, new_name: &str) -> Result<(), NetError>;

    fn link_set_mac(&mut self, name: &str, mac: [u8; 6]) -> Result<(), NetError>;

    fn link_set_mtu(&mut self, name: &str, mtu: u32) -> Result<(), NetError>;

    /// Adds `addr/prefixlen` to a link (with its broadcast address up to /30).
    fn ipv4_addr_add(&mut self, name: &str, addr: Ipv4Addr, prefixlen: u8) -> Result<(), NetError>;

    /// Adds the default route via `gateway`, out of `ifname` if given.
    fn ipv4_default_route_add(
        &mut self,
        gateway: Ipv4Addr,
        ifname: Option<&str>,
    ) -> Result<(), NetError>;

    /// The primary IPv4 address of a link, None if it has none.
    fn ipv4_primary_addr(&mut self, name: &str) -> Result<Option<Ipv4Addr>, NetError>;

    /// The IPv4 routes of the main table.
    fn ipv4_routes(&mut self) -> Result<Vec<Route>, NetError>;
}

/// The child's netlink work, prepared by the parent for the link `ifname` (eth0) before clone.
/// Each backend keeps in it what its child needs (the C one a name on the stack, the Rust one
/// its serialized messages); the methods run in the child and must not allocate.
pub trait ChildNetlink: Sized + std::fmt::Debug {
    /// In the parent: everything the child will send.
    fn prepare(ifname: &str) -> Result<Self, NetError>;

    /// In the child: `lo` up, on a socket opened there (so that it talks to the child's
    /// namespace).
    fn loopback_up(&self) -> Result<(), Errno>;

    /// In the child: the prepared link gets `addr/prefixlen`, goes up, and the default route
    /// via `gateway` goes out of it. EINVAL for a prefix length above 32 or a 0.0.0.0 gateway.
    fn configure(&self, addr: Ipv4Addr, prefixlen: u8, gateway: Ipv4Addr) -> Result<(), Errno>;
}

// Argument checks every backend makes before asking the kernel.

/// A pid whose network namespace can be named: positive.
pub(super) fn check_netns_pid(
    pid: libc::pid_t,
    what: impl FnOnce() -> String,
) -> Result<libc::pid_t, NetError> {
    if pid <= 0 {
        return Err(InvalidNet::NetnsPid { pid, what: what() }.into());
    }
    Ok(pid)
}

pub(super) fn check_mtu(mtu: u32, what: impl FnOnce() -> String) -> Result<(), NetError> {
    if mtu == 0 {
        return Err(InvalidNet::ZeroMtu(what()).into());
    }
    Ok(())
}

pub(super) fn check_prefixlen(prefixlen: u8) -> Result<(), NetError> {
    if prefixlen > 32 {
        return Err(InvalidNet::PrefixLength(prefixlen).into());
    }
    Ok(())
}

pub(super) fn check_gateway(gateway: Ipv4Addr) -> Result<(), NetError> {
    if gateway.is_unspecified() {
        return Err(InvalidNet::UnspecifiedGateway.into());
    }
    Ok(())
}
