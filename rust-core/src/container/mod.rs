//! One container's lifecycle, shaped like youki's `libcontainer/src/container/`:
//!
//! - [`builder`]: a [`ContainerBuilder`] checks the whole spec and binds it to a [`Host`] (the
//!   kernel operations, the netlink connector, the state and cgroup roots);
//! - [`start`]: record, cgroup, network, clone, the go-ahead, exec; undone in reverse order on
//!   any failure;
//! - [`exec`]: a command joining a running container;
//! - [`kill`]: signals and `docker stop`;
//! - [`wait`]: the exit status, and the teardown after it;
//! - [`state`]: the container's status, its record in the state directory, and opening a
//!   container another process started;
//! - [`update`]: limits and usage of the running container.

mod builder;
mod exec;
mod kill;
pub(crate) mod output;
mod start;
mod state;
mod update;
mod wait;

#[cfg(test)]
mod root_tests;
#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub use builder::{ContainerBuilder, Host, random_id};
pub use exec::ExecSpec;
pub use state::{Status, list_running};

use crate::cgroups::Cgroup;
use crate::net::attach::Attachment;
pub use crate::process::ExitStatus;
use crate::rootfs::overlay::Overlay;
use crate::spec::ContainerSpec;
use crate::state::{Record, Store};

/// One container, from configuration to teardown. Dropping it kills and reaps a still-running
/// container and removes everything it created.
pub struct Container {
    spec: ContainerSpec,
    id: String,
    status: Status,
    host: Host,
    store: Store,
    pty_master: Option<OwnedFd>,
    /// A pidfd of the container's first process while it runs: taken with the clone for our own
    /// child, or opened and then proven for a container opened from the state directory. Every
    /// signal and wait goes through it, never through the pid.
    pidfd: Option<OwnedFd>,
    cgroup: Option<Cgroup>,
    network: Option<Attachment>,
    /// Per-container files bound into the rootfs (/etc/hosts, /etc/resolv.conf).
    files_dir: Option<PathBuf>,
    /// The copy-on-write root (absent with a shared rootfs).
    layer: Option<Overlay>,
    /// The state record while the container exists (written at start, removed at teardown).
    record: Option<Record>,
    /// Warnings of the start that are not its network's (a failed poststart hook).
    notices: Vec<String>,
    /// False for a container opened from the state directory: another process started it, so
    /// this handle neither reaps it nor removes anything on drop.
    owned: bool,
    /// Started again on the layer of an earlier run (`docker start`, a restart policy): a
    /// failed start keeps the layer and the record.
    reuse: bool,
    /// Its record under the layer root was written: kept at the end unless `auto_remove`.
    recorded: bool,
    /// Handed to a monitor (`detach`): this handle cannot start it.
    detached: bool,
    /// How many times its monitor restarted it (Docker's RestartCount).
    restart_count: u32,
    /// Also leave the exit code in the state directory for `wait` (detached, auto-removed).
    exit_file: bool,
    /// Run by a monitor (`set_monitor_options`), which logs its output itself.
    monitored: bool,
    /// A kept container run in the foreground: the pipes of its stdout and stderr, which
    /// `wait` copies to the caller's and into its log (`output`).
    output: Vec<output::Source>,
}

impl Container {
    /// Validates the spec for the default host; creates nothing yet.
    pub fn new(spec: ContainerSpec) -> crate::Result<Container> {
        ContainerBuilder::new(spec).build()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn spec(&self) -> &ContainerSpec {
        &self.spec
    }

    /// The pty master when the container has a terminal.
    pub fn pty_master(&self) -> Option<&OwnedFd> {
        self.pty_master.as_ref()
    }

    /// Takes the pty master (a terminal container, once started): for a caller that hands it
    /// on, as an OCI runtime does over its --console-socket (SCM_RIGHTS). `wait` then relays
    /// nothing.
    pub fn take_pty_master(&mut self) -> Option<OwnedFd> {
        self.pty_master.take()
    }

    /// The pidfd of the running container's first process.
    pub fn pidfd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.pidfd.as_ref().map(|fd| fd.as_fd())
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Marks the handle as handed to a monitor (see `monitor::detach`).
    pub fn set_detached(&mut self) {
        self.detached = true;
    }

    pub fn restart_count(&self) -> u32 {
        self.restart_count
    }

    pub fn is_detached(&self) -> bool {
        self.detached
    }

    /// For the monitor: the restart count recorded at the next start, and whether the exit code
    /// is also left for `wait` in the state directory.
    pub fn set_monitor_options(&mut self, restart_count: u32, exit_file: bool) {
        self.restart_count = restart_count;
        self.exit_file = exit_file;
        self.monitored = true;
    }

    /// Whether its output goes to its log from this handle: a container kept after its end
    /// (not auto-removed), started here in the foreground (a monitor logs its own), not an OCI
    /// `create` (whose caller owns its stdio).
    fn logs_here(&self) -> bool {
        !self.spec.auto_remove && !self.monitored && self.spec.exec_fifo.is_none()
    }

    /// Lets go of a started container without stopping it (the OCI `create`, whose process
    /// exits while the container's init waits on its exec fifo): its process, cgroup and
    /// record stay; the handle only forgets them. Returns the container's pid (None if it was
    /// not running).
    pub fn detach(mut self) -> Option<libc::pid_t> {
        let pid = self.pid();
        if let Some(cg) = &mut self.cgroup {
            cg.commit();
        }
        if let Some(layer) = self.layer.take() {
            std::mem::forget(layer);
        }
        if let Some(net) = self.network.take() {
            std::mem::forget(net);
        }
        self.files_dir = None;
        self.owned = false;
        pid
    }

    /// The notices of the network setup, one per line ("" if none): the subnet of a bridge this
    /// start created, warnings (e.g. no iptables: no outbound access).
    pub fn network_notices(&self) -> String {
        let net = self.network.as_ref().map(|n| n.notices.iter());
        net.into_iter()
            .flatten()
            .chain(&self.notices)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The container's address on its bridge.
    pub fn ip(&self) -> Option<std::net::Ipv4Addr> {
        match &self.network {
            Some(n) => Some(n.ip),
            None => self.record.as_ref()?.ip.as_deref()?.parse().ok(),
        }
    }
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("owned", &self.owned)
            .finish_non_exhaustive()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.abort();
    }
}
