//! `update [--resources FILE|-] [flags] ID`: new limits for a running container, written to
//! its cgroup (what containerd's `ctr task update`, `podman update` and the kubelet send). The
//! JSON is the OCI `linux.resources` object; a flag overrides the file's value.

use std::fs;
use std::io::Read;
use std::path::Path;

use oci_spec::runtime::LinuxResources;

use crate::Ctx;
use crate::cgroup::CgroupDir;
use crate::cli::{ArgCount, Flag, Parsed, opt};
use crate::error::Fail;
use crate::state::Status;

pub const FLAGS: &[Flag] = &[
    opt(&["resources", "r"]),
    opt(&["blkio-weight"]),
    opt(&["cpu-period"]),
    opt(&["cpu-quota"]),
    opt(&["cpu-share"]),
    opt(&["cpuset-cpus"]),
    opt(&["cpuset-mems"]),
    opt(&["memory"]),
    opt(&["memory-reservation"]),
    opt(&["memory-swap"]),
    opt(&["pids-limit"]),
    opt(&["cpu-rt-period"]),
    opt(&["cpu-rt-runtime"]),
    opt(&["kernel-memory"]),
    opt(&["kernel-memory-tcp"]),
    opt(&["l3-cache-schema"]),
    opt(&["mem-bw-schema"]),
];

/// The limits to write: (v1 controller, v1 file, v2 file, value). v2 values are converted
/// where the formats differ.
#[derive(Debug, Default, PartialEq)]
struct Limits {
    memory: Option<i64>,
    swap: Option<i64>,
    reservation: Option<i64>,
    shares: Option<u64>,
    quota: Option<i64>,
    period: Option<u64>,
    cpus: Option<String>,
    mems: Option<String>,
    pids: Option<i64>,
    blkio_weight: Option<u16>,
}

fn num<T: std::str::FromStr>(p: &Parsed, flag: &str) -> Result<Option<T>, Fail> {
    match p.get(flag) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Fail::msg(format!("invalid value for --{flag}: {v:?}"))),
    }
}

/// Bytes with an optional k/m/g suffix (as runc's units.RAMInBytes); -1 is unlimited.
fn bytes(p: &Parsed, flag: &str) -> Result<Option<i64>, Fail> {
    let Some(v) = p.get(flag) else {
        return Ok(None);
    };
    let lower = v.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (digits, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    match digits.parse::<i64>() {
        Ok(-1) => Ok(Some(-1)),
        Ok(n) if n >= 0 => n
            .checked_mul(mult)
            .map(Some)
            .ok_or_else(|| Fail::msg(format!("invalid value for --{flag}: {v:?}"))),
        _ => Err(Fail::msg(format!("invalid value for --{flag}: {v:?}"))),
    }
}

fn read_resources(src: &str) -> Result<LinuxResources, Fail> {
    let mut text = String::new();
    if src == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Fail::io("read resources from stdin", e))?;
    } else {
        text = fs::read_to_string(src).map_err(|e| Fail::io(src, e))?;
    }
    serde_json::from_str(&text).map_err(|e| Fail::msg(format!("resources {src}: {e}")))
}

fn limits(p: &Parsed) -> Result<Limits, Fail> {
    for unsupported in [
        "cpu-rt-period",
        "cpu-rt-runtime",
        "l3-cache-schema",
        "mem-bw-schema",
    ] {
        if p.get(unsupported).is_some() {
            return Err(Fail::msg(format!("--{unsupported} is not supported")));
        }
    }
    let mut l = Limits::default();
    if let Some(src) = p.get("resources") {
        let r = read_resources(src)?;
        if let Some(m) = r.memory() {
            l.memory = m.limit();
            l.swap = m.swap();
            l.reservation = m.reservation();
        }
        if let Some(c) = r.cpu() {
            l.shares = c.shares();
            l.quota = c.quota();
            l.period = c.period();
            l.cpus = c.cpus().clone();
            l.mems = c.mems().clone();
        }
        l.pids = r.pids().as_ref().map(|p| p.limit());
        l.blkio_weight = r.block_io().as_ref().and_then(|b| b.weight());
    }
    l.memory = bytes(p, "memory")?.or(l.memory);
    l.swap = bytes(p, "memory-swap")?.or(l.swap);
    l.reservation = bytes(p, "memory-reservation")?.or(l.reservation);
    l.shares = num(p, "cpu-share")?.or(l.shares);
    l.quota = num(p, "cpu-quota")?.or(l.quota);
    l.period = num(p, "cpu-period")?.or(l.period);
    l.cpus = p.get("cpuset-cpus").map(String::from).or(l.cpus);
    l.mems = p.get("cpuset-mems").map(String::from).or(l.mems);
    l.pids = num(p, "pids-limit")?.or(l.pids);
    l.blkio_weight = num(p, "blkio-weight")?.or(l.blkio_weight);
    Ok(l)
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), Fail> {
    let path = dir.join(file);
    fs::write(&path, value).map_err(|e| Fail::io(format!("write {value} to {}", path.display()), e))
}

fn v1_dir<'a>(dirs: &'a [CgroupDir], controller: &str) -> Result<&'a Path, Fail> {
    dirs.iter()
        .find(|d| d.controllers.split(',').any(|c| c == controller))
        .map(|d| d.path.as_path())
        .ok_or_else(|| {
            Fail::msg(format!(
                "the container has no {controller} cgroup of its own"
            ))
        })
}

/// v1: memory and memory+swap must stay ordered (memsw >= memory) after each write, so the
/// order depends on whether the limit grows.
fn apply_v1(dirs: &[CgroupDir], l: &Limits) -> Result<(), Fail> {
    if l.memory.is_some() || l.swap.is_some() || l.reservation.is_some() {
        let d = v1_dir(dirs, "memory")?;
        let mem = l.memory.map(|m| m.to_string());
        let swap = l.swap.map(|m| m.to_string());
        let first_mem = mem.as_deref().map(|m| write(d, "memory.limit_in_bytes", m));
        if let Some(s) = &swap {
            write(d, "memory.memsw.limit_in_bytes", s)?;
        }
        if let (Some(Err(_)), Some(m)) = (first_mem, &mem) {
            write(d, "memory.limit_in_bytes", m)?;
        }
        if let Some(r) = l.reservation {
            write(d, "memory.soft_limit_in_bytes", &r.to_string())?;
        }
    }
    let cpu = [
        ("cpu.shares", l.shares.map(|v| v.to_string())),
        ("cpu.cfs_period_us", l.period.map(|v| v.to_string())),
        ("cpu.cfs_quota_us", l.quota.map(|v| v.to_string())),
    ];
    for (file, v) in cpu.iter().filter_map(|(f, v)| Some((f, v.as_ref()?))) {
        write(v1_dir(dirs, "cpu")?, file, v)?;
    }
    for (file, v) in [("cpuset.cpus", &l.cpus), ("cpuset.mems", &l.mems)] {
        if let Some(v) = v {
            write(v1_dir(dirs, "cpuset")?, file, v)?;
        }
    }
    if let Some(p) = l.pids {
        let v = if p <= 0 {
            "max".to_string()
        } else {
            p.to_string()
        };
        write(v1_dir(dirs, "pids")?, "pids.max", &v)?;
    }
    if let Some(w) = l.blkio_weight {
        write(v1_dir(dirs, "blkio")?, "blkio.weight", &w.to_string())?;
    }
    Ok(())
}

/// v2 (one directory): the files and formats of the unified hierarchy, as runc converts them.
fn apply_v2(d: &Path, l: &Limits) -> Result<(), Fail> {
    let max = |v: i64| {
        if v < 0 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    if let Some(m) = l.memory {
        write(d, "memory.max", &max(m))?;
    }
    if let Some(s) = l.swap {
        // v1's memory+swap becomes swap alone.
        let v = match (s, l.memory) {
            (-1, _) => "max".to_string(),
            (s, Some(m)) if m >= 0 => (s - m).max(0).to_string(),
            (s, _) => s.to_string(),
        };
        write(d, "memory.swap.max", &v)?;
    }
    if let Some(r) = l.reservation {
        write(d, "memory.low", &max(r))?;
    }
    if let Some(s) = l.shares {
        // runc's conversion of shares [2, 262144] to weight [1, 10000].
        let w = 1 + ((s.clamp(2, 262_144) - 2) * 9999) / 262_142;
        write(d, "cpu.weight", &w.to_string())?;
    }
    if l.quota.is_some() || l.period.is_some() {
        let q = l.quota.map_or("max".to_string(), max);
        write(
            d,
            "cpu.max",
            &format!("{q} {}", l.period.unwrap_or(100_000)),
        )?;
    }
    for (file, v) in [("cpuset.cpus", &l.cpus), ("cpuset.mems", &l.mems)] {
        if let Some(v) = v {
            write(d, file, v)?;
        }
    }
    if let Some(p) = l.pids {
        write(
            d,
            "pids.max",
            &if p <= 0 { "max".into() } else { p.to_string() },
        )?;
    }
    if let Some(w) = l.blkio_weight {
        write(d, "io.weight", &w.to_string())?;
    }
    Ok(())
}

pub fn update(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("update", ArgCount::Exactly(1))?;
    let l = limits(p)?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], true)?;
    let saved = entry.load()?;
    if entry.status(&saved) == Status::Stopped {
        return Err(Fail::msg("container not running"));
    }
    match saved.cgroups.iter().find(|d| d.controllers.is_empty()) {
        Some(v2)
            if !saved
                .cgroups
                .iter()
                .any(|d| d.controllers.contains("memory")) =>
        {
            apply_v2(&v2.path, &l)?
        }
        _ => apply_v1(&saved.cgroups, &l)?,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli;

    fn parsed(args: &[&str]) -> Parsed {
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        cli::parse(FLAGS, &argv).unwrap()
    }

    #[test]
    fn flags_and_units() {
        let l = limits(&parsed(&[
            "--memory",
            "64m",
            "--pids-limit=10",
            "--cpu-quota",
            "-1",
            "id",
        ]))
        .unwrap();
        assert_eq!(l.memory, Some(64 << 20));
        assert_eq!(l.pids, Some(10));
        assert_eq!(l.quota, Some(-1));
        assert!(limits(&parsed(&["--memory", "lots", "id"])).is_err());
        assert!(limits(&parsed(&["--cpu-rt-runtime", "5", "id"])).is_err());
    }

    #[test]
    fn v1_writes_into_a_fake_tree() {
        let tmp = std::env::temp_dir().join(format!("cr-update-{}", std::process::id()));
        let mem = tmp.join("memory");
        fs::create_dir_all(&mem).unwrap();
        let dirs = [CgroupDir {
            controllers: "memory".into(),
            path: mem.clone(),
        }];
        let l = Limits {
            memory: Some(1 << 20),
            swap: Some(2 << 20),
            ..Limits::default()
        };
        apply_v1(&dirs, &l).unwrap();
        assert_eq!(
            fs::read_to_string(mem.join("memory.limit_in_bytes")).unwrap(),
            "1048576"
        );
        assert_eq!(
            fs::read_to_string(mem.join("memory.memsw.limit_in_bytes")).unwrap(),
            "2097152"
        );
        let pids = Limits {
            pids: Some(5),
            ..Limits::default()
        };
        let e = apply_v1(&dirs, &pids).unwrap_err();
        assert_eq!(e.to_string(), "the container has no pids cgroup of its own");
        fs::remove_dir_all(&tmp).unwrap();
    }
}
