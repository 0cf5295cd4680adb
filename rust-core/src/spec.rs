//! The container specification. Field names follow the OCI runtime spec (process, root, mounts,
//! linux.namespaces, linux.resources) so that an OCI front end is a thin layer over this.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::cgroups::Resources;
use crate::error::{Error, Result};

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
    pub rootfs: PathBuf,
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
}

impl Default for ContainerSpec {
    fn default() -> Self {
        ContainerSpec {
            name: None,
            rootfs: PathBuf::new(),
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
        }
    }
}

/// RFC 1123 host name: labels of [A-Za-z0-9-], not starting or ending with '-', at most 64 bytes
/// in all (the kernel's limit).
pub fn validate_hostname(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("invalid hostname {name:?}: {why}")));
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > 64 {
        return bad("longer than 64 bytes");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return bad("empty label");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with '-'");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return bad("only letters, digits, '-' and '.' are allowed");
        }
    }
    Ok(())
}

/// A container-side path: absolute, no "..", no NUL.
pub fn validate_container_path(what: &str, path: &Path) -> Result<()> {
    if !path.is_absolute() {
        return Err(Error::invalid(format!("{what} {}: must be an absolute path", path.display())));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(Error::invalid(format!("{what} {}: must not contain '..'", path.display())));
    }
    if path.as_os_str().as_bytes().contains(&0) {
        return Err(Error::invalid(format!("{what}: contains a NUL byte")));
    }
    Ok(())
}

impl ContainerSpec {
    /// Checks the whole spec before any side effect.
    pub fn validate(&self) -> Result<()> {
        if self.rootfs.as_os_str().is_empty() {
            return Err(Error::invalid("no root filesystem given"));
        }
        match std::fs::metadata(&self.rootfs) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::invalid(format!(
                    "rootfs {}: not a directory",
                    self.rootfs.display()
                )));
            }
            Err(e) => {
                return Err(Error::Io { path: self.rootfs.clone(), source: e }.with_prefix("rootfs"));
            }
        }
        if self.args.is_empty() {
            return Err(Error::invalid("no command given (argv is empty)"));
        }
        if self.args[0].is_empty() {
            return Err(Error::invalid("the command (argv[0]) is an empty string"));
        }
        for a in self.args.iter().chain(self.env.iter()) {
            if a.as_bytes().contains(&0) {
                return Err(Error::invalid("an argument or environment entry contains a NUL byte"));
            }
        }
        for e in &self.env {
            let b = e.as_bytes();
            match b.iter().position(|&c| c == b'=') {
                Some(0) | None => {
                    return Err(Error::invalid(format!(
                        "environment entry {:?}: expected KEY=VALUE",
                        e.to_string_lossy()
                    )));
                }
                Some(_) => {}
            }
        }
        if self.namespaces & !ns::ALL != 0 {
            return Err(Error::invalid(format!(
                "unknown namespace flags {:#x}",
                self.namespaces & !ns::ALL
            )));
        }
        if self.namespaces & ns::UTS != 0 {
            validate_hostname(&self.hostname)?;
        }
        if self.namespaces & ns::MOUNT == 0 {
            return Err(Error::invalid(
                "a container needs its own mount namespace (it pivots into the rootfs)",
            ));
        }
        validate_container_path("working directory", &self.cwd)?;
        for m in &self.mounts {
            validate_container_path("mount destination", &m.destination)?;
            if m.destination == Path::new("/") {
                return Err(Error::invalid("mount destination /: cannot mount over the root"));
            }
            match &m.kind {
                MountKind::Bind { source, .. } => {
                    if !source.is_absolute() {
                        return Err(Error::invalid(format!(
                            "bind mount source {}: must be an absolute path",
                            source.display()
                        )));
                    }
                    if let Err(e) = std::fs::metadata(source) {
                        return Err(Error::Io { path: source.clone(), source: e }
                            .with_prefix("bind mount source"));
                    }
                }
                MountKind::Tmpfs { options } => {
                    if options.contains('\0') {
                        return Err(Error::invalid("tmpfs options contain a NUL byte"));
                    }
                }
            }
        }
        let net = &self.network;
        if net.mode != NetworkMode::Host && self.namespaces & ns::NET == 0 {
            return Err(Error::invalid(
                "network mode none/bridge needs a network namespace (or use network mode host)",
            ));
        }
        if net.mode == NetworkMode::Host && self.namespaces & ns::NET != 0 {
            // Host mode simply means "no network namespace".
        }
        if !net.ports.is_empty() && net.mode != NetworkMode::Bridge {
            return Err(Error::invalid("published ports (-p) need bridge networking"));
        }
        if net.mode == NetworkMode::Bridge {
            crate::net::validate(net)?;
        }
        Ok(())
    }

    /// The namespaces actually created: host networking drops the network namespace.
    pub fn effective_namespaces(&self) -> u32 {
        if self.network.mode == NetworkMode::Host { self.namespaces & !ns::NET } else { self.namespaces }
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
            env.push(if self.uid == 0 { "HOME=/root" } else { "HOME=/" }.into());
        }
        if self.terminal && !has("TERM") {
            env.push("TERM=xterm".into());
        }
        env.extend(self.env.iter().cloned());
        env
    }
}

impl Error {
    fn with_prefix(self, what: &str) -> Error {
        match self {
            Error::Io { path, source } => Error::Io {
                path: PathBuf::from(format!("{what} {}", path.display())),
                source,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(validate_hostname("container").is_ok());
        assert!(validate_hostname("a-b.c1").is_ok());
        for bad in ["", "-a", "a-", "a..b", "a b", "x".repeat(65).as_str(), "ünï"] {
            let err = validate_hostname(bad).unwrap_err().to_string();
            assert!(err.contains("invalid hostname"), "{bad}: {err}");
        }
    }

    #[test]
    fn env_gets_default_path_once() {
        let spec = ContainerSpec { env: vec!["A=1".into()], ..Default::default() };
        let env = spec.effective_env();
        assert_eq!(env.iter().filter(|e| e.as_bytes().starts_with(b"PATH=")).count(), 1);
        let spec = ContainerSpec { env: vec!["PATH=/x".into()], ..Default::default() };
        let env = spec.effective_env();
        assert!(env.contains(&"PATH=/x".into()));
        assert_eq!(env.iter().filter(|e| e.as_bytes().starts_with(b"PATH=")).count(), 1);
    }

    #[test]
    fn validation_names_the_problem() {
        let tmp = std::env::temp_dir();
        let ok = ContainerSpec { rootfs: tmp.clone(), ..Default::default() };
        assert!(ok.validate().is_ok());
        let missing = ContainerSpec { rootfs: "/nonexistent/rootfs".into(), ..Default::default() };
        let msg = missing.validate().unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/rootfs") && msg.contains("No such file"), "{msg}");
        let empty = ContainerSpec { rootfs: tmp.clone(), args: vec![], ..Default::default() };
        assert!(empty.validate().unwrap_err().to_string().contains("argv is empty"));
        let rel = ContainerSpec { rootfs: tmp.clone(), cwd: "x".into(), ..Default::default() };
        assert!(rel.validate().unwrap_err().to_string().contains("absolute"));
        let bind = ContainerSpec {
            rootfs: tmp,
            mounts: vec![Mount {
                destination: "/data".into(),
                kind: MountKind::Bind { source: "/no/such/dir".into(), readonly: false },
            }],
            ..Default::default()
        };
        let msg = bind.validate().unwrap_err().to_string();
        assert!(msg.contains("bind mount source /no/such/dir"), "{msg}");
    }
}
