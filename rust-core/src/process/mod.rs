//! Starting, waiting for and stopping one container.

pub mod child;
mod seccomp;
pub mod sync;
pub mod tty;

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cgroups::{self, Cgroup};
use crate::error::{Error, Result, cstring};
use crate::net::attach::{self, Attachment};
use crate::net::legacy::Netlink;
use crate::rootfs;
use crate::spec::{ContainerSpec, NetworkMode, ns};
use crate::state::{self, Record, Store};
use child::ChildPlan;
use sync::Step;

/// How a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal number, like a shell reports it.
    pub code: i32,
    /// The signal that killed it, if any.
    pub signal: Option<i32>,
    /// Killed by the kernel's OOM killer because of the memory limit.
    pub oom_killed: bool,
}

#[derive(Debug)]
enum State {
    Created,
    Running { pid: libc::pid_t },
    Stopped(ExitStatus),
}

/// One container, from configuration to teardown. Dropping it kills and reaps a still-running
/// container and removes everything it created.
pub struct Container {
    spec: ContainerSpec,
    id: String,
    state: State,
    pty_master: Option<OwnedFd>,
    cgroup: Option<Cgroup>,
    network: Option<Attachment>,
    /// Per-container files bound into the rootfs (/etc/hosts, /etc/resolv.conf).
    files_dir: Option<PathBuf>,
    store: Store,
    /// The state record while the container exists (written at start, removed at teardown).
    record: Option<Record>,
    /// False for a container opened from the state directory: another process started it, so
    /// this handle neither reaps it nor removes anything on drop.
    owned: bool,
}

/// A Docker-style id: 64 random hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    // SAFETY: getrandom fills the stack buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Entropy is not critical here: an id only has to be unique on this host.
        let seed = (std::process::id() as u128) << 64
            | std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
        bytes[..16].copy_from_slice(&seed.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The process side of a child's plan, the same for a container and an exec: command, lookup
/// candidates, environment, working directory, user and terminal.
fn command_plan(spec: &ContainerSpec, hostname: Option<CString>, rootfs: CString, ops: Vec<rootfs::Op>) -> Result<ChildPlan> {
    let env = spec.effective_env();
    let argv = spec.args.iter().map(|a| cstring("argument", a)).collect::<Result<Vec<_>>>()?;
    let candidates = exec_candidates(&spec.args[0], &env)?;
    let env = env.iter().map(|e| cstring("environment entry", e)).collect::<Result<Vec<_>>>()?;
    let cwd = cstring("working directory", &spec.cwd)?;
    let mut plan = ChildPlan::new(hostname, rootfs, ops, argv, env, candidates, cwd);
    plan.terminal = spec.terminal;
    plan.uid = spec.uid;
    plan.gid = spec.gid;
    plan.groups = spec.additional_gids.clone();
    Ok(plan)
}

/// Without a device allow-list (cgroup v2 needs an eBPF program we do not load), a node made
/// inside could open a host device: take the capability to make one.
fn restrict_mknod(plan: &mut ChildPlan, cgroup: Option<&Cgroup>) {
    if !cgroup.is_some_and(|cg| cg.restricts_devices()) {
        plan.caps &= !(1u64 << child::CAP_MKNOD);
    }
}

/// The paths execve will try, as execvp would: the command itself when it has a '/', else each
/// directory of the container's PATH.
fn exec_candidates(argv0: &OsStr, env: &[OsString]) -> Result<Vec<CString>> {
    if argv0.as_bytes().contains(&b'/') {
        return Ok(vec![cstring("command", argv0)?]);
    }
    let path = env
        .iter()
        .rev()
        .find_map(|e| e.as_bytes().strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/bin:/usr/bin:/bin");
    path.split(|&b| b == b':')
        .map(|dir| {
            let dir = if dir.is_empty() { b".".as_slice() } else { dir };
            let mut p = dir.to_vec();
            p.push(b'/');
            p.extend_from_slice(argv0.as_bytes());
            cstring("command", OsStr::from_bytes(&p))
        })
        .collect()
}

impl Container {
    /// Validates the spec; creates nothing yet.
    pub fn new(spec: ContainerSpec) -> Result<Container> {
        spec.validate()?;
        Ok(Container {
            spec,
            id: random_id(),
            state: State::Created,
            pty_master: None,
            cgroup: None,
            network: None,
            files_dir: None,
            store: Store::default(),
            record: None,
            owned: true,
        })
    }

    /// A handle to a running container started by another process, found by name, id or id
    /// prefix in the state directory. It can be signalled, stopped, tuned and entered (exec);
    /// dropping it changes nothing.
    pub fn open(key: &str) -> Result<Container> {
        crate::error::require_root("opening a running container")?;
        let store = Store::default();
        let rec = store.find(key)?;
        if !rec.is_alive() {
            return Err(Error::State(format!(
                "container {} is not running",
                short_id(&rec.id)
            )));
        }
        let cgroup = Cgroup::open(&rec.id).ok();
        let spec = ContainerSpec {
            name: rec.name.clone(),
            hostname: rec.hostname.clone(),
            ..Default::default()
        };
        Ok(Container {
            spec,
            id: rec.id.clone(),
            state: State::Running { pid: rec.pid },
            pty_master: None,
            cgroup,
            network: None,
            files_dir: None,
            store,
            record: Some(rec),
            owned: false,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn spec(&self) -> &ContainerSpec {
        &self.spec
    }

    /// The host PID of the container's first process, while it runs.
    pub fn pid(&self) -> Option<libc::pid_t> {
        match self.state {
            State::Running { pid } => Some(pid),
            _ => None,
        }
    }

    /// How the container ended, once waited for.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        match self.state {
            State::Stopped(s) => Some(s),
            _ => None,
        }
    }

    /// The pty master when the container has a terminal.
    pub fn pty_master(&self) -> Option<&OwnedFd> {
        self.pty_master.as_ref()
    }

    fn plan(&mut self, rootfs: &Path) -> Result<ChildPlan> {
        let spec = &self.spec;
        let namespaces = spec.effective_namespaces();
        let ops = rootfs::plan(spec, rootfs)?;
        rootfs::ensure_workdir(rootfs, &spec.cwd)?;
        let hostname = if namespaces & ns::UTS != 0 {
            Some(cstring("hostname", &spec.hostname)?)
        } else {
            None
        };
        let mut plan = command_plan(spec, hostname, cstring("rootfs", rootfs)?, ops)?;
        plan.no_pivot = spec.no_pivot;
        plan.readonly_rootfs = spec.readonly_rootfs;
        plan.loopback = namespaces & ns::NET != 0;
        plan.cgroup_namespace = namespaces & ns::CGROUP != 0;
        plan.init = spec.init;
        if spec.network.mode == NetworkMode::Bridge {
            plan.eth0 = Some(cstring("interface", attach::CONTAINER_IFNAME)?);
            self.bind_network_files(rootfs, &mut plan)?;
        }
        Ok(plan)
    }

    /// Creates this container's /etc/hosts and /etc/resolv.conf (filled once the address is
    /// known) and adds their bind mounts to the plan, as Docker does: the image stays untouched.
    fn bind_network_files(&mut self, rootfs: &Path, plan: &mut ChildPlan) -> Result<()> {
        let dir = Path::new(state::DEFAULT_ROOT).join("files").join(&self.id);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
        self.files_dir = Some(dir.clone());
        for name in ["hosts", "resolv.conf"] {
            let source = dir.join(name);
            std::fs::write(&source, b"").map_err(|e| Error::Io { path: source.clone(), source: e })?;
            let target = rootfs::secure_join(rootfs, &Path::new("/etc").join(name))?;
            rootfs::ensure_mount_point(&target, false)?;
            plan.ops.push(rootfs::Op::Mount {
                source: Some(cstring("path", &source)?),
                target: cstring("path", &target)?,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
            });
        }
        Ok(())
    }

    /// Turns a child's (step, index, errno) report into an error naming what failed.
    fn child_error(&self, plan: &ChildPlan, rootfs: &Path, msg: &sync::ChildMsg) -> Error {
        child_error(&self.spec, plan, rootfs, msg)
    }

    /// Creates the namespaces, sets up the rootfs and executes the command. Returns once the
    /// command runs (exec succeeded) or with the error that stopped it; on error nothing is left.
    pub fn start(&mut self) -> Result<()> {
        if !matches!(self.state, State::Created) {
            return Err(Error::State("container was already started".into()));
        }
        crate::error::require_root("starting a container")?;
        let rootfs: PathBuf = std::fs::canonicalize(&self.spec.rootfs).map_err(|e| Error::Io {
            path: self.spec.rootfs.clone(),
            source: e,
        })?;
        let mut plan = self.plan(&rootfs)?;
        match self.launch(&mut plan, &rootfs) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// The record that marks this container in the state directory, owned by `pid`.
    fn record_for(&self, pid: libc::pid_t) -> Record {
        Record {
            id: self.id.clone(),
            name: self.spec.name.clone(),
            pid,
            start_time: state::process_start_time(pid).unwrap_or(0),
            created: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            command: self
                .spec
                .args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            hostname: self.spec.hostname.clone(),
            ip: None,
            bridge: None,
            starting: true,
        }
    }

    fn launch(&mut self, plan: &mut ChildPlan, rootfs: &Path) -> Result<()> {
        // Until the command runs, the record names this process as the owner, so that a
        // concurrent cleanup leaves a container that is still starting alone.
        let record = self.record_for(std::process::id() as libc::pid_t);
        if let Some(name) = &self.spec.name {
            self.store.claim_name(name, &self.id)?;
        }
        self.record = Some(record.clone());
        self.store.save(&record)?;
        let cgroup = Cgroup::create(&self.id, &self.spec.resources)?;
        restrict_mknod(plan, Some(&cgroup));
        self.cgroup = Some(cgroup);
        let mut netlink = None;
        if self.spec.network.mode == NetworkMode::Bridge {
            let mut nl = Netlink::open()?;
            let prepared = attach::prepare(&mut nl, &self.spec.network)?;
            netlink = Some((nl, prepared));
        }
        let (parent_sock, child_sock) = sync::socketpair()?;

        let ns = self.spec.effective_namespaces();
        let mut flags = libc::SIGCHLD as libc::c_ulong;
        for (bit, clone_flag) in [
            (ns::UTS, libc::CLONE_NEWUTS),
            (ns::MOUNT, libc::CLONE_NEWNS),
            (ns::PID, libc::CLONE_NEWPID),
            (ns::NET, libc::CLONE_NEWNET),
            (ns::IPC, libc::CLONE_NEWIPC),
        ] {
            if ns & bit != 0 {
                flags |= clone_flag as libc::c_ulong;
            }
        }
        // SAFETY: a fork-like raw clone (no CLONE_VM, no new stack): the child continues on a
        // copy of this stack and runs only child_main, which never returns.
        let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) } as libc::pid_t;
        if pid < 0 {
            return Err(Error::last_os("clone"));
        }
        if pid == 0 {
            // SAFETY: closing the parent's end in our copy; no destructor runs in the child.
            unsafe { libc::close(parent_sock.as_raw_fd()) };
            child::child_main(plan, child_sock.as_raw_fd());
        }
        drop(child_sock);
        self.state = State::Running { pid };
        self.finish_start(plan, rootfs, &parent_sock, netlink.as_mut())?;
        let record = Record {
            pid,
            start_time: state::process_start_time(pid).unwrap_or(0),
            starting: false,
            ip: self.network.as_ref().map(|n| n.ip.to_string()),
            bridge: self.network.as_ref().map(|n| n.bridge.clone()),
            ..record
        };
        self.store.save(&record)?;
        self.record = Some(record);
        Ok(())
    }

    /// Parent side after clone: release the child and collect its report.
    fn finish_start(
        &mut self,
        plan: &ChildPlan,
        rootfs: &Path,
        sock: &OwnedFd,
        netlink: Option<&mut (Netlink, attach::Prepared)>,
    ) -> Result<()> {
        let State::Running { pid } = self.state else {
            return Err(Error::State("container process is gone".into()));
        };
        // The child sets up its rootfs meanwhile and waits for the go-ahead before anything of
        // the user's runs. If it failed already, its report explains our failure better.
        if let Err(e) = self.join_and_plug(pid, sock, netlink) {
            return Err(match sync::recv_msg_nonblocking(sock) {
                Some(msg) if msg.kind == sync::MSG_ERROR => self.child_error(plan, rootfs, &msg),
                _ => e,
            });
        }
        while let Some((msg, fd)) = sync::recv_msg(sock)? {
            match msg.kind {
                sync::MSG_PTY => {
                    let master =
                        fd.ok_or_else(|| Error::State("the container sent no pty".into()))?;
                    tty::copy_window_size(&master);
                    self.pty_master = Some(master);
                }
                sync::MSG_ERROR => return Err(self.child_error(plan, rootfs, &msg)),
                other => {
                    return Err(Error::State(format!(
                        "unexpected message {other} from the container"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Puts the child in its cgroup, plugs its network and sends the go-ahead with its address.
    fn join_and_plug(&mut self, pid: libc::pid_t, sock: &OwnedFd, netlink: Option<&mut (Netlink, attach::Prepared)>) -> Result<()> {
        if let Some(cg) = &self.cgroup {
            cg.add_pid(pid)?;
        }
        let mut go = sync::GoMsg { magic: sync::GO, ..Default::default() };
        if let Some((nl, prepared)) = netlink {
            let att = attach::plug(nl, &self.spec.network, prepared, &self.id, pid)?;
            go.address = u32::from(att.ip);
            go.prefix = att.subnet.1.into();
            go.gateway = u32::from(att.gateway);
            self.write_network_files(att.ip)?;
            self.network = Some(att);
        }
        let size = std::mem::size_of::<sync::GoMsg>();
        // SAFETY: sending one fixed-size record of plain integers.
        let n = unsafe { libc::send(sock.as_raw_fd(), (&go as *const sync::GoMsg).cast(), size, libc::MSG_NOSIGNAL) };
        if n != size as isize {
            return Err(Error::last_os("release the container process"));
        }
        Ok(())
    }

    /// Kills and reaps a child whose start failed (or that is dropped while running) and removes
    /// what the start created.
    fn abort(&mut self) {
        if !self.owned {
            return;
        }
        if let State::Running { pid } = self.state {
            // SAFETY: our own unreaped child: the pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = wait_pid(pid);
            self.state = State::Created;
        }
        self.pty_master = None;
        self.release();
    }

    /// Removes the cgroup once no process of the container is left.
    fn release(&mut self) {
        if let Some(cg) = self.cgroup.take() {
            // Drop removes it best-effort as well; remove() only adds error reporting we cannot
            // act on here.
            let _ = cg.remove();
        }
        if let Some(att) = self.network.take() {
            // After a failed start the namespace may outlive us for a moment: delete the pair.
            att.unplug(!matches!(self.state, State::Stopped(_)));
        }
        if let Some(dir) = self.files_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(rec) = self.record.take() {
            self.store.remove(&rec);
        }
    }

    /// The notices of the network setup, one per line ("" if none): the subnet of a bridge this
    /// start created, warnings (e.g. no iptables: no outbound access).
    pub fn network_notices(&self) -> String {
        self.network.as_ref().map_or(String::new(), |n| n.notices.join("\n"))
    }

    /// The container's address on its bridge.
    pub fn ip(&self) -> Option<std::net::Ipv4Addr> {
        match &self.network {
            Some(n) => Some(n.ip),
            None => self.record.as_ref()?.ip.as_deref()?.parse().ok(),
        }
    }

    /// Fills the per-container /etc/hosts and /etc/resolv.conf bound into the rootfs.
    fn write_network_files(&self, ip: std::net::Ipv4Addr) -> Result<()> {
        let Some(dir) = &self.files_dir else { return Ok(()) };
        let hosts = format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{}\n",
            self.spec.hostname
        );
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        for (name, text) in [("hosts", hosts.as_str()), ("resolv.conf", resolv.as_str())] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::Io { path, source: e })?;
        }
        Ok(())
    }

    /// Waits for the container's first process to exit; with a terminal, relays it to the
    /// caller's stdin/stdout meanwhile.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        let pid = match self.state {
            State::Running { pid } => pid,
            State::Stopped(status) => return Ok(status),
            State::Created => return Err(Error::State("container is not started".into())),
        };
        if !self.owned {
            return Err(Error::State(format!(
                "container {} was started by another process: only that process can wait for it",
                short_id(&self.id)
            )));
        }
        if let Some(master) = self.pty_master.take() {
            tty::relay(&master)?;
        }
        let mut status = wait_pid(pid)?;
        if status.signal == Some(libc::SIGKILL) {
            status.oom_killed = self.cgroup.as_ref().is_some_and(|cg| cg.oom_killed());
        }
        self.state = State::Stopped(status);
        self.release();
        Ok(status)
    }

    /// Changes a resource limit: recorded before start, written to the cgroup while running.
    pub fn set_limit(&mut self, key: &str, value: &str) -> Result<()> {
        match (&self.state, &self.cgroup) {
            (State::Created, _) => Ok(cgroups::set_limit(&mut self.spec.resources, key, value)?),
            (State::Running { .. }, Some(cg)) => Ok(cg.set(key, value)?),
            _ => Err(Error::State(
                "container has exited: its cgroup is gone".into(),
            )),
        }
    }

    fn running_cgroup(&self) -> Result<&Cgroup> {
        match (&self.state, &self.cgroup) {
            (State::Running { .. }, Some(cg)) => Ok(cg),
            _ => Err(Error::State("container is not running".into())),
        }
    }

    /// The current value of a limit, read back from the running container's cgroup.
    pub fn get_limit(&self, key: &str) -> Result<String> {
        Ok(self.running_cgroup()?.get(key)?)
    }

    /// Usage counters of the running container.
    pub fn stats(&self) -> Result<cgroups::Stats> {
        Ok(self.running_cgroup()?.stats()?)
    }

    /// Runs a command inside the running container (like `docker exec`): same namespaces and
    /// cgroup, Docker's default capabilities, as `uid:gid` in `cwd`; with `tty` a new terminal
    /// relayed to the caller. Returns the command's status once it exits.
    pub fn exec(&self, exec: &ExecSpec) -> Result<ExitStatus> {
        let pid = self.live_pid()?;
        let spec = ContainerSpec {
            args: exec.args.clone(),
            env: exec.env.clone(),
            cwd: exec.cwd.clone(),
            uid: exec.uid,
            gid: exec.gid,
            terminal: exec.tty,
            hostname: self.spec.hostname.clone(),
            ..Default::default()
        };
        if spec.args.is_empty() || spec.args[0].is_empty() {
            return Err(Error::invalid("exec: no command given"));
        }
        crate::spec::validate_container_path("working directory", &spec.cwd)?;
        let mut plan = command_plan(&spec, None, c"/".into(), Vec::new())?;
        plan.console = false;
        // The exec's first process stays outside the PID namespace (setns moves only children):
        // it forks the command in, forwards signals to it and reports its status.
        plan.init = true;
        restrict_mknod(&mut plan, self.cgroup.as_ref());
        let join = self.join_handles(pid)?;
        let (parent_sock, child_sock) = sync::socketpair()?;
        // SAFETY: fork-like raw clone, as in start(); the child runs exec_main only.
        let child = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0, 0, 0, 0) } as libc::pid_t;
        if child < 0 {
            return Err(Error::last_os("clone"));
        }
        if child == 0 {
            // SAFETY: closing the parent's end in our copy; no destructor runs in the child.
            unsafe { libc::close(parent_sock.as_raw_fd()) };
            child::exec_main(&plan, &join, child_sock.as_raw_fd());
        }
        drop(child_sock);
        drop(join);
        let mut master = None;
        let report = loop {
            match sync::recv_msg(&parent_sock) {
                Ok(Some((msg, fd))) if msg.kind == sync::MSG_PTY => {
                    if let Some(fd) = fd {
                        tty::copy_window_size(&fd);
                        master = Some(fd);
                    }
                }
                Ok(Some((msg, _))) => break Err(child_error(&spec, &plan, Path::new("/"), &msg)),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = report {
            // SAFETY: our own unreaped child.
            unsafe { libc::kill(child, libc::SIGKILL) };
            let _ = wait_pid(child);
            return Err(e);
        }
        if let Some(master) = master {
            tty::relay(&master)?;
        }
        wait_pid(child)
    }

    /// Opens what an exec joins: the cgroup.procs files and the namespaces that differ from ours.
    fn join_handles(&self, pid: libc::pid_t) -> Result<child::Join> {
        use std::os::unix::fs::MetadataExt;
        let mut join = child::Join { cgroup_procs: Vec::new(), namespaces: Vec::new() };
        if let Some(cg) = &self.cgroup {
            for path in cg.procs_files() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::Io { path: path.clone(), source: e })?;
                join.cgroup_procs.push(f.into());
            }
        }
        // The mount namespace last: the other /proc paths are already open by then anyway, but
        // the order (cgroup, ipc, uts, net, pid, mnt) is the one runc and crun use.
        for (name, flag) in [
            ("cgroup", libc::CLONE_NEWCGROUP),
            ("ipc", libc::CLONE_NEWIPC),
            ("uts", libc::CLONE_NEWUTS),
            ("net", libc::CLONE_NEWNET),
            ("pid", libc::CLONE_NEWPID),
            ("mnt", libc::CLONE_NEWNS),
        ] {
            let theirs = PathBuf::from(format!("/proc/{pid}/ns/{name}"));
            let ours = PathBuf::from(format!("/proc/self/ns/{name}"));
            let same = match (std::fs::metadata(&theirs), std::fs::metadata(&ours)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                (Err(e), _) => return Err(Error::Io { path: theirs, source: e }),
                _ => false,
            };
            if !same {
                let f = std::fs::File::open(&theirs).map_err(|e| Error::Io { path: theirs.clone(), source: e })?;
                join.namespaces.push((f.into(), flag));
            }
        }
        Ok(join)
    }

    /// The pid of the container's first process, checked against pid reuse for handles opened
    /// from the state directory.
    fn live_pid(&self) -> Result<libc::pid_t> {
        let pid = self.pid().ok_or_else(|| Error::State("container is not running".into()))?;
        if !self.owned && !self.record.as_ref().is_some_and(|r| r.is_alive()) {
            return Err(Error::State(format!("container {} is not running", short_id(&self.id))));
        }
        Ok(pid)
    }

    /// Stops the container like `docker stop`: SIGTERM, then SIGKILL if it is still running
    /// after `timeout`. Returns once its first process has exited (it may still have to be
    /// reaped by the process that started it).
    pub fn stop(&self, timeout: std::time::Duration) -> Result<()> {
        let pid = self.live_pid()?;
        let pidfd = pidfd_open(pid)?;
        self.kill(libc::SIGTERM)?;
        if wait_exit(&pidfd, Some(timeout))? {
            return Ok(());
        }
        // SAFETY: signalling through the pidfd cannot hit a reused pid.
        if unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), libc::SIGKILL, std::ptr::null::<libc::siginfo_t>(), 0) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(Error::syscall("pidfd_send_signal(SIGKILL)", e));
            }
        }
        wait_exit(&pidfd, None)?;
        Ok(())
    }

    /// Sends a signal to the container's first process.
    pub fn kill(&self, signal: i32) -> Result<()> {
        if !(1..=64).contains(&signal) {
            return Err(Error::invalid(format!("invalid signal number {signal}")));
        }
        let pid = self
            .pid()
            .ok_or_else(|| Error::State("container is not running".into()))?;
        // SAFETY: our own child, not yet reaped.
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(Error::last_os(format!("kill({pid}, {signal})")));
        }
        Ok(())
    }
}

/// Turns a child's (step, index, errno) report into an error naming what failed.
fn child_error(
    spec: &ContainerSpec,
    plan: &ChildPlan,
    rootfs: &Path,
    msg: &sync::ChildMsg,
) -> Error {
    let index = msg.index as usize;
    let errno = msg.errno;
    let what = match Step::from_u32(msg.step) {
        Some(Step::RootfsOp) => plan
            .ops
            .get(index)
            .map_or("rootfs setup".into(), |op| op.describe(rootfs)),
        Some(Step::Exec) => {
            let argv0 = spec.args[0].to_string_lossy();
            if errno == libc::ENOENT {
                let what = if argv0.contains('/') {
                    format!("exec {argv0}: {}", crate::error::strerror(errno))
                } else {
                    return Error::CommandNotFound {
                        what: format!("exec: {argv0:?}: executable file not found in $PATH"),
                        errno,
                    };
                };
                return Error::CommandNotFound { what, errno };
            }
            let path = plan
                .exec_candidates
                .get(index)
                .map_or(argv0.to_string(), |p| p.to_string_lossy().into_owned());
            return Error::CommandNotExecutable {
                what: format!("exec {path}"),
                errno,
            };
        }
        Some(Step::Sethostname) => format!("sethostname({})", spec.hostname),
        Some(Step::MakePrivate) => "make mounts private".into(),
        Some(Step::BindRootfs) => format!("bind rootfs {}", rootfs.display()),
        Some(Step::PivotRoot) => format!("pivot_root({})", rootfs.display()),
        Some(Step::Chroot) => format!("chroot({})", rootfs.display()),
        Some(Step::ReadonlyRoot) => "remount the rootfs read-only".into(),
        Some(Step::Loopback) => "bring up lo".into(),
        Some(Step::Network) => "configure eth0".into(),
        Some(Step::Terminal) => "set up the terminal".into(),
        Some(Step::CgroupNamespace) => "unshare the cgroup namespace".into(),
        Some(Step::Setgroups) => "setgroups".into(),
        Some(Step::Setgid) => format!("setgid({})", spec.gid),
        Some(Step::Setuid) => format!("setuid({})", spec.uid),
        Some(Step::Capabilities) => "drop capabilities".into(),
        Some(Step::NoNewPrivs) => "set no_new_privs".into(),
        Some(Step::Chdir) => format!("chdir {}", spec.cwd.display()),
        Some(Step::InitFork) => "init: fork the command".into(),
        Some(Step::Setsid) => "setsid".into(),
        Some(Step::JoinCgroup) => "join the container's cgroup".into(),
        Some(Step::Setns) => "join the container's namespaces (setns)".into(),
        Some(Step::Seccomp) => "install the seccomp filter".into(),
        Some(Step::WaitGo) | None => format!("container setup step {}", msg.step),
    };
    Error::ChildSetup { what, errno }
}

/// What `Container::exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub tty: bool,
}

fn pidfd_open(pid: libc::pid_t) -> Result<OwnedFd> {
    // SAFETY: plain syscall; the fd is owned by us on success.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if fd < 0 {
        return Err(Error::last_os(format!("pidfd_open({pid})")));
    }
    // SAFETY: a fresh fd from the kernel.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// Waits until the process behind `pidfd` exits; false when `timeout` passed first.
fn wait_exit(pidfd: &OwnedFd, timeout: Option<std::time::Duration>) -> Result<bool> {
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let ms = match deadline {
            None => -1,
            Some(d) => d.saturating_duration_since(std::time::Instant::now()).as_millis().min(i32::MAX as u128) as i32,
        };
        let mut pfd = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: polling one pollfd on the stack.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n > 0 {
            return Ok(true);
        }
        if n == 0 {
            return Ok(false);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::syscall("poll(pidfd)", e));
        }
    }
}

/// The 12-digit form of an id that Docker shows.
pub fn short_id(id: &str) -> &str {
    &id[..12.min(id.len())]
}

fn wait_pid(pid: libc::pid_t) -> Result<ExitStatus> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::syscall(format!("waitpid({pid})"), e));
        }
    }
    Ok(if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        ExitStatus {
            code: 128 + sig,
            signal: Some(sig),
            oom_killed: false,
        }
    } else {
        ExitStatus {
            code: libc::WEXITSTATUS(status),
            signal: None,
            oom_killed: false,
        }
    })
}

impl Drop for Container {
    fn drop(&mut self) {
        self.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_path() {
        let env = vec![OsString::from("PATH=/a:/b")];
        let c = exec_candidates(OsStr::new("sh"), &env).unwrap();
        assert_eq!(
            c,
            vec![
                CString::new("/a/sh").unwrap(),
                CString::new("/b/sh").unwrap()
            ]
        );
        let c = exec_candidates(OsStr::new("/bin/sh"), &env).unwrap();
        assert_eq!(c, vec![CString::new("/bin/sh").unwrap()]);
    }

    #[test]
    fn ids_are_random_hex() {
        let (a, b) = (random_id(), random_id());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
