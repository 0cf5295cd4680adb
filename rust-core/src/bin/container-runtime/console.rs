//! `--console-socket`: the pty master handed to the engine (conmon, containerd's shim) over a
//! Unix socket with SCM_RIGHTS, as runc does (one message; its data is the pty's name); the
//! same for `--pidfd-socket` and a pidfd.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};

use crate::error::Fail;

/// Connects to `socket` and sends `master` over it.
pub fn send(socket: &str, master: &OwnedFd) -> Result<(), Fail> {
    let name = std::fs::read_link(format!("/proc/self/fd/{}", master.as_raw_fd()))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/dev/ptmx".into());
    send_fd("console socket", socket, master, &name)
}

/// `--pidfd-socket`: a pidfd of the container's init (create, run) or of the exec'd process,
/// as runc 1.2 sends it (containerd's shim waits on it instead of polling the pid).
pub fn send_pidfd(socket: &str, pidfd: &OwnedFd) -> Result<(), Fail> {
    send_fd("pidfd socket", socket, pidfd, "pidfd")
}

fn send_fd(what: &str, socket: &str, fd: &OwnedFd, name: &str) -> Result<(), Fail> {
    let stream =
        UnixStream::connect(socket).map_err(|e| Fail::io(format!("{what} {socket}"), e))?;
    let master = fd;
    let fds = [master.as_raw_fd()];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(
        stream.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| Fail::msg(format!("send {name} to {socket}: {}", e.desc())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixListener;

    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};

    #[test]
    fn the_fd_arrives() {
        let path = std::env::temp_dir().join(format!("cr-console-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let l = UnixListener::bind(&path).unwrap();
        let f: std::os::fd::OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
        super::send(path.to_str().unwrap(), &f).unwrap();
        let (s, _) = l.accept().unwrap();
        let mut buf = [0u8; 64];
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg =
            recvmsg::<()>(s.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::empty()).unwrap();
        let got = msg
            .cmsgs()
            .unwrap()
            .any(|c| matches!(c, ControlMessageOwned::ScmRights(f) if f.len() == 1));
        assert!(got);
        std::fs::remove_file(&path).unwrap();
    }
}
