//! File-system primitives of the store: private (0700/0600) directories and files whatever the
//! umask, atomic replacement, flock, and path resolution that never follows a symbolic link
//! (openat2 with RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk on kernels without openat2).

use std::ffi::{CStr, CString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{ImageError, Result, io_ctx};

/// The process's effective uid is 0 (ownership from a tar can only be kept as root).
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Makes `path` and any missing parents, each 0700 whatever the umask (mkdir's mode goes
/// through it, so each new directory is chmod'ed). Existing directories are left as they are.
pub(crate) fn create_private_dirs(path: &Path) -> Result<()> {
    let missing: Vec<&Path> = path
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
        .collect();
    for dir in missing.into_iter().rev() {
        new_private_dir(dir)?;
    }
    Ok(())
}

/// A directory that only its owner can enter: created if missing (with 0700 parents), and
/// chmod'ed to 0700 if it exists with another mode.
pub(crate) fn private_dir(path: &Path) -> Result<()> {
    create_private_dirs(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(io_ctx(|| format!("chmod {}", path.display())))
}

/// Creates `path` as a fresh private directory; false when it already exists.
pub(crate) fn new_private_dir(path: &Path) -> Result<bool> {
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(ImageError::io(format!("create {}", path.display()), e)),
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(io_ctx(|| format!("chmod {}", path.display())))?;
    Ok(true)
}

/// A name for a temporary entry that no other process or thread of this one picks.
pub(crate) fn unique_name(prefix: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes a 0600 file atomically: a temporary file beside it, fsync, rename, fsync of the dir.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| ImageError::Invalid(format!("{} has no parent", path.display())))?;
    let tmp = dir.join(unique_name(".tmp"));
    let res = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io_ctx(|| format!("write {}", path.display())))
}

/// Reads a store file that must be a regular file (not a symbolic link) of at most `limit` bytes.
pub(crate) fn read_private(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io_ctx(|| format!("open {}", path.display())))?;
    let meta = f
        .metadata()
        .map_err(io_ctx(|| format!("stat {}", path.display())))?;
    if !meta.is_file() {
        return Err(ImageError::corrupt(path, "not a regular file"));
    }
    if meta.len() > limit {
        return Err(ImageError::corrupt(
            path,
            format!("larger than {limit} bytes"),
        ));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    io::Read::read_to_end(&mut io::Read::take(&f, limit + 1), &mut buf)
        .map_err(io_ctx(|| format!("read {}", path.display())))?;
    Ok(buf)
}

/// True when `path` is a real directory (a symbolic link to one does not count).
pub(crate) fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// An flock on a file, released when dropped.
pub(crate) struct Flock {
    _file: File,
}

impl Flock {
    /// Blocks until the lock is taken (`exclusive` or shared).
    pub(crate) fn take(path: &Path, exclusive: bool) -> Result<Flock> {
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(io_ctx(|| format!("open {}", path.display())))?;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io_ctx(|| format!("chmod {}", path.display())))?;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(Flock { _file: file });
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                _ => return Err(ImageError::io(format!("lock {}", path.display()), e)),
            }
        }
    }
}

pub(crate) fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

pub(crate) fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

pub(crate) fn check_fd(ret: libc::c_long) -> io::Result<OwnedFd> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// Opens a directory by path (following links: the caller names the store's own directories).
pub(crate) fn open_dir(path: &Path) -> Result<OwnedFd> {
    let c =
        cstr(path.as_os_str().as_bytes()).map_err(io_ctx(|| format!("open {}", path.display())))?;
    // SAFETY: a valid C string; the result is checked.
    check_fd(
        unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        }
        .into(),
    )
    .map_err(io_ctx(|| format!("open {}", path.display())))
}

/// openat2 of `path` below `dir` with `resolve` flags; ENOSYS when the kernel has no openat2.
pub(crate) fn openat2(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: libc::c_int,
    resolve: u64,
) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain data; zeroed is its documented "no options" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    // SAFETY: valid fd, C string and open_how of the size we pass; the result is checked.
    check_fd(unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    })
}

const NO_LINKS: u64 =
    libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;

/// Opens one component below `dir` as an O_PATH directory without following a symbolic link:
/// ELOOP when it is one, ENOTDIR when it is something else.
fn open_component(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    match openat2(dir, name, libc::O_PATH | libc::O_DIRECTORY, NO_LINKS) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            // SAFETY: valid fd and C string; the result is checked.
            let fd = check_fd(
                unsafe {
                    libc::openat(
                        dir.as_raw_fd(),
                        name.as_ptr(),
                        libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                    )
                }
                .into(),
            )?;
            // O_PATH|O_NOFOLLOW opens a symbolic link itself; O_DIRECTORY then already failed,
            // but say so plainly if a kernel lets it through.
            match fstat(fd.as_fd())?.st_mode & libc::S_IFMT {
                libc::S_IFDIR => Ok(fd),
                libc::S_IFLNK => Err(io::Error::from_raw_os_error(libc::ELOOP)),
                _ => Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            }
        }
        other => other,
    }
}

/// Opens the directory `comps` below `root`, never through a symbolic link. With `create`,
/// missing directories are made (0755, as Docker makes a layer's implicit parents).
pub(crate) fn walk(root: BorrowedFd<'_>, comps: &[CString], create: bool) -> io::Result<OwnedFd> {
    if comps.is_empty() {
        return root.try_clone_to_owned();
    }
    // Fast path: the whole path in one openat2 (PATH_MAX-bounded; comps are validated already).
    let mut joined = Vec::new();
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            joined.push(b'/');
        }
        joined.extend_from_slice(c.as_bytes());
    }
    let whole = cstr(&joined)?;
    match openat2(root, &whole, libc::O_PATH | libc::O_DIRECTORY, NO_LINKS) {
        Ok(fd) => return Ok(fd),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {}
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {}
        Err(e) => return Err(e),
    }
    let mut fd = root.try_clone_to_owned()?;
    for c in comps {
        fd = match open_component(fd.as_fd(), c) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) && create => {
                // SAFETY: valid fd and C string; results are checked. chmod by name because
                // the umask may have left it unreadable; it was just made in a private tree.
                check(unsafe { libc::mkdirat(fd.as_raw_fd(), c.as_ptr(), 0o755) })?;
                check(unsafe { libc::fchmodat(fd.as_raw_fd(), c.as_ptr(), 0o755, 0) })?;
                open_component(fd.as_fd(), c)?
            }
            other => other?,
        };
    }
    Ok(fd)
}

pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd and out-pointer.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st)
}

/// lstat of `name` in `dir`; None when absent.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<libc::stat>> {
    // SAFETY: stat is plain data filled by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid fd, C string and out-pointer.
    let ret = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    match check(ret) {
        Ok(()) => Ok(Some(st)),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Opens a directory entry of `dir` for reading without following a link.
pub(crate) fn open_dir_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: valid fd and C string; the result is checked.
    check_fd(
        unsafe {
            libc::openat(
                dir.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        }
        .into(),
    )
}

/// Removes `name` in `dir` and, if it is a directory, everything below it, never following a
/// symbolic link. Absent is fine.
pub(crate) fn remove_at(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    let Some(st) = lstat_at(dir, name)? else {
        return Ok(());
    };
    if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let sub = open_dir_at(dir, name)?;
        let names = list_dir(sub.as_fd())?;
        for n in names {
            remove_at(sub.as_fd(), &n)?;
        }
        // SAFETY: valid fd and C string; the result is checked.
        check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) })
    } else {
        // SAFETY: valid fd and C string; the result is checked.
        check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })
    }
}

/// The names in a directory (without `.` and `..`), read through a duplicate of `dir`.
fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<CString>> {
    let fd = dir.try_clone_to_owned()?.into_raw_fd();
    // SAFETY: fdopendir takes ownership of fd on success; on failure we still own it.
    let d = unsafe { libc::fdopendir(fd) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        // SAFETY: fdopendir failed, so fd is still ours to close.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    let mut names = Vec::new();
    let result = loop {
        // readdir returns NULL both at the end and on error; errno tells them apart.
        // SAFETY: errno is thread-local; d is a valid DIR*, its entry valid until the next call.
        let ent = unsafe {
            *libc::__errno_location() = 0;
            libc::readdir64(d)
        };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            break if e.raw_os_error() == Some(0) {
                Ok(())
            } else {
                Err(e)
            };
        }
        // SAFETY: d_name is NUL-terminated within the entry.
        let n = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) };
        if n.to_bytes() != b"." && n.to_bytes() != b".." {
            names.push(n.to_owned());
        }
    };
    // SAFETY: d is valid and closed once (it closes fd too).
    unsafe { libc::closedir(d) };
    result.map(|()| names)
}

/// Removes a whole tree by path (the store's own directories), never following links inside.
pub(crate) fn remove_tree(path: &Path) -> Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(ImageError::Invalid(format!(
            "refusing to remove {}",
            path.display()
        )));
    };
    let dir = open_dir(parent)?;
    let c = cstr(name.as_bytes()).map_err(io_ctx(|| format!("remove {}", path.display())))?;
    remove_at(dir.as_fd(), &c).map_err(io_ctx(|| format!("remove {}", path.display())))
}
