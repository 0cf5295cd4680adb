//! `create`, `start`, `run`, `delete`: runc's lifecycle over the core.
//!
//! `create` has the core set up the container up to its init, which then blocks opening the
//! exec fifo (in the container's state directory) for writing; the runtime records the state
//! and exits, leaving the init to whoever reaps it (the engine's subreaper: conmon, the shim).
//! `start` opens the fifo for reading, which lets the init exec the process, and removes it:
//! the fifo's presence is what "created" means, as in runc.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use container_runtime::cgroups::Cgroup;
use container_runtime::container::Host;
use container_runtime::oci::{self, HookNs, OciBundle};
use container_runtime::procfs::process_start_time;
use container_runtime::spec::Hooks;
use container_runtime::syscall::{LinuxSyscall, Syscall};
use container_runtime::{Container, ContainerBuilder};

use crate::Ctx;
use crate::cgroup;
use crate::cli::{ArgCount, Flag, Parsed, flag, opt};
use crate::console;
use crate::control::{init_pidfd, signal_all};
use crate::error::Fail;
use crate::log::rfc3339;
use crate::signal::Forwarder;
use crate::state::{Entry, Root, Saved, Status};

pub const CREATE_FLAGS: &[Flag] = &[
    opt(&["bundle", "b"]),
    opt(&["console-socket"]),
    opt(&["pid-file"]),
    flag(&["no-pivot"]),
    flag(&["no-new-keyring"]),
    opt(&["preserve-fds"]),
    opt(&["pidfd-socket"]),
];

pub const RUN_FLAGS: &[Flag] = &[
    opt(&["bundle", "b"]),
    opt(&["console-socket"]),
    opt(&["pid-file"]),
    flag(&["no-pivot"]),
    flag(&["no-new-keyring"]),
    opt(&["preserve-fds"]),
    opt(&["pidfd-socket"]),
    flag(&["detach", "d"]),
    flag(&["keep"]),
    flag(&["no-subreaper"]),
];

/// The config.json the container was created from, kept in its state directory: `start` and
/// `delete` run its hooks even when the bundle is gone by then.
const CONFIG_COPY: &str = "config.json";

/// `pid` written to `path` atomically (temp file + rename), as runc does: an engine polling for
/// the file never reads half of it.
pub fn write_pid_file(path: &str, pid: i32) -> Result<(), Fail> {
    let path = Path::new(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map_or("pid".into(), |n| n.to_string_lossy())
    ));
    fs::write(&tmp, pid.to_string())
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| Fail::io(format!("pid file {}", path.display()), e))
}

fn mkfifo(path: &Path) -> Result<(), Fail> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| Fail::msg("exec fifo path contains a NUL byte"))?;
    // SAFETY: a valid C string. 0622: the init may open it after dropping to another user.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o622) } != 0 {
        return Err(Fail::io(
            format!("mkfifo {}", path.display()),
            std::io::Error::last_os_error(),
        ));
    }
    // The umask may have taken bits away from the mode.
    // SAFETY: as above.
    unsafe { libc::chmod(c.as_ptr(), 0o622) };
    Ok(())
}

/// `--preserve-fds N` (create, run, exec): 0 when not given.
pub fn preserve_fds(p: &Parsed) -> Result<u32, Fail> {
    match p.get("preserve-fds") {
        None => Ok(0),
        Some(n) => n.parse::<u32>().map_err(|_| {
            Fail::msg(format!(
                "invalid --preserve-fds {n:?}: expected a count of descriptors"
            ))
        }),
    }
}

/// The bundle loaded and checked, the terminal flags checked, the container set up to the
/// point where its init waits on the fifo.
fn set_up(
    ctx: &Ctx,
    p: &Parsed,
    entry: &Entry,
    detach: bool,
) -> Result<(OciBundle, Container), Fail> {
    let preserve_fds = preserve_fds(p)?;
    let bundle = PathBuf::from(p.get("bundle").unwrap_or("."));
    let config = fs::read(bundle.join("config.json"))
        .map_err(|e| Fail::io(format!("{}/config.json", bundle.display()), e))?;
    let b = oci::load_config(&config, &bundle).map_err(|e| Fail::msg(e.to_string()))?;
    for w in &b.warnings {
        ctx.log.warn(w);
    }
    let terminal = b.spec.terminal;
    let socket = p.get("console-socket");
    if terminal && detach && socket.is_none() {
        return Err(Fail::msg(
            "cannot allocate tty if runc will detach without setting console socket",
        ));
    }
    if !terminal && socket.is_some() {
        return Err(Fail::msg(
            "cannot use console socket if runc will not detach or allocate tty",
        ));
    }
    let copy = entry.dir.join(CONFIG_COPY);
    container_runtime::private_fs::write(&copy, &config)
        .map_err(|e| Fail::io(copy.display(), e))?;
    mkfifo(&entry.fifo())?;
    let mut spec = b.spec.clone();
    // Hooks get the OCI id through the name (the core's own id is random).
    if container_runtime::spec::validate_name(&entry.id).is_ok() {
        spec.name = Some(entry.id.clone());
    }
    spec.exec_fifo = Some(entry.fifo());
    spec.no_pivot |= p.on("no-pivot");
    spec.preserve_fds = preserve_fds;
    let mut c = ContainerBuilder::new(spec)
        .state_root(entry.dir.join("core"))
        .build()?;
    c.start()?;
    Ok((b, c))
}

/// The state of a container whose init is `pid`, its cgroups found from the kernel, a freezer
/// cgroup added when the core gave it none.
fn record(entry: &Entry, b: &OciBundle, c: &Container) -> Result<Saved, Fail> {
    let pid = c
        .pid()
        .ok_or_else(|| Fail::msg("the container's init is gone"))?;
    let mut cgroups = cgroup::own_dirs(pid);
    let own_freezer = cgroup::ensure_freezer(pid, &entry.id, &mut cgroups)?;
    let saved = Saved {
        id: entry.id.clone(),
        pid,
        start_time: process_start_time(pid)
            .ok_or_else(|| Fail::msg("the container's init is gone"))?,
        bundle: b.bundle.display().to_string(),
        rootfs: b.rootfs.display().to_string(),
        created: rfc3339(std::time::SystemTime::now(), true),
        annotations: b.annotations.clone(),
        cgroups,
        own_freezer,
        core: serde_json::json!({ "id": c.id() }),
    };
    entry.save(&saved)?;
    Ok(saved)
}

/// Everything `create` and `run` share: the container set up, recorded, its pid file written
/// and its pty handed over. The handle still owns the container: dropping it undoes all.
fn create_in(
    ctx: &Ctx,
    p: &Parsed,
    entry: &Entry,
    detach: bool,
) -> Result<(OciBundle, Container, Saved), Fail> {
    let (b, mut c) = set_up(ctx, p, entry, detach)?;
    let saved = record(entry, &b, &c)?;
    if let Some(path) = p.get("pid-file") {
        write_pid_file(path, saved.pid)?;
    }
    if let Some(socket) = p.get("pidfd-socket") {
        let fd = c
            .pidfd()
            .ok_or_else(|| Fail::msg("the container's init is gone"))?
            .try_clone_to_owned()
            .map_err(|e| Fail::io("dup the init's pidfd", e))?;
        console::send_pidfd(socket, &fd)?;
    }
    if let Some(socket) = p.get("console-socket") {
        let master = c
            .take_pty_master()
            .ok_or_else(|| Fail::msg("the container has no terminal to hand over"))?;
        console::send(socket, &master)?;
    }
    Ok((b, c, saved))
}

/// Removes a container directory after a failed create (the core undid its own part).
fn abandon(root: &Root, entry: Entry, saved: Option<&Saved>) {
    if let Some(s) = saved {
        cgroup::remove_made(&s.own_freezer);
    }
    let _ = root.remove(entry);
}

/// `create [flags] ID`.
pub fn create(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("create", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = root.create(&p.args[0])?;
    match create_in(ctx, p, &entry, true) {
        Ok((_, c, _)) => {
            c.detach();
            Ok(0)
        }
        Err(e) => {
            abandon(&root, entry, None);
            Err(e)
        }
    }
}

fn oci_state(saved: &Saved, status: Status) -> oci::State {
    oci::State {
        oci_version: crate::state::OCI_VERSION.to_string(),
        id: saved.id.clone(),
        status: status.as_str().to_string(),
        pid: (status != Status::Stopped).then_some(saved.pid),
        bundle: PathBuf::from(&saved.bundle),
        annotations: saved.annotations.clone(),
    }
}

/// The bundle as the container was created from it (its config.json kept in the state dir).
pub fn saved_bundle(entry: &Entry, saved: &Saved) -> Result<OciBundle, Fail> {
    let path = entry.dir.join(CONFIG_COPY);
    let bytes = fs::read(&path).map_err(|e| Fail::io(path.display(), e))?;
    oci::load_config(&bytes, Path::new(&saved.bundle)).map_err(|e| Fail::msg(e.to_string()))
}

fn hooks_of(entry: &Entry, saved: &Saved) -> Result<Hooks, Fail> {
    Ok(saved_bundle(entry, saved)?.spec.hooks)
}

/// Releases the init blocked opening the fifo for writing: opened for reading without
/// blocking, then waited on with the init's pidfd, so that a dead init is an error, not a
/// hang (a blocking open would wait forever for a writer that never comes).
fn open_exec_fifo(path: &Path, saved: &Saved) -> Result<(), Fail> {
    let gone = || Fail::msg("the container's init is gone");
    // The pidfd first: opening the fifo releases the init, which may be done and gone at once.
    let pidfd = init_pidfd(saved).ok_or_else(gone)?;
    let fifo = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Fail::io(path.display(), e))?;
    match crate::signal::poll_two(fifo.as_raw_fd(), pidfd.as_raw_fd(), 30_000) {
        Some(_) => {}
        None => {
            return Err(Fail::msg(
                "the container's init did not answer on its exec fifo",
            ));
        }
    }
    let mut byte = [0u8; 1];
    match (&fifo).read(&mut byte) {
        Ok(1) => Ok(()),
        _ => Err(gone()),
    }
}

/// Lets the created container's init exec its process: startContainer hooks, the fifo,
/// poststart hooks (whose failures are only warnings that stop no other hook, as the spec says).
fn release(ctx: &Ctx, entry: &Entry, saved: &Saved) -> Result<(), Fail> {
    let hooks = hooks_of(entry, saved)?;
    let state = oci_state(saved, Status::Created);
    if let Err(e) = oci::run_hooks(
        &hooks.start_container,
        &state,
        HookNs::ContainerPath(saved.pid),
    ) {
        kill_init(saved);
        return Err(Fail::msg(e.to_string()));
    }
    open_exec_fifo(&entry.fifo(), saved)?;
    let _ = fs::remove_file(entry.fifo());
    let state = oci_state(saved, Status::Running);
    for e in oci::run_hooks_all(&hooks.poststart, &state, HookNs::Runtime) {
        ctx.log.warn(&e.to_string());
    }
    Ok(())
}

/// `start ID`.
pub fn start(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("start", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = root.lock(&p.args[0], true)?;
    let saved = entry.load()?;
    match entry.status(&saved) {
        Status::Created => release(ctx, &entry, &saved)?,
        Status::Stopped => return Err(Fail::msg("cannot start a container that has stopped")),
        _ => return Err(Fail::msg("cannot start an already running container")),
    }
    Ok(0)
}

/// `run [flags] ID`: create and start; without --detach, waits and exits with the container's
/// status, then deletes it (unless --keep).
pub fn run(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("run", ArgCount::Exactly(1))?;
    let detach = p.on("detach");
    // In the foreground the signals the runtime gets are the container's, from the start.
    let forwarder = match detach {
        true => None,
        false => Some(Forwarder::block().map_err(|e| Fail::io("signalfd", e))?),
    };
    let root = ctx.root()?;
    let entry = root.create(&p.args[0])?;
    let (_, mut c, saved) = match create_in(ctx, p, &entry, detach) {
        Ok(v) => v,
        Err(e) => {
            abandon(&root, entry, None);
            return Err(e);
        }
    };
    if let Err(e) = release(ctx, &entry, &saved) {
        drop(c);
        abandon(&root, entry, Some(&saved));
        return Err(e);
    }
    if detach {
        c.detach();
        return Ok(0);
    }
    // Unlocked while it runs: state, kill, ps and exec may come meanwhile.
    drop(entry);
    // With a terminal the core relays it while it waits (^C reaches the container through it).
    if let (Some(f), Some(pidfd), None) = (&forwarder, c.pidfd(), c.pty_master()) {
        f.forward_until_exit(pidfd);
    }
    let status = c.wait()?;
    if !p.on("keep") {
        if let Ok(entry) = root.lock(&saved.id, true) {
            destroy(ctx, &root, entry, &saved);
        }
    }
    Ok(status.code)
}

fn kill_init(saved: &Saved) {
    if let Some(fd) = init_pidfd(saved) {
        let _ = LinuxSyscall.pidfd_send_signal(std::os::fd::AsFd::as_fd(&fd), libc::SIGKILL);
    }
}

/// Kills what is left, waits for the cgroup to empty, removes the container's cgroups,
/// runs the poststop hooks and removes the state.
fn destroy(ctx: &Ctx, root: &Root, entry: Entry, saved: &Saved) {
    kill_init(saved);
    signal_all(saved, libc::SIGKILL);
    if cgroup::is_frozen(saved) {
        let _ = cgroup::set_frozen(saved, false);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while (process_start_time(saved.pid) == Some(saved.start_time)
        || !cgroup::pids(saved).is_empty())
        && std::time::Instant::now() < deadline
    {
        signal_all(saved, libc::SIGKILL);
        std::thread::sleep(Duration::from_millis(2));
    }
    for d in saved.cgroups.iter().rev() {
        cgroup::remove_tree(&d.path);
        cgroup::remove_empty_parents(&d.path);
    }
    cgroup::remove_made(&saved.own_freezer);
    match hooks_of(&entry, saved) {
        Ok(h) => {
            let state = oci_state(saved, Status::Stopped);
            for e in oci::run_hooks_all(&h.poststop, &state, HookNs::Runtime) {
                ctx.log.warn(&e.to_string());
            }
        }
        Err(e) => ctx.log.warn(&e.to_string()),
    }
    if let Err(e) = root.remove(entry) {
        ctx.log.warn(&e.to_string());
    }
}

/// What a create killed half-way left (its directory has no state.json): the core's records
/// in it name the init and its cgroup. The init, if it still lives, is killed (open_in proves
/// it is the container's), then its cgroup and the directory are removed.
fn remove_stale(ctx: &Ctx, root: &Root, entry: Entry) {
    let host = Host {
        state_root: entry.dir.join("core"),
        ..Host::default()
    };
    for rec in host.store().list() {
        if let Ok(c) = Container::open_in(host.clone(), &rec.id) {
            let _ = c.kill(libc::SIGKILL);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while rec.is_alive() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let name = rec.cgroup.as_deref().unwrap_or(&rec.id);
        if let Ok(cg) = Cgroup::open(&host.cgroup_root, name) {
            let _ = cg.remove();
        }
    }
    if let Err(e) = root.remove(entry) {
        ctx.log.warn(&e.to_string());
    }
}

/// `delete [--force] ID`: a stopped or created container; any with --force.
pub fn delete(ctx: &Ctx, p: &Parsed) -> Result<i32, Fail> {
    p.expect("delete", ArgCount::Exactly(1))?;
    let root = ctx.root()?;
    let entry = match root.lock(&p.args[0], true) {
        Ok(e) => e,
        Err(e) if e.to_string() == "container does not exist" => {
            // As runc: what an aborted create left is removed, and the id is free again.
            if let Some(stale) = root.lock_stale(&p.args[0])? {
                remove_stale(ctx, &root, stale);
            }
            // runc: deleting what is not there with --force succeeds.
            return if p.on("force") { Ok(0) } else { Err(e) };
        }
        Err(e) => return Err(e),
    };
    let saved = entry.load()?;
    let status = entry.status(&saved);
    if matches!(status, Status::Running | Status::Paused) && !p.on("force") {
        return Err(Fail::msg(format!(
            "cannot delete container {} that is not stopped: {}",
            saved.id,
            status.as_str()
        )));
    }
    destroy(ctx, &root, entry, &saved);
    Ok(0)
}
