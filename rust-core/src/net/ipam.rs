//! Address arithmetic for a bridge subnet and address leases.
//!
//! A lease is one file per address in a per-bridge directory (`<state root>/leases/<bridge>/`,
//! by default `/run/docker-run/leases/<bridge>/`), named after the address and holding the owner's pid and
//! start time (`/proc/<pid>/stat` field 22). Every read-modify-write of the directory happens
//! under `flock` on `<dir>/.lock`, so concurrent threads and processes never hand out the same
//! address. A lease whose owner is dead, or whose pid now belongs to a different process (its
//! start time differs), is free again: a crashed runtime leaks nothing for long.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{InvalidNet, NetError};
use crate::procfs::process_start_time;

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// The network address of `subnet` (host bits cleared).
pub fn network(subnet: (Ipv4Addr, u8)) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.0) & mask(subnet.1))
}

/// The broadcast address of `subnet`.
pub fn broadcast(subnet: (Ipv4Addr, u8)) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.0) | !mask(subnet.1))
}

/// The gateway (the bridge's own address): the first host address of `subnet`.
pub fn gateway(subnet: (Ipv4Addr, u8)) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(network(subnet)).wrapping_add(1))
}

/// Whether `ip` is inside `subnet`.
pub fn contains(subnet: (Ipv4Addr, u8), ip: Ipv4Addr) -> bool {
    u32::from(ip) & mask(subnet.1) == u32::from(network(subnet))
}

/// Whether two subnets share any address (one contains the other).
pub fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let shorter = a.1.min(b.1);
    u32::from(a.0) & mask(shorter) == u32::from(b.0) & mask(shorter)
}

/// The container's MAC, derived from its address like Docker does: 02:42 followed by the four
/// address bytes (locally administered, unicast), so a reused address keeps its MAC and
/// neighbours' ARP caches stay right.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// Who holds an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    pid: libc::pid_t,
    start: u64,
}

impl Owner {
    fn of(pid: libc::pid_t) -> Result<Self, NetError> {
        if pid <= 0 {
            return Err(InvalidNet::LeaseOwner(pid).into());
        }
        let start = process_start_time(pid).ok_or(InvalidNet::LeaseOwnerGone(pid))?;
        Ok(Owner { pid, start })
    }

    fn parse(text: &str) -> Option<Self> {
        let mut it = text.split_whitespace();
        let pid = it.next()?.parse().ok()?;
        let start = it.next()?.parse().ok()?;
        Some(Owner { pid, start })
    }

    /// The recorded process still runs (same pid, same start time).
    fn is_alive(&self) -> bool {
        process_start_time(self.pid) == Some(self.start)
    }
}

/// An exclusive `flock` on `<dir>/.lock`, released when dropped (closing the file).
struct DirLock {
    _file: fs::File,
}

impl DirLock {
    fn take(dir: &Path) -> Result<Self, NetError> {
        crate::private_fs::create_dir_all(dir)
            .map_err(|e| NetError::io(format!("create lease directory {}", dir.display()), e))?;
        let path = dir.join(".lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(crate::private_fs::FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| NetError::io(format!("open {}", path.display()), e))?;
        loop {
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(NetError::io(format!("lock {}", path.display()), e));
            }
        }
        // `remove_unused_dir` may have removed the lock file (and the directory) while we
        // waited: a lock on that file guards nothing any more, so start again.
        use std::os::unix::fs::MetadataExt;
        let same = |a: &fs::Metadata, b: &fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
        let current = match (fs::symlink_metadata(&path), file.metadata()) {
            (Ok(now), Ok(held)) => same(&now, &held),
            _ => false,
        };
        if current {
            return Ok(DirLock { _file: file });
        }
        drop(file);
        Self::take(dir)
    }
}

fn lease_path(dir: &Path, ip: Ipv4Addr) -> PathBuf {
    dir.join(ip.to_string())
}

/// The recorded owners of every leased address in `dir` (call with the lock held). Files that
/// do not parse count as free: they can only come from a crash mid-write.
fn read_leases(dir: &Path) -> Result<HashMap<Ipv4Addr, Owner>, NetError> {
    let mut leases = HashMap::new();
    let entries =
        fs::read_dir(dir).map_err(|e| NetError::io(format!("read {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| NetError::io(format!("read {}", dir.display()), e))?;
        let Some(ip) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<Ipv4Addr>().ok())
        else {
            continue;
        };
        if let Some(owner) = fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| Owner::parse(&t))
        {
            leases.insert(ip, owner);
        }
    }
    Ok(leases)
}

/// Runs `f` with the number of live leases in `dir` while holding the directory's lock: the
/// first container of a bridge sets up what they share (NAT) and the last one removes it,
/// without racing containers that start or stop meanwhile.
pub fn with_live_leases<T>(dir: &Path, f: impl FnOnce(usize) -> T) -> Result<T, NetError> {
    let _lock = DirLock::take(dir)?;
    let live = read_leases(dir)?.values().filter(|o| o.is_alive()).count();
    Ok(f(live))
}

/// Removes the leases whose owners are gone (a later lease would reclaim them anyway; this is
/// for `cleanup`, so that nothing is left). Returns how many were removed.
pub fn remove_dead(dir: &Path) -> Result<usize, NetError> {
    let _lock = DirLock::take(dir)?;
    let mut removed = 0;
    for (ip, owner) in read_leases(dir)? {
        if !owner.is_alive() && fs::remove_file(lease_path(dir, ip)).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes the lease directory `dir` when no live container holds a lease in it and `unused()`
/// agrees (both under its lock): leases of dead owners, the bridge's records (`.subnet`,
/// temporary files) and the lock file go, then the directory. Anything else in it (a
/// subdirectory, a symbolic link) keeps it. Returns whether it was removed.
pub fn remove_unused_dir(dir: &Path, unused: impl FnOnce() -> bool) -> Result<bool, NetError> {
    let lock = DirLock::take(dir)?;
    if read_leases(dir)?.values().any(Owner::is_alive) || !unused() {
        return Ok(false);
    }
    let io = |e| NetError::io(format!("remove {}", dir.display()), e);
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if !entry.file_type().map_err(io)?.is_file() {
            return Ok(false);
        }
        if entry.file_name() != ".lock" {
            files.push(entry.path());
        }
    }
    for file in files {
        fs::remove_file(file).map_err(io)?;
    }
    // The lock file last, while still holding it: whoever waits on it then sees that it is
    // gone and starts again (DirLock::take).
    fs::remove_file(dir.join(".lock")).map_err(io)?;
    fs::remove_dir(dir).map_err(io)?;
    drop(lock);
    Ok(true)
}

/// Records `owner` for `ip` (lock held): written to a temporary file and renamed, so a crash
/// never leaves a half-written lease.
fn write_lease(dir: &Path, ip: Ipv4Addr, owner: Owner) -> Result<PathBuf, NetError> {
    let path = lease_path(dir, ip);
    let tmp = dir.join(format!(".{ip}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = crate::private_fs::create(&tmp)?;
        writeln!(f, "{} {}", owner.pid, owner.start)?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|e| NetError::io(format!("write lease {}", path.display()), e))?;
    Ok(path)
}

/// An address leased to a process. Released by [`Lease::release`] or on drop, unless
/// [`Lease::keep`] hands it over to the owner's lifetime.
#[derive(Debug)]
pub struct Lease {
    addr: Ipv4Addr,
    dir: PathBuf,
    owner: Owner,
    armed: bool,
}

impl Lease {
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn owner_pid(&self) -> libc::pid_t {
        self.owner.pid
    }

    /// Frees the address now. Leaves the record alone if it no longer names this owner (it was
    /// reclaimed by someone else after the owner died).
    pub fn release(mut self) -> Result<(), NetError> {
        self.armed = false;
        release_addr(&self.dir, self.addr, self.owner.pid)
    }

    /// Disarms the drop: the record stays until [`release_addr`] or until the owner dies and
    /// the address is reclaimed.
    pub fn keep(mut self) -> Ipv4Addr {
        self.armed = false;
        self.addr
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.armed {
            let _ = release_addr(&self.dir, self.addr, self.owner.pid);
        }
    }
}

/// Frees `addr` in `dir` if it is recorded for `owner_pid`; a missing record is fine.
pub fn release_addr(dir: &Path, addr: Ipv4Addr, owner_pid: libc::pid_t) -> Result<(), NetError> {
    let _lock = DirLock::take(dir)?;
    let path = lease_path(dir, addr);
    let recorded = match fs::read_to_string(&path) {
        Ok(text) => Owner::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(NetError::io(format!("read lease {}", path.display()), e)),
    };
    if recorded.is_some_and(|o| o.pid != owner_pid) {
        return Ok(());
    }
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetError::io(format!("remove lease {}", path.display()), e)),
    }
}

/// Leases an address of `subnet` to `owner_pid`: `requested` if given (refused if a live
/// process holds it), else the lowest free host address. The network, `gateway` and broadcast
/// addresses are never handed out; leases of dead owners are reclaimed.
pub fn lease(
    dir: &Path,
    subnet: (Ipv4Addr, u8),
    gateway: Ipv4Addr,
    requested: Option<Ipv4Addr>,
    owner_pid: libc::pid_t,
) -> Result<Lease, NetError> {
    let owner = Owner::of(owner_pid)?;
    let (net, prefix) = (network(subnet), subnet.1);
    if prefix > 30 {
        return Err(InvalidNet::NoRoom((net, prefix).into()).into());
    }
    if let Some(ip) = requested {
        super::validate_container_ip(ip, (net, prefix))?;
        if ip == gateway {
            return Err(InvalidNet::Gateway(ip).into());
        }
    }

    let _lock = DirLock::take(dir)?;
    let leases = read_leases(dir)?;
    let taken = |ip: &Ipv4Addr| leases.get(ip).filter(|o| o.is_alive());
    let addr = match requested {
        Some(ip) => {
            if let Some(o) = taken(&ip) {
                return Err(NetError::AddressInUse { ip, pid: o.pid });
            }
            ip
        }
        None => {
            let first = u32::from(net) + 1;
            let last = u32::from(broadcast((net, prefix))) - 1;
            (first..=last)
                .map(Ipv4Addr::from)
                .find(|ip| *ip != gateway && taken(ip).is_none())
                .ok_or_else(|| NetError::SubnetFull {
                    subnet: (net, prefix).into(),
                    count: last - first + 1 - u32::from(contains((net, prefix), gateway)),
                })?
        }
    };
    write_lease(dir, addr, owner)?;
    Ok(Lease {
        addr,
        dir: dir.to_owned(),
        owner,
        armed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{Sleeper, TempDir};

    const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);
    const GW: Ipv4Addr = Ipv4Addr::new(10, 88, 0, 1);

    fn me() -> libc::pid_t {
        std::process::id() as libc::pid_t
    }

    #[test]
    fn arithmetic() {
        let s = (Ipv4Addr::new(10, 88, 3, 4), 16);
        assert_eq!(network(s), Ipv4Addr::new(10, 88, 0, 0));
        assert_eq!(broadcast(s), Ipv4Addr::new(10, 88, 255, 255));
        assert_eq!(gateway(s), GW);
        assert!(contains(s, Ipv4Addr::new(10, 88, 200, 1)));
        assert!(!contains(s, Ipv4Addr::new(10, 89, 0, 1)));
        assert!(overlaps(SUBNET, (Ipv4Addr::new(10, 0, 0, 0), 8)));
        assert!(overlaps(SUBNET, (Ipv4Addr::new(10, 88, 5, 0), 24)));
        assert!(!overlaps(SUBNET, (Ipv4Addr::new(10, 89, 0, 0), 16)));
        assert_eq!(
            mac_for(Ipv4Addr::new(10, 88, 0, 2)),
            [0x02, 0x42, 10, 88, 0, 2]
        );
    }

    #[test]
    fn lowest_free_then_release() {
        let d = TempDir::new("ipam");
        let a = lease(&d.0, SUBNET, GW, None, me()).unwrap();
        let b = lease(&d.0, SUBNET, GW, None, me()).unwrap();
        assert_eq!(a.addr(), Ipv4Addr::new(10, 88, 0, 2));
        assert_eq!(b.addr(), Ipv4Addr::new(10, 88, 0, 3));
        assert!(d.0.join("10.88.0.2").exists());
        a.release().unwrap();
        assert!(!d.0.join("10.88.0.2").exists());
        let c = lease(&d.0, SUBNET, GW, None, me()).unwrap();
        assert_eq!(
            c.addr(),
            Ipv4Addr::new(10, 88, 0, 2),
            "released address is reused"
        );
        drop(c);
        assert!(!d.0.join("10.88.0.2").exists(), "drop releases");
        let kept = lease(&d.0, SUBNET, GW, None, me()).unwrap().keep();
        assert!(
            d.0.join(kept.to_string()).exists(),
            "keep leaves the record"
        );
        release_addr(&d.0, kept, me()).unwrap();
        assert!(!d.0.join(kept.to_string()).exists());
        drop(b);
    }

    #[test]
    fn concurrent_leases_are_distinct() {
        let d = TempDir::new("ipam");
        let dir = std::sync::Arc::new(d.0.clone());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
        let threads: Vec<_> = (0..20)
            .map(|_| {
                let (dir, barrier) = (dir.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    lease(&dir, SUBNET, GW, None, me()).unwrap().keep()
                })
            })
            .collect();
        let mut got: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        got.sort();
        let want: Vec<_> = (2..22).map(|i| Ipv4Addr::new(10, 88, 0, i)).collect();
        assert_eq!(got, want);
        assert_eq!(read_leases(&d.0).unwrap().len(), 20);
    }

    /// Forked children, killed and reaped on drop (also when the test fails).
    struct Children(Vec<libc::pid_t>);

    impl Drop for Children {
        fn drop(&mut self) {
            for &pid in &self.0 {
                // SAFETY: our own children.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                }
            }
        }
    }

    #[test]
    fn concurrent_leases_across_processes() {
        // flock also serialises separate processes. Each forked child leases for itself, reports
        // the address through a pipe and stays alive (a dead owner's lease would be reclaimed).
        let d = TempDir::new("ipam");
        let mut fds = [0; 2];
        // SAFETY: a valid array of two ints.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let mut children = Children(Vec::new());
        for _ in 0..8 {
            // SAFETY: the child leases (file syscalls, small allocations; glibc keeps malloc
            // usable after fork), writes 4 bytes and waits to be killed.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0);
            if pid == 0 {
                let addr = lease(&d.0, SUBNET, GW, None, me()).map(Lease::keep);
                let bytes = addr.map_or([0; 4], |a| a.octets());
                // SAFETY: writing 4 bytes from a valid buffer, then waiting for SIGKILL.
                unsafe {
                    libc::write(fds[1], bytes.as_ptr().cast(), 4);
                    loop {
                        libc::pause();
                    }
                }
            }
            children.0.push(pid);
        }
        // SAFETY: our write end, closed once, so a dead child gives EOF instead of a hang.
        unsafe { libc::close(fds[1]) };
        let mut got = Vec::new();
        for _ in 0..8 {
            let mut b = [0u8; 4];
            // SAFETY: reading 4 bytes into a valid buffer (pipe writes of 4 bytes are atomic).
            let n = unsafe { libc::read(fds[0], b.as_mut_ptr().cast(), 4) };
            assert_eq!(n, 4, "a child failed to report");
            got.push(Ipv4Addr::from(b));
        }
        // SAFETY: our read end, closed once.
        unsafe { libc::close(fds[0]) };
        got.sort();
        let want: Vec<_> = (2..10).map(|i| Ipv4Addr::new(10, 88, 0, i)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn dead_owner_is_reclaimed() {
        let d = TempDir::new("ipam");
        let mut child = Sleeper::spawn();
        let l = lease(&d.0, SUBNET, GW, None, child.pid).unwrap().keep();
        assert_eq!(l, Ipv4Addr::new(10, 88, 0, 2));
        let next = lease(&d.0, SUBNET, GW, None, me()).unwrap();
        assert_eq!(
            next.addr(),
            Ipv4Addr::new(10, 88, 0, 3),
            "live owner keeps it"
        );
        let err = lease(&d.0, SUBNET, GW, Some(l), me()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "address 10.88.0.2 is already in use by container pid {}",
                child.pid
            )
        );
        child.kill();
        let again = lease(&d.0, SUBNET, GW, None, me()).unwrap();
        assert_eq!(again.addr(), l, "dead owner's lease is reclaimed");
    }

    #[test]
    fn reused_pid_is_not_the_owner() {
        // Our pid with another start time: the process that leased it is gone.
        let d = TempDir::new("ipam");
        fs::write(d.0.join("10.88.0.5"), format!("{} 1\n", me())).unwrap();
        let l = lease(&d.0, SUBNET, GW, Some(Ipv4Addr::new(10, 88, 0, 5)), me()).unwrap();
        assert_eq!(l.addr(), Ipv4Addr::new(10, 88, 0, 5));
        let recorded = fs::read_to_string(d.0.join("10.88.0.5")).unwrap();
        assert_eq!(Owner::parse(&recorded), Some(Owner::of(me()).unwrap()));
    }

    #[test]
    fn static_requests() {
        let d = TempDir::new("ipam");
        let ip = Ipv4Addr::new(10, 88, 0, 5);
        let a = lease(&d.0, SUBNET, GW, Some(ip), me()).unwrap();
        assert_eq!(a.addr(), ip);
        let err = lease(&d.0, SUBNET, GW, Some(ip), me()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "address 10.88.0.5 is already in use by container pid {}",
                me()
            )
        );
        for bad in [
            GW,
            Ipv4Addr::new(10, 88, 0, 0),
            Ipv4Addr::new(10, 88, 255, 255),
            Ipv4Addr::new(10, 9, 0, 2),
        ] {
            assert!(
                matches!(
                    lease(&d.0, SUBNET, GW, Some(bad), me()),
                    Err(NetError::Invalid(_))
                ),
                "{bad}"
            );
        }
        // Dynamic leases go around a static one.
        let dynamic: Vec<_> = (0..4)
            .map(|_| lease(&d.0, SUBNET, GW, None, me()).unwrap())
            .collect();
        let addrs: Vec<_> = dynamic.iter().map(|l| l.addr().octets()[3]).collect();
        assert_eq!(addrs, [2, 3, 4, 6]);
    }

    #[test]
    fn exhaustion_is_a_clear_error() {
        let d = TempDir::new("ipam");
        let subnet = (Ipv4Addr::new(10, 1, 2, 0), 29); // .1 gateway, .2-.6 hosts
        let held: Vec<_> = (0..5)
            .map(|_| lease(&d.0, subnet, gateway(subnet), None, me()).unwrap())
            .collect();
        assert_eq!(held.last().unwrap().addr(), Ipv4Addr::new(10, 1, 2, 6));
        let err = lease(&d.0, subnet, gateway(subnet), None, me()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no free address in subnet 10.1.2.0/29: all 5 are leased"
        );
        drop(held);
        lease(&d.0, subnet, gateway(subnet), None, me()).unwrap();
    }

    #[test]
    fn bad_owner() {
        let d = TempDir::new("ipam");
        assert!(lease(&d.0, SUBNET, GW, None, 0).is_err());
        let err = lease(&d.0, SUBNET, GW, None, i32::MAX).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
