//! Docker's profile format (moby's superset of the OCI one) and Docker's default profile.

use std::str::FromStr;
use std::sync::{Mutex, OnceLock, PoisonError};

use oci_spec::runtime::{
    Arch, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

use super::{Error, Profile, Program, compile};

/// moby's profiles/seccomp/default.json (attribution in the module doc).
pub(super) const DEFAULT_JSON: &str = include_str!("default.json");

/// Capability names by number (linux/capability.h), as Docker's `caps` conditions spell them.
pub const CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Architecture names of `includes`/`excludes` (libseccomp's, as moby spells them).
const ARCH_NAMES: &[&str] = &[
    "x86",
    "amd64",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mipsel",
    "mips64",
    "mips64n32",
    "mipsel64",
    "mipsel64n32",
    "mips3l64n32",
    "ppc",
    "ppc64",
    "ppc64le",
    "s390",
    "s390x",
    "riscv64",
    "loong64",
    "parisc",
    "parisc64",
    "m68k",
    "sh",
    "sheb",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerProfile {
    default_action: String,
    default_errno_ret: Option<u32>,
    architectures: Option<Vec<String>>,
    arch_map: Option<Vec<ArchMap>>,
    flags: Option<Vec<String>>,
    listener_path: Option<String>,
    listener_metadata: Option<String>,
    syscalls: Option<Vec<DockerSyscall>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: String,
    sub_architectures: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerSyscall {
    name: Option<String>,
    names: Option<Vec<String>>,
    action: String,
    errno_ret: Option<u32>,
    args: Option<Vec<DockerArg>>,
    includes: Option<Condition>,
    excludes: Option<Condition>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerArg {
    index: usize,
    value: u64,
    value_two: Option<u64>,
    op: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    caps: Option<Vec<String>>,
    arches: Option<Vec<String>>,
    min_kernel: Option<String>,
}

/// What the conditions of a profile are resolved against.
pub(super) struct Host {
    /// Capability set, bit n for capability n.
    pub caps: u64,
    /// moby's name of the native architecture ("amd64", "arm64").
    pub arch: &'static str,
    /// The native architecture's archMap key.
    pub scmp_arch: Arch,
    /// The running kernel's (major, minor, patch).
    pub kernel: (u32, u32, u32),
}

impl Host {
    pub fn native(caps: u64) -> Host {
        let (arch, scmp_arch) = if cfg!(target_arch = "aarch64") {
            ("arm64", Arch::ScmpArchAarch64)
        } else {
            ("amd64", Arch::ScmpArchX86_64)
        };
        Host {
            caps,
            arch,
            scmp_arch,
            kernel: running_kernel(),
        }
    }
}

/// Docker's default profile for a container with these capabilities (bit n for capability n;
/// the effective set, which is the bounding set in this runtime), resolved for the native
/// architecture and the running kernel.
pub fn docker_default(caps: u64) -> Profile {
    // Parsed once per process: a C host starting many containers pays for it once.
    static PARSED: OnceLock<DockerProfile> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        serde_json::from_str(DEFAULT_JSON).expect("the embedded profile parses (tested)")
    });
    resolve(parsed, &Host::native(caps)).expect("the embedded profile resolves (tested)")
}

/// Docker's default profile compiled for a container with these capabilities: what
/// `compile(&docker_default(caps))` gives, kept per capability set for the life of the process
/// (a C host starting many containers compiles once).
pub fn docker_default_program(caps: u64) -> Program {
    static PROGRAMS: Mutex<Vec<(u64, Program)>> = Mutex::new(Vec::new());
    let mut programs = PROGRAMS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, program)) = programs.iter().find(|(c, _)| *c == caps) {
        return program.clone();
    }
    let program = compile(&docker_default(caps)).expect("the embedded profile compiles (tested)");
    programs.push((caps, program.clone()));
    program
}

/// Reads a profile in Docker's format (or plain OCI-shaped JSON) and resolves its conditions for
/// a container with these capabilities (bit n for capability n), the native architecture and
/// the running kernel. This is what `--security-opt seccomp=FILE.json` takes.
pub fn load_docker_json(bytes: &[u8], caps: u64) -> Result<Profile, Error> {
    resolve_json(bytes, &Host::native(caps))
}

pub(super) fn resolve_json(bytes: &[u8], host: &Host) -> Result<Profile, Error> {
    let parsed: DockerProfile = serde_json::from_slice(bytes)?;
    resolve(&parsed, host)
}

// long: Docker's profile to OCI's, field by field in the profile's order.
fn resolve(docker: &DockerProfile, host: &Host) -> Result<Profile, Error> {
    let mut profile = Profile::default();
    profile.set_default_action(parse::<LinuxSeccompAction>(
        &docker.default_action,
        Error::UnknownAction,
    )?);
    profile.set_default_errno_ret(docker.default_errno_ret);

    let architectures = docker.architectures.as_deref().unwrap_or_default();
    let arch_map = docker.arch_map.as_deref().unwrap_or_default();
    if !architectures.is_empty() && !arch_map.is_empty() {
        return Err(Error::ArchitecturesAndArchMap);
    }
    let mut arches = architectures
        .iter()
        .map(|a| parse_arch(a))
        .collect::<Result<Vec<_>, _>>()?;
    for entry in arch_map {
        let arch = parse_arch(&entry.architecture)?;
        let subs = entry
            .sub_architectures
            .iter()
            .flatten()
            .map(|a| parse_arch(a));
        let subs = subs.collect::<Result<Vec<_>, _>>()?;
        if arch == host.scmp_arch && !arches.contains(&arch) {
            arches.push(arch);
            arches.extend(subs);
        }
    }
    if !arches.is_empty() {
        profile.set_architectures(Some(arches));
    }
    if let Some(flags) = &docker.flags {
        let flags = flags
            .iter()
            .map(|f| parse::<LinuxSeccompFilterFlag>(f, Error::UnknownFlag));
        profile.set_flags(Some(flags.collect::<Result<_, _>>()?));
    }
    profile.set_listener_path(docker.listener_path.as_ref().map(Into::into));
    profile.set_listener_metadata(docker.listener_metadata.clone());

    let mut syscalls = Vec::new();
    for (index, entry) in docker.syscalls.iter().flatten().enumerate() {
        // Checked for every entry, also the ones the host leaves out, so a typo never hides.
        let excluded = match &entry.excludes {
            Some(c) => c.any_holds(host)?,
            None => false,
        };
        let included = match &entry.includes {
            Some(c) => c.all_hold(host)?,
            None => true,
        };
        let names = match (&entry.name, &entry.names) {
            (Some(_), Some(names)) if !names.is_empty() => {
                return Err(Error::NameAndNames { index });
            }
            (Some(name), _) => vec![name.clone()],
            (None, names) => names.clone().unwrap_or_default(),
        };
        let mut syscall = LinuxSyscall::default();
        syscall.set_names(names);
        syscall.set_action(parse::<LinuxSeccompAction>(
            &entry.action,
            Error::UnknownAction,
        )?);
        syscall.set_errno_ret(entry.errno_ret);
        if let Some(args) = &entry.args {
            let args = args
                .iter()
                .map(DockerArg::oci)
                .collect::<Result<Vec<_>, _>>()?;
            syscall.set_args(Some(args));
        }
        if included && !excluded {
            syscalls.push(syscall);
        }
    }
    profile.set_syscalls(Some(syscalls));
    Ok(profile)
}

impl DockerArg {
    fn oci(&self) -> Result<LinuxSeccompArg, Error> {
        let op = parse::<LinuxSeccompOperator>(&self.op, Error::UnknownOperator)?;
        let arg = LinuxSeccompArgBuilder::default()
            .index(self.index)
            .value(self.value)
            .op(op);
        let arg = match self.value_two {
            Some(two) => arg.value_two(two),
            None => arg,
        };
        // Every field has a default: building cannot fail.
        arg.build().map_err(|e| Error::Compiler(e.to_string()))
    }
}

impl Condition {
    /// includes: every condition given holds.
    fn all_hold(&self, host: &Host) -> Result<bool, Error> {
        let caps = self.caps()?;
        let arches = self.arches()?;
        let kernel = self.kernel()?;
        Ok(
            (caps.is_empty() || caps.iter().all(|c| host.caps & (1 << c) != 0))
                && (arches.is_empty() || arches.contains(&host.arch))
                && kernel.is_none_or(|k| host.kernel >= k),
        )
    }

    /// excludes: any condition given holds.
    fn any_holds(&self, host: &Host) -> Result<bool, Error> {
        let caps = self.caps()?;
        let arches = self.arches()?;
        let kernel = self.kernel()?;
        Ok(caps.iter().any(|c| host.caps & (1 << c) != 0)
            || arches.contains(&host.arch)
            || kernel.is_some_and(|k| host.kernel >= k))
    }

    fn caps(&self) -> Result<Vec<u32>, Error> {
        let names = self.caps.iter().flatten();
        names
            .map(|name| capability(name).ok_or_else(|| Error::UnknownCapability(name.clone())))
            .collect()
    }

    fn arches(&self) -> Result<Vec<&str>, Error> {
        let names = self.arches.iter().flatten();
        names
            .map(|a| match ARCH_NAMES.contains(&a.as_str()) {
                true => Ok(a.as_str()),
                false => Err(Error::UnknownArch(a.clone())),
            })
            .collect()
    }

    fn kernel(&self) -> Result<Option<(u32, u32, u32)>, Error> {
        match &self.min_kernel {
            None => Ok(None),
            Some(v) => kernel_version(v)
                .map(Some)
                .ok_or_else(|| Error::KernelVersion(v.clone())),
        }
    }
}

/// A capability's number from its name ("CAP_SYS_ADMIN"; the "CAP_" may be left out).
pub fn capability(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    CAPABILITIES
        .iter()
        .position(|c| *c == full)
        .map(|n| n as u32)
}

fn parse<T: FromStr>(s: &str, error: fn(String) -> Error) -> Result<T, Error> {
    s.parse().map_err(|_| error(s.to_owned()))
}

fn parse_arch(s: &str) -> Result<Arch, Error> {
    parse::<Arch>(s, Error::UnknownArch)
}

/// "4.8", "6.18.44-fc" -> (major, minor, patch); at least major.minor, as moby requires.
pub(super) fn kernel_version(release: &str) -> Option<(u32, u32, u32)> {
    let numeric = release
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .next()?;
    let mut parts = numeric.split('.').map(str::parse::<u32>);
    let major = parts.next()?.ok()?;
    let minor = parts.next()?.ok()?;
    let patch = parts.next().and_then(Result::ok).unwrap_or(0);
    Some((major, minor, patch))
}

/// The running kernel's version; (0, 0, 0) if uname's release cannot be read, so that no
/// `includes` minKernel holds (the safe direction: Docker's profile uses it only to allow).
fn running_kernel() -> (u32, u32, u32) {
    // SAFETY: uname fills the zeroed struct; release is NUL-terminated within it.
    let release = unsafe {
        let mut uts: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut uts) != 0 {
            return (0, 0, 0);
        }
        std::ffi::CStr::from_ptr(uts.release.as_ptr())
            .to_string_lossy()
            .into_owned()
    };
    kernel_version(&release).unwrap_or((0, 0, 0))
}
