//! The container's first process, between clone and exec.
//!
//! This runs in a raw `clone()` of a host that may be a multi-threaded C++ program: only the
//! calling thread was copied, and any lock another thread held (the allocator's among them) stays
//! held forever. So everything here is prepared by the parent in `ChildPlan`, and this code makes
//! only system calls: no allocation, no locks, no panics, no stdio. It ends in exec or `_exit`.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr;

use libc::{c_char, c_ulong};

use super::sync::{self, ChildMsg, Step};
use crate::net::legacy::Netlink;
use crate::rootfs::{self, Op};

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

/// Everything the child needs, built by the parent before clone.
pub struct ChildPlan {
    pub hostname: Option<CString>,
    pub rootfs: CString,
    pub ops: Vec<Op>,
    pub no_pivot: bool,
    pub readonly_rootfs: bool,
    /// Bring `lo` up (the container has its own network namespace).
    pub loopback: bool,
    /// The veth peer's name (bridge networking): configured with the address the parent
    /// sends along with the go-ahead.
    pub eth0: Option<CString>,
    pub terminal: bool,
    /// Bind the terminal to /dev/console (a container's first process, not an exec).
    pub console: bool,
    pub cgroup_namespace: bool,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub groups: Vec<libc::gid_t>,
    /// Capabilities kept, as a bit mask.
    pub caps: u64,
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
}

impl ChildPlan {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hostname: Option<CString>,
        rootfs: CString,
        ops: Vec<Op>,
        argv: Vec<CString>,
        env: Vec<CString>,
        exec_candidates: Vec<CString>,
        cwd: CString,
    ) -> ChildPlan {
        let argv_ptrs = argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        let env_ptrs = env
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        ChildPlan {
            hostname,
            rootfs,
            ops,
            no_pivot: false,
            readonly_rootfs: false,
            loopback: true,
            eth0: None,
            terminal: false,
            console: true,
            cgroup_namespace: true,
            uid: 0,
            gid: 0,
            groups: Vec::new(),
            caps: DEFAULT_CAPS.iter().fold(0, |m, c| m | (1u64 << c)),
            last_cap: last_cap(),
            cwd,
            init: false,
            exec_candidates,
            argv,
            env,
            argv_ptrs,
            env_ptrs,
        }
    }
}

/// The highest capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Reports a failed step to the parent and exits. Never returns.
fn fail(sock: RawFd, step: Step, index: usize, err: i32) -> ! {
    let msg = ChildMsg {
        kind: sync::MSG_ERROR,
        step: step.as_u32(),
        index: index as u32,
        errno: err,
    };
    sync::send_msg(sock, &msg, None);
    // SAFETY: _exit is async-signal-safe and skips the host's atexit handlers.
    unsafe { libc::_exit(1) }
}

fn check(sock: RawFd, step: Step, index: usize, rc: libc::c_int) {
    if rc < 0 {
        fail(sock, step, index, errno());
    }
}

fn opt_ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

fn mount(
    source: *const c_char,
    target: &CStr,
    fstype: *const c_char,
    flags: c_ulong,
    data: *const c_char,
) -> i32 {
    // SAFETY: all pointers are NUL-terminated strings owned by the plan, or NULL.
    unsafe { libc::mount(source, target.as_ptr(), fstype, flags, data.cast()) }
}

fn is_dir(path: &CStr) -> Option<bool> {
    // SAFETY: st is plain data; path is NUL-terminated.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::stat(path.as_ptr(), &mut st) != 0 {
            return None;
        }
        Some(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
    }
}

fn run_op(op: &Op) -> i32 {
    // SAFETY (whole fn): every pointer comes from a CString of the plan.
    match op {
        Op::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => mount(
            opt_ptr(source),
            target,
            opt_ptr(fstype),
            *flags,
            opt_ptr(data),
        ),
        // An existing directory is fine (e.g. --tmpfs /dev/shm over our own /dev/shm).
        Op::Mkdir { path, mode } => match unsafe { libc::mkdir(path.as_ptr(), *mode) } {
            -1 if errno() == libc::EEXIST && is_dir(path) == Some(true) => 0,
            rc => rc,
        },
        Op::Mknod { path, mode, dev } => unsafe { libc::mknod(path.as_ptr(), *mode, *dev) },
        Op::Symlink { target, link } => unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) },
        Op::Touch { path } => {
            let fd = unsafe {
                libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o644,
                )
            };
            if fd < 0 {
                return -1;
            }
            unsafe { libc::close(fd) }
        }
        Op::Mask { path } => match is_dir(path) {
            None => 0,
            Some(true) => mount(
                c"tmpfs".as_ptr(),
                path,
                c"tmpfs".as_ptr(),
                libc::MS_RDONLY,
                c"size=0".as_ptr(),
            ),
            Some(false) => mount(
                c"/dev/null".as_ptr(),
                path,
                ptr::null(),
                libc::MS_BIND,
                ptr::null(),
            ),
        },
        Op::Readonly { path } => {
            if is_dir(path).is_none() {
                return 0;
            }
            let rc = mount(
                path.as_ptr(),
                path,
                ptr::null(),
                rootfs::BIND_REC,
                ptr::null(),
            );
            if rc != 0 {
                return rc;
            }
            let flags = libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | libc::MS_NOEXEC;
            mount(ptr::null(), path, ptr::null(), flags, ptr::null())
        }
    }
}

/// Brings `lo` up through the legacy netlink code (allocation-free: stack buffers only). The
/// socket is opened here so that it talks to this network namespace.
fn loopback_up() -> i32 {
    match Netlink::open_raw().and_then(|mut nl| nl.link_up_raw(c"lo")) {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: errno is thread-local; check() reads it back.
            unsafe { *libc::__errno_location() = e as i32 };
            -1
        }
    }
}

/// Address, link up and default route for the veth peer, through the legacy netlink verbs
/// (allocation-free), on a socket opened in this network namespace.
fn configure_eth0(eth0: &CStr, go: &sync::GoMsg) -> i32 {
    let addr = std::net::Ipv4Addr::from(go.address);
    let gateway = std::net::Ipv4Addr::from(go.gateway);
    let result = Netlink::open_raw().and_then(|mut nl| {
        nl.ipv4_addr_add_raw(eth0, addr, go.prefix as u8)?;
        nl.link_up_raw(eth0)?;
        nl.ipv4_default_route_add_raw(gateway, Some(eth0))
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            // SAFETY: errno is thread-local; check() reads it back.
            unsafe { *libc::__errno_location() = e as i32 };
            -1
        }
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Shrinks the bounding set and clears the ambient set; needs CAP_SETPCAP, so before setuid.
fn drop_bounding_caps(plan: &ChildPlan) -> i32 {
    // SAFETY (whole fn): prctl with plain integer arguments.
    unsafe {
        for cap in 0..=plan.last_cap {
            if plan.caps & (1u64 << cap) == 0
                && libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong, 0, 0, 0) != 0
                && errno() != libc::EINVAL
            {
                return -1;
            }
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong,
            0,
            0,
            0,
        )
    }
}

/// Sets effective and permitted to the kept set, inheritable empty (root only: setuid to
/// another user has already emptied them).
fn capset(plan: &ChildPlan) -> i32 {
    let lo = plan.caps as u32;
    let hi = (plan.caps >> 32) as u32;
    let data = [
        CapData {
            effective: lo,
            permitted: lo,
            inheritable: 0,
        },
        CapData {
            effective: hi,
            permitted: hi,
            inheritable: 0,
        },
    ];
    let hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and two data records on the stack, as capset(2) expects for version 3.
    unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) as i32 }
}

/// Allocates a pty inside the container's devpts, hands the master to the parent and makes the
/// slave the controlling terminal and stdio.
fn setup_terminal(sock: RawFd, console: bool) -> i32 {
    // SAFETY (whole fn): ioctls and fd calls on fds we own, stack buffers only.
    unsafe {
        let master = libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if master < 0 {
            return -1;
        }
        let unlock: libc::c_int = 0;
        if libc::ioctl(master, libc::TIOCSPTLCK, &unlock) != 0 {
            return -1;
        }
        let slave = libc::ioctl(master, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY);
        if slave < 0 {
            return -1;
        }
        let mut n: libc::c_uint = 0;
        if libc::ioctl(master, libc::TIOCGPTN, &mut n) != 0 {
            return -1;
        }
        // "/dev/pts/<n>" without allocating.
        let mut path = [0u8; 32];
        let prefix = b"/dev/pts/";
        path[..prefix.len()].copy_from_slice(prefix);
        let mut digits = [0u8; 10];
        let mut len = 0;
        let mut v = n;
        loop {
            digits[len] = b'0' + (v % 10) as u8;
            len += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in 0..len {
            path[prefix.len() + i] = digits[len - 1 - i];
        }
        let pts = CStr::from_bytes_until_nul(&path).unwrap_or(c"/dev/pts/0");
        if console
            && mount(
                pts.as_ptr(),
                c"/dev/console",
                ptr::null(),
                libc::MS_BIND,
                ptr::null(),
            ) != 0
        {
            return -1;
        }
        let msg = ChildMsg {
            kind: sync::MSG_PTY,
            ..Default::default()
        };
        if sync::send_msg(sock, &msg, Some(master)) < 0 {
            return -1;
        }
        libc::close(master);
        if libc::setsid() < 0 || libc::ioctl(slave, libc::TIOCSCTTY, 0) != 0 {
            return -1;
        }
        for fd in 0..3 {
            if libc::dup2(slave, fd) < 0 {
                return -1;
            }
        }
        if slave > 2 {
            libc::close(slave);
        }
        0
    }
}

/// Blocks every signal and resets every handler the host installed: until exec, a host handler
/// running in this copy of the process could touch state that is no longer consistent.
fn reset_signals() {
    // SAFETY: sigset/sigaction on stack values; invalid signal numbers just fail.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, ptr::null_mut());
        for sig in 1..libc::SIGRTMAX() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

fn unblock_signals() {
    // SAFETY: as above.
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, ptr::null_mut());
    }
}

/// execve over the candidates like execvp: the first error other than ENOENT wins.
fn exec(plan: &ChildPlan, sock: RawFd) -> ! {
    unblock_signals();
    let mut failed = (0, libc::ENOENT);
    for (i, path) in plan.exec_candidates.iter().enumerate() {
        // SAFETY: NULL-terminated arrays of pointers into the plan's CStrings.
        unsafe {
            libc::execve(
                path.as_ptr(),
                plan.argv_ptrs.as_ptr(),
                plan.env_ptrs.as_ptr(),
            )
        };
        let e = errno();
        if e != libc::ENOENT && e != libc::ENOTDIR {
            if failed.1 == libc::ENOENT {
                failed = (i, e);
            }
            if e != libc::EACCES {
                break;
            }
        }
    }
    fail(sock, Step::Exec, failed.0, failed.1)
}

/// A minimal init as PID 1: runs the command as its child, forwards signals to it, reaps every
/// zombie and exits with the command's status (128+signal when it was killed).
fn run_init(plan: &ChildPlan, sock: RawFd) -> ! {
    // This process never execs: it stays the host's binary for the container's whole life, so
    // keep /proc/<pid>/exe and its memory out of the container's reach.
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Signals stay blocked here (reset_signals) and are collected with sigwaitinfo.
    // SAFETY: raw fork-like clone: the glibc fork wrapper would run atfork handlers that take
    // locks possibly held by threads that do not exist in this copy.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as c_ulong, 0, 0, 0, 0) }
        as libc::pid_t;
    if pid < 0 {
        fail(sock, Step::InitFork, 0, errno());
    }
    if pid == 0 {
        // Its own process group, in the foreground of the terminal: a Ctrl-C typed there must
        // reach the command once, not also this init (which would forward it a second time).
        // SAFETY: plain syscalls; SIGTTOU is still blocked, so tcsetpgrp cannot stop us.
        unsafe {
            libc::setpgid(0, 0);
            if plan.terminal {
                libc::tcsetpgrp(0, libc::getpid());
            }
        }
        exec(plan, sock);
    }
    // The command reports exec errors itself; EOF must come from its exec, not from us. This
    // process never execs, so close-on-exec does not apply to it: close every inherited fd
    // above stdio (the host's descriptors, other containers' sync sockets) by hand.
    // SAFETY: plain syscall.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0) };
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: stack sigset.
    unsafe { libc::sigfillset(&mut all) };
    loop {
        // SAFETY: siginfo is plain data.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let sig = unsafe { libc::sigwaitinfo(&all, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            // SAFETY: forwarding to our own child.
            unsafe { libc::kill(pid, sig) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: reaping any child of ours.
            let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if r <= 0 {
                break;
            }
            if r == pid {
                let code = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                };
                // SAFETY: leaving PID 1 ends the namespace; no host handlers may run.
                unsafe { libc::_exit(code) };
            }
        }
    }
}

/// The child's whole life until exec. Never returns.
pub fn child_main(plan: &ChildPlan, sock: RawFd) -> ! {
    reset_signals();

    if let Some(h) = &plan.hostname {
        // SAFETY: NUL-terminated name of known length.
        check(sock, Step::Sethostname, 0, unsafe {
            libc::sethostname(h.as_ptr(), h.as_bytes().len())
        });
    }
    check(
        sock,
        Step::MakePrivate,
        0,
        mount(
            ptr::null(),
            c"/",
            ptr::null(),
            rootfs::REC_PRIVATE,
            ptr::null(),
        ),
    );
    // pivot_root needs the new root to be a mount point.
    check(
        sock,
        Step::BindRootfs,
        0,
        mount(
            plan.rootfs.as_ptr(),
            &plan.rootfs,
            ptr::null(),
            rootfs::BIND_REC,
            ptr::null(),
        ),
    );
    for (i, op) in plan.ops.iter().enumerate() {
        check(sock, Step::RootfsOp, i, run_op(op));
    }

    // SAFETY (pivot/chroot block): path syscalls with plan-owned strings.
    unsafe {
        check(sock, Step::PivotRoot, 0, libc::chdir(plan.rootfs.as_ptr()));
        if plan.no_pivot {
            check(sock, Step::Chroot, 0, libc::chroot(c".".as_ptr()));
        } else {
            // pivot_root(".", ".") stacks the old root on top of the new one; detaching "."
            // then removes the old root without needing a directory to park it in.
            check(
                sock,
                Step::PivotRoot,
                0,
                libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as i32,
            );
            check(
                sock,
                Step::PivotRoot,
                0,
                libc::umount2(c".".as_ptr(), libc::MNT_DETACH),
            );
        }
        check(sock, Step::PivotRoot, 0, libc::chdir(c"/".as_ptr()));
    }
    if plan.readonly_rootfs {
        let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
        check(
            sock,
            Step::ReadonlyRoot,
            0,
            mount(ptr::null(), c"/", ptr::null(), flags, ptr::null()),
        );
    }

    if plan.loopback {
        check(sock, Step::Loopback, 0, loopback_up());
    }
    // The rootfs is ready; until here the parent worked in parallel (joining the cgroup can
    // wait for an RCU grace period, plugging the network takes a few netlink round trips).
    // Nothing of the user's runs before the parent says both are done.
    let mut go = sync::GoMsg::default();
    let size = std::mem::size_of::<sync::GoMsg>();
    // SAFETY: reading one fixed-size record into a stack struct of plain integers.
    let n = unsafe { libc::read(sock, (&mut go as *mut sync::GoMsg).cast(), size) };
    if n != size as isize || go.magic != sync::GO {
        // The parent gave up (or died): leave quietly.
        // SAFETY: see fail().
        unsafe { libc::_exit(1) };
    }
    if plan.cgroup_namespace {
        // Now that the parent moved us into our cgroup, so it becomes the namespace's root.
        // SAFETY: plain syscall.
        check(sock, Step::CgroupNamespace, 0, unsafe {
            libc::unshare(libc::CLONE_NEWCGROUP)
        });
    }
    if let Some(eth0) = &plan.eth0 {
        check(sock, Step::Network, 0, configure_eth0(eth0, &go));
    }

    become_process(plan, sock)
}

/// From here on the same for a container's first process and for an exec: terminal or own
/// session, credentials, capabilities, no_new_privs, working directory, then exec (through the
/// init when asked).
fn become_process(plan: &ChildPlan, sock: RawFd) -> ! {
    if plan.terminal {
        check(sock, Step::Terminal, 0, setup_terminal(sock, plan.console));
    } else {
        // A session of its own: the host's terminal signals reach the container only through
        // the caller (docker-run forwards them), as with `docker run` without -t.
        // SAFETY: plain syscall.
        check(sock, Step::Setsid, 0, unsafe { libc::setsid() });
    }

    check(sock, Step::Capabilities, 0, drop_bounding_caps(plan));
    // Raw syscalls, not the glibc wrappers: those apply the change to every thread of the
    // process (POSIX semantics) by signalling each thread glibc knows of and waiting for it. In
    // this copy of a multi-threaded host the other threads do not exist, so the wrapper would
    // wait forever. The kernel's calls change just this thread, which is all there is.
    // SAFETY (credentials block): plain syscalls with plan-owned data.
    unsafe {
        let groups = libc::syscall(libc::SYS_setgroups, plan.groups.len(), plan.groups.as_ptr());
        check(sock, Step::Setgroups, 0, groups as i32);
        let gid = libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid);
        check(sock, Step::Setgid, 0, gid as i32);
        let uid = libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid);
        check(sock, Step::Setuid, 0, uid as i32);
    }
    if plan.uid == 0 {
        check(sock, Step::Capabilities, 0, capset(plan));
    }
    // SAFETY: plain prctl.
    check(sock, Step::NoNewPrivs, 0, unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    });
    check(sock, Step::Seccomp, 0, super::seccomp::install());
    // SAFETY: plain syscall.
    check(sock, Step::Chdir, 0, unsafe {
        libc::chdir(plan.cwd.as_ptr())
    });

    // Whatever the host left open without O_CLOEXEC must not leak into the container.
    // SAFETY: plain syscall.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };

    if plan.init {
        run_init(plan, sock);
    }
    exec(plan, sock)
}

/// Namespaces and cgroup of a running container, opened by the parent for an exec.
pub struct Join {
    /// cgroup.procs files opened for writing: writing "0" moves the writer.
    pub cgroup_procs: Vec<OwnedFd>,
    /// /proc/<pid>/ns/* files and their CLONE_NEW* types, in joining order (mount last).
    pub namespaces: Vec<(OwnedFd, libc::c_int)>,
}

/// An exec's first process: joins the container's cgroup and namespaces, then continues like a
/// container's first process. `plan.init` is set so that the command is forked into the
/// container's PID namespace (setns only moves children) while this process forwards signals
/// and reports its status. Never returns.
pub fn exec_main(plan: &ChildPlan, join: &Join, sock: RawFd) -> ! {
    reset_signals();
    // Not dumpable before entering: otherwise a process in the container could open
    // /proc/<us>/exe (the host's binary) or our fds through /proc until we exec (the attack of
    // runc's CVE-2019-5736).
    // SAFETY: plain prctl.
    check(sock, Step::Setns, 0, unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0)
    });
    for fd in &join.cgroup_procs {
        // SAFETY: writing two bytes from a static string to an fd we own.
        let rc = unsafe { libc::write(fd.as_raw_fd(), c"0".as_ptr().cast(), 1) };
        check(sock, Step::JoinCgroup, 0, if rc == 1 { 0 } else { -1 });
    }
    for (i, (fd, nstype)) in join.namespaces.iter().enumerate() {
        // SAFETY: setns on an fd we own.
        check(sock, Step::Setns, i, unsafe {
            libc::setns(fd.as_raw_fd(), *nstype)
        });
    }
    become_process(plan, sock)
}
