//! Waiting for a container's first process, and the teardown after it.

use std::os::fd::AsFd;

use super::{Container, ExitStatus, Status};
use crate::error::{Result, StateError};
use crate::process::tty;
use crate::state::short_id;

impl Container {
    /// Waits for the container's first process to exit; with a terminal, relays it to the
    /// caller's stdin/stdout meanwhile. Then removes what the start created.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let pid = match self.status {
            Status::Running { pid } => pid,
            Status::Stopped(status) => return Ok(status),
            Status::Created => return Err(StateError::NotStarted.into()),
        };
        if !self.owned {
            return Err(StateError::NotOwner(short_id(&self.id).to_string()).into());
        }
        if let Some(master) = self.pty_master.take() {
            tty::relay(&master)?;
        }
        let pidfd = self.pidfd.as_ref().ok_or(StateError::NotRunning)?;
        let mut status = self.host.syscall.waitpid(pid, pidfd.as_fd())?;
        if status.signal == Some(libc::SIGKILL) {
            status.oom_killed = self.cgroup.as_ref().is_some_and(|cg| cg.oom_killed());
        }
        self.status = Status::Stopped(status);
        self.record_exit(&status);
        self.release(None);
        Ok(status)
    }
}
