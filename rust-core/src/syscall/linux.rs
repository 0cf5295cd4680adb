//! The kernel's calls.

use std::convert::Infallible;
use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Mounts, Syscall};
use crate::error::{Error, Result};
use crate::process::ExitStatus;
use crate::process::clone::{Forked, clone_with_pidfd};
use crate::process::sync::ChildEnd;
use crate::rootfs::overlay::Owner;

#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscall;

/// The namespaces an exec joins, in the order runc and crun use: the mount namespace last (the
/// other /proc paths are open by then anyway).
const JOIN_ORDER: [(&str, libc::c_int); 7] = [
    // First: the namespaces below may belong to it, and only its root may enter them then.
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

/// pidfd_send_signal(2) without a siginfo.
fn send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> std::io::Result<()> {
    let no_info = std::ptr::null::<libc::siginfo_t>();
    // SAFETY: plain syscall on a pidfd we hold, without a siginfo.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            no_info,
            0,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn path_cstring(p: &Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

/// A syscall's result as a descriptor we own.
fn owned_fd(rc: libc::c_long) -> std::io::Result<OwnedFd> {
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) })
}

/// fsopen(2) of `fstype` with `options` (key, value) set, created and mounted (fsmount(2)):
/// a mount attached nowhere, close-on-exec.
fn fs_mount(fstype: &CStr, options: &[(&CStr, &CStr)]) -> std::io::Result<OwnedFd> {
    // SAFETY: a NUL-terminated name.
    let fs = owned_fd(unsafe {
        libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), libc::FSOPEN_CLOEXEC)
    })?;
    let config = |cmd: libc::c_uint, key: *const libc::c_char, value: *const libc::c_char| {
        // SAFETY: NUL-terminated strings (or NULL where the command takes none) that outlive
        // the call, on a filesystem context we hold.
        let rc = unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, key, value, 0) };
        match rc {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    };
    for (key, value) in options {
        config(libc::FSCONFIG_SET_STRING, key.as_ptr(), value.as_ptr())?;
    }
    config(
        libc::FSCONFIG_CMD_CREATE,
        std::ptr::null(),
        std::ptr::null(),
    )?;
    // SAFETY: a filesystem context we hold.
    owned_fd(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), libc::FSMOUNT_CLOEXEC, 0) })
}

impl Mounts for LinuxSyscall {
    fn mount_overlay(&self, data: &CStr, target: &Path) -> std::io::Result<()> {
        let target = path_cstring(target)?;
        // SAFETY: NUL-terminated strings that outlive the call.
        let rc = unsafe {
            libc::mount(
                c"overlay".as_ptr(),
                target.as_ptr(),
                c"overlay".as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    fn mount_memory_overlay(&self, lowerdir: &CStr, root: Owner) -> std::io::Result<OwnedFd> {
        let tmpfs = fs_mount(c"tmpfs", &[(c"mode", c"0700")])?;
        let mkdir = |name: &CStr, mode: libc::mode_t| {
            // SAFETY: a NUL-terminated name beneath a mount we hold.
            if unsafe { libc::mkdirat(tmpfs.as_raw_fd(), name.as_ptr(), mode) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        };
        mkdir(c"upper", 0o700)?;
        mkdir(c"work", 0o700)?;
        // SAFETY: a NUL-terminated name beneath a mount we hold; plain integers.
        let owned = unsafe {
            libc::fchownat(tmpfs.as_raw_fd(), c"upper".as_ptr(), root.uid, root.gid, 0) == 0
                && libc::fchmodat(tmpfs.as_raw_fd(), c"upper".as_ptr(), root.mode, 0) == 0
        };
        if !owned {
            return Err(std::io::Error::last_os_error());
        }
        // The tmpfs is in no mount namespace: overlayfs reaches it through our descriptor
        // (older kernels refuse a detached mount as a layer: the caller then falls back to
        // directories on disk).
        let at = |name: &str| {
            CString::new(format!("/proc/self/fd/{}/{name}", tmpfs.as_raw_fd()))
                .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
        };
        let (upper, work) = (at("upper")?, at("work")?);
        fs_mount(
            c"overlay",
            &[
                (c"lowerdir", lowerdir),
                (c"upperdir", &upper),
                (c"workdir", &work),
            ],
        )
        // The tmpfs's descriptor closes here: the overlay keeps its own reference to it.
    }

    fn unmount_detach(&self, target: &Path) -> std::io::Result<()> {
        let target = path_cstring(target)?;
        // SAFETY: a NUL-terminated path.
        if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Syscall for LinuxSyscall {
    fn clone_child(
        &self,
        ns_flags: libc::c_ulong,
        _channel: &ChildEnd,
        child: &dyn Fn() -> Infallible,
    ) -> Result<(libc::pid_t, OwnedFd)> {
        match clone_with_pidfd(ns_flags) {
            // child() returns only in the type system: it ends in exec or _exit.
            #[allow(unreachable_code)]
            Ok((Forked::Child, _)) => match child() {},
            Ok((Forked::Parent(pid), Some(pidfd))) => Ok((pid, pidfd)),
            Ok((Forked::Parent(_), None)) => unreachable!("the parent always gets a pidfd"),
            Err(e) => Err(Error::syscall("clone", std::io::Error::from(e))),
        }
    }

    fn kill(&self, pid: libc::pid_t, pidfd: BorrowedFd<'_>, signal: i32) -> Result<()> {
        send_signal(pidfd, signal).map_err(|e| Error::syscall(format!("kill({pid}, {signal})"), e))
    }

    fn waitpid(&self, pid: libc::pid_t, pidfd: BorrowedFd<'_>) -> Result<ExitStatus> {
        loop {
            // SAFETY: siginfo_t is plain data.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid on a pidfd we hold, into a stack siginfo.
            let r = unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    pidfd.as_raw_fd() as libc::id_t,
                    &mut info,
                    libc::WEXITED,
                )
            };
            if r == 0 {
                // SAFETY: waitid filled a SIGCHLD siginfo.
                let status = unsafe { info.si_status() };
                return Ok(if info.si_code == libc::CLD_EXITED {
                    ExitStatus::exited(status)
                } else {
                    ExitStatus::from_wait_status(status & 0x7f)
                });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::syscall(format!("waitpid({pid})"), e));
            }
        }
    }

    fn pidfd_open(&self, pid: libc::pid_t) -> Result<OwnedFd> {
        // SAFETY: plain syscall; the fd is owned by us on success.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            return Err(Error::last_os(format!("pidfd_open({pid})")));
        }
        // SAFETY: a fresh fd from the kernel, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    fn pidfd_send_signal(&self, pidfd: BorrowedFd<'_>, signal: i32) -> Result<()> {
        send_signal(pidfd, signal)
            .map_err(|e| Error::syscall(format!("pidfd_send_signal({signal})"), e))
    }

    fn pidfd_wait(&self, pidfd: BorrowedFd<'_>, timeout: Option<Duration>) -> Result<bool> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let ms = match deadline {
                None => -1,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now()).as_millis();
                    left.min(i32::MAX as u128) as i32
                }
            };
            let mut pfd = libc::pollfd {
                fd: pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: polling one pollfd on the stack.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n >= 0 {
                return Ok(n > 0);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::syscall("poll(pidfd)", e));
            }
        }
    }

    fn namespace_fds(&self, pid: libc::pid_t) -> Result<Vec<(OwnedFd, libc::c_int)>> {
        let mut fds = Vec::new();
        for (name, flag) in JOIN_ORDER {
            let theirs = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
            let ours = PathBuf::from(format!("/proc/self/ns/{name}"));
            let same = match (std::fs::metadata(&theirs), std::fs::metadata(&ours)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                (Err(e), _) => return Err(Error::io(theirs, e)),
                _ => false,
            };
            if !same {
                let f = std::fs::File::open(&theirs).map_err(|e| Error::io(&theirs, e))?;
                fds.push((f.into(), flag));
            }
        }
        Ok(fds)
    }
}
