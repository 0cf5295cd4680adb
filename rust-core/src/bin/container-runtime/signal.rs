//! Signal names as `runc kill` reads them: a number, or a name with or without "SIG", in any
//! case; RTMIN+n and RTMAX-n as well.

const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGIOT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGPOLL),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

/// The kernel's real-time range as user space sees it (glibc reserves the first two).
const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The signal number `s` names, None when it names none.
pub fn parse(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=RTMAX).contains(&n).then_some(n);
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
        return Some(n);
    }
    let rt = |rest: &str| rest.parse::<i32>().ok().filter(|k| (0..=30).contains(k));
    let n = match name {
        "RTMIN" => RTMIN,
        "RTMAX" => RTMAX,
        _ if name.starts_with("RTMIN+") => RTMIN + rt(&name[6..])?,
        _ if name.starts_with("RTMAX-") => RTMAX - rt(&name[6..])?,
        _ => return None,
    };
    Some(n)
}

use std::os::fd::RawFd;

/// Every signal but SIGCHLD blocked and read from a signalfd instead, as a foreground `run`
/// takes them (runc forwards all it gets to the container's init). Blocked for good: the
/// runtime exits after the container, and what it spawns meanwhile (hooks, through
/// std::process) starts with an empty mask. The container's init sets its own mask.
/// Waits up to `timeout_ms` (-1: for ever) for `a` or `b` to be readable (or hung up): which
/// of them are, None on a timeout or an error. EINTR is retried.
pub fn poll_two(a: RawFd, b: RawFd, timeout_ms: i32) -> Option<(bool, bool)> {
    let pfd = |fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = [pfd(a), pfd(b)];
    loop {
        // SAFETY: two valid pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return (n > 0).then_some((fds[0].revents != 0, fds[1].revents != 0));
    }
}

pub struct Forwarder {
    fd: std::os::fd::OwnedFd,
}

impl Forwarder {
    pub fn block() -> std::io::Result<Forwarder> {
        use std::os::fd::FromRawFd;
        // SAFETY: sigset operations on a stack set; pthread_sigmask and signalfd with it.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut set);
            libc::sigdelset(&mut set, libc::SIGCHLD);
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(Forwarder {
                fd: std::os::fd::OwnedFd::from_raw_fd(fd),
            })
        }
    }

    /// Forwards each signal received to the process of `pidfd` until it exits.
    pub fn forward_until_exit(&self, pidfd: std::os::fd::BorrowedFd<'_>) {
        use container_runtime::syscall::{LinuxSyscall, Syscall};
        use std::os::fd::AsRawFd;
        loop {
            match poll_two(self.fd.as_raw_fd(), pidfd.as_raw_fd(), -1) {
                None | Some((_, true)) => return,
                Some((false, false)) => continue,
                Some((true, false)) => {}
            }
            // SAFETY: signalfd_siginfo is plain data; the read fills at most its size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: reading into a buffer of `size` bytes.
            let got = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if got == size as isize {
                let _ = LinuxSyscall.pidfd_send_signal(pidfd, info.ssi_signo as i32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn names_numbers_and_realtime() {
        assert_eq!(parse("9"), Some(9));
        assert_eq!(parse("KILL"), Some(9));
        assert_eq!(parse("SIGKILL"), Some(9));
        assert_eq!(parse("sigterm"), Some(15));
        assert_eq!(parse("term"), Some(15));
        assert_eq!(parse("RTMIN+2"), Some(36));
        assert_eq!(parse("SIGRTMAX-1"), Some(63));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("65"), None);
        assert_eq!(parse("SIGNOPE"), None);
        assert_eq!(parse("RTMIN+31"), None);
    }
}
