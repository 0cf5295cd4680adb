//! What the child does between clone and exec, prepared by the parent: every C string, pointer
//! array and flag, so that the child only makes system calls. Also the other direction: turning
//! the child's (step, index, errno) report back into a message naming what failed.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

use libc::c_char;

use super::sync::{Failure, Step};
use crate::error::{Error, strerror};
use crate::net::ChildNet;
use crate::rootfs::Op;
use crate::seccomp::Program;
use crate::spec::{Seccomp, SpecError, cstring};

/// Docker's default capability set.
pub const DEFAULT_CAPS: &[u32] = &[
    0,  // CAP_CHOWN
    1,  // CAP_DAC_OVERRIDE
    3,  // CAP_FOWNER
    4,  // CAP_FSETID
    5,  // CAP_KILL
    6,  // CAP_SETGID
    7,  // CAP_SETUID
    8,  // CAP_SETPCAP
    10, // CAP_NET_BIND_SERVICE
    13, // CAP_NET_RAW
    18, // CAP_SYS_CHROOT
    27, // CAP_MKNOD
    29, // CAP_AUDIT_WRITE
    31, // CAP_SETFCAP
];
pub const CAP_MKNOD: u32 = 27;

/// The process itself: the same for a container's first process and for an exec.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub args: Vec<OsString>,
    /// KEY=VALUE entries, complete (defaults already added).
    pub env: Vec<OsString>,
    pub cwd: std::path::PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub terminal: bool,
    /// The OCI process settings; the defaults are docker-run's.
    pub extra: ProcessExtra,
}

/// What an OCI process adds to a [`Command`]; `Default` is docker-run's behaviour.
#[derive(Debug, Clone)]
pub struct ProcessExtra {
    /// None: Docker's set.
    pub capabilities: Option<crate::spec::Capabilities>,
    pub no_new_privileges: bool,
    pub rlimits: Vec<crate::spec::Rlimit>,
    pub umask: Option<u32>,
    pub personality: Option<u32>,
    /// Descriptors 3..3+N of the caller passed on to the process (OCI `--preserve-fds N`).
    pub preserve_fds: u32,
}

impl Default for ProcessExtra {
    fn default() -> Self {
        ProcessExtra {
            capabilities: None,
            no_new_privileges: true,
            rlimits: Vec::new(),
            umask: None,
            personality: None,
            preserve_fds: 0,
        }
    }
}

/// Everything the child needs, built by the parent before clone.
#[derive(Debug)]
pub struct ChildPlan {
    pub hostname: Option<CString>,
    pub rootfs: CString,
    /// A root attached nowhere yet (an in-memory overlay, `rootfs::overlay`): the child moves
    /// it onto `rootfs` in its own mount namespace instead of binding `rootfs` onto itself.
    /// The descriptor is the caller's and stays open until the child has execed.
    pub root_mount: Option<RawFd>,
    pub ops: Vec<Op>,
    /// Where the binds of a cgroup mount go into `ops` once the cgroup exists
    /// (`rootfs::Plan::cgroup_mount`).
    pub cgroup_mount: Option<(usize, CString, bool)>,
    pub no_pivot: bool,
    pub readonly_rootfs: bool,
    /// Mount the root nodev: no devices cgroup guards the container (cgroup v2), so a device
    /// node shipped in the image must not open anything.
    pub rootfs_nodev: bool,
    /// Bring `lo` up (the container has its own network namespace).
    pub loopback: bool,
    /// Configure the veth peer, eth0 (bridge networking), with the address the parent sends
    /// along with the go-ahead.
    pub eth0: bool,
    /// The netlink work of `loopback` and `eth0`, prepared for the build's backend.
    pub net: Option<ChildNet>,
    pub terminal: bool,
    /// Bind the terminal to /dev/console (a container's first process, not an exec).
    pub console: bool,
    pub cgroup_namespace: bool,
    /// /sys/fs/cgroup's mounts (rootfs::cgroupfs), made inside the new cgroup namespace after
    /// pivot_root, relative to the new root; empty: none.
    pub cgroup_ops: Vec<Op>,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
    /// Capabilities kept, as a bit mask (the bounding set; with `cap_sets` None also the
    /// effective and permitted sets of root).
    pub caps: u64,
    /// The OCI sets: effective, permitted, inheritable, ambient (masked by `caps`).
    pub cap_sets: Option<crate::spec::Capabilities>,
    pub no_new_privs: bool,
    pub rlimits: Vec<(u32, libc::rlimit)>,
    pub umask: Option<libc::mode_t>,
    pub personality: Option<libc::c_ulong>,
    pub domainname: Option<CString>,
    /// The root's propagation after pivot_root (0: left private).
    pub root_propagation: libc::c_ulong,
    /// An O_PATH descriptor of the exec fifo: the child reports ready, then blocks opening it
    /// for writing (through /proc/self/fd) until `start`.
    pub exec_fifo: Option<OwnedFd>,
    /// Descriptors 3..3+N kept open for the command (`ContainerSpec::preserve_fds`).
    pub preserve_fds: u32,
    /// A new user namespace: wait for the parent to write its maps first, then become its root.
    pub userns: bool,
    /// Namespaces the child joins itself before anything else (user, mount), with their
    /// CLONE_NEW* types.
    pub join: Vec<(OwnedFd, libc::c_int)>,
    /// The seccomp filter, compiled by the parent ([`ChildPlan::compile_seccomp`]); None:
    /// unconfined.
    pub seccomp: Option<Program>,
    pub last_cap: u32,
    pub cwd: CString,
    pub init: bool,
    /// Where to look for the command: one path, or one per $PATH entry.
    pub exec_candidates: Vec<CString>,
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    // NULL-terminated pointer arrays into argv/env, built once in the parent.
    argv_ptrs: Vec<*const c_char>,
    env_ptrs: Vec<*const c_char>,
    /// The sealed memfd of the exec stub, and its argv ([`ChildPlan::prepare_exec`]).
    stub_fd: libc::c_int,
    stub_args: Vec<CString>,
    stub_ptrs: Vec<*const c_char>,
}

fn strings(what: &'static str, list: &[OsString]) -> Result<Vec<CString>, SpecError> {
    list.iter().map(|s| cstring(what, s)).collect()
}

fn null_terminated(list: &[CString]) -> Vec<*const c_char> {
    list.iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

impl ChildPlan {
    /// The plan of `cmd` in the root `rootfs`, with Docker's defaults: every capability of
    /// Docker's set, the loopback up, a cgroup namespace, the terminal as /dev/console. The
    /// caller adjusts the rest (hostname, rootfs ops, network, init).
    pub fn new(cmd: &Command, rootfs: &Path) -> Result<ChildPlan, SpecError> {
        let argv = strings("an argument", &cmd.args)?;
        let env = strings("an environment entry", &cmd.env)?;
        let exec_candidates = exec_candidates(&cmd.args[0], &cmd.env)?;
        Ok(ChildPlan {
            hostname: None,
            rootfs: cstring("the rootfs path", rootfs)?,
            root_mount: None,
            ops: Vec::new(),
            cgroup_mount: None,
            no_pivot: false,
            readonly_rootfs: false,
            rootfs_nodev: false,
            loopback: true,
            eth0: false,
            net: None,
            terminal: cmd.terminal,
            console: true,
            cgroup_namespace: true,
            cgroup_ops: Vec::new(),
            uid: cmd.uid,
            gid: cmd.gid,
            groups: cmd.groups.clone(),
            caps: cmd
                .extra
                .capabilities
                .map_or_else(default_caps, |c| c.bounding),
            cap_sets: cmd.extra.capabilities,
            no_new_privs: cmd.extra.no_new_privileges,
            rlimits: cmd
                .extra
                .rlimits
                .iter()
                .map(|r| {
                    let lim = libc::rlimit {
                        rlim_cur: r.soft,
                        rlim_max: r.hard,
                    };
                    (r.resource, lim)
                })
                .collect(),
            umask: cmd.extra.umask,
            personality: cmd.extra.personality.map(libc::c_ulong::from),
            domainname: None,
            root_propagation: 0,
            exec_fifo: None,
            preserve_fds: cmd.extra.preserve_fds,
            userns: false,
            join: Vec::new(),
            seccomp: None,
            last_cap: last_cap(),
            cwd: cstring("the working directory", &cmd.cwd)?,
            init: false,
            exec_candidates,
            argv_ptrs: null_terminated(&argv),
            env_ptrs: null_terminated(&env),
            argv,
            env,
            stub_fd: -1,
            stub_args: Vec::new(),
            stub_ptrs: Vec::new(),
        })
    }

    /// Without a device allow-list (cgroup v2 needs an eBPF program we do not load): drops
    /// CAP_MKNOD, since a node made inside could open a host device, and mounts the root nodev,
    /// since a node the image ships could too. /dev is a tmpfs of its own with only the
    /// standard nodes.
    pub fn drop_mknod(&mut self) {
        let mknod = 1u64 << CAP_MKNOD;
        self.caps &= !mknod;
        if let Some(sets) = &mut self.cap_sets {
            sets.effective &= !mknod;
            sets.permitted &= !mknod;
            sets.inheritable &= !mknod;
            sets.ambient &= !mknod;
        }
        self.rootfs_nodev = true;
    }

    /// Compiles the seccomp filter for the capabilities the process ends with (Docker's
    /// profile and profile files have entries that depend on them), so set `caps` first. In the
    /// parent, before clone: the child only installs it.
    pub fn compile_seccomp(&mut self, policy: &Seccomp) -> Result<(), crate::seccomp::Error> {
        let caps = match &self.cap_sets {
            Some(sets) => sets.effective & self.caps,
            None if self.uid == 0 => self.caps,
            None => 0,
        };
        self.seccomp = seccomp_program(policy, caps)?;
        Ok(())
    }

    /// Gets the exec stub's memfd and writes its command line: the mode (init or plain exec),
    /// the child's end of the sync socket `sock` (for the command's exec errors), the terminal
    /// flag, the step numbers it reports, the candidates and the argv (stub/init.c reads them).
    /// In the parent, after every other setting and before clone.
    pub fn prepare_exec(&mut self, sock: libc::c_int) -> crate::Result<()> {
        self.stub_fd = super::stub::memfd()?;
        let mode = if self.init {
            "docker-run-init"
        } else {
            "docker-run-exec"
        };
        let numbers = [
            sock as u32,
            u32::from(self.terminal),
            Step::Exec.as_u32(),
            Step::InitFork.as_u32(),
            self.exec_candidates.len() as u32,
        ];
        let mut args = vec![CString::new(mode).expect("no NUL")];
        args.extend(
            numbers
                .iter()
                .map(|n| CString::new(n.to_string()).expect("digits")),
        );
        args.extend(self.exec_candidates.iter().cloned());
        args.extend(self.argv.iter().cloned());
        self.stub_ptrs = null_terminated(&args);
        self.stub_args = args;
        Ok(())
    }

    /// The stub's memfd (-1 before [`ChildPlan::prepare_exec`]).
    pub fn stub_fd(&self) -> libc::c_int {
        self.stub_fd
    }

    /// The stub's NULL-terminated argv.
    pub fn stub_argv_ptr(&self) -> *const *const c_char {
        self.stub_ptrs.as_ptr()
    }

    /// The NULL-terminated argv for execve.
    pub fn argv_ptr(&self) -> *const *const c_char {
        self.argv_ptrs.as_ptr()
    }

    /// The NULL-terminated environment for execve.
    pub fn env_ptr(&self) -> *const *const c_char {
        self.env_ptrs.as_ptr()
    }

    /// Turns a child's (step, index, errno) report into an error naming what failed.
    // long: one message per step, in one table.
    pub fn describe(&self, f: &Failure) -> Error {
        let rootfs = Path::new(OsStr::from_bytes(self.rootfs.as_bytes()));
        let lossy = |c: &CString| c.to_string_lossy().into_owned();
        let what = match f.step() {
            Some(Step::RootfsOp) => {
                self.ops
                    .get(f.index as usize)
                    .map_or("rootfs setup".into(), |op| match (op, f.errno) {
                        (Op::Mask { .. } | Op::Readonly { .. }, libc::EXDEV) => format!(
                            "{}: the path is not on the kernel's file system (replaced?)",
                            op.describe()
                        ),
                        (_, libc::ELOOP) => format!(
                            "{}: the path holds a symbolic link it did not have when planned",
                            op.describe()
                        ),
                        _ => op.describe(),
                    })
            }
            Some(Step::Exec) => return self.exec_error(f),
            Some(Step::Sethostname) => {
                format!(
                    "sethostname({})",
                    self.hostname.as_ref().map_or(String::new(), lossy)
                )
            }
            Some(Step::MakePrivate) => "make mounts private".into(),
            Some(Step::BindRootfs) => format!("bind rootfs {}", rootfs.display()),
            Some(Step::PivotRoot) => format!("pivot_root({})", rootfs.display()),
            Some(Step::Chroot) => format!("chroot({})", rootfs.display()),
            Some(Step::ReadonlyRoot) => "remount the rootfs read-only".into(),
            Some(Step::Loopback) => "bring up lo".into(),
            Some(Step::Network) => "configure eth0".into(),
            Some(Step::Terminal) => "set up the terminal".into(),
            Some(Step::CgroupNamespace) => "unshare the cgroup namespace".into(),
            Some(Step::CgroupMount) => self
                .cgroup_ops
                .get(f.index as usize)
                .map_or("mount /sys/fs/cgroup".into(), |op| {
                    format!("/sys/fs/cgroup: {}", op.describe())
                }),
            Some(Step::Setgroups) => "setgroups".into(),
            Some(Step::Setgid) => format!("setgid({})", self.gid),
            Some(Step::Setuid) => format!("setuid({})", self.uid),
            Some(Step::Capabilities) => "drop capabilities".into(),
            Some(Step::NoNewPrivs) => "set no_new_privs".into(),
            Some(Step::Chdir) => match f.errno {
                libc::ELOOP | libc::EXDEV => format!(
                    "working directory {}: it leads out of the container (through a magic link \
                     such as /proc/self/fd/N)",
                    lossy(&self.cwd)
                ),
                _ => format!("chdir {}", lossy(&self.cwd)),
            },
            Some(Step::NodevRoot) => "mount the rootfs nodev".into(),
            Some(Step::InitFork) => "init: fork the command".into(),
            Some(Step::Setsid) => "setsid".into(),
            Some(Step::JoinCgroup) => "join the container's cgroup".into(),
            Some(Step::Setns) => "join the container's namespaces (setns)".into(),
            Some(Step::Seccomp) => "install the seccomp filter".into(),
            Some(Step::Keyring) => "join a new session keyring".into(),
            Some(Step::ExecStub) => "exec the runtime's stub (docker-run-init)".into(),
            Some(Step::Setdomainname) => format!(
                "setdomainname({})",
                self.domainname.as_ref().map_or(String::new(), lossy)
            ),
            Some(Step::Rlimit) => match self.rlimits.get(f.index as usize) {
                Some((res, lim)) => format!(
                    "setrlimit({res}, soft {}, hard {})",
                    lim.rlim_cur, lim.rlim_max
                ),
                None => "setrlimit".into(),
            },
            Some(Step::Personality) => format!("personality({:#x})", self.personality.unwrap_or(0)),
            Some(Step::ExecFifo) => "open the exec fifo".into(),
            Some(Step::RootPropagation) => "set the root's propagation (rootfsPropagation)".into(),
            Some(Step::UserNsRoot) => {
                "become root of the user namespace (is container uid/gid 0 mapped?)".into()
            }
            Some(Step::JoinNamespace) => "join a namespace by path (setns)".into(),
            Some(Step::WaitGo) | None => format!("container setup step {}", f.step),
        };
        Error::ChildSetup {
            what,
            errno: f.errno,
        }
    }

    /// exec failures as Docker reports them: 127 for a missing command, 126 for one that
    /// cannot be executed.
    fn exec_error(&self, f: &Failure) -> Error {
        let argv0 = self.argv[0].to_string_lossy();
        let errno = f.errno;
        if errno == libc::ENOENT {
            let what = if argv0.contains('/') {
                format!("exec {argv0}: {}", strerror(errno))
            } else {
                format!("exec: {argv0:?}: executable file not found in $PATH")
            };
            return Error::CommandNotFound { what, errno };
        }
        let path = self
            .exec_candidates
            .get(f.index as usize)
            .map_or(argv0.to_string(), |p| p.to_string_lossy().into_owned());
        Error::CommandNotExecutable {
            what: format!("exec {path}"),
            errno,
        }
    }
}

/// Docker's default capability set as a bit mask.
pub fn default_caps() -> u64 {
    DEFAULT_CAPS.iter().fold(0, |m, c| m | (1u64 << c))
}

/// The filter of `policy` for a process with the capabilities `caps`; None for unconfined.
pub fn seccomp_program(
    policy: &Seccomp,
    caps: u64,
) -> Result<Option<Program>, crate::seccomp::Error> {
    Ok(match policy {
        Seccomp::DockerDefault => Some(crate::seccomp::docker_default_program(caps)),
        Seccomp::Unconfined => None,
        Seccomp::DockerJson(bytes) => Some(crate::seccomp::compile(
            &crate::seccomp::load_docker_json(bytes, caps)?,
        )?),
    })
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// The paths execve will try, as execvp would: the command itself when it has a '/', else each
/// directory of the container's PATH.
fn exec_candidates(argv0: &OsStr, env: &[OsString]) -> Result<Vec<CString>, SpecError> {
    if argv0.as_bytes().contains(&b'/') {
        return Ok(vec![cstring("the command", argv0)?]);
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    path.split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { b".".as_slice() } else { dir };
            let mut p = dir.to_vec();
            p.push(b'/');
            p.extend_from_slice(argv0.as_bytes());
            cstring("the command", OsStr::from_bytes(&p))
        })
        .collect()
}

/// Namespaces and cgroup of a running container, opened by the parent for an exec.
#[derive(Debug, Default)]
pub struct Join {
    /// cgroup.procs files opened for writing: writing "0" moves the writer.
    pub cgroup_procs: Vec<OwnedFd>,
    /// /proc/<pid>/ns/* files and their CLONE_NEW* types, in joining order (mount last).
    pub namespaces: Vec<(OwnedFd, libc::c_int)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(args: &[&str]) -> Command {
        Command {
            args: args.iter().map(OsString::from).collect(),
            env: vec!["PATH=/a:/b".into()],
            cwd: "/work".into(),
            uid: 1000,
            gid: 100,
            ..Default::default()
        }
    }

    #[test]
    fn candidates_follow_path() {
        let env = vec![OsString::from("PATH=/a:/b")];
        let c = exec_candidates(OsStr::new("sh"), &env).unwrap();
        assert_eq!(c, vec![c"/a/sh".to_owned(), c"/b/sh".to_owned()]);
        let c = exec_candidates(OsStr::new("/bin/sh"), &env).unwrap();
        assert_eq!(c, vec![c"/bin/sh".to_owned()]);
        let c = exec_candidates(OsStr::new("x"), &["PATH=:/c".into()]).unwrap();
        assert_eq!(c, vec![c"./x".to_owned(), c"/c/x".to_owned()]);
    }

    #[test]
    fn pointer_arrays_end_in_null() {
        let plan = ChildPlan::new(&command(&["sh", "-c", "true"]), Path::new("/r")).unwrap();
        // SAFETY: both arrays have argv.len() + 1 / env.len() + 1 entries.
        unsafe {
            assert_eq!(std::ffi::CStr::from_ptr(*plan.argv_ptr().add(1)), c"-c");
            assert!((*plan.argv_ptr().add(3)).is_null());
            assert!((*plan.env_ptr().add(1)).is_null());
        }
        let nul = command(&["sh", "a\0b"]);
        assert!(matches!(
            ChildPlan::new(&nul, Path::new("/r")),
            Err(SpecError::NulByte { .. })
        ));
    }

    /// Every (step, index, errno) the child can send reads as what failed, with the errno.
    // long: one table of messages, one per step.
    #[test]
    fn child_reports_become_messages() {
        let mut plan = ChildPlan::new(&command(&["app"]), Path::new("/srv/rootfs")).unwrap();
        plan.hostname = Some(c"box".to_owned());
        plan.ops.push(Op::Mkdir {
            path: c"dev/pts".to_owned(),
            mode: 0o755,
        });
        let msg = |step: Step, index, errno| {
            plan.describe(&Failure {
                step: step.as_u32(),
                index,
                errno,
            })
            .to_string()
        };
        let cases = [
            (
                msg(Step::RootfsOp, 0, libc::EPERM),
                "mkdir /dev/pts: Operation not permitted",
            ),
            (
                msg(Step::RootfsOp, 7, libc::EPERM),
                "rootfs setup: Operation not permitted",
            ),
            (
                msg(Step::PivotRoot, 0, libc::EINVAL),
                "pivot_root(/srv/rootfs): Invalid argument",
            ),
            (
                msg(Step::Sethostname, 0, libc::EPERM),
                "sethostname(box): Operation not permitted",
            ),
            (
                msg(Step::Setuid, 0, libc::EPERM),
                "setuid(1000): Operation not permitted",
            ),
            (
                msg(Step::Setgid, 0, libc::EPERM),
                "setgid(100): Operation not permitted",
            ),
            (
                msg(Step::Chdir, 0, libc::ENOENT),
                "chdir /work: No such file or directory",
            ),
            (
                msg(Step::Setns, 2, libc::EPERM),
                "join the container's namespaces (setns): Operation not permitted",
            ),
            (
                msg(Step::Exec, 1, libc::EACCES),
                "exec /b/app: Permission denied",
            ),
            (
                msg(Step::Exec, 0, libc::ENOENT),
                "exec: \"app\": executable file not found in $PATH",
            ),
            (
                plan.describe(&Failure {
                    step: 99,
                    index: 0,
                    errno: libc::EIO,
                })
                .to_string(),
                "container setup step 99: Input/output error",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        for &step in Step::ALL {
            let e = plan.describe(&Failure {
                step: step.as_u32(),
                index: 0,
                errno: libc::EIO,
            });
            assert_eq!(e.errno(), Some(libc::EIO), "{step:?}");
        }
        let f = |step: Step, errno| Failure {
            step: step.as_u32(),
            index: 0,
            errno,
        };
        assert!(matches!(
            plan.describe(&f(Step::Exec, libc::ENOENT)),
            Error::CommandNotFound { .. }
        ));
        assert!(matches!(
            plan.describe(&f(Step::Exec, libc::EACCES)),
            Error::CommandNotExecutable { .. }
        ));
        assert!(matches!(
            plan.describe(&f(Step::Network, libc::EIO)),
            Error::ChildSetup { .. }
        ));
        let abs = ChildPlan::new(&command(&["/bin/nope"]), Path::new("/")).unwrap();
        assert_eq!(
            abs.describe(&f(Step::Exec, libc::ENOENT)).to_string(),
            "exec /bin/nope: No such file or directory"
        );
    }
}
