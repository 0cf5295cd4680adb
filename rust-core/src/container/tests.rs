//! The lifecycle on fakes, without root: the kernel's operations and netlink are recorded in one
//! log (`syscall::fake`, `net::fake`), the cgroup root is a directory tree of the v1 shape, the
//! state root and the rootfs are temporary directories. What these cannot show (mounts,
//! namespaces, the child itself) the root tests in `root_tests` run on the real kernel.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::cgroups::{Layout, Root};
use crate::error::{Error, StateError};
use crate::net::fake::FakeNet;
use crate::net::{NetError, attach};
use crate::process::sync::Step;
use crate::spec::{NetworkMode, NetworkSpec, SpecError};
use crate::state::StoreError;
use crate::syscall::fake::{ChildScript, FakeSyscall};
use crate::test_utils::{CallLog, TempDir};

const HIERARCHIES: [&str; 2] = ["memory", "pids"];

/// The interface files of a new v1 cgroup directory, as the kernel makes them.
fn populate_v1(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("cgroup.procs"), "")?;
    let in_memory = dir.components().any(|c| c.as_os_str() == "memory");
    if in_memory {
        std::fs::write(
            dir.join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        )?;
        std::fs::write(dir.join("memory.limit_in_bytes"), "9223372036854771712\n")?;
    }
    Ok(())
}

/// A host made of fakes, and what the tests look at.
struct Fixture {
    log: CallLog,
    sys: Arc<FakeSyscall>,
    net: FakeNet,
    state: TempDir,
    cgroups: TempDir,
    rootfs: TempDir,
    /// What the fake clone returns: our own pid, so that leases and records find it alive.
    pid: libc::pid_t,
}

impl Fixture {
    fn new() -> Fixture {
        let log = CallLog::default();
        let pid = std::process::id() as libc::pid_t;
        let cgroups = TempDir::new("cgroot");
        for h in HIERARCHIES {
            std::fs::create_dir(cgroups.0.join(h)).unwrap();
            std::fs::write(cgroups.0.join(h).join("cgroup.procs"), "").unwrap();
        }
        let rootfs = TempDir::new("rootfs");
        std::fs::create_dir_all(rootfs.0.join("etc")).unwrap();
        Fixture {
            sys: Arc::new(FakeSyscall::new(log.clone(), pid)),
            net: FakeNet::new(log.clone()),
            log,
            state: TempDir::new("state"),
            cgroups,
            rootfs,
            pid,
        }
    }

    fn host(&self) -> Host {
        Host {
            syscall: self.sys.clone(),
            net: self.net.connector(),
            state_root: self.state.0.clone(),
            layer_root: self.state.0.join("layers"),
            cgroup_root: Root::fake(&self.cgroups.0, Layout::Legacy, populate_v1),
        }
    }

    fn spec(&self) -> ContainerSpec {
        ContainerSpec {
            rootfs: self.rootfs.0.clone(),
            ..Default::default()
        }
    }

    /// A bridge spec whose bridge already has its NAT rules (the marker of a first container),
    /// so that no iptables runs.
    fn bridge_spec(&self) -> ContainerSpec {
        let leases = attach::lease_dir(&self.state.0.join("leases"), "br-fake");
        std::fs::create_dir_all(&leases).unwrap();
        std::fs::write(leases.join(attach::NAT_MARKER), "10.99.0.0/24").unwrap();
        let network = NetworkSpec {
            mode: NetworkMode::Bridge,
            bridge: "br-fake".into(),
            subnet: Some((Ipv4Addr::new(10, 99, 0, 0), 24)),
            ..Default::default()
        };
        ContainerSpec {
            name: Some("web".into()),
            network,
            ..self.spec()
        }
    }

    fn container(&self, spec: ContainerSpec) -> Container {
        ContainerBuilder::new(spec)
            .host(self.host())
            .build()
            .unwrap()
    }

    fn cgroup_dirs(&self, id: &str) -> Vec<PathBuf> {
        HIERARCHIES
            .iter()
            .map(|h| self.cgroups.0.join(h).join("docker-run").join(id))
            .collect()
    }

    fn leases(&self) -> Vec<String> {
        let dir = self.state.0.join("leases/br-fake");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// Shows, with each logged call, which of this container's things exist at that moment.
    fn probe(&self, id: &str) {
        let cgroup = self.cgroup_dirs(id)[0].clone();
        let record = self.state.0.join("containers").join(id);
        let files = self.state.0.join("files").join(id);
        let leases = self.state.0.join("leases/br-fake");
        self.log.set_probe(move |_| {
            let lease = std::fs::read_dir(&leases)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
            let mut seen = Vec::new();
            for (what, there) in [
                ("record", record.exists()),
                ("files", files.exists()),
                ("cgroup", cgroup.exists()),
                ("lease", lease),
            ] {
                if there {
                    seen.push(what);
                }
            }
            seen.join(" ")
        });
    }

    /// Nothing of container `id` is left: record, name, files, cgroup, lease.
    fn assert_nothing_left(&self, id: &str) {
        let state = &self.state.0;
        assert!(!state.join("containers").join(id).exists(), "record left");
        assert!(!state.join("names/web").exists(), "name left");
        assert!(!state.join("files").join(id).exists(), "files left");
        let layer = state.join("layers/containers").join(id);
        assert!(!layer.exists(), "{} left", layer.display());
        for d in self.cgroup_dirs(id) {
            assert!(!d.exists(), "{} left", d.display());
        }
        assert_eq!(self.leases(), Vec::<String>::new(), "lease left");
        let tmp: Vec<_> = std::fs::read_dir(state.join("containers"))
            .into_iter()
            .flatten()
            .flatten()
            .collect();
        assert!(tmp.is_empty(), "{tmp:?}");
    }
}

#[test]
fn ids_are_random_hex() {
    let (a, b) = (random_id(), random_id());
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
}

#[test]
fn the_builder_checks_the_whole_spec_first() {
    let fx = Fixture::new();
    let build = |spec| ContainerBuilder::new(spec).host(fx.host()).build();
    let no_cmd = ContainerSpec {
        args: vec![],
        ..fx.spec()
    };
    assert!(matches!(
        build(no_cmd),
        Err(Error::Spec(SpecError::NoCommand))
    ));
    let mut bad_net = fx.bridge_spec();
    bad_net.network.subnet = Some((Ipv4Addr::new(10, 99, 0, 1), 24));
    assert!(matches!(
        build(bad_net),
        Err(Error::Net(NetError::Invalid(_)))
    ));
    let mut swap = fx.spec();
    swap.resources.memory_swap = Some(64 << 20);
    assert!(matches!(build(swap), Err(Error::Cgroup(_))));
    assert!(
        fx.log.entries().is_empty(),
        "nothing was asked of the kernel"
    );
}

/// The whole start on fakes, then wait: the child gets its address with the go-ahead, the
/// record names the child once it runs, and the teardown after wait deletes no veth (it dies
/// with the namespace) and kills nothing.
#[test]
fn start_and_wait_with_a_bridge() {
    let fx = Fixture::new();
    let mut c = fx.container(fx.bridge_spec());
    c.start().unwrap();
    let id = c.id().to_string();
    let host_if = attach::host_ifname(&id);
    assert_eq!(c.ip(), Some(Ipv4Addr::new(10, 99, 0, 2)));
    assert_eq!(c.pid(), Some(fx.pid));
    let rec = fx.host().store().find("web").unwrap();
    assert_eq!(
        (rec.pid, rec.starting, rec.ip.as_deref()),
        (fx.pid, false, Some("10.99.0.2"))
    );
    let procs = std::fs::read_to_string(fx.cgroup_dirs(&id)[0].join("cgroup.procs")).unwrap();
    assert_eq!(procs, fx.pid.to_string(), "the child was put in its cgroup");
    let hosts = std::fs::read_to_string(fx.state.0.join("files").join(&id).join("hosts")).unwrap();
    assert!(hosts.contains("10.99.0.2\tcontainer"), "{hosts}");
    let bridge = fx.net.link("br-fake").unwrap();
    let veth = fx.net.link(&host_if).unwrap();
    assert!(bridge.is_up() && veth.is_up() && veth.master == Some(bridge.index));
    assert_eq!(
        fx.net.addr("br-fake"),
        Some((Ipv4Addr::new(10, 99, 0, 1), 24))
    );
    let calls = fx.log.only(&[
        "clone",
        "veth_create",
        "bridge_attach",
        "child",
        "kill",
        "waitpid",
    ]);
    assert_eq!(
        calls,
        [
            "clone uts,mnt,pid,net,ipc".to_string(),
            format!("veth_create {host_if}/eth0 (netns of {})", fx.pid),
            format!("bridge_attach {host_if} to br-fake"),
            "child: go 10.99.0.2/24 via 10.99.0.1".to_string(),
        ]
    );

    let status = c.wait().unwrap();
    assert_eq!(status, ExitStatus::exited(0));
    assert_eq!(c.exit_status(), Some(status));
    let after = fx.log.only(&["kill", "waitpid", "link_delete"]);
    assert_eq!(after, [format!("waitpid {}", fx.pid)]);
    fx.assert_nothing_left(&id);
    assert!(matches!(
        c.start(),
        Err(Error::State(StateError::AlreadyStarted))
    ));
}

/// The root is an overlay of the rootfs of the container's own, mounted on the host only until
/// the child runs on its copy; its directory is root-only and goes with the container. A shared
/// rootfs mounts nothing.
#[test]
fn the_root_is_a_layer_of_its_own() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new();
    let mut c = fx.container(fx.spec());
    c.start().unwrap();
    let id = c.id().to_string();
    let dir = fx.state.0.join("layers/containers").join(&id);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&fx.state.0.join("layers/containers")), 0o700);
    let rootfs = std::fs::canonicalize(&fx.rootfs.0).unwrap();
    let dir = std::fs::canonicalize(&dir).unwrap();
    let mounts = fx.log.only(&["mount", "umount", "clone"]);
    assert_eq!(
        mounts,
        [
            format!(
                "mount overlay lowerdir={},upperdir={d}/upper,workdir={d}/work on {d}/merged",
                rootfs.display(),
                d = dir.display()
            ),
            "clone uts,mnt,pid,net,ipc".to_string(),
            format!("umount {}/merged", dir.display()),
        ]
    );
    c.wait().unwrap();
    fx.assert_nothing_left(&id);

    let fx = Fixture::new();
    let mut c = fx.container(ContainerSpec {
        rootfs_shared: true,
        ..fx.spec()
    });
    c.start().unwrap();
    assert_eq!(fx.log.only(&["mount", "umount"]), Vec::<String>::new());
    c.wait().unwrap();
}

/// A layer that goes with its container (auto-removal, the default) is kept in memory: an
/// overlay attached nowhere on the host, whose merged tree the parent prepares through the
/// mount's descriptor and which the child moves onto the rootfs path in its own namespace.
/// Nothing is mounted or unmounted on the host, no directory of it is on disk. A container
/// that outlives its end keeps its layer on disk.
#[test]
fn an_auto_removed_container_keeps_its_layer_in_memory() {
    use std::os::unix::fs::MetadataExt;
    let fx = Fixture::new();
    let merged = TempDir::new("merged");
    fx.sys.memory_overlay_in(&merged.0);
    let rootfs = std::fs::canonicalize(&fx.rootfs.0).unwrap();
    super::start::before_clone::set(&rootfs, |root| {
        std::fs::write(root.join("etc/planned-root"), "").unwrap();
    });
    let mut c = fx.container(fx.spec());
    c.start().unwrap();
    let id = c.id().to_string();
    let meta = std::fs::metadata(&rootfs).unwrap();
    assert_eq!(
        fx.log.only(&["mount", "umount"]),
        [format!(
            "mount memory overlay lowerdir={} root {}:{} {:o}",
            rootfs.display(),
            meta.uid(),
            meta.gid(),
            meta.mode() & 0o7777
        )]
    );
    assert!(
        rootfs.join("etc/planned-root").exists(),
        "the child mounts the layer onto the rootfs path"
    );
    assert!(merged.0.join("proc").is_dir(), "mount points in the layer");
    assert!(!rootfs.join("proc").exists(), "and not in the rootfs");
    let layer = fx.state.0.join("layers/containers").join(&id);
    assert!(!layer.join("upper").exists() && !layer.join("merged").exists());
    c.wait().unwrap();
    drop(c);
    fx.assert_nothing_left(&id);

    let mut kept = fx.container(ContainerSpec {
        auto_remove: false,
        ..fx.spec()
    });
    kept.start().unwrap();
    let dir = std::fs::canonicalize(fx.state.0.join("layers/containers").join(kept.id())).unwrap();
    assert!(
        fx.log.only(&["mount overlay"])
            == [format!(
                "mount overlay lowerdir={},upperdir={d}/upper,workdir={d}/work on {d}/merged",
                rootfs.display(),
                d = dir.display()
            )],
        "{:?}",
        fx.log.only(&["mount"])
    );
    kept.wait().unwrap();
}

/// An overlay the kernel refuses stops the start with a message naming the way out, and leaves
/// nothing.
#[test]
fn a_refused_overlay_names_the_shared_switch() {
    let fx = Fixture::new();
    fx.sys.fail("mount_overlay", libc::ENODEV);
    let mut c = fx.container(fx.bridge_spec());
    let id = c.id().to_string();
    let err = c.start().unwrap_err().to_string();
    assert!(
        err.contains("no overlayfs") && err.contains("--rootfs-shared"),
        "{err}"
    );
    fx.assert_nothing_left(&id);
    assert_eq!(fx.log.only(&["clone"]), Vec::<String>::new());
}

/// A failure after the veth exists: everything done so far is undone, in reverse order — the
/// network (veth deleted, then the lease released) while the child still exists, then the child
/// (killed, reaped), and only then the cgroup, the files and the record.
#[test]
fn a_failed_launch_is_undone_in_reverse_order() {
    let fx = Fixture::new();
    fx.net.fail("bridge_attach", libc::EPERM);
    let mut c = fx.container(fx.bridge_spec());
    let id = c.id().to_string();
    fx.probe(&id);
    let err = c.start().unwrap_err();
    assert!(err.to_string().contains("attach"), "{err}");
    assert_eq!(err.errno(), Some(libc::EPERM));
    let host_if = attach::host_ifname(&id);
    let undo = fx.log.only(&["link_delete", "kill", "waitpid"]);
    assert_eq!(
        undo,
        [
            format!("link_delete {host_if} [record files cgroup lease]"),
            format!("kill {} 9 [record files cgroup]", fx.pid),
            format!("waitpid {} [record files cgroup]", fx.pid),
        ]
    );
    fx.assert_nothing_left(&id);
    assert!(fx.net.link(&host_if).is_none(), "the veth was deleted");
    assert_eq!(c.pid(), None);
    assert!(matches!(
        c.wait(),
        Err(Error::State(StateError::NotStarted))
    ));
}

/// A failure at each step of the start leaves nothing behind, and the child is killed and
/// reaped exactly when it was cloned.
#[test]
fn a_failure_at_any_step_leaves_nothing() {
    type Setup = fn(&Fixture);
    let cases: [(&str, Setup, bool); 7] = [
        (
            "bridge",
            |fx| fx.net.fail("bridge_create", libc::EPERM),
            false,
        ),
        ("clone", |fx| fx.sys.fail("clone", libc::EAGAIN), false),
        ("veth", |fx| fx.net.fail("veth_create", libc::EEXIST), true),
        (
            "bridge up",
            |fx| fx.net.fail("link_up", libc::ENODEV),
            false,
        ),
        (
            "rootfs",
            |fx| {
                fx.sys.script(ChildScript::Fail {
                    step: Step::RootfsOp,
                    index: 0,
                    errno: libc::EPERM,
                })
            },
            true,
        ),
        (
            "exec",
            |fx| {
                fx.sys.script(ChildScript::Fail {
                    step: Step::Exec,
                    index: 0,
                    errno: libc::ENOENT,
                })
            },
            true,
        ),
        ("child died", |fx| fx.sys.script(ChildScript::Vanish), true),
    ];
    for (what, setup, cloned) in cases {
        let fx = Fixture::new();
        setup(&fx);
        let mut c = fx.container(fx.bridge_spec());
        let id = c.id().to_string();
        let err = c.start().expect_err(what);
        fx.assert_nothing_left(&id);
        let killed = fx.log.only(&["kill", "waitpid"]);
        let want: Vec<String> = if cloned {
            vec![format!("kill {} 9", fx.pid), format!("waitpid {}", fx.pid)]
        } else {
            vec![]
        };
        assert_eq!(killed, want, "{what}: {err}");
        match what {
            "rootfs" => assert_eq!(
                err.to_string(),
                "mount proc on /proc: Operation not permitted"
            ),
            "exec" => assert!(matches!(err, Error::CommandNotFound { .. }), "{err}"),
            "child died" => assert!(
                err.to_string().starts_with("release the container process"),
                "{err}"
            ),
            _ => assert!(err.errno().is_some(), "{what}: {err}"),
        }
    }
}

/// A subnet that overlaps a route of another interface is refused before anything is made: the
/// bridge would cut the host off from that network.
#[test]
fn an_overlapping_subnet_is_refused() {
    let fx = Fixture::new();
    fx.net.add_route("eth0", (Ipv4Addr::new(10, 99, 0, 0), 16));
    let mut c = fx.container(fx.bridge_spec());
    let err = c.start().unwrap_err();
    assert!(
        err.to_string()
            .contains("overlaps the route to 10.99.0.0/16 on interface eth0"),
        "{err}"
    );
    assert!(fx.net.link("br-fake").is_none());
    assert!(fx.log.only(&["clone", "bridge_create"]).is_empty());
    fx.assert_nothing_left(c.id());
}

/// A name held by a live container is refused before anything is made.
#[test]
fn a_taken_name_is_refused() {
    let fx = Fixture::new();
    let mut first = fx.container(fx.bridge_spec());
    first.start().unwrap();
    let mut second = fx.container(fx.bridge_spec());
    let err = second.start().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Store(StoreError::NameInUse { .. })
                | Error::Record(crate::record::RecordError::NameInUse { .. })
        ),
        "{err}"
    );
    assert_eq!(fx.log.only(&["clone"]).len(), 1, "the second never cloned");
    assert!(fx.cgroup_dirs(second.id()).iter().all(|d| !d.exists()));
    drop(first);
}

/// Dropping a running container kills and reaps it and removes everything.
#[test]
fn dropping_a_running_container_aborts_it() {
    let fx = Fixture::new();
    let mut c = fx.container(fx.spec());
    c.start().unwrap();
    let id = c.id().to_string();
    assert!(fx.cgroup_dirs(&id).iter().all(|d| d.is_dir()));
    drop(c);
    assert_eq!(
        fx.log.only(&["kill", "waitpid"]),
        [format!("kill {} 9", fx.pid), format!("waitpid {}", fx.pid)]
    );
    fx.assert_nothing_left(&id);
}

#[test]
fn kill_and_stop() {
    let fx = Fixture::new();
    let mut c = fx.container(fx.spec());
    assert!(matches!(
        c.kill(15),
        Err(Error::State(StateError::NotRunning))
    ));
    c.start().unwrap();
    for bad in [0, 65, -9] {
        assert!(matches!(c.kill(bad), Err(Error::Signal(_))), "{bad}");
    }
    c.kill(15).unwrap();
    assert_eq!(fx.log.only(&["kill"]), [format!("kill {} 15", fx.pid)]);

    // Exits on SIGTERM in time; through the pidfd taken with the clone (no pidfd_open by pid).
    c.stop(Duration::from_millis(200)).unwrap();
    let pidfd = ["pidfd"];
    let calls = fx.log.only(&pidfd);
    assert_eq!(
        calls,
        [
            "pidfd_send_signal 15".to_string(),
            "pidfd_wait 200ms".into()
        ]
    );
    // Ignores it: SIGKILL after the timeout, through the same pidfd.
    fx.sys.pidfd_answers(&[false, true]);
    c.stop(Duration::from_millis(200)).unwrap();
    assert_eq!(
        fx.log.only(&pidfd)[2..],
        [
            "pidfd_send_signal 15".to_string(),
            "pidfd_wait 200ms".into(),
            "pidfd_send_signal 9".into(),
            "pidfd_wait forever".into(),
        ]
    );
}

/// exec's argument errors: refused before anything is asked of the kernel.
#[test]
fn exec_refuses_bad_arguments() {
    let fx = Fixture::new();
    let mut c = fx.container(fx.spec());
    let exec = ExecSpec {
        args: vec!["/bin/true".into()],
        cwd: "/".into(),
        ..Default::default()
    };
    assert!(matches!(
        c.exec(&exec),
        Err(Error::State(StateError::NotRunning))
    ));
    c.start().unwrap();
    let before = fx.log.entries().len();
    let no_cmd = ExecSpec {
        args: vec![],
        ..exec.clone()
    };
    assert!(matches!(
        c.exec(&no_cmd),
        Err(Error::Spec(SpecError::NoCommand))
    ));
    let rel = ExecSpec {
        cwd: "tmp".into(),
        ..exec.clone()
    };
    assert!(matches!(
        c.exec(&rel),
        Err(Error::Spec(SpecError::NotAbsolute { .. }))
    ));
    let env = ExecSpec {
        env: vec!["NOEQUALS".into()],
        ..exec.clone()
    };
    assert!(matches!(
        c.exec(&env),
        Err(Error::Spec(SpecError::EnvEntry(_)))
    ));
    assert_eq!(
        fx.log.entries().len(),
        before,
        "nothing asked of the kernel"
    );
}

/// exec on a running container whose kernel or child fails as scripted, and the calls made
/// after the container's own start.
fn exec_child(
    script: ChildScript,
    fail: Option<&'static str>,
) -> (crate::Result<ExitStatus>, Vec<String>) {
    let fx = Fixture::new();
    let mut c = fx.container(fx.spec());
    c.start().unwrap();
    fx.sys.script(script);
    if let Some(op) = fail {
        fx.sys.fail(op, libc::EPERM);
    }
    let exec = ExecSpec {
        args: vec!["/bin/true".into()],
        cwd: "/".into(),
        ..Default::default()
    };
    let result = c.exec(&exec);
    let calls = fx
        .log
        .entries()
        .into_iter()
        .skip_while(|e| !e.starts_with("umount"))
        .skip(1);
    (result, calls.collect())
}

/// A namespace or clone failure before a child exists; a child that fails (killed and reaped,
/// its step in the message); one that succeeds (reaped, not killed).
#[test]
fn exec_failures_of_the_kernel_and_the_child() {
    let pid = std::process::id() as libc::pid_t;
    let (r, calls) = exec_child(ChildScript::Exec, Some("namespace_fds"));
    assert_eq!(r.unwrap_err().errno(), Some(libc::EPERM));
    assert_eq!(calls, [format!("namespace_fds {pid}")]);
    let (r, calls) = exec_child(ChildScript::Exec, Some("clone"));
    assert!(r.unwrap_err().to_string().starts_with("clone"));
    assert_eq!(
        calls.last().unwrap(),
        "clone -",
        "no kill: there is no child"
    );

    let setns = ChildScript::Fail {
        step: Step::Setns,
        index: 1,
        errno: libc::EPERM,
    };
    let (r, calls) = exec_child(setns, None);
    let err = r.unwrap_err();
    assert_eq!(
        err.to_string(),
        "join the container's namespaces (setns): Operation not permitted"
    );
    assert_eq!(
        calls[calls.len() - 2..],
        [format!("kill {pid} 9"), format!("waitpid {pid}")]
    );
    let missing = ChildScript::Fail {
        step: Step::Exec,
        index: 0,
        errno: libc::ENOENT,
    };
    let (r, _) = exec_child(missing, None);
    assert!(matches!(r, Err(Error::CommandNotFound { .. })));

    let (r, calls) = exec_child(ChildScript::Exec, None);
    assert_eq!(r.unwrap(), ExitStatus::exited(0));
    assert_eq!(
        calls[calls.len() - 1],
        format!("waitpid {pid}"),
        "{calls:?}"
    );
    assert!(!calls.iter().any(|c| c.starts_with("kill")));
}

/// A container opened from the state directory: found by name or prefix, refused once its
/// process is gone; it cannot be waited for, and dropping it removes nothing.
#[test]
fn opened_containers() {
    let fx = Fixture::new();
    let mut c = fx.container(fx.bridge_spec());
    c.start().unwrap();
    let id = c.id().to_string();
    let opened = Container::open_in(fx.host(), "web").unwrap();
    assert_eq!((opened.id(), opened.pid()), (id.as_str(), Some(fx.pid)));
    // A record naming the same live process, with its real start time, but no cgroup holding
    // it: not listed (what `docker-run ps` shows).
    let forged = crate::state::Record {
        id: "f".repeat(64),
        pid: fx.pid,
        start_time: crate::procfs::process_start_time(fx.pid).unwrap(),
        ..Default::default()
    };
    fx.host().store().save(&forged).unwrap();
    assert!(forged.is_alive());
    let listed: Vec<String> = super::list_running(&fx.host())
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&id));
    fx.host().store().remove(&forged);
    assert_eq!(opened.ip(), Some(Ipv4Addr::new(10, 99, 0, 2)));
    let mut by_prefix = Container::open_in(fx.host(), &id[..8]).unwrap();
    assert!(matches!(
        by_prefix.wait(),
        Err(Error::State(StateError::NotOwner(_)))
    ));
    drop(by_prefix);
    drop(opened);
    assert!(
        fx.state.0.join("containers").join(&id).exists(),
        "opened handles leave it alone"
    );
    assert_eq!(fx.log.only(&["kill"]), Vec::<String>::new());
    let err = Container::open_in(fx.host(), "nope").unwrap_err();
    assert!(
        matches!(err, Error::Store(StoreError::NoSuchContainer(_))),
        "{err}"
    );
    drop(c);
    assert!(Container::open_in(fx.host(), "web").is_err());
}

/// Without auto-removal (docker run without --rm) the record, with the exit code, and the
/// layer stay after the end, and cleanup keeps them; started again (docker start) it runs on
/// the same upper layer; a stopped container keeps its name; with auto-removal all goes.
#[test]
fn a_kept_container_keeps_its_record_layer_and_name() {
    use crate::record::RunStatus;
    let fx = Fixture::new();
    let spec = ContainerSpec {
        auto_remove: false,
        name: Some("kept".into()),
        ..fx.spec()
    };
    let host = fx.host();
    let mut c = fx.container(spec.clone());
    c.start().unwrap();
    let id = c.id().to_string();
    let running = host.records().load(&id).unwrap();
    assert_eq!(running.state.status, RunStatus::Running);
    let status = c.wait().unwrap();
    drop(c);
    let rec = host.records().load(&id).unwrap();
    assert_eq!(rec.state.status, RunStatus::Exited);
    assert_eq!(rec.state.exit_code, status.code);
    let upper = host.layer_root.join("containers").join(&id).join("upper");
    std::fs::write(upper.join("kept"), "x").unwrap();
    crate::cleanup::cleanup_host(&host);
    assert!(
        upper.join("kept").exists(),
        "cleanup keeps a kept container's layer"
    );
    let mut other = fx.container(spec.clone());
    let err = other.start().unwrap_err().to_string();
    assert!(err.contains("already in use"), "{err}");
    let builder = ContainerBuilder::new(spec).host(host.clone());
    let mut again = builder.existing(&id).build().unwrap();
    again.start().unwrap();
    assert!(upper.join("kept").exists(), "the same upper layer");
    again.wait().unwrap();
    drop(again);
    assert!(host.records().load(&id).is_some());

    let mut gone = fx.container(fx.spec());
    gone.start().unwrap();
    let gone_id = gone.id().to_string();
    assert!(
        host.records().load(&gone_id).is_some(),
        "recorded while it runs"
    );
    gone.wait().unwrap();
    assert!(host.records().load(&gone_id).is_none());
    assert!(!host.layer_root.join("containers").join(&gone_id).exists());
}
