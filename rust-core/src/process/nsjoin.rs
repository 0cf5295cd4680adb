//! Namespaces joined by path (OCI `linux.namespaces[].path`, podman's network namespace).
//!
//! Where each one is joined, and why:
//! - network, UTS, IPC, cgroup and PID: by the parent's calling thread just before the clone,
//!   and left again right after it, so that the child is born in them. setns of these changes
//!   only the calling thread, also in a multi-threaded host; a PID namespace can only be entered
//!   that way (setns moves only the children), and a joined network namespace belonging to the
//!   host's user namespace can only be entered before the child has a user namespace of its own.
//! - user and mount: by the child, first thing after the clone (the kernel refuses them to a
//!   thread of a multi-threaded process, or one sharing its filesystem attributes).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};
use crate::spec::ns;

/// The CLONE_NEW* type and /proc/thread-self/ns name of a namespace bit.
pub fn ns_type(bit: u32) -> Option<(libc::c_int, &'static str)> {
    Some(match bit {
        ns::USER => (libc::CLONE_NEWUSER, "user"),
        ns::MOUNT => (libc::CLONE_NEWNS, "mnt"),
        ns::CGROUP => (libc::CLONE_NEWCGROUP, "cgroup"),
        ns::IPC => (libc::CLONE_NEWIPC, "ipc"),
        ns::UTS => (libc::CLONE_NEWUTS, "uts"),
        ns::NET => (libc::CLONE_NEWNET, "net"),
        ns::PID => (libc::CLONE_NEWPID, "pid"),
        _ => return None,
    })
}

/// Opens the namespaces of `paths`: (for the parent's thread, for the child), each in
/// joining order (the child's: user, then mount).
pub type Opened = (Vec<(OwnedFd, libc::c_int)>, Vec<(OwnedFd, libc::c_int)>);

pub fn open(paths: &[(u32, std::path::PathBuf)]) -> Result<Opened> {
    let mut parent = Vec::new();
    let mut child = Vec::new();
    for want in [
        ns::USER,
        ns::MOUNT,
        ns::CGROUP,
        ns::IPC,
        ns::UTS,
        ns::NET,
        ns::PID,
    ] {
        for (bit, path) in paths.iter().filter(|(b, _)| *b == want) {
            let (nstype, _) =
                ns_type(*bit).ok_or(crate::spec::SpecError::UnknownNamespaces(*bit))?;
            let fd = open_ns(path)?;
            if matches!(*bit, ns::USER | ns::MOUNT) {
                child.push((fd, nstype));
            } else {
                parent.push((fd, nstype));
            }
        }
    }
    Ok((parent, child))
}

fn open_ns(path: &Path) -> Result<OwnedFd> {
    std::fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| Error::io(path, e))
}

/// The calling thread inside other namespaces until dropped (or [`Entered::leave`]).
#[derive(Debug)]
pub struct Entered {
    /// The thread's own namespaces, to go back to.
    home: Vec<(OwnedFd, libc::c_int)>,
}

/// Moves the calling thread into `targets` (see the module doc); on failure it is back home.
pub fn enter(targets: &[(OwnedFd, libc::c_int)]) -> Result<Entered> {
    let mut entered = Entered { home: Vec::new() };
    for (fd, nstype) in targets {
        let name = [
            (libc::CLONE_NEWCGROUP, "cgroup"),
            (libc::CLONE_NEWIPC, "ipc"),
            (libc::CLONE_NEWUTS, "uts"),
            (libc::CLONE_NEWNET, "net"),
            (libc::CLONE_NEWPID, "pid"),
        ]
        .into_iter()
        .find_map(|(t, n)| (t == *nstype).then_some(n))
        .ok_or(crate::spec::SpecError::UnknownNamespaces(0))?;
        let home = open_ns(&Path::new("/proc/thread-self/ns").join(name))?;
        // SAFETY: setns on nsfs descriptors we hold.
        if unsafe { libc::setns(fd.as_raw_fd(), *nstype) } != 0 {
            return Err(Error::last_os(format!("setns({name})")));
        }
        entered.home.push((home, *nstype));
    }
    Ok(entered)
}

impl Entered {
    /// Back into the thread's own namespaces, the last entered first.
    pub fn leave(mut self) -> Result<()> {
        self.restore()
    }

    fn restore(&mut self) -> Result<()> {
        let mut result = Ok(());
        while let Some((fd, nstype)) = self.home.pop() {
            // SAFETY: setns on a descriptor we hold.
            if unsafe { libc::setns(fd.as_raw_fd(), nstype) } != 0 && result.is_ok() {
                result = Err(Error::last_os("setns back to the runtime's namespace"));
            }
        }
        result
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}
