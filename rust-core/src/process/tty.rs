//! Relaying a container's pty to the caller's terminal: raw mode, both directions, window size.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::error::{Error, Result};

/// Gives the pty the caller's window size (when stdin is a terminal).
pub fn copy_window_size(master: &OwnedFd) {
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ with a stack winsize; failures leave the default size.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Puts the caller's terminal in raw mode and restores it when dropped, so that Ctrl-C and
/// friends travel as bytes to the container's terminal instead of signalling the caller.
struct RawMode {
    saved: Option<libc::termios>,
}

impl RawMode {
    fn enter() -> RawMode {
        // SAFETY: termios calls on fd 0 with stack structs.
        unsafe {
            if libc::isatty(0) == 0 {
                return RawMode { saved: None };
            }
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return RawMode { saved: None };
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            RawMode { saved: Some(saved) }
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            // SAFETY: restoring the attributes saved in enter().
            unsafe { libc::tcsetattr(0, libc::TCSAFLUSH, t) };
        }
    }
}

static WINCH_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_winch(_: libc::c_int) {
    let fd = WINCH_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe.
        unsafe { libc::write(fd, [0u8].as_ptr().cast(), 1) };
    }
}

/// Installs a SIGWINCH handler for the duration of the relay, restoring the old one after.
struct WinchWatch {
    read_end: RawFd,
    write_end: RawFd,
    old: libc::sigaction,
}

impl WinchWatch {
    fn install() -> Result<WinchWatch> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 into a stack array.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return Err(Error::last_os("pipe2"));
        }
        WINCH_PIPE.store(fds[1], Ordering::Relaxed);
        // SAFETY: installing a handler that only calls write(2).
        let old = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_winch as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGWINCH, &sa, &mut old);
            old
        };
        Ok(WinchWatch {
            read_end: fds[0],
            write_end: fds[1],
            old,
        })
    }
}

impl Drop for WinchWatch {
    fn drop(&mut self) {
        // SAFETY: restoring the previous handler, then closing our pipe.
        unsafe {
            libc::sigaction(libc::SIGWINCH, &self.old, std::ptr::null_mut());
            WINCH_PIPE.store(-1, Ordering::Relaxed);
            libc::close(self.read_end);
            libc::close(self.write_end);
        }
    }
}

/// Writes all of `buf` to `fd`; false on an error (EPIPE: no one reads).
pub(crate) fn write_all(fd: RawFd, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        // SAFETY: writing from a live slice.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}

/// What sees the bytes a pty sends (the container's log).
pub type Observer<'a> = &'a mut dyn FnMut(&[u8]);

/// Copies stdin to the pty and the pty to stdout until every process in the container has
/// closed the terminal; `observe` sees what the pty sends.
pub fn relay(master: &OwnedFd, mut observe: Option<Observer<'_>>) -> Result<()> {
    let _raw = RawMode::enter();
    let winch = WinchWatch::install()?;
    let m = master.as_raw_fd();
    let mut stdin_open = true;
    let mut buf = [0u8; 16384];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: m,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: winch.read_end,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: polling a stack array of pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Error::last_os("poll"));
        }
        if fds[0].revents != 0 {
            // SAFETY: reading into a stack buffer.
            let r = unsafe { libc::read(m, buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 {
                // EIO: the last slave fd closed, the container is gone.
                if r < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                return Ok(());
            }
            write_all(1, &buf[..r as usize]);
            if let Some(f) = observe.as_mut() {
                f(&buf[..r as usize]);
            }
        }
        if fds[1].revents != 0 {
            // SAFETY: draining the non-blocking self-pipe.
            while unsafe { libc::read(winch.read_end, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
            copy_window_size(master);
        }
        if stdin_open && fds[2].revents != 0 {
            // SAFETY: reading into a stack buffer.
            let r = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 || !write_all(m, &buf[..r as usize]) {
                stdin_open = false;
            }
        }
    }
}
