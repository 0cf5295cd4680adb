//! Container records that outlive the container's process, as Docker keeps them: what the
//! container was made from (the whole spec, seccomp policy included, so that `start` runs it
//! again the same way), where it is in its life (created, running, restarting, exited), its exit
//! code and OOM kill, its timestamps, and its log. They live beside the container's
//! copy-on-write layer, under `<layer root>/containers/<id>/`:
//!
//! - `container.json`: the [`ContainerRecord`], rewritten atomically (temp file + rename);
//! - `<id>-json.log`: stdout and stderr in Docker's json-file shape ([`log`]);
//! - `stop-requested`: a marker left by `stop`, `kill` and `rm -f` so that the monitor does
//!   not restart a container that was stopped on purpose.
//!
//! The running containers' records in /run/docker-run (`state`) stay what they are: the proof
//! of a live process for `exec`, `kill` and `cleanup`. A record here only says what happened.
//!
//! The rules of the state directory apply (see `state`): directories 0700, files 0600 whatever
//! the umask; a record is read back only from a regular file of ours that no one else can
//! write, its id must be 64 hex digits and the name of its directory, its name and addresses
//! well-formed. The spec inside is checked again in full by the builder before any start.

pub mod inspect;
pub mod log;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::errno::os_message;
use crate::private_fs;
use crate::procfs::process_start_time;
use crate::spec::ContainerSpec;
use crate::state::short_id;

/// The record file's name inside the container's directory.
const RECORD_FILE: &str = "container.json";
const STOP_MARKER: &str = "stop-requested";
/// Docker's exit code for a container whose exit status was lost (its shim died).
pub const EXIT_UNKNOWN: i32 = 255;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("{key} matches {count} containers: use more of the id")]
    Ambiguous { key: String, count: usize },
    #[error("the container name {name:?} is already in use by container {holder}")]
    NameInUse { name: String, holder: String },
    #[error("container {0} is running: stop it before removing it, or force the removal (rm -f)")]
    Running(String),
    #[error("container {0} is already running")]
    AlreadyRunning(String),
    #[error("{}: {}", path.display(), os_message(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RecordError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            RecordError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a container is in its life, as Docker's State.Status names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[default]
    Created,
    Running,
    /// Exited; its monitor waits before starting it again (`--restart`).
    Restarting,
    Exited,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Created => "created",
            RunStatus::Running => "running",
            RunStatus::Restarting => "restarting",
            RunStatus::Exited => "exited",
        }
    }
}

/// A process known by pid and start time (a pid alone may have been reused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessId {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcessId {
    /// The process `pid` as it is now (start time 0 when it does not exist).
    pub fn of(pid: i32) -> ProcessId {
        ProcessId {
            pid,
            start_time: process_start_time(pid).unwrap_or(0),
        }
    }

    pub fn is_alive(&self) -> bool {
        self.pid > 0 && process_start_time(self.pid) == Some(self.start_time)
    }
}

/// The run-time part of a record: Docker's State, and the addresses of NetworkSettings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunState {
    pub status: RunStatus,
    /// The container's first process while it runs.
    pub process: ProcessId,
    /// The process that waits for it and records its end: the monitor of a detached container,
    /// or the docker-run (or C program) that started it in the foreground.
    pub monitor: ProcessId,
    pub exit_code: i32,
    pub oom_killed: bool,
    /// Nanoseconds since the epoch; 0 for never.
    pub started_at: u64,
    pub finished_at: u64,
    pub restart_count: u32,
    /// Why the last start failed, or why the exit status is unknown ("" if none).
    pub error: String,
    pub ip: Option<String>,
    pub gateway: Option<String>,
    pub prefix_len: u8,
    pub mac: Option<String>,
    /// With --rm and -d: the exit code is also left in /run for `docker-run wait`.
    pub detached: bool,
}

/// One container's record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: Option<String>,
    /// Nanoseconds since the epoch.
    pub created: u64,
    pub spec: ContainerSpec,
    pub state: RunState,
}

impl ContainerRecord {
    pub fn new(id: &str, spec: &ContainerSpec) -> ContainerRecord {
        ContainerRecord {
            id: id.to_string(),
            name: spec.name.clone(),
            created: now_nanos(),
            spec: spec.clone(),
            state: RunState::default(),
        }
    }

    /// The state as it is: a running or restarting record whose monitor is gone (SIGKILLed)
    /// and whose process is gone too has exited, with an unknown status (Docker's 255).
    pub fn effective_state(&self) -> RunState {
        let mut s = self.state.clone();
        let active = matches!(s.status, RunStatus::Running | RunStatus::Restarting);
        if active && !s.monitor.is_alive() && !s.process.is_alive() {
            if s.status == RunStatus::Running {
                s.exit_code = EXIT_UNKNOWN;
                s.error = "the container's monitor was killed: its exit status is unknown".into();
            }
            s.status = RunStatus::Exited;
        }
        s
    }

    /// Running or about to run again: not removable without force, not startable.
    pub fn is_active(&self) -> bool {
        matches!(
            self.effective_state().status,
            RunStatus::Running | RunStatus::Restarting
        )
    }

    /// The command as `ps` shows it.
    pub fn command(&self) -> String {
        let args: Vec<_> = self.spec.args.iter().map(|a| a.to_string_lossy()).collect();
        args.join(" ")
    }

    /// Docker's STATUS column: `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`,
    /// `Restarting (1) 1 second ago`.
    pub fn status_text(&self, now: u64) -> String {
        let s = self.effective_state();
        let ago = |t: u64| human_duration(now.saturating_sub(t));
        // An end whose time is unknown (its monitor was killed) has no "ago".
        let ended = |what: &str| match s.finished_at {
            0 => format!("{what} ({})", s.exit_code),
            t => format!("{what} ({}) {} ago", s.exit_code, ago(t)),
        };
        match s.status {
            RunStatus::Created => "Created".into(),
            RunStatus::Running => format!("Up {}", ago(s.started_at)),
            RunStatus::Restarting => ended("Restarting"),
            RunStatus::Exited => ended("Exited"),
        }
    }

    /// Checks what was read back; None for anything malformed (see the module doc).
    fn validated(self, dir_name: &str) -> Option<ContainerRecord> {
        let ip_ok = |v: &Option<String>| {
            v.as_deref()
                .is_none_or(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok())
        };
        let mac_ok =
            self.state.mac.as_deref().is_none_or(|m| {
                m.len() == 17 && m.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
            });
        let name_ok = self
            .name
            .as_deref()
            .is_none_or(|n| crate::spec::validate_name(n).is_ok());
        let ok = valid_full_id(&self.id)
            && self.id == dir_name
            && name_ok
            && self.name == self.spec.name
            && ip_ok(&self.state.ip)
            && ip_ok(&self.state.gateway)
            && mac_ok;
        ok.then_some(self)
    }
}

/// A full container id: 64 hex digits (what `random_id` makes), never a path.
pub fn valid_full_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Docker's human-readable durations (go-units HumanDuration), from nanoseconds.
pub fn human_duration(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let minutes = secs / 60;
    let hours = (secs as f64 / 3600.0).round() as u64;
    match secs {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// RFC 3339 in UTC with nanoseconds, as Docker prints times ("0001-01-01T00:00:00Z" for 0).
pub fn rfc3339(nanos: u64) -> String {
    if nanos == 0 {
        return "0001-01-01T00:00:00Z".into();
    }
    let secs = nanos / 1_000_000_000;
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        nanos % 1_000_000_000
    )
}

/// The records, under a layer root (default /var/lib/docker-run).
#[derive(Debug, Clone)]
pub struct RecordStore {
    root: PathBuf,
}

impl RecordStore {
    pub fn new(root: impl Into<PathBuf>) -> RecordStore {
        RecordStore { root: root.into() }
    }

    /// The container's directory (its record, log and layer).
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join("containers").join(id)
    }

    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).join(format!("{id}-json.log"))
    }

    /// Writes `rec` atomically, making its directory (0700) if needed.
    pub fn save(&self, rec: &ContainerRecord) -> Result<(), RecordError> {
        if !valid_full_id(&rec.id) {
            return Err(RecordError::NoSuchContainer(rec.id.clone()));
        }
        let dir = self.dir(&rec.id);
        for d in [&self.root, &self.root.join("containers"), &dir] {
            private_fs::create_dir_all(d).map_err(io_err(d))?;
        }
        let text = serde_json::to_vec(rec).map_err(|e| io_err(&dir)(e.into()))?;
        let tmp = dir.join(format!(".{RECORD_FILE}.tmp"));
        private_fs::create(&tmp)
            .and_then(|mut f| f.write_all(&text))
            .map_err(io_err(&tmp))?;
        let path = dir.join(RECORD_FILE);
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// The record of `id` if there is a valid one (see the module doc).
    pub fn load(&self, id: &str) -> Option<ContainerRecord> {
        if !valid_full_id(id) {
            return None;
        }
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.dir(id).join(RECORD_FILE))
            .ok()?;
        if !private_fs::is_trusted(&f.metadata().ok()?) {
            return None;
        }
        let mut text = Vec::new();
        f.read_to_end(&mut text).ok()?;
        serde_json::from_slice::<ContainerRecord>(&text)
            .ok()?
            .validated(id)
    }

    /// Every valid record, oldest first.
    pub fn list(&self) -> Vec<ContainerRecord> {
        let mut all: Vec<ContainerRecord> = fs::read_dir(self.root.join("containers"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| self.load(e.file_name().to_str()?))
            .collect();
        all.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        all
    }

    /// A container by name, full id or unique id prefix (at least 3 digits), as Docker finds
    /// them.
    pub fn find(&self, key: &str) -> Result<ContainerRecord, RecordError> {
        if let Some(rec) = self.load(key) {
            return Ok(rec);
        }
        let all = self.list();
        if let Some(rec) = all.iter().find(|r| r.name.as_deref() == Some(key)) {
            return Ok(rec.clone());
        }
        let hex = key.len() >= 3 && key.bytes().all(|b| b.is_ascii_hexdigit());
        let mut matches: Vec<ContainerRecord> = all
            .into_iter()
            .filter(|r| hex && r.id.starts_with(&key.to_ascii_lowercase()))
            .collect();
        match matches.len() {
            1 => Ok(matches.remove(0)),
            0 => Err(RecordError::NoSuchContainer(key.to_string())),
            count => Err(RecordError::Ambiguous {
                key: key.to_string(),
                count,
            }),
        }
    }

    /// Fails when a kept container's record (a stopped container keeps its name until it is
    /// removed, as in Docker) holds `name`. Running containers hold their names in the state
    /// directory (`state::Store::claim_name`); an auto-removed container's record holds none.
    pub fn check_name(&self, name: &str, id: &str) -> Result<(), RecordError> {
        match self
            .list()
            .into_iter()
            .find(|r| r.name.as_deref() == Some(name) && r.id != id && !r.spec.auto_remove)
        {
            Some(holder) => Err(RecordError::NameInUse {
                name: name.to_string(),
                holder: short_id(&holder.id).to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Leaves the marker that tells the monitor not to restart the container.
    pub fn mark_stop_requested(&self, id: &str) {
        let dir = self.dir(id);
        if valid_full_id(id) && dir.join(RECORD_FILE).exists() {
            let _ = private_fs::write(&dir.join(STOP_MARKER), b"");
        }
    }

    pub fn stop_requested(&self, id: &str) -> bool {
        valid_full_id(id) && self.dir(id).join(STOP_MARKER).exists()
    }

    pub fn clear_stop_request(&self, id: &str) {
        if valid_full_id(id) {
            let _ = fs::remove_file(self.dir(id).join(STOP_MARKER));
        }
    }

    /// Updates the record of `id` with `f`, if it has one.
    pub fn update(&self, id: &str, f: impl FnOnce(&mut ContainerRecord)) {
        if let Some(mut rec) = self.load(id) {
            f(&mut rec);
            let _ = self.save(&rec);
        }
    }
}

/// Exit codes of detached --rm containers, kept a while in /run so that `wait` can report one
/// whose record went with it: `<state root>/exits/<id>`.
pub mod exits {
    use std::path::Path;

    use super::valid_full_id;
    use crate::private_fs;

    /// How long an exit code is kept (removed by `cleanup` and by later writes after that).
    const KEEP_SECS: u64 = 600;

    pub fn write(state_root: &Path, id: &str, code: i32) {
        let dir = state_root.join("exits");
        if valid_full_id(id) && private_fs::create_dir_all(&dir).is_ok() {
            let _ = private_fs::write(&dir.join(id), code.to_string().as_bytes());
        }
    }

    pub fn read(state_root: &Path, id: &str) -> Option<i32> {
        if !valid_full_id(id) {
            return None;
        }
        let path = state_root.join("exits").join(id);
        let meta = std::fs::symlink_metadata(&path).ok()?;
        if !private_fs::is_trusted(&meta) {
            return None;
        }
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// Removes exit codes older than KEEP_SECS; how many.
    pub fn expire(state_root: &Path) -> usize {
        let mut removed = 0;
        let entries = std::fs::read_dir(state_root.join("exits"));
        for e in entries.into_iter().flatten().flatten() {
            let old = e
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > KEEP_SECS);
            let is_id = e.file_name().to_str().is_some_and(valid_full_id);
            if is_id && old && std::fs::remove_file(e.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests;
