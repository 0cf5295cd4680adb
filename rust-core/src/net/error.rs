//! The errors of the network module: one variant per mistake, the message from the variant.

use std::fmt;
use std::net::Ipv4Addr;

/// A subnet as `A.B.C.D/N`, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(pub Ipv4Addr, pub u8);

impl From<(Ipv4Addr, u8)> for Cidr {
    fn from((addr, prefix): (Ipv4Addr, u8)) -> Self {
        Cidr(addr, prefix)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A caller-supplied value is wrong; nothing was changed.
    #[error(transparent)]
    Invalid(#[from] InvalidNet),
    /// The address is held by a live container.
    #[error("address {ip} is already in use by container pid {pid}")]
    AddressInUse { ip: Ipv4Addr, pid: libc::pid_t },
    #[error("no free address in subnet {subnet}: all {count} are leased")]
    SubnetFull { subnet: Cidr, count: u32 },
    #[error("netlink {op}: {}", std::io::Error::from_raw_os_error(*errno))]
    Netlink { op: String, errno: i32 },
    /// A file or system call outside netlink failed (lease files, /proc, sockets).
    #[error("{op}: {source}")]
    Io { op: String, source: std::io::Error },
    /// An external tool (iptables) is not installed.
    #[error("{0} not found: install the {0} package")]
    ToolMissing(&'static str),
    #[error("{command} failed ({status}): {stderr}")]
    ToolFailed {
        command: String,
        status: String,
        stderr: String,
    },
    /// The child's netlink messages could not be prepared (a bug of the backend).
    #[error("preparing the child's netlink messages: {0}")]
    Prepare(String),
}

impl NetError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { errno, .. } => Some(*errno),
            NetError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn io(op: impl Into<String>, source: std::io::Error) -> Self {
        NetError::Io {
            op: op.into(),
            source,
        }
    }

    /// An external tool is missing or failed (networking on the host still works).
    pub fn is_tool(&self) -> bool {
        matches!(self, NetError::ToolMissing(_) | NetError::ToolFailed { .. })
    }
}

/// A wrong value given to the network module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNet {
    #[error("invalid interface name {name:?}: {why}")]
    IfName { name: String, why: IfNameProblem },
    #[error("bridge name: invalid interface name {name:?}: {why}")]
    BridgeName { name: String, why: IfNameProblem },
    #[error("invalid CIDR {text:?}: {why}")]
    Cidr { text: String, why: CidrProblem },
    #[error("invalid IPv4 address {0:?}")]
    Address(String),
    #[error("subnet {0}: prefix length must be between 8 and 30")]
    SubnetPrefix(Cidr),
    #[error("subnet {subnet}: host bits set, did you mean {network}/{}?", subnet.1)]
    SubnetHostBits { subnet: Cidr, network: Ipv4Addr },
    #[error(
        "every subnet of the default pool ({first} to {last}) overlaps a route of this host: give the bridge a subnet (--subnet)"
    )]
    PoolExhausted { first: Cidr, last: Cidr },
    #[error("subnet {0} has no room for containers")]
    NoRoom(Cidr),
    #[error(
        "subnet {subnet} overlaps the route to {route} on interface {ifname}: choose another subnet"
    )]
    Overlap {
        subnet: Cidr,
        route: Cidr,
        ifname: String,
    },
    #[error("address {ip} {why} subnet {subnet}")]
    ContainerIp {
        ip: Ipv4Addr,
        why: IpProblem,
        subnet: Cidr,
    },
    #[error("address {0} is the gateway")]
    Gateway(Ipv4Addr),
    #[error("invalid gateway 0.0.0.0")]
    UnspecifiedGateway,
    #[error("invalid IPv4 prefix length {0}")]
    PrefixLength(u8),
    #[error("published port {host}:{container}: ports must be 1 to 65535")]
    PortZero { host: u16, container: u16 },
    #[error("host port {port}/{protocol} is published twice")]
    PortTwice { port: u16, protocol: &'static str },
    #[error("invalid container id {0:?}: use [a-zA-Z0-9_.-], at most 64 bytes")]
    ContainerId(String),
    /// `what` names the link: "veth eth0", "link vethX".
    #[error("invalid netns pid {pid} for {what}")]
    NetnsPid { pid: libc::pid_t, what: String },
    #[error("invalid MTU 0 for {0}")]
    ZeroMtu(String),
    #[error("invalid lease owner pid {0}")]
    LeaseOwner(libc::pid_t),
    #[error("lease owner pid {0} does not exist")]
    LeaseOwnerGone(libc::pid_t),
}

/// Why an interface name is refused (the kernel's `dev_valid_name()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IfNameProblem {
    #[error("empty")]
    Empty,
    #[error("longer than 15 bytes")]
    TooLong,
    #[error("reserved")]
    Reserved,
    #[error("contains NUL")]
    Nul,
    #[error("contains '/'")]
    Slash,
    #[error("contains ':'")]
    Colon,
    #[error("contains whitespace")]
    Whitespace,
    /// A bridge name goes into iptables rules, where `+` is a wildcard (`-i br+` matches every
    /// interface starting with `br`) and `!` a negation: only letters, digits, `-`, `_` and `.`.
    #[error("{0:?} is not allowed in a bridge name (letters, digits, '-', '_' and '.' only)")]
    BridgeChar(char),
}

/// Why a CIDR does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrProblem {
    #[error("expected ADDRESS/PREFIX, e.g. 10.88.0.0/16")]
    NoPrefix,
    #[error("{0:?} is not an IPv4 address (A.B.C.D)")]
    Address(String),
    #[error("{0:?} is not a prefix length (0 to 32)")]
    Prefix(String),
    #[error("prefix length {0} is out of range (0 to 32)")]
    PrefixRange(u8),
}

/// Why an address cannot be a container's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IpProblem {
    #[error("is outside")]
    Outside,
    #[error("is the network address of")]
    Network,
    #[error("is the gateway (bridge) address of")]
    Gateway,
    #[error("is the broadcast address of")]
    Broadcast,
}
