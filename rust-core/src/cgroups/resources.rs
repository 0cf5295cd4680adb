//! Portable resource limits and the parsing of `docker run`-style limit strings.
//!
//! `Resources` holds OCI-like, version-independent values; the v1 and v2 backends map them to
//! their files. `-1` means "unlimited" wherever a field allows it.

use std::fmt;
use std::path::{Path, PathBuf};

use super::CgroupError;

/// Docker's minimum memory limit (`docker run --memory`): 6 MiB.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// Default CFS period in microseconds (Docker and the kernel).
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;
/// Where the host lists its online CPUs.
pub const DEFAULT_CPU_ONLINE: &str = "/sys/devices/system/cpu/online";
/// Where the host lists its online memory nodes (missing on kernels without NUMA).
pub const DEFAULT_NODE_ONLINE: &str = "/sys/devices/system/node/online";

/// One bandwidth limit for one block device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleDevice {
    pub major: u64,
    pub minor: u64,
    /// Bytes per second; 0 removes the limit.
    pub rate: u64,
}

/// Portable limits. `None` leaves the kernel's value alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// Memory limit in bytes, -1 for unlimited.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes, -1 for unlimited (Docker `--memory-swap`).
    pub memory_swap: Option<i64>,
    /// CFS quota in microseconds per period, -1 for unlimited.
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    pub cpu_period: Option<u64>,
    /// v1 cpu.shares (2..=262144); converted to cpu.weight on v2.
    pub cpu_shares: Option<u64>,
    /// CPU list such as "0-1,3".
    pub cpuset_cpus: Option<String>,
    /// Memory node list such as "0".
    pub cpuset_mems: Option<String>,
    /// Maximum number of tasks, -1 for unlimited.
    pub pids_limit: Option<i64>,
    /// v1 blkio.weight (10..=1000); converted to io.weight on v2.
    pub blkio_weight: Option<u64>,
    pub device_read_bps: Vec<ThrottleDevice>,
    pub device_write_bps: Vec<ThrottleDevice>,
    /// The devices cgroup's rules after its "deny all", in order: (allow, "c 1:3 rwm"). None:
    /// Docker's default list. The standard devices' rules (`v1::DEFAULT_DEVICE_RULES`) are
    /// appended either way, as runc does.
    pub device_rules: Option<Vec<(bool, String)>>,
    /// cgroup v2 files written as given (OCI `unified`); refused on cgroup v1.
    pub unified: Vec<(String, String)>,
}

/// The portable limit names accepted by [`set_limit`] and `Cgroup::set`/`Cgroup::get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Memory,
    MemorySwap,
    Cpus,
    CpuPeriod,
    CpuQuota,
    CpuShares,
    CpusetCpus,
    CpusetMems,
    PidsLimit,
    BlkioWeight,
    DeviceReadBps,
    DeviceWriteBps,
}

impl Key {
    pub const ALL: [Key; 12] = [
        Key::Memory,
        Key::MemorySwap,
        Key::Cpus,
        Key::CpuPeriod,
        Key::CpuQuota,
        Key::CpuShares,
        Key::CpusetCpus,
        Key::CpusetMems,
        Key::PidsLimit,
        Key::BlkioWeight,
        Key::DeviceReadBps,
        Key::DeviceWriteBps,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Key::Memory => "memory",
            Key::MemorySwap => "memory-swap",
            Key::Cpus => "cpus",
            Key::CpuPeriod => "cpu-period",
            Key::CpuQuota => "cpu-quota",
            Key::CpuShares => "cpu-shares",
            Key::CpusetCpus => "cpuset-cpus",
            Key::CpusetMems => "cpuset-mems",
            Key::PidsLimit => "pids-limit",
            Key::BlkioWeight => "blkio-weight",
            Key::DeviceReadBps => "device-read-bps",
            Key::DeviceWriteBps => "device-write-bps",
        }
    }

    pub fn parse(key: &str) -> Result<Key, CgroupError> {
        Key::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(|| CgroupError::UnknownKey {
                key: key.to_string(),
                valid: Key::ALL.map(Key::as_str).join(", "),
            })
    }

    /// The v1 controller that holds this limit.
    pub(crate) fn v1_controller(self) -> &'static str {
        match self {
            Key::Memory | Key::MemorySwap => "memory",
            Key::Cpus | Key::CpuPeriod | Key::CpuQuota | Key::CpuShares => "cpu",
            Key::CpusetCpus | Key::CpusetMems => "cpuset",
            Key::PidsLimit => "pids",
            Key::BlkioWeight | Key::DeviceReadBps | Key::DeviceWriteBps => "blkio",
        }
    }

    /// The v2 controller that holds this limit.
    pub(crate) fn v2_controller(self) -> &'static str {
        match self {
            Key::BlkioWeight | Key::DeviceReadBps | Key::DeviceWriteBps => "io",
            other => other.v1_controller(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Host files consulted while validating limits; tests point them at fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    pub cpu_online: PathBuf,
    pub node_online: PathBuf,
}

impl Default for HostInfo {
    fn default() -> Self {
        HostInfo {
            cpu_online: PathBuf::from(DEFAULT_CPU_ONLINE),
            node_online: PathBuf::from(DEFAULT_NODE_ONLINE),
        }
    }
}

impl Resources {
    /// The keys that have a value set, in `Key::ALL` order.
    pub fn keys(&self) -> Vec<Key> {
        Key::ALL
            .into_iter()
            .filter(|k| match k {
                Key::Memory => self.memory.is_some(),
                Key::MemorySwap => self.memory_swap.is_some(),
                // Covered by cpu-quota/cpu-period.
                Key::Cpus => false,
                Key::CpuPeriod => self.cpu_period.is_some(),
                Key::CpuQuota => self.cpu_quota.is_some(),
                Key::CpuShares => self.cpu_shares.is_some(),
                Key::CpusetCpus => self.cpuset_cpus.is_some(),
                Key::CpusetMems => self.cpuset_mems.is_some(),
                Key::PidsLimit => self.pids_limit.is_some(),
                Key::BlkioWeight => self.blkio_weight.is_some(),
                Key::DeviceReadBps => !self.device_read_bps.is_empty(),
                Key::DeviceWriteBps => !self.device_write_bps.is_empty(),
            })
            .collect()
    }

    /// Checks the rules that involve more than one field (the single-field rules are in
    /// [`set_limit`]); `create` calls this before touching anything.
    pub fn validate(&self) -> Result<(), CgroupError> {
        if let Some(sw) = self.memory_swap.filter(|&sw| sw != -1) {
            match self.memory {
                None | Some(-1) => {
                    return Err(CgroupError::SwapWithoutMemory(sw));
                }
                Some(mem) if sw < mem => {
                    return Err(CgroupError::SwapBelowMemory {
                        swap: sw,
                        memory: mem,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Formats one field the way [`set_limit`] accepts it back; `-1` for unlimited, the empty
    /// string for an empty device list, `None` when the field is not set.
    pub fn format(&self, key: Key) -> Option<String> {
        match key {
            Key::Memory => self.memory.map(|v| v.to_string()),
            Key::MemorySwap => self.memory_swap.map(|v| v.to_string()),
            Key::Cpus => match (self.cpu_quota?, self.cpu_period?) {
                (-1, _) => Some("-1".to_string()),
                (q, p) => Some(format_cpus(q, p)),
            },
            Key::CpuPeriod => self.cpu_period.map(|v| v.to_string()),
            Key::CpuQuota => self.cpu_quota.map(|v| v.to_string()),
            Key::CpuShares => self.cpu_shares.map(|v| v.to_string()),
            Key::CpusetCpus => self.cpuset_cpus.clone(),
            Key::CpusetMems => self.cpuset_mems.clone(),
            Key::PidsLimit => self.pids_limit.map(|v| v.to_string()),
            Key::BlkioWeight => self.blkio_weight.map(|v| v.to_string()),
            Key::DeviceReadBps => Some(format_devices(&self.device_read_bps)),
            Key::DeviceWriteBps => Some(format_devices(&self.device_write_bps)),
        }
    }
}

fn format_cpus(quota: i64, period: u64) -> String {
    // Exact decimal of quota/period, trimmed, e.g. 50000/100000 -> "0.5".
    let (q, p) = (quota.max(0) as u128, u128::from(period.max(1)));
    let int = q / p;
    let mut rem = q % p;
    let mut out = int.to_string();
    if rem != 0 {
        out.push('.');
        for _ in 0..9 {
            rem *= 10;
            out.push(char::from(b'0' + (rem / p) as u8));
            rem %= p;
            if rem == 0 {
                break;
            }
        }
    }
    out
}

fn format_devices(devs: &[ThrottleDevice]) -> String {
    devs.iter()
        .map(|d| format!("{}:{} {}", d.major, d.minor, d.rate))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `value` for `key` into `res`, validating it against this host's CPUs and memory nodes.
pub fn set_limit(res: &mut Resources, key: &str, value: &str) -> Result<(), CgroupError> {
    set_limit_on(&HostInfo::default(), res, key, value)
}

/// [`set_limit`] with the host files given explicitly.
pub fn set_limit_on(
    host: &HostInfo,
    res: &mut Resources,
    key: &str,
    value: &str,
) -> Result<(), CgroupError> {
    let key = Key::parse(key)?;
    set_key(host, res, key, value)
}

/// Why a value is refused: a reason for the caller, or a host file that could not be read.
enum Refusal {
    Reason(String),
    Host(CgroupError),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Reason(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Refusal::Reason(reason.to_string())
    }
}

impl From<CgroupError> for Refusal {
    fn from(e: CgroupError) -> Self {
        Refusal::Host(e)
    }
}

type Checked<T = ()> = Result<T, Refusal>;

/// Parses `value` for `key` into `res`: one function per kind of limit; a refusal names the
/// key and the value.
pub(crate) fn set_key(
    host: &HostInfo,
    res: &mut Resources,
    key: Key,
    value: &str,
) -> Result<(), CgroupError> {
    let v = value.trim();
    let result = match key {
        Key::Memory => set_memory(res, v),
        Key::MemorySwap => set_memory_swap(res, v),
        Key::Cpus => set_cpus(host, res, v),
        Key::CpuPeriod => in_range(
            v,
            1000..=1_000_000,
            "must be between 1000 and 1000000 microseconds",
        )
        .map(|p| res.cpu_period = Some(p as u64)),
        Key::CpuQuota => set_cpu_quota(res, v),
        Key::CpuShares => in_range(v, 2..=262_144, "must be between 2 and 262144")
            .map(|s| res.cpu_shares = Some(s as u64)),
        Key::CpusetCpus => set_cpuset_cpus(host, res, v),
        Key::CpusetMems => set_cpuset_mems(host, res, v),
        Key::PidsLimit => set_pids_limit(res, v),
        Key::BlkioWeight => in_range(v, 10..=1000, "must be between 10 and 1000")
            .map(|w| res.blkio_weight = Some(w as u64)),
        Key::DeviceReadBps => set_throttle(&mut res.device_read_bps, v),
        Key::DeviceWriteBps => set_throttle(&mut res.device_write_bps, v),
    };
    result.map_err(|r| match r {
        Refusal::Reason(reason) => CgroupError::InvalidValue {
            key: key.as_str().to_string(),
            value: value.to_string(),
            reason,
        },
        Refusal::Host(e) => e,
    })
}

/// An integer within `range`.
fn in_range(v: &str, range: std::ops::RangeInclusive<i64>, why: &str) -> Checked<i64> {
    let n = parse_int(v)?;
    if !range.contains(&n) {
        return Err(why.into());
    }
    Ok(n)
}

fn set_memory(res: &mut Resources, v: &str) -> Checked {
    let mem = parse_limit_size(v)?;
    if mem != -1 && mem < MIN_MEMORY {
        return Err("the minimum memory limit is 6m".into());
    }
    if let Some(sw) = res
        .memory_swap
        .filter(|&sw| sw != -1 && mem != -1 && mem > sw)
    {
        return Err(format!("above the memory-swap limit {sw}").into());
    }
    res.memory = Some(mem);
    Ok(())
}

fn set_memory_swap(res: &mut Resources, v: &str) -> Checked {
    let sw = parse_limit_size(v)?;
    if sw != -1 {
        if sw < MIN_MEMORY {
            return Err("the minimum memory limit is 6m".into());
        }
        if let Some(mem) = res.memory.filter(|&m| m != -1 && sw < m) {
            let why = format!("below the memory limit {mem} (memory-swap is memory plus swap)");
            return Err(why.into());
        }
    }
    res.memory_swap = Some(sw);
    Ok(())
}

/// CPUs as a decimal, turned into a quota of the current (or default) period.
fn set_cpus(host: &HostInfo, res: &mut Resources, v: &str) -> Checked {
    let (num, den) = parse_decimal(v)?;
    if num == 0 {
        return Err("must be greater than 0".into());
    }
    let ncpu = host_cpu_count(host)?;
    if num > u128::from(ncpu) * den {
        return Err(format!("this host has only {ncpu} cpus").into());
    }
    let period = res.cpu_period.unwrap_or(DEFAULT_CPU_PERIOD);
    let quota = num * u128::from(period) / den;
    if quota < 1000 {
        return Err("too small: the cpu quota would be below 1ms".into());
    }
    res.cpu_quota = Some(i64::try_from(quota).map_err(|_| "too large")?);
    res.cpu_period = Some(period);
    Ok(())
}

fn set_cpu_quota(res: &mut Resources, v: &str) -> Checked {
    let q = parse_int(v)?;
    if q != -1 && q < 1000 {
        return Err("must be at least 1000 microseconds, or -1 for unlimited".into());
    }
    res.cpu_quota = Some(q);
    Ok(())
}

fn set_cpuset_cpus(host: &HostInfo, res: &mut Resources, v: &str) -> Checked {
    let want = parse_list(v)?;
    let online = read_host_list(&host.cpu_online)?;
    if let Some(cpu) = first_missing(&want, &online) {
        let online = format_list(&online);
        return Err(format!("cpu {cpu} does not exist on this host (online: {online})").into());
    }
    res.cpuset_cpus = Some(v.to_string());
    Ok(())
}

/// The host's online memory nodes; kernels without NUMA have no node directory: node 0 is
/// the only one.
fn online_nodes(host: &HostInfo) -> Result<Vec<(u32, u32)>, CgroupError> {
    match std::fs::read_to_string(&host.node_online) {
        Ok(s) => parse_list(s.trim()).map_err(|reason| CgroupError::Parse {
            path: host.node_online.clone(),
            content: format!("{} ({reason})", s.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![(0, 0)]),
        Err(source) => Err(CgroupError::Io {
            path: host.node_online.clone(),
            source,
        }),
    }
}

fn set_cpuset_mems(host: &HostInfo, res: &mut Resources, v: &str) -> Checked {
    let want = parse_list(v)?;
    let online = online_nodes(host)?;
    if let Some(node) = first_missing(&want, &online) {
        let online = format_list(&online);
        let why = format!("memory node {node} does not exist on this host (online: {online})");
        return Err(why.into());
    }
    res.cpuset_mems = Some(v.to_string());
    Ok(())
}

fn set_pids_limit(res: &mut Resources, v: &str) -> Checked {
    let n = parse_int(v)?;
    if n == 0 || n < -1 {
        return Err("must be positive, or -1 for unlimited".into());
    }
    res.pids_limit = Some(n);
    Ok(())
}

/// Adds a device's bandwidth limit, or replaces that device's.
fn set_throttle(list: &mut Vec<ThrottleDevice>, v: &str) -> Checked {
    let dev = parse_throttle(v)?;
    match list
        .iter_mut()
        .find(|d| d.major == dev.major && d.minor == dev.minor)
    {
        Some(existing) => *existing = dev,
        None => list.push(dev),
    }
    Ok(())
}

/// Size with Docker's units (binary multiples): "1048576", "32m", "1.5g", "512kb".
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err("must not be negative".to_string());
    }
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("unknown unit '{unit}' (use b, k, m, g or t)")),
    };
    let (num, den) = parse_decimal(number)?;
    let bytes = num * u128::from(mult) / den;
    u64::try_from(bytes)
        .ok()
        .filter(|&b| b <= i64::MAX as u64)
        .ok_or_else(|| "too large".to_string())
}

/// A size, or "-1" for unlimited.
fn parse_limit_size(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    // parse_size caps at i64::MAX.
    parse_size(s).map(|b| b as i64)
}

/// A non-negative decimal "1", "0.5", "1.25" as num/den with den a power of ten.
fn parse_decimal(s: &str) -> Result<(u128, u128), String> {
    if s.starts_with('-') {
        return Err("must not be negative".to_string());
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
        return Err("not a number".to_string());
    }
    if int.len() + frac.len() > 30 {
        return Err("too large".to_string());
    }
    let den = 10u128.pow(frac.len() as u32);
    let num: u128 = format!("{int}{frac}")
        .parse()
        .map_err(|_| "not a number".to_string())?;
    Ok((num, den))
}

fn parse_int(s: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    s.parse::<i64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => "too large".to_string(),
        _ => "not an integer".to_string(),
    })
}

/// "MAJ:MIN RATE" or "/dev/path:RATE"; RATE with size units.
fn parse_throttle(s: &str) -> Result<ThrottleDevice, String> {
    let (major, minor, rate) = if s.starts_with('/') {
        let (path, rate) = s.rsplit_once(':').ok_or("expected /dev/path:RATE")?;
        let (major, minor) = block_device_numbers(Path::new(path))?;
        (major, minor, rate)
    } else {
        let mut parts = s.split_whitespace();
        let (dev, rate) = match (parts.next(), parts.next(), parts.next()) {
            (Some(d), Some(r), None) => (d, r),
            _ => return Err("expected 'MAJOR:MINOR RATE' or '/dev/path:RATE'".to_string()),
        };
        let (ma, mi) = dev.split_once(':').ok_or("expected MAJOR:MINOR")?;
        let num = |x: &str| {
            x.parse::<u64>()
                .map_err(|_| format!("bad device number '{x}'"))
        };
        (num(ma)?, num(mi)?, rate)
    };
    let rate = parse_size(rate)?;
    Ok(ThrottleDevice { major, minor, rate })
}

fn block_device_numbers(path: &Path) -> Result<(u64, u64), String> {
    let st = nix::sys::stat::stat(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFBLK {
        return Err(format!("{} is not a block device", path.display()));
    }
    Ok((
        nix::sys::stat::major(st.st_rdev),
        nix::sys::stat::minor(st.st_rdev),
    ))
}

/// A kernel list "0-3,5" as inclusive ranges.
pub(crate) fn parse_list(s: &str) -> Result<Vec<(u32, u32)>, String> {
    if s.is_empty() {
        return Err("empty list".to_string());
    }
    s.split(',')
        .map(|item| {
            let num = |x: &str| x.parse::<u32>().map_err(|_| format!("bad number '{x}'"));
            match item.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (num(lo)?, num(hi)?);
                    if lo > hi {
                        return Err(format!("bad range '{item}'"));
                    }
                    Ok((lo, hi))
                }
                None => num(item).map(|n| (n, n)),
            }
        })
        .collect()
}

fn format_list(list: &[(u32, u32)]) -> String {
    list.iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn first_missing(want: &[(u32, u32)], have: &[(u32, u32)]) -> Option<u32> {
    let contains = |n: u32| have.iter().any(|&(lo, hi)| (lo..=hi).contains(&n));
    // Walk range ends and gaps, not every number: a range is covered iff its start is
    // and no hole in `have` falls inside it.
    for &(lo, hi) in want {
        if !contains(lo) {
            return Some(lo);
        }
        let mut n = lo;
        while n < hi {
            // Jump to the end of the covering range, then check the next number.
            let end = have
                .iter()
                .filter(|&&(a, b)| (a..=b).contains(&n))
                .map(|&(_, b)| b)
                .max();
            match end {
                Some(e) if e >= hi => break,
                Some(e) => {
                    n = e + 1;
                    if !contains(n) {
                        return Some(n);
                    }
                }
                None => return Some(n),
            }
        }
    }
    None
}

fn read_host_list(path: &Path) -> Result<Vec<(u32, u32)>, CgroupError> {
    let s = std::fs::read_to_string(path).map_err(|source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_list(s.trim()).map_err(|reason| CgroupError::Parse {
        path: path.to_path_buf(),
        content: format!("{} ({reason})", s.trim()),
    })
}

fn host_cpu_count(host: &HostInfo) -> Result<u64, CgroupError> {
    let list = read_host_list(&host.cpu_online)?;
    Ok(list.iter().map(|&(lo, hi)| u64::from(hi - lo) + 1).sum())
}

/// v1 cpu.shares -> v2 cpu.weight, as runc and crun convert (2..=262144 -> 1..=10000).
pub fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// The smallest shares value that converts to `weight` (exact inverse on converted values).
pub fn weight_to_shares(weight: u64) -> u64 {
    let weight = weight.clamp(1, 10_000);
    2 + ((weight - 1) * 262_142).div_ceil(9999)
}

/// v1 blkio.weight -> v2 io.weight, the OCI conversion (10..=1000 -> 1..=10000).
pub fn blkio_to_io_weight(blkio: u64) -> u64 {
    let blkio = blkio.clamp(10, 1000);
    1 + ((blkio - 10) * 9999) / 990
}

/// Inverse of [`blkio_to_io_weight`] on converted values.
pub fn io_to_blkio_weight(io: u64) -> u64 {
    let io = io.clamp(1, 10_000);
    (10 + ((io - 1) * 990).div_ceil(9999)).min(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Host fixture with 4 cpus "0-3" and node list "0".
    struct Fixture {
        dir: PathBuf,
        host: HostInfo,
    }

    impl Fixture {
        fn new(cpus: &str, nodes: Option<&str>) -> Fixture {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "cgres-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            std::fs::create_dir_all(&dir).expect("create fixture dir");
            std::fs::write(dir.join("cpu_online"), format!("{cpus}\n")).expect("write fixture");
            if let Some(n) = nodes {
                std::fs::write(dir.join("node_online"), format!("{n}\n")).expect("write fixture");
            }
            let host = HostInfo {
                cpu_online: dir.join("cpu_online"),
                node_online: dir.join("node_online"),
            };
            Fixture { dir, host }
        }

        fn set(&self, res: &mut Resources, key: &str, value: &str) -> Result<(), CgroupError> {
            set_limit_on(&self.host, res, key, value)
        }

        fn one(&self, key: &str, value: &str) -> Result<Resources, CgroupError> {
            let mut r = Resources::default();
            self.set(&mut r, key, value).map(|()| r)
        }

        fn err(&self, key: &str, value: &str) -> String {
            match self.one(key, value) {
                Ok(r) => panic!("{key}={value} accepted: {r:?}"),
                Err(e) => e.to_string(),
            }
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fx() -> Fixture {
        Fixture::new("0-3", Some("0"))
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("32m"), Ok(32 << 20));
        assert_eq!(parse_size("32M"), Ok(32 << 20));
        assert_eq!(parse_size("32mb"), Ok(32 << 20));
        assert_eq!(parse_size("32MB"), Ok(32 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1Gb"), Ok(1 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("512KB"), Ok(512 << 10));
        assert_eq!(parse_size("100b"), Ok(100));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("12x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("m").is_err());
        assert!(parse_size("-5m").unwrap_err().contains("negative"));
        assert!(parse_size("1.g").is_err());
        assert!(
            parse_size("99999999999t")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn memory() {
        let f = fx();
        assert_eq!(f.one("memory", "32m").unwrap().memory, Some(32 << 20));
        assert_eq!(f.one("memory", "6m").unwrap().memory, Some(6 << 20));
        assert_eq!(f.one("memory", "-1").unwrap().memory, Some(-1));
        let e = f.err("memory", "12x");
        assert!(
            e.contains("'12x'") && e.contains("memory") && e.contains("unit"),
            "{e}"
        );
        assert!(f.err("memory", "5m").contains("minimum"));
        assert!(f.err("memory", "-5m").contains("negative"));
        assert!(f.err("memory", "0").contains("minimum"));
    }

    #[test]
    fn memory_swap() {
        let f = fx();
        let mut r = Resources::default();
        f.set(&mut r, "memory", "32m").unwrap();
        f.set(&mut r, "memory-swap", "64m").unwrap();
        assert_eq!(r.memory_swap, Some(64 << 20));
        f.set(&mut r, "memory-swap", "-1").unwrap();
        assert_eq!(r.memory_swap, Some(-1));
        f.set(&mut r, "memory-swap", "32m").unwrap();
        let e = f.set(&mut r, "memory-swap", "16m").unwrap_err().to_string();
        assert!(
            e.contains("memory-swap") && e.contains("'16m'") && e.contains("below"),
            "{e}"
        );
        // Raising memory above memory-swap is refused the other way round too.
        let e = f.set(&mut r, "memory", "64m").unwrap_err().to_string();
        assert!(e.contains("above the memory-swap"), "{e}");
        assert!(f.err("memory-swap", "12x").contains("memory-swap"));
        assert!(f.err("memory-swap", "-2").contains("negative"));
    }

    #[test]
    fn validate_cross_field() {
        let f = fx();
        let r = f.one("memory-swap", "64m").unwrap();
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("needs a memory limit")
        );
        let r = Resources {
            memory: Some(64 << 20),
            memory_swap: Some(32 << 20),
            ..Default::default()
        };
        assert!(r.validate().is_err());
        let r = Resources {
            memory: Some(32 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        assert!(r.validate().is_ok());
        assert!(Resources::default().validate().is_ok());
    }

    #[test]
    fn cpus() {
        let f = fx();
        let r = f.one("cpus", "0.5").unwrap();
        assert_eq!((r.cpu_quota, r.cpu_period), (Some(50_000), Some(100_000)));
        let r = f.one("cpus", "4").unwrap();
        assert_eq!(r.cpu_quota, Some(400_000));
        let r = f.one("cpus", "1.25").unwrap();
        assert_eq!(r.cpu_quota, Some(125_000));
        // A period set first is kept.
        let mut r = Resources::default();
        f.set(&mut r, "cpu-period", "50000").unwrap();
        f.set(&mut r, "cpus", "1.5").unwrap();
        assert_eq!((r.cpu_quota, r.cpu_period), (Some(75_000), Some(50_000)));
        assert!(f.err("cpus", "0").contains("greater than 0"));
        assert!(f.err("cpus", "0.0").contains("greater than 0"));
        let e = f.err("cpus", "4.5");
        assert!(e.contains("only 4 cpus") && e.contains("'4.5'"), "{e}");
        assert!(f.err("cpus", "-1").contains("negative"));
        assert!(f.err("cpus", "abc").contains("not a number"));
        assert!(f.err("cpus", "0.001").contains("too small"));
        assert!(f.err("cpus", "1.").contains("not a number"));
    }

    #[test]
    fn cpus_counts_host_list() {
        let f = Fixture::new("0-1,4-5", None);
        assert!(f.one("cpus", "4").is_ok());
        assert!(f.err("cpus", "5").contains("only 4 cpus"));
    }

    #[test]
    fn cpu_period_quota_shares() {
        let f = fx();
        assert_eq!(
            f.one("cpu-period", "100000").unwrap().cpu_period,
            Some(100_000)
        );
        assert!(f.err("cpu-period", "999").contains("between"));
        assert!(f.err("cpu-period", "1000001").contains("between"));
        assert!(f.err("cpu-period", "1e5").contains("integer"));
        assert_eq!(f.one("cpu-quota", "50000").unwrap().cpu_quota, Some(50_000));
        assert_eq!(f.one("cpu-quota", "-1").unwrap().cpu_quota, Some(-1));
        assert!(f.err("cpu-quota", "500").contains("at least 1000"));
        assert!(f.err("cpu-quota", "-2").contains("at least 1000"));
        assert_eq!(f.one("cpu-shares", "512").unwrap().cpu_shares, Some(512));
        assert_eq!(f.one("cpu-shares", "2").unwrap().cpu_shares, Some(2));
        assert_eq!(
            f.one("cpu-shares", "262144").unwrap().cpu_shares,
            Some(262_144)
        );
        assert!(f.err("cpu-shares", "1").contains("between 2 and 262144"));
        assert!(f.err("cpu-shares", "262145").contains("between"));
        assert!(f.err("cpu-shares", "-5").contains("between"));
        assert!(f.err("cpu-shares", "x").contains("integer"));
    }

    #[test]
    fn cpusets() {
        let f = fx();
        assert_eq!(
            f.one("cpuset-cpus", "0-1,3")
                .unwrap()
                .cpuset_cpus
                .as_deref(),
            Some("0-1,3")
        );
        assert_eq!(
            f.one("cpuset-cpus", "0-3").unwrap().cpuset_cpus.as_deref(),
            Some("0-3")
        );
        let e = f.err("cpuset-cpus", "0-4");
        assert!(
            e.contains("cpu 4 does not exist") && e.contains("0-3"),
            "{e}"
        );
        assert!(f.err("cpuset-cpus", "7").contains("cpu 7"));
        assert!(f.err("cpuset-cpus", "3-1").contains("bad range"));
        assert!(f.err("cpuset-cpus", "").contains("empty"));
        assert!(f.err("cpuset-cpus", "a").contains("bad number"));
        assert!(f.err("cpuset-cpus", "-1").contains("bad number"));
        assert_eq!(
            f.one("cpuset-mems", "0").unwrap().cpuset_mems.as_deref(),
            Some("0")
        );
        assert!(f.err("cpuset-mems", "1").contains("memory node 1"));
        // Hole in the online list.
        let f = Fixture::new("0-1,4-5", None);
        assert!(f.one("cpuset-cpus", "0,1,4-5").is_ok());
        assert!(f.err("cpuset-cpus", "0-5").contains("cpu 2 does not exist"));
        assert!(f.err("cpuset-cpus", "4-6").contains("cpu 6 does not exist"));
        // No node file: only node 0.
        assert!(f.one("cpuset-mems", "0").is_ok());
        assert!(f.err("cpuset-mems", "0-1").contains("memory node 1"));
    }

    #[test]
    fn pids_and_blkio_weight() {
        let f = fx();
        assert_eq!(f.one("pids-limit", "100").unwrap().pids_limit, Some(100));
        assert_eq!(f.one("pids-limit", "-1").unwrap().pids_limit, Some(-1));
        assert!(f.err("pids-limit", "0").contains("positive"));
        assert!(f.err("pids-limit", "-7").contains("positive"));
        assert!(f.err("pids-limit", "1.5").contains("integer"));
        assert_eq!(
            f.one("blkio-weight", "500").unwrap().blkio_weight,
            Some(500)
        );
        assert!(f.one("blkio-weight", "10").is_ok() && f.one("blkio-weight", "1000").is_ok());
        assert!(f.err("blkio-weight", "9").contains("between 10 and 1000"));
        assert!(f.err("blkio-weight", "1001").contains("between"));
    }

    #[test]
    fn device_bps() {
        let f = fx();
        let r = f.one("device-read-bps", "8:0 1mb").unwrap();
        assert_eq!(
            r.device_read_bps,
            vec![ThrottleDevice {
                major: 8,
                minor: 0,
                rate: 1 << 20
            }]
        );
        let mut r = Resources::default();
        f.set(&mut r, "device-write-bps", "8:0 1m").unwrap();
        f.set(&mut r, "device-write-bps", "8:16 2048").unwrap();
        f.set(&mut r, "device-write-bps", "8:0 4m").unwrap();
        assert_eq!(
            r.device_write_bps,
            vec![
                ThrottleDevice {
                    major: 8,
                    minor: 0,
                    rate: 4 << 20
                },
                ThrottleDevice {
                    major: 8,
                    minor: 16,
                    rate: 2048
                },
            ]
        );
        assert_eq!(
            r.format(Key::DeviceWriteBps).as_deref(),
            Some("8:0 4194304\n8:16 2048")
        );
        assert!(f.err("device-read-bps", "8:0").contains("expected"));
        assert!(f.err("device-read-bps", "8 1m").contains("MAJOR:MINOR"));
        assert!(
            f.err("device-read-bps", "8:x 1m")
                .contains("bad device number")
        );
        assert!(f.err("device-read-bps", "8:0 1q").contains("unit"));
        assert!(
            f.err("device-read-bps", "/nonexistent/dev:1m")
                .contains("/nonexistent/dev")
        );
        assert!(
            f.err("device-read-bps", "/dev/null:1m")
                .contains("not a block device")
        );
        assert!(f.err("device-read-bps", "/dev/null").contains("expected"));
    }

    #[test]
    fn device_bps_by_path() {
        // Any block device of this host will do; skip quietly when there is none.
        let Some(dev) = [
            "/dev/vda",
            "/dev/sda",
            "/dev/nvme0n1",
            "/dev/zram0",
            "/dev/loop0",
        ]
        .into_iter()
        .find(|p| block_device_numbers(Path::new(p)).is_ok()) else {
            eprintln!("skipped: no block device found");
            return;
        };
        let (ma, mi) = block_device_numbers(Path::new(dev)).unwrap();
        let r = fx().one("device-write-bps", &format!("{dev}:2m")).unwrap();
        assert_eq!(
            r.device_write_bps,
            vec![ThrottleDevice {
                major: ma,
                minor: mi,
                rate: 2 << 20
            }]
        );
    }

    #[test]
    fn unknown_key_lists_valid_ones() {
        let e = fx().err("memroy", "1g");
        assert!(e.contains("'memroy'"), "{e}");
        for k in Key::ALL {
            assert!(e.contains(k.as_str()), "{e} lacks {k}");
        }
    }

    #[test]
    fn keys_round_trip_through_format() {
        let f = fx();
        for (k, v) in [
            ("memory", "33554432"),
            ("memory-swap", "-1"),
            ("cpu-period", "100000"),
            ("cpu-quota", "50000"),
            ("cpu-shares", "512"),
            ("cpuset-cpus", "0-1"),
            ("cpuset-mems", "0"),
            ("pids-limit", "100"),
            ("blkio-weight", "300"),
            ("device-read-bps", "8:0 1024"),
        ] {
            let r = f.one(k, v).unwrap();
            assert_eq!(r.format(Key::parse(k).unwrap()).as_deref(), Some(v), "{k}");
        }
        let r = f.one("cpus", "0.5").unwrap();
        assert_eq!(r.format(Key::Cpus).as_deref(), Some("0.5"));
        assert_eq!(format_cpus(33_333, 100_000), "0.33333");
        assert_eq!(format_cpus(200_000, 100_000), "2");
    }

    #[test]
    fn weight_conversions() {
        // The runc/crun formula at the ends and a few points.
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(512), 20);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert_eq!(blkio_to_io_weight(500), 4950);
        // The inverses recover a value that converts to the same weight.
        for s in (2..=262_144).step_by(97) {
            let w = shares_to_weight(s);
            assert_eq!(shares_to_weight(weight_to_shares(w)), w);
        }
        for b in 10..=1000 {
            assert_eq!(io_to_blkio_weight(blkio_to_io_weight(b)), b);
        }
    }

    #[test]
    fn list_parsing() {
        assert_eq!(parse_list("0-1,3"), Ok(vec![(0, 1), (3, 3)]));
        assert!(parse_list("1,,2").is_err());
        assert_eq!(first_missing(&[(0, 100)], &[(0, 50), (51, 100)]), None);
        assert_eq!(first_missing(&[(0, 100)], &[(0, 50), (52, 100)]), Some(51));
        assert_eq!(first_missing(&[(0, u32::MAX)], &[(0, 3)]), Some(4));
    }
}
