//! A container's stdout and stderr on their way to its log (`record::log`): pipes in place of
//! the caller's descriptors while the container starts, then a pump that writes each line to
//! the log and, for a container run in the foreground, the same bytes to the caller's
//! stdout and stderr, as `docker run` shows what it logs.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::process::tty::write_all;
use crate::record::log::{LineSplitter, Writer};

/// One output of the container: the read end of its pipe (or its pty master), the stream it
/// is logged as, and where its bytes are also copied (the caller's descriptor), if anywhere.
pub struct Source {
    pub fd: OwnedFd,
    pub stream: &'static str,
    pub echo: Option<RawFd>,
}

pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::last_os("pipe2"));
    }
    // SAFETY: both fds are new and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn dup_onto(fd: BorrowedFd<'_>, target: RawFd) -> Result<()> {
    // SAFETY: dup2 of a valid fd onto a standard fd number.
    if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
        return Err(Error::last_os("dup2"));
    }
    Ok(())
}

/// The caller's stdout and stderr replaced by pipes for as long as it lives (a start: the
/// child inherits them); dropping it puts the caller's own back. Other threads of the caller
/// that write to stdout meanwhile write into the container's log.
pub struct Captured {
    saved: Vec<(OwnedFd, RawFd)>,
    /// The read ends, logged as stdout and stderr, echoed to the caller's descriptors.
    pub sources: Vec<Source>,
}

impl Captured {
    pub fn new() -> Result<Captured> {
        let mut c = Captured {
            saved: Vec::new(),
            sources: Vec::new(),
        };
        for (target, stream) in [(1, "stdout"), (2, "stderr")] {
            // SAFETY: F_DUPFD_CLOEXEC of a standard descriptor; the copy is ours.
            let saved = unsafe { libc::fcntl(target, libc::F_DUPFD_CLOEXEC, 3) };
            if saved < 0 {
                return Err(Error::last_os("dup of stdout/stderr"));
            }
            // SAFETY: a new descriptor, ours.
            c.saved
                .push((unsafe { OwnedFd::from_raw_fd(saved) }, target));
            let (r, w) = pipe()?;
            dup_onto(w.as_fd(), target)?;
            c.sources.push(Source {
                fd: r,
                stream,
                echo: Some(target),
            });
        }
        Ok(c)
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        for (saved, target) in &self.saved {
            let _ = dup_onto(saved.as_fd(), *target);
        }
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// SIGPIPE blocked in this thread while it lives (an echo to a closed pipe fails with EPIPE
/// instead of killing the caller); a SIGPIPE raised meanwhile is consumed.
struct NoSigpipe {
    old: libc::sigset_t,
}

impl NoSigpipe {
    fn new() -> NoSigpipe {
        // SAFETY: sigset operations on stack values; pthread_sigmask on this thread.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            NoSigpipe { old }
        }
    }
}

impl Drop for NoSigpipe {
    fn drop(&mut self) {
        // SAFETY: as above; a zero timeout only collects a pending SIGPIPE.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGPIPE);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            if libc::sigismember(&self.old, libc::SIGPIPE) == 0 {
                while libc::sigtimedwait(&set, std::ptr::null_mut(), &zero) == libc::SIGPIPE {}
            }
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// Copies the container's output into the log (and its echoes) until its first process exits
/// (then what is left in the pipes is drained: a daemon it left behind may hold them open
/// forever). A source whose echo fails is closed: the container's next write to it fails, as
/// it would have on the caller's closed descriptor.
pub fn pump(sources: Vec<Source>, pidfd: BorrowedFd<'_>, mut log: Option<Writer>) {
    let _no_sigpipe = NoSigpipe::new();
    let mut open: Vec<(Source, LineSplitter)> = sources
        .into_iter()
        .map(|s| (s, LineSplitter::default()))
        .collect();
    let mut write = |stream: &str, lines: Vec<Vec<u8>>| {
        if let Some(w) = log.as_mut() {
            for l in lines {
                let _ = w.write(stream, &l);
            }
        }
    };
    let mut exited = false;
    let mut buf = vec![0u8; 64 * 1024];
    while !open.is_empty() {
        let mut ready: Vec<usize> = (0..open.len()).collect();
        if !exited {
            let mut fds: Vec<libc::pollfd> = open
                .iter()
                .map(|(s, _)| s.fd.as_raw_fd())
                .chain(std::iter::once(pidfd.as_raw_fd()))
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: poll on an array of pollfds of the right length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                continue;
            }
            ready.retain(|&i| fds[i].revents != 0);
            if fds.last().is_some_and(|p| p.revents != 0) {
                exited = true;
                ready = (0..open.len()).collect();
                for (s, _) in &open {
                    set_nonblocking(s.fd.as_raw_fd());
                }
            }
        }
        // Highest first, so that removing one keeps the others' indices.
        for &i in ready.iter().rev() {
            loop {
                // SAFETY: read into our buffer from a descriptor we own.
                let n = unsafe {
                    libc::read(open[i].0.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len())
                };
                let errno = std::io::Error::last_os_error().raw_os_error();
                if n > 0 {
                    let (s, split) = &mut open[i];
                    let bytes = &buf[..n as usize];
                    write(s.stream, split.push(bytes));
                    if s.echo.is_some_and(|fd| !write_all(fd, bytes)) {
                        let (s, mut split) = open.remove(i);
                        if let Some(rest) = split.finish() {
                            write(s.stream, vec![rest]);
                        }
                        break;
                    }
                    if exited {
                        continue;
                    }
                    break;
                }
                if n < 0 && errno == Some(libc::EINTR) {
                    continue;
                }
                // EOF, EIO (a pty whose other side is closed), or EAGAIN once exited.
                let (s, mut split) = open.remove(i);
                if let Some(rest) = split.finish() {
                    write(s.stream, vec![rest]);
                }
                break;
            }
        }
    }
}
