//! The crate-wide error type. Each module has its own enum; this joins them, and holds the
//! errors of the container lifecycle itself.

use std::path::PathBuf;

pub use crate::errno::{os_message, strerror};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mistake in the container spec; nothing was changed.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),

    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),

    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),

    #[error(transparent)]
    Net(#[from] crate::net::NetError),

    /// A seccomp profile that does not load or compile.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::Error),

    /// The image store: a missing or bad image, a refused archive.
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),

    /// Finding or claiming a container in the state directory.
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),

    /// The call does not fit the container's state (e.g. wait before start).
    #[error(transparent)]
    State(#[from] StateError),

    #[error("invalid signal number {0}")]
    Signal(i32),

    /// A system call failed in the parent.
    #[error("{op}: {}", os_message(source))]
    Syscall { op: String, source: std::io::Error },

    /// A setup step failed inside the container before exec.
    #[error("{what}: {}", strerror(*errno))]
    ChildSetup { what: String, errno: i32 },

    /// The command could not be found inside the container (docker-run exits 127).
    #[error("{what}")]
    CommandNotFound { what: String, errno: i32 },

    /// The command exists but cannot be executed (docker-run exits 126).
    #[error("{what}: {}", strerror(*errno))]
    CommandNotExecutable { what: String, errno: i32 },

    #[error("{}: {}", path.display(), os_message(source))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// An OCI bundle that cannot be run (`oci::OciError`'s message, which names the field;
    /// `errno` when reading it failed).
    #[error("{message}")]
    Bundle { message: String, errno: Option<i32> },

    /// An OCI hook failed.
    #[error("{what}: {why}")]
    Hook { what: String, why: String },

    /// How a hook ended when it did not succeed.
    #[error("{0}")]
    HookStatus(String),

    /// The operation needs root (effective uid 0); nothing was done.
    #[error("{what} needs root (the effective user id is {euid}): run it as root, e.g. with sudo")]
    NeedsRoot { what: &'static str, euid: u32 },
}

/// Refuses, before any side effect, an operation that only root can do (namespaces, cgroups,
/// the state directory under /run).
pub fn require_root(what: &'static str) -> Result<()> {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        Ok(())
    } else {
        Err(Error::NeedsRoot { what, euid })
    }
}

/// A call that does not fit the container's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("container was already started")]
    AlreadyStarted,
    #[error("container is not started")]
    NotStarted,
    #[error("container is not running")]
    NotRunning,
    /// A container opened from the state directory whose process is gone (short id).
    #[error("container {0} is not running")]
    Gone(String),
    /// A record whose process is not in the container's cgroup: not the container's (a forged
    /// or corrupt record); nothing is signalled or joined.
    #[error(
        "container {id}: its recorded process {pid} is not in the container's cgroup; refusing it"
    )]
    NotContainer { id: String, pid: i32 },
    #[error("container has exited: its cgroup is gone")]
    Exited,
    #[error("container has not exited (call container_wait first)")]
    NotExited,
    #[error("container {0} was started by another process: only that process can wait for it")]
    NotOwner(String),
    #[error("container has no bridge address")]
    NoAddress,
    #[error("the container sent no pty")]
    NoPty,
    #[error("unexpected message {0} from the container")]
    UnexpectedMessage(u32),
}

impl Error {
    pub fn syscall(op: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        Error::Syscall {
            op: op.into(),
            source: source.into(),
        }
    }

    pub fn last_os(op: impl Into<String>) -> Self {
        Error::syscall(op, std::io::Error::last_os_error())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The raw errno behind the error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Syscall { source, .. } | Error::Io { source, .. } => source.raw_os_error(),
            Error::ChildSetup { errno, .. }
            | Error::CommandNotFound { errno, .. }
            | Error::CommandNotExecutable { errno, .. } => Some(*errno),
            Error::Spec(e) => e.errno(),
            Error::Rootfs(e) => e.errno(),
            Error::Cgroup(e) => e.errno(),
            Error::Net(e) => e.errno(),
            Error::Store(e) => e.errno(),
            Error::Image(e) => e.errno(),
            Error::State(_)
            | Error::Signal(_)
            | Error::NeedsRoot { .. }
            | Error::Seccomp(_)
            | Error::Hook { .. }
            | Error::HookStatus(_) => None,
            Error::Bundle { errno, .. } => *errno,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another user gets NeedsRoot (as root: checked in a forked child that drops to nobody).
    #[test]
    fn require_root_refuses_other_users() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            assert!(matches!(require_root("x"), Err(Error::NeedsRoot { .. })));
            return;
        }
        assert!(require_root("x").is_ok());
        // SAFETY: the child makes system calls, checks a value and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: plain syscall in the forked child.
            let dropped = unsafe { libc::setresuid(65534, 65534, 65534) } == 0;
            let refused = matches!(
                require_root("starting a container"),
                Err(Error::NeedsRoot { euid: 65534, .. })
            );
            // SAFETY: leaving the forked child without running the test harness's handlers.
            unsafe { libc::_exit(if dropped && refused { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }
}
