//! The state directory (`--root`, default /run/container-runtime): one 0700 directory per
//! container holding `state.json` (0600) and, between create and start, the exec fifo.
//!
//! The runtime is a short-lived command, so the state is all there is between two commands.
//! Concurrent runtimes on the same root are serialised by locks: flock on the root directory
//! while a container directory is made or removed, and a POSIX record lock on the container's
//! `lock` file for each state change (shared for reads). The container's lock is a record lock
//! because those belong to the process, not to the descriptor: the container's init, cloned
//! from `create` while it holds the lock, shares its descriptors until it execs, and must not
//! keep the container locked while it waits for `start`. A lock taken on a file that was
//! removed meanwhile is noticed (its link count is 0) and reads as "does not exist".

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use container_runtime::private_fs;
use container_runtime::procfs::process_start_time;
use serde::{Deserialize, Serialize};

use crate::cgroup::CgroupDir;
use crate::error::Fail;

pub const DEFAULT_ROOT: &str = "/run/container-runtime";
pub const OCI_VERSION: &str = "1.0.2";
const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
pub const FIFO: &str = "exec.fifo";

/// What the runtime remembers of a container between commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub id: String,
    /// The container's init (the process create left behind), and its start time in clock
    /// ticks since boot: a pid alone could be reused by then.
    pub pid: i32,
    pub start_time: u64,
    pub bundle: String,
    pub rootfs: String,
    /// RFC 3339, as runc reports it.
    pub created: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The container's own cgroups (every hierarchy it does not share with the runtime).
    #[serde(default)]
    pub cgroups: Vec<CgroupDir>,
    /// The freezer cgroup directories the front end made (the core places the container in
    /// no freezer cgroup), deepest first; removed at delete while empty.
    #[serde(default)]
    pub own_freezer: Vec<PathBuf>,
    /// What the core needs to remove the container's resources at delete.
    #[serde(default)]
    pub core: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// The OCI state, with runc's `rootfs`, `created` and `owner`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState<'a> {
    pub oci_version: &'static str,
    pub id: &'a str,
    pub pid: i32,
    pub status: &'static str,
    pub bundle: &'a str,
    pub rootfs: &'a str,
    pub created: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: &'a BTreeMap<String, String>,
    pub owner: &'static str,
}

/// runc's rule for container ids; also keeps them valid as file names.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b))
}

/// The state root, made (0700, owned by us) when missing.
#[derive(Debug)]
pub struct Root {
    path: PathBuf,
}

/// An flock held on the root directory until dropped (never across a clone: see the module
/// doc).
#[derive(Debug)]
struct DirLock {
    _file: File,
}

impl DirLock {
    fn take(dir: &Path) -> std::io::Result<DirLock> {
        let f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir)?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DirLock { _file: f })
    }
}

/// A POSIX record lock on a container's lock file, held until dropped (closing the file
/// releases it).
#[derive(Debug)]
struct FileLock(File);

impl FileLock {
    fn take(dir: &Path, exclusive: bool) -> std::io::Result<FileLock> {
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(private_fs::FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir.join(LOCK_FILE))?;
        let kind = if exclusive {
            libc::F_WRLCK
        } else {
            libc::F_RDLCK
        };
        // SAFETY: a zeroed flock is valid; the fields set are the whole file's range.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = kind as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        loop {
            // SAFETY: fcntl on a descriptor we own with a valid flock.
            if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLKW, &fl) } == 0 {
                return Ok(FileLock(f));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    fn removed(&self) -> bool {
        self.0.metadata().map_or(true, |m| m.nlink() == 0)
    }
}

/// A container's directory, locked.
#[derive(Debug)]
pub struct Entry {
    pub id: String,
    pub dir: PathBuf,
    _lock: FileLock,
}

impl Root {
    pub fn open(path: &Path) -> Result<Root, Fail> {
        private_fs::secure_root(path)
            .map_err(|e| Fail::io(format!("state root {}", path.display()), e))?;
        Ok(Root {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn checked_dir(&self, id: &str) -> Result<PathBuf, Fail> {
        if !valid_id(id) {
            return Err(Fail::msg("invalid container ID format"));
        }
        Ok(self.path.join(id))
    }

    /// A new container's directory, locked; fails when the id is taken.
    pub fn create(&self, id: &str) -> Result<Entry, Fail> {
        let dir = self.checked_dir(id)?;
        let _root = DirLock::take(&self.path).map_err(|e| Fail::io("lock state root", e))?;
        match fs::symlink_metadata(&dir) {
            Ok(_) => return Err(Fail::msg("container with given ID already exists")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Fail::io(dir.display().to_string(), e)),
        }
        private_fs::create_dir_all(&dir).map_err(|e| Fail::io(dir.display().to_string(), e))?;
        let lock = FileLock::take(&dir, true).map_err(|e| Fail::io("lock container", e))?;
        Ok(Entry {
            id: id.to_string(),
            dir,
            _lock: lock,
        })
    }

    /// An existing container's directory, locked (shared for reads).
    pub fn lock(&self, id: &str, exclusive: bool) -> Result<Entry, Fail> {
        let dir = self.checked_dir(id)?;
        let lock = match FileLock::take(&dir, exclusive) {
            Ok(l) if !l.removed() => l,
            Ok(_) => return Err(Fail::not_exist()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Err(Fail::not_exist()),
            Err(e) => return Err(Fail::io(dir.display().to_string(), e)),
        };
        if !dir.join(STATE_FILE).exists() {
            // A create that failed half-way leaves nothing; one in progress holds the lock.
            return Err(Fail::not_exist());
        }
        Ok(Entry {
            id: id.to_string(),
            dir,
            _lock: lock,
        })
    }

    /// The directory of a create that died half-way (no state.json), locked: None when there
    /// is none. The root lock, taken and released first, waits for a create that is making its
    /// directory; one that has made it holds the container's lock until it ends, so the lock
    /// here waits for it (and then finds its state, and returns None).
    pub fn lock_stale(&self, id: &str) -> Result<Option<Entry>, Fail> {
        let dir = self.checked_dir(id)?;
        drop(DirLock::take(&self.path).map_err(|e| Fail::io("lock state root", e))?);
        let lock = match FileLock::take(&dir, true) {
            Ok(l) if !l.removed() => l,
            Ok(_) => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(Fail::io(dir.display().to_string(), e)),
        };
        if dir.join(STATE_FILE).exists() {
            return Ok(None);
        }
        Ok(Some(Entry {
            id: id.to_string(),
            dir,
            _lock: lock,
        }))
    }

    /// The ids of every container directory, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| valid_id(id))
            .collect();
        ids.sort();
        ids
    }

    /// Removes an entry's directory (and whatever is left in it) under the root lock.
    pub fn remove(&self, entry: Entry) -> Result<(), Fail> {
        let _root = DirLock::take(&self.path).map_err(|e| Fail::io("lock state root", e))?;
        fs::remove_dir_all(&entry.dir)
            .map_err(|e| Fail::io(format!("remove {}", entry.dir.display()), e))
    }
}

impl Entry {
    pub fn fifo(&self) -> PathBuf {
        self.dir.join(FIFO)
    }

    /// The saved state: a trusted file (ours, 0600, not a symlink) naming this id.
    pub fn load(&self) -> Result<Saved, Fail> {
        let path = self.dir.join(STATE_FILE);
        let bad = |why: String| Fail::msg(format!("state {}: {why}", path.display()));
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| bad(container_runtime::error::Error::io(&path, e).to_string()))?;
        let meta = f.metadata().map_err(|e| bad(e.to_string()))?;
        if !private_fs::is_trusted(&meta) {
            return Err(bad("not a file only root can write: ignored".into()));
        }
        let mut text = String::new();
        f.read_to_string(&mut text)
            .map_err(|e| bad(e.to_string()))?;
        let saved: Saved = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if saved.id != self.id || saved.pid <= 0 {
            return Err(bad("does not describe this container".into()));
        }
        Ok(saved)
    }

    /// Writes the state atomically (temp file + rename).
    pub fn save(&self, saved: &Saved) -> Result<(), Fail> {
        let tmp = self.dir.join(".state.json.tmp");
        let text = serde_json::to_vec(saved).map_err(|e| Fail::msg(e.to_string()))?;
        let write = || -> std::io::Result<()> {
            let mut f = private_fs::create(&tmp)?;
            f.write_all(&text)?;
            fs::rename(&tmp, self.dir.join(STATE_FILE))
        };
        write().map_err(|e| Fail::io(format!("save state in {}", self.dir.display()), e))
    }

    /// Where the container is in its life, from its init process, the exec fifo (there until
    /// start) and the freezer.
    pub fn status(&self, saved: &Saved) -> Status {
        if process_start_time(saved.pid) != Some(saved.start_time) {
            Status::Stopped
        } else if crate::cgroup::is_frozen(saved) {
            Status::Paused
        } else if self.fifo().exists() {
            Status::Created
        } else {
            Status::Running
        }
    }
}

impl Saved {
    /// The OCI state of this container in `status`.
    pub fn oci_state(&self, status: Status) -> OciState<'_> {
        OciState {
            oci_version: OCI_VERSION,
            id: &self.id,
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status: status.as_str(),
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            annotations: &self.annotations,
            owner: "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_as_runc_allows_them() {
        for ok in ["a", "abc-1.2_3+x", &"f".repeat(64)] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "ä", "a\n"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn create_lock_save_load_remove() {
        let tmp = std::env::temp_dir().join(format!("cr-state-{}", std::process::id()));
        let root = Root::open(&tmp).unwrap();
        assert_eq!(fs::metadata(&tmp).unwrap().mode() & 0o7777, 0o700);
        let e = root.create("c1").unwrap();
        assert!(root.create("c1").is_err(), "an id is taken once");
        let saved = Saved {
            id: "c1".into(),
            pid: std::process::id() as i32,
            start_time: process_start_time(std::process::id() as i32).unwrap(),
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-01-01T00:00:00Z".into(),
            annotations: BTreeMap::new(),
            cgroups: Vec::new(),
            own_freezer: Vec::new(),
            core: serde_json::Value::Null,
        };
        e.save(&saved).unwrap();
        assert_eq!(e.status(&saved), Status::Running);
        assert_eq!(e.load().unwrap().bundle, "/b");
        drop(e);
        let e = root.lock("c1", false).unwrap();
        assert!(
            matches!(root.lock("nope", false), Err(f) if f.to_string() == "container does not exist")
        );
        root.remove(e).unwrap();
        assert!(root.lock("c1", true).is_err());
        assert_eq!(root.ids(), Vec::<String>::new());
        fs::remove_dir_all(&tmp).unwrap();
    }
}
