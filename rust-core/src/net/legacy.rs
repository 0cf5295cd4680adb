//! Safe wrapper over the legacy netlink C code in c-legacy/ (nl.c, network.c): the
//! [`Client`] backend of this build.
//!
//! This module is the only caller of `super::bindings`. A [`Netlink`] owns one NETLINK_ROUTE
//! socket, opened in the network namespace of the calling thread, and is meant to be kept for a
//! whole container start: every verb is one request (two when the C code must resolve a name)
//! on that socket. The C side returns `0` or `-errno`; here that becomes
//! [`NetError::Netlink`] with a description of the operation, and bad interface names become
//! [`NetError::Invalid`] before the kernel is asked.
//!
//! # In a child after a raw `clone()`
//!
//! The C code never allocates. The `&str` verbs do not allocate on success either (names are
//! copied into a stack buffer), but building a [`NetError`] does. For the child between
//! `clone()` and `exec`, where the host's allocator may be locked, use [`Client::open_raw`] and
//! the `*_raw` verbs: they take names as `&CStr` prepared by the parent and return a bare
//! [`Errno`], so they allocate nothing at all, also on failure. Open the socket in the child:
//! a socket always acts on the namespace it was created in.

use std::ffi::{CStr, c_char, c_int};
use std::fmt;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;

use super::bindings as sys;
use super::client::{self, ChildNetlink, Client, LinkInfo, PeerNetns, Route};
use super::{IFNAMSIZ, NetError, host, validate_ifname};

/// The original project's network.h API (include/network.h), implemented in C
/// (c-legacy/lxc.c) and exported unchanged, under LXC's names, by `crate::ffi::lxc`. Rust code
/// never calls it: it uses [`Netlink`].
pub(crate) mod lxc_sys {
    pub(crate) use super::sys::{
        in_addr, legacy_lxc_bridge_attach, legacy_lxc_convert_mac, legacy_lxc_ipv4_addr_add,
        legacy_lxc_ipv4_dest_add, legacy_lxc_ipv4_gateway_add, legacy_lxc_mkifname,
        legacy_lxc_netdev_delete_by_index, legacy_lxc_netdev_delete_by_name,
        legacy_lxc_netdev_down, legacy_lxc_netdev_move_by_index, legacy_lxc_netdev_move_by_name,
        legacy_lxc_netdev_up, legacy_lxc_veth_create, legacy_netdev_set_flag, legacy_new_hwaddr,
        legacy_setup_hw_addr, legacy_setup_private_host_hw_addr, pid_t, sockaddr,
    };
}

/// A validated interface name, NUL-terminated on the stack.
#[derive(Clone, Copy)]
struct IfName([u8; IFNAMSIZ]);

impl IfName {
    fn new(name: &str) -> Result<Self, NetError> {
        validate_ifname(name)?;
        let mut buf = [0u8; IFNAMSIZ];
        buf[..name.len()].copy_from_slice(name.as_bytes());
        Ok(IfName(buf))
    }

    fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

/// Formats a MAC as `aa:bb:cc:dd:ee:ff`.
struct Mac<'a>(&'a [u8; 6]);

impl fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

fn in_addr(addr: Ipv4Addr) -> sys::in_addr {
    // octets() are in network order, which is what s_addr holds.
    sys::in_addr {
        s_addr: u32::from_ne_bytes(addr.octets()),
    }
}

/// Turns a C return code into a result; `op` is only built on failure.
fn check(rc: c_int, op: impl FnOnce() -> String) -> Result<c_int, NetError> {
    if rc < 0 {
        Err(NetError::Netlink {
            op: op(),
            errno: -rc,
        })
    } else {
        Ok(rc)
    }
}

/// The allocation-free counterpart of [`check`].
fn check_raw(rc: c_int) -> Result<(), Errno> {
    if rc < 0 {
        Err(Errno::from_raw(-rc))
    } else {
        Ok(())
    }
}

/// One open NETLINK_ROUTE socket; closed on drop.
///
/// Acts on the network namespace of the thread that opened it. Not meant to be shared between
/// threads (every verb takes `&mut self`).
#[derive(Debug)]
pub struct Netlink {
    h: sys::legacy_nl,
}

impl Netlink {
    fn h(&mut self) -> *mut sys::legacy_nl {
        &mut self.h
    }

    /// [`Client::open`] without any allocation, for a child after a raw `clone()`.
    pub fn open_raw() -> Result<Self, Errno> {
        let mut h = sys::legacy_nl::default();
        // SAFETY: `h` is a valid, writable legacy_nl; on failure the C code leaves it closed.
        check_raw(unsafe { sys::legacy_netlink_open(&mut h) })?;
        Ok(Netlink { h })
    }

    /// `link_up` without any allocation, for a child after a raw `clone()`: the name is
    /// prepared by the parent. A bad name gives `EINVAL` from the C side.
    pub fn link_up_raw(&mut self, name: &CStr) -> Result<(), Errno> {
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        check_raw(unsafe { sys::legacy_link_up(self.h(), name.as_ptr()) })
    }

    /// `ipv4_addr_add` without any allocation. A prefix length above 32 gives `EINVAL`.
    pub fn ipv4_addr_add_raw(
        &mut self,
        name: &CStr,
        addr: Ipv4Addr,
        prefixlen: u8,
    ) -> Result<(), Errno> {
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        check_raw(unsafe {
            sys::legacy_ipv4_addr_add(
                self.h(),
                name.as_ptr(),
                in_addr(addr),
                c_int::from(prefixlen),
            )
        })
    }

    /// `ipv4_default_route_add` without any allocation.
    pub fn ipv4_default_route_add_raw(
        &mut self,
        gateway: Ipv4Addr,
        ifname: Option<&CStr>,
    ) -> Result<(), Errno> {
        let ptr = ifname.map_or(std::ptr::null(), CStr::as_ptr);
        // SAFETY: open handler and a NUL-terminated name (or NULL) outliving the call.
        check_raw(unsafe { sys::legacy_ipv4_default_route_add(self.h(), in_addr(gateway), ptr) })
    }
}

impl Client for Netlink {
    fn open() -> Result<Self, NetError> {
        Netlink::open_raw().map_err(|errno| NetError::Netlink {
            op: "open socket".to_owned(),
            errno: errno as i32,
        })
    }

    fn link_info(&mut self, name: &str) -> Result<LinkInfo, NetError> {
        let n = IfName::new(name)?;
        let mut info = sys::legacy_link_info::default();
        // SAFETY: open handler, NUL-terminated name and a writable info, all outliving the call.
        let rc = unsafe { sys::legacy_link_get(self.h(), n.as_ptr(), &mut info) };
        check(rc, || format!("get link {name}"))?;
        let mac = (info.addr_len == 6).then(|| {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&info.addr[..6]);
            mac
        });
        Ok(LinkInfo {
            index: info.index as u32,
            master: (info.master > 0).then_some(info.master as u32),
            flags: info.flags,
            mtu: info.mtu,
            mac,
        })
    }

    fn link_exists(&mut self, name: &str) -> Result<bool, NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_exists(self.h(), n.as_ptr()) };
        Ok(check(rc, || format!("get link {name}"))? == 1)
    }

    fn link_up(&mut self, name: &str) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_up(self.h(), n.as_ptr()) };
        check(rc, || format!("set link {name} up")).map(drop)
    }

    fn link_down(&mut self, name: &str) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_down(self.h(), n.as_ptr()) };
        check(rc, || format!("set link {name} down")).map(drop)
    }

    fn link_delete(&mut self, name: &str) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_delete(self.h(), n.as_ptr()) };
        check(rc, || format!("delete link {name}")).map(drop)
    }

    fn veth_create(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: PeerNetns<'_>,
        peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        let p = IfName::new(peer)?;
        let (pid, fd) = match peer_netns {
            PeerNetns::Current => (-1, -1),
            PeerNetns::Pid(pid) => (client::check_netns_pid(pid, || format!("veth {peer}"))?, -1),
            PeerNetns::Fd(fd) => (-1, fd.as_raw_fd()),
        };
        if let Some(mtu) = mtu {
            client::check_mtu(mtu, || format!("veth {name}"))?;
        }
        let mac_ptr = peer_mac
            .as_ref()
            .map_or(std::ptr::null(), |mac| mac.as_ptr());
        // SAFETY: open handler, NUL-terminated names and a 6-byte MAC (or NULL), all outliving
        // the call; `fd`, when given, is borrowed for the call.
        let rc = unsafe {
            sys::legacy_veth_create(
                self.h(),
                n.as_ptr(),
                p.as_ptr(),
                pid,
                fd,
                mac_ptr,
                mtu.unwrap_or(0),
            )
        };
        check(rc, || match peer_netns {
            PeerNetns::Current => format!("create veth {name}/{peer}"),
            PeerNetns::Pid(pid) => {
                format!("create veth {name}/{peer} (peer in netns of pid {pid})")
            }
            PeerNetns::Fd(fd) => {
                format!(
                    "create veth {name}/{peer} (peer in netns fd {})",
                    fd.as_raw_fd()
                )
            }
        })
        .map(drop)
    }

    fn bridge_create(&mut self, name: &str) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_bridge_create(self.h(), n.as_ptr()) };
        check(rc, || format!("create bridge {name}")).map(drop)
    }

    fn bridge_attach(&mut self, bridge: &str, ifname: &str) -> Result<(), NetError> {
        let b = IfName::new(bridge)?;
        let i = IfName::new(ifname)?;
        // SAFETY: open handler and NUL-terminated names outliving the call.
        let rc = unsafe { sys::legacy_bridge_attach(self.h(), b.as_ptr(), i.as_ptr()) };
        check(rc, || format!("attach {ifname} to bridge {bridge}")).map(drop)
    }

    fn link_move_to_netns_pid(&mut self, name: &str, pid: libc::pid_t) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        client::check_netns_pid(pid, || format!("link {name}"))?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_move_to_netns_pid(self.h(), n.as_ptr(), pid) };
        check(rc, || format!("move link {name} to netns of pid {pid}")).map(drop)
    }

    fn link_move_to_netns_fd(&mut self, name: &str, fd: BorrowedFd<'_>) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        let raw = fd.as_raw_fd();
        // SAFETY: open handler, a NUL-terminated name and a descriptor borrowed for the call.
        let rc = unsafe { sys::legacy_link_move_to_netns_fd(self.h(), n.as_ptr(), raw) };
        check(rc, || format!("move link {name} to netns fd {raw}")).map(drop)
    }

    fn link_rename(&mut self, name: &str, new_name: &str) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        let nn = IfName::new(new_name)?;
        // SAFETY: open handler and NUL-terminated names outliving the call.
        let rc = unsafe { sys::legacy_link_rename(self.h(), n.as_ptr(), nn.as_ptr()) };
        check(rc, || format!("rename link {name} to {new_name}")).map(drop)
    }

    fn link_set_mac(&mut self, name: &str, mac: [u8; 6]) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        // SAFETY: open handler, a NUL-terminated name and 6 readable bytes outliving the call.
        let rc = unsafe { sys::legacy_link_set_mac(self.h(), n.as_ptr(), mac.as_ptr()) };
        check(rc, || format!("set mac of {name} to {}", Mac(&mac))).map(drop)
    }

    fn link_set_mtu(&mut self, name: &str, mtu: u32) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        client::check_mtu(mtu, || format!("link {name}"))?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe { sys::legacy_link_set_mtu(self.h(), n.as_ptr(), mtu) };
        check(rc, || format!("set mtu of {name} to {mtu}")).map(drop)
    }

    fn ipv4_addr_add(&mut self, name: &str, addr: Ipv4Addr, prefixlen: u8) -> Result<(), NetError> {
        let n = IfName::new(name)?;
        client::check_prefixlen(prefixlen)?;
        // SAFETY: open handler and a NUL-terminated name outliving the call.
        let rc = unsafe {
            sys::legacy_ipv4_addr_add(self.h(), n.as_ptr(), in_addr(addr), c_int::from(prefixlen))
        };
        check(rc, || format!("add address {addr}/{prefixlen} to {name}")).map(drop)
    }

    fn ipv4_default_route_add(
        &mut self,
        gateway: Ipv4Addr,
        ifname: Option<&str>,
    ) -> Result<(), NetError> {
        let n = ifname.map(IfName::new).transpose()?;
        client::check_gateway(gateway)?;
        let ptr = n.as_ref().map_or(std::ptr::null(), IfName::as_ptr);
        // SAFETY: open handler and a NUL-terminated name (or NULL) outliving the call.
        let rc = unsafe { sys::legacy_ipv4_default_route_add(self.h(), in_addr(gateway), ptr) };
        check(rc, || match ifname {
            Some(ifname) => format!("add default route via {gateway} dev {ifname}"),
            None => format!("add default route via {gateway}"),
        })
        .map(drop)
    }

    /// Through an ioctl: the legacy verbs have no "get addresses" request.
    fn ipv4_primary_addr(&mut self, name: &str) -> Result<Option<Ipv4Addr>, NetError> {
        validate_ifname(name)?;
        host::primary_ipv4(name)
    }

    fn ipv4_routes(&mut self) -> Result<Vec<Route>, NetError> {
        host::routes()
    }
}

/// What the container's child sends over netlink after `clone()`, prepared by the parent: here
/// only the link's name, as a C string in place; the C verbs build their messages on the
/// stack. The twin of `rtnl::ChildNet`. Allocation-free in the child, also on failure.
#[derive(Clone, Copy)]
pub struct ChildNet {
    ifname: IfName,
}

impl fmt::Debug for ChildNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildNet").finish_non_exhaustive()
    }
}

impl ChildNet {
    fn name(&self) -> &CStr {
        // The buffer always holds a NUL (a name is at most 15 bytes of 16).
        CStr::from_bytes_until_nul(&self.ifname.0).unwrap_or(c"")
    }
}

impl ChildNetlink for ChildNet {
    fn prepare(ifname: &str) -> Result<Self, NetError> {
        Ok(ChildNet {
            ifname: IfName::new(ifname)?,
        })
    }

    fn loopback_up(&self) -> Result<(), Errno> {
        Netlink::open_raw()?.link_up_raw(c"lo")
    }

    fn configure(&self, addr: Ipv4Addr, prefixlen: u8, gateway: Ipv4Addr) -> Result<(), Errno> {
        if prefixlen > 32 || gateway.is_unspecified() {
            return Err(Errno::EINVAL);
        }
        let mut nl = Netlink::open_raw()?;
        nl.ipv4_addr_add_raw(self.name(), addr, prefixlen)?;
        nl.link_up_raw(self.name())?;
        nl.ipv4_default_route_add_raw(gateway, Some(self.name()))
    }
}

impl Drop for Netlink {
    fn drop(&mut self) {
        // SAFETY: the handler is ours; closing an already closed one is a no-op.
        unsafe { sys::legacy_netlink_close(&mut self.h) }
    }
}

#[cfg(test)]
mod tests {
    //! Tests of what is particular to the C backend: names, messages and the allocation-free
    //! verbs of the child. The verbs both backends share are tested once for both, in
    //! `net::conformance`. Each real-kernel test runs in a private network namespace.

    use super::*;
    use std::fs;

    use crate::test_utils::{in_new_netns, ipv4_ioctl};

    #[test]
    fn validate_ifname_rules() {
        for ok in ["lo", "eth0", "veth-0123456789", "br_0.1"] {
            validate_ifname(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "0123456789abcdef",
            ".",
            "..",
            "a/b",
            "a b",
            "a\tb",
            "a\0b",
            "eth0:1",
        ] {
            match validate_ifname(bad) {
                Err(NetError::Invalid(msg)) => {
                    assert!(msg.to_string().contains(&format!("{bad:?}")), "{msg}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn error_messages_name_the_operation() {
        let e = NetError::Netlink {
            op: "create veth vethX/eth0".into(),
            errno: libc::EEXIST,
        };
        assert!(
            e.to_string()
                .starts_with("netlink create veth vethX/eth0: File exists"),
            "{e}"
        );
        assert_eq!(e.errno(), Some(libc::EEXIST));
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn raw_verbs_check_names_and_links() {
        // The allocation-free path has no Rust-side checks: the C refuses bad names itself.
        in_new_netns(|| {
            let mut raw = Netlink::open_raw().unwrap();
            assert_eq!(raw.link_up_raw(c"0123456789abcdef"), Err(Errno::EINVAL));
            assert_eq!(raw.link_up_raw(c"nosuchlink0"), Err(Errno::ENODEV));
            raw.link_up_raw(c"lo").unwrap();
            assert!(Netlink::open().unwrap().link_info("lo").unwrap().is_up());
        });
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn ipv4_raw_verbs_for_the_child() {
        in_new_netns(|| {
            let mut nl = Netlink::open_raw().unwrap();
            nl.link_up_raw(c"lo").unwrap();
            let mut setup = Netlink::open().unwrap();
            setup
                .veth_create("cr0", "cr1", PeerNetns::Current, None, None)
                .unwrap();
            nl.link_up_raw(c"cr0").unwrap();
            nl.link_up_raw(c"cr1").unwrap();

            let addr = Ipv4Addr::new(10, 201, 0, 2);
            nl.ipv4_addr_add_raw(c"cr0", addr, 31).unwrap();
            assert_eq!(ipv4_ioctl("cr0", libc::SIOCGIFADDR), Some(addr));
            assert_eq!(nl.ipv4_addr_add_raw(c"cr0", addr, 31), Err(Errno::EEXIST));
            assert_eq!(nl.ipv4_addr_add_raw(c"cr0", addr, 33), Err(Errno::EINVAL));

            // Unreachable gateway, then one on the /31, found without an interface name.
            let far = Ipv4Addr::new(192, 0, 2, 1);
            assert_eq!(
                nl.ipv4_default_route_add_raw(far, None),
                Err(Errno::ENETUNREACH)
            );
            nl.ipv4_default_route_add_raw(Ipv4Addr::new(10, 201, 0, 3), None)
                .unwrap();
            let route = fs::read_to_string("/proc/thread-self/net/route").unwrap();
            assert!(
                route
                    .lines()
                    .any(|l| l.starts_with("cr0\t00000000\t0300C90A")),
                "{route}"
            );
        });
    }
}
