//! veth_*, bridge_* and link_* exports: single netlink operations for C callers. Each call opens
//! one netlink socket in the calling thread's network namespace, does its work and closes it.

use std::ffi::{c_char, c_int};

use super::{Failure, c_str, fail, guard, rt_status};
use crate::net::bridge::{ensure_bridge, ensure_bridge_link};
use crate::net::legacy::{Netlink, PeerNetns, validate_ifname};
use crate::net::{NetError, parse_cidr};

fn net_err(e: NetError) -> Failure {
    Failure::from(crate::Error::from(e))
}

/// A NUL-terminated interface name: NULL -> NULL_ARG, not UTF-8 -> INVALID_UTF8, not a valid
/// name (1 to 15 bytes, no '/', ':' or whitespace) -> INVALID_ARG naming it.
fn parse_ifname<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    let name = c_str(p, what)?;
    validate_ifname(name).map_err(|e| fail(rt_status::INVALID_ARG, format!("{what}: {e}")))?;
    Ok(name)
}

fn open() -> Result<Netlink, Failure> {
    Netlink::open().map_err(net_err)
}

/// Creates a veth pair `name` / `peer_name`, both down. With `peer_netns_pid` 0 both ends are
/// created in the caller's network namespace; otherwise the peer is created directly inside the
/// network namespace of that process (much cheaper than creating it here and moving it).
///
/// Errors: RT_STATUS_NULL_ARG for a NULL name, RT_STATUS_INVALID_ARG for a bad name or a
/// negative pid, RT_STATUS_NETLINK from the kernel (error_errno(): EEXIST if a name is taken,
/// ESRCH if there is no such process, ...). Thread-safe (no shared state).
#[unsafe(no_mangle)]
pub extern "C" fn veth_create(name: *const c_char, peer_name: *const c_char, peer_netns_pid: c_int) -> c_int {
    guard(|| {
        let name = parse_ifname(name, "name")?;
        let peer = parse_ifname(peer_name, "peer_name")?;
        let netns = match peer_netns_pid {
            0 => PeerNetns::Current,
            pid if pid > 0 => PeerNetns::Pid(pid),
            pid => return Err(fail(rt_status::INVALID_ARG, format!("invalid peer_netns_pid {pid}"))),
        };
        open()?.veth_create(name, peer, netns, None, None).map_err(net_err)
    })
}

/// Deletes a link (for a veth, both ends) in the caller's network namespace. Costs a kernel
/// grace period (tens of ms); a container's veth also goes away with its namespace.
///
/// Errors: RT_STATUS_NULL_ARG, RT_STATUS_INVALID_ARG for a bad name, RT_STATUS_NETLINK
/// (error_errno() ENODEV: no such link). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn veth_delete(name: *const c_char) -> c_int {
    guard(|| {
        let name = parse_ifname(name, "name")?;
        open()?.link_delete(name).map_err(net_err)
    })
}

/// Makes sure bridge `name` exists and is up. With `cidr` NULL it gets no address; otherwise
/// `cidr` is its subnet ("10.88.0.0/16": prefix 8 to 30, no host bits) and the bridge holds the
/// subnet's first host address (the containers' gateway). Idempotent: an existing bridge is
/// fine, also when another process creates it at the same time.
///
/// A subnet that overlaps a route through another interface is refused before anything is
/// created (RT_STATUS_INVALID_ARG, the message names the route and interface), as is a malformed
/// cidr. Kernel errors give RT_STATUS_NETLINK with error_errno(). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn bridge_create(name: *const c_char, cidr: *const c_char) -> c_int {
    guard(|| {
        let name = parse_ifname(name, "name")?;
        let subnet = if cidr.is_null() { None } else { Some(parse_cidr(c_str(cidr, "cidr")?).map_err(net_err)?) };
        let mut nl = open()?;
        match subnet {
            Some(subnet) => ensure_bridge(&mut nl, name, subnet),
            None => ensure_bridge_link(&mut nl, name).and_then(|_| nl.link_up(name).map(|()| false)),
        }
        .map(drop)
        .map_err(net_err)
    })
}

/// Makes `ifname` a port of `bridge` and brings it up.
///
/// Errors: RT_STATUS_NULL_ARG, RT_STATUS_INVALID_ARG for a bad name, RT_STATUS_NETLINK
/// (error_errno() ENODEV: the bridge or the interface does not exist). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn bridge_attach(bridge: *const c_char, ifname: *const c_char) -> c_int {
    guard(|| {
        let bridge = parse_ifname(bridge, "bridge")?;
        let port = parse_ifname(ifname, "ifname")?;
        let mut nl = open()?;
        nl.bridge_attach(bridge, port).map_err(net_err)?;
        nl.link_up(port).map_err(net_err)
    })
}

/// Sets a link up in the caller's network namespace.
///
/// Errors: RT_STATUS_NULL_ARG, RT_STATUS_INVALID_ARG for a bad name, RT_STATUS_NETLINK
/// (error_errno() ENODEV: no such link). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn link_set_up(name: *const c_char) -> c_int {
    guard(|| {
        let name = parse_ifname(name, "name")?;
        open()?.link_up(name).map_err(net_err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{error_errno, error_message};
    use crate::net::testns::{has_link, in_new_netns, ipv4_of};
    use std::ffi::CStr;
    use std::net::Ipv4Addr;

    const OK: c_int = rt_status::OK as c_int;

    fn message() -> String {
        // SAFETY: error_message never returns NULL and the string lives until the next call.
        unsafe { CStr::from_ptr(error_message()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn null_arguments() {
        // Checked before any kernel call, so no root needed.
        assert_eq!(veth_create(std::ptr::null(), c"p".as_ptr(), 0), rt_status::NULL_ARG as c_int);
        assert_eq!(message(), "name is NULL");
        assert_eq!(veth_create(c"a".as_ptr(), std::ptr::null(), 0), rt_status::NULL_ARG as c_int);
        assert_eq!(veth_delete(std::ptr::null()), rt_status::NULL_ARG as c_int);
        assert_eq!(bridge_create(std::ptr::null(), std::ptr::null()), rt_status::NULL_ARG as c_int);
        assert_eq!(bridge_attach(c"b".as_ptr(), std::ptr::null()), rt_status::NULL_ARG as c_int);
        assert_eq!(link_set_up(std::ptr::null()), rt_status::NULL_ARG as c_int);
    }

    #[test]
    fn bad_names_and_values() {
        let long = c"0123456789abcdef";
        for rc in [
            veth_create(long.as_ptr(), c"p".as_ptr(), 0),
            veth_create(c"a".as_ptr(), long.as_ptr(), 0),
            veth_delete(long.as_ptr()),
            bridge_create(long.as_ptr(), std::ptr::null()),
            bridge_attach(c"br0".as_ptr(), long.as_ptr()),
            link_set_up(long.as_ptr()),
        ] {
            assert_eq!(rc, rt_status::INVALID_ARG as c_int);
            assert!(message().contains("0123456789abcdef"), "{}", message());
        }
        assert_eq!(veth_create(c"a".as_ptr(), c"b".as_ptr(), -1), rt_status::INVALID_ARG as c_int);
        assert_eq!(bridge_create(c"br0".as_ptr(), c"10.88.0/16".as_ptr()), rt_status::INVALID_ARG as c_int);
        assert!(message().contains("10.88.0/16"), "{}", message());
        assert_eq!(bridge_create(c"br0".as_ptr(), c"10.88.0.1/16".as_ptr()), rt_status::INVALID_ARG as c_int);
        assert!(message().contains("did you mean 10.88.0.0/16?"), "{}", message());
    }

    #[test]
    fn create_attach_delete() {
        in_new_netns(|| {
            assert_eq!(bridge_create(c"br-f0".as_ptr(), c"10.77.0.0/24".as_ptr()), OK, "{}", message());
            assert_eq!(bridge_create(c"br-f0".as_ptr(), c"10.77.0.0/24".as_ptr()), OK, "idempotent");
            assert_eq!(ipv4_of("br-f0"), Some(Ipv4Addr::new(10, 77, 0, 1)));
            // Overlaps br-f0's route: refused, nothing created.
            assert_eq!(bridge_create(c"br-f2".as_ptr(), c"10.77.0.0/16".as_ptr()), rt_status::INVALID_ARG as c_int);
            assert!(message().contains("on interface br-f0"), "{}", message());
            assert!(!has_link("br-f2"));
            assert_eq!(bridge_create(c"br-f1".as_ptr(), std::ptr::null()), OK, "{}", message());
            assert_eq!(ipv4_of("br-f1"), None);

            assert_eq!(veth_create(c"vf0".as_ptr(), c"vf1".as_ptr(), 0), OK, "{}", message());
            assert!(has_link("vf0") && has_link("vf1"));
            assert_eq!(veth_create(c"vf0".as_ptr(), c"vf2".as_ptr(), 0), rt_status::NETLINK as c_int);
            assert_eq!(error_errno(), libc::EEXIST);

            assert_eq!(veth_create(c"vx0".as_ptr(), c"vx1".as_ptr(), c_int::MAX), rt_status::NETLINK as c_int);
            assert_eq!(error_errno(), libc::ESRCH, "{}", message());
            assert!(!has_link("vx0"));

            assert_eq!(bridge_attach(c"br-f0".as_ptr(), c"vf0".as_ptr()), OK, "{}", message());
            let mut nl = Netlink::open().unwrap();
            let br = nl.link_info("br-f0").unwrap();
            let port = nl.link_info("vf0").unwrap();
            assert_eq!(port.master, Some(br.index));
            assert!(port.is_up() && br.is_up());

            assert_eq!(link_set_up(c"vf1".as_ptr()), OK);
            assert!(nl.link_info("vf1").unwrap().is_up());

            assert_eq!(bridge_attach(c"nosuchbr".as_ptr(), c"vf1".as_ptr()), rt_status::NETLINK as c_int);
            assert_eq!(error_errno(), libc::ENODEV);
            assert!(message().contains("nosuchbr"), "{}", message());
            assert_eq!(link_set_up(c"nosuchlink".as_ptr()), rt_status::NETLINK as c_int);
            assert_eq!(error_errno(), libc::ENODEV);

            assert_eq!(veth_delete(c"vf0".as_ptr()), OK, "{}", message());
            assert!(!has_link("vf0") && !has_link("vf1"));
            assert_eq!(veth_delete(c"vf0".as_ptr()), rt_status::NETLINK as c_int);
            assert_eq!(error_errno(), libc::ENODEV);
        });
    }

    #[test]
    fn peer_in_netns_of_pid() {
        in_new_netns(|| {
            // A child in a network namespace of its own; killed and reaped even if we fail.
            let (tx, rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let holder = std::thread::spawn(move || {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
                // SAFETY: gettid has no preconditions.
                tx.send(unsafe { libc::gettid() }).unwrap();
                let _ = done_rx.recv();
                crate::net::testns::links()
            });
            let tid = rx.recv().unwrap();
            let rc = veth_create(c"vp0".as_ptr(), c"eth0".as_ptr(), tid);
            let msg = message();
            // Checked before the holder ends: its namespace's death takes the pair away.
            let here = (has_link("vp0"), has_link("eth0"));
            drop(done_tx);
            let their_links = holder.join().unwrap();
            assert_eq!(rc, OK, "{msg}");
            assert_eq!(here, (true, false));
            assert!(their_links.iter().any(|l| l == "eth0"), "{their_links:?}");
        });
    }
}
