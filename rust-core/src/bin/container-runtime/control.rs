//! Signals and the freezer: `kill`, `pause`, `resume`.
//!
//! Every signal goes through a pidfd opened first and proven afterwards: the init by its
//! recorded start time, another process by its membership of the container's cgroup. A pid
//! that was reused meanwhile is never hit (a process checked after its pidfd was opened is the
//! one the pidfd holds).

use std::os::fd::{AsFd, OwnedFd};

use container_runtime::procfs::process_start_time;
use container_runtime::syscall::{LinuxSyscall, Syscall};

use crate::Ctx;
use crate::cgroup;
use crate::cli::{ArgCount, Parsed};
use crate::error::Fail;
use crate::signal;
use crate::state::{Saved, Status};

/// A pidfd of the container's init, if it is still the process the state names.
pub fn init_pidfd(saved: &Saved) -> Option<OwnedFd> {
    let fd = LinuxSyscall.pidfd_open(saved.pid).ok()?;
    (process_start_time(saved.pid) == Some(saved.start_time)).then_some(fd)
}

/// Sends `sig` to every process in the container's cgroup.
pub fn signal_all(saved: &Saved, sig: i32) {
    for pid in cgroup::pids(saved) {
        let Ok(fd) = LinuxSyscall.pidfd_open(pid) else {
            continue;
        };
        if cgroup::pids(saved).contains(&pid) {
            let _ = LinuxSyscall.pidfd_send_signal(fd.as_fd(), sig);
        }
    }
}

/// `kill [--all] ID [SIGNAL]` (default SIGTERM).
pub fn kill(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("kill", ArgCount::Range(1, 2))?;
    let name = p.args.get(1).map_or("SIGTERM", String::as_str);
    let sig = signal::parse(name).ok_or_else(|| Fail::msg(format!("unknown signal {name:?}")))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], false)?;
    let saved = entry.load()?;
    let status = entry.status(&saved);
    if p.on("all") {
        signal_all(&saved, sig);
        if status == Status::Paused {
            // A frozen task takes the signal only when thawed: SIGKILL must not wait for resume.
            if sig == libc::SIGKILL {
                cgroup::set_frozen(&saved, false)?;
            }
        }
        return Ok(0);
    }
    if status == Status::Stopped {
        return Err(Fail::not_running());
    }
    let fd = init_pidfd(&saved).ok_or_else(Fail::not_running)?;
    match LinuxSyscall.pidfd_send_signal(fd.as_fd(), sig) {
        Ok(()) => Ok(0),
        Err(e) if e.errno() == Some(libc::ESRCH) => Err(Fail::not_running()),
        Err(e) => Err(e.into()),
    }
}

/// `pause ID`: freezes the container.
pub fn pause(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("pause", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], true)?;
    let saved = entry.load()?;
    match entry.status(&saved) {
        Status::Running => cgroup::set_frozen(&saved, true)?,
        Status::Paused => {}
        _ => return Err(Fail::not_running()),
    }
    Ok(0)
}

/// `resume ID`: thaws a paused container.
pub fn resume(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("resume", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], true)?;
    let saved = entry.load()?;
    if entry.status(&saved) != Status::Paused {
        return Err(Fail::msg("container not paused"));
    }
    cgroup::set_frozen(&saved, false)?;
    Ok(0)
}
