//! Container networking: veth pairs, bridges, addresses, leases and NAT.
//!
//! Netlink goes through the [`Client`] trait (the child's part through [`ChildNetlink`]). Two
//! backends implement them: [`legacy::Netlink`] (the C code in c-legacy/, in every build: the
//! network.h API of `ffi::lxc` is C by design) and, with the cargo feature `netlink-rust`,
//! `rtnl::Rtnl` (netlink-packet-route). [`Backend`] and [`ChildNet`] name the one the build
//! chose; tests use a fake.

pub mod attach;
mod bindings;
pub mod bridge;
mod client;
#[cfg(test)]
mod conformance;
mod error;
#[cfg(test)]
pub(crate) mod fake;
mod host;
pub mod ipam;
pub mod legacy;
pub mod nat;
#[cfg(feature = "netlink-rust")]
pub mod rtnl;

use std::net::Ipv4Addr;

pub use client::{ChildNetlink, Client, LinkInfo, PeerNetns, Route};
pub use error::{Cidr, CidrProblem, IfNameProblem, InvalidNet, IpProblem, NetError};

use crate::spec::{NetworkSpec, PortMapping, Protocol};

/// The netlink backend of this build: the C one by default, the Rust one with `netlink-rust`
/// (`make NETLINK=rust`).
#[cfg(not(feature = "netlink-rust"))]
pub type Backend = legacy::Netlink;
#[cfg(feature = "netlink-rust")]
pub type Backend = rtnl::Rtnl;

/// The child's side of [`Backend`].
#[cfg(not(feature = "netlink-rust"))]
pub type ChildNet = legacy::ChildNet;
#[cfg(feature = "netlink-rust")]
pub type ChildNet = rtnl::ChildNet;

/// The name of [`Backend`], as `make NETLINK=...` spells it: "c" or "rust" (a C string: the
/// C API returns it).
pub const BACKEND_NAME: &std::ffi::CStr = if cfg!(feature = "netlink-rust") {
    c"rust"
} else {
    c"c"
};

/// Opens a [`Client`] in the calling thread's network namespace: how the container lifecycle
/// gets its netlink connection, so that tests can hand it a fake.
pub type Connector = std::sync::Arc<dyn Fn() -> Result<Box<dyn Client>, NetError> + Send + Sync>;

/// The connector of the build's [`Backend`].
pub fn connector() -> Connector {
    std::sync::Arc::new(|| Ok(Box::new(Backend::open()?) as Box<dyn Client>))
}

/// `IFNAMSIZ`: an interface name is at most `IFNAMSIZ - 1` = 15 bytes.
pub const IFNAMSIZ: usize = 16;

/// Why `name` is not an interface name, checked the way the kernel's `dev_valid_name()` does:
/// 1 to 15 bytes, not `.` or `..`, and no `/`, `:`, whitespace or NUL.
fn ifname_problem(name: &str) -> Option<IfNameProblem> {
    if name.is_empty() {
        Some(IfNameProblem::Empty)
    } else if name.len() >= IFNAMSIZ {
        Some(IfNameProblem::TooLong)
    } else if name == "." || name == ".." {
        Some(IfNameProblem::Reserved)
    } else if name.contains('\0') {
        Some(IfNameProblem::Nul)
    } else if name.contains('/') {
        Some(IfNameProblem::Slash)
    } else if name.contains(':') {
        Some(IfNameProblem::Colon)
    } else if name.chars().any(char::is_whitespace) {
        Some(IfNameProblem::Whitespace)
    } else {
        None
    }
}

/// Checks an interface name (see [`ifname_problem`]).
pub fn validate_ifname(name: &str) -> Result<(), NetError> {
    match ifname_problem(name) {
        Some(why) => Err(InvalidNet::IfName {
            name: name.to_string(),
            why,
        }
        .into()),
        None => Ok(()),
    }
}

/// Parses `A.B.C.D/N` (N in 0..=32). Host bits are not checked here: see [`validate_subnet`].
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), NetError> {
    let bad = |why| InvalidNet::Cidr {
        text: s.to_string(),
        why,
    };
    let Some((addr, prefix)) = s.split_once('/') else {
        return Err(bad(CidrProblem::NoPrefix).into());
    };
    // std's parser wants exactly four decimal octets, so "10.88.0" and "010.1.1.1" fail.
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| bad(CidrProblem::Address(addr.to_string())))?;
    if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(CidrProblem::Prefix(prefix.to_string())).into());
    }
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad(CidrProblem::Prefix(prefix.to_string())))?;
    if prefix > 32 {
        return Err(bad(CidrProblem::PrefixRange(prefix)).into());
    }
    Ok((addr, prefix))
}

/// Parses a dotted-quad IPv4 address.
pub fn parse_ipv4(s: &str) -> Result<Ipv4Addr, NetError> {
    s.parse()
        .map_err(|_| InvalidNet::Address(s.to_string()).into())
}

/// Checks a bridge subnet: prefix 8..=30 (room for a gateway and at least one container) and no
/// host bits set.
pub fn validate_subnet(subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    if !(8..=30).contains(&subnet.1) {
        return Err(InvalidNet::SubnetPrefix(subnet.into()).into());
    }
    let network = ipam::network(subnet);
    if network != subnet.0 {
        return Err(InvalidNet::SubnetHostBits {
            subnet: subnet.into(),
            network,
        }
        .into());
    }
    Ok(())
}

/// Checks a bridge's name: an interface name that iptables also takes literally (its rules name
/// the bridge, and there `+` is a wildcard and `!` a negation), so only `[A-Za-z0-9_.-]`.
pub fn validate_bridge_name(name: &str) -> Result<(), NetError> {
    let literal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let why = ifname_problem(name).or_else(|| {
        name.chars()
            .find(|&c| !literal(c))
            .map(IfNameProblem::BridgeChar)
    });
    match why {
        Some(why) => Err(InvalidNet::BridgeName {
            name: name.to_string(),
            why,
        }
        .into()),
        None => Ok(()),
    }
}

/// Checks a bridge's name and subnet.
pub fn validate_bridge(name: &str, subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    validate_bridge_name(name)?;
    validate_subnet(subnet)
}

/// Checks that `ip` can be given to a container in `subnet` (already valid): inside it and not
/// its network, gateway (first host) or broadcast address.
pub fn validate_container_ip(ip: Ipv4Addr, subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    let why = if !ipam::contains(subnet, ip) {
        Some(IpProblem::Outside)
    } else if ip == ipam::network(subnet) {
        Some(IpProblem::Network)
    } else if ip == ipam::gateway(subnet) {
        Some(IpProblem::Gateway)
    } else if ip == ipam::broadcast(subnet) {
        Some(IpProblem::Broadcast)
    } else {
        None
    };
    match why {
        Some(why) => Err(InvalidNet::ContainerIp {
            ip,
            why,
            subnet: subnet.into(),
        }
        .into()),
        None => Ok(()),
    }
}

/// Checks one published port: both ports 1..=65535.
pub fn validate_port(p: &PortMapping) -> Result<(), NetError> {
    if p.host_port == 0 || p.container_port == 0 {
        return Err(InvalidNet::PortZero {
            host: p.host_port,
            container: p.container_port,
        }
        .into());
    }
    Ok(())
}

/// The protocol's name as iptables and `-p 80/udp` spell it.
pub fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// Checks a bridge network spec before any side effect. Without a subnet (the bridge's recorded
/// one or the pool's: chosen at start), the address is checked once the subnet is known.
pub fn validate(net: &NetworkSpec) -> Result<(), NetError> {
    validate_bridge_name(&net.bridge)?;
    if let Some(subnet) = net.subnet {
        validate_subnet(subnet)?;
        if let Some(ip) = net.ip {
            validate_container_ip(ip, subnet)?;
        }
    }
    let mut seen = Vec::with_capacity(net.ports.len());
    for p in &net.ports {
        validate_port(p)?;
        if seen.contains(&(p.host_port, p.protocol)) {
            let protocol = proto_name(p.protocol);
            return Err(InvalidNet::PortTwice {
                port: p.host_port,
                protocol,
            }
            .into());
        }
        seen.push((p.host_port, p.protocol));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::NetworkMode;

    fn invalid_msg<T: std::fmt::Debug>(r: Result<T, NetError>) -> String {
        match r {
            Err(NetError::Invalid(m)) => m.to_string(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn the_backend_reported_is_the_one_in_use() {
        let (parent, child) = (
            std::any::type_name::<Backend>(),
            std::any::type_name::<ChildNet>(),
        );
        let module = if BACKEND_NAME == c"rust" {
            "::rtnl::"
        } else {
            "::legacy::"
        };
        assert!(
            parent.contains(module) && child.contains(module),
            "{BACKEND_NAME:?}: {parent}, {child}"
        );
    }

    #[test]
    fn parse_cidr_accepts_and_rejects() {
        assert_eq!(
            parse_cidr("10.88.0.0/16").unwrap(),
            (Ipv4Addr::new(10, 88, 0, 0), 16)
        );
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), (Ipv4Addr::UNSPECIFIED, 0));
        assert_eq!(parse_cidr("10.88.0.1/32").unwrap().1, 32);
        for (bad, needle) in [
            ("10.88.0.0/33", "prefix length 33 is out of range"),
            ("10.88.0/16", "\"10.88.0\" is not an IPv4 address"),
            ("abc", "expected ADDRESS/PREFIX"),
            ("10.88.0.0", "expected ADDRESS/PREFIX"),
            ("10.88.0.0/", "is not a prefix length"),
            ("10.88.0.0/+8", "is not a prefix length"),
            ("10.88.0.0/16/2", "is not a prefix length"),
            ("10.88.0.256/16", "is not an IPv4 address"),
            (" 10.88.0.0/16", "is not an IPv4 address"),
        ] {
            let msg = invalid_msg(parse_cidr(bad));
            assert!(
                msg.contains(needle) && msg.contains(&format!("{bad:?}")),
                "{bad}: {msg}"
            );
        }
    }

    fn bridge_spec() -> NetworkSpec {
        NetworkSpec {
            mode: NetworkMode::Bridge,
            ..NetworkSpec::default()
        }
    }

    #[test]
    fn validate_default_and_subnets() {
        validate(&bridge_spec()).unwrap();
        let mut n = bridge_spec();
        n.subnet = Some(parse_cidr("10.88.0.1/16").unwrap());
        assert_eq!(
            invalid_msg(validate(&n)),
            "subnet 10.88.0.1/16: host bits set, did you mean 10.88.0.0/16?"
        );
        for (cidr, ok) in [
            ("10.0.0.0/8", true),
            ("10.1.2.4/30", true),
            ("10.0.0.0/7", false),
            ("10.1.2.4/31", false),
            ("10.1.2.4/32", false),
        ] {
            n.subnet = Some(parse_cidr(cidr).unwrap());
            assert_eq!(validate(&n).is_ok(), ok, "{cidr}");
        }
        n.subnet = Some(parse_cidr("10.1.2.4/31").unwrap());
        assert!(invalid_msg(validate(&n)).contains("prefix length must be between 8 and 30"));
    }

    #[test]
    fn validate_bridge_name() {
        let mut n = bridge_spec();
        n.bridge = "0123456789abcdef".into();
        let msg = invalid_msg(validate(&n));
        assert!(
            msg.starts_with("bridge name: ") && msg.contains("0123456789abcdef"),
            "{msg}"
        );
        n.bridge = String::new();
        assert!(validate(&n).is_err());
        n.bridge = "0123456789abcde".into();
        validate(&n).unwrap();
        // iptables would read these as a wildcard or a negation in the bridge's rules.
        for bad in ["br+", "+", "br!x", "br*", "bré"] {
            n.bridge = bad.into();
            let msg = invalid_msg(validate(&n));
            assert!(msg.contains("not allowed in a bridge name"), "{bad}: {msg}");
        }
        n.bridge = "br-a_b.1".into();
        validate(&n).unwrap();
    }

    #[test]
    fn validate_static_ip() {
        let mut n = bridge_spec();
        n.subnet = Some(parse_cidr("10.88.0.0/16").unwrap());
        n.ip = Some(Ipv4Addr::new(10, 88, 0, 2));
        validate(&n).unwrap();
        n.ip = Some(Ipv4Addr::new(10, 88, 255, 254));
        validate(&n).unwrap();
        for (ip, why) in [
            ([10, 89, 0, 2], "is outside"),
            ([10, 88, 0, 0], "network address"),
            ([10, 88, 0, 1], "gateway"),
            ([10, 88, 255, 255], "broadcast"),
        ] {
            n.ip = Some(Ipv4Addr::from(ip));
            let msg = invalid_msg(validate(&n));
            assert!(
                msg.contains(why) && msg.contains("subnet 10.88.0.0/16"),
                "{msg}"
            );
        }
    }

    #[test]
    fn validate_ports() {
        let mut n = bridge_spec();
        let p = |h, c, protocol| PortMapping {
            host_port: h,
            container_port: c,
            protocol,
        };
        n.ports = vec![p(8080, 80, Protocol::Tcp), p(8080, 80, Protocol::Udp)];
        validate(&n).unwrap();
        n.ports.push(p(8080, 81, Protocol::Tcp));
        assert!(invalid_msg(validate(&n)).contains("host port 8080/tcp is published twice"));
        n.ports = vec![p(0, 80, Protocol::Tcp)];
        assert!(validate(&n).is_err());
    }
}
