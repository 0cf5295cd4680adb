//! Container networking: veth pairs, bridges, addresses, leases and NAT.

mod bindings;
pub mod attach;
pub mod bridge;
#[cfg(test)]
mod conformance;
pub mod ipam;
pub mod legacy;
pub mod nat;
#[cfg(feature = "netlink-rust")]
pub mod rtnl;
#[cfg(test)]
pub(crate) mod testns;

use std::net::Ipv4Addr;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{0}")]
    Invalid(String),
    #[error("netlink {op}: {}", std::io::Error::from_raw_os_error(*errno))]
    Netlink { op: String, errno: i32 },
    /// A file or system call outside netlink failed (lease files, /proc, sockets).
    #[error("{op}: {source}")]
    Io { op: String, source: std::io::Error },
    /// An external tool (iptables) is missing or failed.
    #[error("{0}")]
    Command(String),
}

impl NetError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { errno, .. } => Some(*errno),
            NetError::Io { source, .. } => source.raw_os_error(),
            NetError::Invalid(_) | NetError::Command(_) => None,
        }
    }

    pub(crate) fn io(op: impl Into<String>, source: std::io::Error) -> Self {
        NetError::Io {
            op: op.into(),
            source,
        }
    }
}

/// Parses `A.B.C.D/N` (N in 0..=32). Host bits are not checked here: see [`validate`].
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), NetError> {
    let bad = |why: String| NetError::Invalid(format!("invalid CIDR {s:?}: {why}"));
    let Some((addr, prefix)) = s.split_once('/') else {
        return Err(bad("expected ADDRESS/PREFIX, e.g. 10.88.0.0/16".into()));
    };
    // std's parser wants exactly four decimal octets, so "10.88.0" and "010.1.1.1" fail.
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| bad(format!("{addr:?} is not an IPv4 address (A.B.C.D)")))?;
    if prefix.is_empty() || prefix.len() > 2 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("{prefix:?} is not a prefix length (0 to 32)")));
    }
    let prefix: u8 = prefix
        .parse()
        .map_err(|_| bad(format!("{prefix:?} is not a prefix length (0 to 32)")))?;
    if prefix > 32 {
        return Err(bad(format!(
            "prefix length {prefix} is out of range (0 to 32)"
        )));
    }
    Ok((addr, prefix))
}

/// Checks a bridge subnet: prefix 8..=30 (room for a gateway and at least one container) and no
/// host bits set.
pub fn validate_subnet(subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    let (addr, prefix) = subnet;
    if !(8..=30).contains(&prefix) {
        return Err(NetError::Invalid(format!(
            "subnet {addr}/{prefix}: prefix length must be between 8 and 30"
        )));
    }
    let network = ipam::network(subnet);
    if network != addr {
        return Err(NetError::Invalid(format!(
            "subnet {addr}/{prefix}: host bits set, did you mean {network}/{prefix}?"
        )));
    }
    Ok(())
}

/// Checks that `ip` can be given to a container in `subnet` (already valid): inside it and not
/// its network, gateway (first host) or broadcast address.
pub fn validate_container_ip(ip: Ipv4Addr, subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    let (addr, prefix) = subnet;
    let why = if !ipam::contains(subnet, ip) {
        Some("is outside")
    } else if ip == ipam::network(subnet) {
        Some("is the network address of")
    } else if ip == ipam::gateway(subnet) {
        Some("is the gateway (bridge) address of")
    } else if ip == ipam::broadcast(subnet) {
        Some("is the broadcast address of")
    } else {
        None
    };
    match why {
        Some(why) => Err(NetError::Invalid(format!(
            "address {ip} {why} subnet {addr}/{prefix}"
        ))),
        None => Ok(()),
    }
}

/// Checks a bridge network spec before any side effect.
pub fn validate(net: &crate::spec::NetworkSpec) -> Result<(), NetError> {
    legacy::validate_ifname(&net.bridge)
        .map_err(|e| NetError::Invalid(format!("bridge name: {e}")))?;
    if let Some(subnet) = net.subnet {
        validate_subnet(subnet)?;
        if let Some(ip) = net.ip {
            validate_container_ip(ip, subnet)?;
        }
    }
    let mut seen = Vec::with_capacity(net.ports.len());
    for p in &net.ports {
        if p.host_port == 0 || p.container_port == 0 {
            return Err(NetError::Invalid(format!(
                "published port {}:{}: ports must be 1 to 65535",
                p.host_port, p.container_port
            )));
        }
        if seen.contains(&(p.host_port, p.protocol)) {
            return Err(NetError::Invalid(format!(
                "host port {}/{} is published twice",
                p.host_port,
                nat::proto_name(p.protocol)
            )));
        }
        seen.push((p.host_port, p.protocol));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{NetworkMode, NetworkSpec, PortMapping, Protocol};

    fn invalid_msg<T: std::fmt::Debug>(r: Result<T, NetError>) -> String {
        match r {
            Err(NetError::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
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
