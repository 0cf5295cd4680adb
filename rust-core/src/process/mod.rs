//! The processes of a container: the one clone, the parent/child protocol, the plan the parent
//! prepares and the child's setup that replays it, the optional init, and the terminal relay.
//! The lifecycle that drives them is `container/`.

mod child;
pub mod clone;
pub mod nsjoin;
pub mod plan;
pub mod stub;
pub mod sync;
pub mod tty;

pub use child::{child_main, exec_main};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal number, like a shell reports it.
    pub code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
    /// Killed by the kernel's OOM killer because of the memory limit.
    pub oom_killed: bool,
}

impl ExitStatus {
    /// Decodes a waitpid(2) status.
    pub fn from_wait_status(status: i32) -> ExitStatus {
        if libc::WIFSIGNALED(status) {
            let sig = libc::WTERMSIG(status);
            ExitStatus {
                code: 128 + sig,
                signal: Some(sig),
                oom_killed: false,
            }
        } else {
            ExitStatus {
                code: libc::WEXITSTATUS(status),
                signal: None,
                oom_killed: false,
            }
        }
    }

    /// Exited with `code`.
    pub fn exited(code: i32) -> ExitStatus {
        ExitStatus {
            code,
            signal: None,
            oom_killed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses() {
        // As the kernel encodes them: exit code in bits 8-15, a signal in bits 0-6.
        assert_eq!(ExitStatus::from_wait_status(3 << 8), ExitStatus::exited(3));
        let killed = ExitStatus::from_wait_status(libc::SIGKILL);
        assert_eq!((killed.code, killed.signal), (137, Some(libc::SIGKILL)));
    }
}
