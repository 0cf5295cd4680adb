//! cgroup v2 backend: one directory, `<root>/docker-run/<name>`, with the controllers we use
//! enabled in the parents' cgroup.subtree_control.
//!
//! No device filter: v2 needs an eBPF program for that, which we do not load
//! (`restricts_devices` is false; the caller drops CAP_MKNOD instead).

use std::path::{Path, PathBuf};

use super::{
    CgroupError, Key, Manager, MkdirHook, Resources, Result, Stats, ThrottleDevice,
    blkio_to_io_weight, io_to_blkio_weight, mkdir, parse_err, read_file, read_keyed, read_opt,
    read_u64, rmdir, shares_to_weight, weight_to_shares, write_file,
};

/// The controllers we enable for containers, when the host has them.
pub const CONTROLLERS: [&str; 5] = ["cpu", "cpuset", "io", "memory", "pids"];

#[derive(Debug)]
pub struct V2Manager {
    dir: PathBuf,
    /// Controllers enabled for this cgroup.
    controllers: Vec<String>,
    removed: bool,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// Enables `wanted` in `cg`'s cgroup.subtree_control, one at a time; a controller that cannot
/// be enabled is an error only when `required`. Returns the controllers now enabled.
fn enable(cg: &Path, wanted: &[String], required: &[&str]) -> Result<Vec<String>> {
    let file = cg.join("cgroup.subtree_control");
    let on = words(&read_file(&file)?);
    let missing: Vec<&String> = wanted.iter().filter(|c| !on.contains(c)).collect();
    if missing.is_empty() {
        return Ok(wanted.to_vec());
    }
    // All in one write when the kernel accepts it, else one by one to learn which fails.
    let all = missing
        .iter()
        .map(|c| format!("+{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    if write_file(&file, &all).is_ok() {
        return Ok(wanted.to_vec());
    }
    let mut out = Vec::new();
    for c in wanted {
        if on.contains(c) {
            out.push(c.clone());
            continue;
        }
        match write_file(&file, &format!("+{c}")) {
            Ok(()) => out.push(c.clone()),
            Err(e) if required.contains(&c.as_str()) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(out)
}

/// "max" -> -1, else a number.
fn parse_max(path: &Path, s: &str) -> Result<i64> {
    match s.trim() {
        "max" => Ok(-1),
        t => t.parse::<i64>().map_err(|_| parse_err(path, s)),
    }
}

fn fmt_max(v: i64) -> String {
    if v == -1 {
        "max".to_string()
    } else {
        v.to_string()
    }
}

fn read_max(path: &Path) -> Result<Option<i64>> {
    read_opt(path)?.map(|s| parse_max(path, &s)).transpose()
}

/// (quota, period) from cpu.max "max 100000" / "50000 100000".
fn read_cpu_max(path: &Path) -> Result<Option<(i64, u64)>> {
    let Some(s) = read_opt(path)? else {
        return Ok(None);
    };
    let mut it = s.split_whitespace();
    let quota = parse_max(path, it.next().unwrap_or(""))?;
    let period = match it.next() {
        Some(p) => p.parse::<u64>().map_err(|_| parse_err(path, &s))?,
        None => super::DEFAULT_CPU_PERIOD,
    };
    Ok(Some((quota, period)))
}

/// io.max lines "8:0 rbps=1048576 wbps=max riops=max wiops=max" -> (read, write) lists.
fn read_io_max(path: &Path) -> Result<(Vec<ThrottleDevice>, Vec<ThrottleDevice>)> {
    let (mut rd, mut wr) = (Vec::new(), Vec::new());
    let Some(s) = read_opt(path)? else {
        return Ok((rd, wr));
    };
    for line in s.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_whitespace();
        let dev = it.next().unwrap_or("");
        let (ma, mi) = dev.split_once(':').ok_or_else(|| parse_err(path, line))?;
        let (major, minor) = match (ma.parse(), mi.parse()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return Err(parse_err(path, line)),
        };
        for kv in it {
            let (k, v) = kv.split_once('=').ok_or_else(|| parse_err(path, line))?;
            let list = match k {
                "rbps" => &mut rd,
                "wbps" => &mut wr,
                _ => continue,
            };
            if v != "max" {
                let rate = v.parse().map_err(|_| parse_err(path, line))?;
                list.push(ThrottleDevice { major, minor, rate });
            }
        }
    }
    Ok((rd, wr))
}

impl V2Manager {
    pub(crate) fn create(
        root: &Path,
        name: &str,
        res: &Resources,
        hook: MkdirHook<'_>,
    ) -> Result<V2Manager> {
        let available = words(&read_file(&root.join("cgroup.controllers"))?);
        let mut required: Vec<&str> = res.keys().into_iter().map(Key::v2_controller).collect();
        required.sort_unstable();
        required.dedup();
        if let Some(c) = required.iter().find(|c| !available.iter().any(|a| a == *c)) {
            return Err(CgroupError::ControllerMissing(c.to_string()));
        }
        let wanted: Vec<String> = CONTROLLERS
            .into_iter()
            .filter(|c| available.iter().any(|a| a == c))
            .map(str::to_string)
            .collect();
        let mut enabled = enable(root, &wanted, &required)?;
        let (parents, dir) = super::location(root, name);
        for parent in &parents {
            mkdir(parent, hook)?;
            enabled = enable(parent, &enabled, &required)?;
        }
        if !mkdir(&dir, hook)? {
            return Err(CgroupError::Io {
                path: dir,
                source: std::io::Error::from_raw_os_error(libc::EEXIST),
            });
        }
        let mut mgr = V2Manager {
            dir,
            controllers: enabled,
            removed: false,
        };
        if let Err(e) = mgr.apply(res) {
            let _ = mgr.remove();
            return Err(e);
        }
        Ok(mgr)
    }

    pub(crate) fn open(root: &Path, name: &str) -> Result<V2Manager> {
        let dir = super::location(root, name).1;
        let controllers = words(&read_file(&dir.join("cgroup.controllers"))?);
        Ok(V2Manager {
            dir,
            controllers,
            removed: false,
        })
    }

    fn require(&self, controller: &str) -> Result<()> {
        if self.controllers.iter().any(|c| c == controller) {
            Ok(())
        } else {
            Err(CgroupError::ControllerMissing(controller.to_string()))
        }
    }

    fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn swap_file(&self) -> Result<PathBuf> {
        let f = self.file("memory.swap.max");
        if f.exists() {
            Ok(f)
        } else {
            Err(CgroupError::not_supported(
                "memory-swap",
                "no memory.swap.max (swap accounting is off)",
            ))
        }
    }

    /// io.weight takes the converted weight; io.bfq.weight (when io.weight is absent) takes the
    /// blkio value as is, as runc does.
    fn io_weight_file(&self) -> Result<(PathBuf, bool)> {
        self.require("io")?;
        let w = self.file("io.weight");
        let bfq = self.file("io.bfq.weight");
        if w.exists() {
            Ok((w, true))
        } else if bfq.exists() {
            Ok((bfq, false))
        } else {
            Err(CgroupError::not_supported(
                "blkio-weight",
                "no io.weight or io.bfq.weight",
            ))
        }
    }

    fn apply_memory(&self, res: &Resources) -> Result<()> {
        if let Some(m) = res.memory {
            self.require("memory")?;
            write_file(&self.file("memory.max"), &fmt_max(m))?;
        }
        if let Some(sw) = res.memory_swap {
            self.require("memory")?;
            let swap_file = self.swap_file()?;
            // v2 limits swap alone: memory.swap.max = (memory + swap) - memory.
            let value = if sw == -1 {
                "max".to_string()
            } else {
                let mem = match res.memory {
                    Some(m) => m,
                    None => read_max(&self.file("memory.max"))?.unwrap_or(-1),
                };
                if mem == -1 {
                    return Err(CgroupError::SwapWithoutMemory(sw));
                }
                (sw - mem).max(0).to_string()
            };
            write_file(&swap_file, &value)?;
        }
        Ok(())
    }

    fn apply_io(&self, res: &Resources) -> Result<()> {
        if let Some(w) = res.blkio_weight {
            let (file, converted) = self.io_weight_file()?;
            let v = if converted { blkio_to_io_weight(w) } else { w };
            write_file(&file, &v.to_string())?;
        }
        if res.device_read_bps.is_empty() && res.device_write_bps.is_empty() {
            return Ok(());
        }
        self.require("io")?;
        let file = self.file("io.max");
        // One line per device with both directions, so a device's read and write limits land
        // in one write. A rate of 0 removes the limit, as on v1.
        let mut devs: Vec<(u64, u64)> = Vec::new();
        for d in res.device_read_bps.iter().chain(&res.device_write_bps) {
            if !devs.contains(&(d.major, d.minor)) {
                devs.push((d.major, d.minor));
            }
        }
        let rate = |list: &[ThrottleDevice], ma: u64, mi: u64| {
            list.iter()
                .find(|d| d.major == ma && d.minor == mi)
                .map(|d| {
                    if d.rate == 0 {
                        "max".to_string()
                    } else {
                        d.rate.to_string()
                    }
                })
        };
        for (ma, mi) in devs {
            let mut line = format!("{ma}:{mi}");
            if let Some(r) = rate(&res.device_read_bps, ma, mi) {
                line.push_str(&format!(" rbps={r}"));
            }
            if let Some(w) = rate(&res.device_write_bps, ma, mi) {
                line.push_str(&format!(" wbps={w}"));
            }
            write_file(&file, &line)?;
        }
        Ok(())
    }
}

impl Manager for V2Manager {
    fn paths(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }

    fn procs_files(&self) -> Vec<PathBuf> {
        vec![self.file("cgroup.procs")]
    }

    fn add_pid(&self, pid: i32) -> Result<()> {
        write_file(&self.file("cgroup.procs"), &pid.to_string())
    }

    fn check_key(&self, key: Key) -> Result<()> {
        self.require(key.v2_controller())?;
        match key {
            Key::MemorySwap => self.swap_file().map(drop),
            Key::BlkioWeight => self.io_weight_file().map(drop),
            _ => Ok(()),
        }
    }

    fn apply(&self, res: &Resources) -> Result<()> {
        // OCI `unified`: the files as given, first, so that the portable limits below win.
        for (key, value) in &res.unified {
            if key.contains('/') || key.starts_with('.') || key.is_empty() {
                return Err(CgroupError::InvalidValue {
                    key: key.clone(),
                    value: value.clone(),
                    reason: "not a cgroup interface file name".into(),
                });
            }
            write_file(&self.file(key), value)?;
        }
        self.apply_memory(res)?;
        if res.cpu_quota.is_some() || res.cpu_period.is_some() {
            self.require("cpu")?;
            let file = self.file("cpu.max");
            let (cq, cp) = read_cpu_max(&file)?.unwrap_or((-1, super::DEFAULT_CPU_PERIOD));
            let q = res.cpu_quota.unwrap_or(cq);
            let p = res.cpu_period.unwrap_or(cp);
            write_file(&file, &format!("{} {p}", fmt_max(q)))?;
        }
        if let Some(s) = res.cpu_shares {
            self.require("cpu")?;
            write_file(&self.file("cpu.weight"), &shares_to_weight(s).to_string())?;
        }
        if let Some(c) = &res.cpuset_cpus {
            self.require("cpuset")?;
            write_file(&self.file("cpuset.cpus"), c)?;
        }
        if let Some(m) = &res.cpuset_mems {
            self.require("cpuset")?;
            write_file(&self.file("cpuset.mems"), m)?;
        }
        if let Some(n) = res.pids_limit {
            self.require("pids")?;
            write_file(&self.file("pids.max"), &fmt_max(n))?;
        }
        self.apply_io(res)
    }

    fn current(&self) -> Result<Resources> {
        let mut r = Resources::default();
        if self.has("memory") {
            r.memory = read_max(&self.file("memory.max"))?;
            r.memory_swap = match (r.memory, read_max(&self.file("memory.swap.max"))?) {
                (Some(-1), Some(_)) | (Some(_), Some(-1)) => Some(-1),
                (Some(m), Some(s)) => Some(m.saturating_add(s)),
                _ => None,
            };
        }
        if self.has("cpu") {
            if let Some((q, p)) = read_cpu_max(&self.file("cpu.max"))? {
                r.cpu_quota = Some(q);
                r.cpu_period = Some(p);
            }
            r.cpu_shares = read_u64(&self.file("cpu.weight"))?.map(weight_to_shares);
        }
        if self.has("cpuset") {
            r.cpuset_cpus = read_opt(&self.file("cpuset.cpus"))?.map(|s| s.trim().to_string());
            r.cpuset_mems = read_opt(&self.file("cpuset.mems"))?.map(|s| s.trim().to_string());
        }
        if self.has("pids") {
            r.pids_limit = read_max(&self.file("pids.max"))?;
        }
        if self.has("io") {
            if let Ok((f, converted)) = self.io_weight_file() {
                // "default 100" (plus per-device lines), or a bare number.
                let s = read_file(&f)?;
                let first = s.lines().next().unwrap_or("");
                let n: u64 = first
                    .rsplit(' ')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .parse()
                    .map_err(|_| parse_err(&f, &s))?;
                r.blkio_weight = Some(if converted { io_to_blkio_weight(n) } else { n });
            }
            (r.device_read_bps, r.device_write_bps) = read_io_max(&self.file("io.max"))?;
        }
        Ok(r)
    }

    fn stats(&self) -> Result<Stats> {
        Ok(Stats {
            memory_usage: read_u64(&self.file("memory.current"))?,
            memory_peak: read_u64(&self.file("memory.peak"))?,
            cpu_usage_ns: read_keyed(&self.file("cpu.stat"), "usage_usec")?
                .map(|us| us.saturating_mul(1000)),
            pids_current: read_u64(&self.file("pids.current"))?,
        })
    }

    fn oom_killed(&self) -> bool {
        read_keyed(&self.file("memory.events"), "oom_kill")
            .ok()
            .flatten()
            .is_some_and(|n| n > 0)
    }

    fn restricts_devices(&self) -> bool {
        false
    }

    fn remove(&mut self) -> Result<()> {
        if !self.removed {
            rmdir(&self.dir)?;
            self.removed = true;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The v2 backend against a directory tree of the cgroup2 shape: this host's only cgroup2
    //! mount holds hugetlb alone, so the kernel's part (populating a new directory with its
    //! interface files) is done by `populate`.

    use super::*;
    use crate::cgroups::tests::{TempDir, cat, put, unique_name};
    use crate::cgroups::{Cgroup, Layout, PARENT, set_limit};

    const ALL: &str = "cpuset cpu io memory hugetlb pids";

    /// A v2 root offering `controllers`.
    fn fake_root(controllers: &str) -> TempDir {
        let t = TempDir::new("cgfake");
        put(&t.0.join("cgroup.controllers"), &format!("{controllers}\n"));
        put(&t.0.join("cgroup.subtree_control"), "");
        put(&t.0.join("cgroup.procs"), "");
        t
    }

    /// What the kernel creates in a new cgroup2 directory (with swap accounting on).
    fn populate(dir: &Path) -> std::io::Result<()> {
        for (f, v) in [
            ("cgroup.controllers", "cpuset cpu io memory pids\n"),
            ("cgroup.subtree_control", ""),
            ("cgroup.procs", ""),
            ("cgroup.events", "populated 0\nfrozen 0\n"),
            ("memory.max", "max\n"),
            ("memory.swap.max", "max\n"),
            ("memory.current", "0\n"),
            ("memory.peak", "0\n"),
            (
                "memory.events",
                "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
            ),
            ("cpu.max", "max 100000\n"),
            ("cpu.weight", "100\n"),
            ("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"),
            ("cpuset.cpus", "\n"),
            ("cpuset.mems", "\n"),
            ("pids.max", "max\n"),
            ("pids.current", "0\n"),
            ("io.weight", "default 100\n"),
            ("io.max", ""),
        ] {
            std::fs::write(dir.join(f), v)?;
        }
        Ok(())
    }

    fn no_swap(dir: &Path) -> std::io::Result<()> {
        populate(dir)?;
        std::fs::remove_file(dir.join("memory.swap.max"))
    }

    fn res(pairs: &[(&str, &str)]) -> Resources {
        let mut r = Resources::default();
        for (k, v) in pairs {
            set_limit(&mut r, k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        }
        r
    }

    fn create(root: &Path, name: &str, r: &Resources) -> crate::cgroups::Result<Cgroup> {
        Cgroup::create_with(root, Layout::Unified, name, r, &populate)
    }

    #[test]
    fn v2_create_writes_every_file() {
        let t = fake_root(ALL);
        let name = unique_name();
        let r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(96 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(1024),
            cpuset_cpus: Some("0-1".into()),
            cpuset_mems: Some("0".into()),
            pids_limit: Some(100),
            blkio_weight: Some(500),
            device_read_bps: vec![ThrottleDevice {
                major: 8,
                minor: 0,
                rate: 1 << 20,
            }],
            device_write_bps: vec![ThrottleDevice {
                major: 8,
                minor: 0,
                rate: 2 << 20,
            }],
            ..Default::default()
        };
        let cg = create(&t.0, &name, &r).unwrap();
        let dir = t.0.join(PARENT).join(&name);
        let f = |n: &str| cat(&dir.join(n));
        assert_eq!(f("memory.max"), (64u64 << 20).to_string());
        // v2 limits swap alone: memory+swap 96m minus memory 64m.
        assert_eq!(f("memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(f("cpu.max"), "50000 100000");
        assert_eq!(f("cpu.weight"), shares_to_weight(1024).to_string());
        assert_eq!(f("cpu.weight"), "39");
        assert_eq!(f("cpuset.cpus"), "0-1");
        assert_eq!(f("cpuset.mems"), "0");
        assert_eq!(f("pids.max"), "100");
        assert_eq!(f("io.weight"), "4950");
        assert_eq!(f("io.max"), "8:0 rbps=1048576 wbps=2097152");
        // Controllers enabled for the children of the root and of docker-run, hugetlb not.
        let want = "+cpu +cpuset +io +memory +pids";
        assert_eq!(cat(&t.0.join("cgroup.subtree_control")), want);
        assert_eq!(cat(&t.0.join(PARENT).join("cgroup.subtree_control")), want);

        assert_eq!(cg.paths(), vec![dir.clone()]);
        assert_eq!(cg.procs_files(), vec![dir.join("cgroup.procs")]);
        assert!(!cg.restricts_devices());
        cg.add_pid(4242).unwrap();
        assert_eq!(f("cgroup.procs"), "4242");

        // Read back in portable form.
        assert_eq!(cg.get("memory").unwrap(), (64u64 << 20).to_string());
        assert_eq!(cg.get("memory-swap").unwrap(), (96u64 << 20).to_string());
        assert_eq!(cg.get("cpus").unwrap(), "0.5");
        let shares: u64 = cg.get("cpu-shares").unwrap().parse().unwrap();
        assert_eq!(shares_to_weight(shares), 39);
        assert_eq!(cg.get("cpuset-cpus").unwrap(), "0-1");
        assert_eq!(cg.get("pids-limit").unwrap(), "100");
        assert_eq!(cg.get("blkio-weight").unwrap(), "500");
        assert_eq!(cg.get("device-read-bps").unwrap(), "8:0 1048576");
        assert_eq!(cg.get("device-write-bps").unwrap(), "8:0 2097152");
    }

    #[test]
    fn v2_live_updates() {
        let t = fake_root(ALL);
        let name = unique_name();
        let cg = create(
            &t.0,
            &name,
            &res(&[("memory", "32m"), ("memory-swap", "64m")]),
        )
        .unwrap();
        let dir = t.0.join(PARENT).join(&name);
        let f = |n: &str| cat(&dir.join(n));
        assert_eq!(f("memory.swap.max"), (32u64 << 20).to_string());
        // Raising memory keeps the swap allowance.
        cg.set("memory", "128m").unwrap();
        assert_eq!(f("memory.max"), (128u64 << 20).to_string());
        assert_eq!(f("memory.swap.max"), (32u64 << 20).to_string());
        assert_eq!(cg.get("memory-swap").unwrap(), (160u64 << 20).to_string());
        cg.set("memory-swap", "256m").unwrap();
        assert_eq!(f("memory.swap.max"), (128u64 << 20).to_string());
        cg.set("memory-swap", "-1").unwrap();
        assert_eq!(f("memory.swap.max"), "max");
        assert_eq!(cg.get("memory-swap").unwrap(), "-1");
        cg.set("memory", "-1").unwrap();
        assert_eq!(f("memory.max"), "max");
        assert!(
            cg.set("memory-swap", "64m")
                .unwrap_err()
                .to_string()
                .contains("needs a memory limit")
        );

        cg.set("cpus", "1.5").unwrap();
        assert_eq!(f("cpu.max"), "150000 100000");
        cg.set("cpu-period", "50000").unwrap();
        assert_eq!(f("cpu.max"), "150000 50000");
        cg.set("cpu-quota", "-1").unwrap();
        assert_eq!(f("cpu.max"), "max 50000");
        cg.set("cpu-shares", "2").unwrap();
        assert_eq!(f("cpu.weight"), "1");
        cg.set("cpu-shares", "262144").unwrap();
        assert_eq!(f("cpu.weight"), "10000");
        cg.set("pids-limit", "-1").unwrap();
        assert_eq!(f("pids.max"), "max");
        cg.set("blkio-weight", "10").unwrap();
        assert_eq!(f("io.weight"), "1");
        cg.set("device-write-bps", "8:16 1k").unwrap();
        assert_eq!(f("io.max"), "8:16 wbps=1024");
        // The kernel would merge lines into io.max; on the fake, write back what it shows.
        put(
            &dir.join("io.max"),
            "8:16 rbps=max wbps=1024 riops=max wiops=max\n",
        );
        cg.set("device-write-bps", "8:16 0").unwrap();
        assert_eq!(f("io.max"), "8:16 wbps=max");
        assert!(cg.set("cpus", "0").is_err());
        assert_eq!(f("cpu.max"), "max 50000");
    }

    #[test]
    fn v2_stats_and_oom() {
        let t = fake_root(ALL);
        let name = unique_name();
        let cg = create(&t.0, &name, &Resources::default()).unwrap();
        let dir = t.0.join(PARENT).join(&name);
        put(&dir.join("memory.current"), "1000\n");
        put(&dir.join("memory.peak"), "2000\n");
        put(
            &dir.join("cpu.stat"),
            "usage_usec 5\nuser_usec 3\nsystem_usec 2\n",
        );
        put(&dir.join("pids.current"), "3\n");
        assert_eq!(
            cg.stats().unwrap(),
            Stats {
                memory_usage: Some(1000),
                memory_peak: Some(2000),
                cpu_usage_ns: Some(5000),
                pids_current: Some(3)
            }
        );
        assert!(!cg.oom_killed());
        put(
            &dir.join("memory.events"),
            "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        );
        assert!(cg.oom_killed());
        // memory.peak is missing before Linux 5.19.
        std::fs::remove_file(dir.join("memory.peak")).unwrap();
        assert_eq!(cg.stats().unwrap().memory_peak, None);
    }

    #[test]
    fn v2_missing_controller_creates_nothing() {
        let t = fake_root("cpuset cpu memory pids");
        let name = unique_name();
        let e = create(
            &t.0,
            &name,
            &res(&[("memory", "64m"), ("blkio-weight", "500")]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "cgroup controller 'io' not available on this host"
        );
        assert!(!t.0.join(PARENT).exists());
        // Without io in the request, the cgroup works and io limits are refused later.
        let cg = create(&t.0, &name, &res(&[("memory", "64m")])).unwrap();
        assert_eq!(
            cat(&t.0.join("cgroup.subtree_control")),
            "+cpu +cpuset +memory +pids"
        );
        // The fake's populate offers io; open() reads what the kernel reports.
        put(
            &t.0.join(PARENT).join(&name).join("cgroup.controllers"),
            "cpuset cpu memory pids\n",
        );
        let opened = Cgroup::open_with(&t.0, Layout::Unified, &name).unwrap();
        assert_eq!(
            opened.set("blkio-weight", "500").unwrap_err().to_string(),
            "cgroup controller 'io' not available on this host"
        );
        assert!(opened.get("device-read-bps").is_err());
        assert_eq!(opened.get("memory").unwrap(), (64u64 << 20).to_string());
        drop(cg);
    }

    #[test]
    fn v2_without_swap_accounting() {
        let t = fake_root(ALL);
        let name = unique_name();
        let e = Cgroup::create_with(
            &t.0,
            Layout::Unified,
            &name,
            &res(&[("memory", "64m"), ("memory-swap", "128m")]),
            &no_swap,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("memory-swap") && e.to_string().contains("not supported"),
            "{e}"
        );
    }

    #[test]
    fn v2_failed_create_removes_its_directory() {
        // The kernel's directories can be rmdir'ed with their files, plain ones cannot: leave
        // the new container directory empty so the write fails and the rmdir can succeed.
        let t = fake_root(ALL);
        let name = unique_name();
        let only_parent = |dir: &Path| {
            if dir.ends_with(PARENT) {
                populate(dir)
            } else {
                Ok(())
            }
        };
        let r = res(&[("memory", "64m")]);
        let e = Cgroup::create_with(&t.0, Layout::Unified, &name, &r, &only_parent).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT), "{e}");
        assert!(e.to_string().contains("memory.max"), "{e}");
        assert!(!t.0.join(PARENT).join(&name).exists());
        // The shared parent stays.
        assert!(t.0.join(PARENT).is_dir());
    }

    #[test]
    fn v2_open_missing_is_enoent() {
        let t = fake_root(ALL);
        let e = Cgroup::open_with(&t.0, Layout::Unified, "nope").unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT));
    }
}
