//! A [`Syscall`] for tests without root: records every call in a [`CallLog`], fails the ones it
//! is told to, and plays the cloned child from a script on the child's end of the real sync
//! channel, so that the parent side of the protocol runs unchanged.

use std::convert::Infallible;
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::{Mounts, Syscall};
use crate::error::{Error, Result};
use crate::process::ExitStatus;
use crate::process::sync::{self, ChildEnd, Step};
use crate::rootfs::overlay::Owner;
use crate::test_utils::CallLog;

/// What the scripted child does. Like the real one, a container's first process (cloned with
/// a new mount namespace) waits for the go-ahead after its rootfs steps; an exec's does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildScript {
    /// Execs (closes its end: EOF) once it may.
    Exec,
    /// Fails `step`: a rootfs step before the go-ahead, any other after it.
    Fail { step: Step, index: u32, errno: i32 },
    /// Dies before the go-ahead without a word.
    Vanish,
}

/// The steps a container's first process takes before it waits for the go-ahead.
fn before_go(step: Step) -> bool {
    matches!(
        step,
        Step::Sethostname
            | Step::MakePrivate
            | Step::BindRootfs
            | Step::RootfsOp
            | Step::PivotRoot
            | Step::Chroot
            | Step::ReadonlyRoot
            | Step::Loopback
    )
}

#[derive(Debug)]
pub struct FakeSyscall {
    pub log: CallLog,
    /// The pid `clone_child` returns.
    pub pid: libc::pid_t,
    script: Mutex<ChildScript>,
    /// Operations that fail, with the errno they fail with.
    failing: Mutex<Vec<(&'static str, i32)>>,
    exit: Mutex<ExitStatus>,
    /// `pidfd_wait` answers: true = the process exited, false = timed out; then true.
    exits_after: Mutex<Vec<bool>>,
    namespaces: usize,
    /// The directory that stands for an in-memory overlay's merged tree, if they are offered.
    memory_overlay: Mutex<Option<std::path::PathBuf>>,
}

impl FakeSyscall {
    pub fn new(log: CallLog, pid: libc::pid_t) -> FakeSyscall {
        FakeSyscall {
            log,
            pid,
            script: Mutex::new(ChildScript::Exec),
            failing: Mutex::new(Vec::new()),
            exit: Mutex::new(ExitStatus::exited(0)),
            exits_after: Mutex::new(Vec::new()),
            namespaces: 2,
            memory_overlay: Mutex::new(None),
        }
    }

    /// Offers in-memory overlays (`mount_memory_overlay`), each shown by the directory `dir`.
    pub fn memory_overlay_in(&self, dir: &Path) {
        *self.memory_overlay.lock().unwrap() = Some(dir.to_path_buf());
    }

    pub fn script(&self, script: ChildScript) {
        *self.script.lock().unwrap() = script;
    }

    /// Makes `op` ("clone", "kill", "waitpid", "pidfd_open", "namespace_fds", ...) fail.
    pub fn fail(&self, op: &'static str, errno: i32) {
        self.failing.lock().unwrap().push((op, errno));
    }

    pub fn exit_with(&self, status: ExitStatus) {
        *self.exit.lock().unwrap() = status;
    }

    /// What the next `pidfd_wait` calls answer (true: exited; false: still running).
    pub fn pidfd_answers(&self, answers: &[bool]) {
        *self.exits_after.lock().unwrap() = answers.to_vec();
    }

    fn call(&self, op: &'static str, entry: String) -> Result<()> {
        self.log.push(entry);
        match self.failing.lock().unwrap().iter().find(|(o, _)| *o == op) {
            Some(&(_, errno)) => Err(Error::syscall(op, std::io::Error::from_raw_os_error(errno))),
            None => Ok(()),
        }
    }

    fn null_fd() -> OwnedFd {
        std::fs::File::open("/dev/null")
            .expect("open /dev/null")
            .into()
    }
}

/// Plays `script` on the child's end of the channel; closing it at the end is the child's
/// exec (or death).
fn play(script: ChildScript, waits_for_go: bool, sock: OwnedFd, log: CallLog) {
    let fd = sock.as_raw_fd();
    let go = |log: &CallLog| {
        let go = sync::recv_go(fd);
        log.push(match go {
            Some(go) if go.address().is_unspecified() => "child: go".to_string(),
            Some(go) => format!(
                "child: go {}/{} via {}",
                go.address(),
                go.prefix(),
                go.gateway()
            ),
            None => "child: no go".to_string(),
        });
        go.is_some()
    };
    match script {
        ChildScript::Vanish => {}
        ChildScript::Exec => {
            if waits_for_go {
                go(&log);
            }
        }
        ChildScript::Fail { step, index, errno } => {
            if !waits_for_go || before_go(step) || go(&log) {
                sync::report(fd, step, index as usize, errno);
            }
        }
    }
}

impl Mounts for FakeSyscall {
    fn mount_overlay(&self, data: &CStr, target: &Path) -> std::io::Result<()> {
        let entry = format!(
            "mount overlay {} on {}",
            data.to_string_lossy(),
            target.display()
        );
        self.call("mount_overlay", entry)
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::EIO)))
    }

    /// Refused (ENOSYS, as before Linux 5.2) unless [`FakeSyscall::memory_overlay_in`] named a
    /// directory, which then stands for the merged tree.
    fn mount_memory_overlay(&self, lowerdir: &CStr, root: Owner) -> std::io::Result<OwnedFd> {
        let entry = format!(
            "mount memory overlay lowerdir={} root {}:{} {:o}",
            lowerdir.to_string_lossy(),
            root.uid,
            root.gid,
            root.mode
        );
        let dir = self.memory_overlay.lock().unwrap().clone();
        let dir = dir.ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOSYS))?;
        self.call("mount_memory_overlay", entry)
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::EIO)))?;
        std::fs::File::open(dir).map(OwnedFd::from)
    }

    fn unmount_detach(&self, target: &Path) -> std::io::Result<()> {
        self.call("unmount", format!("umount {}", target.display()))
            .map_err(|e| std::io::Error::from_raw_os_error(e.errno().unwrap_or(libc::EIO)))
    }
}

impl Syscall for FakeSyscall {
    fn needs_root(&self) -> bool {
        false
    }

    fn clone_child(
        &self,
        ns_flags: libc::c_ulong,
        channel: &ChildEnd,
        _child: &dyn Fn() -> Infallible,
    ) -> Result<(libc::pid_t, OwnedFd)> {
        self.call("clone", format!("clone {}", ns_names(ns_flags)))?;
        let sock = channel.try_clone().expect("dup the child's end");
        let script = *self.script.lock().unwrap();
        let log = self.log.clone();
        let waits_for_go = ns_flags & libc::CLONE_NEWNS as libc::c_ulong != 0;
        let goes_on = match script {
            ChildScript::Vanish => false,
            ChildScript::Exec => waits_for_go,
            ChildScript::Fail { step, .. } => waits_for_go && !before_go(step),
        };
        if goes_on {
            std::thread::spawn(move || play(script, waits_for_go, sock, log));
        } else {
            // What the child does before it needs the parent happens before clone returns:
            // the parent sees it deterministically, as when the real child is fast.
            play(script, waits_for_go, sock, log);
        }
        Ok((self.pid, Self::null_fd()))
    }

    fn kill(&self, pid: libc::pid_t, _pidfd: BorrowedFd<'_>, signal: i32) -> Result<()> {
        self.call("kill", format!("kill {pid} {signal}"))
    }

    fn waitpid(&self, pid: libc::pid_t, _pidfd: BorrowedFd<'_>) -> Result<ExitStatus> {
        self.call("waitpid", format!("waitpid {pid}"))?;
        Ok(*self.exit.lock().unwrap())
    }

    fn pidfd_open(&self, pid: libc::pid_t) -> Result<OwnedFd> {
        self.call("pidfd_open", format!("pidfd_open {pid}"))?;
        Ok(Self::null_fd())
    }

    fn pidfd_send_signal(&self, _pidfd: BorrowedFd<'_>, signal: i32) -> Result<()> {
        self.call("pidfd_send_signal", format!("pidfd_send_signal {signal}"))
    }

    fn pidfd_wait(&self, _pidfd: BorrowedFd<'_>, timeout: Option<Duration>) -> Result<bool> {
        let t = timeout.map_or("forever".to_string(), |t| format!("{}ms", t.as_millis()));
        self.call("pidfd_wait", format!("pidfd_wait {t}"))?;
        let mut answers = self.exits_after.lock().unwrap();
        Ok(if answers.is_empty() {
            true
        } else {
            answers.remove(0)
        })
    }

    fn namespace_fds(&self, pid: libc::pid_t) -> Result<Vec<(OwnedFd, libc::c_int)>> {
        self.call("namespace_fds", format!("namespace_fds {pid}"))?;
        let types = [libc::CLONE_NEWNET, libc::CLONE_NEWNS];
        Ok(types
            .iter()
            .take(self.namespaces)
            .map(|&t| (Self::null_fd(), t))
            .collect())
    }
}

/// "uts,mnt,pid,..." for the CLONE_NEW* bits of `flags` ("-" for none).
fn ns_names(flags: libc::c_ulong) -> String {
    let names = [
        (libc::CLONE_NEWUTS, "uts"),
        (libc::CLONE_NEWNS, "mnt"),
        (libc::CLONE_NEWPID, "pid"),
        (libc::CLONE_NEWNET, "net"),
        (libc::CLONE_NEWIPC, "ipc"),
        (libc::CLONE_NEWCGROUP, "cgroup"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| flags & *bit as libc::c_ulong != 0)
        .map(|(_, n)| *n)
        .collect();
    if set.is_empty() {
        "-".to_string()
    } else {
        set.join(",")
    }
}
