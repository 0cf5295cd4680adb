//! The container's first process, and an exec's, between clone and exec.
//!
//! This runs in a raw `clone()` of a host that may be a multi-threaded C++ program: only the
//! calling thread was copied, and any lock another thread held (the allocator's among them) stays
//! held forever. So everything here is prepared by the parent in a [`ChildPlan`], and this code
//! makes only system calls: no allocation, no locks, no panics, no stdio. It ends in exec or
//! `_exit`. Test builds enforce the allocation rule: their allocator aborts in a cloned child.
//!
//! The steps, by file: [`mounts`] (the rootfs and pivot_root), [`network`] (lo and eth0),
//! [`terminal`], [`capabilities`] (and credentials); the order, the two entry points
//! ([`child_main`], [`exec_main`]) and the exec of the stub (the command, or the init that
//! forks it: `process/stub.rs`, `stub/init.c`) are here.

mod capabilities;
mod mounts;
mod network;
mod resolve;
mod terminal;

use std::os::fd::{AsRawFd, RawFd};
use std::ptr;

use super::plan::{ChildPlan, Join};
use super::sync::{self, Step};

fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Sets errno, for steps that report through a return code like the libc calls do.
fn set_errno(e: i32) {
    // SAFETY: errno is thread-local; writing it is what libc itself does.
    unsafe { *libc::__errno_location() = e };
}

/// Reports a failed step to the parent and exits. Never returns.
fn fail(sock: RawFd, step: Step, index: usize, err: i32) -> ! {
    sync::report(sock, step, index, err);
    exit(1)
}

/// Leaves without running the host's atexit handlers or destructors.
fn exit(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process at once.
    unsafe { libc::_exit(code) }
}

/// A step's return code: negative means failed, with errno set.
fn check(sock: RawFd, step: Step, index: usize, rc: libc::c_int) {
    if rc < 0 {
        fail(sock, step, index, errno());
    }
}

/// Blocks every signal and resets every handler the host installed: until exec, a host handler
/// running in this copy of the process could touch state that is no longer consistent.
fn reset_signals() {
    // SAFETY: sigfillset/sigprocmask on a stack sigset; signal() with SIG_DFL on every number,
    // where invalid ones just fail.
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

/// A new, empty, anonymous session keyring (as runc does): the keys in the session keyring of
/// whoever ran the runtime (an ssh-agent-like login's, a CI job's) stay out of the container's
/// reach. A kernel without keys (ENOSYS) has nothing to hide. Root's user keyring (`@u`) stays
/// reachable by uid 0 whatever the session; the seccomp profile refuses keyctl, add_key and
/// request_key for that reason.
fn join_session_keyring() -> i32 {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let no_name = ptr::null::<libc::c_char>();
    // SAFETY: keyctl with a NULL name: the kernel creates and joins an anonymous keyring.
    let rc = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, no_name) };
    if rc < 0 && errno() != libc::ENOSYS {
        return -1;
    }
    0
}

/// Execs the stub (process/stub.rs), which execs the command (or forks it and stays its init):
/// the command's execve then happens with the sealed memfd as /proc/self/exe, never the host's
/// binary. The sync socket stays open across this exec for the command's exec errors (the stub
/// marks it close-on-exec again before it execs the command). Signals stay blocked: the stub
/// unblocks them for the command.
fn exec(plan: &ChildPlan, sock: RawFd) -> ! {
    if plan.stub_fd() < 0 {
        fail(sock, Step::ExecStub, 0, libc::EBADF);
    }
    // SAFETY: fcntl on our own descriptor.
    check(sock, Step::ExecStub, 0, unsafe {
        libc::fcntl(sock, libc::F_SETFD, 0)
    });
    // SAFETY: an fd, an empty NUL-terminated path, and NULL-terminated arrays of pointers into
    // the plan's CStrings, all alive until exec replaces this image.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            plan.stub_fd(),
            c"".as_ptr(),
            plan.stub_argv_ptr(),
            plan.env_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    // Where execveat is missing (a host under valgrind 3.19 gets ENOSYS or ENOENT), the memfd by
    // its /proc path, as glibc's fexecve does: still the sealed copy, never a host file.
    let first = errno();
    if first == libc::ENOSYS || first == libc::ENOENT {
        let path = resolve::NumberedPath::fd(plan.stub_fd());
        // SAFETY: as above, with a NUL-terminated path on the stack.
        unsafe {
            libc::execve(
                path.as_cstr().as_ptr(),
                plan.stub_argv_ptr(),
                plan.env_ptr(),
            )
        };
    }
    fail(sock, Step::ExecStub, 0, first)
}

/// The working directory, resolved inside the container's root (we are past pivot_root, or
/// joined its mount namespace): the image's symbolic links stay inside, and a magic link such
/// as /proc/self/fd/N (a host directory this process still holds until exec) is refused, the
/// CVE-2024-21626 class. Then, as runc checks, the result must be reachable from the root.
fn enter_cwd(plan: &ChildPlan) -> Result<(), i32> {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
    // SAFETY: a static path.
    let root = unsafe { libc::open(c"/".as_ptr(), flags) };
    resolve::rc(root)?;
    let root = resolve::Fd(root);
    let dir = resolve::open_beneath(
        root.0,
        &plan.cwd,
        libc::O_PATH | libc::O_DIRECTORY,
        resolve::IN_ROOT,
    )?;
    // SAFETY: a descriptor we hold.
    resolve::rc(unsafe { libc::fchdir(dir.0) })?;
    let mut buf = [0u8; libc::PATH_MAX as usize];
    // SAFETY: a stack buffer of the length passed; glibc's getcwd fails with ENOENT for a
    // directory outside our root instead of returning "(unreachable)...".
    let cwd = unsafe { libc::getcwd(buf.as_mut_ptr().cast(), buf.len()) };
    match (cwd.is_null(), errno()) {
        (true, libc::ERANGE) => Ok(()),
        (true, e) => Err(e),
        (false, _) if buf[0] != b'/' => Err(libc::EXDEV),
        (false, _) => Ok(()),
    }
}

/// The container's first process: hostname, rootfs, loopback; then, once the parent has put
/// it in its cgroup and plugged its network (the go-ahead), cgroup namespace and eth0, then
/// the process itself. Never returns.
pub fn child_main(plan: &ChildPlan, sock: RawFd) -> ! {
    reset_signals();
    // Not dumpable until the stub's exec: this is a copy of the host's program.
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    for (i, (fd, nstype)) in plan.join.iter().enumerate() {
        // SAFETY: setns on an nsfs fd the plan owns.
        check(sock, Step::JoinNamespace, i, unsafe {
            libc::setns(fd.as_raw_fd(), *nstype)
        });
    }
    if plan.userns {
        enter_user_namespace(sock);
    }
    if let Some(h) = &plan.hostname {
        // SAFETY: a NUL-terminated name and its length, owned by the plan.
        check(sock, Step::Sethostname, 0, unsafe {
            libc::sethostname(h.as_ptr(), h.as_bytes().len())
        });
    }
    if let Some(d) = &plan.domainname {
        // SAFETY: as above.
        check(sock, Step::Setdomainname, 0, unsafe {
            libc::setdomainname(d.as_ptr(), d.as_bytes().len())
        });
    }
    mounts::setup_rootfs(plan, sock);
    if let (true, Some(net)) = (plan.loopback, &plan.net) {
        check(sock, Step::Loopback, 0, network::loopback_up(net));
    }
    // The rootfs is ready; until here the parent worked in parallel (joining the cgroup can
    // wait for an RCU grace period, plugging the network takes a few netlink round trips).
    // Nothing of the user's runs before the parent says both are done.
    let Some(go) = sync::recv_go(sock) else {
        // The parent gave up (or died): leave quietly.
        exit(1)
    };
    if plan.cgroup_namespace {
        // Now that the parent moved us into our cgroup, so it becomes the namespace's root.
        // SAFETY: plain syscall.
        check(sock, Step::CgroupNamespace, 0, unsafe {
            libc::unshare(libc::CLONE_NEWCGROUP)
        });
        // Mounted from inside the namespace: each hierarchy's root is then our own cgroup.
        mounts::cgroup_mounts(plan, sock);
    }
    if let (true, Some(net)) = (plan.eth0, &plan.net) {
        check(sock, Step::Network, 0, network::configure_eth0(net, &go));
    }
    become_process(plan, sock)
}

/// In a new user namespace: waits until the parent has written the uid and gid maps (a first
/// go-ahead), then becomes the namespace's root, as runc's nsexec does: until then the
/// process's ids are unmapped there, and the files it creates would have no owner.
fn enter_user_namespace(sock: RawFd) {
    if sync::recv_go(sock).is_none() {
        exit(1)
    }
    // SAFETY: plain syscalls with integer arguments (raw: see capabilities.rs).
    let rc = unsafe { libc::syscall(libc::SYS_setresgid, 0, 0, 0) };
    check(sock, Step::UserNsRoot, 0, rc as i32);
    // SAFETY: as above.
    let rc = unsafe { libc::syscall(libc::SYS_setresuid, 0, 0, 0) };
    check(sock, Step::UserNsRoot, 1, rc as i32);
}

/// Resource limits, before the capabilities go (raising a hard limit needs
/// CAP_SYS_RESOURCE).
fn set_rlimits(plan: &ChildPlan, sock: RawFd) {
    for (i, (resource, lim)) in plan.rlimits.iter().enumerate() {
        // SAFETY: prlimit on ourselves with a limit owned by the plan.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_prlimit64,
                0,
                *resource as libc::c_long,
                lim as *const libc::rlimit,
                ptr::null_mut::<libc::rlimit>(),
            )
        };
        check(sock, Step::Rlimit, i, rc as i32);
    }
}

/// The OCI create/start split: tells the parent we are ready (it returns from create), then
/// blocks opening the fifo for writing until `start` opens it for reading, writes one byte
/// for it to read, and goes on to the exec.
fn wait_exec_fifo(plan: &ChildPlan, sock: RawFd) {
    let Some(fifo) = &plan.exec_fifo else {
        return;
    };
    check(sock, Step::ExecFifo, 0, sync::send_ready(sock));
    let path = resolve::NumberedPath::fd(fifo.as_raw_fd());
    let fd = loop {
        // SAFETY: a NUL-terminated path on the stack.
        let fd = unsafe { libc::open(path.as_cstr().as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
        if fd >= 0 || errno() != libc::EINTR {
            break fd;
        }
    };
    check(sock, Step::ExecFifo, 1, fd);
    // SAFETY: one byte from a static string to the fifo we opened.
    let n = unsafe { libc::write(fd, c"0".as_ptr().cast(), 1) };
    check(sock, Step::ExecFifo, 2, if n == 1 { 0 } else { -1 });
    // SAFETY: our descriptor.
    unsafe { libc::close(fd) };
}

/// Closes every descriptor above stdio but the preserved ones, the sync socket, the fifo and
/// the stub's memfd: a created container can wait on its fifo for a long time, and must not
/// hold the files (locks among them) of the process that created it meanwhile.
fn close_all_but(plan: &ChildPlan, sock: RawFd, fifo: RawFd) {
    let mut keep = [sock, fifo, plan.stub_fd()];
    keep.sort_unstable();
    let mut from = 3 + plan.preserve_fds;
    for k in keep {
        let Ok(k) = u32::try_from(k) else { continue };
        if k > from {
            // SAFETY: plain syscall on a range of descriptors.
            unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0u32) };
        }
        from = from.max(k + 1);
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) };
}

/// Whatever the host left open without O_CLOEXEC must not leak into the container, but for
/// the descriptors passed on on purpose; a created container, which may wait on its fifo for a
/// long time, closes them at once. Before any seccomp filter: close_range is one of the calls
/// an allowlist written before it (runtime-tools' default, older Docker ones) denies.
fn release_descriptors(plan: &ChildPlan, sock: RawFd) {
    for fd in 3..3 + plan.preserve_fds {
        // SAFETY: fcntl on a descriptor number; a closed one just fails.
        unsafe { libc::fcntl(fd as RawFd, libc::F_SETFD, 0) };
    }
    // SAFETY: plain syscall on a range of descriptors.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 + plan.preserve_fds,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if let Some(fifo) = &plan.exec_fifo {
        close_all_but(plan, sock, fifo.as_raw_fd());
    }
}

/// From here on the same for a container's first process and for an exec: terminal or own
/// session, credentials, capabilities, no_new_privs, seccomp, working directory, then exec
/// (through the init when asked).
fn become_process(plan: &ChildPlan, sock: RawFd) -> ! {
    check(sock, Step::Keyring, 0, join_session_keyring());
    if plan.terminal {
        check(sock, Step::Terminal, 0, terminal::setup(sock, plan.console));
    } else {
        // A session of its own: the host's terminal signals reach the container only through
        // the caller (docker-run forwards them), as with `docker run` without -t.
        // SAFETY: plain syscall.
        check(sock, Step::Setsid, 0, unsafe { libc::setsid() });
    }
    set_rlimits(plan, sock);
    release_descriptors(plan, sock);
    // Without no_new_privs the filter needs CAP_SYS_ADMIN: installed before the capabilities
    // go, as runc does (so the profile must allow what follows: what runc calls there).
    let early_seccomp = !plan.no_new_privs;
    if let (true, Some(filter)) = (early_seccomp, &plan.seccomp) {
        check(sock, Step::Seccomp, 0, filter.install());
    }
    capabilities::drop_privileges(plan, sock);
    if plan.no_new_privs {
        // SAFETY: plain prctl.
        check(sock, Step::NoNewPrivs, 0, unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        });
    }
    if let Some(mask) = plan.umask {
        // SAFETY: plain syscall.
        unsafe { libc::umask(mask) };
    }
    if let Err(e) = enter_cwd(plan) {
        fail(sock, Step::Chdir, 0, e);
    }
    if let Some(p) = plan.personality {
        // SAFETY: plain syscall.
        check(sock, Step::Personality, 0, unsafe { libc::personality(p) });
    }
    wait_exec_fifo(plan, sock);
    // Last before the exec, as runc does: from here on the filter judges our own calls too.
    if let (false, Some(filter)) = (early_seccomp, &plan.seccomp) {
        check(sock, Step::Seccomp, 0, filter.install());
    }
    exec(plan, sock)
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
        // SAFETY: writing one byte from a static string to an fd we own.
        let rc = unsafe { libc::write(fd.as_raw_fd(), c"0".as_ptr().cast(), 1) };
        check(sock, Step::JoinCgroup, 0, if rc == 1 { 0 } else { -1 });
    }
    for (i, (fd, nstype)) in join.namespaces.iter().enumerate() {
        // SAFETY: setns on an nsfs fd we own.
        check(sock, Step::Setns, i, unsafe {
            libc::setns(fd.as_raw_fd(), *nstype)
        });
    }
    become_process(plan, sock)
}
