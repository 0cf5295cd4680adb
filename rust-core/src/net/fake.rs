//! A [`Client`] for tests without root (youki's `network/fake.rs`): a model of one namespace's
//! links, addresses and routes, a [`CallLog`] of every request, and errnos to fail requests
//! with.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;
use std::sync::{Arc, Mutex};

use super::{Client, Connector, LinkInfo, NetError, PeerNetns, Route, validate_ifname};
use crate::test_utils::CallLog;

#[derive(Debug, Default)]
struct World {
    links: BTreeMap<String, LinkInfo>,
    addrs: BTreeMap<String, (Ipv4Addr, u8)>,
    routes: Vec<Route>,
    /// Requests ("veth_create", "link_up", ...) that fail, with their errno.
    failing: Vec<(&'static str, i32)>,
}

/// One fake namespace; clones share it.
#[derive(Debug, Clone, Default)]
pub struct FakeNet {
    pub log: CallLog,
    world: Arc<Mutex<World>>,
}

impl FakeNet {
    pub fn new(log: CallLog) -> FakeNet {
        FakeNet {
            log,
            world: Arc::default(),
        }
    }

    /// A connector whose clients all act on this namespace.
    pub fn connector(&self) -> Connector {
        let net = self.clone();
        Arc::new(move || Ok(Box::new(FakeClient { net: net.clone() }) as Box<dyn Client>))
    }

    pub fn fail(&self, op: &'static str, errno: i32) {
        self.world.lock().unwrap().failing.push((op, errno));
    }

    /// A route of another interface, as the host's would be.
    pub fn add_route(&self, ifname: &str, dest: (Ipv4Addr, u8)) {
        let route = Route {
            ifname: ifname.to_string(),
            dest,
        };
        self.world.lock().unwrap().routes.push(route);
    }

    pub fn link(&self, name: &str) -> Option<LinkInfo> {
        self.world.lock().unwrap().links.get(name).copied()
    }

    pub fn addr(&self, name: &str) -> Option<(Ipv4Addr, u8)> {
        self.world.lock().unwrap().addrs.get(name).copied()
    }
}

pub struct FakeClient {
    net: FakeNet,
}

impl FakeClient {
    /// Logs the request, and fails it when told to.
    fn request(&self, op: &'static str, entry: String) -> Result<(), NetError> {
        self.net.log.push(entry.clone());
        let world = self.net.world.lock().unwrap();
        match world.failing.iter().find(|(o, _)| *o == op) {
            Some(&(_, errno)) => Err(NetError::Netlink { op: entry, errno }),
            None => Ok(()),
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.net.world.lock().unwrap()
    }

    /// Runs `f` on an existing link, ENODEV otherwise.
    fn on_link(
        &self,
        name: &str,
        op: String,
        f: impl FnOnce(&mut LinkInfo),
    ) -> Result<(), NetError> {
        let mut world = self.world();
        match world.links.get_mut(name) {
            Some(link) => {
                f(link);
                Ok(())
            }
            None => Err(NetError::Netlink {
                op,
                errno: libc::ENODEV,
            }),
        }
    }

    fn add_link(&self, name: &str, op: String) -> Result<(), NetError> {
        let mut world = self.world();
        if world.links.contains_key(name) {
            return Err(NetError::Netlink {
                op,
                errno: libc::EEXIST,
            });
        }
        let index = world.links.len() as u32 + 2;
        world.links.insert(
            name.to_string(),
            LinkInfo {
                index,
                master: None,
                flags: 0,
                mtu: 1500,
                mac: None,
            },
        );
        Ok(())
    }
}

impl Client for FakeClient {
    fn open() -> Result<Self, NetError> {
        unreachable!("fake clients come from FakeNet::connector")
    }

    fn link_info(&mut self, name: &str) -> Result<LinkInfo, NetError> {
        validate_ifname(name)?;
        let op = format!("get link {name}");
        self.request("link_info", op.clone())?;
        self.world()
            .links
            .get(name)
            .copied()
            .ok_or(NetError::Netlink {
                op,
                errno: libc::ENODEV,
            })
    }

    fn link_exists(&mut self, name: &str) -> Result<bool, NetError> {
        validate_ifname(name)?;
        self.request("link_exists", format!("link_exists {name}"))?;
        Ok(self.world().links.contains_key(name))
    }

    fn link_up(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let op = format!("link_up {name}");
        self.request("link_up", op.clone())?;
        self.on_link(name, op, |l| l.flags |= libc::IFF_UP as u32)
    }

    fn link_down(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let op = format!("link_down {name}");
        self.request("link_down", op.clone())?;
        self.on_link(name, op, |l| l.flags &= !(libc::IFF_UP as u32))
    }

    fn link_delete(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let op = format!("link_delete {name}");
        self.request("link_delete", op.clone())?;
        let mut world = self.world();
        world.addrs.remove(name);
        match world.links.remove(name) {
            Some(_) => Ok(()),
            None => Err(NetError::Netlink {
                op,
                errno: libc::ENODEV,
            }),
        }
    }

    fn veth_create(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: PeerNetns<'_>,
        _peer_mac: Option<[u8; 6]>,
        mtu: Option<u32>,
    ) -> Result<(), NetError> {
        validate_ifname(name)?;
        validate_ifname(peer)?;
        let ns = match peer_netns {
            PeerNetns::Current => "here".to_string(),
            PeerNetns::Pid(pid) => format!("netns of {pid}"),
            PeerNetns::Fd(_) => "netns fd".to_string(),
        };
        let op = format!("veth_create {name}/{peer} ({ns})");
        self.request("veth_create", op.clone())?;
        self.add_link(name, op.clone())?;
        if let Some(mtu) = mtu {
            self.on_link(name, op.clone(), |l| l.mtu = mtu)?;
        }
        if matches!(peer_netns, PeerNetns::Current) {
            self.add_link(peer, op)?;
        }
        Ok(())
    }

    fn bridge_create(&mut self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let op = format!("bridge_create {name}");
        self.request("bridge_create", op.clone())?;
        self.add_link(name, op)
    }

    fn bridge_attach(&mut self, bridge: &str, ifname: &str) -> Result<(), NetError> {
        validate_ifname(bridge)?;
        validate_ifname(ifname)?;
        let op = format!("bridge_attach {ifname} to {bridge}");
        self.request("bridge_attach", op.clone())?;
        let master = self.world().links.get(bridge).map(|b| b.index);
        let Some(master) = master else {
            return Err(NetError::Netlink {
                op,
                errno: libc::ENODEV,
            });
        };
        self.on_link(ifname, op, |l| l.master = Some(master))
    }

    fn link_move_to_netns_pid(&mut self, name: &str, pid: libc::pid_t) -> Result<(), NetError> {
        validate_ifname(name)?;
        self.request("link_move", format!("link_move {name} to netns of {pid}"))?;
        self.world().links.remove(name);
        Ok(())
    }

    fn link_move_to_netns_fd(&mut self, name: &str, _fd: BorrowedFd<'_>) -> Result<(), NetError> {
        validate_ifname(name)?;
        self.request("link_move", format!("link_move {name} to netns fd"))?;
        self.world().links.remove(name);
        Ok(())
    }

    fn link_rename(&mut self, name: &str, new_name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        validate_ifname(new_name)?;
        let op = format!("link_rename {name} {new_name}");
        self.request("link_rename", op.clone())?;
        let mut world = self.world();
        let Some(link) = world.links.remove(name) else {
            return Err(NetError::Netlink {
                op,
                errno: libc::ENODEV,
            });
        };
        world.links.insert(new_name.to_string(), link);
        Ok(())
    }

    fn link_set_mac(&mut self, name: &str, mac: [u8; 6]) -> Result<(), NetError> {
        validate_ifname(name)?;
        let op = format!("link_set_mac {name}");
        self.request("link_set_mac", op.clone())?;
        self.on_link(name, op, |l| l.mac = Some(mac))
    }

    fn link_set_mtu(&mut self, name: &str, mtu: u32) -> Result<(), NetError> {
        validate_ifname(name)?;
        super::client::check_mtu(mtu, || format!("link {name}"))?;
        let op = format!("link_set_mtu {name} {mtu}");
        self.request("link_set_mtu", op.clone())?;
        self.on_link(name, op, |l| l.mtu = mtu)
    }

    fn ipv4_addr_add(&mut self, name: &str, addr: Ipv4Addr, prefixlen: u8) -> Result<(), NetError> {
        validate_ifname(name)?;
        super::client::check_prefixlen(prefixlen)?;
        let op = format!("ipv4_addr_add {addr}/{prefixlen} {name}");
        self.request("ipv4_addr_add", op.clone())?;
        self.on_link(name, op, |_| {})?;
        let network = super::ipam::network((addr, prefixlen));
        let mut world = self.world();
        world.addrs.insert(name.to_string(), (addr, prefixlen));
        world.routes.push(Route {
            ifname: name.to_string(),
            dest: (network, prefixlen),
        });
        Ok(())
    }

    fn ipv4_default_route_add(
        &mut self,
        gateway: Ipv4Addr,
        ifname: Option<&str>,
    ) -> Result<(), NetError> {
        super::client::check_gateway(gateway)?;
        let dev = ifname.map_or(String::new(), |i| format!(" dev {i}"));
        self.request(
            "ipv4_default_route_add",
            format!("default route via {gateway}{dev}"),
        )
    }

    fn ipv4_primary_addr(&mut self, name: &str) -> Result<Option<Ipv4Addr>, NetError> {
        validate_ifname(name)?;
        self.request("ipv4_primary_addr", format!("ipv4_primary_addr {name}"))?;
        Ok(self.world().addrs.get(name).map(|a| a.0))
    }

    fn ipv4_routes(&mut self) -> Result<Vec<Route>, NetError> {
        self.request("ipv4_routes", "ipv4_routes".to_string())?;
        Ok(self.world().routes.clone())
    }
}
