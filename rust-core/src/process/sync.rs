//! The parent/child protocol, over a SOCK_SEQPACKET socketpair (both ends close-on-exec).
//!
//! 1. child: sets up its rootfs while the parent joins it to its cgroup and plugs its network.
//!    A failure here is reported at once (2b).
//! 2. parent -> child: one [`GoMsg`], the go-ahead, with the container's address when it is on
//!    a bridge. Nothing of the user's runs before it.
//! 3. child -> parent: fixed-size [`ChildMsg`] records: (b) an error (step, index, errno) after
//!    which the child exits, or (a) the pty master fd (SCM_RIGHTS, with a terminal).
//! 4. EOF without an error: exec succeeded (close-on-exec closed the child's end), or the child
//!    died without a word.
//!
//! The child's side ([`recv_go`], [`report`], [`send_pty`]) works on the raw descriptor and
//! allocates nothing: it runs between clone and exec.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result, StateError};

const GO: u32 = 0x474f_2121;

/// The go-ahead, with the container's address when it is on a bridge (all 0 otherwise).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoMsg {
    magic: u32,
    /// IPv4 addresses as host-order integers (`u32::from(Ipv4Addr)`).
    address: u32,
    prefix: u32,
    gateway: u32,
}

impl GoMsg {
    /// The go-ahead without a network to configure.
    pub fn new() -> GoMsg {
        GoMsg {
            magic: GO,
            ..Default::default()
        }
    }

    /// The go-ahead with the address, prefix and gateway for eth0.
    pub fn with_address(address: Ipv4Addr, prefix: u8, gateway: Ipv4Addr) -> GoMsg {
        GoMsg {
            magic: GO,
            address: address.into(),
            prefix: prefix.into(),
            gateway: gateway.into(),
        }
    }

    pub fn address(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.address)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix as u8
    }

    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.gateway)
    }
}

const MSG_ERROR: u32 = 1;
const MSG_PTY: u32 = 2;
const MSG_READY: u32 = 3;

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
            pub const ALL: &[Step] = &[$(Step::$name),+];

            pub fn from_u32(v: u32) -> Option<Step> {
                Step::ALL.get((v as usize).checked_sub(1)?).copied()
            }

            pub fn as_u32(self) -> u32 {
                self as u32 + 1
            }

            /// The step's name, for a report nobody reads (written to stderr instead).
            pub fn name(self) -> &'static str {
                match self {
                    $(Step::$name => stringify!($name)),+
                }
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
    /// The root mounted nodev (no devices cgroup guards the container).
    NodevRoot,
    Keyring,
    /// The exec of the stub (process/stub.rs) that then execs the command.
    ExecStub,
    Setdomainname,
    /// `index` is the position in the rlimit list.
    Rlimit,
    Personality,
    /// Opening the exec fifo (the OCI create/start split).
    ExecFifo,
    /// The root's propagation (rootfsPropagation).
    RootPropagation,
    /// Becoming root of the new user namespace once the parent wrote its maps.
    UserNsRoot,
    /// `index` is the position in the list of namespaces the child joins itself.
    JoinNamespace,
    /// `index` is the position in the /sys/fs/cgroup mount steps (rootfs::cgroupfs).
    CgroupMount,
}

/// A child's record on the wire.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct ChildMsg {
    kind: u32,
    step: u32,
    index: u32,
    errno: i32,
}

/// A failed setup step, as the child reported it. `step` is the raw number: a child of another
/// build could send one this build does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub step: u32,
    pub index: u32,
    pub errno: i32,
}

impl Failure {
    pub fn step(&self) -> Option<Step> {
        Step::from_u32(self.step)
    }
}

/// What the child sends.
#[derive(Debug)]
pub enum Report {
    Failed(Failure),
    /// The master of the pty the child made its terminal.
    Pty(OwnedFd),
    /// Everything is set up; the child now blocks on its exec fifo until `start`.
    Ready,
}

/// The parent's end of the channel.
#[derive(Debug)]
pub struct ParentEnd(OwnedFd);

/// The child's end of the channel.
#[derive(Debug)]
pub struct ChildEnd(OwnedFd);

/// A new channel: the parent keeps one end, the child the other (close-on-exec, so that EOF
/// follows the child's exec).
pub fn channel() -> Result<(ParentEnd, ChildEnd)> {
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
    let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((ParentEnd(a), ChildEnd(b)))
}

impl AsRawFd for ChildEnd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl ChildEnd {
    /// A second descriptor for the same end (the fake kernel plays a child on it).
    pub fn try_clone(&self) -> std::io::Result<OwnedFd> {
        self.0.try_clone()
    }
}

impl ParentEnd {
    /// In the cloned child: closes its copy of the parent's end, so that the parent sees EOF
    /// once the child execs or exits. No destructor runs in the child.
    pub fn close_in_child(&self) {
        // SAFETY: the child's copy of our descriptor; `self` is never dropped in the child,
        // which ends in exec or _exit.
        unsafe { libc::close(self.0.as_raw_fd()) };
    }

    /// Sends the go-ahead.
    pub fn send_go(&self, go: &GoMsg) -> Result<()> {
        let size = std::mem::size_of::<GoMsg>();
        // SAFETY: sending one fixed-size record of plain integers from a live reference.
        let n = unsafe {
            libc::send(
                self.0.as_raw_fd(),
                (go as *const GoMsg).cast(),
                size,
                libc::MSG_NOSIGNAL,
            )
        };
        if n != size as isize {
            return Err(Error::last_os("release the container process"));
        }
        Ok(())
    }

    /// A failure the child has already reported, without waiting (None if there is none yet).
    pub fn try_recv_failure(&self) -> Option<Failure> {
        let mut msg = ChildMsg::default();
        let size = std::mem::size_of::<ChildMsg>();
        let n = loop {
            // SAFETY: receiving into a stack struct of plain integers.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    (&mut msg as *mut ChildMsg).cast(),
                    size,
                    libc::MSG_DONTWAIT,
                )
            };
            // ECONNRESET comes before the queued records and is cleared (see recv_msg).
            let e = std::io::Error::last_os_error().raw_os_error();
            if n >= 0 || !matches!(e, Some(libc::ECONNRESET | libc::EINTR)) {
                break n;
            }
        };
        (n == size as isize && msg.kind == MSG_ERROR).then(|| failure(&msg))
    }

    /// The next report; None on EOF (exec succeeded or the child died).
    pub fn recv(&self) -> Result<Option<Report>> {
        let Some((msg, fd)) = recv_msg(&self.0)? else {
            return Ok(None);
        };
        match msg.kind {
            MSG_ERROR => Ok(Some(Report::Failed(failure(&msg)))),
            MSG_PTY => Ok(Some(Report::Pty(fd.ok_or(StateError::NoPty)?))),
            MSG_READY => Ok(Some(Report::Ready)),
            other => Err(StateError::UnexpectedMessage(other).into()),
        }
    }
}

fn failure(msg: &ChildMsg) -> Failure {
    Failure {
        step: msg.step,
        index: msg.index,
        errno: msg.errno,
    }
}

/// Reads the next record and the fd passed with it; None on EOF.
fn recv_msg(sock: &OwnedFd) -> Result<Option<(ChildMsg, Option<OwnedFd>)>> {
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
            // ECONNRESET: the child exited with our go-ahead unread (it failed before it
            // read it). The kernel reports that before the records still queued, its failure
            // among them, and clears it: read on.
            if e.raw_os_error() == Some(libc::ECONNRESET) {
                continue;
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

// The child's side: raw descriptors, no allocation.

/// Sends a record, optionally with one fd. Returns what sendmsg returned.
fn send_msg(sock: RawFd, msg: &ChildMsg, fd: Option<RawFd>) -> isize {
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
    unsafe { libc::sendmsg(sock, &hdr, libc::MSG_NOSIGNAL) }
}

/// Child: reports a failed step (the child exits after it). When nobody reads the socket
/// any more (an OCI `create` whose process exited, the container released by `start`), the
/// report goes to stderr instead: "container init: STEP (index I): errno E".
pub fn report(sock: RawFd, step: Step, index: usize, errno: i32) {
    let msg = ChildMsg {
        kind: MSG_ERROR,
        step: step.as_u32(),
        index: index as u32,
        errno,
    };
    if send_msg(sock, &msg, None) < 0 {
        report_stderr(step, index, errno);
    }
}

/// Appends the decimal digits of `v` to `buf` at `*at`, allocation-free.
fn push_number(buf: &mut [u8], at: &mut usize, v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = v;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in digits[..n].iter().rev() {
        if *at < buf.len() {
            buf[*at] = *d;
            *at += 1;
        }
    }
}

/// Appends `bytes` to `buf` at `*at` as far as they fit.
fn push_bytes(buf: &mut [u8], at: &mut usize, bytes: &[u8]) {
    let n = bytes.len().min(buf.len() - *at);
    buf[*at..*at + n].copy_from_slice(&bytes[..n]);
    *at += n;
}

fn report_stderr(step: Step, index: usize, errno: i32) {
    let mut buf = [0u8; 160];
    let mut at = 0;
    push_bytes(&mut buf, &mut at, b"container init: ");
    push_bytes(&mut buf, &mut at, step.name().as_bytes());
    push_bytes(&mut buf, &mut at, b" (index ");
    push_number(&mut buf, &mut at, index as u64);
    push_bytes(&mut buf, &mut at, b"): errno ");
    push_number(&mut buf, &mut at, errno.unsigned_abs().into());
    push_bytes(&mut buf, &mut at, b"\n");
    // SAFETY: writing our stack buffer to stderr.
    unsafe { libc::write(2, buf.as_ptr().cast(), at) };
}

/// Child: hands the pty master to the parent. 0, or -1 with errno set.
pub fn send_pty(sock: RawFd, master: RawFd) -> i32 {
    let msg = ChildMsg {
        kind: MSG_PTY,
        ..Default::default()
    };
    if send_msg(sock, &msg, Some(master)) < 0 {
        -1
    } else {
        0
    }
}

/// Child: tells the parent it is about to block on the exec fifo. 0, or -1 with errno set.
pub fn send_ready(sock: RawFd) -> i32 {
    let msg = ChildMsg {
        kind: MSG_READY,
        ..Default::default()
    };
    if send_msg(sock, &msg, None) < 0 {
        -1
    } else {
        0
    }
}

/// Child: waits for the go-ahead; None when the parent gave up (closed its end) or died.
pub fn recv_go(sock: RawFd) -> Option<GoMsg> {
    let mut go = GoMsg::default();
    let size = std::mem::size_of::<GoMsg>();
    // SAFETY: reading one fixed-size record into a stack struct of plain integers.
    let n = unsafe { libc::read(sock, (&mut go as *mut GoMsg).cast(), size) };
    (n == size as isize && go.magic == GO).then_some(go)
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

    #[test]
    fn the_protocol_in_one_process() {
        let (parent, child) = channel().unwrap();
        let go = GoMsg::with_address(Ipv4Addr::new(10, 88, 0, 2), 16, Ipv4Addr::new(10, 88, 0, 1));
        parent.send_go(&go).unwrap();
        let got = recv_go(child.as_raw_fd()).unwrap();
        assert_eq!(
            (got.address(), got.prefix(), got.gateway()),
            (go.address(), 16, go.gateway())
        );
        assert!(parent.try_recv_failure().is_none());

        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(send_pty(child.as_raw_fd(), null.as_raw_fd()), 0);
        assert!(matches!(parent.recv().unwrap(), Some(Report::Pty(_))));
        assert_eq!(send_ready(child.as_raw_fd()), 0);
        assert!(matches!(parent.recv().unwrap(), Some(Report::Ready)));
        report(child.as_raw_fd(), Step::PivotRoot, 3, libc::EINVAL);
        let want = Failure {
            step: Step::PivotRoot.as_u32(),
            index: 3,
            errno: libc::EINVAL,
        };
        match parent.recv().unwrap() {
            Some(Report::Failed(f)) => assert_eq!((f, f.step()), (want, Some(Step::PivotRoot))),
            other => panic!("{other:?}"),
        }
        drop(child);
        assert!(
            parent.recv().unwrap().is_none(),
            "EOF once the child's end is closed"
        );
    }

    /// A child that fails before it reads the go-ahead exits with it unread: the kernel then
    /// reports ECONNRESET ahead of the queued failure, which must still arrive (a start that
    /// failed was once taken for an exec that worked).
    #[test]
    fn a_failure_arrives_when_the_child_left_the_go_ahead_unread() {
        let want = Failure {
            step: Step::RootfsOp.as_u32(),
            index: 2,
            errno: libc::ELOOP,
        };
        for blocking in [true, false] {
            let (parent, child) = channel().unwrap();
            parent.send_go(&GoMsg::new()).unwrap();
            report(child.as_raw_fd(), Step::RootfsOp, 2, libc::ELOOP);
            drop(child);
            if blocking {
                match parent.recv().unwrap() {
                    Some(Report::Failed(f)) => assert_eq!(f, want),
                    other => panic!("{other:?}"),
                }
                assert!(parent.recv().unwrap().is_none());
            } else {
                assert_eq!(parent.try_recv_failure(), Some(want));
            }
        }
    }

    #[test]
    fn a_report_nobody_reads_goes_to_stderr_in_words() {
        let mut buf = [0u8; 64];
        let mut at = 0;
        push_bytes(&mut buf, &mut at, Step::ExecFifo.name().as_bytes());
        push_number(&mut buf, &mut at, 1307);
        push_number(&mut buf, &mut at, 0);
        assert_eq!(&buf[..at], b"ExecFifo13070");
        let mut small = [0u8; 3];
        let mut at = 0;
        push_bytes(&mut small, &mut at, b"abcdef");
        push_number(&mut small, &mut at, 42);
        assert_eq!((&small[..], at), (&b"abc"[..], 3));
    }

    #[test]
    fn a_parent_that_gave_up_is_no_go() {
        let (parent, child) = channel().unwrap();
        drop(parent);
        assert!(recv_go(child.as_raw_fd()).is_none());
    }
}
