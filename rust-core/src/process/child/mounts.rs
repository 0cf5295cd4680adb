//! The child's filesystem: make mounts private, bind the root onto itself, replay the rootfs
//! plan onto descriptors opened beneath it ([`resolve`](super::resolve)), then pivot_root (or
//! chroot) and the optional read-only remount.

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::ptr;

use libc::{c_char, c_int, c_ulong};

use super::resolve::{
    Fd, NO_LINKS, NumberedPath, file_type, kept_flags, open_beneath, rc, set_mount_attr,
};
use super::{check, errno, fail};
use crate::process::plan::ChildPlan;
use crate::process::sync::Step;
use crate::rootfs::{self, Op};

fn opt_ptr(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

fn mount(
    source: *const c_char,
    target: &CStr,
    fstype: *const c_char,
    flags: c_ulong,
    data: *const c_char,
) -> i32 {
    // SAFETY: every pointer is a NUL-terminated string owned by the plan (or static), or NULL.
    unsafe { libc::mount(source, target.as_ptr(), fstype, flags, data.cast()) }
}

/// Opens a planned target beneath the root: no link of any kind on the way.
fn target(root: RawFd, path: &CStr) -> Result<Fd, i32> {
    open_beneath(root, path, libc::O_PATH, NO_LINKS)
}

/// Runs `f(dirfd, name)` in the directory that holds `path` (opened beneath the root).
fn in_parent(
    root: RawFd,
    path: &CStr,
    f: impl FnOnce(RawFd, *const c_char) -> c_int,
) -> Result<(), i32> {
    let bytes = path.to_bytes();
    let (dir, name_at) = match bytes.iter().rposition(|&b| b == b'/') {
        Some(i) => (&bytes[..i], i + 1),
        None => (&bytes[..0], 0),
    };
    let mut buf = [0u8; libc::PATH_MAX as usize];
    if dir.len() >= buf.len() {
        return Err(libc::ENAMETOOLONG);
    }
    buf[..dir.len()].copy_from_slice(dir);
    // SAFETY: the buffer is zero-filled after `dir`.
    let dir = unsafe { CStr::from_ptr(buf.as_ptr().cast()) };
    let parent = open_beneath(root, dir, libc::O_PATH | libc::O_DIRECTORY, NO_LINKS)?;
    // SAFETY: name_at <= len: the name is the NUL-terminated tail of `path`.
    rc(f(parent.0, unsafe { path.as_ptr().add(name_at) }))
}

/// One step of the rootfs plan, onto what it names beneath `root`.
fn run_op(op: &Op, root: RawFd) -> Result<(), i32> {
    match op {
        Op::Mount {
            source,
            target: at,
            fstype,
            flags,
            data,
        } => {
            let fd = target(root, at)?;
            let at = NumberedPath::fd(fd.0);
            rc(mount(
                opt_ptr(source),
                at.as_cstr(),
                opt_ptr(fstype),
                *flags,
                opt_ptr(data),
            ))
        }
        Op::ReadonlyBind { path } => readonly_bind(root, path),
        // An existing directory is fine (e.g. --tmpfs /dev/shm over our own /dev/shm).
        Op::Mkdir { path, mode } => in_parent(root, path, |dir, name| {
            // SAFETY: a NUL-terminated name relative to a descriptor we hold.
            let r = unsafe { libc::mkdirat(dir, name, *mode) };
            // SAFETY: st is plain data; same name and descriptor.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            let exists_as_dir = r < 0
                && errno() == libc::EEXIST
                // SAFETY: as above.
                && unsafe { libc::fstatat(dir, name, &mut st, libc::AT_SYMLINK_NOFOLLOW) } == 0
                && st.st_mode & libc::S_IFMT == libc::S_IFDIR;
            if exists_as_dir { 0 } else { r }
        }),
        // An existing node is kept (a /dev that is the rootfs's own, as runc); the mode is set
        // again after mknod, which the umask trims.
        // SAFETY (all four): NUL-terminated names relative to a descriptor we hold.
        Op::Mknod { path, mode, dev } => in_parent(root, path, |dir, name| unsafe {
            let r = libc::mknodat(dir, name, *mode, *dev);
            if r < 0 && errno() == libc::EEXIST {
                0
            } else if r < 0 {
                r
            } else {
                libc::fchmodat(dir, name, *mode & 0o7777, 0)
            }
        }),
        Op::Chown { path, uid, gid } => in_parent(root, path, |dir, name| unsafe {
            libc::fchownat(dir, name, *uid, *gid, libc::AT_SYMLINK_NOFOLLOW)
        }),
        Op::Symlink { target: to, link } => in_parent(root, link, |dir, name| unsafe {
            libc::symlinkat(to.as_ptr(), dir, name)
        }),
        // An empty file to bind a file onto; an existing one is fine, a link is not.
        Op::Touch { path } => in_parent(root, path, |dir, name| unsafe {
            let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            let fd = libc::openat(dir, name, flags, 0o644);
            if fd < 0 { fd } else { libc::close(fd) }
        }),
        Op::Remount { path, flags } => remount(root, path, *flags),
        Op::Write { path, data } => {
            let fd = open_beneath(root, path, libc::O_WRONLY, NO_LINKS)?;
            let bytes = data.to_bytes();
            // SAFETY: a buffer of bytes.len() bytes owned by the plan.
            let n = unsafe { libc::write(fd.0, bytes.as_ptr().cast(), bytes.len()) };
            rc(if n < 0 { -1 } else { 0 })
        }
        Op::Mask { path, fs } => mask(root, path, *fs),
        Op::Readonly { path, fs } => readonly(root, path, *fs),
    }
}

/// A masked or read-only path: None when absent (not every kernel has every path), else the
/// descriptor, which must be on the file system `fs`: anything else is a decoy.
fn kernel_path(root: RawFd, path: &CStr, fs: u32) -> Result<Option<Fd>, i32> {
    let fd = match target(root, path) {
        Err(libc::ENOENT) => return Ok(None),
        r => r?,
    };
    // SAFETY: st is plain data filled by the kernel.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    rc(unsafe { libc::fstatfs(fd.0, &mut st) })?;
    if fs != 0 && st.f_type as u32 != fs {
        return Err(libc::EXDEV);
    }
    Ok(Some(fd))
}

/// Hides a path: /dev/null over a file, an empty read-only tmpfs over a directory.
fn mask(root: RawFd, path: &CStr, fs: u32) -> Result<(), i32> {
    let Some(fd) = kernel_path(root, path, fs)? else {
        return Ok(());
    };
    let at = NumberedPath::fd(fd.0);
    let r = if file_type(fd.0)? == libc::S_IFDIR {
        mount(
            c"tmpfs".as_ptr(),
            at.as_cstr(),
            c"tmpfs".as_ptr(),
            libc::MS_RDONLY,
            c"size=0".as_ptr(),
        )
    } else {
        mount(
            c"/dev/null".as_ptr(),
            at.as_cstr(),
            ptr::null(),
            libc::MS_BIND,
            ptr::null(),
        )
    };
    rc(r)
}

const RO_ATTRS: u64 = libc::MOUNT_ATTR_RDONLY
    | libc::MOUNT_ATTR_NOSUID
    | libc::MOUNT_ATTR_NODEV
    | libc::MOUNT_ATTR_NOEXEC;

/// Docker's read-only paths: a recursive clone of the path made read-only (nosuid, nodev,
/// noexec) while detached, then attached onto the path: never writable in between.
fn readonly(root: RawFd, path: &CStr, fs: u32) -> Result<(), i32> {
    let Some(fd) = kernel_path(root, path, fs)? else {
        return Ok(());
    };
    let flags = libc::OPEN_TREE_CLONE as c_int
        | libc::OPEN_TREE_CLOEXEC as c_int
        | libc::AT_EMPTY_PATH
        | libc::AT_RECURSIVE;
    // SAFETY: an empty path naming a descriptor we hold.
    let tree = unsafe { libc::syscall(libc::SYS_open_tree, fd.0, c"".as_ptr(), flags) };
    if tree < 0 {
        return match errno() {
            libc::ENOSYS => readonly_classic(root, path, fd),
            e => Err(e),
        };
    }
    let tree = Fd(tree as RawFd);
    set_mount_attr(tree.0, true, RO_ATTRS)?;
    let how = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: empty paths naming descriptors we hold.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.0,
            c"".as_ptr(),
            fd.0,
            c"".as_ptr(),
            how,
        )
    };
    rc(r as c_int)
}

/// Before Linux 5.12: bind the path onto itself, then remount the new mount (reopened: the old
/// descriptor still names the mount below) read-only.
fn readonly_classic(root: RawFd, path: &CStr, fd: Fd) -> Result<(), i32> {
    let at = NumberedPath::fd(fd.0);
    rc(mount(
        at.as_cstr().as_ptr(),
        at.as_cstr(),
        ptr::null(),
        rootfs::BIND_REC,
        ptr::null(),
    ))?;
    drop(fd);
    let top = target(root, path)?;
    let flags = libc::MS_BIND
        | libc::MS_REMOUNT
        | libc::MS_RDONLY
        | libc::MS_NOSUID
        | libc::MS_NODEV
        | libc::MS_NOEXEC;
    rc(mount(
        ptr::null(),
        NumberedPath::fd(top.0).as_cstr(),
        ptr::null(),
        flags,
        ptr::null(),
    ))
}

/// A `:ro` volume: the bind just made, with everything mounted below it, read-only; its other
/// flags stay. Before Linux 5.12, a remount of the bind alone that repeats those flags.
fn readonly_bind(root: RawFd, path: &CStr) -> Result<(), i32> {
    let fd = target(root, path)?;
    match set_mount_attr(fd.0, true, libc::MOUNT_ATTR_RDONLY) {
        Err(libc::ENOSYS) => {}
        r => return r,
    }
    let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | kept_flags(fd.0);
    rc(mount(
        ptr::null(),
        NumberedPath::fd(fd.0).as_cstr(),
        ptr::null(),
        flags,
        ptr::null(),
    ))
}

/// An OCI bind's flags, by a remount of the bind just made; the flags the kernel locked on it
/// (its source's nosuid, nodev, noexec, atime flags) are kept, or the remount would be refused
/// in a user namespace.
fn remount(root: RawFd, path: &CStr, flags: c_ulong) -> Result<(), i32> {
    let fd = target(root, path)?;
    let flags = libc::MS_BIND | libc::MS_REMOUNT | flags | kept_flags(fd.0);
    rc(mount(
        ptr::null(),
        NumberedPath::fd(fd.0).as_cstr(),
        ptr::null(),
        flags,
        ptr::null(),
    ))
}

/// The root made read-only (`--read-only`), keeping its other flags (nodev among them).
fn readonly_root(plan: &ChildPlan) -> Result<(), i32> {
    // SAFETY: a static path.
    let fd = unsafe {
        libc::open(
            c"/".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    rc(fd)?;
    let fd = Fd(fd);
    match set_mount_attr(fd.0, false, libc::MOUNT_ATTR_RDONLY) {
        Err(libc::ENOSYS) => {}
        r => return r,
    }
    let nodev = if plan.rootfs_nodev { libc::MS_NODEV } else { 0 };
    let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | nodev;
    rc(mount(ptr::null(), c"/", ptr::null(), flags, ptr::null()))
}

/// The root bound onto itself (pivot_root needs a mount point), or the detached root moved
/// there, opened: every op goes through this descriptor. nodev when no devices cgroup guards
/// the container.
fn open_root(plan: &ChildPlan, sock: RawFd) -> Fd {
    let root = plan.rootfs.as_ptr();
    let attached = match plan.root_mount {
        // Our mount namespace is private already: the host never sees this mount.
        // SAFETY: an empty path naming the plan's descriptor; a NUL-terminated target.
        Some(fd) => unsafe {
            let rc = libc::syscall(
                libc::SYS_move_mount,
                fd,
                c"".as_ptr(),
                libc::AT_FDCWD,
                root,
                libc::MOVE_MOUNT_F_EMPTY_PATH,
            ) as c_int;
            // Its only use: nothing of the container's may find it later.
            libc::close(fd);
            rc
        },
        None => mount(
            root,
            &plan.rootfs,
            ptr::null(),
            rootfs::BIND_REC,
            ptr::null(),
        ),
    };
    check(sock, Step::BindRootfs, 0, attached);
    // SAFETY: a NUL-terminated path owned by the plan.
    let fd = unsafe { libc::open(root, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    check(sock, Step::BindRootfs, 0, fd);
    let fd = Fd(fd);
    if plan.rootfs_nodev {
        if let Err(e) = set_mount_attr(fd.0, true, libc::MOUNT_ATTR_NODEV) {
            fail(sock, Step::NodevRoot, 0, e);
        }
    }
    fd
}

/// /sys/fs/cgroup (rootfs::cgroupfs), after pivot_root and unshare(CLONE_NEWCGROUP): the
/// steps run beneath the new root, as the rootfs plan's do beneath the old one.
pub(super) fn cgroup_mounts(plan: &ChildPlan, sock: RawFd) {
    if plan.cgroup_ops.is_empty() {
        return;
    }
    // SAFETY: a static path.
    let fd = unsafe {
        libc::open(
            c"/".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    check(sock, Step::CgroupMount, 0, fd);
    let root = Fd(fd);
    for (i, op) in plan.cgroup_ops.iter().enumerate() {
        if let Err(e) = run_op(op, root.0) {
            fail(sock, Step::CgroupMount, i, e);
        }
    }
}

/// Everything up to the new root being `/`; fails the child on the first error.
pub(super) fn setup_rootfs(plan: &ChildPlan, sock: RawFd) {
    // rslave (rootfsPropagation) from the start, so that the host's mount events keep
    // reaching the container as runc gives them; private otherwise (and for shared, which is
    // applied after pivot_root: pivot_root refuses a shared root).
    let start = if plan.root_propagation & libc::MS_SLAVE != 0 {
        libc::MS_SLAVE | libc::MS_REC
    } else {
        rootfs::REC_PRIVATE
    };
    let private = mount(ptr::null(), c"/", ptr::null(), start, ptr::null());
    check(sock, Step::MakePrivate, 0, private);
    let root = open_root(plan, sock);
    for (i, op) in plan.ops.iter().enumerate() {
        if let Err(e) = run_op(op, root.0) {
            fail(sock, Step::RootfsOp, i, e);
        }
    }
    // SAFETY: a descriptor we hold.
    check(sock, Step::PivotRoot, 0, unsafe { libc::fchdir(root.0) });
    drop(root);
    if plan.no_pivot {
        // SAFETY: a static NUL-terminated path.
        check(sock, Step::Chroot, 0, unsafe {
            libc::chroot(c".".as_ptr())
        });
    } else {
        // pivot_root(".", ".") stacks the old root on top of the new one; detaching "."
        // then removes the old root without needing a directory to park it in.
        // SAFETY: static NUL-terminated paths.
        let rc = unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) };
        check(sock, Step::PivotRoot, 0, rc as i32);
        // SAFETY: a static NUL-terminated path.
        let rc = unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) };
        check(sock, Step::PivotRoot, 0, rc);
    }
    // SAFETY: a static NUL-terminated path.
    check(sock, Step::PivotRoot, 0, unsafe {
        libc::chdir(c"/".as_ptr())
    });
    if plan.readonly_rootfs {
        if let Err(e) = readonly_root(plan) {
            fail(sock, Step::ReadonlyRoot, 0, e);
        }
    }
    if plan.root_propagation != 0 {
        let flags = plan.root_propagation;
        let r = mount(ptr::null(), c"/", ptr::null(), flags, ptr::null());
        check(sock, Step::RootPropagation, 0, r);
    }
}
