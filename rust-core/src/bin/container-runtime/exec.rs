//! `exec [flags] ID [COMMAND ARGS...]`: a process in a running container, described by
//! `--process FILE` (an OCI `process` object, what containerd and conmon pass) or by the
//! command line and flags.

use std::path::PathBuf;

use container_runtime::container::Host;
use container_runtime::oci;
use container_runtime::syscall::{LinuxSyscall, Syscall};
use container_runtime::{Container, ExecSpec, ExitStatus};

use crate::Ctx;
use crate::cli::{ArgCount, Flag, Parsed, flag, opt};
use crate::console;
use crate::error::Fail;
use crate::lifecycle;
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

/// The process to run: `--process FILE`, else the container's own process (config.json's,
/// as runc takes it) with the command line's args; the flags override either, as in runc.
fn exec_spec(p: &Parsed, config: &serde_json::Value) -> Result<ExecSpec, Fail> {
    for unsupported in ["process-label", "apparmor", "cgroup"] {
        if p.get(unsupported).is_some() {
            return Err(Fail::msg(format!("--{unsupported} is not supported")));
        }
    }
    let preserve_fds = lifecycle::preserve_fds(p)?;
    let process = match p.get("process") {
        Some(path) => std::fs::read(path).map_err(|e| Fail::io(path, e))?,
        None => {
            if p.args.len() < 2 {
                return Err(Fail::msg("exec: no command given (args or --process)"));
            }
            let mut process = config["process"].clone();
            process["args"] = serde_json::json!(p.args[1..]);
            process["terminal"] = serde_json::json!(p.on("tty"));
            serde_json::to_vec(&process).map_err(|e| Fail::msg(e.to_string()))?
        }
    };
    let mut spec = oci::exec_spec(&process).map_err(|e| Fail::msg(e.to_string()))?;
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
        spec.extra.no_new_privileges = true;
    }
    spec.extra.preserve_fds = preserve_fds;
    Ok(spec)
}

pub fn exec(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("exec", ArgCount::AtLeast(1))?;
    let detach = p.on("detach");
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], false)?;
    let saved = entry.load()?;
    match entry.status(&saved) {
        Status::Running => {}
        Status::Paused if p.on("ignore-paused") => {}
        Status::Paused => {
            return Err(Fail::msg(
                "cannot exec in a paused container (use --ignore-paused to override)",
            ));
        }
        _ => return Err(Fail::msg("cannot exec in a stopped container")),
    }
    let bundle = lifecycle::saved_bundle(&entry, &saved)?;
    let config_path = entry.dir.join("config.json");
    let config: serde_json::Value = std::fs::read(&config_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut spec = exec_spec(p, &config)?;
    spec.seccomp = Some(bundle.spec.seccomp.clone());
    let socket = p.get("console-socket");
    if spec.tty && detach && socket.is_none() {
        return Err(Fail::msg(
            "cannot allocate tty if runc will detach without setting console socket",
        ));
    }
    if !spec.tty && socket.is_some() {
        return Err(Fail::msg(
            "cannot use console socket if runc will not detach or allocate tty",
        ));
    }
    let core_id = saved.core["id"].as_str().unwrap_or_default().to_string();
    let host = Host {
        state_root: entry.dir.join("core"),
        ..Host::default()
    };
    drop(entry);
    let c = Container::open_in(host, &core_id)?;
    let pidfd_socket = p.get("pidfd-socket");
    if !detach && socket.is_none() && p.get("pid-file").is_none() && pidfd_socket.is_none() {
        return Ok(c.exec(&spec)?.code);
    }
    // Handed over: the pid to the pid file, a pidfd to the pidfd socket, the pty to the
    // console socket. Detached, the process is left to whoever reaps it once we exit (the
    // engine's subreaper); else waited for here.
    let (pid, master) = c.exec_detached(&spec)?;
    if let Some(path) = p.get("pid-file") {
        lifecycle::write_pid_file(path, pid)?;
    }
    if let Some(path) = pidfd_socket {
        // Our unreaped child: its pid cannot name another process yet.
        let fd = LinuxSyscall
            .pidfd_open(pid)
            .map_err(|e| Fail::msg(format!("pidfd of the exec: {e}")))?;
        console::send_pidfd(path, &fd)?;
    }
    if let (Some(socket), Some(master)) = (socket, &master) {
        console::send(socket, master)?;
    }
    drop(master);
    if detach {
        return Ok(0);
    }
    wait_child(pid)
}

/// The exit status of our child `pid`, as a shell reports it.
fn wait_child(pid: i32) -> Result<i32, Fail> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(ExitStatus::from_wait_status(status).code);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Fail::io("waitpid", e));
        }
    }
}
