//! config.json (as oci-spec types) into a [`ContainerSpec`], field by field.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Linux, LinuxCapabilities, LinuxDeviceType, LinuxNamespaceType, LinuxResources, PosixRlimitType,
    Process, Spec,
};

use super::{OciBundle, OciError, Result, mounts};
use crate::cgroups::{Resources, ThrottleDevice};
use crate::spec::{
    Capabilities, ContainerSpec, Device, Hook, Hooks, IdMapping, NetworkMode, Rlimit, Seccomp, ns,
};

/// Where a relative `linux.cgroupsPath` goes: beneath this directory at the top of each
/// hierarchy (the front end's freezer cgroups use the same name).
pub const RELATIVE_CGROUP_PARENT: &str = "container-runtime";

/// Names the field a typed parse failed on: the first section (and, for `process` and
/// `linux`, the first member) that does not parse alone.
pub(super) fn locate(value: &serde_json::Value, err: serde_json::Error) -> OciError {
    use oci_spec::runtime as rt;
    fn check<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Option<String> {
        serde_json::from_value::<T>(v.clone())
            .err()
            .map(|e| e.to_string())
    }
    type Check = fn(&serde_json::Value) -> Option<String>;
    let sections: &[(&str, Check)] = &[
        ("ociVersion", check::<String>),
        ("root", check::<rt::Root>),
        ("mounts", check::<Vec<rt::Mount>>),
        ("process", check::<rt::Process>),
        ("hostname", check::<String>),
        ("domainname", check::<String>),
        ("hooks", check::<rt::Hooks>),
        (
            "annotations",
            check::<std::collections::HashMap<String, String>>,
        ),
        ("linux", check::<rt::Linux>),
    ];
    for (name, f) in sections {
        let Some(v) = value.get(*name) else { continue };
        let Some(message) = f(v) else { continue };
        let field = match (*name, v) {
            ("process" | "linux", serde_json::Value::Object(members)) => members
                .iter()
                .find(|(k, m)| {
                    let mut one = serde_json::Map::new();
                    one.insert((*k).clone(), (*m).clone());
                    if *name == "process" {
                        one.entry("cwd").or_insert("/".into());
                        one.entry("user")
                            .or_insert(serde_json::json!({"uid": 0, "gid": 0}));
                    }
                    f(&serde_json::Value::Object(one)).is_some()
                })
                .map_or(name.to_string(), |(k, _)| format!("{name}.{k}")),
            ("mounts", serde_json::Value::Array(items)) => items
                .iter()
                .position(|m| check::<rt::Mount>(m).is_some())
                .map_or(name.to_string(), |i| format!("mounts[{i}]")),
            _ => name.to_string(),
        };
        return OciError::Schema { field, message };
    }
    OciError::Schema {
        field: "(top level)".into(),
        message: err.to_string(),
    }
}

/// The whole config.json.
// long: the sections in the specification's order, then the checks across them.
pub(super) fn bundle(spec: &Spec, bundle: &Path) -> Result<OciBundle> {
    let mut warnings = Vec::new();
    let version = spec.version();
    if !version.starts_with("1.") {
        return Err(OciError::field(
            "ociVersion",
            format!("{version:?}: only 1.x is supported"),
        ));
    }
    let root = spec.root().as_ref().ok_or(OciError::Missing("root"))?;
    let rootfs_path = if root.path().is_absolute() {
        root.path().clone()
    } else {
        bundle.join(root.path())
    };
    let rootfs = std::fs::canonicalize(&rootfs_path).map_err(|e| {
        OciError::field(
            "root.path",
            format!(
                "{}: {}",
                rootfs_path.display(),
                crate::errno::os_message(&e)
            ),
        )
    })?;
    let process = spec
        .process()
        .as_ref()
        .ok_or(OciError::Missing("process"))?;
    let mut out = ContainerSpec {
        rootfs: rootfs.clone(),
        rootfs_shared: true,
        readonly_rootfs: root.readonly().unwrap_or(false),
        system_mounts: false,
        env_defaults: false,
        seccomp: Seccomp::Unconfined,
        namespaces: 0,
        hostname: spec.hostname().clone().unwrap_or_default(),
        domainname: spec.domainname().clone(),
        masked_paths: Some(Vec::new()),
        readonly_paths: Some(Vec::new()),
        ..Default::default()
    };
    apply_process(&mut out, process, "process", &mut warnings)?;
    if let Some(home) = passwd_home(&rootfs, out.uid).filter(|_| !has_env(&out.env, "HOME")) {
        out.env.push(format!("HOME={home}").into());
    }
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let field = format!("mounts[{i}]");
        if let Some(m) = mounts::mount(m, bundle, &field, &mut warnings)? {
            out.mounts.push(m);
        }
    }
    if let Some(h) = spec.hooks() {
        out.hooks = hooks(h)?;
    }
    let linux = spec.linux().as_ref().ok_or(OciError::Missing("linux"))?;
    apply_linux(&mut out, linux, &mut warnings)?;
    if out.hostname.is_empty() {
        // No hostname: the UTS namespace keeps the one it has (runc sets none).
        out.hostname = crate::spec::DEFAULT_HOSTNAME.into();
        if out.namespaces & ns::UTS != 0 {
            out.hostname = uts_hostname();
        }
    }
    let console_size = process
        .console_size()
        .map(|b| (b.height().min(65535) as u16, b.width().min(65535) as u16));
    let annotations: BTreeMap<String, String> = spec
        .annotations()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty())
        && out.namespaces & ns::UTS == 0
        && !out.namespace_paths.iter().any(|(b, _)| *b == ns::UTS)
    {
        return Err(OciError::field(
            "hostname",
            "needs a UTS namespace (linux.namespaces has none)",
        ));
    }
    out.hooks.state = crate::spec::OciState {
        oci_version: version.clone(),
        id: String::new(),
        status: "creating".into(),
        pid: None,
        bundle: bundle.to_path_buf(),
        annotations: annotations.clone(),
    };
    out.validate()
        .map_err(|e| OciError::field("(the spec as a whole)", e.to_string()))?;
    Ok(OciBundle {
        spec: out,
        annotations,
        rootfs,
        bundle: bundle.to_path_buf(),
        oci_version: version.clone(),
        console_size,
        warnings,
    })
}

fn has_env(env: &[OsString], key: &str) -> bool {
    use std::os::unix::ffi::OsStrExt;
    env.iter().any(|e| {
        let b = e.as_bytes();
        b.len() > key.len() && b.starts_with(key.as_bytes()) && b[key.len()] == b'='
    })
}

/// The home directory of `uid` in the rootfs's /etc/passwd (resolved inside the rootfs), as
/// runc sets HOME when the process has none.
fn passwd_home(rootfs: &Path, uid: u32) -> Option<String> {
    let path = crate::rootfs::secure_join(rootfs, Path::new("/etc/passwd")).ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 6 && fields[2].parse() == Ok(uid) && !fields[5].is_empty())
            .then(|| fields[5].to_string())
    })
}

/// The host's own hostname, which a new UTS namespace starts with.
fn uts_hostname() -> String {
    let mut buf = [0u8; 65];
    // SAFETY: gethostname writes at most buf.len() bytes into the stack buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if rc == 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        crate::spec::DEFAULT_HOSTNAME.into()
    }
}

fn strings(list: &Option<Vec<String>>) -> Vec<OsString> {
    list.iter().flatten().map(OsString::from).collect()
}

/// A capability set as a mask; `field` names it in errors.
fn cap_mask(set: &Option<oci_spec::runtime::Capabilities>, field: &str) -> Result<u64> {
    let mut mask = 0u64;
    for cap in set.iter().flatten() {
        let name = serde_json::to_value(cap)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let n = crate::seccomp::capability(&name)
            .ok_or_else(|| OciError::field(field, format!("unknown capability {name:?}")))?;
        mask |= 1u64 << n;
    }
    Ok(mask)
}

pub(super) fn capabilities(c: &Option<LinuxCapabilities>, field: &str) -> Result<Capabilities> {
    let Some(c) = c else {
        return Ok(Capabilities::default());
    };
    Ok(Capabilities {
        bounding: cap_mask(c.bounding(), &format!("{field}.bounding"))?,
        effective: cap_mask(c.effective(), &format!("{field}.effective"))?,
        permitted: cap_mask(c.permitted(), &format!("{field}.permitted"))?,
        inheritable: cap_mask(c.inheritable(), &format!("{field}.inheritable"))?,
        ambient: cap_mask(c.ambient(), &format!("{field}.ambient"))?,
    })
}

fn rlimit_number(t: PosixRlimitType) -> u32 {
    use PosixRlimitType as T;
    match t {
        T::RlimitCpu => libc::RLIMIT_CPU,
        T::RlimitFsize => libc::RLIMIT_FSIZE,
        T::RlimitData => libc::RLIMIT_DATA,
        T::RlimitStack => libc::RLIMIT_STACK,
        T::RlimitCore => libc::RLIMIT_CORE,
        T::RlimitRss => libc::RLIMIT_RSS,
        T::RlimitNproc => libc::RLIMIT_NPROC,
        T::RlimitNofile => libc::RLIMIT_NOFILE,
        T::RlimitMemlock => libc::RLIMIT_MEMLOCK,
        T::RlimitAs => libc::RLIMIT_AS,
        T::RlimitLocks => libc::RLIMIT_LOCKS,
        T::RlimitSigpending => libc::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        T::RlimitNice => libc::RLIMIT_NICE,
        T::RlimitRtprio => libc::RLIMIT_RTPRIO,
        T::RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

pub(super) fn rlimits(p: &Process, field: &str) -> Result<Vec<Rlimit>> {
    let mut out: Vec<Rlimit> = Vec::new();
    for (i, r) in p.rlimits().iter().flatten().enumerate() {
        let resource = rlimit_number(r.typ());
        let f = format!("{field}.rlimits[{i}]");
        if out.iter().any(|o| o.resource == resource) {
            return Err(OciError::field(f, format!("{:?} is given twice", r.typ())));
        }
        if r.soft() > r.hard() {
            return Err(OciError::field(f, "soft limit above the hard limit"));
        }
        out.push(Rlimit {
            resource,
            soft: r.soft(),
            hard: r.hard(),
        });
    }
    Ok(out)
}

/// SELinux or AppArmor asked for: refused where the host enforces one (we would run the
/// container without its confinement), a warning where it has none (as runc, which skips them).
fn label(
    what: &str,
    value: Option<&String>,
    enabled: bool,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<()> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if enabled => Err(OciError::field(
            field,
            format!("{v:?}: {what} is enabled on this host, and this runtime cannot apply it"),
        )),
        Some(v) => {
            warnings.push(format!(
                "{field} {v:?} ignored: {what} is not enabled on this host"
            ));
            Ok(())
        }
        None => Ok(()),
    }
}

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

fn apply_process(
    out: &mut ContainerSpec,
    p: &Process,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<()> {
    out.args = strings(p.args());
    if out.args.is_empty() {
        return Err(OciError::field(
            format!("{field}.args"),
            "must not be empty",
        ));
    }
    out.env = strings(p.env());
    out.cwd = p.cwd().clone();
    if !out.cwd.is_absolute() {
        return Err(OciError::field(
            format!("{field}.cwd"),
            format!("{}: must be an absolute path", out.cwd.display()),
        ));
    }
    let user = p.user();
    out.uid = user.uid();
    out.gid = user.gid();
    out.additional_gids = user.additional_gids().clone().unwrap_or_default();
    out.umask = user.umask();
    out.terminal = p.terminal().unwrap_or(false);
    out.capabilities = Some(capabilities(
        p.capabilities(),
        &format!("{field}.capabilities"),
    )?);
    out.rlimits = rlimits(p, field)?;
    out.no_new_privileges = p.no_new_privileges().unwrap_or(false);
    out.oom_score_adj = p.oom_score_adj();
    let apparmor = p.apparmor_profile().as_ref();
    label(
        "AppArmor",
        apparmor,
        apparmor_enabled(),
        &format!("{field}.apparmorProfile"),
        warnings,
    )?;
    let selinux = p.selinux_label().as_ref();
    label(
        "SELinux",
        selinux,
        selinux_enabled(),
        &format!("{field}.selinuxLabel"),
        warnings,
    )?;
    if p.io_priority().is_some() {
        return Err(OciError::field(
            format!("{field}.ioPriority"),
            "not supported",
        ));
    }
    if p.scheduler().is_some() {
        return Err(OciError::field(
            format!("{field}.scheduler"),
            "not supported",
        ));
    }
    if p.exec_cpu_affinity().is_some() {
        warnings.push(format!("{field}.execCPUAffinity ignored: not supported"));
    }
    Ok(())
}

fn hook_list(list: &Option<Vec<oci_spec::runtime::Hook>>, field: &str) -> Result<Vec<Hook>> {
    let mut out = Vec::new();
    for (i, h) in list.iter().flatten().enumerate() {
        let f = format!("hooks.{field}[{i}]");
        if !h.path().is_absolute() {
            return Err(OciError::field(
                format!("{f}.path"),
                format!("{}: must be an absolute path", h.path().display()),
            ));
        }
        let timeout = match h.timeout() {
            Some(t) if t <= 0 => {
                return Err(OciError::field(format!("{f}.timeout"), "must be positive"));
            }
            Some(t) => Some(std::time::Duration::from_secs(t as u64)),
            None => None,
        };
        let mut args = strings(h.args());
        if args.is_empty() {
            args.push(h.path().clone().into());
        }
        out.push(Hook {
            path: h.path().clone(),
            args,
            env: strings(h.env()),
            timeout,
        });
    }
    Ok(out)
}

fn hooks(h: &oci_spec::runtime::Hooks) -> Result<Hooks> {
    Ok(Hooks {
        prestart: hook_list(h.prestart(), "prestart")?,
        create_runtime: hook_list(h.create_runtime(), "createRuntime")?,
        create_container: hook_list(h.create_container(), "createContainer")?,
        start_container: hook_list(h.start_container(), "startContainer")?,
        poststart: hook_list(h.poststart(), "poststart")?,
        poststop: hook_list(h.poststop(), "poststop")?,
        state: Default::default(),
    })
}

fn namespace_bit(t: LinuxNamespaceType) -> Option<u32> {
    use LinuxNamespaceType as T;
    Some(match t {
        T::Mount => ns::MOUNT,
        T::Cgroup => ns::CGROUP,
        T::Uts => ns::UTS,
        T::Ipc => ns::IPC,
        T::User => ns::USER,
        T::Pid => ns::PID,
        T::Network => ns::NET,
        T::Time => return None,
    })
}

fn apply_namespaces(out: &mut ContainerSpec, linux: &Linux) -> Result<()> {
    let mut seen = 0u32;
    for (i, n) in linux.namespaces().iter().flatten().enumerate() {
        let field = format!("linux.namespaces[{i}]");
        let bit = namespace_bit(n.typ())
            .ok_or_else(|| OciError::field(&field, "time namespaces are not supported"))?;
        if seen & bit != 0 {
            return Err(OciError::field(
                &field,
                format!("{:?} is given twice", n.typ()),
            ));
        }
        seen |= bit;
        match n.path() {
            // The namespaces the clone creates would belong to the runtime's user namespace,
            // out of reach of the joined one's root: refused rather than failing at mount.
            Some(p) if !p.as_os_str().is_empty() && bit == ns::USER => {
                return Err(OciError::field(
                    format!("{field}.path"),
                    "joining a user namespace by path is not supported",
                ));
            }
            Some(p) if !p.as_os_str().is_empty() => {
                if !p.is_absolute() {
                    return Err(OciError::field(
                        format!("{field}.path"),
                        format!("{}: must be an absolute path", p.display()),
                    ));
                }
                std::fs::metadata(p).map_err(|e| {
                    OciError::field(
                        format!("{field}.path"),
                        format!("{}: {}", p.display(), crate::errno::os_message(&e)),
                    )
                })?;
                out.namespace_paths.push((bit, p.clone()));
            }
            _ => out.namespaces |= bit,
        }
    }
    if seen & ns::MOUNT == 0 {
        return Err(OciError::field(
            "linux.namespaces",
            "a mount namespace is required (the runtime pivots into the root)",
        ));
    }
    // A network namespace of its own gets lo up (as runc); none or a joined one is left alone.
    out.network.mode = if out.namespaces & ns::NET != 0 {
        NetworkMode::None
    } else {
        NetworkMode::Host
    };
    Ok(())
}

fn id_maps(list: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>) -> Vec<IdMapping> {
    list.iter()
        .flatten()
        .map(|m| IdMapping {
            container_id: m.container_id(),
            host_id: m.host_id(),
            size: m.size(),
        })
        .collect()
}

fn devices(linux: &Linux) -> Result<Vec<Device>> {
    let mut out = Vec::new();
    for (i, d) in linux.devices().iter().flatten().enumerate() {
        let field = format!("linux.devices[{i}]");
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => libc::S_IFCHR,
            LinuxDeviceType::B => libc::S_IFBLK,
            LinuxDeviceType::P => libc::S_IFIFO,
            LinuxDeviceType::A => {
                return Err(OciError::field(
                    format!("{field}.type"),
                    "\"a\" is not a node type",
                ));
            }
        };
        if !d.path().is_absolute() {
            return Err(OciError::field(
                format!("{field}.path"),
                format!("{}: must be an absolute path", d.path().display()),
            ));
        }
        if d.major() < 0 || d.minor() < 0 {
            return Err(OciError::field(&field, "negative major or minor number"));
        }
        out.push(Device {
            path: d.path().clone(),
            kind,
            major: d.major() as u64,
            minor: d.minor() as u64,
            mode: d.file_mode().unwrap_or(0o666),
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
        });
    }
    Ok(out)
}

// long: one statement per linux.* field, in the specification's order.
fn apply_linux(out: &mut ContainerSpec, linux: &Linux, warnings: &mut Vec<String>) -> Result<()> {
    apply_namespaces(out, linux)?;
    out.uid_mappings = id_maps(linux.uid_mappings());
    out.gid_mappings = id_maps(linux.gid_mappings());
    out.devices = devices(linux)?;
    if let Some(path) = linux.cgroups_path() {
        let text = path.to_string_lossy();
        if text.contains(':') && !text.starts_with('/') {
            return Err(OciError::field(
                "linux.cgroupsPath",
                format!(
                    "{text:?}: systemd cgroup paths (slice:prefix:name) need --systemd-cgroup, which is not supported"
                ),
            ));
        }
        if path
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(OciError::field(
                "linux.cgroupsPath",
                "must not contain '..'",
            ));
        }
        // A relative path is taken beneath a location of the runtime's choosing (the spec
        // allows it): our own parent, never the caller's cgroup, which may be someone else's.
        out.cgroups_path = Some(if path.is_absolute() {
            path.clone()
        } else {
            Path::new("/").join(RELATIVE_CGROUP_PARENT).join(path)
        });
    }
    if let Some(r) = linux.resources() {
        out.resources = resources(r, warnings)?;
    }
    let mut sysctl: Vec<(String, String)> = linux
        .sysctl()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    sysctl.sort();
    out.sysctl = sysctl;
    if let Some(s) = linux.seccomp() {
        let json =
            serde_json::to_vec(s).map_err(|e| OciError::field("linux.seccomp", e.to_string()))?;
        // The same loader and compiler as docker-run's profiles: checked now, compiled at start.
        crate::seccomp::load_docker_json(&json, u64::MAX)
            .and_then(|p| crate::seccomp::compile(&p))
            .map_err(|e| OciError::field("linux.seccomp", e.to_string()))?;
        out.seccomp = Seccomp::DockerJson(json.into());
    }
    out.rootfs_propagation = match linux.rootfs_propagation().as_deref() {
        None | Some("") => None,
        Some(p) => Some(
            mounts::PROPAGATION
                .iter()
                .find(|(n, _)| *n == p)
                .map(|(_, f)| *f)
                .ok_or_else(|| {
                    OciError::field("linux.rootfsPropagation", format!("unknown value {p:?}"))
                })?,
        ),
    };
    let paths = |list: &Option<Vec<String>>, field: &str| -> Result<Vec<PathBuf>> {
        list.iter()
            .flatten()
            .map(|p| {
                let p = PathBuf::from(p);
                crate::spec::validate_container_path("path", &p)
                    .map(|()| p)
                    .map_err(|e| OciError::field(field, e.to_string()))
            })
            .collect()
    };
    out.masked_paths = Some(paths(linux.masked_paths(), "linux.maskedPaths")?);
    out.readonly_paths = Some(paths(linux.readonly_paths(), "linux.readonlyPaths")?);
    if let Some(label) = linux.mount_label().as_ref().filter(|l| !l.is_empty()) {
        if selinux_enabled() {
            return Err(OciError::field(
                "linux.mountLabel",
                format!(
                    "{label:?}: SELinux is enabled on this host, and this runtime cannot apply it"
                ),
            ));
        }
        warnings.push(format!(
            "linux.mountLabel {label:?} ignored: SELinux is not enabled on this host"
        ));
    }
    if linux.intel_rdt().is_some() {
        return Err(OciError::field(
            "linux.intelRdt",
            "Intel RDT is not supported",
        ));
    }
    if linux.memory_policy().is_some() {
        return Err(OciError::field("linux.memoryPolicy", "not supported"));
    }
    if linux.time_offsets().as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(OciError::field(
            "linux.timeOffsets",
            "time namespaces are not supported",
        ));
    }
    if linux.net_devices().as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(OciError::field("linux.netDevices", "not supported"));
    }
    if let Some(p) = linux.personality() {
        if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
            return Err(OciError::field("linux.personality.flags", "not supported"));
        }
        out.personality = Some(match p.domain() {
            oci_spec::runtime::LinuxPersonalityDomain::PerLinux => 0,
            oci_spec::runtime::LinuxPersonalityDomain::PerLinux32 => 8,
        });
    }
    Ok(())
}

fn throttle(list: &Option<Vec<oci_spec::runtime::LinuxThrottleDevice>>) -> Vec<ThrottleDevice> {
    list.iter()
        .flatten()
        .map(|d| ThrottleDevice {
            major: d.major().max(0) as u64,
            minor: d.minor().max(0) as u64,
            rate: d.rate(),
        })
        .collect()
}

/// A cgroup v1 device rule line ("c 1:3 rwm") of one linux.resources.devices entry.
fn device_rule(d: &oci_spec::runtime::LinuxDeviceCgroup, field: &str) -> Result<(bool, String)> {
    let kind = match d.typ() {
        None | Some(LinuxDeviceType::A) => "a",
        Some(LinuxDeviceType::C | LinuxDeviceType::U) => "c",
        Some(LinuxDeviceType::B) => "b",
        Some(LinuxDeviceType::P) => {
            return Err(OciError::field(
                field,
                "a device rule cannot name a fifo (type p)",
            ));
        }
    };
    let num = |n: Option<i64>| {
        n.filter(|n| *n >= 0)
            .map_or("*".to_string(), |n| n.to_string())
    };
    let access = d.access().clone().unwrap_or_else(|| "rwm".into());
    if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
        return Err(OciError::field(
            format!("{field}.access"),
            format!("{access:?}: use r, w and m"),
        ));
    }
    let line = if kind == "a" {
        "a".to_string()
    } else {
        format!("{kind} {}:{} {access}", num(d.major()), num(d.minor()))
    };
    Ok((d.allow(), line))
}

// long: one block per resource group, refusing what the cgroup code cannot apply.
fn resources(r: &LinuxResources, warnings: &mut Vec<String>) -> Result<Resources> {
    let mut res = Resources::default();
    let refuse = |field: &str| OciError::field(format!("linux.resources.{field}"), "not supported");
    if let Some(m) = r.memory() {
        res.memory = m.limit();
        res.memory_swap = m.swap();
        if m.reservation().is_some() {
            warnings.push("linux.resources.memory.reservation ignored: not supported".into());
        }
        if m.kernel().is_some() || m.kernel_tcp().is_some() {
            warnings.push(
                "linux.resources.memory.kernel and kernelTCP ignored (deprecated, as in runc)"
                    .into(),
            );
        }
        if m.swappiness().is_some() {
            warnings.push("linux.resources.memory.swappiness ignored: not supported".into());
        }
        if m.disable_oom_killer() == Some(true) {
            return Err(refuse("memory.disableOOMKiller"));
        }
    }
    if let Some(c) = r.cpu() {
        res.cpu_shares = c.shares().filter(|s| *s != 0);
        res.cpu_quota = c.quota().filter(|q| *q != 0);
        res.cpu_period = c.period().filter(|p| *p != 0);
        res.cpuset_cpus = c.cpus().clone().filter(|s| !s.is_empty());
        res.cpuset_mems = c.mems().clone().filter(|s| !s.is_empty());
        if c.realtime_runtime().is_some() || c.realtime_period().is_some() {
            return Err(refuse("cpu.realtimeRuntime"));
        }
        if c.idle().is_some_and(|i| i != 0) || c.burst().is_some() {
            return Err(refuse("cpu.idle and cpu.burst"));
        }
    }
    if let Some(p) = r.pids() {
        res.pids_limit = Some(if p.limit() <= 0 { -1 } else { p.limit() });
    }
    if let Some(b) = r.block_io() {
        res.blkio_weight = b.weight().map(u64::from).filter(|w| *w != 0);
        res.device_read_bps = throttle(b.throttle_read_bps_device());
        res.device_write_bps = throttle(b.throttle_write_bps_device());
        let some = |l: &Option<Vec<_>>| l.as_ref().is_some_and(|l: &Vec<_>| !l.is_empty());
        if some(b.throttle_read_iops_device()) || some(b.throttle_write_iops_device()) {
            return Err(refuse("blockIO.throttle*IOPSDevice"));
        }
        if b.weight_device().as_ref().is_some_and(|l| !l.is_empty()) || b.leaf_weight().is_some() {
            return Err(refuse("blockIO.weightDevice and leafWeight"));
        }
    }
    if let Some(list) = r.devices() {
        let mut rules = Vec::new();
        for (i, d) in list.iter().enumerate() {
            rules.push(device_rule(d, &format!("linux.resources.devices[{i}]"))?);
        }
        res.device_rules = Some(rules);
    }
    if r.hugepage_limits().as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(refuse("hugepageLimits"));
    }
    if r.network().is_some() {
        return Err(refuse("network"));
    }
    if r.rdma().as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(refuse("rdma"));
    }
    if let Some(u) = r.unified().as_ref().filter(|u| !u.is_empty()) {
        let mut list: Vec<(String, String)> =
            u.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        list.sort();
        res.unified = list;
    }
    Ok(res)
}

/// `exec --process`: the process of an existing container.
pub(super) fn exec_spec(p: &Process) -> Result<crate::ExecSpec> {
    let mut spec = ContainerSpec::default();
    let mut warnings = Vec::new();
    apply_process(&mut spec, p, "process", &mut warnings)?;
    Ok(crate::ExecSpec {
        args: spec.args,
        env: spec.env,
        cwd: spec.cwd,
        uid: spec.uid,
        gid: spec.gid,
        tty: spec.terminal,
        additional_gids: spec.additional_gids,
        extra: crate::process::plan::ProcessExtra {
            capabilities: spec.capabilities,
            no_new_privileges: spec.no_new_privileges,
            rlimits: spec.rlimits,
            umask: spec.umask,
            personality: None,
            preserve_fds: 0,
        },
        exact_env: true,
        seccomp: None,
    })
}
