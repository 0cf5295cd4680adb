//! The kernel operations of a container's lifecycle, behind a trait (youki's `syscall/`): clone,
//! signals through pids and pidfds, waitpid, and the namespace descriptors an exec joins. The
//! Linux implementation makes the calls; the fake (tests) records them and plays a scripted
//! child, so that the start, exec and stop paths are tested without root.
//!
//! What the cloned child does itself (mount, pivot_root, setns, exec) is not here: it runs from
//! the plan, allocation-free, and is tested against the real kernel. The parent's own mounts
//! (the container's overlay root) are.

#[cfg(test)]
pub mod fake;
mod linux;

use std::convert::Infallible;
use std::fmt;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::time::Duration;

pub use linux::LinuxSyscall;

use crate::error::Result;
use crate::process::ExitStatus;
use crate::process::sync::ChildEnd;
pub use crate::rootfs::overlay::Mounts;

/// The parent's own mounts (a container's overlay root) come from [`Mounts`].
pub trait Syscall: Mounts + fmt::Debug + Send + Sync {
    /// Whether these operations need root (the kernel's do; a fake's do not): containers refuse
    /// to start without it, before any side effect.
    fn needs_root(&self) -> bool {
        true
    }

    /// Clones a child, fork-like, into the namespaces of `ns_flags` (CLONE_NEW*); the child
    /// runs `child`, which never returns (it ends in exec or `_exit`: `Infallible` says so in
    /// stable Rust), and talks to the caller on `channel`, the child's end of the sync channel.
    /// Returns the child's pid and a pidfd of it, taken with the clone (CLONE_PIDFD).
    fn clone_child(
        &self,
        ns_flags: libc::c_ulong,
        channel: &ChildEnd,
        child: &dyn Fn() -> Infallible,
    ) -> Result<(libc::pid_t, OwnedFd)>;

    /// Signals the process `pidfd` refers to (`pid` names it in messages). Never by pid: once
    /// that process is gone (reaped by anyone), its pid may be someone else's; its pidfd stays
    /// its own and gives ESRCH. ESRCH included: the caller decides whether a gone process is an
    /// error.
    fn kill(&self, pid: libc::pid_t, pidfd: BorrowedFd<'_>, signal: i32) -> Result<()>;

    /// Waits for our child behind `pidfd` to exit and reaps it (waitid P_PIDFD: never another
    /// child of the host that reuses the pid; ECHILD when the host reaped it first).
    fn waitpid(&self, pid: libc::pid_t, pidfd: BorrowedFd<'_>) -> Result<ExitStatus>;

    /// A pidfd: signals through it cannot hit a reused pid.
    fn pidfd_open(&self, pid: libc::pid_t) -> Result<OwnedFd>;

    fn pidfd_send_signal(&self, pidfd: BorrowedFd<'_>, signal: i32) -> Result<()>;

    /// Waits until the process behind `pidfd` exits; false when `timeout` passed first.
    fn pidfd_wait(&self, pidfd: BorrowedFd<'_>, timeout: Option<Duration>) -> Result<bool>;

    /// The namespaces of `pid` that differ from the caller's, as /proc/<pid>/ns/* descriptors
    /// with their CLONE_NEW* type, in the order an exec joins them (mount last).
    fn namespace_fds(&self, pid: libc::pid_t) -> Result<Vec<(OwnedFd, libc::c_int)>>;
}
