//! Building a container: the spec checked as a whole, and the host it will run on.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Container, Status};
use crate::cgroups;
use crate::error::Result;
use crate::net::{self, Connector};
use crate::process::plan::{default_caps, seccomp_program};
use crate::record::RecordStore;
use crate::spec::{ContainerSpec, NetworkMode, Seccomp};
use crate::state::{self, Store};
use crate::syscall::{LinuxSyscall, Syscall};

/// What a container runs on: the kernel's operations, the netlink connection, and the roots of
/// the state directory, the containers' layers and the cgroups. The default is this machine:
/// the Linux calls, the build's netlink backend, /run/docker-run, /var/lib/docker-run and
/// /sys/fs/cgroup.
#[derive(Clone)]
pub struct Host {
    pub syscall: Arc<dyn Syscall>,
    pub net: Connector,
    pub state_root: PathBuf,
    /// Where each container's copy-on-write layer lives (`containers/<id>/`).
    pub layer_root: PathBuf,
    pub cgroup_root: cgroups::Root,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            syscall: Arc::new(LinuxSyscall),
            net: net::connector(),
            state_root: PathBuf::from(state::DEFAULT_ROOT),
            layer_root: PathBuf::from(crate::rootfs::overlay::DEFAULT_ROOT),
            cgroup_root: cgroups::Root::default(),
        }
    }
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("syscall", &self.syscall)
            .field("state_root", &self.state_root)
            .field("layer_root", &self.layer_root)
            .field("cgroup_root", &self.cgroup_root)
            .finish_non_exhaustive()
    }
}

impl Host {
    pub fn store(&self) -> Store {
        Store::new(&self.state_root)
    }

    /// The records that outlive containers, beside their layers.
    pub fn records(&self) -> RecordStore {
        RecordStore::new(&self.layer_root)
    }

    /// Refuses `what` without root on the real kernel; a fake kernel needs no privileges.
    pub(super) fn require_root(&self, what: &'static str) -> Result<()> {
        if self.syscall.needs_root() {
            crate::error::require_root(what)?;
        }
        Ok(())
    }
}

/// Makes a [`Container`] from a spec.
#[derive(Debug)]
pub struct ContainerBuilder {
    spec: ContainerSpec,
    host: Host,
    /// The id of a container that ran before, started again on its own layer.
    existing: Option<String>,
}

impl ContainerBuilder {
    pub fn new(spec: ContainerSpec) -> ContainerBuilder {
        ContainerBuilder {
            spec,
            host: Host::default(),
            existing: None,
        }
    }

    /// Builds container `id` again, on the layer (and under the record) of its earlier run.
    pub fn existing(mut self, id: &str) -> Self {
        self.existing = Some(id.to_string());
        self
    }

    pub fn host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    pub fn state_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.host.state_root = root.into();
        self
    }

    pub fn layer_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.host.layer_root = root.into();
        self
    }

    pub fn cgroup_root(mut self, root: cgroups::Root) -> Self {
        self.host.cgroup_root = root;
        self
    }

    /// Checks the whole spec (its own fields, the network, the limits) before any side effect;
    /// creates nothing yet.
    pub fn build(self) -> Result<Container> {
        let mut spec = self.spec;
        // A container started again keeps what its image gave it when it was made.
        if self.existing.is_none() {
            if spec.image.is_some() && spec.rootfs_shared {
                return Err(crate::spec::SpecError::ImageNeedsOverlay.into());
            }
            crate::image::apply(&mut spec)?;
        }
        spec.validate()?;
        // Absolute from here on: the record keeps them for a later start, and a detached
        // container's monitor works from "/".
        for dir in std::iter::once(&mut spec.rootfs).chain(spec.layers.iter_mut()) {
            if let Ok(abs) = std::fs::canonicalize(&*dir) {
                *dir = abs;
            }
        }
        if spec.network.mode == NetworkMode::Bridge {
            net::validate(&spec.network)?;
        }
        spec.resources.validate()?;
        // A profile file's mistakes are reported now, not at start (compiled again then, for the
        // container's final capability set).
        if let Seccomp::DockerJson(_) = &spec.seccomp {
            seccomp_program(&spec.seccomp, default_caps())?;
        }
        let reuse = self.existing.is_some();
        Ok(Container {
            spec,
            id: self.existing.unwrap_or_else(random_id),
            status: Status::Created,
            store: self.host.store(),
            host: self.host,
            pty_master: None,
            pidfd: None,
            cgroup: None,
            network: None,
            files_dir: None,
            layer: None,
            record: None,
            notices: Vec::new(),
            owned: true,
            reuse,
            recorded: false,
            detached: false,
            restart_count: 0,
            exit_file: false,
            monitored: false,
            output: Vec::new(),
        })
    }
}

/// A Docker-style id: 64 random hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    // SAFETY: getrandom fills the stack buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Entropy is not critical here: an id only has to be unique on this host.
        let seed = (std::process::id() as u128) << 64
            | std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
        bytes[..16].copy_from_slice(&seed.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
