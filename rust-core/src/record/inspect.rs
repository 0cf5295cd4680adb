//! `docker inspect` for a record: the JSON of Docker's essential fields, and Go-template-style
//! selection of one of them (`--format '{{.State.Pid}}'`).

use std::os::unix::ffi::OsStrExt;

use serde_json::{Map, Value, json};

use super::{ContainerRecord, RecordStore, RunStatus, rfc3339};
use crate::spec::{MountKind, NetworkMode, Protocol};

fn lossy(s: &std::ffi::OsStr) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

fn host_config(rec: &ContainerRecord) -> Value {
    let spec = &rec.spec;
    let r = &spec.resources;
    let binds: Vec<String> = spec
        .mounts
        .iter()
        .filter_map(|m| match &m.kind {
            MountKind::Bind { source, readonly } => Some(format!(
                "{}:{}{}",
                source.display(),
                m.destination.display(),
                if *readonly { ":ro" } else { "" }
            )),
            _ => None,
        })
        .collect();
    let tmpfs: Map<String, Value> = spec
        .mounts
        .iter()
        .filter_map(|m| match &m.kind {
            MountKind::Tmpfs { options } => {
                Some((m.destination.display().to_string(), json!(options)))
            }
            _ => None,
        })
        .collect();
    let (policy, retries) = spec.restart.docker_name();
    let nano_cpus = match (r.cpu_quota, r.cpu_period) {
        (Some(q), Some(p)) if q > 0 && p > 0 => q as u64 * 1_000_000_000 / p,
        _ => 0,
    };
    json!({
        "Binds": binds,
        "NetworkMode": network_mode(rec),
        "PortBindings": ports(rec, ""),
        "RestartPolicy": {"Name": policy, "MaximumRetryCount": retries},
        "AutoRemove": spec.auto_remove,
        "ReadonlyRootfs": spec.readonly_rootfs,
        "Init": spec.init,
        "Tmpfs": tmpfs,
        "Memory": r.memory.unwrap_or(0),
        "MemorySwap": r.memory_swap.unwrap_or(0),
        "NanoCpus": nano_cpus,
        "CpuShares": r.cpu_shares.unwrap_or(0),
        "CpuPeriod": r.cpu_period.unwrap_or(0),
        "CpuQuota": r.cpu_quota.unwrap_or(0),
        "CpusetCpus": r.cpuset_cpus.clone().unwrap_or_default(),
        "CpusetMems": r.cpuset_mems.clone().unwrap_or_default(),
        "PidsLimit": r.pids_limit,
        "BlkioWeight": r.blkio_weight.unwrap_or(0),
    })
}

fn network_mode(rec: &ContainerRecord) -> &'static str {
    match rec.spec.network.mode {
        NetworkMode::Bridge => "bridge",
        NetworkMode::Host => "host",
        NetworkMode::None => "none",
    }
}

/// Docker's port map: `{"80/tcp": [{"HostIp": host_ip, "HostPort": "8080"}]}`.
fn ports(rec: &ContainerRecord, host_ip: &str) -> Value {
    let mut map = Map::new();
    for p in &rec.spec.network.ports {
        let proto = match p.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let binding = json!({"HostIp": host_ip, "HostPort": p.host_port.to_string()});
        let key = format!("{}/{proto}", p.container_port);
        match map.get_mut(&key) {
            Some(Value::Array(list)) => list.push(binding),
            _ => {
                map.insert(key, json!([binding]));
            }
        }
    }
    Value::Object(map)
}

/// The record as `docker inspect` shows a container.
pub fn to_json(rec: &ContainerRecord, store: &RecordStore) -> Value {
    let spec = &rec.spec;
    let s = rec.effective_state();
    let args: Vec<String> = spec.args.iter().map(|a| lossy(a)).collect();
    let running = s.status == RunStatus::Running;
    let entrypoint: &[String] = spec.image.as_ref().map_or(&[], |i| &i.entrypoint);
    let exposed: Map<String, Value> = spec
        .image
        .iter()
        .flat_map(|i| &i.exposed_ports)
        .map(|p| (p.clone(), json!({})))
        .collect();
    let addr = |v: &Option<String>| {
        if running {
            v.clone().unwrap_or_default()
        } else {
            String::new()
        }
    };
    json!({
        "Id": rec.id,
        "Created": rfc3339(rec.created),
        "Path": args.first().cloned().unwrap_or_default(),
        "Args": args.get(1..).unwrap_or_default(),
        "State": {
            "Status": s.status.as_str(),
            "Running": running,
            "Paused": false,
            "Restarting": s.status == RunStatus::Restarting,
            "OOMKilled": s.oom_killed,
            "Dead": false,
            "Pid": if running { s.process.pid } else { 0 },
            "ExitCode": s.exit_code,
            "Error": s.error,
            "StartedAt": rfc3339(s.started_at),
            "FinishedAt": rfc3339(s.finished_at),
        },
        "LogPath": store.log_path(&rec.id).display().to_string(),
        "Name": rec.name.as_ref().map_or(String::new(), |n| format!("/{n}")),
        "RestartCount": s.restart_count,
        "Config": {
            "Hostname": spec.hostname,
            "User": format!("{}:{}", spec.uid, spec.gid),
            "Tty": spec.terminal,
            "Env": spec.env.iter().map(|e| lossy(e)).collect::<Vec<_>>(),
            "Cmd": args.strip_prefix(entrypoint).unwrap_or(&args),
            "Entrypoint": if entrypoint.is_empty() { Value::Null } else { json!(entrypoint) },
            "ExposedPorts": exposed,
            "Image": spec.image.as_ref().map_or_else(|| spec.rootfs.display().to_string(), |i| i.name.clone()),
            "WorkingDir": spec.cwd.display().to_string(),
        },
        "HostConfig": host_config(rec),
        "NetworkSettings": {
            "IPAddress": addr(&s.ip),
            "IPPrefixLen": if running { s.prefix_len } else { 0 },
            "Gateway": addr(&s.gateway),
            "MacAddress": addr(&s.mac),
            "Ports": if running { ports(rec, "0.0.0.0") } else { json!({}) },
        },
    })
}

/// Why a template could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("template {template:?}: {problem}")]
pub struct FormatError {
    pub template: String,
    pub problem: String,
}

/// How a selected value prints: strings as they are, other scalars as JSON, objects and lists
/// as JSON (Go would print its map syntax, which no one parses).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        other => other.to_string(),
    }
}

/// One action of a template: `.A.B.C`, `.` or `json .A.B`.
fn action(value: &Value, action: &str) -> Result<String, String> {
    let action = action.trim();
    let (json_out, path) = match action.strip_prefix("json ") {
        Some(rest) => (true, rest.trim()),
        None => (false, action),
    };
    let Some(path) = path.strip_prefix('.') else {
        return Err(format!(
            "unsupported action {action:?}: use .Field.Sub or json .Field"
        ));
    };
    let mut v = value;
    for field in path.split('.').filter(|f| !f.is_empty()) {
        v = v
            .get(field)
            .ok_or_else(|| format!("no field {field:?} in .{path}"))?;
    }
    Ok(if json_out { v.to_string() } else { text_of(v) })
}

/// Applies a Go-template-style `template` (literal text and `{{...}}` actions) to `value`.
pub fn format(value: &Value, template: &str) -> Result<String, FormatError> {
    let fail = |problem: String| FormatError {
        template: template.to_string(),
        problem,
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| fail("unclosed action".into()))?;
        out.push_str(&action(value, &after[..end]).map_err(fail)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out.replace("\\n", "\n"))
}
