//! The same real-kernel tests for every netlink backend: the C one
//! ([`legacy::Netlink`](super::legacy::Netlink) and `legacy::ChildNet`) always, the Rust one
//! (`rtnl::Rtnl` and `rtnl::ChildNet`) with the `netlink-rust` feature. Each test body is
//! written once, generic over the runtime's [`Client`] (the parent's verbs) or
//! [`ChildNetlink`] (the child's path after `clone()`, whose allocations are counted), and
//! instantiated per backend by `conformance!` (`net::conformance::c::...`,
//! `net::conformance::rust::...`). Every body runs in a private network namespace (see
//! `test_utils`): the host's links are never touched. They need root (`test_as_root`).

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;

use nix::sched::{CloneFlags, setns};

use nix::errno::Errno;

use super::{ChildNetlink, Client, NetError, PeerNetns};
use crate::test_utils::{Sleeper, counted, has_link, in_new_netns, ipv4_of};

fn errno_of<T: std::fmt::Debug>(r: Result<T, NetError>) -> i32 {
    match r {
        Err(NetError::Netlink { errno, .. }) => errno,
        other => panic!("expected a netlink error, got {other:?}"),
    }
}

/// Whether /proc/PID/net/dev lists the link (the netns of another process).
fn has_link_in(pid: libc::pid_t, name: &str) -> bool {
    fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .expect("read net/dev")
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .any(|l| l.trim() == name)
}

/// A network namespace kept alive by a blocked process, whose pid and nsfs fd tests use.
struct Netns {
    sleeper: Sleeper,
}

impl Netns {
    fn new() -> Self {
        // A forked child that unshares its own netns, then pauses.
        // SAFETY: the child only makes async-signal-safe calls and never returns.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: raw syscalls only in the forked child.
            unsafe {
                if libc::unshare(libc::CLONE_NEWNET) != 0 {
                    libc::_exit(1);
                }
                loop {
                    libc::pause();
                }
            }
        }
        // Wait until the child's netns differs from ours.
        let ours = fs::read_link("/proc/thread-self/ns/net").expect("own netns");
        for _ in 0..1000 {
            if fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|ns| ns != ours) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Netns {
            sleeper: Sleeper::from_pid(pid),
        }
    }

    fn pid(&self) -> libc::pid_t {
        self.sleeper.pid
    }

    /// Runs `body` on a thread inside this namespace.
    fn run<T: Send + 'static>(&self, body: impl FnOnce() -> T + Send + 'static) -> T {
        let pid = self.pid();
        std::thread::spawn(move || {
            let ns = fs::File::open(format!("/proc/{pid}/ns/net")).expect("open netns");
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
            body()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

fn default_route_of(route: &str) -> Option<(String, String)> {
    route
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(1) == Some(&"00000000"))
        .map(|f| (f[0].to_owned(), f[2].to_owned()))
}

pub(crate) fn sixteen_byte_name_is_invalid<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        let long = "0123456789abcdef";
        for r in [
            nl.link_up(long),
            nl.veth_create(long, "eth0", PeerNetns::Current, None, None),
            nl.veth_create("v0", long, PeerNetns::Current, None, None),
            nl.bridge_attach("br0", long),
            nl.link_rename("lo", long),
            nl.link_set_mtu(long, 1500),
            nl.ipv4_addr_add(long, Ipv4Addr::new(10, 0, 0, 1), 8),
        ] {
            match r {
                Err(NetError::Invalid(msg)) => assert!(msg.to_string().contains(long), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(!has_link("v0"));
    });
}

pub(crate) fn lo_up<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        assert!(!nl.link_info("lo").unwrap().is_up());
        nl.link_up("lo").unwrap();
        assert!(nl.link_info("lo").unwrap().is_up());
        assert_eq!(nl.link_info("lo").unwrap().index, 1);
        nl.link_down("lo").unwrap();
        assert!(!nl.link_info("lo").unwrap().is_up());
    });
}

pub(crate) fn veth_create_up_delete<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.veth_create("vt0", "vt1", PeerNetns::Current, None, None)
            .unwrap();
        assert!(has_link("vt0") && has_link("vt1"));
        assert!(nl.link_exists("vt0").unwrap() && nl.link_exists("vt1").unwrap());
        assert!(!nl.link_info("vt0").unwrap().is_up(), "created down");

        let again = nl.veth_create("vt0", "vt2", PeerNetns::Current, None, None);
        assert_eq!(errno_of(again), libc::EEXIST);

        nl.link_up("vt0").unwrap();
        nl.link_up("vt1").unwrap();
        assert!(nl.link_info("vt0").unwrap().is_up());

        nl.link_delete("vt0").unwrap();
        assert!(!nl.link_exists("vt0").unwrap());
        assert!(!nl.link_exists("vt1").unwrap(), "the peer goes with it");
        assert!(!has_link("vt1"));
    });
}

pub(crate) fn veth_peer_created_in_netns_of_pid<B: Client>() {
    in_new_netns(|| {
        let target = Netns::new();
        let pid = target.pid();
        let mut nl = B::open().unwrap();
        let mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
        nl.veth_create("vh0", "eth0", PeerNetns::Pid(pid), Some(mac), Some(1400))
            .unwrap();
        assert!(has_link_in(pid, "eth0"));
        assert!(!has_link("eth0") && !has_link_in(pid, "vh0"));
        assert_eq!(nl.link_info("vh0").unwrap().mtu, 1400);

        let peer = target.run(|| B::open().unwrap().link_info("eth0").unwrap());
        assert_eq!(peer.mac, Some(mac));
        assert_eq!(peer.mtu, 1400);

        // The same name again in that namespace is taken.
        let again = nl.veth_create("vh1", "eth0", PeerNetns::Pid(pid), None, None);
        assert_eq!(errno_of(again), libc::EEXIST);
        assert!(!nl.link_exists("vh1").unwrap());
        assert!(matches!(
            nl.veth_create("vh2", "eth1", PeerNetns::Pid(0), None, None),
            Err(NetError::Invalid(_))
        ));
    });
}

pub(crate) fn veth_peer_created_in_netns_of_fd<B: Client>() {
    in_new_netns(|| {
        let target = Netns::new();
        let ns = fs::File::open(format!("/proc/{}/ns/net", target.pid())).unwrap();
        let mut nl = B::open().unwrap();
        nl.veth_create("vf0", "eth0", PeerNetns::Fd(ns.as_fd()), None, None)
            .unwrap();
        assert!(has_link_in(target.pid(), "eth0"));
        assert!(!has_link("eth0"));
        assert!(nl.link_exists("vf0").unwrap());
    });
}

pub(crate) fn move_link_to_netns<B: Client>() {
    in_new_netns(|| {
        let target = Netns::new();
        let pid = target.pid();
        let mut nl = B::open().unwrap();
        nl.veth_create("mv0", "mv1", PeerNetns::Current, None, None)
            .unwrap();
        nl.link_move_to_netns_pid("mv1", pid).unwrap();
        assert!(has_link_in(pid, "mv1") && !has_link("mv1"));

        let ns = fs::File::open(format!("/proc/{pid}/ns/net")).unwrap();
        nl.link_move_to_netns_fd("mv0", ns.as_fd()).unwrap();
        assert!(has_link_in(pid, "mv0") && !has_link("mv0"));

        assert_eq!(
            errno_of(nl.link_move_to_netns_pid("mv0", pid)),
            libc::ENODEV
        );
    });
}

pub(crate) fn bridge_create_and_attach<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.bridge_create("br-t0").unwrap();
        assert_eq!(errno_of(nl.bridge_create("br-t0")), libc::EEXIST);
        nl.veth_create("bp0", "bp1", PeerNetns::Current, None, None)
            .unwrap();
        nl.bridge_attach("br-t0", "bp0").unwrap();

        let bridge = nl.link_info("br-t0").unwrap();
        assert_eq!(nl.link_info("bp0").unwrap().master, Some(bridge.index));
        assert_eq!(nl.link_info("bp1").unwrap().master, None);

        let err = nl.bridge_attach("nosuchbr", "bp1").unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENODEV));
        assert!(
            err.to_string()
                .starts_with("netlink attach bp1 to bridge nosuchbr: "),
            "{err}"
        );
        assert_eq!(
            errno_of(nl.bridge_attach("br-t0", "nosuchlink")),
            libc::ENODEV
        );
        assert_eq!(nl.link_info("bp1").unwrap().master, None);
    });
}

pub(crate) fn rename_link<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.veth_create("rn0", "rn1", PeerNetns::Current, None, None)
            .unwrap();
        let index = nl.link_info("rn0").unwrap().index;
        nl.link_rename("rn0", "renamed0").unwrap();
        assert!(!nl.link_exists("rn0").unwrap());
        assert_eq!(nl.link_info("renamed0").unwrap().index, index);
        assert!(has_link("renamed0"));
        assert_eq!(errno_of(nl.link_rename("rn0", "x0")), libc::ENODEV);
        assert_eq!(errno_of(nl.link_rename("renamed0", "rn1")), libc::EEXIST);
    });
}

pub(crate) fn set_mac_and_mtu<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.veth_create("mm0", "mm1", PeerNetns::Current, None, None)
            .unwrap();
        let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        nl.link_set_mac("mm0", mac).unwrap();
        assert_eq!(nl.link_info("mm0").unwrap().mac, Some(mac));

        let multicast = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
        let err = nl.link_set_mac("mm0", multicast).unwrap_err();
        assert!(
            err.to_string()
                .contains("set mac of mm0 to 01:00:5e:00:00:01"),
            "{err}"
        );
        assert_eq!(err.errno(), Some(libc::EADDRNOTAVAIL));

        nl.link_set_mtu("mm0", 1280).unwrap();
        assert_eq!(nl.link_info("mm0").unwrap().mtu, 1280);
        assert_eq!(errno_of(nl.link_set_mtu("mm0", 10)), libc::EINVAL);
        assert!(matches!(
            nl.link_set_mtu("mm0", 0),
            Err(NetError::Invalid(_))
        ));
        assert_eq!(errno_of(nl.link_set_mtu("nosuchlink", 1500)), libc::ENODEV);
    });
}

pub(crate) fn ipv4_address_and_default_route<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.veth_create("ip0", "ip1", PeerNetns::Current, None, None)
            .unwrap();
        nl.link_up("ip0").unwrap();
        nl.link_up("ip1").unwrap();
        let addr = Ipv4Addr::new(10, 200, 0, 2);
        nl.ipv4_addr_add("ip0", addr, 24).unwrap();
        assert_eq!(ipv4_of("ip0"), Some(addr));
        assert_eq!(errno_of(nl.ipv4_addr_add("ip0", addr, 24)), libc::EEXIST);
        assert!(matches!(
            nl.ipv4_addr_add("ip0", addr, 33),
            Err(NetError::Invalid(_))
        ));
        // A /31 has no broadcast address; it works all the same.
        nl.ipv4_addr_add("ip1", Ipv4Addr::new(10, 201, 0, 2), 31)
            .unwrap();
        assert_eq!(ipv4_of("ip1"), Some(Ipv4Addr::new(10, 201, 0, 2)));

        let gateway = Ipv4Addr::new(10, 200, 0, 1);
        let far = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(
            errno_of(nl.ipv4_default_route_add(far, Some("ip0"))),
            libc::ENETUNREACH
        );
        nl.ipv4_default_route_add(gateway, Some("ip0")).unwrap();
        let route = fs::read_to_string("/proc/thread-self/net/route").unwrap();
        let gw_hex = format!("{:08X}", u32::from_ne_bytes(gateway.octets()));
        assert_eq!(
            default_route_of(&route),
            Some(("ip0".to_owned(), gw_hex)),
            "{route}"
        );

        let err = nl.ipv4_default_route_add(gateway, Some("ip0")).unwrap_err();
        assert_eq!(err.errno(), Some(libc::EEXIST));
        assert!(
            err.to_string()
                .contains("add default route via 10.200.0.1 dev ip0"),
            "{err}"
        );
        assert!(matches!(
            nl.ipv4_default_route_add(Ipv4Addr::UNSPECIFIED, None),
            Err(NetError::Invalid(_))
        ));
    });
}

pub(crate) fn default_route_without_interface<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        nl.veth_create("dr0", "dr1", PeerNetns::Current, None, None)
            .unwrap();
        nl.link_up("dr0").unwrap();
        nl.ipv4_addr_add("dr0", Ipv4Addr::new(10, 202, 0, 2), 24)
            .unwrap();
        // The kernel finds the link through the gateway's connected network.
        nl.ipv4_default_route_add(Ipv4Addr::new(10, 202, 0, 1), None)
            .unwrap();
        let route = fs::read_to_string("/proc/thread-self/net/route").unwrap();
        assert_eq!(
            default_route_of(&route).map(|r| r.0),
            Some("dr0".to_owned()),
            "{route}"
        );
    });
}

pub(crate) fn missing_links_give_enodev<B: Client>() {
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        let err = nl.link_delete("nosuchlink").unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENODEV));
        assert!(
            err.to_string()
                .starts_with("netlink delete link nosuchlink: "),
            "{err}"
        );
        assert_eq!(errno_of(nl.link_up("nosuchlink")), libc::ENODEV);
        assert_eq!(errno_of(nl.link_down("nosuchlink")), libc::ENODEV);
        assert_eq!(errno_of(nl.link_info("nosuchlink")), libc::ENODEV);
        assert_eq!(
            errno_of(nl.link_set_mac("nosuchlink", [2, 0, 0, 0, 0, 1])),
            libc::ENODEV
        );
        assert!(!nl.link_exists("nosuchlink").unwrap());
        let err = nl.ipv4_addr_add("nosuchlink", Ipv4Addr::new(10, 0, 0, 1), 8);
        assert_eq!(errno_of(err), libc::ENODEV);
        let err = nl.ipv4_default_route_add(Ipv4Addr::new(10, 0, 0, 1), Some("nosuchlink"));
        assert_eq!(errno_of(err), libc::ENODEV);
    });
}

pub(crate) fn many_requests_on_one_socket<B: Client>() {
    // The socket is reused for a whole start: sequence numbers and ACKs must stay in step,
    // including after failed requests.
    in_new_netns(|| {
        let mut nl = B::open().unwrap();
        for i in 0..200 {
            assert!(nl.link_exists("lo").unwrap(), "round {i}");
            assert_eq!(errno_of(nl.link_up("nosuchlink")), libc::ENODEV);
            nl.link_up("lo").unwrap();
        }
    });
}

pub(crate) fn child_configures_eth0_without_allocating<C: ChildNetlink, P: Client>() {
    in_new_netns(|| {
        let child = C::prepare("eth0").unwrap();
        let mut nl = P::open().unwrap();
        nl.veth_create("ce0", "eth0", PeerNetns::Current, None, None)
            .unwrap();
        nl.link_up("ce0").unwrap();

        let (r, n) = counted(|| child.loopback_up());
        assert_eq!((r, n), (Ok(()), 0));
        assert!(nl.link_info("lo").unwrap().is_up());

        let addr = Ipv4Addr::new(10, 203, 0, 2);
        let gateway = Ipv4Addr::new(10, 203, 0, 1);
        let (r, n) = counted(|| child.configure(addr, 24, gateway));
        assert_eq!((r, n), (Ok(()), 0));
        assert_eq!(ipv4_of("eth0"), Some(addr));
        assert!(nl.link_info("eth0").unwrap().is_up());
        let route = fs::read_to_string("/proc/thread-self/net/route").unwrap();
        assert_eq!(
            default_route_of(&route),
            Some(("eth0".to_owned(), "0100CB0A".to_owned())),
            "{route}"
        );

        // Failures are bare errnos, also without allocating.
        let (r, n) = counted(|| child.configure(addr, 24, gateway));
        assert_eq!((r, n), (Err(Errno::EEXIST), 0));
        let (r, n) = counted(|| child.configure(addr, 33, gateway));
        assert_eq!((r, n), (Err(Errno::EINVAL), 0));
        let (r, n) = counted(|| child.configure(addr, 24, Ipv4Addr::UNSPECIFIED));
        assert_eq!((r, n), (Err(Errno::EINVAL), 0));
    });
}

pub(crate) fn child_on_a_31_a_far_gateway_and_a_missing_link<C: ChildNetlink, P: Client>() {
    in_new_netns(|| {
        let missing = C::prepare("nosuchlink0").unwrap();
        let (r, n) = counted(|| {
            missing.configure(Ipv4Addr::new(10, 0, 0, 2), 24, Ipv4Addr::new(10, 0, 0, 1))
        });
        assert_eq!((r, n), (Err(Errno::ENODEV), 0));

        let mut nl = P::open().unwrap();
        nl.veth_create("cp0", "cp1", PeerNetns::Current, None, None)
            .unwrap();
        nl.link_up("cp0").unwrap();
        // A /31 (RFC 3021): no broadcast address, the other end is the gateway.
        let addr = Ipv4Addr::new(10, 204, 0, 2);
        C::prepare("cp1")
            .unwrap()
            .configure(addr, 31, Ipv4Addr::new(10, 204, 0, 3))
            .unwrap();
        assert_eq!(ipv4_of("cp1"), Some(addr));
        // A gateway on no network of the link.
        let far = C::prepare("cp0").unwrap().configure(
            Ipv4Addr::new(10, 205, 0, 2),
            24,
            Ipv4Addr::new(192, 0, 2, 1),
        );
        assert_eq!(far, Err(Errno::ENETUNREACH));
    });
}

/// Instantiates every test above for one backend.
macro_rules! conformance {
    ($module:ident, $backend:ty, $child:ty) => {
        mod $module {
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn child_configures_eth0_without_allocating() {
                super::child_configures_eth0_without_allocating::<$child, $backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn child_on_a_31_a_far_gateway_and_a_missing_link() {
                super::child_on_a_31_a_far_gateway_and_a_missing_link::<$child, $backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn sixteen_byte_name_is_invalid() {
                super::sixteen_byte_name_is_invalid::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn lo_up() {
                super::lo_up::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn veth_create_up_delete() {
                super::veth_create_up_delete::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn veth_peer_created_in_netns_of_pid() {
                super::veth_peer_created_in_netns_of_pid::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn veth_peer_created_in_netns_of_fd() {
                super::veth_peer_created_in_netns_of_fd::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn move_link_to_netns() {
                super::move_link_to_netns::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn bridge_create_and_attach() {
                super::bridge_create_and_attach::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn rename_link() {
                super::rename_link::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn set_mac_and_mtu() {
                super::set_mac_and_mtu::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn ipv4_address_and_default_route() {
                super::ipv4_address_and_default_route::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn default_route_without_interface() {
                super::default_route_without_interface::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn missing_links_give_enodev() {
                super::missing_links_give_enodev::<$backend>()
            }
            #[test]
            #[cfg_attr(not(feature = "test_as_root"), ignore)]
            fn many_requests_on_one_socket() {
                super::many_requests_on_one_socket::<$backend>()
            }
        }
    };
}

conformance!(c, crate::net::legacy::Netlink, crate::net::legacy::ChildNet);
#[cfg(feature = "netlink-rust")]
conformance!(rust, crate::net::rtnl::Rtnl, crate::net::rtnl::ChildNet);

/// Medians of each verb for both backends, side by side (run by hand: `cargo test --release
/// --features netlink-rust -- --ignored --nocapture timing`). Each backend runs in a private
/// network namespace of its own; moves and deletes, which wait for a grace period, run fewer
/// times.
#[cfg(feature = "netlink-rust")]
mod timing {
    use super::*;
    use crate::net::legacy::Netlink;
    use crate::net::rtnl::{ChildNet, Rtnl};
    use std::time::Instant;

    const N: usize = 200;
    const SLOW_N: usize = 10;

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        v[v.len() / 2]
    }

    /// Microseconds of each call of `f(i)`, for i in 0..n.
    fn time(n: usize, mut f: impl FnMut(usize)) -> f64 {
        median(
            (0..n)
                .map(|i| {
                    let t = Instant::now();
                    f(i);
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect(),
        )
    }

    /// Runs `body` on a thread in a new network namespace and returns its result.
    fn in_netns<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(move || {
            nix::sched::unshare(CloneFlags::CLONE_NEWNET).expect("unshare");
            body()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    // long: one timing per verb, in the order of the table it prints.
    fn verbs<B: Client>() -> Vec<(&'static str, f64)> {
        in_netns(|| {
            let mut r = Vec::new();
            r.push(("open socket", time(N, |_| drop(B::open().unwrap()))));
            let mut nl = B::open().unwrap();
            r.push((
                "link_info",
                time(N, |_| {
                    let _ = nl.link_info("lo").unwrap();
                }),
            ));
            r.push(("link_up", time(N, |_| nl.link_up("lo").unwrap())));
            r.push((
                "veth_create (here)",
                time(N, |i| {
                    nl.veth_create(
                        &format!("ta{i}"),
                        &format!("tb{i}"),
                        PeerNetns::Current,
                        None,
                        None,
                    )
                    .unwrap()
                }),
            ));
            let target = Netns::new();
            let pid = target.pid();
            r.push((
                "veth_create (peer in netns of pid)",
                time(N, |i| {
                    nl.veth_create(
                        &format!("tp{i}"),
                        &format!("e{i}"),
                        PeerNetns::Pid(pid),
                        None,
                        None,
                    )
                    .unwrap()
                }),
            ));
            r.push((
                "bridge_create",
                time(N, |i| nl.bridge_create(&format!("tr{i}")).unwrap()),
            ));
            r.push((
                "bridge_attach",
                time(N, |i| nl.bridge_attach("tr0", &format!("ta{i}")).unwrap()),
            ));
            r.push((
                "link_set_mac",
                time(N, |i| {
                    nl.link_set_mac(&format!("ta{i}"), [2, 0, 0, 0, 1, i as u8])
                        .unwrap()
                }),
            ));
            r.push((
                "link_set_mtu",
                time(N, |i| nl.link_set_mtu(&format!("ta{i}"), 1400).unwrap()),
            ));
            r.push((
                "link_rename",
                time(N, |i| {
                    nl.link_rename(&format!("tb{i}"), &format!("tn{i}"))
                        .unwrap()
                }),
            ));
            r.push((
                "ipv4_addr_add",
                time(N, |i| {
                    let addr = Ipv4Addr::new(10, 210, i as u8, 2);
                    nl.ipv4_addr_add(&format!("tn{i}"), addr, 24).unwrap()
                }),
            ));
            r.push((
                "link_move_to_netns_pid",
                time(SLOW_N, |i| {
                    nl.link_move_to_netns_pid(&format!("tn{i}"), pid).unwrap()
                }),
            ));
            r.push((
                "link_delete",
                time(SLOW_N, |i| nl.link_delete(&format!("tp{i}")).unwrap()),
            ));
            r
        })
    }

    /// The default route, once per namespace (there is one per table).
    fn default_route<B: Client>() -> f64 {
        median(
            (0..20)
                .map(|_| {
                    in_netns(|| {
                        let mut nl = B::open().unwrap();
                        nl.veth_create("rt0", "rt1", PeerNetns::Current, None, None)
                            .unwrap();
                        nl.link_up("rt0").unwrap();
                        nl.ipv4_addr_add("rt0", Ipv4Addr::new(10, 209, 0, 2), 24)
                            .unwrap();
                        let t = Instant::now();
                        nl.ipv4_default_route_add(Ipv4Addr::new(10, 209, 0, 1), Some("rt0"))
                            .unwrap();
                        t.elapsed().as_secs_f64() * 1e6
                    })
                })
                .collect(),
        )
    }

    /// What the child does after clone (lo up; eth0 address, up, default route), C raw verbs
    /// against the Rust prepared messages (preparing them is the parent's, not timed).
    fn child(rust: bool) -> f64 {
        median(
            (0..20)
                .map(|_| {
                    in_netns(move || {
                        let prepared = ChildNet::prepare("eth0").unwrap();
                        let mut nl = Netlink::open().unwrap();
                        nl.veth_create("ch0", "eth0", PeerNetns::Current, None, None)
                            .unwrap();
                        nl.link_up("ch0").unwrap();
                        let (addr, gw) =
                            (Ipv4Addr::new(10, 208, 0, 2), Ipv4Addr::new(10, 208, 0, 1));
                        let t = Instant::now();
                        if rust {
                            prepared.loopback_up().unwrap();
                            prepared.configure(addr, 24, gw).unwrap();
                        } else {
                            let mut raw = Netlink::open_raw().unwrap();
                            raw.link_up_raw(c"lo").unwrap();
                            let mut raw = Netlink::open_raw().unwrap();
                            raw.ipv4_addr_add_raw(c"eth0", addr, 24).unwrap();
                            raw.link_up_raw(c"eth0").unwrap();
                            raw.ipv4_default_route_add_raw(gw, Some(c"eth0")).unwrap();
                        }
                        t.elapsed().as_secs_f64() * 1e6
                    })
                })
                .collect(),
        )
    }

    #[test]
    #[ignore = "a measurement, run by hand"]
    fn timing() {
        if !crate::test_utils::is_root() {
            return;
        }
        // Three rounds, the backends taking turns, so that neither always runs on a colder or
        // busier kernel; the median of the three medians is reported.
        let (mut cs, mut rusts) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            cs.push(verbs::<Netlink>());
            rusts.push(verbs::<Rtnl>());
        }
        let pick = |runs: &[Vec<(&'static str, f64)>]| -> Vec<(&'static str, f64)> {
            (0..runs[0].len())
                .map(|k| (runs[0][k].0, median(runs.iter().map(|r| r[k].1).collect())))
                .collect()
        };
        let (c, rust) = (pick(&cs), pick(&rusts));
        println!("| operation | C (µs) | Rust (µs) | Rust / C |");
        println!("|---|---:|---:|---:|");
        let mut rows: Vec<(&str, f64, f64)> =
            c.iter().zip(&rust).map(|(a, b)| (a.0, a.1, b.1)).collect();
        rows.push((
            "ipv4_default_route_add",
            default_route::<Netlink>(),
            default_route::<Rtnl>(),
        ));
        rows.push((
            "child: lo up, eth0 address, up, route",
            child(false),
            child(true),
        ));
        for (op, c, r) in rows {
            println!("| {op} | {c:.1} | {r:.1} | {:.2} |", r / c);
        }
    }
}
