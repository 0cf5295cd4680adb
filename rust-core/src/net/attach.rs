//! Plugging one container into its bridge: lease, NAT, veth pair, published ports, and undoing it.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::{Cidr, Client, NetError, PeerNetns, bridge, ipam, nat};
use crate::spec::NetworkSpec;

/// The directory of a bridge's leases under `leases_root` (`<state root>/leases`).
pub fn lease_dir(leases_root: &Path, bridge: &str) -> PathBuf {
    leases_root.join(bridge)
}

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
    /// Notices for the caller, one per line: the subnet a bridge created for this container got,
    /// and warnings such as NAT not set up (networking on the host still works).
    pub notices: Vec<String>,
}

/// The bridge a container will be plugged into, ready before clone.
#[derive(Debug)]
pub struct Prepared {
    pub subnet: (Ipv4Addr, u8),
    notices: Vec<String>,
}

/// The bridge's record of the subnet it was given from the pool, in its lease directory.
const SUBNET_RECORD: &str = ".subnet";

/// Before clone: chooses the bridge's subnet (the requested one, else the recorded one, else
/// the first free one of the pool: see [`bridge::choose_subnet`]) and makes sure the bridge
/// exists, has the gateway address and is up. A subnet that overlaps another interface's route
/// is refused.
pub fn prepare(
    nl: &mut dyn Client,
    net: &NetworkSpec,
    leases_root: &Path,
) -> Result<Prepared, NetError> {
    super::validate_bridge_name(&net.bridge)?;
    let routes = nl.ipv4_routes()?;
    let choice = match net.subnet {
        Some(subnet) => bridge::choose_subnet(&net.bridge, Some(subnet), None, &routes)?,
        // Under the lease directory's lock, so that the first containers of a new bridge, started
        // at the same time, agree on its subnet.
        None => {
            let dir = lease_dir(leases_root, &net.bridge);
            ipam::with_live_leases(&dir, |_| choose_and_record(&dir, &net.bridge, &routes))??
        }
    };
    let subnet = choice.subnet;
    if let Some(ip) = net.ip {
        super::validate_container_ip(ip, subnet)?;
    }
    let mut notices = Vec::new();
    if bridge::ensure_checked_bridge(nl, &net.bridge, subnet)? {
        let why = choice.default_taken.map_or(String::new(), |r| {
            let (d, p) = (Cidr::from(bridge::DEFAULT_SUBNET), Cidr::from(r.dest));
            format!(
                ": the default {d} overlaps the route to {p} on {}",
                r.ifname
            )
        });
        let (cidr, gw) = (Cidr::from(subnet), ipam::gateway(subnet));
        let bridge = &net.bridge;
        notices.push(format!(
            "created bridge {bridge} with subnet {cidr}, gateway {gw}{why}"
        ));
    }
    Ok(Prepared { subnet, notices })
}

/// The pool's choice for a bridge without a subnet, recorded in its lease directory (lock held).
fn choose_and_record(
    dir: &Path,
    bridge: &str,
    routes: &[super::Route],
) -> Result<bridge::SubnetChoice, NetError> {
    let record = dir.join(SUBNET_RECORD);
    let recorded = std::fs::read_to_string(&record)
        .ok()
        .and_then(|t| super::parse_cidr(t.trim()).ok());
    let choice = bridge::choose_subnet(bridge, None, recorded, routes)?;
    if recorded != Some(choice.subnet) {
        let text = format!("{}\n", Cidr::from(choice.subnet));
        crate::private_fs::write(&record, text.as_bytes())
            .map_err(|e| NetError::io(format!("write {}", record.display()), e))?;
    }
    Ok(choice)
}

/// After clone, before the child goes on: leases an address for `child_pid` (in the bridge's
/// directory under `leases_root`), sets up NAT when this is the bridge's first container,
/// creates the veth pair with its peer directly inside the child's network namespace as eth0
/// (creating it there costs ~0.4 ms; moving it would cost 16-32 ms), attaches and raises the
/// host end, and publishes the ports. On failure, what was done is undone (the veth pair goes
/// with the child's namespace, or with [`Attachment::unplug`] of the caller).
pub fn plug(
    nl: &mut dyn Client,
    net: &NetworkSpec,
    prepared: &Prepared,
    leases_root: &Path,
    container_id: &str,
    child_pid: libc::pid_t,
) -> Result<Attachment, NetError> {
    let subnet = prepared.subnet;
    let gateway = ipam::gateway(subnet);
    let lease_dir = lease_dir(leases_root, &net.bridge);
    let lease = ipam::lease(&lease_dir, subnet, gateway, net.ip, child_pid)?;
    let mut att = Attachment {
        bridge: net.bridge.clone(),
        subnet,
        ip: lease.addr(),
        gateway,
        host_ifname: host_ifname(container_id),
        container_id: container_id.to_string(),
        lease_dir,
        lease: Some(lease),
        published: false,
        notices: prepared.notices.clone(),
    };
    if let Some(warning) = ensure_nat(&att.lease_dir, &net.bridge, subnet)? {
        att.notices.push(warning);
    }
    let mac = ipam::mac_for(att.ip);
    nl.veth_create(
        &att.host_ifname,
        CONTAINER_IFNAME,
        PeerNetns::Pid(child_pid),
        Some(mac),
        None,
    )?;
    if let Err(e) = connect(nl, net, &mut att) {
        // The pair would go with the child's namespace, but that may outlive us for a moment.
        let _ = nl.link_delete(&att.host_ifname);
        return Err(e);
    }
    Ok(att)
}

/// The host end onto the bridge and up, then the published ports.
fn connect(nl: &mut dyn Client, net: &NetworkSpec, att: &mut Attachment) -> Result<(), NetError> {
    nl.bridge_attach(&net.bridge, &att.host_ifname)?;
    nl.link_up(&att.host_ifname)?;
    if !net.ports.is_empty() {
        att.published = true;
        for p in &net.ports {
            nat::publish(
                &att.container_id,
                p.host_port,
                att.ip,
                p.container_port,
                p.protocol,
            )?;
        }
    }
    Ok(())
}

/// Outbound NAT is shared by the bridge's containers: set up once (a marker in the lease
/// directory, under its lock) and removed by `cleanup` when no container is left. Without
/// iptables, containers still reach the host and each other: a warning, not an error.
fn ensure_nat(
    lease_dir: &Path,
    bridge: &str,
    subnet: (Ipv4Addr, u8),
) -> Result<Option<String>, NetError> {
    let marker = lease_dir.join(NAT_MARKER);
    let nat = ipam::with_live_leases(lease_dir, |_| {
        if marker.exists() {
            return Ok(());
        }
        nat::ensure_masquerade(bridge, subnet)?;
        // The subnet, so that a cleanup after killed containers can remove the rules.
        crate::private_fs::write(&marker, Cidr::from(subnet).to_string().as_bytes())
            .map_err(|e| NetError::io(format!("write {}", marker.display()), e))
    })?;
    match nat {
        Ok(()) => Ok(None),
        Err(e) if e.is_tool() => Ok(Some(format!(
            "warning: no outbound access for containers: {e}"
        ))),
        Err(other) => Err(other),
    }
}

impl Attachment {
    /// Gives everything back. The veth pair itself dies with the container's network
    /// namespace; with `nl` (after a failed start, when the namespace may outlive us for a
    /// moment) it is deleted explicitly.
    pub fn unplug(mut self, nl: Option<&mut dyn Client>) {
        if let Some(nl) = nl {
            let _ = nl.link_delete(&self.host_ifname);
        }
        self.undo();
    }

    fn undo(&mut self) {
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
        self.undo();
    }
}

/// Marks a lease directory whose bridge has its NAT rules (the file holds the subnet).
pub const NAT_MARKER: &str = ".nat";

/// Removes the bridge's NAT rules if no container holds a lease on it.
fn release_shared(lease_dir: &Path, bridge: &str, subnet: (Ipv4Addr, u8)) {
    let _ = ipam::with_live_leases(lease_dir, |n| {
        let marker = lease_dir.join(NAT_MARKER);
        if n == 0 && marker.exists() && nat::remove_masquerade(bridge, subnet).is_ok() {
            let _ = std::fs::remove_file(marker);
        }
    });
}

/// Whether this network namespace has an interface called `name`.
fn link_exists(name: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: a NUL-terminated name; if_nametoindex only reads it.
    unsafe { libc::if_nametoindex(c.as_ptr()) != 0 }
}

/// Removes the leases of dead containers under `leases_root`, the NAT rules of every bridge
/// that has no live container (after the last one exited, or after containers were killed),
/// and the whole lease directory of a bridge that no longer exists and has no live container
/// (deleted by hand, or with its network namespace). Returns how many leases, bridges and
/// directories were cleaned.
pub fn cleanup_stale(leases_root: &Path) -> usize {
    let mut cleaned = 0;
    for entry in std::fs::read_dir(leases_root)
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        // Only directories of the names a bridge can have: the name goes into iptables rules.
        let bridge = entry.file_name().to_str().map(String::from);
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let Some(bridge) = bridge.filter(|b| is_dir && super::validate_bridge_name(b).is_ok())
        else {
            continue;
        };
        cleaned += ipam::remove_dead(&dir).unwrap_or(0);
        let marker = dir.join(NAT_MARKER);
        let subnet = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|t| super::parse_cidr(t.trim()).ok());
        if let Some(subnet) = subnet {
            release_shared(&dir, &bridge, subnet);
            if !marker.exists() {
                cleaned += 1;
            }
        }
        let unused = || !marker.exists() && !link_exists(&bridge);
        if ipam::remove_unused_dir(&dir, unused).unwrap_or(false) {
            cleaned += 1;
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::TempDir;

    /// `cleanup` removes the lease directory of a bridge that is gone once no live container
    /// leases in it (its lock, subnet record and dead leases with it), and keeps the directory
    /// of a bridge that exists and of one that still has a live container.
    #[test]
    fn cleanup_removes_the_lease_directories_of_deleted_bridges() {
        let root = TempDir::new("leases");
        let me = std::process::id() as libc::pid_t;
        let subnet = (Ipv4Addr::new(10, 77, 0, 0), 24);
        let (gone, live, present) = ("dr-gone-t0", "dr-gone-t1", "lo");
        for bridge in [gone, live, present] {
            let dir = lease_dir(&root.0, bridge);
            crate::private_fs::create_dir_all(&dir).unwrap();
            crate::private_fs::write(&dir.join(SUBNET_RECORD), b"10.77.0.0/24\n").unwrap();
        }
        // A dead container's lease (a pid that cannot exist), and a live one (this process).
        let dead = Ipv4Addr::new(10, 77, 0, 2);
        crate::private_fs::write(
            &lease_dir(&root.0, gone).join(dead.to_string()),
            b"999999999 1\n",
        )
        .unwrap();
        let lease = ipam::lease(
            &lease_dir(&root.0, live),
            subnet,
            ipam::gateway(subnet),
            None,
            me,
        );
        let kept = lease.unwrap().keep();
        assert!(!link_exists(gone) && !link_exists(live) && link_exists(present));
        assert!(cleanup_stale(&root.0) >= 2);
        assert!(
            !lease_dir(&root.0, gone).exists(),
            "the deleted bridge's directory is left"
        );
        assert!(lease_dir(&root.0, live).join(kept.to_string()).exists());
        assert!(lease_dir(&root.0, present).join(SUBNET_RECORD).exists());
        // Once its container is gone too (its lease released), that one goes as well; a later
        // lease makes the directory again.
        ipam::release_addr(&lease_dir(&root.0, live), kept, me).unwrap();
        cleanup_stale(&root.0);
        assert!(!lease_dir(&root.0, live).exists());
        let again = ipam::lease(
            &lease_dir(&root.0, live),
            subnet,
            ipam::gateway(subnet),
            None,
            me,
        );
        assert_eq!(again.unwrap().addr(), kept);
    }
}
