//! The container specification. Field names follow the OCI runtime spec (process, root, mounts,
//! linux.namespaces, linux.resources) so that an OCI front end is a thin layer over this.
//!
//! A data leaf: the types, their defaults and the checks of single fields that need nothing but
//! the spec itself (and, for paths that must exist, the filesystem). The network part is checked
//! by `net::validate`, the limits by `cgroups::Resources::validate`; the container builder runs
//! all three before any side effect.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::cgroups::Resources;
use crate::errno::os_message;

/// Namespace flags, the bits of `container_config_set_namespaces`.
pub mod ns {
    pub const UTS: u32 = 1 << 0;
    pub const MOUNT: u32 = 1 << 1;
    pub const PID: u32 = 1 << 2;
    pub const NET: u32 = 1 << 3;
    pub const IPC: u32 = 1 << 4;
    pub const CGROUP: u32 = 1 << 5;
    pub const ALL: u32 = UTS | MOUNT | PID | NET | IPC | CGROUP;
}

pub const DEFAULT_HOSTNAME: &str = "container";
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// Bind a host path into the container.
    Bind { source: PathBuf, readonly: bool },
    /// A fresh tmpfs; `options` is passed to the kernel as mount data (e.g. "size=64m,mode=1777").
    Tmpfs { options: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path inside the container.
    pub destination: PathBuf,
    pub kind: MountKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// A private network namespace with only `lo`.
    #[default]
    None,
    /// A veth pair attached to a bridge on the host.
    Bridge,
    /// The host's network namespace.
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSpec {
    pub mode: NetworkMode,
    pub bridge: String,
    /// The bridge subnet; the gateway (the bridge's address) is its first host address. None:
    /// the subnet recorded for the bridge, else the first free one of the default pool
    /// (`net::bridge::SUBNET_POOL`).
    pub subnet: Option<(Ipv4Addr, u8)>,
    /// A static address inside the subnet; None = leased automatically.
    pub ip: Option<Ipv4Addr>,
    pub ports: Vec<PortMapping>,
}

pub const DEFAULT_BRIDGE: &str = "docker-run0";

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            mode: NetworkMode::None,
            bridge: DEFAULT_BRIDGE.to_string(),
            subnet: None,
            ip: None,
            ports: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// `--name`; also the container id's alias in the state directory.
    pub name: Option<String>,
    /// The bottom (or only) lower layer of the container's copy-on-write root.
    pub rootfs: PathBuf,
    /// More read-only lower layers stacked above `rootfs`, bottom first (an image's layers).
    pub layers: Vec<PathBuf>,
    /// Use `rootfs` itself as the root instead of a copy-on-write overlay of its own: whatever
    /// the container writes lands in `rootfs`, seen by every later container. Unsafe for more
    /// than one container (the original tutorial's behaviour).
    pub rootfs_shared: bool,
    pub readonly_rootfs: bool,
    pub hostname: String,
    /// argv[0] is looked up in the container's PATH when it has no '/'.
    pub args: Vec<OsString>,
    /// KEY=VALUE entries; PATH gets a default when missing.
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub namespaces: u32,
    pub mounts: Vec<Mount>,
    pub terminal: bool,
    /// Run a tiny init as PID 1 that reaps zombies and forwards signals (`docker run --init`).
    pub init: bool,
    /// chroot instead of pivot_root (escapable: only for hosts where pivot_root is impossible,
    /// such as a rootfs on the initramfs).
    pub no_pivot: bool,
    pub network: NetworkSpec,
    pub resources: Resources,
    /// The seccomp filter of the container's processes (Docker's default profile by default).
    pub seccomp: Seccomp,
    /// An image to run (`docker run IMAGE`): the container builder resolves it in its store,
    /// sets `rootfs` and `layers` to its layers (under any `layers` given) and fills what
    /// `explicit` does not mark from the image's config, as Docker does.
    pub image: Option<ImageChoice>,
    /// Which process fields the caller set, so that an image's defaults fill only the others.
    pub explicit: Explicit,
}

/// The image a container runs (see `ContainerSpec::image`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageChoice {
    /// The image store's root (image::DEFAULT_ROOT normally).
    pub store: PathBuf,
    /// A name, id or unique id prefix, as `docker run` takes it.
    pub name: String,
    /// The image id ("sha256:..."), filled in by the builder; recorded with the container so
    /// that `rmi` refuses an image a container uses.
    pub id: Option<String>,
}

/// Process fields the caller set explicitly (the C setters mark them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Explicit {
    /// argv: the image's Cmd is replaced (its Entrypoint kept).
    pub args: bool,
    pub cwd: bool,
    pub user: bool,
}

/// Which seccomp filter a container's processes get (`--security-opt seccomp=...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Seccomp {
    /// Docker's default profile (moby's default.json), resolved for the container's capabilities.
    #[default]
    DockerDefault,
    /// No filter at all (`seccomp=unconfined`), as in Docker.
    Unconfined,
    /// A profile in Docker's JSON format (or the OCI one), resolved for the container's
    /// capabilities and compiled at start; checked when set.
    DockerJson(std::sync::Arc<[u8]>),
}

impl Seccomp {
    /// The value of `--security-opt seccomp=VALUE`, as Docker reads it: `unconfined`, or the
    /// path of a JSON profile (read now; its content is checked when the container is built).
    pub fn from_option(value: &std::ffi::OsStr) -> Result<Seccomp, SpecError> {
        if value == "unconfined" {
            return Ok(Seccomp::Unconfined);
        }
        let path = PathBuf::from(value);
        std::fs::read(&path)
            .map(|bytes| Seccomp::DockerJson(bytes.into()))
            .map_err(|source| SpecError::SeccompFile { path, source })
    }
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            name: None,
            rootfs: PathBuf::new(),
            layers: Vec::new(),
            rootfs_shared: false,
            readonly_rootfs: false,
            hostname: DEFAULT_HOSTNAME.to_string(),
            args: vec!["/bin/sh".into()],
            env: Vec::new(),
            cwd: PathBuf::from("/"),
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            namespaces: ns::ALL,
            mounts: Vec::new(),
            terminal: false,
            init: false,
            no_pivot: false,
            network: NetworkSpec::default(),
            resources: Resources::default(),
            seccomp: Seccomp::default(),
            image: None,
            explicit: Explicit::default(),
        }
    }
}

/// A mistake in a container spec: one variant per mistake, the message from the variant.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("no root filesystem given")]
    NoRootfs,
    #[error("rootfs {}: not a directory", .0.display())]
    RootfsNotDirectory(PathBuf),
    #[error("layer {}: not a directory", .0.display())]
    LayerNotDirectory(PathBuf),
    #[error("layer {}: {}", path.display(), os_message(source))]
    Layer {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "rootfs layers need the copy-on-write root: they cannot be combined with a shared rootfs"
    )]
    LayersNeedOverlay,
    #[error("rootfs {}: {}", path.display(), os_message(source))]
    Rootfs {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "an image's layers need the copy-on-write root: an image cannot run with a shared rootfs"
    )]
    ImageNeedsOverlay,
    #[error("no command given: argv is empty (argc 0)")]
    NoCommand,
    #[error("the command (argv[0]) is an empty string")]
    EmptyCommand,
    /// `what` names the value: "an argument", "the working directory", ...
    #[error("{what} contains a NUL byte")]
    NulByte { what: &'static str },
    #[error("environment entry {0:?}: expected KEY=VALUE")]
    EnvEntry(String),
    #[error("unknown namespace flags {0:#x}")]
    UnknownNamespaces(u32),
    #[error("a container needs its own mount namespace (it pivots into the rootfs)")]
    NoMountNamespace,
    #[error("invalid hostname {name:?}: {why}")]
    Hostname { name: String, why: HostnameProblem },
    #[error("invalid container name {0:?}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 bytes")]
    Name(String),
    #[error("uid/gid 4294967295 is reserved")]
    ReservedId,
    #[error("{what} {}: must be an absolute path", path.display())]
    NotAbsolute { what: &'static str, path: PathBuf },
    #[error("{what} {}: must not contain '..'", path.display())]
    ParentComponent { what: &'static str, path: PathBuf },
    #[error("mount destination /: cannot mount over the root")]
    MountOverRoot,
    #[error("bind mount source {}: {}", path.display(), os_message(source))]
    BindSource {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("seccomp profile {}: {}", path.display(), os_message(source))]
    SeccompFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("network mode none/bridge needs a network namespace (or use network mode host)")]
    NetworkNeedsNamespace,
    #[error("published ports (-p) need bridge networking")]
    PortsNeedBridge,
}

impl SpecError {
    /// The errno behind the mistake, when the filesystem reported it.
    pub fn errno(&self) -> Option<i32> {
        match self {
            SpecError::Rootfs { source, .. }
            | SpecError::BindSource { source, .. }
            | SpecError::SeccompFile { source, .. }
            | SpecError::Layer { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// Why a hostname is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HostnameProblem {
    #[error("empty")]
    Empty,
    #[error("longer than 64 bytes")]
    TooLong,
    #[error("empty label")]
    EmptyLabel,
    #[error("a label starts or ends with '-'")]
    DashAtEdge,
    #[error("only letters, digits, '-' and '.' are allowed")]
    BadCharacter,
}

pub type Result<T, E = SpecError> = std::result::Result<T, E>;

/// A C string for the kernel; `what` names the value in the error when it holds a NUL byte.
pub fn cstring(what: &'static str, s: impl AsRef<std::ffi::OsStr>) -> Result<std::ffi::CString> {
    std::ffi::CString::new(s.as_ref().as_bytes()).map_err(|_| SpecError::NulByte { what })
}

/// RFC 1123 host name: labels of [A-Za-z0-9-], not starting or ending with '-', at most 64 bytes
/// in all (the kernel's limit).
pub fn validate_hostname(name: &str) -> Result<()> {
    let why = if name.is_empty() {
        Some(HostnameProblem::Empty)
    } else if name.len() > 64 {
        Some(HostnameProblem::TooLong)
    } else {
        name.split('.').find_map(|label| {
            if label.is_empty() {
                Some(HostnameProblem::EmptyLabel)
            } else if label.starts_with('-') || label.ends_with('-') {
                Some(HostnameProblem::DashAtEdge)
            } else if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                Some(HostnameProblem::BadCharacter)
            } else {
                None
            }
        })
    };
    match why {
        Some(why) => Err(SpecError::Hostname {
            name: name.to_string(),
            why,
        }),
        None => Ok(()),
    }
}

/// A container name (`--name`): Docker's rule, `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 64 bytes.
pub fn validate_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(SpecError::Name(name.to_string()))
    }
}

/// A container-side path: absolute, no "..", no NUL.
pub fn validate_container_path(what: &'static str, path: &Path) -> Result<()> {
    if !path.is_absolute() {
        return Err(SpecError::NotAbsolute {
            what,
            path: path.to_path_buf(),
        });
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(SpecError::ParentComponent {
            what,
            path: path.to_path_buf(),
        });
    }
    if path.as_os_str().as_bytes().contains(&0) {
        return Err(SpecError::NulByte { what });
    }
    Ok(())
}

/// The command: at least argv[0], which is not empty; no NUL bytes.
pub fn validate_command(args: &[OsString]) -> Result<()> {
    match args.first() {
        None => return Err(SpecError::NoCommand),
        Some(a) if a.is_empty() => return Err(SpecError::EmptyCommand),
        Some(_) => {}
    }
    if args.iter().any(|a| a.as_bytes().contains(&0)) {
        return Err(SpecError::NulByte {
            what: "an argument",
        });
    }
    Ok(())
}

/// One environment entry: KEY=VALUE with a non-empty key, no NUL byte.
pub fn validate_env_entry(entry: &[u8]) -> Result<()> {
    if entry.contains(&0) {
        return Err(SpecError::NulByte {
            what: "an environment entry",
        });
    }
    match entry.iter().position(|&c| c == b'=') {
        Some(p) if p > 0 => Ok(()),
        _ => Err(SpecError::EnvEntry(
            String::from_utf8_lossy(entry).into_owned(),
        )),
    }
}

/// Known namespace bits only, the mount namespace among them.
pub fn validate_namespaces(flags: u32) -> Result<()> {
    if flags & !ns::ALL != 0 {
        return Err(SpecError::UnknownNamespaces(flags & !ns::ALL));
    }
    if flags & ns::MOUNT == 0 {
        return Err(SpecError::NoMountNamespace);
    }
    Ok(())
}

/// uid and gid: any but (uid_t)-1, which the kernel reads as "leave unchanged".
pub fn validate_user(uid: u32, gid: u32) -> Result<()> {
    if uid == u32::MAX || gid == u32::MAX {
        Err(SpecError::ReservedId)
    } else {
        Ok(())
    }
}

impl Mount {
    /// What can be checked without the filesystem: the destination, an absolute bind source,
    /// tmpfs options without NUL.
    pub fn validate_syntax(&self) -> Result<()> {
        let what = match self.kind {
            MountKind::Bind { .. } => "mount destination",
            MountKind::Tmpfs { .. } => "tmpfs destination",
        };
        validate_container_path(what, &self.destination)?;
        if self.destination == Path::new("/") {
            return Err(SpecError::MountOverRoot);
        }
        match &self.kind {
            MountKind::Bind { source, .. } if !source.is_absolute() => {
                Err(SpecError::NotAbsolute {
                    what: "bind mount source",
                    path: source.clone(),
                })
            }
            MountKind::Tmpfs { options } if options.contains('\0') => Err(SpecError::NulByte {
                what: "tmpfs options",
            }),
            _ => Ok(()),
        }
    }

    /// [`validate_syntax`](Self::validate_syntax), and a bind source that exists.
    pub fn validate(&self) -> Result<()> {
        self.validate_syntax()?;
        if let MountKind::Bind { source, .. } = &self.kind {
            std::fs::metadata(source).map_err(|e| SpecError::BindSource {
                path: source.clone(),
                source: e,
            })?;
        }
        Ok(())
    }
}

impl ContainerSpec {
    /// Checks the spec's own fields before any side effect (the network and the limits are
    /// checked by their modules: see the module doc).
    pub fn validate(&self) -> Result<()> {
        self.validate_root()?;
        self.validate_process()?;
        validate_namespaces(self.namespaces)?;
        if self.namespaces & ns::UTS != 0 {
            validate_hostname(&self.hostname)?;
        }
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        for m in &self.mounts {
            m.validate()?;
        }
        self.validate_network_mode()
    }

    fn validate_root(&self) -> Result<()> {
        if self.rootfs.as_os_str().is_empty() {
            return Err(SpecError::NoRootfs);
        }
        match std::fs::metadata(&self.rootfs) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(SpecError::RootfsNotDirectory(self.rootfs.clone())),
            Err(e) => {
                return Err(SpecError::Rootfs {
                    path: self.rootfs.clone(),
                    source: e,
                });
            }
        }
        if self.rootfs_shared && !self.layers.is_empty() {
            return Err(SpecError::LayersNeedOverlay);
        }
        for layer in &self.layers {
            if !layer.is_absolute() {
                return Err(SpecError::NotAbsolute {
                    what: "layer",
                    path: layer.clone(),
                });
            }
            match std::fs::metadata(layer) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(SpecError::LayerNotDirectory(layer.clone())),
                Err(e) => {
                    return Err(SpecError::Layer {
                        path: layer.clone(),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    fn validate_process(&self) -> Result<()> {
        validate_command(&self.args)?;
        for e in &self.env {
            validate_env_entry(e.as_bytes())?;
        }
        validate_container_path("working directory", &self.cwd)?;
        validate_user(self.uid, self.gid)
    }

    /// The mode against the namespaces; the bridge itself is `net::validate`'s.
    fn validate_network_mode(&self) -> Result<()> {
        let net = &self.network;
        // Host mode simply means "no network namespace": the flag is ignored then.
        if net.mode != NetworkMode::Host && self.namespaces & ns::NET == 0 {
            return Err(SpecError::NetworkNeedsNamespace);
        }
        if !net.ports.is_empty() && net.mode != NetworkMode::Bridge {
            return Err(SpecError::PortsNeedBridge);
        }
        Ok(())
    }

    /// The namespaces actually created: host networking drops the network namespace.
    pub fn effective_namespaces(&self) -> u32 {
        if self.network.mode == NetworkMode::Host {
            self.namespaces & !ns::NET
        } else {
            self.namespaces
        }
    }

    /// The environment with a default PATH (and HOSTNAME, HOME, TERM like Docker).
    pub fn effective_env(&self) -> Vec<OsString> {
        let has = |key: &str| {
            self.env.iter().any(|e| {
                let b = e.as_bytes();
                b.len() > key.len() && b.starts_with(key.as_bytes()) && b[key.len()] == b'='
            })
        };
        let mut env = Vec::with_capacity(self.env.len() + 4);
        if !has("PATH") {
            env.push(DEFAULT_PATH.into());
        }
        if !has("HOSTNAME") {
            env.push(format!("HOSTNAME={}", self.hostname).into());
        }
        if !has("HOME") {
            env.push(
                if self.uid == 0 {
                    "HOME=/root"
                } else {
                    "HOME=/"
                }
                .into(),
            );
        }
        if self.terminal && !has("TERM") {
            env.push("TERM=xterm".into());
        }
        env.extend(self.env.iter().cloned());
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(validate_hostname("container").is_ok());
        assert!(validate_hostname("a-b.c1").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "a..b",
            "a b",
            "x".repeat(65).as_str(),
            "ünï",
        ] {
            let err = validate_hostname(bad).unwrap_err().to_string();
            assert!(err.contains("invalid hostname"), "{bad}: {err}");
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn env_gets_default_path_once() {
        let spec = ContainerSpec {
            env: vec!["A=1".into()],
            ..Default::default()
        };
        let env = spec.effective_env();
        assert_eq!(
            env.iter()
                .filter(|e| e.as_bytes().starts_with(b"PATH="))
                .count(),
            1
        );
        let spec = ContainerSpec {
            env: vec!["PATH=/x".into()],
            ..Default::default()
        };
        let env = spec.effective_env();
        assert!(env.contains(&"PATH=/x".into()));
        assert_eq!(
            env.iter()
                .filter(|e| e.as_bytes().starts_with(b"PATH="))
                .count(),
            1
        );
    }

    #[test]
    fn field_validators() {
        assert!(validate_name("web-1.a_b").is_ok());
        for bad in ["", "-x", "a b", &"x".repeat(65)] {
            assert!(
                matches!(validate_name(bad), Err(SpecError::Name(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(validate_command(&[]), Err(SpecError::NoCommand)));
        assert!(matches!(
            validate_command(&["".into()]),
            Err(SpecError::EmptyCommand)
        ));
        assert!(validate_env_entry(b"A=").is_ok());
        for bad in [&b"NOEQUALS"[..], b"=v", b"A=\0"] {
            assert!(validate_env_entry(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            validate_namespaces(ns::ALL | 64),
            Err(SpecError::UnknownNamespaces(64))
        ));
        assert!(matches!(
            validate_namespaces(ns::UTS),
            Err(SpecError::NoMountNamespace)
        ));
        assert!(matches!(
            validate_user(u32::MAX, 0),
            Err(SpecError::ReservedId)
        ));
        let over_root = Mount {
            destination: "/".into(),
            kind: MountKind::Tmpfs {
                options: String::new(),
            },
        };
        assert!(matches!(
            over_root.validate_syntax(),
            Err(SpecError::MountOverRoot)
        ));
        let err = validate_container_path("working directory", Path::new("/a/../b")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "working directory /a/../b: must not contain '..'"
        );
    }

    #[test]
    fn validation_names_the_problem() {
        let tmp = std::env::temp_dir();
        let ok = ContainerSpec {
            rootfs: tmp.clone(),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let missing = ContainerSpec {
            rootfs: "/nonexistent/rootfs".into(),
            ..Default::default()
        };
        let msg = missing.validate().unwrap_err().to_string();
        assert!(
            msg.contains("/nonexistent/rootfs") && msg.contains("No such file"),
            "{msg}"
        );
        let empty = ContainerSpec {
            rootfs: tmp.clone(),
            args: vec![],
            ..Default::default()
        };
        assert!(
            empty
                .validate()
                .unwrap_err()
                .to_string()
                .contains("argv is empty")
        );
        let rel = ContainerSpec {
            rootfs: tmp.clone(),
            cwd: "x".into(),
            ..Default::default()
        };
        assert!(rel.validate().unwrap_err().to_string().contains("absolute"));
        let bind = ContainerSpec {
            rootfs: tmp,
            mounts: vec![Mount {
                destination: "/data".into(),
                kind: MountKind::Bind {
                    source: "/no/such/dir".into(),
                    readonly: false,
                },
            }],
            ..Default::default()
        };
        let msg = bind.validate().unwrap_err().to_string();
        assert!(msg.contains("bind mount source /no/such/dir"), "{msg}");
        assert_eq!(bind.validate().unwrap_err().errno(), Some(libc::ENOENT));
    }
}
