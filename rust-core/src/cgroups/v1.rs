//! cgroup v1 backend: one directory per controller hierarchy,
//! `<root>/<controller>/docker-run/<name>` (Legacy and Hybrid layouts).

use std::path::{Path, PathBuf};

use super::{
    CgroupError, Key, Manager, MkdirHook, Resources, Result, Stats, ThrottleDevice, mkdir,
    parse_err, read_file, read_keyed, read_opt, read_u64, rmdir, write_file,
};

/// The hierarchies we place containers in, when the host has them: the controllers the limits
/// use, freezer (what pause freezes) and the name=systemd hierarchy (its directory is
/// `systemd`), as runc does: an OCI cgroup mount then shows each of them as the container's own.
pub const CONTROLLERS: [&str; 9] = [
    "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "systemd",
];

/// Docker's default device rules: deny everything, then allow these.
pub const DEFAULT_DEVICE_RULES: [&str; 12] = [
    "c *:* m",
    "b *:* m",
    "c 1:3 rwm",    // null
    "c 1:5 rwm",    // zero
    "c 1:7 rwm",    // full
    "c 1:8 rwm",    // random
    "c 1:9 rwm",    // urandom
    "c 5:0 rwm",    // tty
    "c 5:1 rwm",    // console
    "c 5:2 rwm",    // ptmx
    "c 136:* rwm",  // pts
    "c 10:200 rwm", // tun
];

/// v1 reports "no limit" as PAGE_COUNTER_MAX pages in bytes, just under i64::MAX.
const UNLIMITED_THRESHOLD: u64 = 1 << 62;

#[derive(Debug)]
pub struct V1Manager {
    /// Each controller we use and this cgroup's directory in its hierarchy.
    dirs: Vec<(&'static str, PathBuf)>,
    /// Distinct directories in creation order (co-mounted controllers share one).
    unique: Vec<PathBuf>,
    devices: bool,
}

/// The controllers of `CONTROLLERS` mounted under `root`, with their (canonical) mount dirs.
fn hierarchies(root: &Path) -> Vec<(&'static str, PathBuf)> {
    CONTROLLERS
        .into_iter()
        .filter_map(|c| {
            let p = root.join(c);
            p.join("cgroup.procs")
                .is_file()
                .then(|| (c, std::fs::canonicalize(&p).unwrap_or(p)))
        })
        .collect()
}

/// The controllers `res` needs.
fn required(res: &Resources) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = res.keys().into_iter().map(Key::v1_controller).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn write_limit(path: &Path, v: i64) -> Result<()> {
    write_file(path, &v.to_string())
}

/// Reads a v1 byte limit, mapping the kernel's "no limit" to -1.
fn read_limit(path: &Path) -> Result<Option<i64>> {
    Ok(read_u64(path)?.map(|v| {
        if v >= UNLIMITED_THRESHOLD {
            -1
        } else {
            v as i64
        }
    }))
}

fn no_memsw() -> CgroupError {
    CgroupError::not_supported(
        "memory-swap",
        "no memory.memsw.limit_in_bytes (swap accounting is off)",
    )
}

/// a > b where -1 is infinity.
fn limit_gt(a: i64, b: i64) -> bool {
    match (a == -1, b == -1) {
        (_, true) => false,
        (true, false) => true,
        (false, false) => a > b,
    }
}

/// Copies cpuset.cpus and cpuset.mems from `parent` when empty in `dir`: a v1 cpuset with
/// empty lists accepts no tasks.
fn init_cpuset(dir: &Path, parent: &Path) -> Result<()> {
    for f in ["cpuset.cpus", "cpuset.mems"] {
        let Some(cur) = read_opt(&dir.join(f))? else {
            continue;
        };
        if cur.trim().is_empty() {
            let from = read_file(&parent.join(f))?;
            write_file(&dir.join(f), from.trim())?;
        }
    }
    Ok(())
}

fn parse_throttle_file(path: &Path) -> Result<Option<Vec<ThrottleDevice>>> {
    let Some(s) = read_opt(path)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let parsed = (|| {
            let (dev, rate) = line.split_once(' ')?;
            let (ma, mi) = dev.split_once(':')?;
            Some(ThrottleDevice {
                major: ma.parse().ok()?,
                minor: mi.parse().ok()?,
                rate: rate.trim().parse().ok()?,
            })
        })();
        out.push(parsed.ok_or_else(|| parse_err(path, line))?);
    }
    Ok(Some(out))
}

impl V1Manager {
    pub(crate) fn create(
        root: &Path,
        name: &str,
        res: &Resources,
        hook: MkdirHook<'_>,
    ) -> Result<V1Manager> {
        let hier = hierarchies(root);
        for c in required(res) {
            if !hier.iter().any(|(h, _)| *h == c) {
                return Err(CgroupError::ControllerMissing(c.to_string()));
            }
        }
        let mut mgr = V1Manager {
            dirs: Vec::new(),
            unique: Vec::new(),
            devices: false,
        };
        if let Err(e) = mgr.setup(&hier, name, res, hook) {
            let _ = mgr.remove();
            return Err(e);
        }
        Ok(mgr)
    }

    fn setup(
        &mut self,
        hier: &[(&'static str, PathBuf)],
        name: &str,
        res: &Resources,
        hook: MkdirHook<'_>,
    ) -> Result<()> {
        for (c, mount) in hier {
            let (parents, dir) = super::location(mount, name);
            if !self.unique.contains(&dir) {
                let mut above = mount.clone();
                for parent in &parents {
                    mkdir(parent, hook)?;
                    init_cpuset(parent, &above)?;
                    above = parent.clone();
                }
                let parent = above;
                if !mkdir(&dir, hook)? {
                    return Err(CgroupError::Io {
                        path: dir,
                        source: std::io::Error::from_raw_os_error(libc::EEXIST),
                    });
                }
                self.unique.push(dir.clone());
                init_cpuset(&dir, &parent)?;
            }
            self.dirs.push((c, dir));
        }
        if let Some(dir) = self.dir("devices") {
            write_file(&dir.join("devices.deny"), "a")?;
            for (allow, rule) in res.device_rules.iter().flatten() {
                let file = if *allow {
                    "devices.allow"
                } else {
                    "devices.deny"
                };
                write_file(&dir.join(file), rule)?;
            }
            for rule in DEFAULT_DEVICE_RULES {
                write_file(&dir.join("devices.allow"), rule)?;
            }
            self.devices = true;
        }
        self.apply(res)
    }

    pub(crate) fn open(root: &Path, name: &str) -> Result<V1Manager> {
        let mut mgr = V1Manager {
            dirs: Vec::new(),
            unique: Vec::new(),
            devices: false,
        };
        for (c, mount) in hierarchies(root) {
            let dir = super::location(&mount, name).1;
            if dir.is_dir() {
                if !mgr.unique.contains(&dir) {
                    mgr.unique.push(dir.clone());
                }
                mgr.devices |= c == "devices";
                mgr.dirs.push((c, dir));
            }
        }
        if mgr.dirs.is_empty() {
            return Err(CgroupError::Io {
                path: super::location(&root.join("memory"), name).1,
                source: std::io::Error::from_raw_os_error(libc::ENOENT),
            });
        }
        Ok(mgr)
    }

    fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(c, _)| *c == controller)
            .map(|(_, d)| d.as_path())
    }

    fn require(&self, controller: &str) -> Result<&Path> {
        self.dir(controller)
            .ok_or_else(|| CgroupError::ControllerMissing(controller.to_string()))
    }

    fn apply_memory(&self, res: &Resources) -> Result<()> {
        if res.memory.is_none() && res.memory_swap.is_none() {
            return Ok(());
        }
        let dir = self.require("memory")?;
        let mem_file = dir.join("memory.limit_in_bytes");
        let sw_file = dir.join("memory.memsw.limit_in_bytes");
        if res.memory_swap.is_some() && !sw_file.exists() {
            return Err(no_memsw());
        }
        match (res.memory, res.memory_swap) {
            (Some(mem), Some(sw)) => {
                // The kernel keeps memsw >= memory at every step: raise memsw first when the
                // new memory limit exceeds the current memsw, otherwise lower memory first.
                let cur_sw = read_limit(&sw_file)?.unwrap_or(-1);
                if limit_gt(mem, cur_sw) {
                    write_limit(&sw_file, sw)?;
                    write_limit(&mem_file, mem)
                } else {
                    write_limit(&mem_file, mem)?;
                    write_limit(&sw_file, sw)
                }
            }
            (Some(mem), None) => write_limit(&mem_file, mem),
            (None, Some(sw)) => write_limit(&sw_file, sw),
            (None, None) => Ok(()),
        }
    }

    fn apply_cpu(&self, res: &Resources) -> Result<()> {
        if res.cpu_quota.is_none() && res.cpu_period.is_none() && res.cpu_shares.is_none() {
            return Ok(());
        }
        let dir = self.require("cpu")?;
        let period_file = dir.join("cpu.cfs_period_us");
        let quota_file = dir.join("cpu.cfs_quota_us");
        match (res.cpu_quota, res.cpu_period) {
            (Some(q), Some(p)) => {
                // As runc: period first; if the kernel refuses it against the old quota,
                // write the quota and retry.
                if let Err(e) = write_file(&period_file, &p.to_string()) {
                    if e.errno() != Some(libc::EINVAL) {
                        return Err(e);
                    }
                    write_limit(&quota_file, q)?;
                    write_file(&period_file, &p.to_string())?;
                } else {
                    write_limit(&quota_file, q)?;
                }
            }
            (Some(q), None) => write_limit(&quota_file, q)?,
            (None, Some(p)) => write_file(&period_file, &p.to_string())?,
            (None, None) => {}
        }
        if let Some(s) = res.cpu_shares {
            write_file(&dir.join("cpu.shares"), &s.to_string())?;
        }
        Ok(())
    }

    fn blkio_weight_file(&self) -> Result<PathBuf> {
        let dir = self.require("blkio")?;
        ["blkio.weight", "blkio.bfq.weight"]
            .into_iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
            .ok_or_else(|| {
                CgroupError::not_supported(
                    "blkio-weight",
                    "no blkio.weight or blkio.bfq.weight (no proportional io scheduler)",
                )
            })
    }

    fn throttle_file(&self, key: Key) -> Result<PathBuf> {
        let name = if key == Key::DeviceReadBps {
            "blkio.throttle.read_bps_device"
        } else {
            "blkio.throttle.write_bps_device"
        };
        let p = self.require("blkio")?.join(name);
        if p.exists() {
            Ok(p)
        } else {
            Err(CgroupError::not_supported(
                key.as_str(),
                format!("no {name}"),
            ))
        }
    }
}

impl Manager for V1Manager {
    fn paths(&self) -> Vec<PathBuf> {
        self.unique.clone()
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        self.unique.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    fn add_pid(&self, pid: i32) -> Result<()> {
        for f in self.procs_files() {
            write_file(&f, &pid.to_string())?;
        }
        Ok(())
    }

    fn check_key(&self, key: Key) -> Result<()> {
        self.require(key.v1_controller())?;
        match key {
            Key::BlkioWeight => self.blkio_weight_file().map(drop),
            Key::DeviceReadBps | Key::DeviceWriteBps => self.throttle_file(key).map(drop),
            Key::MemorySwap => {
                if self
                    .require("memory")?
                    .join("memory.memsw.limit_in_bytes")
                    .exists()
                {
                    Ok(())
                } else {
                    Err(no_memsw())
                }
            }
            _ => Ok(()),
        }
    }

    fn apply(&self, res: &Resources) -> Result<()> {
        self.apply_memory(res)?;
        self.apply_cpu(res)?;
        if res.cpuset_cpus.is_some() || res.cpuset_mems.is_some() {
            let dir = self.require("cpuset")?;
            if let Some(c) = &res.cpuset_cpus {
                write_file(&dir.join("cpuset.cpus"), c)?;
            }
            if let Some(m) = &res.cpuset_mems {
                write_file(&dir.join("cpuset.mems"), m)?;
            }
        }
        if let Some(n) = res.pids_limit {
            let v = if n == -1 {
                "max".to_string()
            } else {
                n.to_string()
            };
            write_file(&self.require("pids")?.join("pids.max"), &v)?;
        }
        if let Some(w) = res.blkio_weight {
            write_file(&self.blkio_weight_file()?, &w.to_string())?;
        }
        for (key, list) in [
            (Key::DeviceReadBps, &res.device_read_bps),
            (Key::DeviceWriteBps, &res.device_write_bps),
        ] {
            if list.is_empty() {
                continue;
            }
            let file = self.throttle_file(key)?;
            for d in list {
                write_file(&file, &format!("{}:{} {}", d.major, d.minor, d.rate))?;
            }
        }
        Ok(())
    }

    fn current(&self) -> Result<Resources> {
        let mut r = Resources::default();
        if let Some(dir) = self.dir("memory") {
            r.memory = read_limit(&dir.join("memory.limit_in_bytes"))?;
            r.memory_swap = read_limit(&dir.join("memory.memsw.limit_in_bytes"))?;
        }
        if let Some(dir) = self.dir("cpu") {
            let quota = dir.join("cpu.cfs_quota_us");
            r.cpu_quota = read_opt(&quota)?
                .map(|s| s.trim().parse::<i64>().map_err(|_| parse_err(&quota, &s)))
                .transpose()?;
            r.cpu_period = read_u64(&dir.join("cpu.cfs_period_us"))?;
            r.cpu_shares = read_u64(&dir.join("cpu.shares"))?;
        }
        if let Some(dir) = self.dir("cpuset") {
            r.cpuset_cpus = read_opt(&dir.join("cpuset.cpus"))?.map(|s| s.trim().to_string());
            r.cpuset_mems = read_opt(&dir.join("cpuset.mems"))?.map(|s| s.trim().to_string());
        }
        if let Some(dir) = self.dir("pids") {
            let f = dir.join("pids.max");
            r.pids_limit = read_opt(&f)?
                .map(|s| match s.trim() {
                    "max" => Ok(-1),
                    t => t.parse::<i64>().map_err(|_| parse_err(&f, &s)),
                })
                .transpose()?;
        }
        if let Some(dir) = self.dir("blkio") {
            if let Ok(f) = self.blkio_weight_file() {
                // blkio.weight is "N"; blkio.bfq.weight is "default N" plus per-device lines.
                let s = read_file(&f)?;
                let first = s.lines().next().unwrap_or("");
                let n = first.rsplit(' ').next().unwrap_or("");
                r.blkio_weight = Some(n.trim().parse().map_err(|_| parse_err(&f, &s))?);
            }
            r.device_read_bps = parse_throttle_file(&dir.join("blkio.throttle.read_bps_device"))?
                .unwrap_or_default();
            r.device_write_bps = parse_throttle_file(&dir.join("blkio.throttle.write_bps_device"))?
                .unwrap_or_default();
        }
        Ok(r)
    }

    fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        if let Some(dir) = self.dir("memory") {
            s.memory_usage = read_u64(&dir.join("memory.usage_in_bytes"))?;
            s.memory_peak = read_u64(&dir.join("memory.max_usage_in_bytes"))?;
        }
        if let Some(dir) = self.dir("cpuacct") {
            s.cpu_usage_ns = read_u64(&dir.join("cpuacct.usage"))?;
        }
        if let Some(dir) = self.dir("pids") {
            s.pids_current = read_u64(&dir.join("pids.current"))?;
        }
        Ok(s)
    }

    fn oom_killed(&self) -> bool {
        self.dir("memory")
            .and_then(|d| {
                read_keyed(&d.join("memory.oom_control"), "oom_kill")
                    .ok()
                    .flatten()
            })
            .is_some_and(|n| n > 0)
    }

    fn restricts_devices(&self) -> bool {
        self.devices
    }

    fn remove(&mut self) -> Result<()> {
        let mut first = None;
        for dir in self.unique.iter().rev() {
            if let Err(e) = rmdir(dir) {
                first.get_or_insert(e);
            }
        }
        match first {
            Some(e) => Err(e),
            None => {
                self.unique.clear();
                self.dirs.clear();
                self.devices = false;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The v1 backend against a fake tree: layouts this host does not have (a missing
    //! controller, co-mounted cpu,cpuacct). Real-kernel behaviour is in cgroups/tests.rs.

    use super::*;
    use crate::cgroups::tests::{TempDir, cat, put, unique_name};
    use crate::cgroups::{Cgroup, Layout, PARENT};

    /// The interface files the kernel puts in a new directory of hierarchy `hier`.
    fn files(hier: &str) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![("cgroup.procs", ""), ("tasks", "")];
        for c in hier.split(',') {
            v.extend_from_slice(match c {
                "memory" => &[
                    ("memory.limit_in_bytes", "9223372036854771712\n"),
                    ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
                    ("memory.usage_in_bytes", "4096\n"),
                    ("memory.max_usage_in_bytes", "8192\n"),
                    (
                        "memory.oom_control",
                        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
                    ),
                ][..],
                "cpu" => &[
                    ("cpu.cfs_quota_us", "-1\n"),
                    ("cpu.cfs_period_us", "100000\n"),
                    ("cpu.shares", "1024\n"),
                ][..],
                "cpuacct" => &[("cpuacct.usage", "777\n")][..],
                "cpuset" => &[("cpuset.cpus", "\n"), ("cpuset.mems", "\n")][..],
                "pids" => &[("pids.max", "max\n"), ("pids.current", "0\n")][..],
                "devices" => &[("devices.allow", ""), ("devices.deny", "")][..],
                "blkio" => &[("blkio.weight", "500\n")][..],
                _ => &[][..],
            });
        }
        v
    }

    /// A v1 root with one hierarchy per entry of `hiers`; "cpu,cpuacct" also gets the
    /// cpu and cpuacct symlinks, as on most distributions.
    fn fake_root(hiers: &[&str]) -> TempDir {
        let t = TempDir::new("cgfake");
        for h in hiers {
            let d = t.0.join(h);
            std::fs::create_dir(&d).unwrap();
            for (f, v) in files(h) {
                put(&d.join(f), v);
            }
            if h.contains(',') {
                for c in h.split(',') {
                    std::os::unix::fs::symlink(h, t.0.join(c)).unwrap();
                }
            }
        }
        if hiers.iter().any(|h| h.split(',').any(|c| c == "cpuset")) {
            put(&t.0.join("cpuset/cpuset.cpus"), "0-3\n");
            put(&t.0.join("cpuset/cpuset.mems"), "0\n");
        }
        t
    }

    /// Populates like the kernel: the hierarchy is the first component under the root.
    fn populate(root: &Path) -> impl Fn(&Path) -> std::io::Result<()> + '_ {
        move |dir: &Path| {
            let canon = std::fs::canonicalize(root)?;
            let rel = dir
                .strip_prefix(&canon)
                .or_else(|_| dir.strip_prefix(root))
                .unwrap();
            let hier = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            for (f, v) in files(hier) {
                std::fs::write(dir.join(f), v)?;
            }
            Ok(())
        }
    }

    const ALL: [&str; 7] = [
        "cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices",
    ];

    #[test]
    fn v1_fake_create_and_apply() {
        let t = fake_root(&ALL);
        let name = unique_name();
        let r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_quota: Some(25_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(512),
            pids_limit: Some(-1),
            blkio_weight: Some(300),
            ..Default::default()
        };
        let hook = populate(&t.0);
        let cg = Cgroup::create_with(&t.0, Layout::Legacy, &name, &r, &hook).unwrap();
        let d = |c: &str| t.0.join(c).join(PARENT).join(&name);
        assert_eq!(cg.paths().len(), 7);
        assert_eq!(
            cat(&d("memory").join("memory.limit_in_bytes")),
            (64u64 << 20).to_string()
        );
        assert_eq!(
            cat(&d("memory").join("memory.memsw.limit_in_bytes")),
            (128u64 << 20).to_string()
        );
        assert_eq!(cat(&d("cpu").join("cpu.cfs_quota_us")), "25000");
        assert_eq!(cat(&d("cpu").join("cpu.shares")), "512");
        assert_eq!(cat(&d("pids").join("pids.max")), "max");
        assert_eq!(cat(&d("blkio").join("blkio.weight")), "300");
        // cpuset lists are copied down from the root through docker-run.
        assert_eq!(
            cat(&t.0.join("cpuset").join(PARENT).join("cpuset.cpus")),
            "0-3"
        );
        assert_eq!(cat(&d("cpuset").join("cpuset.cpus")), "0-3");
        assert_eq!(cat(&d("cpuset").join("cpuset.mems")), "0");
        // Device rules: deny all, then the allow list (the fake keeps the last write).
        assert!(cg.restricts_devices());
        assert_eq!(cat(&d("devices").join("devices.deny")), "a");
        assert_eq!(cat(&d("devices").join("devices.allow")), "c 10:200 rwm");
        let st = cg.stats().unwrap();
        assert_eq!(
            (st.memory_usage, st.memory_peak, st.cpu_usage_ns),
            (Some(4096), Some(8192), Some(777))
        );
        assert_eq!(cg.get("memory").unwrap(), (64u64 << 20).to_string());
        assert_eq!(cg.get("cpus").unwrap(), "0.25");
        assert_eq!(cg.get("blkio-weight").unwrap(), "300");
        put(
            &d("memory").join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        );
        assert!(cg.oom_killed());
    }

    #[test]
    fn v1_missing_controller_creates_nothing() {
        let t = fake_root(&["cpu", "cpuacct", "cpuset", "memory", "pids", "devices"]);
        let name = unique_name();
        let hook = populate(&t.0);
        let r = Resources {
            memory: Some(64 << 20),
            blkio_weight: Some(500),
            ..Default::default()
        };
        let e = Cgroup::create_with(&t.0, Layout::Hybrid, &name, &r, &hook).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cgroup controller 'blkio' not available on this host"
        );
        for h in ["cpu", "cpuacct", "cpuset", "memory", "pids", "devices"] {
            assert!(!t.0.join(h).join(PARENT).exists(), "{h}");
        }
        // Without blkio limits the cgroup is created; blkio keys are then refused clearly.
        let r = Resources {
            memory: Some(64 << 20),
            ..Default::default()
        };
        let cg = Cgroup::create_with(&t.0, Layout::Hybrid, &name, &r, &hook).unwrap();
        assert_eq!(cg.paths().len(), 6);
        for k in ["blkio-weight", "device-read-bps"] {
            let e = cg.get(k).unwrap_err().to_string();
            assert_eq!(e, "cgroup controller 'blkio' not available on this host");
        }
        let e = cg
            .set("device-write-bps", "8:0 1m")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "cgroup controller 'blkio' not available on this host");
    }

    #[test]
    fn v1_comounted_cpu_cpuacct_share_one_directory() {
        let t = fake_root(&["cpu,cpuacct", "memory"]);
        let name = unique_name();
        let hook = populate(&t.0);
        let r = Resources {
            cpu_quota: Some(50_000),
            ..Default::default()
        };
        let cg = Cgroup::create_with(&t.0, Layout::Legacy, &name, &r, &hook).unwrap();
        let paths = cg.paths();
        assert_eq!(paths.len(), 2, "{paths:?}");
        assert_eq!(cg.procs_files().len(), 2);
        let cpu = paths
            .iter()
            .find(|p| p.to_string_lossy().contains("cpu,cpuacct"))
            .unwrap();
        assert_eq!(cat(&cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(cg.stats().unwrap().cpu_usage_ns, Some(777));
        assert!(!cg.restricts_devices());
    }

    #[test]
    fn v1_without_swap_accounting() {
        let t = fake_root(&["memory"]);
        let name = unique_name();
        let hook = |dir: &Path| {
            populate(&t.0)(dir)?;
            std::fs::remove_file(dir.join("memory.memsw.limit_in_bytes"))
        };
        let r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(64 << 20),
            ..Default::default()
        };
        let e = Cgroup::create_with(&t.0, Layout::Legacy, &name, &r, &hook).unwrap_err();
        assert_eq!(
            e.to_string(),
            "memory-swap not supported on this host: no memory.memsw.limit_in_bytes (swap accounting is off)"
        );
    }

    #[test]
    fn memsw_order_rule() {
        // -1 is infinity.
        assert!(limit_gt(-1, 5) && !limit_gt(5, -1) && !limit_gt(-1, -1));
        assert!(limit_gt(6, 5) && !limit_gt(5, 5));
    }
}
