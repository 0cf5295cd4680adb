//! Signals: `kill`, and `stop` (SIGTERM, then SIGKILL after a timeout, like `docker stop`).

use std::os::fd::AsFd;
use std::time::Duration;

use super::Container;
use crate::error::{Error, Result, StateError};

impl Container {
    /// Sends a signal (1..=64) to the container's first process, through its pidfd: once that
    /// process is gone (exited, reaped by anyone), the signal reaches nobody, whoever has its
    /// pid now.
    pub fn kill(&self, signal: i32) -> Result<()> {
        if !(1..=64).contains(&signal) {
            return Err(Error::Signal(signal));
        }
        let pid = self.live_pid()?;
        let pidfd = self.pidfd.as_ref().ok_or(StateError::NotRunning)?;
        // Killed on purpose: its monitor does not restart it (as Docker's restart policies).
        self.host.records().mark_stop_requested(&self.id);
        match self.host.syscall.kill(pid, pidfd.as_fd(), signal) {
            Err(e) if e.errno() == Some(libc::ESRCH) => Err(StateError::NotRunning.into()),
            other => other,
        }
    }

    /// Stops the container like `docker stop`: SIGTERM, then SIGKILL if it is still running
    /// after `timeout`. Returns once its first process has exited (it may still have to be
    /// reaped by the process that started it). Both signals go through the container's pidfd,
    /// so that a pid reused meanwhile is never hit.
    pub fn stop(&self, timeout: Duration) -> Result<()> {
        self.live_pid()?;
        self.host.records().mark_stop_requested(&self.id);
        let sys = &self.host.syscall;
        let pidfd = self.pidfd.as_ref().ok_or(StateError::NotRunning)?;
        sys.pidfd_send_signal(pidfd.as_fd(), libc::SIGTERM)?;
        if sys.pidfd_wait(pidfd.as_fd(), Some(timeout))? {
            return Ok(());
        }
        match sys.pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL) {
            // Exited between the timeout and the signal.
            Err(e) if e.errno() == Some(libc::ESRCH) => {}
            other => other?,
        }
        sys.pidfd_wait(pidfd.as_fd(), None)?;
        Ok(())
    }
}
