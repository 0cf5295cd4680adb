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
            Error::State(_) | Error::Signal(_) => None,
        }
    }
}
