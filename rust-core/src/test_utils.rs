//! Helpers shared by the crate's tests: scratch directories, children, private network
//! namespaces, the log of the fakes, and the allocator that enforces "no allocation between
//! clone and exec".
//!
//! Tests that need root are marked `#[cfg_attr(not(feature = "test_as_root"), ignore)]` (as
//! rtnetlink does), so a run without the feature lists them as ignored instead of passing them
//! silently; tests/run.sh enables the feature when it runs as root and fails in CI otherwise.

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use nix::sched::{CloneFlags, setns, unshare};

/// A unique scratch directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "rt-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A name unique in this test run, for cgroups and links: `<tag>-<pid>-<n>`.
pub fn unique_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// True as root. Root tests are gated by the `test_as_root` feature; this is for the few
/// checks inside an ordinary test that only make sense with privileges.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs `body` in a new thread inside a new network namespace; panics propagate. Links, routes,
/// iptables rules and net sysctls it touches belong to that namespace, which dies with the
/// thread: the host's are never touched.
pub fn in_new_netns<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let thread = std::thread::spawn(move || {
        // Without this the body would run in the host's namespace: never go on.
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        let host = fs::read_link("/proc/self/ns/net").expect("read the main thread's netns");
        let ours = fs::read_link("/proc/thread-self/ns/net").expect("read own netns");
        assert_ne!(host, ours, "not in a private network namespace");
        body()
    });
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `body` on `n` threads that all joined the calling thread's network namespace, and
/// returns their results.
pub fn on_threads_here<T: Send + 'static>(
    n: usize,
    body: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let ns = fs::File::open("/proc/thread-self/ns/net").expect("open own netns");
    let body = Arc::new(body);
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let ns = ns.try_clone().expect("dup netns fd");
            let body = body.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns");
                barrier.wait();
                body(i)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        .collect()
}

/// Interface names in /proc/<which>/net/dev (`thread-self` for the calling thread's netns).
pub fn links_in(which: &str) -> Vec<String> {
    let dev = fs::read_to_string(format!("/proc/{which}/net/dev")).expect("read net/dev");
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// Interface names in the calling thread's namespace.
pub fn links() -> Vec<String> {
    links_in("thread-self")
}

pub fn has_link(name: &str) -> bool {
    links().iter().any(|l| l == name)
}

/// An IPv4 address of a link in the calling thread's namespace by ioctl: SIOCGIFADDR (the
/// primary address) or SIOCGIFBRDADDR (its broadcast address).
pub fn ipv4_ioctl(name: &str, request: libc::c_ulong) -> Option<Ipv4Addr> {
    // SAFETY: plain socket(2); the result is checked and owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0);
    // SAFETY: fd was just opened and is owned only here.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zeroes is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: a valid socket and ifreq for SIOCGIF*ADDR.
    if unsafe { libc::ioctl(sock.as_raw_fd(), request, &mut ifr) } < 0 {
        return None;
    }
    // SAFETY: the kernel filled ifru_addr with a sockaddr_in for AF_INET.
    let sin: libc::sockaddr_in =
        unsafe { std::ptr::read_unaligned((&raw const ifr.ifr_ifru.ifru_addr).cast()) };
    Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()))
}

/// The primary IPv4 address of a link in the calling thread's namespace.
pub fn ipv4_of(name: &str) -> Option<Ipv4Addr> {
    ipv4_ioctl(name, libc::SIOCGIFADDR)
}

/// A forked child that sleeps until killed; killed and reaped on drop (also when a test fails).
pub struct Sleeper {
    pub pid: libc::pid_t,
    reaped: bool,
}

impl Sleeper {
    pub fn spawn() -> Self {
        Self::fork()
    }

    /// Takes over a forked child of this process that never returns on its own (killed and
    /// reaped on drop, as a spawned one).
    pub fn from_pid(pid: libc::pid_t) -> Self {
        Sleeper { pid, reaped: false }
    }

    fn fork() -> Self {
        let mut ready = [0 as libc::c_int; 2];
        // SAFETY: a valid array of two ints.
        assert_eq!(
            unsafe { libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: the child only makes async-signal-safe calls and never returns.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: async-signal-safe syscalls only, in the forked child.
            unsafe {
                let ok: u8 = 1;
                libc::write(ready[1], (&ok as *const u8).cast(), 1);
                loop {
                    libc::pause();
                }
            }
        }
        let child = Sleeper { pid, reaped: false };
        // SAFETY: the two ends are ours, each owned once here.
        let (r, w) = unsafe {
            (
                OwnedFd::from_raw_fd(ready[0]),
                OwnedFd::from_raw_fd(ready[1]),
            )
        };
        drop(w);
        let mut ok = 0u8;
        // SAFETY: reading one byte into a valid buffer.
        let n = unsafe { libc::read(r.as_raw_fd(), (&mut ok as *mut u8).cast(), 1) };
        assert!(n == 1 && ok == 1, "the sleeper failed to start");
        child
    }

    /// Kills and reaps the child: its pid is then free for reuse.
    pub fn kill(&mut self) {
        if !self.reaped {
            // SAFETY: our own child.
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
            self.reaped = true;
        }
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The ordered record of what the fakes were asked, shared by the fake kernel and the fake
/// netlink client so that a test sees one sequence. A probe, when set, is called with every
/// entry and its answer appended: it shows what the filesystem looked like at that moment.
type Probe = Box<dyn Fn(&str) -> String + Send>;

#[derive(Clone, Default)]
pub struct CallLog {
    entries: Arc<Mutex<Vec<String>>>,
    probe: Arc<Mutex<Option<Probe>>>,
}

impl std::fmt::Debug for CallLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries().iter()).finish()
    }
}

impl CallLog {
    pub fn push(&self, entry: String) {
        let probed = match &*self.probe.lock().unwrap() {
            Some(probe) => {
                let extra = probe(&entry);
                if extra.is_empty() {
                    entry
                } else {
                    format!("{entry} [{extra}]")
                }
            }
            None => entry,
        };
        self.entries.lock().unwrap().push(probed);
    }

    pub fn entries(&self) -> Vec<String> {
        self.entries.lock().unwrap().clone()
    }

    pub fn set_probe(&self, probe: impl Fn(&str) -> String + Send + 'static) {
        *self.probe.lock().unwrap() = Some(Box::new(probe));
    }

    /// The entries that start with one of `prefixes`, in order.
    pub fn only(&self, prefixes: &[&str]) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| prefixes.iter().any(|p| e.starts_with(p)))
            .collect()
    }
}

pub use alloc_guard::counted;

/// The test binary's global allocator: the system allocator, except in a process made by
/// `process::clone`, where any allocation, reallocation or free writes a message and exits
/// with [`alloc_guard::EXIT_CODE`]. No panic machinery: that would allocate too. It also counts
/// the allocations of the threads that ask for it ([`counted`]). C code (malloc) is not seen:
/// tests/c/network_test.c counts that.
pub mod alloc_guard {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static COUNT_HERE: Cell<bool> = const { Cell::new(false) };
    }

    fn note_allocation() {
        if COUNT_HERE.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Runs `body` and returns its result with the number of Rust allocations it made on this
    /// thread.
    pub fn counted<T>(body: impl FnOnce() -> T) -> (T, usize) {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNT_HERE.with(|c| c.set(true));
        let out = body();
        COUNT_HERE.with(|c| c.set(false));
        (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
    }

    /// The exit status of a cloned child that allocated (before exec).
    pub const EXIT_CODE: i32 = 86;

    static IN_CLONED_CHILD: AtomicBool = AtomicBool::new(false);

    /// Called right after clone in the child.
    pub fn enter_cloned_child() {
        IN_CLONED_CHILD.store(true, Ordering::Relaxed);
    }

    fn refuse() -> ! {
        let msg = b"test allocator: allocation in a cloned child before exec\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe; msg is a static buffer.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(EXIT_CODE)
        }
    }

    pub struct ChildGuard;

    // SAFETY: every call forwards to System with the same arguments, or never returns.
    unsafe impl GlobalAlloc for ChildGuard {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if IN_CLONED_CHILD.load(Ordering::Relaxed) {
                refuse();
            }
            note_allocation();
            // SAFETY: forwarded unchanged.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if IN_CLONED_CHILD.load(Ordering::Relaxed) {
                refuse();
            }
            // SAFETY: forwarded unchanged.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if IN_CLONED_CHILD.load(Ordering::Relaxed) {
                refuse();
            }
            note_allocation();
            // SAFETY: forwarded unchanged.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if IN_CLONED_CHILD.load(Ordering::Relaxed) {
                refuse();
            }
            note_allocation();
            // SAFETY: forwarded unchanged.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GUARD: ChildGuard = ChildGuard;

    #[test]
    fn the_allocation_counter_counts() {
        let (_, n) = counted(|| std::hint::black_box(vec![1u8; 16]));
        assert_eq!(n, 1);
    }

    #[test]
    fn a_cloned_child_that_allocates_is_stopped() {
        use crate::process::clone::{Forked, clone};
        match clone(0).expect("clone") {
            Forked::Child => {
                let v = std::hint::black_box(vec![1u8; 64]);
                // SAFETY: only reached if the allocator let the allocation through.
                unsafe { libc::_exit(i32::from(v[0])) }
            }
            Forked::Parent(pid) => {
                let mut status = 0;
                // SAFETY: our own child.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(libc::WIFEXITED(status), "{status:#x}");
                assert_eq!(libc::WEXITSTATUS(status), EXIT_CODE);
            }
        }
        // And one that does not allocate exits as it says.
        match clone(0).expect("clone") {
            // SAFETY: _exit is async-signal-safe.
            Forked::Child => unsafe { libc::_exit(3) },
            Forked::Parent(pid) => {
                let mut status = 0;
                // SAFETY: our own child.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert_eq!(libc::WEXITSTATUS(status), 3);
            }
        }
    }
}
