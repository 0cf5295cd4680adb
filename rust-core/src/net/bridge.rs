//! The host-side bridge: created once, shared by every container on it.

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::legacy::{Netlink, validate_ifname};
use super::{NetError, ipam, validate_subnet};

/// An IPv4 route of the main table as /proc/net/route lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub ifname: String,
    pub dest: (Ipv4Addr, u8),
}

/// Parses /proc/net/route: addresses are hex in network byte order, as the kernel's u32 prints.
fn parse_routes(text: &str) -> Vec<Route> {
    let hex = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (ifname, dest, mask) = (f.first()?, hex(f.get(1)?)?, hex(f.get(7)?)?);
            let prefix = u32::from(mask).leading_ones() as u8;
            Some(Route {
                ifname: (*ifname).to_owned(),
                dest: (dest, prefix),
            })
        })
        .collect()
}

/// The IPv4 routes of the main table in the calling thread's network namespace (thread-self:
/// /proc/net follows the thread group leader, which may sit in another namespace).
pub fn routes() -> Result<Vec<Route>, NetError> {
    let path = "/proc/thread-self/net/route";
    let text = fs::read_to_string(path).map_err(|e| NetError::io(format!("read {path}"), e))?;
    Ok(parse_routes(&text))
}

/// Refuses `subnet` if it overlaps a route through any interface other than `bridge`: taking it
/// would cut the host off from that network. Default routes (/0) overlap everything and are not
/// a conflict.
pub fn check_overlap(
    bridge: &str,
    subnet: (Ipv4Addr, u8),
    routes: &[Route],
) -> Result<(), NetError> {
    match overlapping_route(bridge, subnet, routes) {
        Some(r) => Err(NetError::Invalid(format!(
            "subnet {}/{} overlaps the route to {}/{} on interface {}: choose another subnet",
            subnet.0, subnet.1, r.dest.0, r.dest.1, r.ifname
        ))),
        None => Ok(()),
    }
}

/// The first route through another interface than `bridge` that `subnet` overlaps.
fn overlapping_route<'a>(bridge: &str, subnet: (Ipv4Addr, u8), routes: &'a [Route]) -> Option<&'a Route> {
    routes.iter().find(|r| r.dest.1 != 0 && r.ifname != bridge && ipam::overlaps(subnet, r.dest))
}

/// The primary IPv4 address of a link (SIOCGIFADDR), None if it has none. Read with an ioctl
/// because the legacy netlink verbs have no "get addresses" request.
fn primary_ipv4(name: &str) -> Result<Option<Ipv4Addr>, NetError> {
    // SAFETY: plain socket(2); the result is checked and owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(NetError::io(
            "socket(AF_INET)",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: fd was just opened and is owned only here.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zeroes is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: a valid socket and a NUL-terminated ifreq (name <= 15 bytes, validated).
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFADDR, &mut ifr) } < 0 {
        let e = std::io::Error::last_os_error();
        // EADDRNOTAVAIL: the link has no IPv4 address.
        if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) {
            return Ok(None);
        }
        return Err(NetError::io(format!("SIOCGIFADDR {name}"), e));
    }
    // SAFETY: the kernel filled ifru_addr with a sockaddr_in for AF_INET.
    let sin: libc::sockaddr_in =
        unsafe { std::ptr::read_unaligned((&raw const ifr.ifr_ifru.ifru_addr).cast()) };
    Ok(Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())))
}

/// Where the default bridge subnets come from, in order (as Docker's default-address-pools): the
/// /16s 10.210.0.0 to 10.219.0.0. They avoid Docker's 172.17.0.0/16 (and the 172.18-31 it gives
/// to other networks), podman's 10.88.0.0/16 and 10.89.0.0/16, Kubernetes' 10.96.0.0/12 and
/// 10.244.0.0/16, k3s' 10.42-43.0.0/16 and the 192.168.0.0/16 of home networks.
pub const SUBNET_POOL: [(Ipv4Addr, u8); 10] = {
    let mut pool = [(Ipv4Addr::new(10, 210, 0, 0), 16); 10];
    let mut i = 0;
    while i < pool.len() {
        pool[i].0 = Ipv4Addr::new(10, 210 + i as u8, 0, 0);
        i += 1;
    }
    pool
};

/// The subnet a bridge gets when none is asked for: the pool's first.
pub const DEFAULT_SUBNET: (Ipv4Addr, u8) = SUBNET_POOL[0];

/// A bridge's subnet, and why it is not the default when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetChoice {
    pub subnet: (Ipv4Addr, u8),
    /// Set when the default was taken: the route of another interface that overlaps it.
    pub default_taken: Option<Route>,
}

/// The subnet for `bridge`: the requested one (refused when it overlaps a route of another
/// interface), else the one recorded for the bridge by an earlier choice, else the first subnet
/// of [`SUBNET_POOL`] that no route of another interface overlaps.
pub fn choose_subnet(
    bridge: &str,
    requested: Option<(Ipv4Addr, u8)>,
    recorded: Option<(Ipv4Addr, u8)>,
    routes: &[Route],
) -> Result<SubnetChoice, NetError> {
    if let Some(subnet) = requested {
        validate_subnet(subnet)?;
        check_overlap(bridge, subnet, routes)?;
        return Ok(SubnetChoice { subnet, default_taken: None });
    }
    if let Some(subnet) = recorded.filter(|s| overlapping_route(bridge, *s, routes).is_none()) {
        return Ok(SubnetChoice { subnet, default_taken: None });
    }
    let Some(taken) = overlapping_route(bridge, DEFAULT_SUBNET, routes) else {
        return Ok(SubnetChoice { subnet: DEFAULT_SUBNET, default_taken: None });
    };
    SUBNET_POOL
        .iter()
        .find(|s| overlapping_route(bridge, **s, routes).is_none())
        .map(|&subnet| SubnetChoice { subnet, default_taken: Some(taken.clone()) })
        .ok_or_else(|| {
            let (first, last) = (SUBNET_POOL[0], SUBNET_POOL[SUBNET_POOL.len() - 1]);
            NetError::Invalid(format!(
                "every subnet of the default pool ({}/{} to {}/{}) overlaps a route of this host: give the bridge a subnet (--subnet)",
                first.0, first.1, last.0, last.1
            ))
        })
}

/// Makes sure bridge `name` exists, holds the gateway address (the first host of `subnet`) and
/// is up, in the namespace of `nl`'s socket (which must be the calling thread's, for the route
/// check and the address ioctl). Idempotent, and safe when several processes race to create the
/// same bridge: EEXIST from the kernel counts as done.
///
/// Refuses, before creating anything, a subnet that overlaps a route through another interface.
/// A bridge that already holds a different primary address keeps it; the gateway is added next
/// to it.
pub fn ensure_bridge(nl: &mut Netlink, name: &str, subnet: (Ipv4Addr, u8)) -> Result<bool, NetError> {
    validate_ifname(name)?;
    validate_subnet(subnet)?;
    check_overlap(name, subnet, &routes()?)?;
    ensure_checked_bridge(nl, name, subnet)
}

/// [`ensure_bridge`] once `name` and `subnet` have been checked. True when it created the
/// bridge.
pub fn ensure_checked_bridge(nl: &mut Netlink, name: &str, subnet: (Ipv4Addr, u8)) -> Result<bool, NetError> {
    let created = ensure_bridge_link(nl, name)?;
    let gw = ipam::gateway(subnet);
    if primary_ipv4(name)? != Some(gw) {
        match nl.ipv4_addr_add(name, gw, subnet.1) {
            Err(e) if e.errno() == Some(libc::EEXIST) => {}
            other => other?,
        }
    }
    nl.link_up(name)?;
    Ok(created)
}

/// Creates bridge `name` unless a link of that name exists (EEXIST from a racing creator is
/// fine); true when this call created it. Does not check that an existing link is a bridge: the
/// legacy verbs cannot read the link kind, and attaching a port to a non-bridge fails later with
/// a kernel error.
pub fn ensure_bridge_link(nl: &mut Netlink, name: &str) -> Result<bool, NetError> {
    if nl.link_exists(name)? {
        return Ok(false);
    }
    match nl.bridge_create(name) {
        Err(e) if e.errno() == Some(libc::EEXIST) => Ok(false),
        other => other.map(|()| true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::legacy::PeerNetns;
    use crate::net::testns::{has_link, in_new_netns, ipv4_of, on_threads_here};

    const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);

    #[test]
    fn parses_proc_net_route() {
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
                    eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n\
                    docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let r = parse_routes(text);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1],
            Route {
                ifname: "eth0".into(),
                dest: (Ipv4Addr::new(192, 168, 2, 0), 24)
            }
        );
        assert_eq!(r[2].dest, (Ipv4Addr::new(172, 17, 0, 0), 16));
        check_overlap("docker-run0", SUBNET, &r).unwrap();
        let err = check_overlap("docker-run0", (Ipv4Addr::new(172, 16, 0, 0), 12), &r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "subnet 172.16.0.0/12 overlaps the route to 172.17.0.0/16 on interface docker0: choose another subnet"
        );
        // Our own bridge's route is no conflict.
        check_overlap("docker0", (Ipv4Addr::new(172, 17, 0, 0), 16), &r).unwrap();
    }

    #[test]
    fn creates_addresses_and_brings_up_idempotently() {
        in_new_netns(|| {
            let mut nl = Netlink::open().unwrap();
            ensure_bridge(&mut nl, "br-e0", SUBNET).unwrap();
            assert!(has_link("br-e0"));
            assert_eq!(ipv4_of("br-e0"), Some(Ipv4Addr::new(10, 88, 0, 1)));
            assert!(nl.link_info("br-e0").unwrap().is_up());
            // The bridge's own connected route is there and is not a conflict the next time.
            assert!(
                routes()
                    .unwrap()
                    .iter()
                    .any(|r| r.ifname == "br-e0" && r.dest == SUBNET)
            );
            ensure_bridge(&mut nl, "br-e0", SUBNET).unwrap();
            // Taken down by someone: brought back up.
            nl.link_down("br-e0").unwrap();
            ensure_bridge(&mut nl, "br-e0", SUBNET).unwrap();
            assert!(nl.link_info("br-e0").unwrap().is_up());
        });
    }

    #[test]
    fn existing_bridge_without_address_gets_it() {
        in_new_netns(|| {
            let mut nl = Netlink::open().unwrap();
            nl.bridge_create("br-e1").unwrap();
            ensure_bridge(&mut nl, "br-e1", (Ipv4Addr::new(10, 99, 0, 0), 24)).unwrap();
            assert_eq!(ipv4_of("br-e1"), Some(Ipv4Addr::new(10, 99, 0, 1)));
        });
    }

    fn route(ifname: &str, cidr: &str) -> Route {
        Route { ifname: ifname.into(), dest: crate::net::parse_cidr(cidr).unwrap() }
    }

    #[test]
    fn the_default_subnet_avoids_docker_and_podman() {
        for taken in ["172.17.0.0/16", "10.88.0.0/16", "10.89.0.0/16", "192.168.0.0/16", "10.96.0.0/12", "10.244.0.0/16"] {
            let r = [route("other0", taken)];
            for s in SUBNET_POOL {
                check_overlap("docker-run0", s, &r).unwrap();
            }
        }
        assert_eq!(DEFAULT_SUBNET, (Ipv4Addr::new(10, 210, 0, 0), 16));
        assert_eq!(SUBNET_POOL[9], (Ipv4Addr::new(10, 219, 0, 0), 16));
    }

    #[test]
    fn choose_subnet_takes_the_first_free_one_of_the_pool() {
        let free = choose_subnet("docker-run0", None, None, &[route("eth0", "192.168.1.0/24")]).unwrap();
        assert_eq!(free, SubnetChoice { subnet: DEFAULT_SUBNET, default_taken: None });
        // Another interface covers the default (and the next one): the third is chosen, and the
        // reason names the route.
        let routes = [route("cni-podman0", "10.210.0.0/16"), route("vpn0", "10.211.128.0/17")];
        let c = choose_subnet("docker-run0", None, None, &routes).unwrap();
        assert_eq!(c.subnet, (Ipv4Addr::new(10, 212, 0, 0), 16));
        assert_eq!(c.default_taken, Some(routes[0].clone()));
        // The bridge's own route does not count against it.
        let own = [route("docker-run0", "10.210.0.0/16")];
        assert_eq!(choose_subnet("docker-run0", None, None, &own).unwrap().subnet, DEFAULT_SUBNET);
        // A recorded choice is kept while it is free; a taken one is given up.
        let recorded = (Ipv4Addr::new(10, 215, 0, 0), 16);
        assert_eq!(choose_subnet("docker-run0", None, Some(recorded), &[]).unwrap().subnet, recorded);
        let c = choose_subnet("docker-run0", None, Some(recorded), &[route("x0", "10.215.3.0/24")]).unwrap();
        assert_eq!(c.subnet, DEFAULT_SUBNET);
        // An explicit subnet that overlaps is refused, as before.
        let err = choose_subnet("docker-run0", Some((Ipv4Addr::new(10, 88, 0, 0), 16)), None, &[route("cni-podman0", "10.88.0.0/16")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("overlaps the route to 10.88.0.0/16 on interface cni-podman0"), "{err}");
        // Nothing free: a clear error.
        let err = choose_subnet("docker-run0", None, None, &[route("big0", "10.0.0.0/8")]).unwrap_err().to_string();
        assert!(err.contains("every subnet of the default pool") && err.contains("--subnet"), "{err}");
    }

    #[test]
    fn concurrent_callers_all_succeed() {
        in_new_netns(|| {
            let results = on_threads_here(8, |_| {
                let mut nl = Netlink::open().unwrap();
                ensure_bridge(&mut nl, "br-race", SUBNET).map_err(|e| e.to_string())
            });
            for r in results {
                r.unwrap();
            }
            assert_eq!(ipv4_of("br-race"), Some(Ipv4Addr::new(10, 88, 0, 1)));
        });
    }

    #[test]
    fn overlapping_route_is_refused_before_creating() {
        in_new_netns(|| {
            let mut nl = Netlink::open().unwrap();
            nl.veth_create("ov0", "ov1", PeerNetns::Current, None, None)
                .unwrap();
            nl.ipv4_addr_add("ov0", Ipv4Addr::new(10, 88, 5, 1), 24)
                .unwrap();
            nl.link_up("ov0").unwrap();
            nl.link_up("ov1").unwrap();
            let err = ensure_bridge(&mut nl, "br-ov", SUBNET).unwrap_err();
            assert!(matches!(err, NetError::Invalid(_)));
            assert!(
                err.to_string().contains("10.88.5.0/24 on interface ov0"),
                "{err}"
            );
            assert!(!has_link("br-ov"), "nothing created");
            // A subnet next to it is fine.
            ensure_bridge(&mut nl, "br-ov", (Ipv4Addr::new(10, 89, 0, 0), 16)).unwrap();
        });
    }

    #[test]
    fn bad_arguments() {
        in_new_netns(|| {
            let mut nl = Netlink::open().unwrap();
            let long = "0123456789abcdef";
            assert!(
                ensure_bridge(&mut nl, long, SUBNET)
                    .unwrap_err()
                    .to_string()
                    .contains(long)
            );
            let err =
                ensure_bridge(&mut nl, "br-x", (Ipv4Addr::new(10, 88, 0, 1), 16)).unwrap_err();
            assert!(
                err.to_string().contains("did you mean 10.88.0.0/16?"),
                "{err}"
            );
            assert!(!has_link("br-x"));
        });
    }
}
