//! Tests against the real cgroup v1 hierarchies of this host (root only), plus helpers shared
//! with the fake-tree tests in v1.rs and v2.rs.
//!
//! Every test uses its own cgroup name (test-<pid>-<n>), so they run in parallel; the `Cgroup`
//! and `Child` guards clean up when an assertion fails.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe};

use super::*;

/// A cgroup name of this test run: test-<pid>-<n>.
pub(super) fn unique_name() -> String {
    crate::test_utils::unique_name("test")
}

pub(super) use crate::test_utils::TempDir;

pub(super) fn put(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

pub(super) fn cat(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const ROOT: &str = DEFAULT_ROOT;

/// True when the real-host tests can run: a v1 (Legacy or Hybrid) host (they are root tests).
fn v1_host() -> bool {
    match detect(Path::new(ROOT)) {
        Ok(l) if !l.is_v2() => true,
        other => {
            eprintln!("skipped: not a cgroup v1 host ({other:?})");
            false
        }
    }
}

fn host_has(controller: &str) -> bool {
    Path::new(ROOT)
        .join(controller)
        .join("cgroup.procs")
        .exists()
}

fn memsw_supported() -> bool {
    Path::new(ROOT)
        .join("memory/memory.memsw.limit_in_bytes")
        .exists()
}

/// Directories container `name` would have on every v1 controller.
fn all_dirs(name: &str) -> Vec<PathBuf> {
    v1::CONTROLLERS
        .iter()
        .map(|c| Path::new(ROOT).join(c).join(PARENT).join(name))
        .collect()
}

fn assert_gone(name: &str) {
    for d in all_dirs(name) {
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

fn res(pairs: &[(&str, &str)]) -> Resources {
    let mut r = Resources::default();
    for (k, v) in pairs {
        set_limit(&mut r, k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
    }
    r
}

#[derive(Clone, Copy)]
enum Action {
    /// Just wait to be killed.
    Sleep,
    /// Map and touch this many bytes, report, then wait.
    Touch(usize),
}

/// A forked child that waits for `start`; killed and reaped on drop.
struct Child {
    pid: Pid,
    go: Option<OwnedFd>,
    done: OwnedFd,
    reaped: bool,
}

impl Child {
    fn fork(action: Action) -> Child {
        let (go_r, go_w) = pipe().expect("pipe");
        let (done_r, done_w) = pipe().expect("pipe");
        // SAFETY: the child only makes raw system calls (read, mmap, write, pause) and leaves
        // with _exit, so it takes no lock another thread of the test harness could hold.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => child_main(go_r.as_raw_fd(), done_w.as_raw_fd(), action),
            ForkResult::Parent { child } => {
                drop(go_r);
                drop(done_w);
                Child {
                    pid: child,
                    go: Some(go_w),
                    done: done_r,
                    reaped: false,
                }
            }
        }
    }

    fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    fn start(&mut self) {
        let go = self.go.take().expect("started twice");
        nix::unistd::write(&go, b"g").expect("write go");
    }

    /// Waits (up to 30 s) for the child to report its action done; false when it died first.
    fn wait_done(&self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(self.done.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(30_000u16)).unwrap_or(0) == 0 {
            return false;
        }
        let mut b = [0u8; 1];
        matches!(nix::unistd::read(self.done.as_raw_fd(), &mut b), Ok(1))
    }

    fn kill(&self) {
        let _ = kill(self.pid, Signal::SIGKILL);
    }

    fn wait(&mut self) -> WaitStatus {
        let st = waitpid(self.pid, None).expect("waitpid");
        self.reaped = true;
        st
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            let _ = waitpid(self.pid, None);
        }
    }
}

fn child_main(go: RawFd, done: RawFd, action: Action) -> ! {
    // SAFETY: raw system calls on fds and memory this process owns; never returns.
    unsafe {
        let mut b = 0u8;
        if libc::read(go, (&raw mut b).cast(), 1) != 1 {
            libc::_exit(3);
        }
        if let Action::Touch(n) = action {
            let p = libc::mmap(
                std::ptr::null_mut(),
                n,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                libc::_exit(2);
            }
            let p = p.cast::<u8>();
            let mut off = 0;
            while off < n {
                p.add(off).write_volatile(1);
                off += 4096;
            }
        }
        libc::write(done, (&raw const b).cast(), 1);
        loop {
            libc::pause();
        }
    }
}

/// The /proc/<pid>/cgroup line of `controller`, e.g. "4:memory:/docker-run/x".
fn proc_cgroup(pid: i32, controller: &str) -> String {
    cat(Path::new(&format!("/proc/{pid}/cgroup")))
        .lines()
        .find(|l| {
            l.split(':')
                .nth(1)
                .is_some_and(|cs| cs.split(',').any(|c| c == controller))
        })
        .unwrap_or_default()
        .to_string()
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_limits_read_back_and_remove() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    let mut pairs = vec![
        ("memory", "64m"),
        ("cpus", "0.5"),
        ("cpu-shares", "512"),
        ("cpuset-cpus", "0"),
        ("cpuset-mems", "0"),
        ("pids-limit", "50"),
    ];
    if memsw_supported() {
        pairs.push(("memory-swap", "128m"));
    }
    let cg = Cgroup::create(&Root::new(ROOT), &name, &res(&pairs)).unwrap();
    assert!(!cg.layout().is_v2());
    assert_eq!(cg.get("memory").unwrap(), (64u64 << 20).to_string());
    if memsw_supported() {
        assert_eq!(cg.get("memory-swap").unwrap(), (128u64 << 20).to_string());
    }
    assert_eq!(cg.get("cpus").unwrap(), "0.5");
    assert_eq!(cg.get("cpu-quota").unwrap(), "50000");
    assert_eq!(cg.get("cpu-period").unwrap(), "100000");
    assert_eq!(cg.get("cpu-shares").unwrap(), "512");
    assert_eq!(cg.get("cpuset-cpus").unwrap(), "0");
    assert_eq!(cg.get("cpuset-mems").unwrap(), "0");
    assert_eq!(cg.get("pids-limit").unwrap(), "50");
    // The raw files hold what we asked for.
    let mem = Path::new(ROOT).join("memory").join(PARENT).join(&name);
    assert_eq!(
        cat(&mem.join("memory.limit_in_bytes")).trim(),
        (64u64 << 20).to_string()
    );
    // Every controller of the host got a directory, at the absolute path.
    let paths = cg.paths();
    for c in v1::CONTROLLERS.iter().filter(|c| host_has(c)) {
        let d = Path::new(ROOT).join(c).join(PARENT).join(&name);
        assert!(d.is_dir(), "{} missing", d.display());
    }
    assert!(
        paths
            .iter()
            .all(|p| p.ends_with(Path::new(PARENT).join(&name))),
        "{paths:?}"
    );
    assert_eq!(cg.procs_files().len(), paths.len());
    // Docker's device rules.
    if host_has("devices") {
        assert!(cg.restricts_devices());
        let list = cat(&Path::new(ROOT)
            .join("devices")
            .join(PARENT)
            .join(&name)
            .join("devices.list"));
        assert!(
            list.contains("c 1:3 rwm") && list.contains("c 136:* rwm"),
            "{list}"
        );
        assert!(!list.contains("a *:* rwm"), "{list}");
    }
    cg.remove().unwrap();
    assert_gone(&name);
    // The shared parent stays for other containers.
    assert!(Path::new(ROOT).join("memory").join(PARENT).is_dir());
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_add_pid_and_stats() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    let cg = Cgroup::create(
        &Root::new(ROOT),
        &name,
        &res(&[("memory", "256m"), ("pids-limit", "20")]),
    )
    .unwrap();
    let mut child = Child::fork(Action::Touch(32 << 20));
    cg.add_pid(child.pid()).unwrap();
    for c in ["memory", "pids", "cpu", "cpuset"]
        .into_iter()
        .filter(|c| host_has(c))
    {
        let line = proc_cgroup(child.pid(), c);
        assert!(
            line.ends_with(&format!(":/{PARENT}/{name}")),
            "{c}: '{line}'"
        );
    }
    for f in cg.procs_files() {
        assert!(
            cat(&f).lines().any(|l| l == child.pid().to_string()),
            "{}",
            f.display()
        );
    }
    child.start();
    assert!(child.wait_done(), "child died before touching its memory");
    let st = cg.stats().unwrap();
    let usage = st.memory_usage.unwrap();
    assert!(usage >= 30 << 20, "usage {usage}");
    assert!(st.memory_peak.unwrap() >= usage);
    assert_eq!(st.pids_current, Some(1));
    assert!(st.cpu_usage_ns.unwrap() > 0);
    assert!(!cg.oom_killed());
    child.kill();
    assert!(matches!(
        child.wait(),
        WaitStatus::Signaled(_, Signal::SIGKILL, _)
    ));
    cg.remove().unwrap();
    assert_gone(&name);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_live_update() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    let mib = |n: u64| (n << 20).to_string();
    let swap = memsw_supported();
    let mut pairs = vec![("memory", "32m")];
    if swap {
        pairs.push(("memory-swap", "64m"));
    }
    let cg = Cgroup::create(&Root::new(ROOT), &name, &res(&pairs)).unwrap();
    let mut child = Child::fork(Action::Touch(8 << 20));
    cg.add_pid(child.pid()).unwrap();
    child.start();
    assert!(child.wait_done());

    // Raising memory above the current memory+swap: memsw must be written first.
    cg.set("memory", "128m").unwrap();
    assert_eq!(cg.get("memory").unwrap(), mib(128));
    if swap {
        // The 32m swap allowance is kept.
        assert_eq!(cg.get("memory-swap").unwrap(), mib(160));
    }
    // Lowering: memory must be written first.
    cg.set("memory", "16m").unwrap();
    assert_eq!(cg.get("memory").unwrap(), mib(16));
    if swap {
        assert_eq!(cg.get("memory-swap").unwrap(), mib(48));
        let e = cg.set("memory-swap", "8m").unwrap_err().to_string();
        assert!(e.contains("memory-swap") && e.contains("'8m'"), "{e}");
        cg.set("memory-swap", "-1").unwrap();
        assert_eq!(cg.get("memory-swap").unwrap(), "-1");
    }
    cg.set("memory", "1g").unwrap();
    assert_eq!(cg.get("memory").unwrap(), mib(1024));
    // A bad value changes nothing.
    let e = cg.set("memory", "12x").unwrap_err().to_string();
    assert!(e.contains("memory") && e.contains("'12x'"), "{e}");
    assert_eq!(cg.get("memory").unwrap(), mib(1024));

    cg.set("cpus", "1").unwrap();
    assert_eq!(cg.get("cpus").unwrap(), "1");
    cg.set("cpu-period", "50000").unwrap();
    assert_eq!(cg.get("cpus").unwrap(), "2");
    cg.set("cpu-quota", "-1").unwrap();
    assert_eq!(cg.get("cpus").unwrap(), "-1");
    cg.set("cpu-shares", "2048").unwrap();
    assert_eq!(cg.get("cpu-shares").unwrap(), "2048");
    cg.set("pids-limit", "7").unwrap();
    assert_eq!(cg.get("pids-limit").unwrap(), "7");
    cg.set("pids-limit", "-1").unwrap();
    assert_eq!(cg.get("pids-limit").unwrap(), "-1");
    cg.set("cpuset-cpus", "0").unwrap();
    assert_eq!(cg.get("cpuset-cpus").unwrap(), "0");
    let e = cg.set("cpu-limit", "1").unwrap_err().to_string();
    assert!(
        e.contains("unknown limit 'cpu-limit'") && e.contains("cpu-shares"),
        "{e}"
    );
    // blkio weight needs a proportional io scheduler, which this host may lack.
    match cg.set("blkio-weight", "500") {
        Ok(()) => assert_eq!(cg.get("blkio-weight").unwrap(), "500"),
        Err(e) => assert!(
            e.to_string().contains("blkio-weight") && e.to_string().contains("not supported"),
            "{e}"
        ),
    }
    child.kill();
    child.wait();
    cg.remove().unwrap();
    assert_gone(&name);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_device_throttle() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    // Any whole disk with a non-zero size (a partition cannot be throttled).
    let mut devs: Vec<String> = std::fs::read_dir("/sys/dev/block")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    devs.sort();
    let sys = |d: &str, f: &str| std::fs::read_to_string(format!("/sys/dev/block/{d}/{f}"));
    let Some(dev) = devs
        .into_iter()
        .find(|d| sys(d, "partition").is_err() && sys(d, "size").is_ok_and(|s| s.trim() != "0"))
    else {
        eprintln!("skipped: no block device");
        return;
    };
    let cg = Cgroup::create(
        &Root::new(ROOT),
        &name,
        &res(&[("device-read-bps", &format!("{dev} 1m"))]),
    )
    .unwrap();
    assert_eq!(cg.get("device-read-bps").unwrap(), format!("{dev} 1048576"));
    cg.set("device-write-bps", &format!("{dev} 2m")).unwrap();
    assert_eq!(
        cg.get("device-write-bps").unwrap(),
        format!("{dev} 2097152")
    );
    // Rate 0 lifts the limit.
    cg.set("device-read-bps", &format!("{dev} 0")).unwrap();
    assert_eq!(cg.get("device-read-bps").unwrap(), "");
    cg.remove().unwrap();
    assert_gone(&name);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_failures_leave_nothing_behind() {
    if !v1_host() {
        return;
    }
    // A value the kernel refuses (cpu 63 does not exist here), bypassing set_limit.
    let name = unique_name();
    let bad = Resources {
        memory: Some(64 << 20),
        cpuset_cpus: Some("63".into()),
        ..Default::default()
    };
    let e = Cgroup::create(&Root::new(ROOT), &name, &bad).unwrap_err();
    assert!(
        e.to_string().contains("cpuset.cpus") && e.errno().is_some(),
        "{e}"
    );
    assert_gone(&name);

    // A cross-field error is caught before anything is created.
    let bad = Resources {
        memory_swap: Some(64 << 20),
        ..Default::default()
    };
    assert!(Cgroup::create(&Root::new(ROOT), &name, &bad).is_err());
    assert_gone(&name);

    // A feature missing on this host (if it is missing) fails cleanly too.
    let blkio = Resources {
        blkio_weight: Some(500),
        ..Default::default()
    };
    match Cgroup::create(&Root::new(ROOT), &name, &blkio) {
        Ok(cg) => cg.remove().unwrap(),
        Err(e) => assert!(e.to_string().contains("not supported on this host"), "{e}"),
    }
    assert_gone(&name);

    // A name collision fails and leaves the existing cgroup alone.
    let first = Cgroup::create(&Root::new(ROOT), &name, &Resources::default()).unwrap();
    let e = Cgroup::create(&Root::new(ROOT), &name, &Resources::default()).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
    for p in first.paths() {
        assert!(p.is_dir(), "{} removed by the failed create", p.display());
    }
    first.remove().unwrap();
    assert_gone(&name);

    assert!(Cgroup::create(&Root::new(ROOT), "../escape", &Resources::default()).is_err());
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_drop_removes_and_open_does_not() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    {
        let cg = Cgroup::create(&Root::new(ROOT), &name, &res(&[("memory", "48m")])).unwrap();
        let other = Cgroup::open(&Root::new(ROOT), &name).unwrap();
        assert_eq!(other.get("memory").unwrap(), (48u64 << 20).to_string());
        assert_eq!(other.paths(), cg.paths());
        assert_eq!(other.restricts_devices(), cg.restricts_devices());
        drop(other);
        assert!(cg.paths().iter().all(|p| p.is_dir()));
    }
    assert_gone(&name);
    let e = Cgroup::open(&Root::new(ROOT), &name).unwrap_err();
    assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");

    // commit() keeps the cgroup past drop; open + remove then cleans it up.
    let mut cg = Cgroup::create(&Root::new(ROOT), &name, &Resources::default()).unwrap();
    cg.commit();
    drop(cg);
    assert!(
        Path::new(ROOT)
            .join("memory")
            .join(PARENT)
            .join(&name)
            .is_dir()
    );
    Cgroup::open(&Root::new(ROOT), &name)
        .unwrap()
        .remove()
        .unwrap();
    assert_gone(&name);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_oom_kill_is_reported() {
    if !v1_host() {
        return;
    }
    let name = unique_name();
    let mut pairs = vec![("memory", "32m")];
    if memsw_supported() {
        pairs.push(("memory-swap", "32m"));
    }
    let cg = Cgroup::create(&Root::new(ROOT), &name, &res(&pairs)).unwrap();
    let mut child = Child::fork(Action::Touch(100 << 20));
    cg.add_pid(child.pid()).unwrap();
    child.start();
    let st = child.wait();
    assert!(
        matches!(st, WaitStatus::Signaled(_, Signal::SIGKILL, _)),
        "{st:?}"
    );
    assert!(cg.oom_killed());
    cg.remove().unwrap();
    assert_gone(&name);

    // A plain SIGKILL is not an OOM kill.
    let name = unique_name();
    let cg = Cgroup::create(&Root::new(ROOT), &name, &res(&[("memory", "32m")])).unwrap();
    let mut child = Child::fork(Action::Sleep);
    cg.add_pid(child.pid()).unwrap();
    child.start();
    assert!(child.wait_done());
    child.kill();
    assert!(matches!(
        child.wait(),
        WaitStatus::Signaled(_, Signal::SIGKILL, _)
    ));
    assert!(!cg.oom_killed());
    cg.remove().unwrap();
    assert_gone(&name);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn real_v2_backend_on_the_hugetlb_only_mount() {
    // This host's cgroup2 mount offers no controller we use, but mkdir, cgroup.procs,
    // cpu.stat, the missing-controller check and rmdir are real kernel behaviour.
    let unified = Path::new(ROOT).join("unified");
    if !matches!(detect(&unified), Ok(Layout::Unified)) {
        eprintln!("skipped: no cgroup2 mount at {}", unified.display());
        return;
    }
    let available = cat(&unified.join("cgroup.controllers"));
    if available.split_whitespace().any(|c| c == "memory") {
        eprintln!("skipped: {} has the memory controller", unified.display());
        return;
    }
    let name = unique_name();
    let dir = unified.join(PARENT).join(&name);
    let e = Cgroup::create(&Root::new(&unified), &name, &res(&[("memory", "64m")])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cgroup controller 'memory' not available on this host"
    );
    assert!(!dir.exists());

    let cg = Cgroup::create(&Root::new(&unified), &name, &Resources::default()).unwrap();
    assert!(cg.layout().is_v2());
    assert_eq!(cg.paths(), vec![dir.clone()]);
    assert!(!cg.restricts_devices());
    let mut child = Child::fork(Action::Sleep);
    cg.add_pid(child.pid()).unwrap();
    let line = cat(Path::new(&format!("/proc/{}/cgroup", child.pid())))
        .lines()
        .find(|l| l.starts_with("0::"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(line, format!("0::/{PARENT}/{name}"));
    child.start();
    assert!(child.wait_done());
    let st = cg.stats().unwrap();
    assert!(st.cpu_usage_ns.is_some(), "{st:?}");
    assert_eq!(st.memory_usage, None);
    assert!(!cg.oom_killed());
    let e = cg.get("memory").unwrap_err().to_string();
    assert_eq!(e, "cgroup controller 'memory' not available on this host");
    let opened = Cgroup::open(&Root::new(&unified), &name).unwrap();
    assert_eq!(opened.paths(), cg.paths());
    drop(opened);
    child.kill();
    child.wait();
    cg.remove().unwrap();
    assert!(!dir.exists());
}
