//! A container's status, its record in the state directory, and containers that another
//! process started.

use super::{Container, ExitStatus, Host};
use crate::cgroups::Cgroup;
use crate::error::{Result, StateError};
use crate::procfs::process_start_time;
use crate::record::{ContainerRecord, ProcessId, RunState, RunStatus, now_nanos};
use crate::spec::ContainerSpec;
use crate::state::{Record, SeccompPolicy, short_id};

/// Whether `pid` is listed in one of the cgroup's cgroup.procs files.
fn in_cgroup(cg: &Cgroup, pid: libc::pid_t) -> bool {
    let want = pid.to_string();
    cg.procs_files()
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(|l| l.trim() == want)))
}

/// The container's cgroup, if the record's process is in it: the proof that a record names the
/// container's own process and not an unrelated one (only root moves processes into it).
fn proven_cgroup(host: &Host, rec: &Record) -> Option<Cgroup> {
    let cgroup = Cgroup::open(&host.cgroup_root, rec.cgroup.as_deref().unwrap_or(&rec.id)).ok()?;
    in_cgroup(&cgroup, rec.pid).then_some(cgroup)
}

/// The running containers in `host`'s state directory, oldest first: started ones whose first
/// process is alive (its recorded start time) and proven theirs (in the container's cgroup, as
/// [`Container::open_in`] checks). A record that names some other live process is left out.
pub fn list_running(host: &Host) -> Vec<Record> {
    host.store()
        .list()
        .into_iter()
        .filter(|r| !r.starting && r.is_alive() && proven_cgroup(host, r).is_some())
        .collect()
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Made, not started.
    Created,
    /// Its first process runs (or has exited and waits to be reaped).
    Running { pid: libc::pid_t },
    /// Waited for.
    Stopped(ExitStatus),
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Container {
    /// A handle to a running container started by another process, found by name, id or id
    /// prefix in the default state directory. It can be signalled, stopped, tuned and entered
    /// (exec); dropping it changes nothing.
    pub fn open(key: &str) -> Result<Container> {
        Container::open_in(Host::default(), key)
    }

    /// [`open`](Self::open) on `host`'s state directory and cgroup root.
    pub fn open_in(host: Host, key: &str) -> Result<Container> {
        host.require_root("opening a running container")?;
        let store = host.store();
        let rec = store.find(key)?;
        let gone = || StateError::Gone(short_id(&rec.id).to_string());
        // First the pidfd, then the proof that it is the container's first process: the
        // recorded start time (not a reused pid), and membership of the container's cgroup
        // (not an unrelated process named by a forged record: only root moves processes into
        // it). A process checked after its pidfd was opened is the one the pidfd holds: its pid
        // cannot be reused while it lives.
        let pidfd = host.syscall.pidfd_open(rec.pid).map_err(|_| gone())?;
        if !rec.is_alive() {
            return Err(gone().into());
        }
        let Some(cgroup) = proven_cgroup(&host, &rec) else {
            return Err(StateError::NotContainer {
                id: short_id(&rec.id).to_string(),
                pid: rec.pid,
            }
            .into());
        };
        let cgroup = Some(cgroup);
        let spec = ContainerSpec {
            name: rec.name.clone(),
            hostname: rec.hostname.clone(),
            ..Default::default()
        };
        Ok(Container {
            spec,
            id: rec.id.clone(),
            status: Status::Running { pid: rec.pid },
            host,
            store,
            pty_master: None,
            pidfd: Some(pidfd),
            cgroup,
            network: None,
            files_dir: None,
            layer: None,
            record: Some(rec),
            notices: Vec::new(),
            owned: false,
            reuse: false,
            recorded: false,
            detached: false,
            restart_count: 0,
            exit_file: false,
            monitored: false,
            output: Vec::new(),
        })
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// The host PID of the container's first process, while it runs.
    pub fn pid(&self) -> Option<libc::pid_t> {
        match self.status {
            Status::Running { pid } => Some(pid),
            _ => None,
        }
    }

    /// How the container ended, once waited for.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        match self.status {
            Status::Stopped(s) => Some(s),
            _ => None,
        }
    }

    /// The pid of the container's first process, checked against pid reuse for handles opened
    /// from the state directory.
    pub(super) fn live_pid(&self) -> Result<libc::pid_t> {
        let pid = self.pid().ok_or(StateError::NotRunning)?;
        if !self.owned && !self.record.as_ref().is_some_and(|r| r.is_alive()) {
            return Err(StateError::Gone(short_id(&self.id).to_string()).into());
        }
        Ok(pid)
    }

    /// The record that marks this container in the state directory while it starts: owned by
    /// `pid`, the starting process, so that a concurrent cleanup leaves it alone.
    pub(super) fn starting_record(&self, pid: libc::pid_t) -> Record {
        let spec = &self.spec;
        let command: Vec<_> = spec.args.iter().map(|a| a.to_string_lossy()).collect();
        Record {
            id: self.id.clone(),
            name: spec.name.clone(),
            pid,
            start_time: process_start_time(pid).unwrap_or(0),
            created: now_secs(),
            command: command.join(" "),
            hostname: spec.hostname.clone(),
            ip: None,
            bridge: None,
            starting: true,
            seccomp: SeccompPolicy::of(&spec.seccomp),
            image: spec.image.as_ref().and_then(|i| i.id.clone()),
            cgroup: spec
                .cgroups_path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
        }
    }

    /// The record once the command runs: its own pid, address and bridge.
    pub(super) fn running_record(&self, starting: Record, pid: libc::pid_t) -> Record {
        Record {
            pid,
            start_time: process_start_time(pid).unwrap_or(0),
            starting: false,
            ip: self.network.as_ref().map(|n| n.ip.to_string()),
            bridge: self.network.as_ref().map(|n| n.bridge.clone()),
            ..starting
        }
    }
}

impl Container {
    /// Writes the record that outlives the container once its command runs: the spec, the
    /// running state, its addresses; for a container started again, its creation time stays.
    pub(super) fn record_started(&mut self, pid: libc::pid_t) -> Result<()> {
        let records = self.host.records();
        let old = self.reuse.then(|| records.load(&self.id)).flatten();
        let mut rec = old.unwrap_or_else(|| ContainerRecord::new(&self.id, &self.spec));
        rec.spec = self.spec.clone();
        let net = self.network.as_ref();
        rec.state = RunState {
            status: RunStatus::Running,
            process: ProcessId::of(pid),
            monitor: ProcessId::of(std::process::id() as i32),
            started_at: now_nanos(),
            restart_count: self.restart_count,
            ip: net.map(|n| n.ip.to_string()),
            gateway: net.map(|n| n.gateway.to_string()),
            prefix_len: net.map_or(0, |n| n.subnet.1),
            mac: net.map(|n| {
                let m = crate::net::ipam::mac_for(n.ip);
                m.map(|b| format!("{b:02x}")).join(":")
            }),
            detached: self.exit_file,
            ..RunState::default()
        };
        records.save(&rec)?;
        self.recorded = true;
        Ok(())
    }

    /// Whether its monitor starts it again after this exit (its restart policy, and no stop
    /// asked for): decided here, so that no one sees it exited in between.
    pub fn restarts_after(&self, status: &ExitStatus) -> bool {
        self.exit_file
            && self.spec.restart.restarts(status.code, self.restart_count)
            && !self.host.records().stop_requested(&self.id)
    }

    /// Records how the container ended.
    pub(super) fn record_exit(&self, status: &ExitStatus) {
        let restarting = self.restarts_after(status);
        self.host.records().update(&self.id, |r| {
            r.state.status = match restarting {
                true => RunStatus::Restarting,
                false => RunStatus::Exited,
            };
            r.state.exit_code = status.code;
            r.state.oom_killed = status.oom_killed;
            r.state.finished_at = now_nanos();
            r.state.process = ProcessId::default();
        });
        if self.exit_file && self.spec.auto_remove {
            crate::record::exits::write(&self.host.state_root, &self.id, status.code);
        }
    }

    /// Records why a start again on the old layer failed (Docker's State.Error).
    pub(super) fn record_failed_start(&self, error: &crate::Error) {
        self.host.records().update(&self.id, |r| {
            r.state.status = RunStatus::Exited;
            r.state.error = error.to_string();
            r.state.process = ProcessId::default();
            r.state.finished_at = now_nanos();
        });
    }
}
