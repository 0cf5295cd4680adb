//! Running a command in a running container (`docker exec`, youki's tenant builder): the
//! container's cgroup and namespaces, Docker's default capabilities, its own terminal when
//! asked.

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{Container, ExitStatus};
use crate::error::{Error, Result, StateError};
use crate::process::plan::{ChildPlan, Command, Join, ProcessExtra};
use crate::process::sync::{self, ParentEnd, Report};
use crate::process::{exec_main, tty};
use crate::spec::{self, ContainerSpec, Seccomp};

/// What [`Container::exec`] runs.
#[derive(Debug, Clone, Default)]
pub struct ExecSpec {
    pub args: Vec<OsString>,
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub tty: bool,
    pub additional_gids: Vec<u32>,
    /// The OCI process settings (capabilities, no_new_privileges, rlimits, umask); the
    /// default is docker exec's.
    pub extra: ProcessExtra,
    /// The environment exactly as given (plus HOME when missing, as runc), not with Docker's
    /// PATH, HOSTNAME and TERM defaults.
    pub exact_env: bool,
    /// None: the container's own filter (for a container opened from the state directory,
    /// the one its record names).
    pub seccomp: Option<Seccomp>,
}

impl ExecSpec {
    /// The same checks as a container's process gets.
    fn validate(&self) -> Result<()> {
        spec::validate_command(&self.args)?;
        for e in &self.env {
            spec::validate_env_entry(e.as_bytes())?;
        }
        spec::validate_container_path("working directory", &self.cwd)?;
        Ok(spec::validate_user(self.uid, self.gid)?)
    }
}

impl Container {
    /// Runs a command inside the running container (like `docker exec`): same namespaces and
    /// cgroup, Docker's default capabilities, as `uid:gid` in `cwd`; with `tty` a new terminal
    /// relayed to the caller. Returns the command's status once it exits.
    pub fn exec(&self, exec: &ExecSpec) -> Result<ExitStatus> {
        let (exec_pid, exec_pidfd, master) = self.spawn_exec(exec)?;
        if let Some(master) = master {
            tty::relay(&master, None)?;
        }
        self.host.syscall.waitpid(exec_pid, exec_pidfd.as_fd())
    }

    /// Starts a command inside the running container and returns at once (an OCI `exec
    /// --detach`): its host pid (the process that forwards signals to the command and exits
    /// with its status; the caller's child until it exits) and, with `tty`, the pty master
    /// for the caller to hand on (e.g. over a console socket). Nothing waits for it here.
    pub fn exec_detached(&self, exec: &ExecSpec) -> Result<(libc::pid_t, Option<OwnedFd>)> {
        let (pid, _pidfd, master) = self.spawn_exec(exec)?;
        Ok((pid, master))
    }

    /// The exec's clone, up to its exec: its pid, pidfd and pty master.
    fn spawn_exec(&self, exec: &ExecSpec) -> Result<(libc::pid_t, OwnedFd, Option<OwnedFd>)> {
        exec.validate()?;
        let pid = self.live_pid()?;
        let mut plan = self.exec_plan(exec)?;
        let join = self.join_handles(pid)?;
        let (parent, child) = sync::channel()?;
        let child_fd = child.as_raw_fd();
        plan.prepare_exec(child_fd)?;
        let sys = &self.host.syscall;
        let (exec_pid, exec_pidfd) = sys.clone_child(0, &child, &|| {
            parent.close_in_child();
            exec_main(&plan, &join, child_fd)
        })?;
        drop(child);
        drop(join);
        match collect_reports(&plan, &parent) {
            Ok(master) => Ok((exec_pid, exec_pidfd, master)),
            Err(e) => {
                // Our own unreaped child.
                let _ = sys.kill(exec_pid, exec_pidfd.as_fd(), libc::SIGKILL);
                let _ = sys.waitpid(exec_pid, exec_pidfd.as_fd());
                Err(e)
            }
        }
    }

    fn exec_plan(&self, exec: &ExecSpec) -> Result<ChildPlan> {
        let env = ContainerSpec {
            env: exec.env.clone(),
            uid: exec.uid,
            terminal: exec.tty,
            hostname: self.spec.hostname.clone(),
            env_defaults: !exec.exact_env,
            ..Default::default()
        }
        .effective_env();
        let command = Command {
            args: exec.args.clone(),
            env,
            cwd: exec.cwd.clone(),
            uid: exec.uid,
            gid: exec.gid,
            groups: exec.additional_gids.clone(),
            terminal: exec.tty,
            extra: exec.extra.clone(),
        };
        let mut plan = ChildPlan::new(&command, Path::new("/"))?;
        plan.console = false;
        // The exec's first process stays outside the PID namespace (setns moves only children):
        // it forks the command in, forwards signals to it and reports its status.
        plan.init = true;
        if !self
            .cgroup
            .as_ref()
            .is_some_and(|cg| cg.restricts_devices())
        {
            plan.drop_mknod();
        }
        // The exec's own filter if it names one (OCI exec --process), else the container's,
        // as Docker gives an exec; for a container opened from the state directory, the one
        // its record names.
        let seccomp = match (&exec.seccomp, &self.record) {
            (Some(own), _) => own.clone(),
            (None, Some(rec)) if !self.owned => self.store.recorded_seccomp(rec)?,
            (None, _) => self.spec.seccomp.clone(),
        };
        plan.compile_seccomp(&seccomp)?;
        Ok(plan)
    }

    /// Opens what an exec joins: the cgroup.procs files and the namespaces that differ from ours.
    fn join_handles(&self, pid: libc::pid_t) -> Result<Join> {
        let mut join = Join::default();
        if let Some(cg) = &self.cgroup {
            for path in cg.procs_files() {
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                join.cgroup_procs.push(f.into());
            }
        }
        join.namespaces = self.host.syscall.namespace_fds(pid)?;
        // The namespaces were opened by pid: they are the container's only if its first process
        // still exists now (signal 0 through its pidfd; its pid cannot have been reused while it
        // exists, and a zombie has no namespaces left to open).
        let pidfd = self.pidfd.as_ref().ok_or(StateError::NotRunning)?;
        self.host
            .syscall
            .pidfd_send_signal(pidfd.as_fd(), 0)
            .map_err(|_| StateError::NotRunning)?;
        Ok(join)
    }
}

/// The exec child's reports until its exec: the pty master, if any, or its failure.
fn collect_reports(plan: &ChildPlan, channel: &ParentEnd) -> Result<Option<OwnedFd>> {
    let mut master = None;
    while let Some(report) = channel.recv()? {
        match report {
            Report::Pty(fd) => {
                tty::copy_window_size(&fd);
                master = Some(fd);
            }
            Report::Failed(f) => return Err(plan.describe(&f)),
            Report::Ready => break,
        }
    }
    Ok(master)
}
