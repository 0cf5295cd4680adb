//! The container's cgroups as the kernel reports them (/proc/<init>/cgroup against the
//! cgroup mounts), for what the front end does on them: the freezer (pause, resume), the
//! processes (`ps`, `kill --all`) and live limits (`update`).
//!
//! Only hierarchies where the container's cgroup differs from the runtime's own are the
//! container's: freezing or signalling a cgroup shared with the caller would hit the caller.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::Fail;
use crate::state::Saved;

/// One hierarchy's directory of the container: its controllers ("memory", "cpu,cpuacct",
/// "name=systemd"; "" on cgroup v2) and its path under the mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    pub controllers: String,
    pub path: PathBuf,
}

impl CgroupDir {
    fn has(&self, controller: &str) -> bool {
        self.controllers.split(',').any(|c| c == controller)
    }
}

/// (hierarchy controllers, path) per line of a /proc/<pid>/cgroup file.
fn memberships(pid: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let _id = f.next()?;
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect()
}

/// Cgroup mounts: (controllers as /proc/<pid>/cgroup names them, mount root, mount point).
fn mounts() -> Vec<(String, String, PathBuf)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let mut right = right.split(' ');
            let fstype = right.next()?;
            let opts = right.nth(1).unwrap_or("");
            let key = match fstype {
                "cgroup2" => String::new(),
                "cgroup" => {
                    let mut names: Vec<&str> = opts
                        .split(',')
                        .filter(|o| KNOWN.contains(o) || o.starts_with("name="))
                        .collect();
                    names.sort_by_key(|n| KNOWN.iter().position(|k| k == n));
                    names.join(",")
                }
                _ => return None,
            };
            Some((key, left.get(3)?.to_string(), PathBuf::from(left.get(4)?)))
        })
        .collect()
}

/// v1 controllers in the order the kernel lists co-mounted ones ("cpu,cpuacct").
const KNOWN: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// The hierarchies where `pid` sits in another cgroup than this process, as directories.
pub fn own_dirs(pid: i32) -> Vec<CgroupDir> {
    let ours = memberships("self");
    let all = mounts();
    memberships(&pid.to_string())
        .into_iter()
        .filter(|m| !ours.contains(m))
        .filter_map(|(controllers, path)| {
            let sorted = {
                let mut n: Vec<&str> = controllers.split(',').collect();
                n.sort_by_key(|c| KNOWN.iter().position(|k| k == c));
                n.join(",")
            };
            let (_, root, mnt) = all.iter().find(|(k, _, _)| *k == sorted)?;
            let rel = path.strip_prefix(root.as_str()).unwrap_or(&path);
            Some(CgroupDir {
                controllers,
                path: mnt.join(rel.trim_start_matches('/')),
            })
        })
        .collect()
}

/// The mount point of the v1 freezer hierarchy, if the host has one.
fn freezer_mount() -> Option<PathBuf> {
    mounts()
        .into_iter()
        .find(|(k, _, _)| k.split(',').any(|c| c == "freezer"))
        .map(|(_, _, m)| m)
}

/// The parent of the freezer cgroups the front end makes: its own, so that removing it when
/// empty never touches another program's cgroup.
const FREEZER_PARENT: &str = "container-runtime";

/// Puts `pid` in a freezer cgroup of its own when it has none (the core places containers in
/// no freezer cgroup): `<freezer>/container-runtime/<id>-<pid>` (the pid keeps two roots'
/// containers of one id apart). Returns the directories to remove at delete, deepest first.
pub fn ensure_freezer(pid: i32, id: &str, dirs: &mut Vec<CgroupDir>) -> Result<Vec<PathBuf>, Fail> {
    if dirs
        .iter()
        .any(|d| d.has("freezer") || d.controllers.is_empty())
    {
        return Ok(Vec::new());
    }
    let Some(mnt) = freezer_mount() else {
        return Ok(Vec::new());
    };
    let parent = mnt.join(FREEZER_PARENT);
    let name: String = id.chars().take(200).collect();
    let dir = parent.join(format!("{name}-{pid}"));
    let mkdir = || fs::create_dir_all(&dir);
    // A concurrent delete may remove the parent between its mkdir and ours: once more.
    mkdir()
        .or_else(|_| mkdir())
        .map_err(|e| Fail::io(format!("mkdir {}", dir.display()), e))?;
    let made = vec![dir.clone(), parent];
    let procs = dir.join("cgroup.procs");
    if let Err(e) = fs::write(&procs, pid.to_string()) {
        remove_made(&made);
        return Err(Fail::io(format!("write {}", procs.display()), e));
    }
    dirs.push(CgroupDir {
        controllers: "freezer".into(),
        path: dir,
    });
    Ok(made)
}

/// Removes the directories [`ensure_freezer`] made, deepest first, stopping at the first one
/// still in use (another container may have made a cgroup under a shared parent since).
pub fn remove_made(made: &[PathBuf]) {
    for d in made {
        match fs::remove_dir(d) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return,
            _ => {}
        }
    }
}

fn freezer(saved: &Saved) -> Option<&CgroupDir> {
    saved
        .cgroups
        .iter()
        .find(|d| d.has("freezer"))
        .or_else(|| saved.cgroups.iter().find(|d| d.controllers.is_empty()))
}

pub fn is_frozen(saved: &Saved) -> bool {
    match freezer(saved) {
        Some(d) if d.controllers.is_empty() => {
            fs::read_to_string(d.path.join("cgroup.freeze")).is_ok_and(|s| s.trim() == "1")
        }
        Some(d) => {
            fs::read_to_string(d.path.join("freezer.state")).is_ok_and(|s| s.trim() != "THAWED")
        }
        None => false,
    }
}

/// Freezes or thaws the container's cgroup and waits until the kernel says it is done.
pub fn set_frozen(saved: &Saved, frozen: bool) -> Result<(), Fail> {
    let d = freezer(saved).ok_or_else(|| Fail::msg("container has no freezer cgroup"))?;
    let (file, value, done_file, done): (_, _, _, &dyn Fn(&str) -> bool) =
        if d.controllers.is_empty() {
            let want = if frozen { "frozen 1" } else { "frozen 0" };
            (
                "cgroup.freeze",
                if frozen { "1" } else { "0" },
                "cgroup.events",
                &move |s: &str| s.lines().any(|l| l == want),
            )
        } else {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            ("freezer.state", want, "freezer.state", &move |s: &str| {
                s.trim() == want
            })
        };
    let path = d.path.join(file);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // v1 may stay FREEZING when a task is busy in the kernel: write again, as runc does.
        fs::write(&path, value).map_err(|e| Fail::io(format!("write {}", path.display()), e))?;
        if fs::read_to_string(d.path.join(done_file)).is_ok_and(|s| done(&s)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Fail::msg(format!(
                "{}: the kernel did not finish {}",
                d.path.display(),
                if frozen { "freezing" } else { "thawing" }
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Every process in the container's cgroup and its children (the freezer or pids hierarchy
/// preferred: every process is in each).
pub fn pids(saved: &Saved) -> Vec<i32> {
    let Some(d) = freezer(saved).or_else(|| saved.cgroups.first()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    collect_pids(&d.path, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

fn collect_pids(dir: &Path, out: &mut Vec<i32>) {
    if let Ok(t) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(t.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect_pids(&e.path(), out);
        }
    }
}

/// Removes a cgroup directory the front end made, children first.
pub fn remove_tree(dir: &Path) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&e.path());
        }
    }
    let _ = fs::remove_dir(dir);
}

/// After a container's cgroup `dir` went: the directories above it up to our own parent
/// (`container-runtime`, where a relative cgroupsPath goes), while they are empty. Nothing
/// outside that parent is touched: an absolute cgroupsPath's parents belong to whoever chose it.
pub fn remove_empty_parents(dir: &Path) {
    let ours = std::ffi::OsStr::new(container_runtime::oci::RELATIVE_CGROUP_PARENT);
    let Some(top) = dir
        .ancestors()
        .skip(1)
        .position(|a| a.file_name() == Some(ours))
    else {
        return;
    };
    for a in dir.ancestors().skip(1).take(top + 1) {
        if fs::remove_dir(a).is_err() {
            return;
        }
    }
}
