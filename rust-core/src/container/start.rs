//! Starting a container, and undoing a start.
//!
//! In order: the record (owned by us while starting, so that a concurrent cleanup leaves what
//! follows alone) and the name; the container's copy-on-write root (an overlay of the rootfs),
//! the plan (rootfs steps, the child's strings), the mount points and the per-container files;
//! the cgroup; the bridge; the clone; then, while the child sets up its rootfs, the parent joins it to its cgroup,
//! plugs its network and sends the go-ahead; the child's reports until exec; the final record.
//! A failure anywhere undoes everything done so far in reverse order (`abort`), so nothing is
//! left: no record, name, cgroup, lease, veth, published port, file or process.

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{Container, Status};
use crate::error::{Error, Result, StateError};
use crate::hooks::{HookNs, run_hooks};
use crate::net::{ChildNet, ChildNetlink, Client, attach};
use crate::process::nsjoin;
use crate::process::plan::{ChildPlan, Command, ProcessExtra};
use crate::process::sync::{self, GoMsg, ParentEnd, Report};
use crate::process::{child_main, tty};
use crate::rootfs;
use crate::rootfs::cgroupfs::View;
use crate::spec::{NetworkMode, Seccomp, cstring, ns};

/// The CLONE_NEW* flags of the namespace bits (the cgroup namespace is unshared by the child
/// once it is in its cgroup).
fn clone_flags(namespaces: u32) -> libc::c_ulong {
    [
        (ns::USER, libc::CLONE_NEWUSER),
        (ns::UTS, libc::CLONE_NEWUTS),
        (ns::MOUNT, libc::CLONE_NEWNS),
        (ns::PID, libc::CLONE_NEWPID),
        (ns::NET, libc::CLONE_NEWNET),
        (ns::IPC, libc::CLONE_NEWIPC),
    ]
    .into_iter()
    .filter(|(bit, _)| namespaces & bit != 0)
    .fold(0, |flags, (_, f)| flags | f as libc::c_ulong)
}

impl Container {
    /// Creates the namespaces, sets up the rootfs and executes the command. Returns once the
    /// command runs (exec succeeded) or with the error that stopped it; on error nothing is left.
    pub fn start(&mut self) -> Result<()> {
        if !matches!(self.status, Status::Created) || self.record.is_some() || self.detached {
            return Err(StateError::AlreadyStarted.into());
        }
        self.host.require_root("starting a container")?;
        let rootfs = std::fs::canonicalize(&self.spec.rootfs)
            .map_err(|e| Error::io(&self.spec.rootfs, e))?;
        let result = self
            .claim()
            .and_then(|()| self.root(&rootfs))
            .and_then(|root| self.prepare(&root))
            .and_then(|mut plan| self.launch_logged(&mut plan));
        if let Err(e) = &result {
            self.abort();
            if self.reuse {
                self.record_failed_start(e);
            }
        }
        result
    }

    /// Saves the starting record, then claims the name. Until the command runs, the record names
    /// this process as the owner, so that a concurrent cleanup leaves a container that is
    /// still starting alone (its layer and files among them). The record comes first: a start
    /// killed in between leaves a stale record, which cleanup removes, never a name without one.
    fn claim(&mut self) -> Result<()> {
        let record = self.starting_record(std::process::id() as libc::pid_t);
        if let Some(name) = &self.spec.name {
            // A stopped container keeps its name until it is removed.
            self.host.records().check_name(name, &self.id)?;
        }
        self.record = Some(record.clone());
        self.store.save(&record)?;
        if let Some(name) = &self.spec.name {
            self.store.claim_name(name, &self.id)?;
        }
        Ok(())
    }

    /// The directory the container's root is built from: by default a fresh overlay of the
    /// rootfs (and the spec's layers) of this container's own; the rootfs itself only when the
    /// spec asks for sharing it.
    fn root(&mut self, rootfs: &Path) -> Result<PathBuf> {
        if self.spec.rootfs_shared {
            return Ok(rootfs.to_path_buf());
        }
        let mut lowers = vec![rootfs.to_path_buf()];
        for layer in &self.spec.layers {
            lowers.push(std::fs::canonicalize(layer).map_err(|e| Error::io(layer, e))?);
        }
        let root = std::fs::canonicalize(&self.host.layer_root)
            .unwrap_or_else(|_| self.host.layer_root.clone());
        let sys = &*self.host.syscall;
        // A layer that goes with the container anyway lives in memory (rootfs::overlay says
        // why); one that outlives it, on disk. (A user namespace's root may not take a mount
        // made by ours.)
        let ephemeral = self.spec.auto_remove
            && !self.reuse
            && self.spec.effective_namespaces() & ns::USER == 0;
        let memory = ephemeral
            .then(|| rootfs::overlay::Overlay::in_memory(sys, &root, &self.id, &lowers).ok())
            .flatten();
        let overlay = match memory {
            Some(o) => o,
            None => rootfs::overlay::Overlay::create(sys, &root, &self.id, &lowers, self.reuse)?,
        };
        let merged = overlay.merged().to_path_buf();
        self.layer = Some(overlay);
        Ok(merged)
    }

    /// The child's plan, and what the host needs for it: mount points, and with bridge
    /// networking this container's /etc/hosts and /etc/resolv.conf (filled once the address is
    /// known), bound over the image's as Docker does.
    fn prepare(&mut self, rootfs: &Path) -> Result<ChildPlan> {
        let mut fs = rootfs::plan(&self.spec, rootfs)?;
        if matches!(self.spec.seccomp, Seccomp::DockerJson(_)) {
            // Kept for the execs that other processes start from the record.
            self.files_dir = Some(self.store.files_dir(&self.id));
            self.store
                .save_seccomp_profile(&self.id, &self.spec.seccomp)?;
        }
        if self.spec.network.mode == NetworkMode::Bridge {
            let dir = self.store.create_files_dir(&self.id)?;
            self.files_dir = Some(dir.clone());
            for name in ["hosts", "resolv.conf"] {
                let source = dir.join(name);
                crate::private_fs::write(&source, b"").map_err(|e| Error::io(&source, e))?;
                fs.bind_file(rootfs, &source, &Path::new("/etc").join(name))?;
            }
        }
        fs.prepare()?;
        let mut plan = self.child_plan(rootfs, fs.ops)?;
        plan.cgroup_mount = fs.cgroup_mount;
        if let Some((fd, at)) = self.layer.as_ref().and_then(|l| l.detached()) {
            plan.rootfs = cstring("the rootfs path", at)?;
            plan.root_mount = Some(fd.as_raw_fd());
        }
        Ok(plan)
    }

    fn child_plan(&self, rootfs: &Path, ops: Vec<rootfs::Op>) -> Result<ChildPlan> {
        let spec = &self.spec;
        let namespaces = spec.effective_namespaces();
        let command = Command {
            args: spec.args.clone(),
            env: spec.effective_env(),
            cwd: spec.cwd.clone(),
            uid: spec.uid,
            gid: spec.gid,
            groups: spec.additional_gids.clone(),
            terminal: spec.terminal,
            extra: ProcessExtra {
                capabilities: spec.capabilities,
                no_new_privileges: spec.no_new_privileges,
                rlimits: spec.rlimits.clone(),
                umask: spec.umask,
                personality: spec.personality,
                preserve_fds: spec.preserve_fds,
            },
        };
        let mut plan = ChildPlan::new(&command, rootfs)?;
        plan.ops = ops;
        let uts =
            namespaces & ns::UTS != 0 || spec.namespace_paths.iter().any(|(b, _)| *b == ns::UTS);
        if uts {
            plan.hostname = Some(cstring("the hostname", &spec.hostname)?);
            if let Some(d) = &spec.domainname {
                plan.domainname = Some(cstring("the domainname", d)?);
            }
        }
        plan.root_propagation = spec.rootfs_propagation.unwrap_or(0);
        plan.preserve_fds = spec.preserve_fds;
        plan.userns = namespaces & ns::USER != 0;
        if let Some(fifo) = &spec.exec_fifo {
            // The init opens it after becoming the container's user: writable by anyone, as
            // runc makes it (0622; only the caller can read it, which is what starts it).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(fifo, std::fs::Permissions::from_mode(0o622))
                .map_err(|e| Error::io(fifo, e))?;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
                .open(fifo)
                .map_err(|e| Error::io(fifo, e))?;
            plan.exec_fifo = Some(f.into());
        }
        plan.no_pivot = spec.no_pivot;
        plan.readonly_rootfs = spec.readonly_rootfs;
        plan.loopback = namespaces & ns::NET != 0;
        plan.cgroup_namespace = namespaces & ns::CGROUP != 0;
        plan.init = spec.init;
        plan.eth0 = spec.network.mode == NetworkMode::Bridge;
        if plan.loopback || plan.eth0 {
            plan.net = Some(ChildNet::prepare(attach::CONTAINER_IFNAME)?);
        }
        Ok(plan)
    }

    /// [`launch`](Self::launch), with the child's stdout and stderr in pipes when its output
    /// is logged here (not with a terminal: `wait` logs what the pty relays).
    fn launch_logged(&mut self, plan: &mut ChildPlan) -> Result<()> {
        if !self.logs_here() || self.spec.terminal {
            return self.launch(plan);
        }
        let mut captured = super::output::Captured::new()?;
        let result = self.launch(plan);
        let sources = std::mem::take(&mut captured.sources);
        drop(captured);
        if result.is_ok() {
            self.output = sources;
        }
        result
    }

    fn launch(&mut self, plan: &mut ChildPlan) -> Result<()> {
        let name = self.cgroup_name();
        let cgroup =
            crate::cgroups::Cgroup::create(&self.host.cgroup_root, &name, &self.spec.resources)?;
        if !cgroup.restricts_devices() {
            plan.drop_mknod();
        }
        // Docker's /sys/fs/cgroup: only with its own cgroup namespace (else the host's tree
        // would show) and docker-run's system mounts (an OCI bundle lists its own mounts).
        if plan.cgroup_namespace && self.spec.system_mounts && !plan.userns {
            let root = self.host.cgroup_root.path();
            let view = View::of_host(root, cgroup.layout().is_v2(), &cgroup.paths());
            plan.cgroup_ops = view.ops()?;
        }
        if let Some((at, dest, ro)) = plan.cgroup_mount.take() {
            let root = self.host.cgroup_root.path();
            let v2 = cgroup.layout().is_v2();
            let ops = rootfs::cgroup_binds(&cgroup.paths(), root, v2, &dest, ro)?;
            plan.ops.splice(at..at, ops);
        }
        plan.compile_seccomp(&self.spec.seccomp)?;
        self.cgroup = Some(cgroup);
        let mut netlink = None;
        if self.spec.network.mode == NetworkMode::Bridge {
            let mut nl = (self.host.net)()?;
            let prepared =
                attach::prepare(&mut *nl, &self.spec.network, &self.store.leases_root())?;
            netlink = Some((nl, prepared));
        }
        #[cfg(test)]
        before_clone::run(plan);
        let (parent, child) = sync::channel()?;
        let flags = clone_flags(self.spec.effective_namespaces());
        let child_fd = child.as_raw_fd();
        let (thread_ns, child_ns) = nsjoin::open(&self.spec.namespace_paths)?;
        plan.join = child_ns;
        plan.prepare_exec(child_fd)?;
        let plan_ref: &ChildPlan = plan;
        let entered = nsjoin::enter(&thread_ns)?;
        let cloned = self.host.syscall.clone_child(flags, &child, &|| {
            parent.close_in_child();
            child_main(plan_ref, child_fd)
        });
        entered.leave()?;
        let (pid, pidfd) = cloned?;
        drop(child);
        self.status = Status::Running { pid };
        self.pidfd = Some(pidfd);
        if plan.userns {
            self.write_id_maps(pid, &parent)?;
        }
        let netlink = netlink
            .as_mut()
            .map(|(nl, p)| (&mut **nl as &mut dyn Client, &*p));
        self.finish_start(plan, &parent, netlink)?;
        // The child made its mounts private and pivoted into its own copy of the overlay: the
        // host's copy can go (earlier, its unmount would have propagated into the child's).
        if let Some(layer) = &mut self.layer {
            layer.detach(&*self.host.syscall);
        }
        let starting = self.record.clone().ok_or(StateError::NotRunning)?;
        let record = self.running_record(starting, pid);
        self.store.save(&record)?;
        self.record = Some(record);
        if self.spec.exec_fifo.is_none() && !self.spec.hooks.poststart.is_empty() {
            // The specification: a failed poststart hook is a warning, the container runs on.
            let state = self.hook_state(pid, "running");
            for e in
                crate::hooks::run_hooks_all(&self.spec.hooks.poststart, &state, HookNs::Runtime)
            {
                self.notices.push(format!("warning: poststart {e}"));
            }
        }
        self.record_started(pid)
    }

    /// Parent side after clone: release the child and collect its reports until exec.
    fn finish_start(
        &mut self,
        plan: &ChildPlan,
        channel: &ParentEnd,
        netlink: Option<(&mut dyn Client, &attach::Prepared)>,
    ) -> Result<()> {
        // The child sets up its rootfs meanwhile and waits for the go-ahead before anything of
        // the user's runs. If it failed already, its report explains our failure better.
        if let Err(e) = self.join_and_plug(channel, netlink) {
            return Err(match channel.try_recv_failure() {
                Some(f) => plan.describe(&f),
                None => e,
            });
        }
        while let Some(report) = channel.recv()? {
            match report {
                Report::Pty(master) => {
                    tty::copy_window_size(&master);
                    self.pty_master = Some(master);
                }
                Report::Failed(f) => return Err(plan.describe(&f)),
                // Blocked on its exec fifo: created, not started.
                Report::Ready => return Ok(()),
            }
        }
        Ok(())
    }

    /// The user namespace's uid_map and gid_map, written by us (root outside), then the first
    /// go-ahead (the child waits for it before anything else).
    fn write_id_maps(&self, pid: libc::pid_t, channel: &ParentEnd) -> Result<()> {
        let maps = [
            ("uid_map", &self.spec.uid_mappings),
            ("gid_map", &self.spec.gid_mappings),
        ];
        for (file, list) in maps {
            let text: String = list
                .iter()
                .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
                .collect();
            let path = PathBuf::from(format!("/proc/{pid}/{file}"));
            // One write: the kernel takes a map only whole, once.
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        }
        channel.send_go(&GoMsg::new())
    }

    /// Puts the child in its cgroup, plugs its network and sends the go-ahead with its address.
    fn join_and_plug(
        &mut self,
        channel: &ParentEnd,
        netlink: Option<(&mut dyn Client, &attach::Prepared)>,
    ) -> Result<()> {
        let pid = self.pid().ok_or(StateError::NotRunning)?;
        if let Some(cg) = &self.cgroup {
            cg.add_pid(pid)?;
        }
        if let Some(adj) = self.spec.oom_score_adj {
            let path = PathBuf::from(format!("/proc/{pid}/oom_score_adj"));
            std::fs::write(&path, adj.to_string()).map_err(|e| Error::io(&path, e))?;
        }
        self.run_create_hooks(pid)?;
        let mut go = GoMsg::new();
        if let Some((nl, prepared)) = netlink {
            let leases = self.store.leases_root();
            let att = attach::plug(nl, &self.spec.network, prepared, &leases, &self.id, pid)?;
            go = GoMsg::with_address(att.ip, att.subnet.1, att.gateway);
            let ip = att.ip;
            self.network = Some(att);
            self.write_network_files(ip)?;
        }
        channel.send_go(&go)
    }

    /// The name of the container's cgroup: its id (under `docker-run/`), or the spec's absolute
    /// cgroups path.
    pub(super) fn cgroup_name(&self) -> String {
        match &self.spec.cgroups_path {
            Some(p) => p.to_string_lossy().into_owned(),
            None => self.id.clone(),
        }
    }

    /// The OCI hooks of create, while the child waits for its go-ahead: prestart and
    /// createRuntime in our namespaces, createContainer in the container's; without an exec
    /// fifo (no separate start) also startContainer.
    fn run_create_hooks(&self, pid: libc::pid_t) -> Result<()> {
        let hooks = &self.spec.hooks;
        if hooks.is_empty() {
            return Ok(());
        }
        let state = self.hook_state(pid, "creating");
        let runtime = hooks.prestart.iter().chain(&hooks.create_runtime);
        run_hooks(
            &runtime.cloned().collect::<Vec<_>>(),
            &state,
            HookNs::Runtime,
        )?;
        run_hooks(&hooks.create_container, &state, HookNs::Container(pid))?;
        if self.spec.exec_fifo.is_none() {
            run_hooks(&hooks.start_container, &state, HookNs::ContainerPath(pid))?;
        }
        Ok(())
    }

    /// The OCI state for the hooks: config.json's, with this container's id, pid and status.
    pub(super) fn hook_state(&self, pid: libc::pid_t, status: &str) -> crate::spec::OciState {
        let mut state = self.spec.hooks.state.clone();
        state.id = self.spec.name.clone().unwrap_or_else(|| self.id.clone());
        state.pid = Some(pid);
        state.status = status.into();
        state
    }

    /// Fills the per-container /etc/hosts and /etc/resolv.conf bound into the rootfs.
    fn write_network_files(&self, ip: std::net::Ipv4Addr) -> Result<()> {
        let Some(dir) = &self.files_dir else {
            return Ok(());
        };
        let hosts = format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{}\n",
            self.spec.hostname
        );
        let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        for (name, text) in [("hosts", hosts.as_str()), ("resolv.conf", resolv.as_str())] {
            let path = dir.join(name);
            crate::private_fs::write(&path, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    /// Kills and reaps a child whose start failed (or that is dropped while running) and
    /// removes what the start created.
    pub(super) fn abort(&mut self) {
        // A detached handle's container belongs to its monitor.
        if !self.owned || self.detached {
            return;
        }
        self.pty_master = None;
        let pid = self.pid();
        self.release(pid);
        if pid.is_some() {
            self.status = Status::Created;
        }
    }

    /// Gives back what the start took, in the reverse order of `launch`: the network (with an
    /// explicit veth delete when the child is still there to kill: its namespace may outlive us
    /// for a moment), the child itself (killed and reaped), the cgroup (empty once the child is
    /// gone), the per-container files, the record and its name.
    pub(super) fn release(&mut self, kill: Option<libc::pid_t>) {
        if let Some(att) = self.network.take() {
            let mut nl = kill.and_then(|_| (self.host.net)().ok());
            att.unplug(nl.as_mut().map(|nl| &mut **nl as &mut dyn Client));
        }
        if let (Some(pid), Some(pidfd)) = (kill, self.pidfd.take()) {
            // Our own child, through the pidfd of its clone: if a C host reaped it already
            // (waitpid(-1)), the pid may be someone else's now, and this reaches nobody.
            let _ = self.host.syscall.kill(pid, pidfd.as_fd(), libc::SIGKILL);
            let _ = self.host.syscall.waitpid(pid, pidfd.as_fd());
        }
        self.pidfd = None;
        if let Some(cg) = self.cgroup.take() {
            // Drop removes it best-effort as well; remove() only adds error reporting we cannot
            // act on here.
            let _ = cg.remove();
        }
        if let Some(dir) = self.files_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        // What outlives the container (record, log, layer) stays unless it is auto-removed, or
        // a first start failed (nothing of it ever ran).
        let discard = self.spec.auto_remove || (!self.recorded && !self.reuse);
        if let Some(mut layer) = self.layer.take() {
            match discard {
                true => layer.remove(&*self.host.syscall),
                false => layer.detach(&*self.host.syscall),
            }
        }
        if discard && (self.recorded || self.spec.rootfs_shared) {
            let sys = &*self.host.syscall;
            rootfs::overlay::remove_dir(sys, &self.host.layer_root, &self.id);
        }
        if let Some(rec) = self.record.take() {
            self.store.remove(&rec);
        }
    }
}

/// Tests change the rootfs between planning and clone (what a concurrent container could do to
/// a shared one): a hook per rootfs, run just before clone.
#[cfg(test)]
pub(super) mod before_clone {
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use crate::process::plan::ChildPlan;

    type Hook = (PathBuf, fn(&Path));
    static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

    /// Runs `hook(rootfs)` before the clone of every start on `rootfs`.
    pub fn set(rootfs: &Path, hook: fn(&Path)) {
        HOOKS.lock().unwrap().push((rootfs.to_path_buf(), hook));
    }

    pub(crate) fn run(plan: &ChildPlan) {
        let root = Path::new(std::ffi::OsStr::from_bytes(plan.rootfs.as_bytes()));
        let hooks: Vec<Hook> = HOOKS.lock().unwrap().clone();
        for (r, hook) in hooks {
            if r == root {
                hook(root);
            }
        }
    }
}
