//! Waiting for a container's first process, and the teardown after it.

use std::os::fd::AsFd;

use super::{Container, ExitStatus, Status, output};
use crate::error::{Result, StateError};
use crate::process::tty;
use crate::record::log::{LineSplitter, Writer};
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
        let log_path = self
            .logs_here()
            .then(|| self.host.records().log_path(&self.id));
        let log = || log_path.as_ref().and_then(|p| Writer::open(p).ok());
        if let Some(master) = self.pty_master.take() {
            let (mut log, mut split) = (log(), LineSplitter::default());
            let mut to_log = |bytes: &[u8]| {
                if let Some(w) = log.as_mut() {
                    for line in split.push(bytes) {
                        let _ = w.write("stdout", &line);
                    }
                }
            };
            tty::relay(&master, Some(&mut to_log))?;
            if let (Some(w), Some(rest)) = (log.as_mut(), split.finish()) {
                let _ = w.write("stdout", &rest);
            }
        }
        let pidfd = self.pidfd.as_ref().ok_or(StateError::NotRunning)?;
        let sources = std::mem::take(&mut self.output);
        if !sources.is_empty() {
            output::pump(sources, pidfd.as_fd(), log());
        }
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
