//! Detached containers and the records that outlive containers: container_detach and the
//! exports that act on a container by name or id, running or stopped (docker start, rm, wait,
//! attach, logs, inspect).

use std::ffi::{c_char, c_int};
use std::fs::File;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

use super::container::container;
use super::{c_str, fail, guard, out_param, rt_status, try_mut_from_ptr, write_string};
use crate::container::Host;
use crate::monitor::{self, manage};
use crate::record::log::ReadOptions;

/// container_logs flag: keep following the log while the container runs (docker logs -f).
pub const RT_LOGS_FOLLOW: u32 = 1;
/// container_logs flag: prefix each line with its RFC 3339 time (docker logs -t).
pub const RT_LOGS_TIMESTAMPS: u32 = 2;

/// A caller's descriptor, borrowed for the call (never closed here).
fn borrowed_fd(fd: c_int, name: &str) -> Result<ManuallyDrop<File>, super::Failure> {
    if fd < 0 {
        return Err(fail(
            rt_status::INVALID_ARG,
            format!("{name} is not a descriptor: {fd}"),
        ));
    }
    // SAFETY: the caller's open descriptor, wrapped without taking it: ManuallyDrop never
    // closes it.
    Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
}

/// Starts the container under a monitor (docker run -d): a copy of the calling process,
/// forked twice and detached from the terminal, that owns the container's stdout and stderr
/// (or its terminal), writes them to its log (container_logs), records its exit status and OOM
/// kill, releases its address, cgroup and published ports when it ends and applies its restart
/// policy. Returns once the command runs (or with the error that stopped it, as
/// container_start). The handle can then only tell its id (container_id); freeing it leaves the
/// container alone. The calling process must be single-threaded: the monitor is a fork that
/// goes on running without exec.
#[unsafe(no_mangle)]
pub extern "C" fn container_detach(c: *mut container) -> c_int {
    guard(|| Ok(monitor::detach(try_mut_from_ptr!(c))?))
}

/// Starts a stopped container again (docker start), under a monitor as container_detach does,
/// on its own copy-on-write layer with its own configuration (seccomp policy included). With
/// `attach`, then copies its output from then on to `out_fd` and `err_fd` until it stops and
/// writes its exit code to *out_status (which may be NULL otherwise). RT_STATUS_STATE when it
/// runs already.
#[unsafe(no_mangle)]
pub extern "C" fn container_start_stopped(
    name_or_id: *const c_char,
    attach: bool,
    out_fd: c_int,
    err_fd: c_int,
    out_status: *mut c_int,
) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        let host = Host::default();
        if !attach {
            manage::start_stopped(&host, key)?;
            return Ok(());
        }
        let out = out_param(out_status, "out_status")?;
        let (mut o, mut e) = (
            borrowed_fd(out_fd, "out_fd")?,
            borrowed_fd(err_fd, "err_fd")?,
        );
        *out = manage::start_attached(&host, key, &mut *o, &mut *e)?;
        Ok(())
    })
}

/// Copies a container's output from now on to `out_fd` and `err_fd` until it stops (docker
/// attach, without stdin), then writes its exit code to *out_status.
#[unsafe(no_mangle)]
pub extern "C" fn container_attach(
    name_or_id: *const c_char,
    out_fd: c_int,
    err_fd: c_int,
    out_status: *mut c_int,
) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        let out = out_param(out_status, "out_status")?;
        let (mut o, mut e) = (
            borrowed_fd(out_fd, "out_fd")?,
            borrowed_fd(err_fd, "err_fd")?,
        );
        *out = manage::attach(&Host::default(), key, &mut *o, &mut *e)?;
        Ok(())
    })
}

/// Stops a container by name, id or unique id prefix (docker stop): SIGTERM, then SIGKILL
/// after timeout_ms milliseconds; its restart policy does not start it again. Returns once it
/// is recorded as stopped (also when its monitor was about to restart it).
#[unsafe(no_mangle)]
pub extern "C" fn container_stop_by_name(name_or_id: *const c_char, timeout_ms: u32) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        let timeout = std::time::Duration::from_millis(timeout_ms.into());
        manage::stop(&Host::default(), key, timeout)?;
        Ok(())
    })
}

/// Removes a container that has stopped (docker rm): its record, log and copy-on-write layer.
/// A running one gives RT_STATUS_STATE, unless `force`: then it is killed first and not
/// restarted.
#[unsafe(no_mangle)]
pub extern "C" fn container_remove(name_or_id: *const c_char, force: bool) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        manage::remove(&Host::default(), key, force)?;
        Ok(())
    })
}

/// Blocks until a container (any, not only one this process started) has stopped and writes
/// its exit code to *out_status (docker wait); also for one that exited before, and for a
/// detached auto-removed one (for ten minutes after its end).
#[unsafe(no_mangle)]
pub extern "C" fn container_await(name_or_id: *const c_char, out_status: *mut c_int) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        let out = out_param(out_status, "out_status")?;
        *out = manage::wait_exit(&Host::default(), key)?;
        Ok(())
    })
}

/// Writes a container's log (docker logs): its stdout lines to `out_fd`, its stderr lines to
/// `err_fd`. `flags`: RT_LOGS_FOLLOW, RT_LOGS_TIMESTAMPS (other bits are refused). `tail` >= 0
/// shows only the last `tail` lines; -1 all. Only detached containers have a log (a foreground
/// one writes to its caller's terminal): an empty one otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn container_logs(
    name_or_id: *const c_char,
    out_fd: c_int,
    err_fd: c_int,
    flags: u32,
    tail: i64,
) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        if flags & !(RT_LOGS_FOLLOW | RT_LOGS_TIMESTAMPS) != 0 {
            return Err(fail(
                rt_status::INVALID_ARG,
                format!("unknown log flags {flags:#x}"),
            ));
        }
        if tail < -1 {
            return Err(fail(
                rt_status::INVALID_ARG,
                format!("invalid tail {tail}: use -1 or a count"),
            ));
        }
        let opts = ReadOptions {
            follow: flags & RT_LOGS_FOLLOW != 0,
            timestamps: flags & RT_LOGS_TIMESTAMPS != 0,
            tail: usize::try_from(tail).ok(),
            from_offset: None,
        };
        let (mut o, mut e) = (
            borrowed_fd(out_fd, "out_fd")?,
            borrowed_fd(err_fd, "err_fd")?,
        );
        manage::logs(&Host::default(), key, opts, &mut *o, &mut *e)?;
        Ok(())
    })
}

/// Copies a container's description (docker inspect), NUL-terminated, into buf (capacity cap);
/// its length goes to *out_len (RT_STATUS_BUFFER_TOO_SMALL when cap is too small: call again
/// with more). `format` NULL: the JSON object (Id, Name, Created, Path, Args, State, Config,
/// HostConfig, NetworkSettings, ...); else a Go-template-style selection such as
/// "{{.State.Pid}}" or "{{json .Config.Env}}" (RT_STATUS_INVALID_ARG naming a field that does
/// not exist).
#[unsafe(no_mangle)]
pub extern "C" fn container_inspect(
    name_or_id: *const c_char,
    format: *const c_char,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        let format = if format.is_null() {
            None
        } else {
            Some(c_str(format, "format")?)
        };
        let text = manage::inspect(&Host::default(), key, format)?;
        write_string(&text, buf, cap, out_len)
    })
}
