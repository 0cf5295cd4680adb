//! /sys/fs/cgroup inside the container, as Docker shows it: read-only, and mounted by the
//! child inside its own cgroup namespace, so each hierarchy's root is the container's own
//! cgroup (its limits are `/sys/fs/cgroup/memory/memory.limit_in_bytes` on v1,
//! `/sys/fs/cgroup/memory.max` on v2) and nothing of the host's tree shows.
//!
//! v2: one cgroup2 mount. v1 (and hybrid): a tmpfs, one cgroup mount per hierarchy the
//! container has a cgroup in (hierarchies it is not placed in, such as name=systemd or the
//! hybrid layout's unified cgroup2, would show the caller's cgroup: left out), the host's
//! symlinks for co-mounted controllers (cpu -> cpu,cpuacct), then the tmpfs made read-only.
//! Without CAP_SYS_ADMIN (dropped after these mounts) nothing can be remounted read-write.

use std::path::{Path, PathBuf};

use libc::{MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT};

use super::{Op, Result, cstr, mount_op};

/// Where the cgroup file systems go, relative to the container's root.
const TARGET: &str = "sys/fs/cgroup";

/// The v1 controllers the kernel knows: the only mount options passed on (a name= option
/// too), so that release_agent=, clone_children and the like never are.
const V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
    "debug",
];

/// One v1 hierarchy: its directory under /sys/fs/cgroup and its controllers ("cpu,cpuacct").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hierarchy {
    pub dir: String,
    pub options: String,
}

/// What the container's /sys/fs/cgroup shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// cgroup v2: the unified hierarchy at /sys/fs/cgroup.
    Unified,
    /// cgroup v1: the hierarchies, and symlinks (name, target) beside them.
    V1 {
        hierarchies: Vec<Hierarchy>,
        links: Vec<(String, String)>,
    },
}

impl View {
    /// The view for a container whose cgroup directories are `paths`, under the host's cgroup
    /// root `root` (unified: v2). Reads /proc/self/mountinfo for each hierarchy's controllers
    /// and `root` for the co-mount symlinks.
    pub fn of_host(root: &Path, unified: bool, paths: &[PathBuf]) -> View {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        View::from_parts(root, unified, paths, &mountinfo)
    }

    /// As [`View::of_host`], with the mount table given (tests: a fake tree).
    pub fn from_parts(root: &Path, unified: bool, paths: &[PathBuf], mountinfo: &str) -> View {
        if unified {
            return View::Unified;
        }
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut dirs: Vec<String> = paths
            .iter()
            .filter_map(|p| {
                let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                let first = p.strip_prefix(&root).ok()?.components().next()?;
                first.as_os_str().to_str().map(str::to_string)
            })
            .filter(|d| !d.contains('\n'))
            .collect();
        dirs.sort();
        dirs.dedup();
        let hierarchies = dirs
            .into_iter()
            .map(|dir| Hierarchy {
                options: v1_options(mountinfo, &root.join(&dir)).unwrap_or_else(|| dir.clone()),
                dir,
            })
            .collect::<Vec<_>>();
        let mut links: Vec<(String, String)> = std::fs::read_dir(&root)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let target = std::fs::read_link(e.path()).ok()?;
                let target = target.file_name()?.to_str()?.to_string();
                let known = hierarchies.iter().any(|h| h.dir == target);
                (known && !name.contains('/')).then_some((name, target))
            })
            .collect();
        links.sort();
        View::V1 { hierarchies, links }
    }

    /// The child's mount steps, relative to the container's root.
    pub fn ops(&self) -> Result<Vec<Op>> {
        let ro = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
        let target = Path::new(TARGET);
        let View::V1 { hierarchies, links } = self else {
            return Ok(vec![mount_op(
                Some("cgroup2"),
                target,
                Some("cgroup2"),
                ro,
                None,
            )?]);
        };
        let mut ops = vec![mount_op(
            Some("tmpfs"),
            target,
            Some("tmpfs"),
            MS_NOSUID | MS_NODEV | MS_NOEXEC,
            Some("mode=755,size=64k"),
        )?];
        for h in hierarchies {
            let at = target.join(&h.dir);
            ops.push(Op::Mkdir {
                path: cstr(&at)?,
                mode: 0o555,
            });
            ops.push(mount_op(
                Some("cgroup"),
                &at,
                Some("cgroup"),
                ro,
                Some(&h.options),
            )?);
        }
        for (name, to) in links {
            ops.push(Op::Symlink {
                target: cstr(to)?,
                link: cstr(target.join(name))?,
            });
        }
        // The tmpfs itself read-only (its super block: no new entries either).
        ops.push(mount_op(
            None,
            target,
            None,
            MS_REMOUNT | ro,
            Some("mode=755,size=64k"),
        )?);
        Ok(ops)
    }
}

/// The controllers (and name=) of the cgroup v1 mount at `mount_point`, from mountinfo.
fn v1_options(mountinfo: &str, mount_point: &Path) -> Option<String> {
    let want = mount_point.to_str()?;
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let point = left.split(' ').nth(4)?;
        let mut r = right.split(' ');
        let (fstype, _source, opts) = (r.next()?, r.next()?, r.next()?);
        if fstype != "cgroup" || point != want {
            return None;
        }
        let kept: Vec<&str> = opts
            .split(',')
            .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
            .collect();
        (!kept.is_empty()).then(|| kept.join(","))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(op: &Op) -> String {
        match op {
            Op::Mount {
                target,
                fstype,
                data,
                flags,
                ..
            } => format!(
                "mount {} {} {} ro={}",
                fstype.as_ref().map_or("-".into(), |f| f.to_string_lossy()),
                target.to_string_lossy(),
                data.as_ref().map_or("-".into(), |d| d.to_string_lossy()),
                flags & MS_RDONLY != 0
            ),
            Op::Mkdir { path, .. } => format!("mkdir {}", path.to_string_lossy()),
            Op::Symlink { target, link } => format!(
                "symlink {} -> {}",
                link.to_string_lossy(),
                target.to_string_lossy()
            ),
            other => format!("{other:?}"),
        }
    }

    /// A v2 host (this one is v1: the layout is faked): one read-only cgroup2 mount.
    #[test]
    fn v2_is_one_read_only_cgroup2_mount() {
        let t = tempfile::tempdir().unwrap();
        let paths = [t.path().join("docker-run/abc")];
        let view = View::from_parts(t.path(), true, &paths, "");
        assert_eq!(view, View::Unified);
        let ops: Vec<String> = view.ops().unwrap().iter().map(path).collect();
        assert_eq!(ops, ["mount cgroup2 sys/fs/cgroup - ro=true"]);
    }

    /// A v1 tree shaped like a host's: co-mounted cpu,cpuacct with its links, memory, a
    /// name=systemd and a unified hierarchy the container is not in (left out), and mount
    /// options the kernel must not get again (release_agent=, clone_children).
    #[test]
    fn v1_mounts_the_containers_hierarchies_read_only() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        for d in ["cpu,cpuacct", "memory", "systemd", "unified"] {
            std::fs::create_dir_all(root.join(d).join("docker-run/abc")).unwrap();
        }
        std::os::unix::fs::symlink("cpu,cpuacct", root.join("cpu")).unwrap();
        std::os::unix::fs::symlink("cpu,cpuacct", root.join("cpuacct")).unwrap();
        std::os::unix::fs::symlink("/elsewhere", root.join("stray")).unwrap();
        let r = std::fs::canonicalize(root).unwrap();
        let r = r.display();
        let mountinfo = format!(
            "31 23 0:28 / {r} rw,relatime - tmpfs tmpfs rw,mode=755\n\
             32 31 0:29 / {r}/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
             35 31 0:32 / {r}/memory rw,relatime - cgroup cgroup rw,memory,clone_children,release_agent=/x\n\
             40 31 0:37 / {r}/systemd rw,relatime - cgroup cgroup rw,name=systemd\n\
             41 31 0:38 / {r}/unified rw,relatime - cgroup2 cgroup2 rw\n"
        );
        let paths = [
            root.join("cpu/docker-run/abc"),
            root.join("cpuacct/docker-run/abc"),
            root.join("memory/docker-run/abc"),
        ];
        let view = View::from_parts(root, false, &paths, &mountinfo);
        let ops: Vec<String> = view.ops().unwrap().iter().map(path).collect();
        assert_eq!(
            ops,
            [
                "mount tmpfs sys/fs/cgroup mode=755,size=64k ro=false",
                "mkdir sys/fs/cgroup/cpu,cpuacct",
                "mount cgroup sys/fs/cgroup/cpu,cpuacct cpu,cpuacct ro=true",
                "mkdir sys/fs/cgroup/memory",
                "mount cgroup sys/fs/cgroup/memory memory ro=true",
                "symlink sys/fs/cgroup/cpu -> cpu,cpuacct",
                "symlink sys/fs/cgroup/cpuacct -> cpu,cpuacct",
                "mount - sys/fs/cgroup mode=755,size=64k ro=true",
            ]
        );
        // Without a mount table entry the directory's name is the controller list.
        let bare = View::from_parts(root, false, &paths[2..], "");
        let View::V1 { hierarchies, .. } = bare else {
            panic!("v1")
        };
        assert_eq!(hierarchies[0].options, "memory");
    }
}
