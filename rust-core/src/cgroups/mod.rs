//! Resource limits on cgroup v1 and v2 behind one interface.
//!
//! [`detect`] finds the host's layout by filesystem magic; [`Cgroup`] wraps a [`Manager`] (the
//! v1 or v2 backend) for one container. Container cgroups live under a parent of our own at an
//! absolute path: `<root>/<controller>/docker-run/<name>` on v1 (Legacy and Hybrid layouts),
//! `<root>/docker-run/<name>` on v2. Limits use portable names (see [`Key`]) parsed by
//! [`set_limit`].

mod detect;
mod resources;
mod v1;
mod v2;

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use detect::{DEFAULT_ROOT, Layout, detect, layout_from_magic};
pub use resources::{
    DEFAULT_CPU_ONLINE, DEFAULT_CPU_PERIOD, DEFAULT_NODE_ONLINE, HostInfo, Key, MIN_MEMORY,
    Resources, ThrottleDevice, blkio_to_io_weight, io_to_blkio_weight, parse_size, set_limit,
    set_limit_on, shares_to_weight, weight_to_shares,
};
pub use v1::V1Manager;
pub use v2::V2Manager;

/// The directory, in every hierarchy, that holds our container cgroups.
pub const PARENT: &str = "docker-run";

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup name '{0}'")]
    InvalidName(String),
    #[error("memory-swap {0} needs a memory limit as well")]
    SwapWithoutMemory(i64),
    #[error("memory-swap {swap} is below memory {memory}: it counts memory plus swap")]
    SwapBelowMemory { swap: i64, memory: i64 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A limit value that does not parse or is out of range; nothing was changed.
    #[error("invalid value '{value}' for {key}: {reason}")]
    InvalidValue {
        key: String,
        value: String,
        reason: String,
    },
    #[error("unknown limit '{key}' (valid: {valid})")]
    UnknownKey { key: String, valid: String },
    #[error("cgroup controller '{0}' not available on this host")]
    ControllerMissing(String),
    /// The controller exists but lacks the file for this feature (e.g. swap accounting off).
    #[error("{what} not supported on this host: {why}")]
    NotSupported { what: String, why: String },
    #[error("writing '{value}' to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        source: std::io::Error,
    },
    #[error("{path}: unrecognized cgroup filesystem (magic {magic:#x})")]
    UnknownLayout { path: PathBuf, magic: i64 },
    #[error("{path}: unexpected content '{content}'")]
    Parse { path: PathBuf, content: String },
    #[error("unknown stat {0:?}: use memory.usage, memory.peak, cpu.usage or pids.current")]
    UnknownStat(String),
    #[error("stat {0} is not available on this host")]
    StatUnavailable(&'static str),
}

impl CgroupError {
    pub(crate) fn not_supported(what: impl Into<String>, why: impl Into<String>) -> Self {
        CgroupError::NotSupported {
            what: what.into(),
            why: why.into(),
        }
    }

    pub fn errno(&self) -> Option<i32> {
        match self {
            CgroupError::Io { source, .. } | CgroupError::Write { source, .. } => {
                source.raw_os_error()
            }
            CgroupError::InvalidName(_)
            | CgroupError::SwapWithoutMemory(_)
            | CgroupError::SwapBelowMemory { .. }
            | CgroupError::InvalidValue { .. }
            | CgroupError::UnknownKey { .. }
            | CgroupError::ControllerMissing(_)
            | CgroupError::NotSupported { .. }
            | CgroupError::UnknownLayout { .. }
            | CgroupError::Parse { .. }
            | CgroupError::UnknownStat(_)
            | CgroupError::StatUnavailable(_) => None,
        }
    }
}

pub type Result<T, E = CgroupError> = std::result::Result<T, E>;

/// Usage counters; `None` where this host lacks the file (e.g. memory.peak before Linux 5.19).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes in use (v1 memory.usage_in_bytes, v2 memory.current).
    pub memory_usage: Option<u64>,
    /// Highest usage seen (v1 memory.max_usage_in_bytes, v2 memory.peak).
    pub memory_peak: Option<u64>,
    /// CPU time in nanoseconds (v1 cpuacct.usage, v2 cpu.stat usage_usec * 1000).
    pub cpu_usage_ns: Option<u64>,
    /// Tasks in the cgroup (pids.current).
    pub pids_current: Option<u64>,
}

impl Stats {
    /// A counter by its C API name: "memory.usage", "memory.peak", "cpu.usage", "pids.current".
    pub fn get(&self, name: &str) -> Result<u64> {
        let (name, value) = match name {
            "memory.usage" => ("memory.usage", self.memory_usage),
            "memory.peak" => ("memory.peak", self.memory_peak),
            "cpu.usage" => ("cpu.usage", self.cpu_usage_ns),
            "pids.current" => ("pids.current", self.pids_current),
            other => return Err(CgroupError::UnknownStat(other.to_string())),
        };
        value.ok_or(CgroupError::StatUnavailable(name))
    }
}

/// One container's cgroup in one backend (youki's `CgroupManager`, crun's manager table).
pub trait Manager: fmt::Debug + Send + Sync {
    /// This cgroup's directories (one per v1 hierarchy, one on v2).
    fn paths(&self) -> Vec<PathBuf>;
    /// The `cgroup.procs` files a process must be written to in order to join.
    fn procs_files(&self) -> Vec<PathBuf>;
    fn add_pid(&self, pid: i32) -> Result<()>;
    /// Fails with a clear error when `key` cannot be used with this cgroup on this host.
    fn check_key(&self, key: Key) -> Result<()>;
    /// Writes every field that is set; fields left `None` are not touched.
    fn apply(&self, res: &Resources) -> Result<()>;
    /// Reads the limits back; `None` where the host lacks the controller or file.
    fn current(&self) -> Result<Resources>;
    fn stats(&self) -> Result<Stats>;
    /// True if the kernel's OOM killer killed a task of this cgroup.
    fn oom_killed(&self) -> bool;
    /// True when a device allow-list is enforced (v1 devices controller).
    fn restricts_devices(&self) -> bool;
    /// Removes every directory; idempotent.
    fn remove(&mut self) -> Result<()>;
}

/// Called after each directory this module creates; the kernel populates it with interface
/// files, fake trees in tests do it by hand.
pub(crate) type MkdirHook<'a> = &'a dyn Fn(&Path) -> std::io::Result<()>;

/// A container's cgroup. Dropping a created one removes it (best effort); [`Cgroup::commit`]
/// disarms that, [`Cgroup::remove`] reports errors. An opened one is never removed by drop.
#[derive(Debug)]
pub struct Cgroup {
    name: String,
    layout: Layout,
    mgr: Box<dyn Manager>,
    owned: bool,
}

/// Where container cgroups are made: a cgroup root and its layout, detected at use unless
/// given. Passed in, so that tests and other hosts can point elsewhere.
#[derive(Debug, Clone)]
pub struct Root {
    path: PathBuf,
    layout: Option<Layout>,
    /// Fills a new directory with interface files, as the kernel does (fake trees in tests).
    populate: Option<fn(&Path) -> std::io::Result<()>>,
}

impl Default for Root {
    fn default() -> Self {
        Root::new(DEFAULT_ROOT)
    }
}

impl Root {
    /// A cgroup root whose layout is detected when a cgroup is made or opened.
    pub fn new(path: impl Into<PathBuf>) -> Root {
        Root {
            path: path.into(),
            layout: None,
            populate: None,
        }
    }

    /// A cgroup root of a known layout.
    pub fn with_layout(path: impl Into<PathBuf>, layout: Layout) -> Root {
        Root {
            layout: Some(layout),
            ..Root::new(path)
        }
    }

    /// A directory tree shaped like a cgroup root, whose new directories `populate` fills.
    #[cfg(test)]
    pub(crate) fn fake(
        path: impl Into<PathBuf>,
        layout: Layout,
        populate: fn(&Path) -> std::io::Result<()>,
    ) -> Root {
        let root = Root {
            populate: Some(populate),
            ..Root::with_layout(path, layout)
        };
        fake_fs::register(&root.path);
        root
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn layout(&self) -> Result<Layout> {
        match self.layout {
            Some(l) => Ok(l),
            None => detect(&self.path),
        }
    }
}

impl Cgroup {
    /// Creates `name` under `root` with the limits in `res`. Fails, leaving nothing behind,
    /// when a controller the limits need is missing, a value is refused, or the cgroup exists.
    pub fn create(root: &Root, name: &str, res: &Resources) -> Result<Cgroup> {
        let populate = |dir: &Path| root.populate.map_or(Ok(()), |f| f(dir));
        Cgroup::create_with(&root.path, root.layout()?, name, res, &populate)
    }

    pub(crate) fn create_with(
        root: &Path,
        layout: Layout,
        name: &str,
        res: &Resources,
        hook: MkdirHook<'_>,
    ) -> Result<Cgroup> {
        check_name(name)?;
        res.validate()?;
        if !res.unified.is_empty() && !layout.is_v2() {
            return Err(CgroupError::not_supported(
                "unified (cgroup v2 files)",
                "this host's cgroups are v1",
            ));
        }
        let mgr: Box<dyn Manager> = if layout.is_v2() {
            Box::new(V2Manager::create(root, name, res, hook)?)
        } else {
            Box::new(V1Manager::create(root, name, res, hook)?)
        };
        Ok(Cgroup {
            name: name.to_string(),
            layout,
            mgr,
            owned: true,
        })
    }

    /// Attaches to the existing cgroup of container `name` (for update/stats from another
    /// process). Dropping the handle leaves the cgroup in place.
    pub fn open(root: &Root, name: &str) -> Result<Cgroup> {
        Cgroup::open_with(&root.path, root.layout()?, name)
    }

    pub(crate) fn open_with(root: &Path, layout: Layout, name: &str) -> Result<Cgroup> {
        check_name(name)?;
        let mgr: Box<dyn Manager> = if layout.is_v2() {
            Box::new(V2Manager::open(root, name)?)
        } else {
            Box::new(V1Manager::open(root, name)?)
        };
        Ok(Cgroup {
            name: name.to_string(),
            layout,
            mgr,
            owned: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn paths(&self) -> Vec<PathBuf> {
        self.mgr.paths()
    }

    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.mgr.procs_files()
    }

    /// Moves process `pid` (all its threads) into this cgroup on every controller.
    pub fn add_pid(&self, pid: i32) -> Result<()> {
        self.mgr.add_pid(pid)
    }

    pub fn restricts_devices(&self) -> bool {
        self.mgr.restricts_devices()
    }

    /// Changes one limit on a live cgroup (like `docker update`), parsed as by [`set_limit`].
    ///
    /// Raising or lowering "memory" alone keeps the swap allowance (memory-swap minus memory)
    /// on both versions: v1 rewrites memory.memsw.limit_in_bytes in the order the kernel
    /// accepts, v2 leaves memory.swap.max alone.
    pub fn set(&self, key: &str, value: &str) -> Result<()> {
        self.set_on(&HostInfo::default(), key, value)
    }

    pub(crate) fn set_on(&self, host: &HostInfo, key: &str, value: &str) -> Result<()> {
        let key = Key::parse(key)?;
        self.mgr.check_key(key)?;
        let before = self.mgr.current()?;
        let mut cur = before.clone();
        let mut swap_part = None;
        if key == Key::Memory {
            if let (Some(m), Some(sw)) = (before.memory, before.memory_swap) {
                if m != -1 && sw != -1 {
                    swap_part = Some(sw - m);
                }
            }
            cur.memory_swap = None;
        }
        resources::set_key(host, &mut cur, key, value)?;
        let mut delta = Resources::default();
        match key {
            Key::Memory => {
                delta.memory = cur.memory;
                delta.memory_swap = match (cur.memory, swap_part) {
                    (Some(-1), Some(_)) => Some(-1),
                    (Some(m), Some(part)) => Some(m.saturating_add(part)),
                    _ => None,
                };
            }
            Key::MemorySwap => {
                cur.validate()?;
                delta.memory_swap = cur.memory_swap;
            }
            Key::Cpus => {
                delta.cpu_quota = cur.cpu_quota;
                delta.cpu_period = cur.cpu_period;
            }
            Key::CpuPeriod => delta.cpu_period = cur.cpu_period,
            Key::CpuQuota => delta.cpu_quota = cur.cpu_quota,
            Key::CpuShares => delta.cpu_shares = cur.cpu_shares,
            Key::CpusetCpus => delta.cpuset_cpus = cur.cpuset_cpus,
            Key::CpusetMems => delta.cpuset_mems = cur.cpuset_mems,
            Key::PidsLimit => delta.pids_limit = cur.pids_limit,
            Key::BlkioWeight => delta.blkio_weight = cur.blkio_weight,
            Key::DeviceReadBps => delta.device_read_bps = cur.device_read_bps,
            Key::DeviceWriteBps => delta.device_write_bps = cur.device_write_bps,
        }
        self.mgr.apply(&delta)
    }

    /// The current value of one limit in the form [`set_limit`] accepts; "-1" for unlimited,
    /// device lists as "MAJ:MIN RATE" lines.
    pub fn get(&self, key: &str) -> Result<String> {
        let key = Key::parse(key)?;
        self.mgr.check_key(key)?;
        self.mgr
            .current()?
            .format(key)
            .ok_or_else(|| CgroupError::not_supported(key.as_str(), "its file is missing"))
    }

    /// All limits as read back from the cgroup files.
    pub fn resources(&self) -> Result<Resources> {
        self.mgr.current()
    }

    pub fn stats(&self) -> Result<Stats> {
        self.mgr.stats()
    }

    pub fn oom_killed(&self) -> bool {
        self.mgr.oom_killed()
    }

    /// Keeps the cgroup when this handle is dropped (the container outlives us).
    pub fn commit(&mut self) {
        self.owned = false;
    }

    /// Removes every directory of this cgroup (retrying briefly while exiting tasks leave).
    /// The shared `docker-run` parent stays.
    pub fn remove(mut self) -> Result<()> {
        self.owned = false;
        self.mgr.remove()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.mgr.remove();
        }
    }
}

/// Where container `name`'s directory is under one hierarchy mounted at `mount`, and the
/// directories above it that this module creates when missing (top first): by default
/// `docker-run/<name>`; a name that starts with '/' is an absolute cgroup path (OCI
/// cgroupsPath), made as given under each hierarchy.
pub(crate) fn location(mount: &Path, name: &str) -> (Vec<PathBuf>, PathBuf) {
    match name.strip_prefix('/') {
        Some(path) => {
            let dir = mount.join(path);
            let mut parents: Vec<PathBuf> = dir
                .ancestors()
                .skip(1)
                .take_while(|p| p.starts_with(mount) && *p != mount)
                .map(Path::to_path_buf)
                .collect();
            parents.reverse();
            (parents, dir)
        }
        None => (vec![mount.join(PARENT)], mount.join(PARENT).join(name)),
    }
}

fn check_name(name: &str) -> Result<()> {
    if let Some(path) = name.strip_prefix('/') {
        let ok = !path.is_empty()
            && name.len() <= 4096
            && !name.contains(['\0', '\n'])
            && path
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        return if ok {
            Ok(())
        } else {
            Err(CgroupError::InvalidName(name.to_string()))
        };
    }
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 200
        || name.contains(['/', '\0', '\n'])
    {
        return Err(CgroupError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// Writes `value` to an existing cgroup file in a single write (no O_CREAT, as on cgroupfs).
pub(crate) fn write_file(path: &Path, value: &str) -> Result<()> {
    let err = |source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(err)?;
    f.write_all(value.as_bytes()).map_err(err)
}

pub(crate) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Like [`read_file`], but a missing file is `None`.
pub(crate) fn read_opt(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CgroupError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub(crate) fn parse_err(path: &Path, content: &str) -> CgroupError {
    CgroupError::Parse {
        path: path.to_path_buf(),
        content: content.trim().to_string(),
    }
}

/// A single number file; `None` when the file is missing.
pub(crate) fn read_u64(path: &Path) -> Result<Option<u64>> {
    read_opt(path)?
        .map(|s| s.trim().parse::<u64>().map_err(|_| parse_err(path, &s)))
        .transpose()
}

/// The value of `key` in a flat keyed file ("key value" lines: memory.events, cpu.stat).
pub(crate) fn read_keyed(path: &Path, key: &str) -> Result<Option<u64>> {
    let Some(s) = read_opt(path)? else {
        return Ok(None);
    };
    for line in s.lines() {
        if let Some((k, v)) = line.split_once(' ') {
            if k == key {
                return v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| parse_err(path, line));
            }
        }
    }
    Ok(None)
}

/// Creates a directory; returns false when it already existed.
pub(crate) fn mkdir(path: &Path, hook: MkdirHook<'_>) -> Result<bool> {
    let io = |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::create_dir(path) {
        Ok(()) => {
            hook(path).map_err(io)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io(e)),
    }
}

/// Fake cgroup trees (`Root::fake`) behave like cgroupfs, whose rmdir takes a directory's
/// interface files with it: theirs are removed by hand before the rmdir.
#[cfg(test)]
pub(crate) mod fake_fs {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    pub(crate) fn register(root: &Path) {
        ROOTS.lock().unwrap().push(root.to_path_buf());
    }

    /// Removes the plain files in `dir` if it is under a fake root.
    pub(crate) fn clear(dir: &Path) {
        if ROOTS.lock().unwrap().iter().any(|r| dir.starts_with(r)) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.path().is_file() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }
}

/// Removes a cgroup directory, retrying for about a second while the kernel still counts
/// exiting tasks (EBUSY). A missing directory is fine.
pub(crate) fn rmdir(path: &Path) -> Result<()> {
    // Exiting tasks usually leave within a millisecond: start short, back off to 50 ms.
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_micros(250);
    #[cfg(test)]
    fake_fs::clear(path);
    loop {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && waited < Duration::from_secs(1) => {
                std::thread::sleep(pause);
                waited += pause;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(source) => {
                return Err(CgroupError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
