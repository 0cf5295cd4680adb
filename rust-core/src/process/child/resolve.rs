//! Opening paths beneath the container's root without following a link out of it, and naming
//! what was opened to the mount calls, allocation-free.
//!
//! The parent planned every target with its symbolic links resolved inside the root. Between
//! planning and mounting the tree can change (a shared rootfs is writable by other containers),
//! so the child never looks a target up by its host path again: it opens it beneath the root
//! with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) (runc does the
//! same, through its `securejoin` package), and mounts onto that descriptor through
//! /proc/self/fd/N or move_mount. A link that appeared meanwhile fails the open (ELOOP), so
//! the start fails instead of mounting somewhere else. Where openat2 is missing (before Linux
//! 5.6) or denied by the container's seccomp profile (the working directory is entered after
//! the filter is installed), the path is walked one component at a time with O_PATH |
//! O_NOFOLLOW.

use std::ffi::CStr;
use std::os::fd::RawFd;

use libc::c_int;

use super::errno;

/// Targets: inside the root, no symbolic link at all (the plan resolved them), no magic link.
pub(super) const NO_LINKS: u64 =
    libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
/// The working directory: the image's own symbolic links are fine, resolved inside the root;
/// magic links (/proc/self/fd/N, /proc/PID/cwd) never are.
pub(super) const IN_ROOT: u64 = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;

/// A descriptor of ours, closed when dropped.
pub(super) struct Fd(pub RawFd);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: closing a descriptor this value owns.
        unsafe { libc::close(self.0) };
    }
}

/// The result of a call that returns -1 and sets errno.
pub(super) fn rc(r: c_int) -> Result<(), i32> {
    if r < 0 { Err(errno()) } else { Ok(()) }
}

/// Opens `path` (absolute or relative: both are taken beneath `root`) with `flags` (O_PATH,
/// O_DIRECTORY, ...), resolving it as `resolve` says (RESOLVE_* bits).
pub(super) fn open_beneath(
    root: RawFd,
    path: &CStr,
    flags: c_int,
    resolve: u64,
) -> Result<Fd, i32> {
    // SAFETY: open_how is plain data; zeroed is its "no options" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    let path = if path.is_empty() { c"." } else { path };
    // SAFETY: a NUL-terminated path and an open_how of the size passed, both alive for the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd >= 0 {
        return Ok(Fd(fd as RawFd));
    }
    match errno() {
        // Missing (before 5.6), or refused by the container's seccomp profile (an allowlist
        // written before openat2, such as runtime-tools' default, denies it with EPERM).
        libc::ENOSYS | libc::EPERM => walk(root, path.to_bytes(), flags),
        e => Err(e),
    }
}

/// openat2's fallback: one component at a time from `root`, never following a link (so the
/// image's own symbolic links fail too: the plan resolved them already), never "..".
fn walk(root: RawFd, path: &[u8], flags: c_int) -> Result<Fd, i32> {
    // SAFETY: a static path relative to a descriptor we hold.
    let start = unsafe { libc::openat(root, c".".as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    rc(start)?;
    let mut cur = Fd(start);
    let mut parts = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .peekable();
    while let Some(part) = parts.next() {
        if part == b".." {
            return Err(libc::EXDEV);
        }
        let mut name = [0u8; 256];
        if part.len() >= name.len() {
            return Err(libc::ENAMETOOLONG);
        }
        name[..part.len()].copy_from_slice(part);
        let last = parts.peek().is_none();
        let how = if last {
            flags
        } else {
            libc::O_PATH | libc::O_DIRECTORY
        };
        let how = how | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a NUL-terminated name in a stack buffer, relative to a descriptor we hold.
        let fd = unsafe { libc::openat(cur.0, name.as_ptr().cast(), how) };
        rc(fd)?;
        cur = Fd(fd);
    }
    // O_PATH | O_NOFOLLOW opens a link itself rather than failing: refuse it here.
    if file_type(cur.0)? == libc::S_IFLNK {
        return Err(libc::ELOOP);
    }
    Ok(cur)
}

/// The S_IFMT bits of what `fd` holds.
pub(super) fn file_type(fd: RawFd) -> Result<libc::mode_t, i32> {
    // SAFETY: st is plain data filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above; an empty path with AT_EMPTY_PATH names the descriptor itself.
    rc(unsafe { libc::fstatat(fd, c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH) })?;
    Ok(st.st_mode & libc::S_IFMT)
}

/// A path ending in a number ("/proc/self/fd/N", "/dev/pts/N") in a stack buffer: the child
/// must not allocate. mount(2) given "/proc/self/fd/N" follows it to exactly what the descriptor
/// holds, without another lookup by name.
pub(super) struct NumberedPath([u8; 32]);

impl NumberedPath {
    pub(super) fn fd(fd: RawFd) -> NumberedPath {
        NumberedPath::numbered(b"/proc/self/fd/", fd.max(0) as u32)
    }

    /// `prefix` followed by `n` in decimal; `prefix` is at most 21 bytes.
    pub(super) fn numbered(prefix: &[u8], n: u32) -> NumberedPath {
        let mut buf = [0u8; 32];
        buf[..prefix.len()].copy_from_slice(prefix);
        let mut digits = [0u8; 10];
        let (mut n, mut len) = (n, 0);
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for i in 0..len {
            buf[prefix.len() + i] = digits[len - 1 - i];
        }
        NumberedPath(buf)
    }

    pub(super) fn as_cstr(&self) -> &CStr {
        // SAFETY: the buffer holds at most 21 + 10 bytes and is zero-filled after them.
        unsafe { CStr::from_ptr(self.0.as_ptr().cast()) }
    }
}

/// mount_setattr(2) on the mount `fd` is the root of (and, with `recursive`, every mount below
/// it): sets the MOUNT_ATTR_* bits of `set`, leaves every other flag as it is.
pub(super) fn set_mount_attr(fd: RawFd, recursive: bool, set: u64) -> Result<(), i32> {
    // SAFETY: mount_attr is plain data; zeroed changes nothing.
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = set;
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: an empty path naming `fd`, and a mount_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    rc(r as c_int)
}

/// The MS_* flags a mount has that a remount must repeat to keep them (statvfs f_flag).
pub(super) fn kept_flags(fd: RawFd) -> libc::c_ulong {
    // SAFETY: st is plain data filled by the kernel.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::fstatvfs(fd, &mut st) } != 0 {
        return 0;
    }
    [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ]
    .into_iter()
    .filter(|(st_flag, _)| st.f_flag & st_flag != 0)
    .fold(0, |flags, (_, ms)| flags | ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths() {
        assert_eq!(NumberedPath::fd(0).as_cstr(), c"/proc/self/fd/0");
        assert_eq!(NumberedPath::fd(1234).as_cstr(), c"/proc/self/fd/1234");
        assert_eq!(
            NumberedPath::fd(i32::MAX).as_cstr(),
            c"/proc/self/fd/2147483647"
        );
    }

    /// The fallback walk stays beneath its root and refuses every link, as openat2 does.
    #[test]
    fn the_walk_refuses_links() {
        let tmp = crate::test_utils::TempDir::new("walk");
        std::fs::create_dir_all(tmp.0.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/etc", tmp.0.join("a/link")).unwrap();
        let root = std::fs::File::open(&tmp.0).unwrap();
        let root = std::os::fd::AsRawFd::as_raw_fd(&root);
        assert!(walk(root, b"a/b", libc::O_PATH).is_ok());
        assert!(walk(root, b"/a/./b/", libc::O_PATH).is_ok());
        assert_eq!(walk(root, b"a/link", libc::O_PATH).err(), Some(libc::ELOOP));
        assert_eq!(
            walk(root, b"a/link/passwd", libc::O_PATH).err(),
            Some(libc::ENOTDIR)
        );
        assert_eq!(
            walk(root, b"a/../..", libc::O_PATH).err(),
            Some(libc::EXDEV)
        );
        assert_eq!(walk(root, b"nope", libc::O_PATH).err(), Some(libc::ENOENT));
        let how = NO_LINKS;
        assert_eq!(
            open_beneath(root, c"a/link", libc::O_PATH, how).err(),
            Some(libc::ELOOP)
        );
        assert!(open_beneath(root, c"/a/b", libc::O_PATH, how).is_ok());
    }
}
