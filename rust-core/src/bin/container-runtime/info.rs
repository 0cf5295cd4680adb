//! The read-only commands: `state`, `list`, `ps`, `features`, `spec`.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use crate::Ctx;
use crate::cgroup;
use crate::cli::{ArgCount, Parsed};
use crate::error::Fail;
use crate::state;

fn print_json(v: &impl serde::Serialize) -> Result<(), Fail> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Fail::msg(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// `state ID`: the OCI state as JSON.
pub fn state(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("state", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], false)?;
    let saved = entry.load()?;
    print_json(&saved.oci_state(entry.status(&saved)))?;
    Ok(0)
}

/// `list [--format table|json] [--quiet]`: every container under the root.
pub fn list(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("list", ArgCount::Exactly(0))?;
    let format = p.get("format").unwrap_or("table");
    if format != "table" && format != "json" {
        return Err(Fail::msg(format!("invalid format option: {format}")));
    }
    let root = ctx.root()?;
    let mut rows = Vec::new();
    for id in root.ids() {
        // One being created or removed right now, or a broken one, is left out.
        let Ok(entry) = root.lock(&id, false) else {
            continue;
        };
        let Ok(saved) = entry.load() else { continue };
        let status = entry.status(&saved);
        rows.push((saved, status));
    }
    if p.on("quiet") {
        for (s, _) in &rows {
            println!("{}", s.id);
        }
    } else if format == "json" {
        let states: Vec<_> = rows.iter().map(|(s, st)| s.oci_state(*st)).collect();
        print_json(&states)?;
    } else {
        let mut table =
            vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from)];
        for (s, st) in &rows {
            let o = s.oci_state(*st);
            table.push([
                o.id.to_string(),
                o.pid.to_string(),
                o.status.to_string(),
                o.bundle.to_string(),
                o.created.to_string(),
                "root".to_string(),
            ]);
        }
        print!("{}", columns(&table));
    }
    Ok(0)
}

/// Left-aligned columns three spaces apart (Go's tabwriter as runc sets it up).
fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut width = [0usize; N];
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

/// `ps [--format table|json] ID [ps options]`: the container's processes.
pub fn ps(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("ps", ArgCount::AtLeast(1))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], false)?;
    let saved = entry.load()?;
    let pids = cgroup::pids(&saved);
    drop(entry);
    match p.get("format").unwrap_or("table") {
        "json" => {
            println!("{}", serde_json::to_string(&pids).unwrap_or_default());
            Ok(0)
        }
        "table" => ps_table(&pids, &p.args[1..]),
        f => Err(Fail::msg(format!("invalid format option: {f}"))),
    }
}

/// `ps` (default options -ef), keeping the header and the lines of the container's pids.
fn ps_table(pids: &[i32], opts: &[String]) -> Result<i32, Fail> {
    let opts: Vec<&str> = if opts.is_empty() {
        vec!["-ef"]
    } else {
        opts.iter().map(String::as_str).collect()
    };
    let out = std::process::Command::new("ps")
        .args(&opts)
        .output()
        .map_err(|e| Fail::io("ps", e))?;
    if !out.status.success() {
        return Err(Fail::msg(format!(
            "ps: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|c| c == "PID")
        .ok_or_else(|| Fail::msg("couldn't find PID field in ps output"))?;
    println!("{header}");
    for l in lines {
        let pid = l.split_whitespace().nth(col).and_then(|s| s.parse().ok());
        if pid.is_some_and(|p: i32| pids.contains(&p)) {
            println!("{l}");
        }
    }
    Ok(0)
}

/// `features`: what this runtime supports, in the OCI features format (runtime-spec
/// features.md), so engines can ask instead of guessing.
pub fn features(_ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("features", ArgCount::Exactly(0))?;
    const CAPS: &[&str] = &container_runtime::seccomp::CAPABILITIES;
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(CAPS.len() - 1);
    let caps = &CAPS[..=last.min(CAPS.len() - 1)];
    let v = serde_json::json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": state::OCI_VERSION,
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": [
            "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
            "iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
            "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
            "nosymfollow", "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared",
            "rslave", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid",
            "symfollow", "sync", "tmpcopyup", "unbindable"
        ],
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
            "capabilities": caps,
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false },
            "seccomp": {
                "enabled": true,
                "actions": [
                    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"
                ],
                "operators": [
                    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                    "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"
                ],
                "archs": [native_arch()],
                "knownFlags": [
                    "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                    "SECCOMP_FILTER_FLAG_TSYNC"
                ],
                "supportedFlags": [
                    "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                    "SECCOMP_FILTER_FLAG_TSYNC"
                ]
            },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false }
        },
        "annotations": {
            "org.opencontainers.runtime-spec.features.runtime.name": "container-runtime",
            "org.opencontainers.runtime-spec.features.runtime.version": env!("CARGO_PKG_VERSION")
        }
    });
    print_json(&v)?;
    Ok(0)
}

fn native_arch() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "SCMP_ARCH_AARCH64"
    } else {
        "SCMP_ARCH_X86_64"
    }
}

/// runc's default config.json: a shell on a terminal with the default capabilities, in new
/// pid, network, ipc, uts and mount namespaces. runc also lists the three capabilities as
/// ambient, which the kernel refuses without them in the inheritable set (runc drops that
/// silently); here they are left out.
const DEFAULT_SPEC: &str = r#"{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": true,
    "user": { "uid": 0, "gid": 0 },
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "container",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
  ],
  "linux": {
    "resources": { "devices": [{ "allow": false, "access": "rwm" }] },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" },
      { "type": "mount" }
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
      "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}
"#;

/// `spec [--bundle DIR]`: writes the default config.json, never over an existing one.
pub fn spec(_ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("spec", ArgCount::Exactly(0))?;
    if p.on("rootless") {
        return Err(Fail::msg("spec --rootless is not supported: run as root"));
    }
    let path = PathBuf::from(p.get("bundle").unwrap_or(".")).join("config.json");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o666)
        .open(&path);
    match f {
        Ok(mut f) => f
            .write_all(DEFAULT_SPEC.as_bytes())
            .map_err(|e| Fail::io(path.display(), e))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Fail::msg(format!(
                "File {} exists. Remove it first",
                path.display()
            )));
        }
        Err(e) => return Err(Fail::io(path.display(), e)),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_spec_is_valid_oci() {
        let s: oci_spec::runtime::Spec = serde_json::from_str(super::DEFAULT_SPEC).unwrap();
        assert_eq!(
            s.process().as_ref().unwrap().args().as_ref().unwrap(),
            &["sh"]
        );
    }

    #[test]
    fn columns_pad_as_tabwriter() {
        let t = [
            ["ID", "PID"].map(String::from),
            ["long-id", "1"].map(String::from),
        ];
        assert_eq!(super::columns(&t), "ID        PID\nlong-id   1\n");
    }
}
