//! The child's filesystem: make mounts private, bind the rootfs onto itself, replay the rootfs
//! plan, then pivot_root (or chroot) and the optional read-only remount.

use std::ffi::{CStr, CString};
use std::os::fd::RawFd;
use std::ptr;

use libc::{c_char, c_ulong};

use super::{check, errno};
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

fn is_dir(path: &CStr) -> Option<bool> {
    // SAFETY: st is plain data; path is NUL-terminated.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// One step of the rootfs plan; 0, or -1 with errno set.
fn run_op(op: &Op) -> i32 {
    match op {
        Op::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => mount(
            opt_ptr(source),
            target,
            opt_ptr(fstype),
            *flags,
            opt_ptr(data),
        ),
        // An existing directory is fine (e.g. --tmpfs /dev/shm over our own /dev/shm).
        // SAFETY: a NUL-terminated path owned by the plan.
        Op::Mkdir { path, mode } => match unsafe { libc::mkdir(path.as_ptr(), *mode) } {
            -1 if errno() == libc::EEXIST && is_dir(path) == Some(true) => 0,
            rc => rc,
        },
        // SAFETY: a NUL-terminated path owned by the plan.
        Op::Mknod { path, mode, dev } => unsafe { libc::mknod(path.as_ptr(), *mode, *dev) },
        // SAFETY: NUL-terminated strings owned by the plan.
        Op::Symlink { target, link } => unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) },
        Op::Touch { path } => touch(path),
        Op::Mask { path } => match is_dir(path) {
            None => 0,
            Some(true) => mount(
                c"tmpfs".as_ptr(),
                path,
                c"tmpfs".as_ptr(),
                libc::MS_RDONLY,
                c"size=0".as_ptr(),
            ),
            Some(false) => mount(
                c"/dev/null".as_ptr(),
                path,
                ptr::null(),
                libc::MS_BIND,
                ptr::null(),
            ),
        },
        Op::Readonly { path } => readonly(path),
    }
}

/// An empty file to bind a file onto; an existing one is fine.
fn touch(path: &CStr) -> i32 {
    let flags = libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC;
    // SAFETY: a NUL-terminated path owned by the plan.
    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o644) };
    if fd < 0 {
        return -1;
    }
    // SAFETY: the descriptor we just opened.
    unsafe { libc::close(fd) }
}

/// Binds a path onto itself read-only (absent is fine), as Docker's read-only paths.
fn readonly(path: &CStr) -> i32 {
    if is_dir(path).is_none() {
        return 0;
    }
    let rc = mount(
        path.as_ptr(),
        path,
        ptr::null(),
        rootfs::BIND_REC,
        ptr::null(),
    );
    if rc != 0 {
        return rc;
    }
    let flags = libc::MS_BIND
        | libc::MS_REMOUNT
        | libc::MS_RDONLY
        | libc::MS_NOSUID
        | libc::MS_NODEV
        | libc::MS_NOEXEC;
    mount(ptr::null(), path, ptr::null(), flags, ptr::null())
}

/// Everything up to the new root being `/`; fails the child on the first error.
pub(super) fn setup_rootfs(plan: &ChildPlan, sock: RawFd) {
    let private = mount(
        ptr::null(),
        c"/",
        ptr::null(),
        rootfs::REC_PRIVATE,
        ptr::null(),
    );
    check(sock, Step::MakePrivate, 0, private);
    // pivot_root needs the new root to be a mount point.
    let root = plan.rootfs.as_ptr();
    let bind = mount(
        root,
        &plan.rootfs,
        ptr::null(),
        rootfs::BIND_REC,
        ptr::null(),
    );
    check(sock, Step::BindRootfs, 0, bind);
    for (i, op) in plan.ops.iter().enumerate() {
        check(sock, Step::RootfsOp, i, run_op(op));
    }
    // SAFETY: a NUL-terminated path owned by the plan.
    check(sock, Step::PivotRoot, 0, unsafe { libc::chdir(root) });
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
        let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
        let rc = mount(ptr::null(), c"/", ptr::null(), flags, ptr::null());
        check(sock, Step::ReadonlyRoot, 0, rc);
    }
}
