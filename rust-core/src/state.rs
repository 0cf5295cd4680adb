//! The state directory: one record per running container under /run/docker-run, so that
//! containers can be listed and managed from another process (`docker-run ps`, `exec`, `stop`).
//!
//! Layout: `<root>/containers/<id>` (a key=value file), `<root>/names/<name>` (a symlink to
//! the id), `<root>/files/<id>/` (files bound into the container: hosts, resolv.conf) and
//! `<root>/leases/<bridge>/` (address leases, see `net::ipam`). A record whose process is gone
//! (or whose pid was reused: the start time differs) is stale; `cleanup` removes it together
//! with the container's cgroup.
//!
//! Everything here is root's alone: the root is 0700 and ours (reset if an older version made it
//! 0755, refused if someone else owns it), directories below 0700 and files 0600 whatever the
//! umask (`private_fs`). Nothing read back is trusted as is: a record must be a regular file of
//! ours that no one else can write, its id hex and the same as its file name, its pid positive,
//! its name, address and bridge well-formed; a name must link to such an id. Anything else is
//! ignored, as if absent: `kill`, `exec` and `cleanup` act only on valid records (and `kill` and
//! `exec` then prove the process is the container's: container/state.rs).

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::private_fs;
use crate::spec::Seccomp;

use crate::errno::os_message;
use crate::procfs::process_start_time;

pub const DEFAULT_ROOT: &str = "/run/docker-run";

/// Finding, claiming or writing a container's record.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("{key} matches {count} containers: use more of the id")]
    Ambiguous { key: String, count: usize },
    /// `holder` is the short id of the live container holding the name.
    #[error("the container name {name:?} is already in use by container {holder}")]
    NameInUse { name: String, holder: String },
    #[error("container {0} is still starting")]
    Starting(String),
    /// The copy of a container's seccomp profile kept for its execs is not the one recorded.
    #[error("container {id}: its seccomp profile {}: {reason}", path.display())]
    SeccompProfile {
        id: String,
        path: PathBuf,
        reason: ProfileProblem,
    },
    #[error("{}: {}", path.display(), os_message(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            StoreError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// What is wrong with the kept copy of a container's seccomp profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    #[error("is missing or cannot be read")]
    Unreadable,
    #[error("is not a file of root's that only root can write")]
    Untrusted,
    #[error("was changed after the container started (its digest differs from the record's)")]
    Changed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The seccomp filter a container's processes got, in its record, so that an exec started by
/// another process (from the record) gets the same one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SeccompPolicy {
    /// Docker's default profile (also what records written before this field mean).
    #[default]
    Default,
    Unconfined,
    /// A profile file: the sha256 (hex) of its copy in the container's files directory.
    Profile(String),
}

impl SeccompPolicy {
    /// The policy of a spec's filter.
    pub fn of(seccomp: &Seccomp) -> SeccompPolicy {
        match seccomp {
            Seccomp::DockerDefault => SeccompPolicy::Default,
            Seccomp::Unconfined => SeccompPolicy::Unconfined,
            Seccomp::DockerJson(bytes) => SeccompPolicy::Profile(sha256_hex(bytes)),
        }
    }

    fn to_text(&self) -> String {
        match self {
            SeccompPolicy::Default => "default".into(),
            SeccompPolicy::Unconfined => "unconfined".into(),
            SeccompPolicy::Profile(digest) => format!("profile:{digest}"),
        }
    }

    fn from_text(v: &str) -> Option<SeccompPolicy> {
        match v {
            "default" => Some(SeccompPolicy::Default),
            "unconfined" => Some(SeccompPolicy::Unconfined),
            _ => {
                let digest = v.strip_prefix("profile:")?;
                let hex = digest.len() == 64
                    && digest
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                hex.then(|| SeccompPolicy::Profile(digest.to_string()))
            }
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name of the profile's copy in a container's files directory.
const SECCOMP_FILE: &str = "seccomp.json";

/// Whether `id` can be a container id: 1 to 64 hex digits (a full id is 64), so never a path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A bridge name as the runtime makes them (`net::validate_bridge_name` checks what users give).
fn valid_bridge(name: &str) -> bool {
    (1..16).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name != "."
        && name != ".."
}

/// The 12-digit form of an id that Docker shows.
pub fn short_id(id: &str) -> &str {
    &id[..12.min(id.len())]
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub id: String,
    pub name: Option<String>,
    pub pid: i32,
    /// Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22).
    pub start_time: u64,
    /// Seconds since the epoch.
    pub created: u64,
    pub command: String,
    pub hostname: String,
    pub ip: Option<String>,
    pub bridge: Option<String>,
    /// Still starting: `pid` is the starting process, not yet the container's.
    pub starting: bool,
    pub seccomp: SeccompPolicy,
    /// The id ("sha256:...") of the image the container runs, if it runs one.
    pub image: Option<String>,
    /// The cgroup's absolute path when the spec gave one (OCI cgroupsPath); None: by id.
    pub cgroup: Option<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

impl Record {
    /// True while the recorded process runs (and is the same process, not a reused pid).
    pub fn is_alive(&self) -> bool {
        self.pid > 0 && process_start_time(self.pid) == Some(self.start_time)
    }

    fn to_text(&self) -> String {
        let mut s = format!(
            "id={}\nstarting={}\nseccomp={}\npid={}\nstart_time={}\ncreated={}\nhostname={}\ncommand={}\n",
            self.id,
            u8::from(self.starting),
            self.seccomp.to_text(),
            self.pid,
            self.start_time,
            self.created,
            self.hostname,
            self.command.replace('\n', " ")
        );
        for (k, v) in [
            ("name", &self.name),
            ("ip", &self.ip),
            ("bridge", &self.bridge),
            ("image", &self.image),
            ("cgroup", &self.cgroup),
        ] {
            if let Some(v) = v {
                s.push_str(&format!("{k}={v}\n"));
            }
        }
        s
    }

    /// Parses and validates a record; None for anything malformed.
    fn from_text(text: &str) -> Option<Record> {
        let mut r = Record::default();
        for line in text.lines() {
            let (k, v) = line.split_once('=')?;
            match k {
                "id" => r.id = v.to_string(),
                "starting" => r.starting = v == "1",
                "seccomp" => r.seccomp = SeccompPolicy::from_text(v)?,
                "name" => r.name = Some(v.to_string()),
                "pid" => r.pid = v.parse().ok()?,
                "start_time" => r.start_time = v.parse().ok()?,
                "created" => r.created = v.parse().ok()?,
                "hostname" => r.hostname = v.to_string(),
                "command" => r.command = v.to_string(),
                "ip" => r.ip = Some(v.to_string()),
                "bridge" => r.bridge = Some(v.to_string()),
                "image" => r.image = Some(v.to_string()),
                "cgroup" => r.cgroup = Some(v.to_string()),
                _ => {}
            }
        }
        let name_ok = r
            .name
            .as_deref()
            .is_none_or(|n| crate::spec::validate_name(n).is_ok());
        let ip_ok =
            r.ip.as_deref()
                .is_none_or(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok());
        let bridge_ok = r.bridge.as_deref().is_none_or(valid_bridge);
        let image_ok = r.image.as_deref().is_none_or(|i| {
            i.strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        });
        let cgroup_ok = r.cgroup.as_deref().is_none_or(|c| {
            c.starts_with('/') && !c.split('/').any(|p| p == "..") && !c.contains('\0')
        });
        let ok =
            valid_id(&r.id) && r.pid > 0 && name_ok && ip_ok && bridge_ok && cgroup_ok && image_ok;
        ok.then_some(r)
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(DEFAULT_ROOT)
    }
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a container's own files (bound into it: hosts, resolv.conf).
    pub fn files_dir(&self, id: &str) -> PathBuf {
        self.root.join("files").join(id)
    }

    /// Makes the state root (0700, ours; see the module doc) if needed, and checks it.
    pub fn secure(&self) -> Result<()> {
        private_fs::secure_root(&self.root).map_err(io_err(&self.root))
    }

    /// Creates [`Store::files_dir`] (0700) for a valid id.
    pub fn create_files_dir(&self, id: &str) -> Result<PathBuf> {
        self.secure()?;
        let dir = self.files_dir(id);
        if !valid_id(id) {
            return Err(StoreError::NoSuchContainer(id.to_string()));
        }
        private_fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(dir)
    }

    /// Keeps a copy of the container's seccomp profile file (if it has one) in its files
    /// directory, for the execs that other processes start from its record.
    pub fn save_seccomp_profile(&self, id: &str, seccomp: &Seccomp) -> Result<()> {
        let Seccomp::DockerJson(bytes) = seccomp else {
            return Ok(());
        };
        let path = self.create_files_dir(id)?.join(SECCOMP_FILE);
        private_fs::write(&path, bytes).map_err(io_err(&path))
    }

    /// The filter `rec` says its container's processes got: for a profile file, the kept copy,
    /// which must be root's alone and match the recorded digest.
    pub fn recorded_seccomp(&self, rec: &Record) -> Result<Seccomp> {
        let digest = match &rec.seccomp {
            SeccompPolicy::Default => return Ok(Seccomp::DockerDefault),
            SeccompPolicy::Unconfined => return Ok(Seccomp::Unconfined),
            SeccompPolicy::Profile(digest) => digest,
        };
        let path = self.files_dir(&rec.id).join(SECCOMP_FILE);
        let problem = |reason| StoreError::SeccompProfile {
            id: short_id(&rec.id).to_string(),
            path: path.clone(),
            reason,
        };
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|_| problem(ProfileProblem::Unreadable))?;
        let meta = f
            .metadata()
            .map_err(|_| problem(ProfileProblem::Unreadable))?;
        if !private_fs::is_trusted(&meta) {
            return Err(problem(ProfileProblem::Untrusted));
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(|_| problem(ProfileProblem::Unreadable))?;
        if sha256_hex(&bytes) != *digest {
            return Err(problem(ProfileProblem::Changed));
        }
        Ok(Seccomp::DockerJson(bytes.into()))
    }

    /// Where address leases live, one directory per bridge.
    pub fn leases_root(&self) -> PathBuf {
        self.root.join("leases")
    }

    fn containers(&self) -> PathBuf {
        self.root.join("containers")
    }

    fn names(&self) -> PathBuf {
        self.root.join("names")
    }

    /// Claims `name` for `id`: fails when a live container holds it; takes over a stale one.
    pub fn claim_name(&self, name: &str, id: &str) -> Result<()> {
        self.secure()?;
        let dir = self.names();
        private_fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let link = dir.join(name);
        loop {
            match std::os::unix::fs::symlink(id, &link) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = fs::read_link(&link)
                        .ok()
                        .and_then(|t| t.to_str().map(String::from));
                    if let Some(holder) = holder.as_deref().and_then(|h| self.load(h)) {
                        if holder.is_alive() {
                            return Err(StoreError::NameInUse {
                                name: name.to_string(),
                                holder: short_id(&holder.id).to_string(),
                            });
                        }
                    }
                    // A stale claim (its container is gone): take it over.
                    let _ = fs::remove_file(&link);
                }
                Err(e) => return Err(io_err(&link)(e)),
            }
        }
    }

    /// Writes a record atomically (temp file + rename).
    pub fn save(&self, rec: &Record) -> Result<()> {
        self.secure()?;
        let dir = self.containers();
        private_fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let path = dir.join(&rec.id);
        if !valid_id(&rec.id) {
            return Err(StoreError::NoSuchContainer(rec.id.clone()));
        }
        let tmp = dir.join(format!(".{}.tmp", rec.id));
        let mut f = private_fs::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(rec.to_text().as_bytes())
            .map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// The record of `id`, if there is a valid one: a trusted file (ours, 0600 or stricter, not
    /// a symlink) whose content validates and names the same id.
    pub fn load(&self, id: &str) -> Option<Record> {
        if !valid_id(id) {
            return None;
        }
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.containers().join(id))
            .ok()?;
        if !private_fs::is_trusted(&f.metadata().ok()?) {
            return None;
        }
        let mut text = String::new();
        f.read_to_string(&mut text).ok()?;
        Record::from_text(&text).filter(|r| r.id == id)
    }

    /// Removes a record and its name.
    pub fn remove(&self, rec: &Record) {
        let _ = fs::remove_file(self.containers().join(&rec.id));
        if let Some(name) = &rec.name {
            let link = self.names().join(name);
            if fs::read_link(&link).ok().as_deref() == Some(Path::new(&rec.id)) {
                let _ = fs::remove_file(link);
            }
        }
    }

    /// Removes names whose container has no record (left by a start killed between claiming
    /// the name and saving the record, in earlier versions that claimed first). A start saves
    /// its record before it claims the name, so a live claim always has one. Returns how many.
    pub fn remove_dangling_names(&self) -> usize {
        let mut removed = 0;
        for entry in fs::read_dir(self.names()).into_iter().flatten().flatten() {
            let link = entry.path();
            let Ok(target) = fs::read_link(&link) else {
                continue;
            };
            if target.to_str().and_then(|id| self.load(id)).is_some() {
                continue;
            }
            // Taken over meanwhile by a start that has its record: leave that one.
            if fs::read_link(&link).ok() == Some(target) && fs::remove_file(&link).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Every record, live or stale, oldest first.
    pub fn list(&self) -> Vec<Record> {
        let mut all: Vec<Record> = fs::read_dir(self.containers())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| self.load(e.file_name().to_str()?))
            .collect();
        all.sort_by_key(|r| (r.created, r.id.clone()));
        all
    }

    /// Finds a started container by name, full id or unique id prefix (like Docker).
    pub fn find(&self, key: &str) -> Result<Record> {
        let rec = self.find_any(key)?;
        if rec.starting {
            return Err(StoreError::Starting(key.to_string()));
        }
        Ok(rec)
    }

    fn find_any(&self, key: &str) -> Result<Record> {
        let by_name = crate::spec::validate_name(key).is_ok();
        let link = by_name.then(|| fs::read_link(self.names().join(key)).ok());
        if let Some(target) = link.flatten() {
            // load() checks that the target is an id, not a path.
            if let Some(rec) = target.to_str().and_then(|id| self.load(id)) {
                return Ok(rec);
            }
        }
        if let Some(rec) = self.load(key) {
            return Ok(rec);
        }
        let matches: Vec<Record> = if key.len() >= 3 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.list()
                .into_iter()
                .filter(|r| r.id.starts_with(key))
                .collect()
        } else {
            Vec::new()
        };
        match matches.len() {
            1 => Ok(matches.into_iter().next().expect("one match")),
            0 => Err(StoreError::NoSuchContainer(key.to_string())),
            count => Err(StoreError::Ambiguous {
                key: key.to_string(),
                count,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_utils::TempDir;

    fn store(tmp: &TempDir) -> Store {
        Store::new(tmp.0.join("state"))
    }

    #[test]
    fn records_round_trip_and_are_found_by_name_and_prefix() {
        let tmp = TempDir::new("state-rt");
        let s = store(&tmp);
        let me = std::process::id() as i32;
        let rec = Record {
            id: "abcdef0123456789".into(),
            name: Some("web".into()),
            pid: me,
            start_time: process_start_time(me).unwrap(),
            created: 1,
            command: "sh -c x".into(),
            hostname: "h".into(),
            ip: Some("10.88.0.2".into()),
            bridge: None,
            starting: false,
            seccomp: SeccompPolicy::Unconfined,
            image: Some(format!("sha256:{}", "ab".repeat(32))),
            cgroup: Some("/default/web".into()),
        };
        s.claim_name("web", &rec.id).unwrap();
        s.save(&rec).unwrap();
        assert_eq!(s.find("web").unwrap(), rec);
        assert_eq!(s.find("abcdef").unwrap(), rec);
        assert_eq!(s.find(&rec.id).unwrap(), rec);
        assert!(rec.is_alive());
        let err = s.claim_name("web", "other").unwrap_err().to_string();
        assert!(err.contains("already in use"), "{err}");
        assert!(
            s.find("nope")
                .unwrap_err()
                .to_string()
                .contains("no such container: nope")
        );
        s.remove(&rec);
        assert!(s.find("web").is_err());
    }

    #[test]
    fn a_dead_or_reused_pid_is_stale_and_its_name_can_be_taken() {
        let tmp = TempDir::new("state-stale");
        let s = store(&tmp);
        let me = std::process::id() as i32;
        let rec = Record {
            id: "0123456789ab".into(),
            name: Some("db".into()),
            pid: me,
            start_time: 1,
            ..Default::default()
        };
        assert!(!rec.is_alive(), "start time differs: a reused pid");
        s.save(&rec).unwrap();
        s.claim_name("db", &rec.id).unwrap();
        s.claim_name("db", "fedcba987654").unwrap();
    }

    /// A record names the container's seccomp filter; a profile's kept copy is used only while
    /// it is root's alone and has the recorded digest. A record with any other policy is no
    /// record.
    #[test]
    fn the_recorded_seccomp_profile_is_the_one_the_container_got() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDir::new("state-seccomp");
        let s = store(&tmp);
        let profile = Seccomp::DockerJson(br#"{"defaultAction":"SCMP_ACT_ALLOW"}"#[..].into());
        let mut rec = Record {
            id: "abc123".into(),
            pid: 1,
            seccomp: SeccompPolicy::of(&profile),
            ..Default::default()
        };
        s.save_seccomp_profile(&rec.id, &profile).unwrap();
        s.save(&rec).unwrap();
        let loaded = s.load("abc123").unwrap();
        assert_eq!(loaded, rec);
        assert_eq!(s.recorded_seccomp(&loaded).unwrap(), profile);
        let copy = s.files_dir("abc123").join(SECCOMP_FILE);
        private_fs::write(&copy, br#"{"defaultAction":"SCMP_ACT_LOG"}"#).unwrap();
        let err = s.recorded_seccomp(&loaded).unwrap_err().to_string();
        assert!(
            err.contains("was changed after the container started"),
            "{err}"
        );
        s.save_seccomp_profile(&rec.id, &profile).unwrap();
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o666)).unwrap();
        let err = s.recorded_seccomp(&loaded).unwrap_err().to_string();
        assert!(err.contains("only root can write"), "{err}");
        fs::remove_file(&copy).unwrap();
        assert!(matches!(
            s.recorded_seccomp(&loaded),
            Err(StoreError::SeccompProfile {
                reason: ProfileProblem::Unreadable,
                ..
            })
        ));
        for (policy, want) in [
            (SeccompPolicy::Default, Seccomp::DockerDefault),
            (SeccompPolicy::Unconfined, Seccomp::Unconfined),
        ] {
            rec.seccomp = policy;
            s.save(&rec).unwrap();
            assert_eq!(
                s.recorded_seccomp(&s.load("abc123").unwrap()).unwrap(),
                want
            );
        }
        let dir = tmp.0.join("state/containers");
        for bad in ["none", "profile:12ab", "profile:../../etc/x", "Default"] {
            let text = format!("id=def456\npid=1\nseccomp={bad}\n");
            private_fs::write(&dir.join("def456"), text.as_bytes()).unwrap();
            assert!(s.load("def456").is_none(), "seccomp={bad} is no record");
        }
        let old = "id=def456\npid=1\n";
        private_fs::write(&dir.join("def456"), old.as_bytes()).unwrap();
        assert_eq!(s.load("def456").unwrap().seccomp, SeccompPolicy::Default);
    }

    /// Records someone else wrote, or malformed ones, are not records: ids that are paths,
    /// pids that are not positive, files others can write, names that link to paths.
    #[test]
    fn forged_records_are_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = TempDir::new("state-forged");
        let s = store(&tmp);
        let me = std::process::id() as i32;
        let good = Record {
            id: "abc123".into(),
            pid: me,
            start_time: process_start_time(me).unwrap(),
            ..Default::default()
        };
        s.save(&good).unwrap();
        let dir = tmp.0.join("state/containers");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&tmp.0.join("state")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("abc123")), 0o600);
        assert_eq!(s.find("abc123").unwrap(), good);
        let forge = |file: &str, text: &str| {
            private_fs::write(&dir.join(file), text.as_bytes()).unwrap();
            s.load(file)
        };
        assert!(
            forge("def456", "id=../../victim\npid=1\n").is_none(),
            "id names a path"
        );
        assert!(
            forge("def457", "id=abc123\npid=1\n").is_none(),
            "id is not the file's"
        );
        assert!(forge("def458", "id=def458\npid=0\n").is_none());
        assert!(forge("def459", "id=def459\npid=-5\n").is_none());
        assert!(forge("def45a", "id=def45a\npid=1\nbridge=br+\n").is_none());
        assert!(forge("def45b", "id=def45b\npid=1\nname=../x\n").is_none());
        assert!(forge("def45c", "id=def45c\npid=1\nip=10.0.0.300\n").is_none());
        assert!(forge("def45e", "id=def45e\npid=1\nimage=sha256:../x\n").is_none());
        assert!(
            forge("def45d", "id=def45d\npid=1\n").is_some(),
            "a valid one"
        );
        fs::set_permissions(dir.join("def45d"), fs::Permissions::from_mode(0o646)).unwrap();
        assert!(s.load("def45d").is_none(), "others could write it");
        assert!(s.load("../containers/abc123").is_none());
        s.claim_name("web", "abc123").unwrap();
        std::os::unix::fs::symlink("../containers/abc123", tmp.0.join("state/names/evil")).unwrap();
        assert!(s.find("evil").is_err(), "a name must link to an id");
        assert_eq!(s.find("web").unwrap().id, "abc123");
    }
}
