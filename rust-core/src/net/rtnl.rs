//! Native Rust netlink backend (cargo feature `netlink-rust`): the operations of
//! [`legacy::Netlink`](super::legacy::Netlink) on netlink-packet-route and netlink-sys, used
//! synchronously (a blocking socket, no async runtime), with the same errors
//! ([`NetError::Netlink`] with the same `op` texts, [`NetError::Invalid`] for bad names) and the
//! same semantics: one request per verb (two when a name must be resolved first), interfaces
//! named, never indexed.
//!
//! # In a child after a raw `clone()`
//!
//! netlink-packet-route builds a message from `Vec`s of attributes, so it cannot run in the
//! child, where the host's allocator may be locked. [`ChildNet`] solves this the way crun and
//! LXC prepare their child's data: the parent serializes every message the child will send
//! ([`ChildNet::prepare`], allocating as it likes) into fixed arrays inside the `ChildNet`,
//! and records where the values only the child knows go: the address, prefix and gateway (they
//! arrive after the clone, with the go-ahead), the index of eth0 (it only exists in the
//! child's namespace) and the sequence numbers. The child then only patches those bytes,
//! sends, and reads the replies into a stack buffer through netlink-packet-core's zero-copy
//! views (`NetlinkBuffer`, `ErrorBuffer`); it learns eth0's index from a prepared RTM_GETLINK
//! by name. Nothing there allocates, also on failure (errors are bare [`Errno`]s); a test counts
//! allocations to prove it.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    ErrorBuffer, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NlasIterator,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags, LinkHeader,
    LinkInfo as LinkInfoAttr, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::errno::Errno;

use super::client::{self, ChildNetlink, Client};
use super::{LinkInfo, NetError, PeerNetns, Route, host, validate_ifname};

/// Receive buffer of a parent-side request: an RTM_GETLINK reply without statistics is about
/// 2 KiB; larger datagrams fail with EMSGSIZE, as in the C backend.
const RECV_SIZE: usize = 32 * 1024;

/// Receive buffer of the child, on its stack (the C backend's size).
const CHILD_RECV_SIZE: usize = 8192;

/// Capacity of one prepared child message (the largest, the address, is 64 bytes).
const CHILD_MSG_SIZE: usize = 128;

const NLMSG_HDRLEN: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn errno_of(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

/// Opens and binds a NETLINK_ROUTE socket in the calling thread's network namespace.
/// Allocation-free (socket, setsockopt, bind, getsockname).
fn open_socket() -> Result<Socket, Errno> {
    let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| errno_of(&e))?;
    // Error replies then carry only the request's header; old kernels lack it: only bytes.
    let _ = sock.set_cap_ack(true);
    sock.bind_auto().map_err(|e| errno_of(&e))?;
    Ok(sock)
}

/// Sends `req` (one whole message; its sequence number is set here to `seq`) and reads until
/// its ACK, passing each reply of the request to `on_reply`. Replies of other sequence numbers
/// (left over from an abandoned request) and datagrams not from the kernel are skipped.
///
/// Allocation-free: `rx` is the caller's. Returns the kernel's errno from NLMSG_ERROR, the
/// first error of `on_reply`, or the errno of send/recv (EMSGSIZE for a reply larger than
/// `rx`, EBADMSG for a malformed one).
fn transact(
    sock: &Socket,
    seq: u32,
    req: &mut [u8],
    rx: &mut [u8],
    mut on_reply: impl FnMut(&[u8]) -> Result<(), Errno>,
) -> Result<(), Errno> {
    {
        let mut hdr = NetlinkBuffer::new(&mut *req);
        hdr.set_sequence_number(seq);
        hdr.set_port_number(0);
    }
    let kernel = SocketAddr::new(0, 0);
    loop {
        match sock.send_to(req, &kernel, 0) {
            Ok(n) if n == req.len() => break,
            // Netlink datagrams are sent whole or not at all.
            Ok(_) => return Err(Errno::EIO),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(errno_of(&e)),
        }
    }

    let mut ret = Ok(());
    loop {
        let (n, from) = match sock.recv_from(&mut &mut rx[..], libc::MSG_TRUNC) {
            Ok(r) => r,
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(errno_of(&e)),
        };
        if n > rx.len() {
            return Err(Errno::EMSGSIZE);
        }
        // Only the kernel may answer.
        if from.port_number() != 0 {
            continue;
        }
        let mut off = 0;
        while n - off >= NLMSG_HDRLEN {
            let msg = NetlinkBuffer::new_checked(&rx[off..n]).map_err(|_| Errno::EBADMSG)?;
            let len = msg.length() as usize;
            let next = (off + align4(len)).min(n);
            if msg.sequence_number() == seq {
                match msg.message_type() {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => return Err(Errno::ENOBUFS),
                    NLMSG_DONE => return ret,
                    NLMSG_ERROR => {
                        let err =
                            ErrorBuffer::new_checked(msg.payload()).map_err(|_| Errno::EBADMSG)?;
                        return match err.code() {
                            // The ACK: report the reply callback's error, if any.
                            None => ret,
                            Some(code) if code.get() > 0 => Err(Errno::EPROTO),
                            Some(code) => Err(Errno::from_raw(-code.get())),
                        };
                    }
                    _ => {
                        if ret.is_ok() {
                            ret = on_reply(&rx[off..off + len]);
                        }
                    }
                }
            }
            off = next;
        }
    }
}

/// The link index of an RTM_NEWLINK reply (`None` for other replies). Allocation-free.
fn reply_link_index(reply: &[u8]) -> Result<Option<u32>, Errno> {
    let msg = NetlinkBuffer::new_checked(reply).map_err(|_| Errno::EBADMSG)?;
    if msg.message_type() != RTM_NEWLINK {
        return Ok(None);
    }
    let header = LinkHeader::parse(msg.payload()).map_err(|_| Errno::EBADMSG)?;
    Ok(Some(header.index))
}

/// The request flags every verb adds: a request that wants an ACK.
const REQUEST: u16 = NLM_F_REQUEST | NLM_F_ACK;

fn link_by_name(name: &str) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes.push(LinkAttribute::IfName(name.to_owned()));
    m
}

/// One open NETLINK_ROUTE socket; closed on drop. The Rust twin of
/// [`legacy::Netlink`](super::legacy::Netlink): the same verbs, errors and semantics.
///
/// Acts on the network namespace of the thread that opened it. Not meant to be shared between
/// threads (every verb takes `&mut self`).
pub struct Rtnl {
    sock: Socket,
    seq: u32,
    rx: Vec<u8>,
}

impl std::fmt::Debug for Rtnl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rtnl")
            .field("fd", &self.sock.as_raw_fd())
            .field("seq", &self.seq)
            .finish()
    }
}

impl Rtnl {
    /// Sends one request and returns the replies before its ACK; `op` describes it on failure.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: impl FnOnce() -> String,
    ) -> Result<Vec<RouteNetlinkMessage>, NetError> {
        let mut header = NetlinkHeader::default();
        header.flags = REQUEST | flags;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);

        self.seq = self.seq.wrapping_add(1);
        let mut replies = Vec::new();
        transact(
            &self.sock,
            self.seq,
            &mut buf,
            &mut self.rx,
            |bytes| match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
                Ok(m) => {
                    if let NetlinkPayload::InnerMessage(inner) = m.payload {
                        replies.push(inner);
                    }
                    Ok(())
                }
                Err(_) => Err(Errno::EBADMSG),
            },
        )
        .map_err(|errno| NetError::Netlink {
            op: op(),
            errno: errno as i32,
        })?;
        Ok(replies)
    }

    /// The index of the link called `name`: an RTM_GETLINK whose reply is read through the
    /// zero-copy header view only (a full parse of its attributes would double the cost of
    /// the verbs that need an index). A failure is reported as `op`.
    fn link_index(&mut self, name: &str, op: impl FnOnce() -> String) -> Result<u32, NetError> {
        let mut m = link_by_name(name);
        m.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let mut header = NetlinkHeader::default();
        header.flags = REQUEST;
        let mut nl = NetlinkMessage::new(
            header,
            NetlinkPayload::from(RouteNetlinkMessage::GetLink(m)),
        );
        nl.finalize();
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);

        self.seq = self.seq.wrapping_add(1);
        let mut index = 0;
        let sent = transact(&self.sock, self.seq, &mut buf, &mut self.rx, |reply| {
            index = reply_link_index(reply)?.unwrap_or(index);
            Ok(())
        });
        // An ACK without an RTM_NEWLINK would be a kernel bug.
        let result = match sent {
            Ok(()) if index == 0 => Err(Errno::EBADMSG),
            Ok(()) => Ok(index),
            Err(errno) => Err(errno),
        };
        result.map_err(|errno| NetError::Netlink {
            op: op(),
            errno: errno as i32,
        })
    }

    /// An RTM_SETLINK for the link called `name` (the kernel finds it by IFLA_IFNAME, in one
    /// round trip) with `attrs` and the flags in `up` (Some(true/false): IFF_UP set/cleared).
    fn set_link(
        &mut self,
        name: &str,
        up: Option<bool>,
        attrs: Vec<LinkAttribute>,
        op: impl FnOnce() -> String,
    ) -> Result<(), NetError> {
        validate_ifname(name)?;
        let mut m = link_by_name(name);
        if let Some(up) = up {
            m.header.change_mask = LinkFlags::Up;
            m.header.flags = if up {
                LinkFlags::Up
            } else {
                LinkFlags::empty()
            };
        }
        m.attributes.extend(attrs);
        self.request(RouteNetlinkMessage::SetLink(m), 0, op)
            .map(drop)
    }
}

/// The verbs (the routes and a link's address are read as the C backend reads them, from /proc
/// and by ioctl).
impl Client for Rtnl {
    fn open() -> Result<Self, NetError> {
        let sock = open_socket().map_err(|errno| NetError::Netlink {
            op: "open socket".to_owned(),
            errno: errno as i32,
        })?;
        Ok(Rtnl {
            sock,
            seq: 0,
            rx: vec![0; RECV_SIZE],
        })
    }

    /// Looks a link up by name.
    fn link_info(&mut self, name: &str) -> Result<LinkInfo, NetError> {
        validate_ifname(name)?;
        let mut m = link_by_name(name);
        // Statistics are most of a reply and we never read them.
        m.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let replies = self.request(RouteNetlinkMessage::GetLink(m), 0, || {
            format!("get link {name}")
        })?;
        let link = replies
            .into_iter()
            .find_map(|r| match r {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })
            // An ACK without an RTM_NEWLINK would be a kernel bug.
            .ok_or_else(|| NetError::Netlink {
                op: format!("get link {name}"),
                errno: libc::EBADMSG,
            })?;
        let mut info = LinkInfo {
            index: link.header.index,
            master: None,
            flags: link.header.flags.bits(),
            mtu: 0,
            mac: None,
        };
        for attr in link.attributes {
            match attr {
                LinkAttribute::Mtu(mtu) => info.mtu = mtu,
                LinkAttribute::Controller(master) if master > 0 => info.master = Some(master),
                LinkAttribute::Address(addr) if addr.len() == 6 => {
                    let mut mac = [0u8; 6];
                    mac.copy_from_slice(&addr);
                    info.mac = Some(mac);
                }
                _ => {}
            }
        }
        Ok(info)
    }

    /// Tells whether a link of that name exists.
    fn link_exists(&mut self, name: &str) -> Result<bool, NetError> {
        match self.link_info(name) {
            Ok(_) => Ok(true),
            Err(NetError::Netlink { errno, .. }) if errno == libc::ENODEV => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets a link up.
    fn link_up(&mut self, name: &str) -> Result<(), NetError> {
        self.set_link(name, Some(true), Vec::new(), || {
            format!("set link {name} up")
        })
    }

    /// Sets a link down.
    fn link_down(&mut self, name: &str) -> Result<(), NetError> {
        self.set_link(name, Some(false), Vec::new(), || {
            format!("set link {name} down")
        })
    }

    /// Deletes a link (both ends of a veth). Costs a grace period (tens of ms).
    fn link_delete(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        self.request(RouteNetlinkMessage::DelLink(link_by_name(name)), 0, || {
            format!("delete link {name}")
        })
        .map(drop)
    }

    /// Creates the veth pair `name`/`peer`, the peer directly inside `peer_netns`. `peer_mac`
    /// `None` lets the kernel choose; `mtu` applies to both ends. Both ends are down.
    fn veth_create(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: PeerNetns<'_>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<(), NetError> {
        validate_ifname(name)?;
        validate_ifname(peer)?;
        if let Some(mtu) = mtu {
            client::check_mtu(mtu, || format!("veth {name}"))?;
        }
        let mut p = link_by_name(peer);
        match peer_netns {
            PeerNetns::Current => {}
            PeerNetns::Pid(pid) => {
                let pid = client::check_netns_pid(pid, || format!("veth {peer}"))?;
                p.attributes.push(LinkAttribute::NetNsPid(pid as u32))
            }
            PeerNetns::Fd(fd) => p.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd())),
        }
        if let Some(mac) = peer_mac {
            p.attributes.push(LinkAttribute::Address(mac.to_vec()));
        }
        let mut m = link_by_name(name);
        if let Some(mtu) = mtu {
            p.attributes.push(LinkAttribute::Mtu(mtu));
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfoAttr::Kind(InfoKind::Veth),
            LinkInfoAttr::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        self.request(
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
            || match peer_netns {
                PeerNetns::Current => format!("create veth {name}/{peer}"),
                PeerNetns::Pid(pid) => {
                    format!("create veth {name}/{peer} (peer in netns of pid {pid})")
                }
                PeerNetns::Fd(fd) => format!(
                    "create veth {name}/{peer} (peer in netns fd {})",
                    fd.as_raw_fd()
                ),
            },
        )
        .map(drop)
    }

    /// Creates a bridge (down). An existing link of that name gives errno `EEXIST`.
    fn bridge_create(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let mut m = link_by_name(name);
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfoAttr::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("create bridge {name}"),
        )
        .map(drop)
    }

    /// Makes `ifname` a port of `bridge`.
    fn bridge_attach(&mut self, bridge: &str, ifname: &str) -> Result<(), NetError> {
        validate_ifname(bridge)?;
        validate_ifname(ifname)?;
        let op = || format!("attach {ifname} to bridge {bridge}");
        let index = self.link_index(bridge, op)?;
        self.set_link(ifname, None, vec![LinkAttribute::Controller(index)], op)
    }

    /// Moves a link into the network namespace of `pid` (costs a grace period).
    fn link_move_to_netns_pid(&mut self, name: &str, pid: libc::pid_t) -> Result<(), NetError> {
        validate_ifname(name)?;
        client::check_netns_pid(pid, || format!("link {name}"))?;
        self.set_link(
            name,
            None,
            vec![LinkAttribute::NetNsPid(pid as u32)],
            || format!("move link {name} to netns of pid {pid}"),
        )
    }

    /// Moves a link into the network namespace behind `fd` (`/proc/PID/ns/net`).
    fn link_move_to_netns_fd(&mut self, name: &str, fd: BorrowedFd<'_>) -> Result<(), NetError> {
        let raw = fd.as_raw_fd();
        self.set_link(name, None, vec![LinkAttribute::NetNsFd(raw)], || {
            format!("move link {name} to netns fd {raw}")
        })
    }

    /// Renames a link; the kernel refuses for most links while they are up (`EBUSY`).
    fn link_rename(&mut self, name: &str, new_name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        validate_ifname(new_name)?;
        let op = || format!("rename link {name} to {new_name}");
        let index = self.link_index(name, op)?;
        // IFLA_IFNAME is the new name here, so the link goes by index.
        let mut m = link_by_name(new_name);
        m.header.index = index;
        self.request(RouteNetlinkMessage::SetLink(m), 0, op)
            .map(drop)
    }

    /// Sets a link's Ethernet address.
    fn link_set_mac(&mut self, name: &str, mac: [u8; 6]) -> Result<(), NetError> {
        self.set_link(
            name,
            None,
            vec![LinkAttribute::Address(mac.to_vec())],
            || {
                format!(
                    "set mac of {name} to {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
                )
            },
        )
    }

    /// Sets a link's MTU.
    fn link_set_mtu(&mut self, name: &str, mtu: u32) -> Result<(), NetError> {
        validate_ifname(name)?;
        client::check_mtu(mtu, || format!("link {name}"))?;
        self.set_link(name, None, vec![LinkAttribute::Mtu(mtu)], || {
            format!("set mtu of {name} to {mtu}")
        })
    }

    /// Adds `addr/prefixlen` to a link (with its broadcast address up to /30).
    fn ipv4_addr_add(&mut self, name: &str, addr: Ipv4Addr, prefixlen: u8) -> Result<(), NetError> {
        validate_ifname(name)?;
        client::check_prefixlen(prefixlen)?;
        let op = || format!("add address {addr}/{prefixlen} to {name}");
        let index = self.link_index(name, op)?;
        let m = address_message(index, addr, prefixlen);
        self.request(
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_CREATE | NLM_F_EXCL,
            op,
        )
        .map(drop)
    }

    /// Adds the default route via `gateway`, out of `ifname` if given.
    fn ipv4_default_route_add(
        &mut self,
        gateway: Ipv4Addr,
        ifname: Option<&str>,
    ) -> Result<(), NetError> {
        if let Some(name) = ifname {
            validate_ifname(name)?;
        }
        client::check_gateway(gateway)?;
        let op = || match ifname {
            Some(ifname) => format!("add default route via {gateway} dev {ifname}"),
            None => format!("add default route via {gateway}"),
        };
        let oif = match ifname {
            Some(name) => Some(self.link_index(name, op)?),
            None => None,
        };
        let m = default_route_message(gateway, oif);
        self.request(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
            op,
        )
        .map(drop)
    }

    fn ipv4_primary_addr(&mut self, name: &str) -> Result<Option<Ipv4Addr>, NetError> {
        validate_ifname(name)?;
        host::primary_ipv4(name)
    }

    fn ipv4_routes(&mut self) -> Result<Vec<Route>, NetError> {
        host::routes()
    }
}

/// RTM_NEWADDR for `addr/prefixlen` on link `index`: IFA_LOCAL, IFA_ADDRESS and, up to /30,
/// IFA_BROADCAST (/31 and /32 have none, RFC 3021). The kernel adds the prefix route.
fn address_message(index: u32, addr: Ipv4Addr, prefixlen: u8) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = prefixlen;
    m.header.scope = AddressScope::Universe;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(IpAddr::V4(addr)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V4(addr)));
    m.attributes
        .push(AddressAttribute::Broadcast(broadcast(addr, prefixlen)));
    m
}

/// The broadcast address of `addr/prefixlen`; 0.0.0.0 (none, for the kernel) for /31 and /32.
fn broadcast(addr: Ipv4Addr, prefixlen: u8) -> Ipv4Addr {
    if prefixlen > 30 {
        return Ipv4Addr::UNSPECIFIED;
    }
    let host = if prefixlen == 0 {
        !0u32
    } else {
        !0u32 >> prefixlen
    };
    Ipv4Addr::from(u32::from(addr) | host)
}

/// RTM_NEWROUTE: the default route in the main table via `gateway`, out of `oif` if given.
fn default_route_message(gateway: Ipv4Addr, oif: Option<u32>) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header = RouteHeader {
        address_family: AddressFamily::Inet,
        destination_prefix_length: 0,
        table: RouteHeader::RT_TABLE_MAIN,
        protocol: RouteProtocol::Boot,
        scope: RouteScope::Universe,
        kind: RouteType::Unicast,
        ..RouteHeader::default()
    };
    m.attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
    if let Some(oif) = oif {
        m.attributes.push(RouteAttribute::Oif(oif));
    }
    m
}

/// One message prepared in the parent for the child: its bytes and length.
#[derive(Clone, Copy)]
struct Prepared {
    buf: [u8; CHILD_MSG_SIZE],
    len: usize,
}

impl Prepared {
    fn new(msg: RouteNetlinkMessage, flags: u16) -> Result<Self, NetError> {
        let mut header = NetlinkHeader::default();
        header.flags = REQUEST | flags;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let len = nl.buffer_len();
        if len > CHILD_MSG_SIZE {
            let why = format!("a message of {len} bytes does not fit {CHILD_MSG_SIZE}");
            return Err(NetError::Prepare(why));
        }
        let mut buf = [0u8; CHILD_MSG_SIZE];
        nl.serialize(&mut buf[..len]);
        Ok(Prepared { buf, len })
    }

    /// Offset of the payload of attribute `kind`, found among the attributes that start at
    /// `attrs` (after the family header).
    fn attr_offset(&self, attrs: usize, kind: u16) -> Result<usize, NetError> {
        let base = self.buf.as_ptr() as usize;
        NlasIterator::new(&self.buf[attrs..self.len])
            .filter_map(Result::ok)
            .find(|nla| nla.kind() == kind)
            .map(|nla| nla.value().as_ptr() as usize - base)
            .ok_or_else(|| NetError::Prepare(format!("a prepared message lacks attribute {kind}")))
    }

    fn put_u32(&mut self, at: usize, value: u32) {
        self.buf[at..at + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn put_ipv4(&mut self, at: usize, addr: Ipv4Addr) {
        self.buf[at..at + 4].copy_from_slice(&addr.octets());
    }
}

/// Sizes of the family headers (struct ifaddrmsg, struct rtmsg) and where their fields are.
const IFADDRMSG_LEN: usize = 8;
const IFA_PREFIXLEN_AT: usize = NLMSG_HDRLEN + 1;
const IFA_INDEX_AT: usize = NLMSG_HDRLEN + 4;
const RTMSG_LEN: usize = 12;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTM_NEWLINK: u16 = 16;

/// What the container's child sends over netlink, prepared by the parent before clone: lo up,
/// then for the veth peer (e.g. eth0) its index, its address, up, and the default route. See
/// the module doc for the scheme. Plain data: it travels into the child with the rest of the
/// parent's memory.
#[derive(Clone, Copy)]
pub struct ChildNet {
    lo_up: Prepared,
    get_link: Prepared,
    addr_add: Prepared,
    link_up: Prepared,
    route_add: Prepared,
    local_at: usize,
    address_at: usize,
    broadcast_at: usize,
    gateway_at: usize,
    oif_at: usize,
}

impl std::fmt::Debug for ChildNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildNet").finish_non_exhaustive()
    }
}

impl ChildNetlink for ChildNet {
    /// Serializes the child's messages for the link `ifname` (in the parent: allocates).
    fn prepare(ifname: &str) -> Result<Self, NetError> {
        validate_ifname(ifname)?;
        let up = |name: &str| {
            let mut m = link_by_name(name);
            m.header.change_mask = LinkFlags::Up;
            m.header.flags = LinkFlags::Up;
            Prepared::new(RouteNetlinkMessage::SetLink(m), 0)
        };
        let mut get = link_by_name(ifname);
        get.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));

        // Placeholders: the child writes the real values at the recorded offsets.
        let placeholder = Ipv4Addr::new(255, 255, 255, 255);
        let addr_add = Prepared::new(
            RouteNetlinkMessage::NewAddress(address_message(u32::MAX, placeholder, 24)),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        let route_add = Prepared::new(
            RouteNetlinkMessage::NewRoute(default_route_message(placeholder, Some(u32::MAX))),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        let addr_attrs = NLMSG_HDRLEN + IFADDRMSG_LEN;
        let route_attrs = NLMSG_HDRLEN + RTMSG_LEN;
        Ok(ChildNet {
            lo_up: up("lo")?,
            get_link: Prepared::new(RouteNetlinkMessage::GetLink(get), 0)?,
            link_up: up(ifname)?,
            local_at: addr_add.attr_offset(addr_attrs, IFA_LOCAL)?,
            address_at: addr_add.attr_offset(addr_attrs, IFA_ADDRESS)?,
            broadcast_at: addr_add.attr_offset(addr_attrs, IFA_BROADCAST)?,
            gateway_at: route_add.attr_offset(route_attrs, RTA_GATEWAY)?,
            oif_at: route_add.attr_offset(route_attrs, RTA_OIF)?,
            addr_add,
            route_add,
        })
    }

    /// In the child: `lo` up, on a socket opened here (so that it talks to this namespace).
    /// Allocation-free.
    fn loopback_up(&self) -> Result<(), Errno> {
        let sock = open_socket()?;
        let mut rx = [0u8; CHILD_RECV_SIZE];
        let mut msg = self.lo_up;
        transact(&sock, 1, &mut msg.buf[..msg.len], &mut rx, |_| Ok(()))
    }

    /// In the child: the prepared link gets `addr/prefixlen` (and its broadcast address), goes
    /// up, and the default route via `gateway` goes out of it. Allocation-free; the first
    /// failure is returned (EINVAL for a prefix length above 32 or a 0.0.0.0 gateway, ENODEV if
    /// the link is not here).
    fn configure(&self, addr: Ipv4Addr, prefixlen: u8, gateway: Ipv4Addr) -> Result<(), Errno> {
        if prefixlen > 32 || gateway.is_unspecified() {
            return Err(Errno::EINVAL);
        }
        let sock = open_socket()?;
        let mut rx = [0u8; CHILD_RECV_SIZE];

        // The link's index in this namespace, from the RTM_NEWLINK answering RTM_GETLINK.
        let mut index = 0u32;
        let mut get = self.get_link;
        transact(&sock, 1, &mut get.buf[..get.len], &mut rx, |reply| {
            index = reply_link_index(reply)?.unwrap_or(index);
            Ok(())
        })?;
        if index == 0 {
            return Err(Errno::EBADMSG);
        }

        let mut add = self.addr_add;
        add.buf[IFA_PREFIXLEN_AT] = prefixlen;
        add.put_u32(IFA_INDEX_AT, index);
        add.put_ipv4(self.local_at, addr);
        add.put_ipv4(self.address_at, addr);
        add.put_ipv4(self.broadcast_at, broadcast(addr, prefixlen));
        transact(&sock, 2, &mut add.buf[..add.len], &mut rx, |_| Ok(()))?;

        let mut up = self.link_up;
        transact(&sock, 3, &mut up.buf[..up.len], &mut rx, |_| Ok(()))?;

        let mut route = self.route_add;
        route.put_ipv4(self.gateway_at, gateway);
        route.put_u32(self.oif_at, index);
        transact(&sock, 4, &mut route.buf[..route.len], &mut rx, |_| Ok(()))
    }
}

#[cfg(test)]
mod tests {
    //! What is particular to the Rust backend. The verbs and the child's path, shared with the
    //! C backend, are tested in `net::conformance` (which also counts the child's allocations).

    use super::*;

    #[test]
    fn prepare_checks_the_name() {
        assert!(matches!(
            ChildNet::prepare("0123456789abcdef"),
            Err(NetError::Invalid(_))
        ));
    }

    #[test]
    fn every_placeholder_is_found() {
        let c = ChildNet::prepare("eth0").unwrap();
        let offsets = [
            c.local_at,
            c.address_at,
            c.broadcast_at,
            c.gateway_at,
            c.oif_at,
        ];
        for at in offsets {
            assert!(
                at >= NLMSG_HDRLEN && at + 4 <= CHILD_MSG_SIZE,
                "{offsets:?}"
            );
        }
        assert_eq!(&c.addr_add.buf[c.local_at..c.local_at + 4], &[255; 4]);
        assert_eq!(
            &c.route_add.buf[c.oif_at..c.oif_at + 4],
            &u32::MAX.to_ne_bytes()
        );
    }

    #[test]
    fn broadcast_addresses() {
        let a = Ipv4Addr::new(10, 88, 3, 4);
        assert_eq!(broadcast(a, 16), Ipv4Addr::new(10, 88, 255, 255));
        assert_eq!(broadcast(a, 30), Ipv4Addr::new(10, 88, 3, 7));
        assert_eq!(broadcast(a, 31), Ipv4Addr::UNSPECIFIED);
        assert_eq!(broadcast(a, 0), Ipv4Addr::BROADCAST);
    }
}
