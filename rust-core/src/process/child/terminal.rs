//! The container's terminal: a pty from the container's own devpts, its master handed to the
//! parent, its slave the controlling terminal and stdio.

use std::os::fd::RawFd;
use std::ptr;

use super::resolve::NumberedPath;
use crate::process::sync;

/// Allocates a pty inside the container's devpts, binds it to /dev/console when `console`,
/// hands the master to the parent and makes the slave the controlling terminal and stdio.
/// 0, or -1 with errno set.
pub(super) fn setup(sock: RawFd, console: bool) -> i32 {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: a static NUL-terminated path.
    let master = unsafe { libc::open(c"/dev/ptmx".as_ptr(), flags) };
    if master < 0 {
        return -1;
    }
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int from a live stack variable.
    if unsafe { libc::ioctl(master, libc::TIOCSPTLCK, &unlock) } != 0 {
        return -1;
    }
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor.
    let slave = unsafe { libc::ioctl(master, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY) };
    if slave < 0 {
        return -1;
    }
    let mut n: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int to a live stack variable.
    if unsafe { libc::ioctl(master, libc::TIOCGPTN, &mut n) } != 0 {
        return -1;
    }
    let pts = NumberedPath::numbered(b"/dev/pts/", n);
    let pts = pts.as_cstr();
    // SAFETY: NUL-terminated paths on the stack or static; no fstype or data.
    let bind = || unsafe {
        libc::mount(
            pts.as_ptr(),
            c"/dev/console".as_ptr(),
            ptr::null(),
            libc::MS_BIND,
            ptr::null(),
        )
    };
    if console && bind() != 0 {
        return -1;
    }
    if sync::send_pty(sock, master) < 0 {
        return -1;
    }
    // SAFETY: our descriptor; the parent holds its own copy now.
    unsafe { libc::close(master) };
    // SAFETY: plain syscalls on the slave descriptor we own.
    if unsafe { libc::setsid() } < 0 || unsafe { libc::ioctl(slave, libc::TIOCSCTTY, 0) } != 0 {
        return -1;
    }
    for fd in 0..3 {
        // SAFETY: duplicating a descriptor we own onto stdio.
        if unsafe { libc::dup2(slave, fd) } < 0 {
            return -1;
        }
    }
    if slave > 2 {
        // SAFETY: our descriptor, now duplicated onto stdio.
        unsafe { libc::close(slave) };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::NumberedPath;

    #[test]
    fn pts_paths() {
        assert_eq!(
            NumberedPath::numbered(b"/dev/pts/", 0).as_cstr(),
            c"/dev/pts/0"
        );
        assert_eq!(
            NumberedPath::numbered(b"/dev/pts/", 4_294_967_295).as_cstr(),
            c"/dev/pts/4294967295"
        );
        assert_eq!(
            NumberedPath::numbered(b"/dev/pts/", 17).as_cstr(),
            c"/dev/pts/17"
        );
    }
}
