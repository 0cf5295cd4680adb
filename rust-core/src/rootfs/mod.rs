//! The root filesystem as a list of mount operations. The parent builds the list (allocating
//! freely); the child replays it between clone and pivot_root without allocating. Tests check the
//! list itself, so it doubles as the record of what the child will do.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use libc::{
    MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT, MS_STRICTATIME,
};

use crate::error::{Error, Result};
use crate::spec::{ContainerSpec, MountKind};

/// Docker's masked paths: hidden behind /dev/null (files) or an empty read-only tmpfs (dirs).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Character devices of the minimal /dev: (name, major, minor).
pub const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// One step of the child's filesystem setup. Paths are host paths under the rootfs (the child
/// runs these before pivot_root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: libc::c_ulong,
        data: Option<CString>,
    },
    Mkdir {
        path: CString,
        mode: libc::mode_t,
    },
    Mknod {
        path: CString,
        mode: libc::mode_t,
        dev: libc::dev_t,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    /// Hide a path: /dev/null over a file, a read-only tmpfs over a directory; absent is fine.
    Mask {
        path: CString,
    },
    /// Bind a path onto itself read-only; absent is fine.
    Readonly {
        path: CString,
    },
    /// An empty file to bind a file onto; an existing one is fine.
    Touch {
        path: CString,
    },
}

impl Op {
    /// What the step does, for error messages (paths shown as seen inside the container).
    pub fn describe(&self, rootfs: &Path) -> String {
        let inside = |c: &CString| {
            let p = Path::new(std::ffi::OsStr::from_bytes(c.as_bytes()));
            match p.strip_prefix(rootfs) {
                Ok(rel) => format!("/{}", rel.display()),
                Err(_) => p.display().to_string(),
            }
        };
        match self {
            Op::Mount {
                source,
                target,
                fstype,
                ..
            } => {
                let what = match (fstype, source) {
                    (Some(t), _) => t.to_string_lossy().into_owned(),
                    (None, Some(s)) => format!("bind {}", s.to_string_lossy()),
                    (None, None) => "remount".into(),
                };
                format!("mount {what} on {}", inside(target))
            }
            Op::Mkdir { path, .. } => format!("mkdir {}", inside(path)),
            Op::Mknod { path, .. } => format!("mknod {}", inside(path)),
            Op::Symlink { link, .. } => format!("symlink {}", inside(link)),
            Op::Mask { path } => format!("mask {}", inside(path)),
            Op::Readonly { path } => format!("make {} read-only", inside(path)),
            Op::Touch { path } => format!("create mount point {}", inside(path)),
        }
    }
}

fn cstr(p: impl AsRef<std::ffi::OsStr>) -> Result<CString> {
    crate::error::cstring("path", p)
}

/// Joins `path` (a container path) onto `rootfs`, resolving symlinks inside the rootfs as if it
/// were `/`, so a hostile symlink in the image (e.g. /data -> /etc) cannot point a mount at the
/// host. Missing trailing components are kept as they are.
pub fn secure_join(rootfs: &Path, path: &Path) -> Result<PathBuf> {
    let mut resolved = PathBuf::from("/");
    let mut pending: Vec<PathBuf> = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .map(|c| PathBuf::from(c.as_os_str()))
        .rev()
        .collect();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == Path::new("..") {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&part);
        let host = rootfs.join(candidate.strip_prefix("/").unwrap_or(&candidate));
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(Error::invalid(format!(
                        "{}: too many levels of symbolic links in the rootfs",
                        path.display()
                    )));
                }
                let target = std::fs::read_link(&host).map_err(|e| Error::Io {
                    path: host.clone(),
                    source: e,
                })?;
                if target.is_absolute() {
                    resolved = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => pending.push(PathBuf::from(n)),
                        Component::ParentDir => pending.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
            }
            _ => resolved = candidate,
        }
    }
    Ok(rootfs.join(resolved.strip_prefix("/").unwrap_or(&resolved)))
}

/// Creates a missing mount point (directory or empty file) in the rootfs before clone, so the
/// child only mounts.
pub fn ensure_mount_point(host: &Path, dir: bool) -> Result<()> {
    if std::fs::symlink_metadata(host).is_ok() {
        return Ok(());
    }
    let io = |e| Error::Io {
        path: host.to_path_buf(),
        source: e,
    };
    if dir {
        std::fs::create_dir_all(host).map_err(io)
    } else {
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(host)
            .map(drop)
            .map_err(io)
    }
}

/// Builds the mount steps for `spec`, run in order inside the child's mount namespace while the
/// rootfs is still at its host path. `terminal` adds /dev/console as a mount point for the pty.
pub fn plan(spec: &ContainerSpec, rootfs: &Path) -> Result<Vec<Op>> {
    let mut ops = Vec::with_capacity(48);
    let under = |p: &str| rootfs.join(p.trim_start_matches('/'));
    let mount = |source: Option<&str>,
                 target: PathBuf,
                 fstype: Option<&str>,
                 flags,
                 data: Option<&str>|
     -> Result<Op> {
        Ok(Op::Mount {
            source: source.map(cstr).transpose()?,
            target: cstr(target)?,
            fstype: fstype.map(cstr).transpose()?,
            flags,
            data: data.map(cstr).transpose()?,
        })
    };
    for dir in ["proc", "sys", "dev"] {
        let host = secure_join(rootfs, Path::new(dir))?;
        if host != under(dir) {
            return Err(Error::invalid(format!(
                "rootfs {}: /{dir} must be a directory, not a symbolic link",
                rootfs.display()
            )));
        }
        ensure_mount_point(&host, true)?;
    }

    let nosuid_nodev_noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    ops.push(mount(
        Some("proc"),
        under("proc"),
        Some("proc"),
        nosuid_nodev_noexec,
        None,
    )?);
    ops.push(mount(
        Some("sysfs"),
        under("sys"),
        Some("sysfs"),
        nosuid_nodev_noexec | MS_RDONLY,
        None,
    )?);
    ops.push(mount(
        Some("tmpfs"),
        under("dev"),
        Some("tmpfs"),
        MS_NOSUID | MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?);
    for (name, major, minor) in DEVICES {
        ops.push(Op::Mknod {
            path: cstr(under("dev").join(name))?,
            mode: libc::S_IFCHR | 0o666,
            dev: libc::makedev(*major, *minor),
        });
    }
    for dir in ["pts", "shm", "mqueue"] {
        ops.push(Op::Mkdir {
            path: cstr(under("dev").join(dir))?,
            mode: 0o755,
        });
    }
    ops.push(mount(
        Some("devpts"),
        under("dev/pts"),
        Some("devpts"),
        MS_NOSUID | MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?);
    ops.push(Op::Symlink {
        target: cstr("pts/ptmx")?,
        link: cstr(under("dev/ptmx"))?,
    });
    ops.push(mount(
        Some("shm"),
        under("dev/shm"),
        Some("tmpfs"),
        nosuid_nodev_noexec,
        Some("mode=1777,size=65536k"),
    )?);
    ops.push(mount(
        Some("mqueue"),
        under("dev/mqueue"),
        Some("mqueue"),
        nosuid_nodev_noexec,
        None,
    )?);
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        ops.push(Op::Symlink {
            target: cstr(target)?,
            link: cstr(under("dev").join(link))?,
        });
    }
    if spec.terminal {
        ops.push(Op::Touch {
            path: cstr(under("dev/console"))?,
        });
    }

    for m in &spec.mounts {
        let target = secure_join(rootfs, &m.destination)?;
        match &m.kind {
            MountKind::Bind { source, readonly } => {
                let is_dir = std::fs::metadata(source)
                    .map_err(|e| Error::Io {
                        path: source.clone(),
                        source: e,
                    })?
                    .is_dir();
                // Mount points under /dev live on the child's fresh tmpfs.
                if target.starts_with(under("dev")) {
                    ops.push(if is_dir {
                        Op::Mkdir {
                            path: cstr(&target)?,
                            mode: 0o755,
                        }
                    } else {
                        Op::Touch {
                            path: cstr(&target)?,
                        }
                    });
                } else {
                    ensure_mount_point(&target, is_dir)?;
                }
                let src = source
                    .to_str()
                    .ok_or_else(|| Error::invalid("bind source is not UTF-8"))?;
                ops.push(mount(
                    Some(src),
                    target.clone(),
                    None,
                    MS_BIND | MS_REC,
                    None,
                )?);
                if *readonly {
                    ops.push(Op::Mount {
                        source: None,
                        target: cstr(&target)?,
                        fstype: None,
                        flags: MS_BIND | MS_REMOUNT | MS_RDONLY,
                        data: None,
                    });
                }
            }
            MountKind::Tmpfs { options } => {
                if target.starts_with(under("dev")) {
                    ops.push(Op::Mkdir {
                        path: cstr(&target)?,
                        mode: 0o755,
                    });
                } else {
                    ensure_mount_point(&target, true)?;
                }
                let data = if options.is_empty() {
                    None
                } else {
                    Some(options.as_str())
                };
                ops.push(mount(
                    Some("tmpfs"),
                    target,
                    Some("tmpfs"),
                    MS_NOSUID | MS_NODEV,
                    data,
                )?);
            }
        }
    }

    for p in MASKED_PATHS {
        ops.push(Op::Mask {
            path: cstr(under(p))?,
        });
    }
    for p in READONLY_PATHS {
        ops.push(Op::Readonly {
            path: cstr(under(p))?,
        });
    }
    Ok(ops)
}

/// The working directory is created like Docker does when the image lacks it.
pub fn ensure_workdir(rootfs: &Path, cwd: &Path) -> Result<()> {
    ensure_mount_point(&secure_join(rootfs, cwd)?, true)
}

pub(crate) const REC_PRIVATE: libc::c_ulong = MS_REC | libc::MS_PRIVATE;
pub(crate) const BIND_REC: libc::c_ulong = MS_BIND | MS_REC;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rootfs-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn secure_join_keeps_symlinks_inside() {
        let r = tempdir("join");
        std::fs::create_dir_all(r.join("real")).unwrap();
        symlink("/etc", r.join("abs")).unwrap();
        symlink("../../../../real", r.join("rel")).unwrap();
        assert_eq!(
            secure_join(&r, Path::new("/abs/passwd")).unwrap(),
            r.join("etc/passwd")
        );
        assert_eq!(
            secure_join(&r, Path::new("/rel/x")).unwrap(),
            r.join("real/x")
        );
        assert_eq!(secure_join(&r, Path::new("/../../x")).unwrap(), r.join("x"));
        symlink("loop", r.join("loop")).unwrap();
        assert!(secure_join(&r, Path::new("/loop")).is_err());
        std::fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn plan_has_docker_defaults_and_user_mounts() {
        let r = tempdir("plan");
        let spec = ContainerSpec {
            rootfs: r.clone(),
            terminal: true,
            mounts: vec![
                crate::spec::Mount {
                    destination: "/data".into(),
                    kind: MountKind::Bind {
                        source: "/tmp".into(),
                        readonly: true,
                    },
                },
                crate::spec::Mount {
                    destination: "/scratch".into(),
                    kind: MountKind::Tmpfs {
                        options: "size=1m".into(),
                    },
                },
            ],
            ..Default::default()
        };
        let ops = plan(&spec, &r).unwrap();
        let described: Vec<String> = ops.iter().map(|o| o.describe(&r)).collect();
        for want in [
            "mount proc on /proc",
            "mount sysfs on /sys",
            "mount devpts on /dev/pts",
            "mknod /dev/null",
            "create mount point /dev/console",
            "mount bind /tmp on /data",
            "remount",
            "mount tmpfs on /scratch",
            "mask /proc/kcore",
            "make /proc/sys read-only",
        ] {
            assert!(
                described.iter().any(|d| d.contains(want)),
                "missing {want}: {described:?}"
            );
        }
        // The read-only remount follows its bind.
        let bind = described
            .iter()
            .position(|d| d == "mount bind /tmp on /data")
            .unwrap();
        assert_eq!(described[bind + 1], "mount remount on /data");
        assert!(r.join("data").is_dir() && r.join("scratch").is_dir() && r.join("proc").is_dir());
        std::fs::remove_dir_all(&r).unwrap();
    }

    #[test]
    fn plan_refuses_symlinked_proc() {
        let r = tempdir("proclink");
        symlink("/etc", r.join("proc")).unwrap();
        let spec = ContainerSpec {
            rootfs: r.clone(),
            ..Default::default()
        };
        let err = plan(&spec, &r).unwrap_err().to_string();
        assert!(err.contains("/proc must be a directory"), "{err}");
        std::fs::remove_dir_all(&r).unwrap();
    }
}
