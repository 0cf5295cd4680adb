//! The host-side bridge: created once, shared by every container on it.

use std::net::Ipv4Addr;

use super::{Client, InvalidNet, NetError, Route, ipam, validate_bridge};

/// Refuses `subnet` if it overlaps a route through any interface other than `bridge`: taking it
/// would cut the host off from that network. Default routes (/0) overlap everything and are not
/// a conflict.
pub fn check_overlap(
    bridge: &str,
    subnet: (Ipv4Addr, u8),
    routes: &[Route],
) -> Result<(), NetError> {
    for r in routes {
        if r.dest.1 == 0 || r.ifname == bridge {
            continue;
        }
        if ipam::overlaps(subnet, r.dest) {
            return Err(InvalidNet::Overlap {
                subnet: subnet.into(),
                route: r.dest.into(),
                ifname: r.ifname.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// Makes sure bridge `name` exists, holds the gateway address (the first host of `subnet`) and
/// is up, in the namespace of `nl`. Idempotent, and safe when several processes race to create
/// the same bridge: EEXIST from the kernel counts as done.
///
/// Refuses, before creating anything, a subnet that overlaps a route through another interface.
/// A bridge that already holds a different primary address keeps it; the gateway is added next
/// to it.
pub fn ensure_bridge(
    nl: &mut dyn Client,
    name: &str,
    subnet: (Ipv4Addr, u8),
) -> Result<(), NetError> {
    validate_bridge(name, subnet)?;
    check_overlap(name, subnet, &nl.ipv4_routes()?)?;
    ensure_bridge_link(nl, name)?;
    let gw = ipam::gateway(subnet);
    if nl.ipv4_primary_addr(name)? != Some(gw) {
        match nl.ipv4_addr_add(name, gw, subnet.1) {
            Err(e) if e.errno() == Some(libc::EEXIST) => {}
            other => other?,
        }
    }
    nl.link_up(name)
}

/// Creates bridge `name` unless a link of that name exists (EEXIST from a racing creator is
/// fine). Does not check that an existing link is a bridge: the legacy verbs cannot read the
/// link kind, and attaching a port to a non-bridge fails later with a kernel error.
pub fn ensure_bridge_link(nl: &mut dyn Client, name: &str) -> Result<(), NetError> {
    if nl.link_exists(name)? {
        return Ok(());
    }
    match nl.bridge_create(name) {
        Err(e) if e.errno() == Some(libc::EEXIST) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Backend, PeerNetns};
    use crate::test_utils::{has_link, in_new_netns, ipv4_of, on_threads_here};

    const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);

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
