//! The exec stub: no process in a container ever runs a host binary.
//!
//! A container's first process, an exec's, and the `--init` are clones of the host program:
//! docker-run, or any C or C++ program that links this library. Whatever such a clone executes
//! first sees the host's binary as /proc/self/exe at that execve, so a command that is a script
//! starting with `#!/proc/self/exe` runs the host binary inside the container, dumpable again
//! after the exec. Another process in the container opens /proc/PID/exe and, once nothing runs
//! that binary any more, writes to the host's file through it (CVE-2019-5736). The same holds
//! for an init that never execs.
//!
//! So the clone never execs the command itself: it execs a tiny static program, `stub/init.c`
//! (no libc, about 9 KB, embedded in the library), from a sealed memfd, and that program execs
//! the command, or forks it and stays its init. When the command's execve happens,
//! /proc/self/exe is that memfd: not a host file, and sealed (F_SEAL_WRITE, _GROW, _SHRINK,
//! _SEAL, and _EXEC where the kernel has it), so nothing can change it even though every
//! container shares it. The init is the stub too, for the container's whole life.
//!
//! Why this and not what runc or crun do:
//! - runc 1.1 and crun copy their own binary into a sealed memfd at each start. Ours is 8 MB
//!   (4.8 ms per start here, half a whole container), and a C++ host that links the library
//!   is not ours to copy or re-exec at all: its binary is the host program, of any size.
//! - runc 1.2's overlayfs trick (an overlay mounted over the binary's directory, read-only) needs
//!   the binary to be a file we know; a C host's may not be, and it adds a mount per start.
//! - runc-dmz (runc 1.2-rc, dropped again) is this design: a small static C program that execs
//!   the command. runc dropped it because it changed capability semantics for non-root users
//!   with capabilities (the extra execve of a file without file capabilities drops them) and
//!   because a separate binary had to be shipped. Here a user other than root never keeps
//!   capabilities (process/child/capabilities.rs), root's execve keeps the bounding set either
//!   way, and the stub is inside the library.
//!
//! Cost: the memfd is made once per host process (about 0.02 ms) and checked at each start (one
//! fstat and one fcntl); the extra execve of a 9 KB static program is about 0.1 ms.

use std::os::fd::RawFd;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The stub's ELF image (built by build.rs).
static STUB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/docker-run-init"));

const F_SEAL_EXEC: libc::c_int = 0x20;
const MFD_EXEC: libc::c_uint = 0x10;
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// The memfd and its inode, to recognise it again.
#[derive(Clone, Copy)]
struct Memfd {
    fd: RawFd,
    ino: u64,
}

/// The host process's stub memfd. Raw on purpose: a host that closes descriptors it does not
/// know (closefrom) may close it, and then its number can belong to someone else, who must not
/// see it closed again by us.
static MEMFD: Mutex<Option<Memfd>> = Mutex::new(None);

/// A descriptor of the sealed stub, close-on-exec, made on first use and checked at each use
/// (still our memfd, still sealed, still the stub's size). Call in the parent, before clone.
pub fn memfd() -> Result<RawFd> {
    let mut slot = MEMFD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(m) = *slot {
        if is_ours(m) {
            return Ok(m.fd);
        }
    }
    let m = create()?;
    *slot = Some(m);
    Ok(m.fd)
}

fn is_ours(m: Memfd) -> bool {
    // SAFETY: fstat into a stack struct; fcntl with plain arguments.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(m.fd, &mut st) == 0
            && st.st_ino == m.ino
            && st.st_size as usize == STUB.len()
            && libc::fcntl(m.fd, libc::F_GET_SEALS) & SEALS == SEALS
    }
}

fn create() -> Result<Memfd> {
    let name = c"docker-run-init";
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: plain syscall with a NUL-terminated name. MFD_EXEC first: with the sysctl
    // vm.memfd_noexec=1 a memfd made without it cannot be executed; kernels before 6.3 do not
    // know the flag (EINVAL).
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_EXEC) };
    if fd < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(Error::last_os("memfd_create(docker-run-init)"));
    }
    // SAFETY: fd is ours; the file takes ownership and closes it on the error paths.
    let file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let fail = |op: &str| Error::last_os(format!("{op} (the exec stub's memfd)"));
    use std::io::Write;
    (&file)
        .write_all(STUB)
        .map_err(|e| Error::syscall("write (the exec stub's memfd)", e))?;
    // SAFETY: fcntl with plain arguments on our fd.
    if unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, SEALS) } != 0 {
        return Err(fail("F_ADD_SEALS"));
    }
    // No one may make it non-executable (or executable again) either; EINVAL before 6.3.
    // SAFETY: as above.
    unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, F_SEAL_EXEC) };
    let meta = file
        .metadata()
        .map_err(|e| Error::syscall("fstat (the exec stub's memfd)", e))?;
    let fd = std::os::fd::IntoRawFd::into_raw_fd(file);
    Ok(Memfd {
        fd,
        ino: std::os::unix::fs::MetadataExt::ino(&meta),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: both use the process-wide memfd.
    #[test]
    fn the_memfd_is_sealed_reused_and_made_again_when_lost() {
        let fd = memfd().unwrap();
        assert_eq!(memfd().unwrap(), fd, "made once");
        // SAFETY: fcntl and pwrite on our fd.
        unsafe {
            assert_eq!(libc::fcntl(fd, libc::F_GET_SEALS) & SEALS, SEALS);
            assert!(libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0);
            assert_eq!(libc::pwrite(fd, b"x".as_ptr().cast(), 1, 0), -1);
        }
        let path = format!("/proc/self/fd/{fd}");
        // Opening for writing may work; writing never does.
        if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&path) {
            use std::io::Write;
            assert!(f.write_all(b"x").is_err());
        }
        assert_eq!(std::fs::read(&path).unwrap(), STUB);
        assert!(
            STUB.len() < 64 * 1024,
            "the stub stays small: {}",
            STUB.len()
        );
        // As after a host closed every descriptor it does not know: not ours any more.
        let ino = MEMFD.lock().unwrap().unwrap().ino;
        *MEMFD.lock().unwrap() = Some(Memfd { fd, ino: ino + 1 });
        memfd().unwrap();
        assert!(is_ours(MEMFD.lock().unwrap().unwrap()));
    }
}
