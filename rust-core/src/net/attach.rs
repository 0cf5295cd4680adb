//! Plugging one container into its bridge: lease, NAT, veth pair, published ports, and undoing it.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::legacy::{Netlink, PeerNetns};
use super::{NetError, bridge, ipam, nat};
use crate::spec::NetworkSpec;

/// The container end's name inside its namespace.
pub const CONTAINER_IFNAME: &str = "eth0";

/// The host end's name: unique per container and within IFNAMSIZ.
pub fn host_ifname(container_id: &str) -> String {
    format!("veth{}", &container_id[..11.min(container_id.len())])
}

/// A container's place on a bridge. `unplug` (or drop) gives everything back.
#[derive(Debug)]
pub struct Attachment {
    pub bridge: String,
    pub subnet: (Ipv4Addr, u8),
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub host_ifname: String,
    container_id: String,
    lease_dir: PathBuf,
    lease: Option<ipam::Lease>,
    published: bool,
    /// A warning for the caller, e.g. NAT could not be set up (networking on the host still
    /// works).
    pub warning: Option<String>,
}

/// Before clone: the bridge exists, has the gateway address and is up (the subnet must not
/// overlap another interface's route).
pub fn prepare(nl: &mut Netlink, net: &NetworkSpec) -> Result<(), NetError> {
    bridge::ensure_bridge(nl, &net.bridge, net.subnet)
}

/// After clone, before the child goes on: leases an address for `child_pid`, sets up NAT when
/// this is the bridge's first container, creates the veth pair with its peer directly inside
/// the child's network namespace as eth0 (creating it there costs ~0.4 ms; moving it would cost
/// 16-32 ms), attaches and raises the host end, and publishes the ports.
pub fn plug(
    nl: &mut Netlink,
    net: &NetworkSpec,
    container_id: &str,
    child_pid: libc::pid_t,
) -> Result<Attachment, NetError> {
    let gateway = ipam::gateway(net.subnet);
    let lease_dir = ipam::default_dir(&net.bridge);
    let lease = ipam::lease(&lease_dir, net.subnet, gateway, net.ip, child_pid)?;
    let mut att = Attachment {
        bridge: net.bridge.clone(),
        subnet: net.subnet,
        ip: lease.addr(),
        gateway,
        host_ifname: host_ifname(container_id),
        container_id: container_id.to_string(),
        lease_dir,
        lease: Some(lease),
        published: false,
        warning: None,
    };
    // Outbound NAT is shared by the bridge's containers: set up once (a marker in the lease
    // directory, under its lock) and removed by `cleanup` when no container is left.
    let marker = att.lease_dir.join(NAT_MARKER);
    let nat = ipam::with_live_leases(&att.lease_dir, |_| {
        if marker.exists() {
            return Ok(());
        }
        nat::ensure_masquerade(&net.bridge, net.subnet)?;
        // The subnet, so that a cleanup after killed containers can remove the rules.
        let subnet = format!("{}/{}", net.subnet.0, net.subnet.1);
        std::fs::write(&marker, subnet)
            .map_err(|e| NetError::io(format!("write {}", marker.display()), e))
    })?;
    match nat {
        Ok(()) => {}
        // No iptables: containers still reach the host and each other.
        Err(NetError::Command(msg)) => {
            att.warning = Some(format!("no outbound access for containers: {msg}"))
        }
        Err(other) => return Err(other),
    }
    nl.veth_create(
        &att.host_ifname,
        CONTAINER_IFNAME,
        PeerNetns::Pid(child_pid),
        Some(ipam::mac_for(att.ip)),
        None,
    )?;
    nl.bridge_attach(&net.bridge, &att.host_ifname)?;
    nl.link_up(&att.host_ifname)?;
    if !net.ports.is_empty() {
        att.published = true;
        for p in &net.ports {
            nat::publish(
                container_id,
                p.host_port,
                att.ip,
                p.container_port,
                p.protocol,
            )?;
        }
    }
    Ok(att)
}

impl Attachment {
    /// Gives everything back; the veth pair itself dies with the container's network namespace,
    /// so it is deleted explicitly only when `delete_veth` (a failed start).
    pub fn unplug(mut self, delete_veth: bool) {
        self.undo(delete_veth);
    }

    fn undo(&mut self, delete_veth: bool) {
        if delete_veth {
            if let Ok(mut nl) = Netlink::open() {
                let _ = nl.link_delete(&self.host_ifname);
            }
        }
        if std::mem::take(&mut self.published) {
            let _ = nat::unpublish_all(&self.container_id);
        }
        if let Some(lease) = self.lease.take() {
            // The bridge's NAT rules stay for the next container, as Docker keeps them with its
            // network: setting them up and removing them costs ~60 ms of iptables runs, six
            // times a whole container start. `cleanup` removes them once no container is left.
            let _ = lease.release();
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.undo(false);
    }
}

const NAT_MARKER: &str = ".nat";

/// Removes the bridge's NAT rules if no container holds a lease on it.
fn release_shared(lease_dir: &std::path::Path, bridge: &str, subnet: (Ipv4Addr, u8)) {
    let _ = ipam::with_live_leases(lease_dir, |n| {
        let marker = lease_dir.join(NAT_MARKER);
        if n == 0 && marker.exists() && nat::remove_masquerade(bridge, subnet).is_ok() {
            let _ = std::fs::remove_file(marker);
        }
    });
}

/// Removes the leases of dead containers and the NAT rules of every bridge that has no live
/// container (after the last one exited, or after containers were killed). Returns how many
/// leases and bridges were cleaned.
pub fn cleanup_stale() -> usize {
    let mut cleaned = 0;
    for entry in std::fs::read_dir(ipam::LEASES_ROOT)
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        cleaned += ipam::remove_dead(&dir).unwrap_or(0);
        let (Some(bridge), Ok(text)) = (
            entry.file_name().to_str().map(String::from),
            std::fs::read_to_string(dir.join(NAT_MARKER)),
        ) else {
            continue;
        };
        let Ok(subnet) = super::parse_cidr(text.trim()) else {
            continue;
        };
        release_shared(&dir, &bridge, subnet);
        if !dir.join(NAT_MARKER).exists() {
            cleaned += 1;
        }
    }
    cleaned
}
