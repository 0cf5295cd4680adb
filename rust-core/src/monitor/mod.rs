//! Detached containers (`docker-run -d`): the container runs under a small monitor, the
//! calling process itself forked twice (the first child calls setsid and leaves at once, so the
//! monitor has no terminal and no parent to wait for it), as conmon is for podman. The
//! monitor:
//!
//! - is the container's parent, so it holds the pidfd and can wait for it;
//! - owns the container's stdout and stderr (two pipes), or its pty master with `-t`, and
//!   writes what comes out to the container's log (`record::log`, Docker's json-file shape);
//! - records the exit status and an OOM kill in the container's record, and releases the
//!   lease, the cgroup and the published ports (the container's own teardown, `wait`);
//! - applies the restart policy (`--restart`) on the container's own layer, unless it was
//!   stopped on purpose (`stop`, `kill`, `rm -f` leave a marker).
//!
//! The caller learns through a pipe whether the start succeeded; an error keeps its kind
//! (`Error::Relayed`), so a missing command still makes docker-run exit 127.
//!
//! A monitor killed by SIGKILL leaves what a killed foreground docker-run leaves: the
//! container runs on, and once it is gone `cleanup` removes its state record, cgroup and ports,
//! and marks its record exited with an unknown status (255), as Docker does when a shim dies.
//!
//! fork() without exec: the calling process must be single-threaded (docker-run is), since
//! the monitor goes on running Rust code that allocates.

pub mod manage;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::container::output::{Source, dup_onto, pipe, pump};
use crate::container::{Container, ContainerBuilder, Status};
use crate::error::{Error, RelayedKind, Result, StateError};
use crate::record::RunStatus;
use crate::record::log::Writer;

fn dev_null() -> Result<OwnedFd> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| Error::io("/dev/null", e))?;
    Ok(f.into())
}

/// Starts `c` under a monitor and returns once its command runs (or with the error that
/// stopped it). The handle stays behind, marked detached: it can tell its id, nothing more.
pub fn detach(c: &mut Container) -> Result<()> {
    if !matches!(c.status(), Status::Created) || c.is_detached() {
        return Err(StateError::AlreadyStarted.into());
    }
    crate::error::require_root("starting a container")?;
    let (rd, wr) = pipe()?;
    // SAFETY: fork in a single-threaded caller (see the module doc); the children leave with
    // _exit, never through the caller's atexit handlers or destructors.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::last_os("fork"));
    }
    if pid == 0 {
        drop(rd);
        // SAFETY: setsid and fork in the single-threaded child.
        unsafe {
            libc::setsid();
            if libc::fork() == 0 {
                let code = monitor_main(c, wr);
                libc::_exit(code);
            }
            libc::_exit(0);
        }
    }
    drop(wr);
    let mut answer = Vec::new();
    let read = std::fs::File::from(rd).read_to_end(&mut answer);
    let mut status = 0;
    // SAFETY: waitpid on our own child (the one that forked the monitor and left).
    unsafe { libc::waitpid(pid, &mut status, 0) };
    c.set_detached();
    read.map_err(|e| Error::syscall("reading the monitor's answer", e))?;
    parse_answer(&answer)
}

/// "ok", or a kind byte, the errno and the message of the error (see [`send_error`]).
fn parse_answer(answer: &[u8]) -> Result<()> {
    if answer == b"ok" {
        return Ok(());
    }
    let Some((&kind, rest)) = answer.split_first() else {
        return Err(Error::Relayed {
            kind: RelayedKind::Other,
            message: "the container's monitor died before the container started".into(),
            errno: 0,
        });
    };
    let text = String::from_utf8_lossy(rest);
    let (errno, message) = text.split_once(' ').unwrap_or(("0", &text));
    Err(Error::Relayed {
        kind: RelayedKind::from_byte(kind),
        message: message.to_string(),
        errno: errno.parse().unwrap_or(0),
    })
}

fn send_error(report: OwnedFd, e: &Error) {
    let mut msg = vec![RelayedKind::of(e).to_byte()];
    msg.extend_from_slice(format!("{} {e}", e.errno().unwrap_or(0)).as_bytes());
    let _ = std::fs::File::from(report).write_all(&msg);
}

/// Closes every inherited descriptor above 2 but `keep`: a pipe of whoever ran docker-run
/// (a shell's `$(...)`) must not stay open for as long as the container runs.
fn close_inherited(keep: RawFd) {
    let fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds.into_iter().filter(|&fd| fd > 2 && fd != keep) {
        // SAFETY: closing inherited descriptors no Rust object owns in this process (the ones
        // the container handle owns do not exist yet: nothing was started).
        unsafe { libc::close(fd) };
    }
}

/// The monitor: runs the container, and again as its restart policy says. Its exit code.
fn monitor_main(c: &mut Container, report: OwnedFd) -> i32 {
    close_inherited(report.as_raw_fd());
    // SAFETY: plain calls in the single-threaded monitor.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::chdir(c"/".as_ptr());
    }
    let Ok(null) = dev_null() else { return 125 };
    let _ = dup_onto(null.as_fd(), 0);
    let id = c.id().to_string();
    let spec = c.spec().clone();
    let host = c.host().clone();
    let records = host.records();
    let mut report = Some(report);
    let mut restarts = 0u32;
    let mut again: Option<Container> = None;
    loop {
        let current = match again.as_mut() {
            Some(next) => next,
            None => &mut *c,
        };
        current.set_monitor_options(restarts, true);
        let again_next = match run_once(current, report.take(), &null) {
            Ok(again_next) => again_next,
            Err(_) => return 125,
        };
        if !again_next {
            // A stop asked for just after the exit was recorded as restarting.
            records.update(&id, |r| {
                if r.state.status == RunStatus::Restarting {
                    r.state.status = RunStatus::Exited;
                }
            });
            return 0;
        }
        std::thread::sleep(backoff(restarts));
        restarts += 1;
        let still_there = records.load(&id).is_some();
        if records.stop_requested(&id) || !still_there {
            records.update(&id, |r| r.state.status = RunStatus::Exited);
            return 0;
        }
        let builder = ContainerBuilder::new(spec.clone()).host(host.clone());
        match builder.existing(&id).build() {
            Ok(next) => again = Some(next),
            Err(e) => {
                records.update(&id, |r| {
                    r.state.status = RunStatus::Exited;
                    r.state.error = e.to_string();
                });
                return 125;
            }
        }
    }
}

/// The delay before a restart: 100 ms, doubled each time (as Docker's), at most 1.6 s.
fn backoff(restarts: u32) -> Duration {
    Duration::from_millis(100u64 << restarts.min(4)).min(Duration::from_secs(2))
}

/// One run: the container's output into pipes (or its pty), the start, the answer to the
/// caller on the first run, then the log until it exits, and its end recorded.
/// Returns whether the restart policy starts it again.
fn run_once(c: &mut Container, report: Option<OwnedFd>, null: &OwnedFd) -> Result<bool> {
    let mut sources: Vec<Source> = Vec::new();
    let tty = c.spec().terminal;
    let started = (|| {
        if !tty {
            let (out_r, out_w) = pipe()?;
            let (err_r, err_w) = pipe()?;
            dup_onto(out_w.as_fd(), 1)?;
            dup_onto(err_w.as_fd(), 2)?;
            for (fd, stream) in [(out_r, "stdout"), (err_r, "stderr")] {
                sources.push(Source {
                    fd,
                    stream,
                    echo: None,
                });
            }
        }
        c.start()
    })();
    // Our copies of the write ends go, so that the log ends when the container's do.
    let _ = dup_onto(null.as_fd(), 1);
    let _ = dup_onto(null.as_fd(), 2);
    match (started, report) {
        (Err(e), Some(r)) => {
            send_error(r, &e);
            return Err(e);
        }
        (Err(e), None) => return Err(e),
        (Ok(()), Some(r)) => {
            let _ = std::fs::File::from(r).write_all(b"ok");
        }
        (Ok(()), None) => {}
    }
    if let Some(master) = c.take_pty_master() {
        sources.push(Source {
            fd: master,
            stream: "stdout",
            echo: None,
        });
    }
    let log = Writer::open(&c.host().records().log_path(c.id())).ok();
    if let Some(pidfd) = c.pidfd() {
        pump(sources, pidfd, log);
    }
    let status = c.wait()?;
    Ok(c.restarts_after(&status))
}
