//! Test helpers for real-kernel tests: every body runs in a thread that unshared
//! CLONE_NEWNET, so links, routes, iptables rules and net sysctls it touches belong to a private
//! namespace that dies with the thread. The host's are never touched.

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::sched::{CloneFlags, setns, unshare};

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: needs root");
        return false;
    }
    true
}

/// Runs `body` in a new thread inside a new network namespace; panics propagate. Returns
/// without running it (printing why) when not root.
pub fn in_new_netns(body: impl FnOnce() + Send + 'static) {
    if !is_root() {
        return;
    }
    let thread = std::thread::spawn(move || {
        // Without this the body would run in the host's namespace: never go on.
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        let host = fs::read_link("/proc/self/ns/net").expect("read the main thread's netns");
        let ours = fs::read_link("/proc/thread-self/ns/net").expect("read own netns");
        assert_ne!(host, ours, "not in a private network namespace");
        body();
    });
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Runs `body` on `n` threads that all joined the calling thread's network namespace, and
/// returns their results.
pub fn on_threads_here<T: Send + 'static>(
    n: usize,
    body: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let ns = fs::File::open("/proc/thread-self/ns/net").expect("open own netns");
    let body = std::sync::Arc::new(body);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
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

/// Interface names in the calling thread's namespace.
pub fn links() -> Vec<String> {
    let dev = fs::read_to_string("/proc/thread-self/net/dev").expect("read net/dev");
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_owned())
        .collect()
}

pub fn has_link(name: &str) -> bool {
    links().iter().any(|l| l == name)
}

/// The primary IPv4 address of a link in the calling thread's namespace (SIOCGIFADDR).
pub fn ipv4_of(name: &str) -> Option<Ipv4Addr> {
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
    // SAFETY: a valid socket and ifreq for SIOCGIFADDR.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFADDR, &mut ifr) } < 0 {
        return None;
    }
    // SAFETY: the kernel filled ifru_addr with a sockaddr_in for AF_INET.
    let sin: libc::sockaddr_in =
        unsafe { std::ptr::read_unaligned((&raw const ifr.ifr_ifru.ifru_addr).cast()) };
    Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()))
}

/// A forked child that sleeps until killed; killed and reaped on drop (also when a test fails).
pub struct Sleeper {
    pub pid: libc::pid_t,
    reaped: bool,
}

impl Sleeper {
    pub fn spawn() -> Self {
        // SAFETY: the child only calls pause/_exit, which are async-signal-safe.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            // SAFETY: async-signal-safe calls only in the forked child.
            unsafe {
                loop {
                    libc::pause();
                }
            }
        }
        Sleeper { pid, reaped: false }
    }

    /// Takes over a forked child of this process that never returns on its own (killed and
    /// reaped on drop, as a spawned one).
    pub fn from_pid(pid: libc::pid_t) -> Self {
        Sleeper { pid, reaped: false }
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

/// A unique scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "rt-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Counts the allocations of the threads that ask for it ([`counted`]); for every other thread
/// it is the system allocator. It serves the whole test binary. C code (malloc) is not seen:
/// tests/c/network_test.c counts that.
struct Counting;

static ALLOCATIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
thread_local! {
    static COUNT_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note_allocation() {
    if COUNT_HERE.try_with(std::cell::Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

// SAFETY: every call goes to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller's contract, passed on.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller's contract, passed on.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: the caller's contract, passed on.
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Runs `body` and returns its result with the number of Rust allocations it made on this
/// thread.
pub fn counted<T>(body: impl FnOnce() -> T) -> (T, usize) {
    use std::sync::atomic::Ordering;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNT_HERE.with(|c| c.set(true));
    let out = body();
    COUNT_HERE.with(|c| c.set(false));
    (out, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

#[test]
fn the_allocation_counter_counts() {
    let (_, n) = counted(|| std::hint::black_box(vec![1u8; 16]));
    assert_eq!(n, 1);
}
