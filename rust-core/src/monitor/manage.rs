//! What `docker-run` does with containers by their records, running or not: `ps -a`,
//! `inspect`, `logs`, `wait`, `attach`, `rm`, `start`. Each finds its container by name, full
//! id or unique id prefix.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::container::{Container, ContainerBuilder, Host};
use crate::error::Result;
use crate::record::log::{self, ReadOptions};
use crate::record::{ContainerRecord, RecordError, RunStatus, exits, inspect, now_nanos};
use crate::state::short_id;

/// One line of `ps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: String,
    pub name: String,
    pub command: String,
    /// The first process's host pid while it runs, else 0.
    pub pid: i32,
    /// Seconds since the epoch.
    pub created: u64,
    /// Docker's STATUS column (`Up 3 seconds`, `Exited (0) 2 minutes ago`).
    pub status: String,
    /// The root filesystem (or image) it runs.
    pub image: String,
    /// Docker's PORTS column (`0.0.0.0:8080->80/tcp`), "" without published ports.
    pub ports: String,
}

impl Summary {
    fn of(rec: &ContainerRecord, now: u64) -> Summary {
        let state = rec.effective_state();
        let running = state.status == RunStatus::Running;
        let ports: Vec<String> = rec
            .spec
            .network
            .ports
            .iter()
            .filter(|_| running)
            .map(|p| {
                let proto = match p.protocol {
                    crate::spec::Protocol::Tcp => "tcp",
                    crate::spec::Protocol::Udp => "udp",
                };
                format!("0.0.0.0:{}->{}/{proto}", p.host_port, p.container_port)
            })
            .collect();
        Summary {
            id: rec.id.clone(),
            name: rec.name.clone().unwrap_or_default(),
            command: rec.command(),
            pid: if running { state.process.pid } else { 0 },
            created: rec.created / 1_000_000_000,
            status: rec.status_text(now),
            image: rec
                .spec
                .image
                .as_ref()
                .map_or_else(|| rec.spec.rootfs.display().to_string(), |i| i.name.clone()),
            ports: ports.join(", "),
        }
    }
}

/// The containers of this host, oldest first: the running ones, or with `all` every one
/// that has a record (stopped ones too), as `docker ps [-a]`.
pub fn list(host: &Host, all: bool) -> Result<Vec<Summary>> {
    crate::error::require_root("listing containers")?;
    let now = now_nanos();
    // Running means proven so in the state directory (alive, in its cgroup): a record naming
    // another process is not listed as running, and its pid is not shown.
    let proven: std::collections::BTreeSet<String> = crate::container::list_running(host)
        .into_iter()
        .map(|r| r.id)
        .collect();
    Ok(host
        .records()
        .list()
        .iter()
        .map(|r| Summary::of(r, now))
        .filter_map(|mut s| {
            let running = proven.contains(&s.id);
            if !running {
                s.pid = 0;
            }
            (all || running).then_some(s)
        })
        .collect())
}

fn find(host: &Host, key: &str) -> Result<ContainerRecord> {
    crate::error::require_root("looking up a container")?;
    Ok(host.records().find(key)?)
}

/// `docker inspect`: the container's JSON, or `format` applied to it (`{{.State.Pid}}`).
pub fn inspect(host: &Host, key: &str, format: Option<&str>) -> Result<String> {
    let rec = find(host, key)?;
    let value = inspect::to_json(&rec, &host.records());
    match format {
        Some(template) => Ok(inspect::format(&value, template)?),
        None => Ok(serde_json::to_string_pretty(&value).unwrap_or_default()),
    }
}

/// `docker logs`: the container's log to `out` and `err` (see `record::log::print`); with
/// `follow`, until the container has stopped for good (a restart goes on).
pub fn logs(
    host: &Host,
    key: &str,
    opts: ReadOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let rec = find(host, key)?;
    let records = host.records();
    let path = records.log_path(&rec.id);
    let mut running = || records.load(&rec.id).is_some_and(|r| r.is_active());
    log::print(&path, opts, out, err, &mut running).map_err(|e| crate::Error::io(&path, e))
}

/// The size of the container's log now: where `attach` starts reading.
fn log_len(host: &Host, id: &str) -> u64 {
    std::fs::metadata(host.records().log_path(id)).map_or(0, |m| m.len())
}

/// `docker wait`: blocks until the container has stopped, and returns its exit code; also for
/// one that exited before, and for a detached --rm one whose record went with it.
pub fn wait_exit(host: &Host, key: &str) -> Result<i32> {
    let id = match find(host, key) {
        Ok(rec) => rec.id,
        // Gone already (--rm): its full id still finds the exit code it left.
        Err(e) => return exits::read(&host.state_root, key).ok_or(e),
    };
    let records = host.records();
    loop {
        match records.load(&id) {
            Some(r) if !r.is_active() => return Ok(r.effective_state().exit_code),
            Some(_) => std::thread::sleep(Duration::from_millis(50)),
            None => {
                return exits::read(&host.state_root, &id)
                    .ok_or_else(|| RecordError::NoSuchContainer(key.to_string()).into());
            }
        }
    }
}

/// `docker attach` (output only): the container's output from now on to `out` and `err`
/// until it stops; its exit code.
pub fn attach(host: &Host, key: &str, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let id = find(host, key)?.id;
    let offset = log_len(host, &id);
    follow_from(host, &id, offset, out, err)
}

fn follow_from(
    host: &Host,
    id: &str,
    offset: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let opts = ReadOptions {
        follow: true,
        from_offset: Some(offset),
        ..ReadOptions::default()
    };
    logs(host, id, opts, out, err)?;
    wait_exit(host, id)
}

/// `docker start`: runs a stopped container again under a new monitor, on its own layer with
/// its own spec (seccomp policy included); returns its id.
pub fn start_stopped(host: &Host, key: &str) -> Result<String> {
    let rec = find(host, key)?;
    let records = host.records();
    if rec.is_active() {
        return Err(RecordError::AlreadyRunning(short_id(&rec.id).to_string()).into());
    }
    await_teardown(&rec);
    records.clear_stop_request(&rec.id);
    let builder = ContainerBuilder::new(rec.spec.clone()).host(host.clone());
    let mut c = builder.existing(&rec.id).build()?;
    super::detach(&mut c)?;
    Ok(rec.id)
}

/// `docker start -a`: [`start_stopped`], then its output until it stops; its exit code.
pub fn start_attached(
    host: &Host,
    key: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let id = find(host, key)?.id;
    let offset = log_len(host, &id);
    start_stopped(host, &id)?;
    follow_from(host, &id, offset, out, err)
}

/// `docker stop`: SIGTERM, then SIGKILL after `timeout`, and no restart after it (also for a
/// container its monitor is about to restart); returns once it is recorded as stopped.
pub fn stop(host: &Host, key: &str, timeout: Duration) -> Result<()> {
    let rec = match find(host, key) {
        Ok(rec) => rec,
        // A container without a record (started by an older docker-run): by its state record.
        Err(_) => return Container::open_in(host.clone(), key)?.stop(timeout),
    };
    let records = host.records();
    records.mark_stop_requested(&rec.id);
    if rec.effective_state().status == RunStatus::Running {
        Container::open_in(host.clone(), &rec.id)?.stop(timeout)?;
    }
    wait_until(Duration::from_secs(10), || {
        records.load(&rec.id).is_none_or(|r| !r.is_active())
    });
    Ok(())
}

/// Waits (at most 10 s) for the process that recorded a container's exit (its monitor, or
/// the docker-run that ran it in the foreground) to finish its teardown: the exit is recorded
/// before the name, address and cgroup are released, so a start right after `stop` or `wait`
/// would find its own name still taken.
fn await_teardown(rec: &ContainerRecord) {
    let monitor = rec.state.monitor;
    if monitor.pid != std::process::id() as i32 {
        wait_until(Duration::from_secs(10), || !monitor.is_alive());
    }
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while !done() {
        if t0.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// `docker rm [-f]`: removes a stopped container's record, log and layer. A running one is
/// refused, or with `force` killed first (and not restarted); its monitor releases what it
/// holds, and what a killed monitor left goes as `cleanup` removes it. Returns its id.
pub fn remove(host: &Host, key: &str, force: bool) -> Result<String> {
    let rec = find(host, key)?;
    let records = host.records();
    let id = rec.id.clone();
    if rec.is_active() {
        if !force {
            return Err(RecordError::Running(short_id(&id).to_string()).into());
        }
        records.mark_stop_requested(&id);
        if let Ok(c) = Container::open_in(host.clone(), &id) {
            let _ = c.kill(libc::SIGKILL);
        }
    }
    // The monitor records the end and then releases the network and the cgroup: let it finish.
    wait_until(Duration::from_secs(10), || {
        records
            .load(&id)
            .is_none_or(|r| !r.is_active() && !r.state.monitor.is_alive())
    });
    if host.store().load(&id).is_some() {
        crate::cleanup::cleanup(&host.store(), &host.cgroup_root);
    }
    crate::rootfs::overlay::remove_dir(&*host.syscall, &host.layer_root, &id);
    Ok(id)
}
