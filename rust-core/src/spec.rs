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
    /// A user namespace (needs uid and gid mappings); not in `ALL`, docker-run has none.
    pub const USER: u32 = 1 << 6;
    /// Every bit a spec may set.
    pub const KNOWN: u32 = ALL | USER;
}

pub const DEFAULT_HOSTNAME: &str = "container";
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MountKind {
    /// Bind a host path into the container.
    Bind { source: PathBuf, readonly: bool },
    /// A fresh tmpfs; `options` is passed to the kernel as mount data (e.g. "size=64m,mode=1777").
    Tmpfs { options: String },
    /// A mount exactly as an OCI config.json gives it: a bind (`flags` has MS_BIND, and MS_REC
    /// for rbind) or a file system of type `fstype`; `flags` are the MS_* flags (a bind's
    /// MS_RDONLY, MS_NOSUID, ... are applied by a remount after it), `propagation` the
    /// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) applied last, `data` the rest.
    Raw {
        source: PathBuf,
        fstype: Option<String>,
        flags: libc::c_ulong,
        propagation: libc::c_ulong,
        data: String,
    },
    /// The container's own cgroups (OCI type cgroup/cgroup2): a tmpfs with a bind of the
    /// container's cgroup directory per v1 hierarchy (or the v2 directory itself), as runc.
    Cgroup { readonly: bool },
}

/// One of the five capability sets of a process, as bit masks (bit N = capability N).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

/// A resource limit (setrlimit), `resource` a RLIMIT_* number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// One line of /proc/<pid>/uid_map or gid_map: `size` ids from `container_id` inside map to
/// `host_id` outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMapping {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

/// A device node made in the container's /dev (mknod, or a bind of the host's node in a user
/// namespace, as runc does).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Device {
    /// Absolute path inside the container.
    pub path: PathBuf,
    /// libc::S_IFCHR, S_IFBLK or S_IFIFO.
    pub kind: u32,
    pub major: u64,
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// An OCI hook: a program run with the container's state on its stdin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    pub path: PathBuf,
    /// argv, argv[0] included (the path when config.json gives none).
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    pub timeout: Option<std::time::Duration>,
}

/// The state of a container, as the OCI runtime specification defines it (hooks get it on
/// their stdin, `state` prints it).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState {
    pub oci_version: String,
    pub id: String,
    /// creating, created, running or stopped.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub bundle: PathBuf,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

impl OciState {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The OCI hooks, by the point of the lifecycle they run at.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Hooks {
    /// The state the hooks of `start` get (its status and pid are filled in then).
    pub state: OciState,
    pub prestart: Vec<Hook>,
    pub create_runtime: Vec<Hook>,
    pub create_container: Vec<Hook>,
    pub start_container: Vec<Hook>,
    pub poststart: Vec<Hook>,
    pub poststop: Vec<Hook>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.prestart.is_empty()
            && self.create_runtime.is_empty()
            && self.create_container.is_empty()
            && self.start_container.is_empty()
            && self.poststart.is_empty()
            && self.poststop.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mount {
    /// Absolute path inside the container.
    pub destination: PathBuf,
    pub kind: MountKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NetworkMode {
    /// A private network namespace with only `lo`.
    #[default]
    None,
    /// A veth pair attached to a bridge on the host.
    Bridge,
    /// The host's network namespace.
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    // What an OCI bundle sets; the defaults are docker-run's behaviour.
    /// setdomainname (with a UTS namespace).
    pub domainname: Option<String>,
    /// Docker's /proc, /sys and minimal /dev before the user's mounts. False for an OCI bundle:
    /// its mounts are the whole list (the default devices and /dev symlinks are still made).
    pub system_mounts: bool,
    /// Add Docker's PATH, HOSTNAME, HOME and TERM when missing; false: the environment as
    /// given, plus HOME when missing (as runc).
    pub env_defaults: bool,
    /// None: Docker's masked paths; Some: exactly these.
    pub masked_paths: Option<Vec<PathBuf>>,
    /// None: Docker's read-only paths; Some: exactly these.
    pub readonly_paths: Option<Vec<PathBuf>>,
    /// None: Docker's default set (bounding, and effective and permitted for root); Some: the
    /// five sets exactly.
    pub capabilities: Option<Capabilities>,
    pub no_new_privileges: bool,
    pub rlimits: Vec<Rlimit>,
    /// (key, value) written to /proc/sys inside the container (key with dots or slashes).
    pub sysctl: Vec<(String, String)>,
    pub umask: Option<u32>,
    pub oom_score_adj: Option<i32>,
    /// personality(2) domain: PER_LINUX (0) or PER_LINUX32 (8).
    pub personality: Option<u32>,
    /// With `ns::USER`: the mappings the parent writes (both must be non-empty).
    pub uid_mappings: Vec<IdMapping>,
    pub gid_mappings: Vec<IdMapping>,
    /// Namespaces joined instead of created: (ns bit, /proc/<pid>/ns/<type> or a bind of it).
    pub namespace_paths: Vec<(u32, PathBuf)>,
    /// Device nodes made in /dev beside the standard ones.
    pub devices: Vec<Device>,
    /// The container's cgroup: None, `docker-run/<id>` under each controller; Some(absolute
    /// path): that path under each v1 controller (or the cgroup2 root).
    pub cgroups_path: Option<PathBuf>,
    /// The OCI create/start split: the init does everything up to the exec, then blocks
    /// opening this fifo for writing until another process opens it for reading.
    pub exec_fifo: Option<PathBuf>,
    /// MS_* propagation of the root after setup (rootfsPropagation), e.g. MS_SLAVE | MS_REC.
    pub rootfs_propagation: Option<libc::c_ulong>,
    /// Descriptors 3..3+N of the caller passed to the command (runc --preserve-fds, systemd
    /// socket activation); every other one is closed or close-on-exec.
    pub preserve_fds: u32,
    /// The OCI hooks: `start` runs prestart, createRuntime and createContainer; without an exec
    /// fifo also startContainer and poststart. The rest is the front end's.
    pub hooks: Hooks,
    /// Everything of the container goes when it ends (`--rm`; the library's default). Without
    /// it its record, log and copy-on-write layer stay until removed (Docker's default).
    pub auto_remove: bool,
    /// What the monitor of a detached container does when it exits (`--restart`).
    pub restart: RestartPolicy,
}

/// Docker's `--restart` policies, applied by the monitor of a detached container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RestartPolicy {
    #[default]
    No,
    /// Restart after a non-zero exit, at most this many times (0: no limit).
    OnFailure(u32),
    /// Restart whatever the exit status, until stopped (`docker-run stop`, `kill`, `rm -f`).
    Always,
}

impl RestartPolicy {
    /// `no`, `on-failure`, `on-failure:N`, `always` (Docker's spelling; `unless-stopped` is
    /// `always` here: there is no daemon restart to tell them apart).
    pub fn parse(text: &str) -> Result<RestartPolicy> {
        let bad = || SpecError::Restart(text.to_string());
        match text {
            "no" => Ok(RestartPolicy::No),
            "always" | "unless-stopped" => Ok(RestartPolicy::Always),
            "on-failure" => Ok(RestartPolicy::OnFailure(0)),
            _ => {
                let n = text.strip_prefix("on-failure:").ok_or_else(bad)?;
                n.parse().map(RestartPolicy::OnFailure).map_err(|_| bad())
            }
        }
    }

    /// Docker's name (HostConfig.RestartPolicy.Name) and retry count.
    pub fn docker_name(self) -> (&'static str, u32) {
        match self {
            RestartPolicy::No => ("no", 0),
            RestartPolicy::OnFailure(n) => ("on-failure", n),
            RestartPolicy::Always => ("always", 0),
        }
    }

    /// Whether an exit with `code` after `restarts` restarts so far is followed by a restart.
    pub fn restarts(self, code: i32, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || restarts < max),
        }
    }
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
    /// The image's Entrypoint as the builder applied it: the start of `args` (docker
    /// inspect's Config.Entrypoint; the rest of `args` is its Config.Cmd).
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// The image's ExposedPorts (`8080/tcp`), filled in by the builder (Config.ExposedPorts).
    #[serde(default)]
    pub exposed_ports: Vec<String>,
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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
            domainname: None,
            system_mounts: true,
            env_defaults: true,
            masked_paths: None,
            readonly_paths: None,
            capabilities: None,
            no_new_privileges: true,
            rlimits: Vec::new(),
            sysctl: Vec::new(),
            umask: None,
            oom_score_adj: None,
            personality: None,
            uid_mappings: Vec::new(),
            gid_mappings: Vec::new(),
            namespace_paths: Vec::new(),
            devices: Vec::new(),
            cgroups_path: None,
            exec_fifo: None,
            rootfs_propagation: None,
            preserve_fds: 0,
            hooks: Hooks::default(),
            auto_remove: true,
            restart: RestartPolicy::No,
        }
    }
}

/// A mistake in a container spec: one variant per mistake, the message from the variant.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("invalid restart policy {0:?}: use no, on-failure[:N] or always")]
    Restart(String),
    #[error("--restart {0} cannot be combined with --rm (auto-removal)")]
    RestartWithRm(&'static str),
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
    #[error("a user namespace needs both uid and gid mappings")]
    UserNsNeedsMappings,
    #[error("uid/gid mappings need a user namespace")]
    MappingsNeedUserNs,
    #[error("{what} mapping {index}: size 0 or a range past 4294967295")]
    BadMapping { what: &'static str, index: usize },
    #[error("namespace path {}: {}", path.display(), os_message(source))]
    NamespacePath {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("namespace flag {0:#x} is both created and joined by path")]
    NamespaceTwice(u32),
    #[error("invalid sysctl {0:?}")]
    Sysctl(String),
}

impl SpecError {
    /// The errno behind the mistake, when the filesystem reported it.
    pub fn errno(&self) -> Option<i32> {
        match self {
            SpecError::Rootfs { source, .. }
            | SpecError::NamespacePath { source, .. }
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
    if flags & !ns::KNOWN != 0 {
        return Err(SpecError::UnknownNamespaces(flags & !ns::KNOWN));
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
            MountKind::Bind { .. } | MountKind::Raw { .. } | MountKind::Cgroup { .. } => {
                "mount destination"
            }
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
            MountKind::Raw { source, flags, .. }
                if flags & libc::MS_BIND != 0 && !source.is_absolute() =>
            {
                Err(SpecError::NotAbsolute {
                    what: "bind mount source",
                    path: source.clone(),
                })
            }
            MountKind::Raw { data, .. } if data.contains('\0') => Err(SpecError::NulByte {
                what: "mount options",
            }),
            _ => Ok(()),
        }
    }

    /// [`validate_syntax`](Self::validate_syntax), and a bind source that exists.
    pub fn validate(&self) -> Result<()> {
        self.validate_syntax()?;
        let bind_source = match &self.kind {
            MountKind::Bind { source, .. } => Some(source),
            MountKind::Raw { source, flags, .. } if flags & libc::MS_BIND != 0 => Some(source),
            _ => None,
        };
        if let Some(source) = bind_source {
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
        let joined_mnt = self.namespace_paths.iter().any(|(b, _)| *b == ns::MOUNT);
        validate_namespaces(self.namespaces | if joined_mnt { ns::MOUNT } else { 0 })?;
        if self.namespaces & ns::UTS != 0 {
            validate_hostname(&self.hostname)?;
        }
        if let Some(name) = &self.name {
            validate_name(name)?;
        }
        for m in &self.mounts {
            m.validate()?;
        }
        if self.auto_remove && self.restart != RestartPolicy::No {
            return Err(SpecError::RestartWithRm(self.restart.docker_name().0));
        }
        self.validate_user_namespace()?;
        self.validate_linux()?;
        self.validate_network_mode()
    }

    fn validate_user_namespace(&self) -> Result<()> {
        let joined = self.namespace_paths.iter().any(|(b, _)| *b == ns::USER);
        let maps = !self.uid_mappings.is_empty() || !self.gid_mappings.is_empty();
        if self.namespaces & ns::USER != 0 {
            if self.uid_mappings.is_empty() || self.gid_mappings.is_empty() {
                return Err(SpecError::UserNsNeedsMappings);
            }
        } else if maps && !joined {
            return Err(SpecError::MappingsNeedUserNs);
        }
        for (what, list) in [("uid", &self.uid_mappings), ("gid", &self.gid_mappings)] {
            for (index, m) in list.iter().enumerate() {
                let end = u64::from(m.container_id).max(u64::from(m.host_id)) + u64::from(m.size);
                if m.size == 0 || end > 1 << 32 {
                    return Err(SpecError::BadMapping { what, index });
                }
            }
        }
        Ok(())
    }

    /// Joined namespaces exist and are not created too; sysctl keys are plain.
    fn validate_linux(&self) -> Result<()> {
        for (bit, path) in &self.namespace_paths {
            validate_namespaces(*bit | ns::MOUNT)?;
            if self.namespaces & bit != 0 {
                return Err(SpecError::NamespaceTwice(*bit));
            }
            std::fs::metadata(path).map_err(|source| SpecError::NamespacePath {
                path: path.clone(),
                source,
            })?;
        }
        for (key, value) in &self.sysctl {
            let plain = !key.is_empty()
                && key
                    .split(['.', '/'])
                    .all(|p| !p.is_empty() && p != ".." && p != ".")
                && !key.contains('\0')
                && !value.contains('\0');
            if !plain {
                return Err(SpecError::Sysctl(key.clone()));
            }
        }
        Ok(())
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
        if !self.env_defaults {
            env.extend(self.env.iter().cloned());
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
            return env;
        }
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
            validate_namespaces(ns::KNOWN | 128),
            Err(SpecError::UnknownNamespaces(128))
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
