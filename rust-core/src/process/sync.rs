//! Parent/child synchronisation over a SOCK_SEQPACKET socketpair (both ends close-on-exec).
//!
//! parent -> child: one `GoMsg` once the cgroup and network are ready (the child prepares its
//! rootfs meanwhile and waits for it before anything of the user's runs).
//! child -> parent: fixed-size `ChildMsg` records: an error (step, index, errno) after which the
//! child exits, or the pty master fd (SCM_RIGHTS). EOF without an error means exec succeeded.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

pub const GO: u32 = 0x474f_2121;

/// The go-ahead, with the container's address when it is on a bridge (all 0 otherwise).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct GoMsg {
    pub magic: u32,
    /// IPv4 addresses as host-order integers (`u32::from(Ipv4Addr)`).
    pub address: u32,
    pub prefix: u32,
    pub gateway: u32,
}

pub const MSG_ERROR: u32 = 1;
pub const MSG_PTY: u32 = 2;

/// Declares `Step` and its decoding from the number on the wire from one list, so that the two
/// cannot drift apart.
macro_rules! steps {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        /// A setup step of the child, reported with its errno. Numbered from 1 in this order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Step {
            $($(#[$doc])* $name),+
        }

        impl Step {
            const ALL: &[Step] = &[$(Step::$name),+];

            pub fn from_u32(v: u32) -> Option<Step> {
                Step::ALL.get((v as usize).checked_sub(1)?).copied()
            }

            pub fn as_u32(self) -> u32 {
                self as u32 + 1
            }
        }
    };
}

steps! {
    WaitGo,
    Sethostname,
    MakePrivate,
    BindRootfs,
    /// `index` is the position in the rootfs plan.
    RootfsOp,
    PivotRoot,
    Chroot,
    ReadonlyRoot,
    Loopback,
    Network,
    Terminal,
    CgroupNamespace,
    Setgroups,
    Setgid,
    Setuid,
    Capabilities,
    NoNewPrivs,
    Chdir,
    /// `index` is the candidate path that failed.
    Exec,
    InitFork,
    Setsid,
    JoinCgroup,
    /// `index` is the position in the exec's namespace list.
    Setns,
    Seccomp,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildMsg {
    pub kind: u32,
    pub step: u32,
    pub index: u32,
    pub errno: i32,
}

pub fn socketpair() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(Error::last_os("socketpair"));
    }
    // SAFETY: both fds were just returned by the kernel and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends a message, optionally with one fd. Allocation-free: safe in the cloned child.
pub fn send_msg(sock: RawFd, msg: &ChildMsg, fd: Option<RawFd>) -> i32 {
    let mut iov = libc::iovec {
        iov_base: msg as *const ChildMsg as *mut libc::c_void,
        iov_len: std::mem::size_of::<ChildMsg>(),
    };
    // Room for one SCM_RIGHTS fd, aligned for cmsghdr.
    let mut cbuf = [0u64; 4];
    // SAFETY: zeroed msghdr is a valid value.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: cbuf is large and aligned enough for one cmsghdr carrying one int.
        unsafe {
            let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
            hdr.msg_control = cbuf.as_mut_ptr().cast();
            hdr.msg_controllen = space;
            let c = libc::CMSG_FIRSTHDR(&hdr);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd);
        }
    }
    // SAFETY: hdr points at live buffers for the duration of the call.
    unsafe { libc::sendmsg(sock, &hdr, libc::MSG_NOSIGNAL) as i32 }
}

/// A message the child has already sent, without waiting (None if there is none yet).
pub fn recv_msg_nonblocking(sock: &OwnedFd) -> Option<ChildMsg> {
    let mut msg = ChildMsg::default();
    let size = std::mem::size_of::<ChildMsg>();
    // SAFETY: receiving into a stack struct of plain integers.
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            (&mut msg as *mut ChildMsg).cast(),
            size,
            libc::MSG_DONTWAIT,
        )
    };
    (n == size as isize).then_some(msg)
}

/// Reads the next message from the child; None on EOF (exec succeeded or the child died).
pub fn recv_msg(sock: &OwnedFd) -> Result<Option<(ChildMsg, Option<OwnedFd>)>> {
    let mut msg = ChildMsg::default();
    let mut iov = libc::iovec {
        iov_base: (&mut msg as *mut ChildMsg).cast(),
        iov_len: std::mem::size_of::<ChildMsg>(),
    };
    let mut cbuf = [0u64; 4];
    loop {
        // SAFETY: zeroed msghdr is valid; buffers outlive the call.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_iov = &mut iov;
        hdr.msg_iovlen = 1;
        hdr.msg_control = cbuf.as_mut_ptr().cast();
        hdr.msg_controllen = std::mem::size_of_val(&cbuf);
        // SAFETY: as above.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut hdr, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // ECONNRESET: the child died before exec without a word.
            if e.raw_os_error() == Some(libc::ECONNRESET) {
                return Ok(None);
            }
            return Err(Error::syscall("read from the container's sync socket", e));
        }
        if n == 0 {
            return Ok(None);
        }
        let mut fd = None;
        // SAFETY: the kernel filled msg_control; we walk it with the CMSG macros.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&hdr);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                    let raw = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
                    fd = Some(OwnedFd::from_raw_fd(raw));
                }
                c = libc::CMSG_NXTHDR(&hdr, c);
            }
        }
        return Ok(Some((msg, fd)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip_through_their_numbers() {
        for &step in Step::ALL {
            assert_eq!(Step::from_u32(step.as_u32()), Some(step));
        }
        assert_eq!(Step::from_u32(0), None);
        assert_eq!(Step::from_u32(Step::ALL.len() as u32 + 1), None);
    }
}
