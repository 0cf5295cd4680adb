//! The runtime's one `clone()`: fork-like, into new namespaces. Used by the parent for a
//! container's first process and for an exec, and by the container's init to fork the command.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

/// What [`clone`] returned in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// This is the new process.
    Child,
    /// This is the caller; the child has this pid.
    Parent(libc::pid_t),
}

/// Clones the calling thread into a new process, fork-like (no CLONE_VM, no new stack: the
/// child continues on a copy of this stack) with the namespaces of `ns_flags` (CLONE_NEW*), and
/// SIGCHLD to the parent when it exits.
///
/// A raw system call, not glibc's fork(): that one runs atfork handlers, which take locks that
/// threads of a multi-threaded host may hold, and these threads do not exist in the copy. From
/// here on the child may not allocate nor take any lock, until exec or `_exit`; this function
/// itself allocates nothing, so the child's init can use it too.
pub fn clone(ns_flags: libc::c_ulong) -> Result<Forked, Errno> {
    clone_raw(ns_flags, std::ptr::null_mut())
}

/// [`clone`], and in the parent also a pidfd of the child (CLONE_PIDFD), taken atomically with
/// the clone: signals and waits through it can never reach another process, even once the child
/// was reaped by someone else (a C host's `waitpid(-1)`) and its pid reused.
pub fn clone_with_pidfd(ns_flags: libc::c_ulong) -> Result<(Forked, Option<OwnedFd>), Errno> {
    let mut pidfd: libc::c_int = -1;
    let forked = clone_raw(ns_flags | libc::CLONE_PIDFD as libc::c_ulong, &mut pidfd)?;
    let fd = match forked {
        // SAFETY: the kernel stored a fresh descriptor there for the parent only.
        Forked::Parent(_) => Some(unsafe { OwnedFd::from_raw_fd(pidfd) }),
        Forked::Child => None,
    };
    Ok((forked, fd))
}

fn clone_raw(ns_flags: libc::c_ulong, pidfd: *mut libc::c_int) -> Result<Forked, Errno> {
    let flags = ns_flags | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: without CLONE_VM and without a new stack the kernel gives the child a private
    // copy of our memory, as fork(2) does; both sides return from this call normally.
    // With CLONE_PIDFD the pidfd goes to the third argument (parent_tid) on x86_64 and aarch64.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0, pidfd, 0, 0) };
    match pid {
        -1 => Err(Errno::last()),
        0 => {
            #[cfg(test)]
            crate::test_utils::alloc_guard::enter_cloned_child();
            Ok(Forked::Child)
        }
        pid => Ok(Forked::Parent(pid as libc::pid_t)),
    }
}
