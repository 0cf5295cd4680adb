//! The lifecycle on the real kernel (root: `test_as_root`), one test per path of the cloned
//! child: plain, mounts and a read-only root, `--init`, a terminal, exec (with and without a
//! terminal), bridge networking. They run under the test allocator, which stops a cloned child
//! at its first allocation before exec with status 86: every command below exits with a status
//! of its own choosing, so an allocation shows as the wrong status.

use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::*;
use crate::error::Error;
use crate::spec::{Mount, MountKind, NetworkMode, NetworkSpec};
use crate::test_utils::{TempDir, alloc_guard, in_new_netns};

/// The rootfs the build makes (`make rootfs`), or DOCKER_RUN_ROOTFS.
fn rootfs() -> PathBuf {
    let dir = std::env::var_os("DOCKER_RUN_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../rootfs")));
    assert!(
        dir.join("bin/sh").exists(),
        "{}: no rootfs; build it with `make rootfs`",
        dir.display()
    );
    dir
}

fn sh(script: &str) -> Vec<OsString> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

/// A spec on the build's rootfs running `script`.
fn spec(script: &str) -> ContainerSpec {
    ContainerSpec {
        rootfs: rootfs(),
        args: sh(script),
        hostname: "box".into(),
        ..Default::default()
    }
}

/// Runs a container on the real host with a private state directory; checks that nothing of it
/// is left after the wait.
fn run(spec: ContainerSpec) -> ExitStatus {
    let state = TempDir::new("root-state");
    let mut c = container(spec, &state);
    c.start().unwrap();
    let pid = c.pid().unwrap();
    let status = c.wait().unwrap();
    assert_eq!(crate::procfs::process_start_time(pid), None, "reaped");
    assert_no_leftovers(&state, c.id());
    status
}

/// A container with its state and its layer under `state`.
fn container(spec: ContainerSpec, state: &TempDir) -> Container {
    ContainerBuilder::new(spec)
        .state_root(&state.0)
        .layer_root(state.0.join("layers"))
        .build()
        .unwrap()
}

fn assert_no_leftovers(state: &TempDir, id: &str) {
    let layer = state.0.join("layers/containers").join(id);
    assert!(!layer.exists(), "{} is left", layer.display());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(id), "a mount of {id} is left: {mounts}");
    let records = std::fs::read_dir(state.0.join("containers"))
        .into_iter()
        .flatten()
        .count();
    assert_eq!(records, 0, "a record is left");
    assert!(!state.0.join("files").join(id).exists(), "files are left");
    let memory = std::path::Path::new("/sys/fs/cgroup/memory/docker-run").join(id);
    assert!(!memory.exists(), "{} is left", memory.display());
}

/// The status a command chose, and not the test allocator's.
fn assert_code(status: ExitStatus, want: i32) {
    assert_ne!(
        status.code,
        alloc_guard::EXIT_CODE,
        "the cloned child allocated before exec"
    );
    assert_eq!(status, ExitStatus::exited(want));
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn plain() {
    let status = run(spec(
        r#"test "$(hostname)" = box && test -e /proc/self/status && exit 7"#,
    ));
    assert_code(status, 7);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn mounts_and_a_read_only_root() {
    let data = TempDir::new("root-bind");
    std::fs::write(data.0.join("hello"), "hi").unwrap();
    let mut s = spec(
        "test -f /data/hello && ! touch /data/new 2>/dev/null && touch /scratch/x \
         && ! touch /etc/x 2>/dev/null && exit 7",
    );
    s.readonly_rootfs = true;
    s.mounts = vec![
        Mount {
            destination: "/data".into(),
            kind: MountKind::Bind {
                source: data.0.clone(),
                readonly: true,
            },
        },
        Mount {
            destination: "/fs-test-mount-point".into(),
            kind: MountKind::Bind {
                source: data.0.clone(),
                readonly: true,
            },
        },
        Mount {
            destination: "/scratch".into(),
            kind: MountKind::Tmpfs {
                options: "size=1m".into(),
            },
        },
    ];
    assert_code(run(s), 7);
    assert!(!data.0.join("new").exists());
    assert!(
        !rootfs().join("fs-test-mount-point").exists(),
        "a mount point was made in the rootfs directory, not in the container's layer"
    );
}

/// What one container writes stays in its own layer: absent from the rootfs directory and
/// from a second container running at the same time; it goes with the container.
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn each_container_writes_to_a_layer_of_its_own() {
    let state = TempDir::new("root-state");
    let planted = format!("fs-test-planted-{}", std::process::id());
    let script = format!("echo x > /{planted} && echo x > /bin/fs-test-sh && exec sleep 30");
    let mut a = container(spec(&script), &state);
    a.start().unwrap();
    let seen = ExecSpec {
        args: sh(&format!(
            "while ! test -f /bin/fs-test-sh; do sleep 0.05; done; test -f /{planted} && exit 5"
        )),
        cwd: "/".into(),
        ..Default::default()
    };
    assert_code(a.exec(&seen).unwrap(), 5);
    let b = format!("test ! -e /{planted} && test ! -e /bin/fs-test-sh && exit 7");
    assert_code(run(spec(&b)), 7);
    assert!(!rootfs().join(&planted).exists(), "written into the rootfs");
    assert!(!rootfs().join("bin/fs-test-sh").exists());
    a.kill(libc::SIGKILL).unwrap();
    a.wait().unwrap();
    assert_no_leftovers(&state, a.id());
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn with_init() {
    // The init is PID 1; the command is its child.
    let mut s = spec(r#"test "$$" -ne 1 && exit 7"#);
    s.init = true;
    assert_code(run(s), 7);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn with_a_terminal() {
    let mut s = spec("test -t 0 && test -t 1 && test -c /dev/console && exit 7");
    s.terminal = true;
    assert_code(run(s), 7);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn exec_joins_the_container() {
    let state = TempDir::new("root-state");
    let mut c = container(spec("echo ready > /tmp/ready; exec sleep 30"), &state);
    c.start().unwrap();
    let exec = |script: &str, tty: bool| {
        let e = ExecSpec {
            args: sh(script),
            env: vec!["X=1".into()],
            cwd: "/tmp".into(),
            tty,
            ..Default::default()
        };
        c.exec(&e)
    };
    let wait_ready = r#"while ! test -f /tmp/ready; do sleep 0.05; done"#;
    let joined = format!(
        r#"{wait_ready}; test "$(hostname)" = box && test "$X" = 1 && test "$PWD" = /tmp && exit 5"#
    );
    assert_code(exec(&joined, false).unwrap(), 5);
    assert_code(exec("test -t 0 && exit 6", true).unwrap(), 6);
    let missing = ExecSpec {
        args: vec!["nope".into()],
        cwd: "/".into(),
        ..Default::default()
    };
    assert!(matches!(
        c.exec(&missing),
        Err(Error::CommandNotFound { .. })
    ));
    c.kill(libc::SIGKILL).unwrap();
    let status = c.wait().unwrap();
    assert_eq!(status.signal, Some(libc::SIGKILL));
    assert_no_leftovers(&state, c.id());
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn bridge_networking() {
    // The bridge, its NAT rules and the host end live in a private network namespace.
    in_new_netns(|| {
        let mut s = spec(
            r#"case "$(ip -4 -o addr show eth0)" in *10.123.0.2/24*) ;; *) exit 1;; esac
               case "$(ip route)" in *"default via 10.123.0.1"*) ;; *) exit 2;; esac
               case "$(cat /etc/hosts)" in *"10.123.0.2	box"*) ;; *) exit 3;; esac
               exit 7"#,
        );
        s.network = NetworkSpec {
            mode: NetworkMode::Bridge,
            bridge: "dr-rt0".into(),
            subnet: Some((Ipv4Addr::new(10, 123, 0, 0), 24)),
            ..Default::default()
        };
        assert_code(run(s), 7);
        assert!(crate::test_utils::has_link("dr-rt0"));
    });
}

/// A mount target swapped for a symbolic link between planning and mounting (what another
/// container can do to a shared rootfs) fails the start: neither the volume nor /proc goes
/// where the link points, and the read-only step is not aimed at a decoy.
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_target_swapped_for_a_link_fails_the_start() {
    use super::start::before_clone;
    let data = TempDir::new("root-bind");
    let decoy = TempDir::new("root-decoy");
    // A rootfs of our own with no /bin/sh: a start whose rootfs steps all work fails at exec.
    let root = TempDir::new("root-swap");
    let root_path = std::fs::canonicalize(&root.0).unwrap();
    std::fs::write(
        root_path.join("decoy-target"),
        decoy.0.as_os_str().as_encoded_bytes(),
    )
    .unwrap();
    fn swap(dir: &str, root: &Path) {
        let decoy = std::fs::read_to_string(root.join("decoy-target")).unwrap();
        std::fs::remove_dir(root.join(dir)).unwrap();
        std::os::unix::fs::symlink(decoy, root.join(dir)).unwrap();
    }
    let start = |spec: ContainerSpec| {
        let state = TempDir::new("root-state");
        let mut c = container(spec, &state);
        let err = c.start().unwrap_err();
        assert_no_leftovers(&state, c.id());
        err
    };
    let spec = ContainerSpec {
        rootfs: root_path.clone(),
        rootfs_shared: true,
        mounts: vec![Mount {
            destination: "/vol".into(),
            kind: MountKind::Bind {
                source: data.0.clone(),
                readonly: true,
            },
        }],
        ..spec("true")
    };
    let err = start(spec.clone());
    assert!(matches!(err, Error::CommandNotFound { .. }), "{err}");

    before_clone::set(&root_path, |root| swap("vol", root));
    let err = start(spec.clone()).to_string();
    assert!(
        err.contains("mount bind") && err.contains("/vol") && err.contains("symbolic link"),
        "{err}"
    );
    std::fs::remove_file(root_path.join("vol")).unwrap();

    let mut no_vol = spec;
    no_vol.mounts.clear();
    let other = TempDir::new("root-swap-proc");
    let other_path = std::fs::canonicalize(&other.0).unwrap();
    std::fs::write(
        other_path.join("decoy-target"),
        decoy.0.as_os_str().as_encoded_bytes(),
    )
    .unwrap();
    no_vol.rootfs = other_path.clone();
    before_clone::set(&other_path, |root| swap("proc", root));
    let err = start(no_vol).to_string();
    assert!(
        err.contains("mount proc on /proc") && err.contains("symbolic link"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&decoy.0).unwrap().count(),
        0,
        "nothing reached the decoy"
    );
}

/// `-w /proc/self/fd/N` (and any magic link) never gives the container a host directory as its
/// working directory, for every descriptor this process holds, inherited by the child: host
/// directories opened without O_CLOEXEC among them (CVE-2024-21626).
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn the_working_directory_never_leads_out() {
    let host = TempDir::new("root-hostdir");
    std::fs::write(host.0.join("host-marker"), "host").unwrap();
    let path = std::ffi::CString::new(host.0.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: NUL-terminated paths; the descriptors are ours and closed below.
    let held: Vec<i32> = [path.as_c_str(), c"/"]
        .iter()
        .map(|p| unsafe { libc::open(p.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) })
        .collect();
    assert!(held.iter().all(|&fd| fd > 2));
    let max = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .max()
        .unwrap();
    let from_root = host.0.join("host-marker");
    let from_root = from_root.strip_prefix("/").unwrap().display();
    let script = format!("test -e host-marker && exit 9; test -e ./{from_root} && exit 9; exit 7");
    for n in 0..=max + 2 {
        for cwd in [format!("/proc/self/fd/{n}"), format!("/proc/1/fd/{n}")] {
            let mut s = spec(&script);
            s.cwd = cwd.clone().into();
            let state = TempDir::new("root-state");
            let mut c = container(s, &state);
            match c.start() {
                Ok(()) => assert_code(c.wait().unwrap(), 7),
                Err(e) => assert!(matches!(e, Error::ChildSetup { .. }), "{cwd}: {e}"),
            }
            assert_no_leftovers(&state, c.id());
        }
    }
    for fd in held {
        // SAFETY: our own descriptors.
        unsafe { libc::close(fd) };
    }
    // The image's own symbolic links still work as a working directory, resolved inside (here
    // in a layer above the rootfs: an absolute link to /tmp is the container's /tmp).
    let layer = TempDir::new("root-layer");
    std::os::unix::fs::symlink("/tmp", layer.0.join("cwdlink")).unwrap();
    let mut s = spec(r#"test "$(pwd -P)" = /tmp && exit 7"#);
    s.cwd = "/cwdlink".into();
    s.layers = vec![layer.0.clone()];
    assert_code(run(s), 7);
}

/// An exec started from the state directory (by another process, as `docker-run exec` is) gets
/// the filter the container got, not Docker's default: none for seccomp=unconfined, the
/// container's own profile for a profile file.
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn an_exec_from_the_record_gets_the_containers_filter() {
    use crate::spec::Seccomp;
    let no_mkdir = br#"{"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}"#;
    let cases = [
        (
            Seccomp::Unconfined,
            r#"grep -q "^Seccomp:.0$" /proc/self/status && exit 5"#,
        ),
        (
            Seccomp::DockerJson(no_mkdir[..].into()),
            "mkdir /tmp/d 2>/dev/null || exit 5",
        ),
    ];
    for (seccomp, script) in cases {
        let state = TempDir::new("root-state");
        let mut s = spec("exec sleep 30");
        s.seccomp = seccomp;
        let mut c = container(s, &state);
        c.start().unwrap();
        let exec = ExecSpec {
            args: sh(script),
            cwd: "/".into(),
            ..Default::default()
        };
        assert_code(c.exec(&exec).unwrap(), 5);
        let host = Host {
            state_root: state.0.clone(),
            layer_root: state.0.join("layers"),
            ..Default::default()
        };
        let opened = Container::open_in(host, c.id()).unwrap();
        assert_code(opened.exec(&exec).unwrap(), 5);
        c.kill(libc::SIGKILL).unwrap();
        c.wait().unwrap();
        assert_no_leftovers(&state, c.id());
    }
}
