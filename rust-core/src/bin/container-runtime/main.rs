//! `container-runtime`: an OCI runtime with runc's command line, over this crate's core.
//! Engines (podman through conmon, containerd through its runc v2 shim, CRI-O) call it as they
//! call runc: `container-runtime [global flags] COMMAND [flags] ID ...`. Each command is a
//! short-lived process; what lives between commands is the state directory (`state.rs`) and
//! the container's init, which `create` leaves blocked on an exec fifo until `start`.

mod cgroup;
mod cli;
mod console;
mod control;
mod error;
mod exec;
mod info;
mod lifecycle;
mod log;
mod signal;
mod state;
mod update;

use std::path::PathBuf;

use cli::{Flag, Parsed, flag, opt};
use error::Fail;
use log::{Format, Logger};

/// What every command gets: the state root and the log.
pub struct Ctx {
    pub root_path: PathBuf,
    pub log: Logger,
}

impl Ctx {
    pub fn root(&self) -> Result<state::Root, Fail> {
        state::Root::open(&self.root_path)
    }
}

type Run = fn(&Ctx, &Parsed) -> Result<i32, Fail>;

/// A command: its name, its flags, its body.
struct Command {
    name: &'static str,
    flags: &'static [Flag],
    run: Run,
}

const GLOBAL: &[Flag] = &[
    opt(&["root"]),
    opt(&["log"]),
    opt(&["log-format"]),
    flag(&["debug"]),
    flag(&["systemd-cgroup"]),
    opt(&["rootless"]),
    opt(&["criu"]),
    flag(&["help", "h"]),
    flag(&["version", "v"]),
];

const COMMANDS: &[Command] = &[
    Command {
        name: "create",
        flags: lifecycle::CREATE_FLAGS,
        run: lifecycle::create,
    },
    Command {
        name: "run",
        flags: lifecycle::RUN_FLAGS,
        run: lifecycle::run,
    },
    Command {
        name: "start",
        flags: &[],
        run: lifecycle::start,
    },
    Command {
        name: "delete",
        flags: &[flag(&["force", "f"])],
        run: lifecycle::delete,
    },
    Command {
        name: "state",
        flags: &[],
        run: info::state,
    },
    Command {
        name: "list",
        flags: &[opt(&["format", "f"]), flag(&["quiet", "q"])],
        run: info::list,
    },
    Command {
        name: "ps",
        flags: &[opt(&["format", "f"])],
        run: info::ps,
    },
    Command {
        name: "features",
        flags: &[],
        run: info::features,
    },
    Command {
        name: "spec",
        flags: &[opt(&["bundle", "b"]), flag(&["rootless"])],
        run: info::spec,
    },
    Command {
        name: "kill",
        flags: &[flag(&["all", "a"])],
        run: control::kill,
    },
    Command {
        name: "pause",
        flags: &[],
        run: control::pause,
    },
    Command {
        name: "resume",
        flags: &[],
        run: control::resume,
    },
    Command {
        name: "update",
        flags: update::FLAGS,
        run: update::update,
    },
    Command {
        name: "exec",
        flags: exec::FLAGS,
        run: exec::exec,
    },
];

const USAGE: &str = "usage: container-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [flags] ID
An OCI runtime with runc's command line. Commands:
  create   create a container from a bundle (its init waits for start)
  start    run the created container's process
  run      create and start; waits for it unless --detach
  state    the OCI state of a container, as JSON
  list     the containers under --root
  kill     send a signal to the container's init (--all: to every process)
  delete   remove a stopped container (--force: any)
  exec     run a process in a running container
  pause    freeze every process of the container
  resume   thaw them
  ps       the container's processes (--format json: their pids)
  update   change its resource limits (--resources FILE|- or flags)
  features what this runtime supports, as JSON
  spec     write a default config.json";

fn version() -> String {
    format!(
        "container-runtime version {}\nspec: {}\n",
        env!("CARGO_PKG_VERSION"),
        state::OCI_VERSION
    )
}

/// Reads the global flags, sets up the log, runs the command; the exit status.
fn main_inner(argv: &[String], log: &mut Logger) -> Result<i32, Fail> {
    let global = cli::parse(GLOBAL, argv)?;
    let format = match global.get("log-format") {
        None => Format::Text,
        Some(f) => Format::parse(f)
            .ok_or_else(|| Fail::msg(format!("invalid log-format: {f} (text or json)")))?,
    };
    *log = Logger::open(global.get("log"), format, global.on("debug"))
        .map_err(|e| Fail::io(format!("log file {}", global.get("log").unwrap_or("")), e))?;
    if global.on("version") {
        print!("{}", version());
        return Ok(0);
    }
    let Some((name, rest)) = global.args.split_first() else {
        println!("{USAGE}");
        return Ok(if global.on("help") { 0 } else { 1 });
    };
    if global.on("systemd-cgroup") {
        return Err(Fail::msg(
            "--systemd-cgroup is not supported: this runtime manages cgroups through cgroupfs (set cgroup_manager = \"cgroupfs\" in containers.conf, SystemdCgroup = false in containerd)",
        ));
    }
    if let Some(r) = global.get("rootless") {
        if r == "true" {
            return Err(Fail::msg("--rootless=true is not supported: run as root"));
        }
    }
    let cmd = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Fail::msg(format!("No help topic for '{name}'")))?;
    let parsed = cli::parse(cmd.flags, rest)?;
    let ctx = Ctx {
        root_path: PathBuf::from(global.get("root").unwrap_or(state::DEFAULT_ROOT)),
        log: std::mem::take(log),
    };
    ctx.log.debug(&format!("command {name} {rest:?}"));
    let result = (cmd.run)(&ctx, &parsed);
    *log = ctx.log;
    result
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut log = Logger::default();
    let code = match main_inner(&argv, &mut log) {
        Ok(code) => code,
        Err(f) => {
            log.error(&f.to_string());
            f.code
        }
    };
    std::process::exit(code);
}
