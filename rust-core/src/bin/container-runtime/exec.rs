//! `exec [flags] ID [COMMAND ARGS...]`: a process in a running container, described by
//! `--process FILE` (an OCI `process` object, what containerd and conmon pass) or by the
//! command line and flags.

use std::path::PathBuf;

use container_runtime::container::Host;
use container_runtime::oci;
use container_runtime::{Container, ExecSpec};

use crate::Ctx;
use crate::cli::{ArgCount, Flag, Parsed, flag, opt};
use crate::console;
use crate::error::Fail;
use crate::state::Status;

pub const FLAGS: &[Flag] = &[
    opt(&["console-socket"]),
    opt(&["pidfd-socket"]),
    opt(&["cwd"]),
    opt(&["env", "e"]),
    flag(&["tty", "t"]),
    opt(&["user", "u"]),
    opt(&["additional-gids", "g"]),
    opt(&["process", "p"]),
    flag(&["detach", "d"]),
    opt(&["pid-file"]),
    opt(&["process-label"]),
    opt(&["apparmor"]),
    flag(&["no-new-privs"]),
    opt(&["cap", "c"]),
    opt(&["preserve-fds"]),
    opt(&["cgroup"]),
    flag(&["ignore-paused"]),
];

fn parse_id(what: &str, v: &str) -> Result<u32, Fail> {
    v.parse()
        .map_err(|_| Fail::msg(format!("invalid {what} {v:?}: expected a number")))
}

/// The process to run: the file's, else one made of the flags; flags given with a file
/// override it, as runc does.
fn exec_spec(p: &Parsed) -> Result<ExecSpec, Fail> {
    for unsupported in ["process-label", "apparmor", "cgroup", "pidfd-socket"] {
        if p.get(unsupported).is_some() {
            return Err(Fail::msg(format!("--{unsupported} is not supported")));
        }
    }
    let mut spec = match p.get("process") {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Fail::io(path, e))?;
            let process: oci_spec::runtime::Process = serde_json::from_str(&text)
                .map_err(|e| Fail::msg(format!("process {path}: {e}")))?;
            oci::exec_spec(&process).map_err(|e| Fail::msg(e.to_string()))?
        }
        None => {
            if p.args.len() < 2 {
                return Err(Fail::msg("exec: no command given (args or --process)"));
            }
            ExecSpec {
                args: p.args[1..].iter().map(Into::into).collect(),
                cwd: PathBuf::from("/"),
                ..ExecSpec::default()
            }
        }
    };
    if let Some(cwd) = p.get("cwd") {
        spec.cwd = PathBuf::from(cwd);
    }
    spec.env.extend(p.all("env").into_iter().map(Into::into));
    if p.on("tty") {
        spec.tty = true;
    }
    if let Some(user) = p.get("user") {
        let (u, g) = user.split_once(':').unwrap_or((user, "0"));
        spec.uid = parse_id("uid", u)?;
        spec.gid = parse_id("gid", g)?;
    }
    for g in p.all("additional-gids") {
        spec.additional_gids.push(parse_id("gid", g)?);
    }
    if p.on("no-new-privs") {
        spec.no_new_privileges = true;
    }
    Ok(spec)
}

pub fn exec(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("exec", ArgCount::AtLeast(1))?;
    let spec = exec_spec(p)?;
    let detach = p.on("detach");
    if spec.tty && detach && p.get("console-socket").is_none() {
        return Err(Fail::msg(
            "cannot allocate tty if runc will detach without setting console socket",
        ));
    }
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], false)?;
    let saved = entry.load()?;
    match entry.status(&saved) {
        Status::Running => {}
        Status::Paused if p.on("ignore-paused") => {}
        Status::Paused => return Err(Fail::msg("cannot exec in a paused container (use --ignore-paused to override)")),
        _ => return Err(Fail::msg("cannot exec in a stopped container")),
    }
    let core_id = saved.core["id"].as_str().unwrap_or_default().to_string();
    let host = Host {
        state_root: entry.dir.join("core"),
        ..Host::default()
    };
    drop(entry);
    let c = Container::open_in(host, &core_id)?;
    let mut running = c.exec_process(&spec, detach)?;
    if let Some(path) = p.get("pid-file") {
        crate::lifecycle::write_pid_file(path, running.pid())?;
    }
    if let Some(socket) = p.get("console-socket") {
        let master = running
            .take_pty_master()
            .ok_or_else(|| Fail::msg("the process has no terminal to hand over"))?;
        console::send(socket, &master)?;
    }
    if detach {
        running.detach();
        return Ok(0);
    }
    Ok(running.wait()?.code)
}
