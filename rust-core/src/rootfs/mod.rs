//! The root filesystem as a list of mount operations. The parent builds the list (allocating
//! freely); the child replays it between clone and pivot_root without allocating. Tests check the
//! list itself, so it doubles as the record of what the child will do.
//!
//! Planning ([`plan`]) only reads the rootfs (to resolve symlinks inside it); the mount points
//! the child needs on the host side are listed in the plan and created by [`Plan::prepare`], so
//! the host is changed in one visible place.
//!
//! The ops name their targets relative to the root, with every symbolic link already resolved
//! inside it: the child opens each one beneath its root with openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) and mounts onto the descriptor, so a path swapped
//! for a link after planning fails the start instead of aiming a mount elsewhere.

pub mod cgroupfs;
pub mod overlay;

use std::ffi::CString;
use std::path::{Component, Path, PathBuf};

use libc::{MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_STRICTATIME};

use crate::errno::os_message;
use crate::spec::{ContainerSpec, MountKind, SpecError};

/// Why the rootfs cannot be set up as asked.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{}: too many levels of symbolic links in the rootfs", .0.display())]
    TooManyLinks(PathBuf),
    #[error("rootfs {}: /{dir} must be a directory, not a symbolic link", rootfs.display())]
    SymlinkedMountDir { rootfs: PathBuf, dir: &'static str },
    #[error("{}: {}", path.display(), os_message(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot mount the container's copy-on-write root (an overlayfs over {}): {}; to run on \
         the rootfs directory itself, pass --rootfs-shared (C API: \
         container_config_set_rootfs_shared), unsafe for more than one container",
        lower.display(),
        overlay_hint(source)
    )]
    Overlay {
        lower: PathBuf,
        source: std::io::Error,
    },
    #[error("layer {}: overlayfs cannot take a path with ',', ':' or '\\'", .0.display())]
    OverlayPath(PathBuf),
    #[error(
        "the layers' paths are too long for one overlay mount ({0} bytes of options, at most 4095)"
    )]
    OverlayTooLong(usize),
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// What an overlay mount failure usually means.
fn overlay_hint(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENODEV) => "this kernel has no overlayfs (modprobe overlay)".into(),
        Some(libc::EINVAL) => format!(
            "{} (overlayfs refuses some file systems as layers, e.g. an upper directory on \
             an overlayfs)",
            os_message(e)
        ),
        _ => os_message(e),
    }
}

impl RootfsError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            RootfsError::Io { source, .. } | RootfsError::Overlay { source, .. } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }
}

pub type Result<T, E = RootfsError> = std::result::Result<T, E>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RootfsError + '_ {
    move |source| RootfsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

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

/// moby's per-CPU masks, one for each `cpu<N>` of the host that has one.
pub const THERMAL_THROTTLE: &str = "/sys/devices/system/cpu";

/// statfs(2) f_type of the file systems the masked and read-only paths live on: a target found
/// on anything else was swapped for a decoy.
pub const PROC_SUPER_MAGIC: u32 = 0x9fa0;
pub const SYSFS_MAGIC: u32 = 0x6265_6572;

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

/// One step of the child's filesystem setup, run before pivot_root. Targets are relative to the
/// root ("dev/pts") and free of symbolic links; bind sources are host paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: libc::c_ulong,
        data: Option<CString>,
    },
    /// The mount just made at `path` (a `:ro` bind) becomes read-only with all its submounts,
    /// keeping its other flags (nosuid, nodev, noexec).
    ReadonlyBind {
        path: CString,
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
    /// Hide a path: /dev/null over a file, a read-only tmpfs over a directory. Absent is fine;
    /// found anywhere but on the file system `fs` (a statfs magic) fails.
    Mask {
        path: CString,
        fs: u32,
    },
    /// Bind a path onto itself read-only (nosuid, nodev, noexec too), recursively. Absent is
    /// fine; found anywhere but on `fs` fails.
    Readonly {
        path: CString,
        fs: u32,
    },
    /// An empty file to bind a file onto; an existing one is fine.
    Touch {
        path: CString,
    },
    /// A bind mount just made at `path` remounted with `flags` (MS_RDONLY, MS_NOSUID, ...),
    /// keeping the flags the kernel locks (those of the source).
    Remount {
        path: CString,
        flags: libc::c_ulong,
    },
    /// Owner of a node just made.
    Chown {
        path: CString,
        uid: u32,
        gid: u32,
    },
    /// Writes `data` to an existing file (a sysctl under proc/sys).
    Write {
        path: CString,
        data: CString,
    },
}

impl Op {
    /// What the step does, for error messages (paths shown as seen inside the container).
    pub fn describe(&self) -> String {
        let inside = |c: &CString| format!("/{}", c.to_string_lossy());
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
            Op::ReadonlyBind { path } => format!("make {} read-only (recursively)", inside(path)),
            Op::Mask { path, .. } => format!("mask {}", inside(path)),
            Op::Readonly { path, .. } => format!("make {} read-only", inside(path)),
            Op::Touch { path } => format!("create mount point {}", inside(path)),
            Op::Remount { path, .. } => format!("remount {} with its flags", inside(path)),
            Op::Chown { path, .. } => format!("chown {}", inside(path)),
            Op::Write { path, data } => {
                format!("write {:?} to {}", data.to_string_lossy(), inside(path))
            }
        }
    }
}

fn cstr(p: impl AsRef<std::ffi::OsStr>) -> Result<CString> {
    Ok(crate::spec::cstring("a path", p)?)
}

/// A host path under the rootfs as the child's op names it: relative to the root.
fn rel(rootfs: &Path, host: &Path) -> Result<CString> {
    cstr(host.strip_prefix(rootfs).unwrap_or(host))
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
                    return Err(RootfsError::TooManyLinks(path.to_path_buf()));
                }
                let target = std::fs::read_link(&host).map_err(io_err(&host))?;
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

/// A mount point the child needs on the host side of the rootfs (under it, symlinks resolved),
/// created before clone so that the child only mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    pub path: PathBuf,
    pub dir: bool,
}

impl MountPoint {
    /// Creates the directory or empty file unless something is there already.
    fn create(&self) -> Result<()> {
        let host = &self.path;
        if std::fs::symlink_metadata(host).is_ok() {
            return Ok(());
        }
        if self.dir {
            return std::fs::create_dir_all(host).map_err(io_err(host));
        }
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(host))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(host)
            .map(drop)
            .map_err(io_err(host))
    }
}

/// What the child will do to build the container's root, and what the host needs first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Run in order inside the child's mount namespace while the rootfs is still at its host
    /// path.
    pub ops: Vec<Op>,
    /// Created by [`Plan::prepare`] before clone.
    pub mount_points: Vec<MountPoint>,
    /// A cgroup mount: where in `ops` its binds go once the cgroup exists (see
    /// [`cgroup_binds`]), its target, read-only.
    pub cgroup_mount: Option<(usize, CString, bool)>,
}

/// A mount op, strings converted for the kernel.
fn mount_op(
    source: Option<&str>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<Op> {
    Ok(Op::Mount {
        source: source.map(cstr).transpose()?,
        target: cstr(target)?,
        fstype: fstype.map(cstr).transpose()?,
        flags,
        data: data.map(cstr).transpose()?,
    })
}

/// Builds the plan for `spec` on the (canonical) `rootfs`: Docker's /proc, /sys and /dev, the
/// user's mounts, the masked and read-only paths, and the working directory. Reads the rootfs
/// but changes nothing.
pub fn plan(spec: &ContainerSpec, rootfs: &Path) -> Result<Plan> {
    let mut plan = Plan {
        ops: Vec::with_capacity(48),
        mount_points: Vec::new(),
        cgroup_mount: None,
    };
    if spec.system_mounts {
        plan.system_mounts(rootfs, spec.terminal)?;
    }
    for m in &spec.mounts {
        plan.user_mount(rootfs, m)?;
    }
    if !spec.system_mounts {
        plan.oci_dev(rootfs, spec)?;
    }
    for (key, value) in &spec.sysctl {
        plan.ops.push(Op::Write {
            path: cstr(format!("proc/sys/{}", key.replace('.', "/")))?,
            data: cstr(value)?,
        });
    }
    let masked = match &spec.masked_paths {
        Some(list) => list
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        None => masked_paths(),
    };
    for p in masked {
        plan.ops.push(Op::Mask {
            fs: fs_of(&p),
            path: cstr(p.trim_start_matches('/'))?,
        });
    }
    let readonly = match &spec.readonly_paths {
        Some(list) => list
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        None => READONLY_PATHS
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>(),
    };
    for p in readonly {
        plan.ops.push(Op::Readonly {
            fs: fs_of(&p),
            path: cstr(p.trim_start_matches('/'))?,
        });
    }
    // The working directory is created like Docker does when the image lacks it.
    plan.mount_points.push(MountPoint {
        path: secure_join(rootfs, &spec.cwd)?,
        dir: true,
    });
    Ok(plan)
}

fn under(rootfs: &Path, p: &str) -> PathBuf {
    rootfs.join(p.trim_start_matches('/'))
}

/// The file system a masked or read-only path must be on; 0 (any) outside /proc and /sys.
fn fs_of(p: &str) -> u32 {
    if p.starts_with("/sys/") {
        SYSFS_MAGIC
    } else if p.starts_with("/proc/") {
        PROC_SUPER_MAGIC
    } else {
        0
    }
}

/// Docker's masked paths, and moby's `thermal_throttle` of each CPU the host has (sysfs shows
/// the host's CPUs in every container).
pub fn masked_paths() -> Vec<String> {
    let mut paths: Vec<String> = MASKED_PATHS.iter().map(|p| p.to_string()).collect();
    let is_cpu = |n: &str| {
        n.strip_prefix("cpu")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut cpus: Vec<String> = std::fs::read_dir(THERMAL_THROTTLE)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_cpu(n))
        .map(|n| format!("{THERMAL_THROTTLE}/{n}/thermal_throttle"))
        .filter(|p| Path::new(p).exists())
        .collect();
    cpus.sort();
    paths.extend(cpus);
    paths
}

/// Docker's `--tmpfs` options: the mount flags among them (Docker's default noexec, nosuid,
/// nodev unless exec, suid or dev is asked for; ro), the rest as data for tmpfs.
pub fn tmpfs_options(options: &str) -> (libc::c_ulong, Option<String>) {
    let mut flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
    let mut data = Vec::new();
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "exec" => flags &= !MS_NOEXEC,
            "noexec" => flags |= MS_NOEXEC,
            "suid" => flags &= !MS_NOSUID,
            "nosuid" => flags |= MS_NOSUID,
            "dev" => flags &= !MS_NODEV,
            "nodev" => flags |= MS_NODEV,
            "ro" => flags |= MS_RDONLY,
            "rw" => flags &= !MS_RDONLY,
            other => data.push(other),
        }
    }
    (flags, (!data.is_empty()).then(|| data.join(",")))
}

impl Plan {
    /// Creates the planned mount points on the host side of the rootfs.
    pub fn prepare(&self) -> Result<()> {
        self.mount_points.iter().try_for_each(MountPoint::create)
    }

    /// Binds the host file `source` over `target` (a container path), as Docker binds
    /// /etc/hosts and /etc/resolv.conf: the image stays untouched.
    pub fn bind_file(&mut self, rootfs: &Path, source: &Path, target: &Path) -> Result<()> {
        let host = secure_join(rootfs, target)?;
        self.mount_points.push(MountPoint {
            path: host.clone(),
            dir: false,
        });
        self.ops.push(Op::Mount {
            source: Some(cstr(source)?),
            target: rel(rootfs, &host)?,
            fstype: None,
            flags: libc::MS_BIND,
            data: None,
        });
        Ok(())
    }

    /// /proc, /sys and a minimal /dev on tmpfs; `terminal` adds /dev/console as a mount point
    /// for the pty.
    fn system_mounts(&mut self, rootfs: &Path, terminal: bool) -> Result<()> {
        for dir in ["proc", "sys", "dev"] {
            let host = secure_join(rootfs, Path::new(dir))?;
            if host != under(rootfs, dir) {
                return Err(RootfsError::SymlinkedMountDir {
                    rootfs: rootfs.to_path_buf(),
                    dir,
                });
            }
            self.mount_points.push(MountPoint {
                path: host,
                dir: true,
            });
        }
        let nosuid_nodev_noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        let ops = &mut self.ops;
        ops.push(mount_op(
            Some("proc"),
            Path::new("proc"),
            Some("proc"),
            nosuid_nodev_noexec,
            None,
        )?);
        let sys_flags = nosuid_nodev_noexec | MS_RDONLY;
        ops.push(mount_op(
            Some("sysfs"),
            Path::new("sys"),
            Some("sysfs"),
            sys_flags,
            None,
        )?);
        self.dev_mounts(Path::new("dev"), terminal)
    }

    /// A minimal /dev on tmpfs: the character devices, a devpts instance of its own, shm,
    /// mqueue, the usual symlinks, and /dev/console for a terminal.
    fn dev_mounts(&mut self, dev: &Path, terminal: bool) -> Result<()> {
        let nosuid_nodev_noexec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        let ops = &mut self.ops;
        let dev_data = Some("mode=755,size=65536k");
        ops.push(mount_op(
            Some("tmpfs"),
            dev,
            Some("tmpfs"),
            MS_NOSUID | MS_STRICTATIME,
            dev_data,
        )?);
        for (name, major, minor) in DEVICES {
            let (mode, dev_t) = (libc::S_IFCHR | 0o666, libc::makedev(*major, *minor));
            ops.push(Op::Mknod {
                path: cstr(dev.join(name))?,
                mode,
                dev: dev_t,
            });
        }
        for dir in ["pts", "shm", "mqueue"] {
            ops.push(Op::Mkdir {
                path: cstr(dev.join(dir))?,
                mode: 0o755,
            });
        }
        let pts_data = Some("newinstance,ptmxmode=0666,mode=0620,gid=5");
        ops.push(mount_op(
            Some("devpts"),
            &dev.join("pts"),
            Some("devpts"),
            MS_NOSUID | MS_NOEXEC,
            pts_data,
        )?);
        ops.push(Op::Symlink {
            target: cstr("pts/ptmx")?,
            link: cstr(dev.join("ptmx"))?,
        });
        let shm_data = Some("mode=1777,size=65536k");
        ops.push(mount_op(
            Some("shm"),
            &dev.join("shm"),
            Some("tmpfs"),
            nosuid_nodev_noexec,
            shm_data,
        )?);
        ops.push(mount_op(
            Some("mqueue"),
            &dev.join("mqueue"),
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
                link: cstr(dev.join(link))?,
            });
        }
        if terminal {
            ops.push(Op::Touch {
                path: cstr(dev.join("console"))?,
            });
        }
        Ok(())
    }

    /// A bind mount or tmpfs of the spec. Mount points under /dev live on the child's fresh
    /// tmpfs, so the child makes those; the others are made on the host.
    fn user_mount(&mut self, rootfs: &Path, m: &crate::spec::Mount) -> Result<()> {
        let target = secure_join(rootfs, &m.destination)?;
        let in_dev = target.starts_with(under(rootfs, "dev"));
        let inside = rel(rootfs, &target)?;
        let mut after = Vec::new();
        let (dir, op) = match &m.kind {
            MountKind::Raw {
                source,
                fstype,
                flags,
                propagation,
                data,
            } => {
                let (dir, op) = raw_mount(&inside, source, fstype.as_deref(), *flags, data)?;
                after = raw_after(&inside, *flags, *propagation);
                (dir, op)
            }
            MountKind::Cgroup { .. } => {
                let op = Op::Mount {
                    source: Some(cstr("cgroup_root")?),
                    target: inside.clone(),
                    fstype: Some(cstr("tmpfs")?),
                    flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    data: Some(cstr("mode=755,size=64k")?),
                };
                (true, op)
            }
            MountKind::Bind { source, .. } => {
                let meta = std::fs::metadata(source).map_err(io_err(source))?;
                let op = Op::Mount {
                    source: Some(cstr(source)?),
                    target: inside.clone(),
                    fstype: None,
                    flags: MS_BIND | MS_REC,
                    data: None,
                };
                (meta.is_dir(), op)
            }
            MountKind::Tmpfs { options } => {
                let (flags, data) = tmpfs_options(options);
                let op = Op::Mount {
                    source: Some(cstr("tmpfs")?),
                    target: inside.clone(),
                    fstype: Some(cstr("tmpfs")?),
                    flags,
                    data: data.map(cstr).transpose()?,
                };
                (true, op)
            }
        };
        match (in_dev, dir) {
            (true, true) => self.ops.push(Op::Mkdir {
                path: inside.clone(),
                mode: 0o755,
            }),
            (true, false) => self.ops.push(Op::Touch {
                path: inside.clone(),
            }),
            (false, _) => self.mount_points.push(MountPoint {
                path: target.clone(),
                dir,
            }),
        }
        self.ops.push(op);
        if let MountKind::Cgroup { readonly } = m.kind {
            // Its binds go right after the tmpfs, once the cgroup exists.
            self.cgroup_mount = Some((self.ops.len(), inside.clone(), readonly));
        }
        if let MountKind::Bind { readonly: true, .. } = m.kind {
            self.ops.push(Op::ReadonlyBind { path: inside });
        }
        self.ops.extend(after);
        Ok(())
    }

    /// What an OCI runtime adds to config.json's /dev: the default devices (null, zero, full,
    /// random, urandom, tty) and the spec's, made with mknod or, in a user namespace where
    /// mknod is refused, bound from the host's node (as runc); and when /dev is a tmpfs of the
    /// config, the /dev/fd, std* and ptmx links. /dev/console for a terminal.
    fn oci_dev(&mut self, rootfs: &Path, spec: &ContainerSpec) -> Result<()> {
        let dev_tmpfs = spec.mounts.iter().any(|m| {
            m.destination == Path::new("/dev")
                && matches!(&m.kind, MountKind::Raw { fstype: Some(t), .. } if t == "tmpfs")
        });
        let userns = spec.namespaces & crate::spec::ns::USER != 0;
        let defaults = DEVICES
            .iter()
            .map(|(name, major, minor)| crate::spec::Device {
                path: Path::new("/dev").join(name),
                kind: libc::S_IFCHR,
                major: u64::from(*major),
                minor: u64::from(*minor),
                mode: 0o666,
                uid: 0,
                gid: 0,
            });
        let listed: Vec<crate::spec::Device> = spec.devices.to_vec();
        let all: Vec<crate::spec::Device> = defaults
            .filter(|d| !listed.iter().any(|l| l.path == d.path))
            .chain(listed.iter().cloned())
            .collect();
        for d in &all {
            self.device(rootfs, d, userns)?;
        }
        if dev_tmpfs {
            for (link, target) in [
                ("dev/fd", "/proc/self/fd"),
                ("dev/stdin", "/proc/self/fd/0"),
                ("dev/stdout", "/proc/self/fd/1"),
                ("dev/stderr", "/proc/self/fd/2"),
                ("dev/ptmx", "pts/ptmx"),
            ] {
                self.ops.push(Op::Symlink {
                    target: cstr(target)?,
                    link: cstr(link)?,
                });
            }
        }
        if spec.terminal {
            self.ops.push(Op::Touch {
                path: cstr("dev/console")?,
            });
        }
        Ok(())
    }

    /// One device node: its directory made inside, then mknod (an existing node is kept), or a
    /// bind of the host's node at the same path in a user namespace.
    fn device(&mut self, rootfs: &Path, d: &crate::spec::Device, userns: bool) -> Result<()> {
        crate::spec::validate_container_path("device path", &d.path)?;
        let target = secure_join(rootfs, &d.path)?;
        let inside = rel(rootfs, &target)?;
        let mut dir = PathBuf::new();
        let parents: Vec<PathBuf> = Path::new(inside.to_str().unwrap_or(""))
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
            .map(|c| {
                dir.push(c);
                dir.clone()
            })
            .collect();
        for p in parents.iter().filter(|p| !p.as_os_str().is_empty()) {
            self.ops.push(Op::Mkdir {
                path: cstr(p)?,
                mode: 0o755,
            });
        }
        if userns {
            self.ops.push(Op::Touch {
                path: inside.clone(),
            });
            self.ops.push(Op::Mount {
                source: Some(cstr(&d.path)?),
                target: inside,
                fstype: None,
                flags: MS_BIND,
                data: None,
            });
            return Ok(());
        }
        self.ops.push(Op::Mknod {
            path: inside.clone(),
            mode: d.kind | (d.mode & 0o7777),
            dev: libc::makedev(d.major as u32, d.minor as u32),
        });
        if d.uid != 0 || d.gid != 0 {
            self.ops.push(Op::Chown {
                path: inside,
                uid: d.uid,
                gid: d.gid,
            });
        }
        Ok(())
    }
}

/// What follows an OCI mount's first step: a bind takes its flags from a remount, and a
/// propagation change comes last.
fn raw_after(inside: &CString, flags: libc::c_ulong, propagation: libc::c_ulong) -> Vec<Op> {
    let mut after = Vec::new();
    let bind_flags = flags & !(MS_BIND | MS_REC | libc::MS_REMOUNT);
    if flags & MS_BIND != 0 && bind_flags != 0 {
        after.push(Op::Remount {
            path: inside.clone(),
            flags: bind_flags,
        });
    }
    if propagation != 0 {
        after.push(Op::Mount {
            source: None,
            target: inside.clone(),
            fstype: None,
            flags: propagation,
            data: None,
        });
    }
    after
}

/// An OCI mount's first step, and whether its mount point is a directory: a bind of the
/// source (recursive for rbind), or a file system.
fn raw_mount(
    inside: &CString,
    source: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: &str,
) -> Result<(bool, Op)> {
    if flags & MS_BIND != 0 {
        let meta = std::fs::metadata(source).map_err(io_err(source))?;
        let op = Op::Mount {
            source: Some(cstr(source)?),
            target: inside.clone(),
            fstype: None,
            flags: flags & (MS_BIND | MS_REC),
            data: None,
        };
        return Ok((meta.is_dir(), op));
    }
    let src = if source.as_os_str().is_empty() {
        fstype.unwrap_or("none").to_string()
    } else {
        source.to_string_lossy().into_owned()
    };
    let op = Op::Mount {
        source: Some(cstr(src)?),
        target: inside.clone(),
        fstype: fstype.map(cstr).transpose()?,
        flags,
        data: (!data.is_empty()).then(|| cstr(data)).transpose()?,
    };
    Ok((true, op))
}

/// The ops of a cgroup mount at `dest` (a tmpfs already), given the container's cgroup
/// directories `paths` under the cgroup root `root`: on cgroup v1 a directory per hierarchy
/// (named as on the host, "cpu,cpuacct", with links for each controller of it) with the
/// container's directory bound onto it; on v2 the directory bound onto `dest` itself. Read-only
/// binds and tmpfs when `readonly`. With a cgroup namespace the container then sees its own
/// cgroups as the roots, as with runc.
pub fn cgroup_binds(
    paths: &[PathBuf],
    root: &Path,
    v2: bool,
    dest: &CString,
    readonly: bool,
) -> Result<Vec<Op>> {
    let ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    let dest_path = Path::new(dest.to_str().unwrap_or(""));
    let mut ops = Vec::new();
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    for p in paths {
        let target = if v2 {
            dest.clone()
        } else {
            let Some(name) = p.strip_prefix(&root).ok().and_then(|r| r.iter().next()) else {
                continue;
            };
            let name = name.to_string_lossy().into_owned();
            let target = cstr(dest_path.join(&name))?;
            ops.push(Op::Mkdir {
                path: target.clone(),
                mode: 0o755,
            });
            for part in name.split(',').filter(|part| *part != name) {
                ops.push(Op::Symlink {
                    target: cstr(&name)?,
                    link: cstr(dest_path.join(part))?,
                });
            }
            target
        };
        ops.push(Op::Mount {
            source: Some(cstr(p)?),
            target: target.clone(),
            fstype: None,
            flags: MS_BIND,
            data: None,
        });
        if readonly {
            ops.push(Op::Remount {
                path: target,
                flags: ro,
            });
        }
    }
    if readonly {
        ops.push(Op::Remount {
            path: dest.clone(),
            flags: ro,
        });
    }
    Ok(ops)
}

pub(crate) const REC_PRIVATE: libc::c_ulong = MS_REC | libc::MS_PRIVATE;
pub(crate) const BIND_REC: libc::c_ulong = MS_BIND | MS_REC;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    use crate::test_utils::TempDir;

    #[test]
    fn secure_join_keeps_symlinks_inside() {
        let tmp = TempDir::new("rootfs-join");
        let r = tmp.0.clone();
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
    }

    // long: one plan checked as a whole, step names, targets, flags and mount points.
    #[test]
    fn plan_has_docker_defaults_and_user_mounts() {
        let tmp = TempDir::new("rootfs-plan");
        let r = tmp.0.clone();
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
        let plan = plan(&spec, &r).unwrap();
        let described: Vec<String> = plan.ops.iter().map(|o| o.describe()).collect();
        for want in [
            "mount proc on /proc",
            "mount sysfs on /sys",
            "mount devpts on /dev/pts",
            "mknod /dev/null",
            "create mount point /dev/console",
            "mount bind /tmp on /data",
            "mount tmpfs on /scratch",
            "mask /proc/kcore",
            "make /proc/sys read-only",
        ] {
            assert!(
                described.iter().any(|d| d.contains(want)),
                "missing {want}: {described:?}"
            );
        }
        // The recursive read-only step follows its bind.
        let bind = described
            .iter()
            .position(|d| d == "mount bind /tmp on /data")
            .unwrap();
        assert_eq!(described[bind + 1], "make /data read-only (recursively)");
        // Targets are relative to the root, and --tmpfs is noexec, nosuid, nodev by default.
        let tmpfs = plan.ops.iter().find_map(|o| match o {
            Op::Mount {
                target,
                flags,
                data,
                ..
            } if target.as_c_str() == c"scratch" => Some((*flags, data.clone())),
            _ => None,
        });
        assert_eq!(
            tmpfs,
            Some((
                MS_NOEXEC | MS_NOSUID | MS_NODEV,
                Some(c"size=1m".to_owned())
            ))
        );
        assert!(plan.ops.iter().any(|o| *o
            == Op::Mask {
                path: c"proc/kcore".to_owned(),
                fs: PROC_SUPER_MAGIC
            }));
        // Planning changed nothing on the host; preparing makes the mount points.
        assert!(!r.join("data").exists() && !r.join("proc").exists());
        let want = |p: &str, dir| MountPoint {
            path: r.join(p),
            dir,
        };
        for m in [
            want("proc", true),
            want("data", true),
            want("scratch", true),
            want("", true),
        ] {
            assert!(
                plan.mount_points.contains(&m),
                "{m:?}: {:?}",
                plan.mount_points
            );
        }
        plan.prepare().unwrap();
        assert!(r.join("data").is_dir() && r.join("scratch").is_dir() && r.join("proc").is_dir());
    }

    #[test]
    fn tmpfs_flags_as_docker() {
        assert_eq!(tmpfs_options(""), (MS_NOEXEC | MS_NOSUID | MS_NODEV, None));
        assert_eq!(
            tmpfs_options("exec,size=64m,mode=1777"),
            (MS_NOSUID | MS_NODEV, Some("size=64m,mode=1777".into()))
        );
        assert_eq!(tmpfs_options("ro,dev,suid"), (MS_NOEXEC | MS_RDONLY, None));
    }

    /// moby masks each CPU's thermal_throttle the host has.
    #[test]
    fn thermal_throttle_masks() {
        let masks = masked_paths();
        assert!(
            masks.starts_with(
                &MASKED_PATHS
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
            )
        );
        for cpu in std::fs::read_dir(THERMAL_THROTTLE)
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = cpu.path().join("thermal_throttle");
            if p.exists()
                && cpu.file_name().to_string_lossy()[3..]
                    .parse::<u32>()
                    .is_ok()
            {
                assert!(masks.contains(&p.display().to_string()), "{}", p.display());
            }
        }
    }

    #[test]
    fn plan_refuses_symlinked_proc() {
        let tmp = TempDir::new("rootfs-proclink");
        let r = tmp.0.clone();
        symlink("/etc", r.join("proc")).unwrap();
        let spec = ContainerSpec {
            rootfs: r.clone(),
            ..Default::default()
        };
        let err = plan(&spec, &r).unwrap_err().to_string();
        assert!(err.contains("/proc must be a directory"), "{err}");
    }
}
