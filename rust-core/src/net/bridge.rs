//! The host-side bridge: created once, shared by every container on it, on a subnet of its own
//! (given, recorded, or the first free one of the default pool).

use std::net::Ipv4Addr;

use super::{Client, InvalidNet, NetError, Route, ipam, validate_bridge, validate_subnet};

/// Refuses `subnet` if it overlaps a route through any interface other than `bridge`: taking it
/// would cut the host off from that network. Default routes (/0) overlap everything and are not
/// a conflict.
pub fn check_overlap(
    bridge: &str,
    subnet: (Ipv4Addr, u8),
    routes: &[Route],
) -> Result<(), NetError> {
    match overlapping_route(bridge, subnet, routes) {
        Some(r) => Err(InvalidNet::Overlap {
            subnet: subnet.into(),
            route: r.dest.into(),
            ifname: r.ifname.clone(),
        }
        .into()),
        None => Ok(()),
    }
}

/// The first route through another interface than `bridge` that `subnet` overlaps.
fn overlapping_route<'a>(
    bridge: &str,
    subnet: (Ipv4Addr, u8),
    routes: &'a [Route],
) -> Option<&'a Route> {
    routes
        .iter()
        .find(|r| r.dest.1 != 0 && r.ifname != bridge && ipam::overlaps(subnet, r.dest))
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
        return Ok(SubnetChoice {
            subnet,
            default_taken: None,
        });
    }
    if let Some(subnet) = recorded.filter(|s| overlapping_route(bridge, *s, routes).is_none()) {
        return Ok(SubnetChoice {
            subnet,
            default_taken: None,
        });
    }
    let Some(taken) = overlapping_route(bridge, DEFAULT_SUBNET, routes) else {
        return Ok(SubnetChoice {
            subnet: DEFAULT_SUBNET,
            default_taken: None,
        });
    };
    SUBNET_POOL
        .iter()
        .find(|s| overlapping_route(bridge, **s, routes).is_none())
        .map(|&subnet| SubnetChoice {
            subnet,
            default_taken: Some(taken.clone()),
        })
        .ok_or_else(|| {
            let (first, last) = (SUBNET_POOL[0], SUBNET_POOL[SUBNET_POOL.len() - 1]);
            InvalidNet::PoolExhausted {
                first: first.into(),
                last: last.into(),
            }
            .into()
        })
}

/// Makes sure bridge `name` exists, holds the gateway address (the first host of `subnet`) and
/// is up, in the namespace of `nl`. Idempotent, and safe when several processes race to create
/// the same bridge: EEXIST from the kernel counts as done. True when it created the bridge.
///
/// Refuses, before creating anything, a subnet that overlaps a route through another interface.
/// A bridge that already holds a different primary address keeps it; the gateway is added next
/// to it.
pub fn ensure_bridge(
    nl: &mut dyn Client,
    name: &str,
    subnet: (Ipv4Addr, u8),
) -> Result<bool, NetError> {
    validate_bridge(name, subnet)?;
    check_overlap(name, subnet, &nl.ipv4_routes()?)?;
    ensure_checked_bridge(nl, name, subnet)
}

/// [`ensure_bridge`] once `name` and `subnet` have been checked. True when it created the
/// bridge.
pub fn ensure_checked_bridge(
    nl: &mut dyn Client,
    name: &str,
    subnet: (Ipv4Addr, u8),
) -> Result<bool, NetError> {
    let created = ensure_bridge_link(nl, name)?;
    let gw = ipam::gateway(subnet);
    if nl.ipv4_primary_addr(name)? != Some(gw) {
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
pub fn ensure_bridge_link(nl: &mut dyn Client, name: &str) -> Result<bool, NetError> {
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
    use crate::net::{Backend, PeerNetns};
    use crate::test_utils::{has_link, in_new_netns, ipv4_of, on_threads_here};

    const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);

    fn route(ifname: &str, cidr: &str) -> Route {
        Route {
            ifname: ifname.into(),
            dest: crate::net::parse_cidr(cidr).unwrap(),
        }
    }

    #[test]
    fn the_default_subnet_avoids_docker_and_podman() {
        for taken in [
            "172.17.0.0/16",
            "10.88.0.0/16",
            "10.89.0.0/16",
            "192.168.0.0/16",
            "10.96.0.0/12",
            "10.244.0.0/16",
        ] {
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
        let free = choose_subnet(
            "docker-run0",
            None,
            None,
            &[route("eth0", "192.168.1.0/24")],
        );
        let free = free.unwrap();
        assert_eq!(
            free,
            SubnetChoice {
                subnet: DEFAULT_SUBNET,
                default_taken: None
            }
        );
        // Another interface covers the default (and the next one): the third is chosen, and the
        // reason names the route.
        let routes = [
            route("cni-podman0", "10.210.0.0/16"),
            route("vpn0", "10.211.128.0/17"),
        ];
        let c = choose_subnet("docker-run0", None, None, &routes).unwrap();
        assert_eq!(c.subnet, (Ipv4Addr::new(10, 212, 0, 0), 16));
        assert_eq!(c.default_taken, Some(routes[0].clone()));
        // The bridge's own route does not count against it.
        let own = [route("docker-run0", "10.210.0.0/16")];
        let c = choose_subnet("docker-run0", None, None, &own).unwrap();
        assert_eq!(c.subnet, DEFAULT_SUBNET);
        // A recorded choice is kept while it is free; a taken one is given up.
        let recorded = (Ipv4Addr::new(10, 215, 0, 0), 16);
        let c = choose_subnet("docker-run0", None, Some(recorded), &[]).unwrap();
        assert_eq!(c.subnet, recorded);
        let x0 = [route("x0", "10.215.3.0/24")];
        let c = choose_subnet("docker-run0", None, Some(recorded), &x0).unwrap();
        assert_eq!(c.subnet, DEFAULT_SUBNET);
        // An explicit subnet that overlaps is refused, as before.
        let podman = [route("cni-podman0", "10.88.0.0/16")];
        let asked = Some((Ipv4Addr::new(10, 88, 0, 0), 16));
        let err = choose_subnet("docker-run0", asked, None, &podman)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("overlaps the route to 10.88.0.0/16 on interface cni-podman0"),
            "{err}"
        );
        // Nothing free: a clear error.
        let big = [route("big0", "10.0.0.0/8")];
        let err = choose_subnet("docker-run0", None, None, &big)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("every subnet of the default pool") && err.contains("--subnet"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_routes_are_refused() {
        let routes = [
            Route {
                ifname: "eth0".into(),
                dest: (Ipv4Addr::UNSPECIFIED, 0),
            },
            Route {
                ifname: "eth0".into(),
                dest: (Ipv4Addr::new(192, 168, 2, 0), 24),
            },
            Route {
                ifname: "docker0".into(),
                dest: (Ipv4Addr::new(172, 17, 0, 0), 16),
            },
        ];
        check_overlap("docker-run0", SUBNET, &routes).unwrap();
        let err =
            check_overlap("docker-run0", (Ipv4Addr::new(172, 16, 0, 0), 12), &routes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "subnet 172.16.0.0/12 overlaps the route to 172.17.0.0/16 on interface docker0: choose another subnet"
        );
        // Our own bridge's route is no conflict.
        check_overlap("docker0", (Ipv4Addr::new(172, 17, 0, 0), 16), &routes).unwrap();
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn creates_addresses_and_brings_up_idempotently() {
        in_new_netns(|| {
            let mut nl = Backend::open().unwrap();
            ensure_bridge(&mut nl, "br-e0", SUBNET).unwrap();
            assert!(has_link("br-e0"));
            assert_eq!(ipv4_of("br-e0"), Some(Ipv4Addr::new(10, 88, 0, 1)));
            assert!(nl.link_info("br-e0").unwrap().is_up());
            // The bridge's own connected route is there and is not a conflict the next time.
            assert!(
                nl.ipv4_routes()
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
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn existing_bridge_without_address_gets_it() {
        in_new_netns(|| {
            let mut nl = Backend::open().unwrap();
            nl.bridge_create("br-e1").unwrap();
            ensure_bridge(&mut nl, "br-e1", (Ipv4Addr::new(10, 99, 0, 0), 24)).unwrap();
            assert_eq!(ipv4_of("br-e1"), Some(Ipv4Addr::new(10, 99, 0, 1)));
        });
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn concurrent_callers_all_succeed() {
        in_new_netns(|| {
            let results = on_threads_here(8, |_| {
                let mut nl = Backend::open().unwrap();
                ensure_bridge(&mut nl, "br-race", SUBNET).map_err(|e| e.to_string())
            });
            for r in results {
                r.unwrap();
            }
            assert_eq!(ipv4_of("br-race"), Some(Ipv4Addr::new(10, 88, 0, 1)));
        });
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn overlapping_route_is_refused_before_creating() {
        in_new_netns(|| {
            let mut nl = Backend::open().unwrap();
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
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn bad_arguments() {
        in_new_netns(|| {
            let mut nl = Backend::open().unwrap();
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
