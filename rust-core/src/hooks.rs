//! The OCI hooks (`oci` re-exports this; `container` runs the ones of `start`) (run with the container's state as JSON on stdin, each within its timeout),
//! and the reader's side of the exec fifo.
//!
//! Where they run: prestart, createRuntime, poststart and poststop in the runtime's
//! namespaces; createContainer and startContainer in the container's (every namespace of its
//! init but the PID one, which setns cannot enter for the hook itself), with the hook's
//! binary opened in the runtime's mount namespace first, as the specification resolves
//! createContainer's path (startContainer's path resolves in the container: opened inside).

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::spec::Hook;

pub use crate::spec::OciState as State;

/// Where a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookNs {
    /// The runtime's own namespaces; the path resolves there.
    Runtime,
    /// The namespaces of this container process; the path resolves in the runtime's mount
    /// namespace (createContainer).
    Container(libc::pid_t),
    /// As `Container`, the path resolving inside the container (startContainer).
    ContainerPath(libc::pid_t),
}

/// The namespaces a hook joins, in joining order (user first: the others may belong to it).
const HOOK_NS: [(&str, libc::c_int); 6] = [
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("mnt", libc::CLONE_NEWNS),
];

fn same_ns(pid: libc::pid_t, name: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}"));
    let ours = std::fs::metadata(format!("/proc/self/ns/{name}"));
    matches!((theirs, ours), (Ok(a), Ok(b)) if a.ino() == b.ino() && a.dev() == b.dev())
}

fn open(path: impl AsRef<Path>) -> Result<OwnedFd> {
    let path = path.as_ref();
    std::fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| Error::io(path, e))
}

/// What the forked hook process does before its exec, prepared before the fork.
struct Entry {
    namespaces: Vec<(OwnedFd, libc::c_int)>,
    /// The container's root (for startContainer's path), entered after the mount namespace.
    root: Option<OwnedFd>,
    /// The binary, opened in the runtime's namespaces (createContainer).
    binary: Option<OwnedFd>,
    /// argv and envp, which the pointers below point into.
    _strings: (Vec<CString>, Vec<CString>),
    /// NULL-terminated pointers into argv and envp, made before the fork (the child must
    /// not allocate: the host may be multi-threaded).
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    path: CString,
}

// SAFETY: the pointers point into the CStrings the same Entry owns (heap buffers that do not
// move with it) and are only read.
unsafe impl Send for Entry {}
// SAFETY: as above.
unsafe impl Sync for Entry {}

fn pointers(list: &[CString]) -> Vec<*const libc::c_char> {
    list.iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

fn cstrings(list: &[std::ffi::OsString]) -> Result<Vec<CString>> {
    list.iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| Error::from(crate::spec::SpecError::NulByte { what: "a hook" }))
        })
        .collect()
}

impl Entry {
    fn new(hook: &Hook, at: HookNs) -> Result<Entry> {
        let argv = cstrings(&hook.args)?;
        let envp = cstrings(&hook.env)?;
        let path = CString::new(hook.path.as_os_str().as_bytes()).map_err(|_| {
            Error::from(crate::spec::SpecError::NulByte {
                what: "a hook path",
            })
        })?;
        let mut e = Entry {
            namespaces: Vec::new(),
            root: None,
            binary: None,
            argv_ptrs: pointers(&argv),
            envp_ptrs: pointers(&envp),
            _strings: (argv, envp),
            path,
        };
        let (HookNs::Container(pid) | HookNs::ContainerPath(pid)) = at else {
            return Ok(e);
        };
        for (name, nstype) in HOOK_NS {
            if !same_ns(pid, name) {
                e.namespaces
                    .push((open(format!("/proc/{pid}/ns/{name}"))?, nstype));
            }
        }
        if let HookNs::ContainerPath(_) = at {
            e.root = Some(open(format!("/proc/{pid}/root"))?);
        } else {
            // O_PATH without close-on-exec: a script's interpreter then finds it as
            // /dev/fd/N, where the container has a /proc of ours to show it.
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH)
                .open(&hook.path)
                .map_err(|e| Error::io(&hook.path, e))?;
            let fd = OwnedFd::from(f);
            // SAFETY: fcntl on our own descriptor.
            unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) };
            e.binary = Some(fd);
        }
        Ok(e)
    }

    /// In the forked child (async-signal-safe calls only): join, then exec.
    fn enter_and_exec(&self) -> std::io::Error {
        for (fd, nstype) in &self.namespaces {
            // SAFETY: setns on descriptors we hold.
            if unsafe { libc::setns(fd.as_raw_fd(), *nstype) } != 0 {
                return std::io::Error::last_os_error();
            }
        }
        if let Some(root) = &self.root {
            // SAFETY: fchdir and chroot on a descriptor we hold and a static path.
            if unsafe { libc::fchdir(root.as_raw_fd()) } != 0
                || unsafe { libc::chroot(c".".as_ptr()) } != 0
                || unsafe { libc::chdir(c"/".as_ptr()) } != 0
            {
                return std::io::Error::last_os_error();
            }
        }
        let (argv, envp) = (self.argv_ptrs.as_ptr(), self.envp_ptrs.as_ptr());
        if let Some(fd) = &self.binary {
            // SAFETY: NULL-terminated arrays of pointers into CStrings we own.
            unsafe {
                libc::syscall(
                    libc::SYS_execveat,
                    fd.as_raw_fd(),
                    c"".as_ptr(),
                    argv,
                    envp,
                    libc::AT_EMPTY_PATH,
                )
            };
        }
        // Without a binary opened outside, or where that failed (a script whose /dev/fd/N
        // the container cannot show): the path, as the container sees it.
        // SAFETY: as above, with a NUL-terminated path we own.
        unsafe { libc::execve(self.path.as_ptr(), argv, envp) };
        std::io::Error::last_os_error()
    }
}

/// Runs `hooks` in order with `state` on stdin; the first that fails (non-zero exit, killed,
/// past its timeout) stops the rest and is the error.
pub fn run_hooks(hooks: &[Hook], state: &State, at: HookNs) -> Result<()> {
    let json = state.to_json();
    for (i, hook) in hooks.iter().enumerate() {
        run_numbered(i, hook, &json, at)?;
    }
    Ok(())
}

/// Runs every one of `hooks` in order with `state` on stdin, whatever the others do: the
/// specification's rule for poststart and poststop, whose failures are warnings that stop
/// nothing. One error per hook that failed.
pub fn run_hooks_all(hooks: &[Hook], state: &State, at: HookNs) -> Vec<Error> {
    let json = state.to_json();
    hooks
        .iter()
        .enumerate()
        .filter_map(|(i, hook)| run_numbered(i, hook, &json, at).err())
        .collect()
}

fn run_numbered(i: usize, hook: &Hook, json: &str, at: HookNs) -> Result<()> {
    run_one(hook, json, at).map_err(|e| Error::Hook {
        what: format!("hook {i} ({})", hook.path.display()),
        why: e.to_string(),
    })
}

fn run_one(hook: &Hook, json: &str, at: HookNs) -> Result<()> {
    let entry = Entry::new(hook, at)?;
    let mut cmd = std::process::Command::new(&hook.path);
    cmd.stdin(std::process::Stdio::piped())
        .env_clear()
        .current_dir("/");
    // SAFETY: the closure only makes system calls (setns, chroot, execve) on data prepared
    // before the fork; on success it does not return.
    unsafe {
        cmd.pre_exec(move || Err(entry.enter_and_exec()));
    }
    let mut child = cmd.spawn().map_err(|e| Error::io(&hook.path, e))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine (EPIPE).
        let _ = stdin.write_all(json.as_bytes());
    }
    let deadline = hook.timeout.map(|t| Instant::now() + t);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| Error::io(&hook.path, e))? {
            if status.success() {
                return Ok(());
            }
            return Err(Error::HookStatus(status.to_string()));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::HookStatus(format!(
                "timed out after {}s",
                hook.timeout.unwrap_or_default().as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `start`: opens the exec fifo for reading, which releases the container's init blocked
/// opening it for writing, and reads the byte it writes. Fails when no init waits on it (the
/// fifo is missing: already started).
pub fn open_exec_fifo(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut byte = [0u8; 1];
    let n = f.read(&mut byte).map_err(|e| Error::io(path, e))?;
    if n != 1 {
        return Err(Error::HookStatus(format!(
            "{}: the container's init is gone",
            path.display()
        )));
    }
    Ok(())
}
