//! The crate-wide error type. Each module has its own enum; this joins them.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A caller-supplied value is wrong; nothing was changed.
    #[error("{0}")]
    InvalidArgument(String),

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

    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),

    #[error(transparent)]
    Net(#[from] crate::net::NetError),

    /// The call does not fit the object's state (e.g. wait before start).
    #[error("{0}")]
    State(String),

    #[error("{}: {}", path.display(), os_message(source))]
    Io { path: PathBuf, source: std::io::Error },

    /// The operation needs root (effective uid 0); nothing was done.
    #[error("{what} needs root (the effective user id is {euid}): run it as root, e.g. with sudo")]
    NeedsRoot { what: &'static str, euid: u32 },
}

/// Refuses, before any side effect, an operation that only root can do (namespaces, cgroups,
/// the state directory under /run).
pub fn require_root(what: &'static str) -> Result<()> {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 { Ok(()) } else { Err(Error::NeedsRoot { what, euid }) }
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub fn syscall(op: impl Into<String>, source: impl Into<std::io::Error>) -> Self {
        Error::Syscall { op: op.into(), source: source.into() }
    }

    pub fn last_os(op: impl Into<String>) -> Self {
        Error::syscall(op, std::io::Error::last_os_error())
    }

    /// The raw errno behind the error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Syscall { source, .. } | Error::Io { source, .. } => source.raw_os_error(),
            Error::ChildSetup { errno, .. }
            | Error::CommandNotFound { errno, .. }
            | Error::CommandNotExecutable { errno, .. } => Some(*errno),
            Error::Cgroup(e) => e.errno(),
            Error::Net(e) => e.errno(),
            _ => None,
        }
    }
}

/// The C library's text for an errno, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    os_message(&std::io::Error::from_raw_os_error(errno))
}

/// An io::Error as a person reads it: "No such file or directory".
pub fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A C string for the kernel; `what` names the value in the error when it holds a NUL byte.
pub fn cstring(what: &str, s: impl AsRef<std::ffi::OsStr>) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(s.as_ref().as_bytes())
        .map_err(|_| Error::invalid(format!("{what} contains a NUL byte")))
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
            let ok = unsafe { libc::setresuid(65534, 65534, 65534) } == 0
                && matches!(require_root("starting a container"), Err(Error::NeedsRoot { euid: 65534, .. }));
            unsafe { libc::_exit(if ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status:#x}");
    }
}
