//! OCI bundles on the real kernel (root: `test_as_root`): each test writes a config.json
//! around a copy of the build's rootfs, runs it through the core and checks what the
//! container's process saw (its exit status: 7 when every check inside held) and what it left.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::container::{Container, ContainerBuilder, ExitStatus};
use crate::test_utils::{TempDir, alloc_guard};

fn build_rootfs() -> PathBuf {
    let dir = std::env::var_os("DOCKER_RUN_ROOTFS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../rootfs")));
    assert!(
        dir.join("bin/sh").exists(),
        "{}: run make rootfs",
        dir.display()
    );
    dir
}

/// A bundle: a private copy of the rootfs, and `tmp/` for the test's own files.
struct Bundle {
    dir: TempDir,
}

impl Bundle {
    fn new(tag: &str) -> Bundle {
        let dir = TempDir::new(tag);
        let ok = std::process::Command::new("cp")
            .arg("-a")
            .arg(build_rootfs())
            .arg(dir.0.join("rootfs"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "copy the rootfs");
        std::fs::create_dir_all(dir.0.join("share")).unwrap();
        Bundle { dir }
    }

    /// A host directory bound at /share in the container.
    fn share(&self) -> PathBuf {
        self.dir.0.join("share")
    }

    fn load(&self, config: &Value) -> OciBundle {
        std::fs::write(self.dir.0.join(CONFIG), config.to_string()).unwrap();
        load_bundle(&self.dir.0).unwrap()
    }
}

/// A config running `script` with runc's usual mounts, private namespaces and /share bound.
fn config(b: &Bundle, script: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/sh", "-c", script],
            "env": ["PATH=/bin:/usr/bin"],
            "cwd": "/",
            "capabilities": {"bounding": ["CAP_SYS_ADMIN", "CAP_KILL"],
                             "effective": ["CAP_SYS_ADMIN", "CAP_KILL"],
                             "permitted": ["CAP_SYS_ADMIN", "CAP_KILL"]}
        },
        "root": {"path": "rootfs"},
        "hostname": "ocibox",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
            {"destination": "/share", "type": "bind", "source": b.share(),
             "options": ["rbind", "rw"]}
        ],
        "linux": {
            "namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "uts"},
                           {"type": "ipc"}, {"type": "network"}]
        }
    })
}

fn container(bundle: OciBundle, state: &TempDir) -> Container {
    let mut spec = bundle.spec;
    spec.name = Some("ocitest".into());
    ContainerBuilder::new(spec)
        .state_root(&state.0)
        .build()
        .unwrap()
}

fn run(bundle: OciBundle) -> ExitStatus {
    let state = TempDir::new("oci-state");
    let mut c = container(bundle, &state);
    c.start().unwrap();
    let status = c.wait().unwrap();
    assert_ne!(status.code, alloc_guard::EXIT_CODE, "the child allocated");
    status
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn process_settings_rlimits_sysctl_and_cgroups_path() {
    let b = Bundle::new("oci-proc");
    let script = "test \"$(ulimit -n)\" = 512 \
        && test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 1 \
        && test \"$(umask)\" = 0027 \
        && grep -q 'CapEff:.*0000000000200020' /proc/self/status \
        && grep -q 'CapBnd:.*0000000000200020' /proc/self/status \
        && grep -q 'NoNewPrivs:.*1' /proc/self/status \
        && test \"$(cat /proc/self/oom_score_adj)\" = 123 \
        && test \"$(hostname)\" = ocibox \
        && test \"$(cat /proc/sys/kernel/domainname)\" = example.org \
        && test \"$(uname -m)\" = i686 \
        && grep -q 'bar' /share/cgroup-limit \
        && test \"$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)\" = 67108864 \
        && test -d /sys/fs/cgroup/cpu && test -e /sys/fs/cgroup/pids/pids.max \
        && ! (echo 1 > /sys/fs/cgroup/pids/pids.max) 2>/dev/null \
        && ! test -e /proc/kcore.masked \
        && exit 7";
    let mut v = config(&b, script);
    v["domainname"] = json!("example.org");
    v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]);
    v["process"]["user"]["umask"] = json!(0o27);
    v["process"]["noNewPrivileges"] = json!(true);
    v["process"]["oomScoreAdj"] = json!(123);
    v["linux"]["personality"] = json!({"domain": "LINUX32"});
    v["linux"]["rootfsPropagation"] = json!("rslave");
    v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    v["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "cgroup"}));
    v["mounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": "/sys/fs/cgroup",
        "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}));
    let cg = format!("/oci-core-test-{}/c1", std::process::id());
    v["linux"]["cgroupsPath"] = json!(cg);
    v["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 50}});
    // The createRuntime hook proves the cgroup is where cgroupsPath says, with the limit.
    let memory = Path::new("/sys/fs/cgroup/memory").join(cg.trim_start_matches('/'));
    let probe = format!(
        "grep -qx 67108864 {}/memory.limit_in_bytes && echo bar > {}/cgroup-limit",
        memory.display(),
        b.share().display()
    );
    v["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", probe]}]});
    let status = run(b.load(&v));
    let top = memory.parent().unwrap().to_path_buf();
    assert!(!memory.exists(), "the container's cgroup is removed");
    let top = top.file_name().unwrap().to_owned();
    let mut left = Vec::new();
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = hierarchy.path().join(&top);
        // The leaf is the core's to remove; the parent we made is the test's.
        if dir.join(memory.file_name().unwrap()).exists() {
            left.push(dir.clone());
        }
        let _ = std::fs::remove_dir(&dir);
    }
    assert!(left.is_empty(), "left: {left:?}");
    assert_eq!(status, ExitStatus::exited(7));
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_user_namespace_with_maps_written_by_the_parent() {
    let b = Bundle::new("oci-userns");
    // The standard devices are the host's nodes bound in (mknod is refused in a user
    // namespace): /dev/null works.
    let script = "grep -q '^ *0 *100000 *65536$' /proc/self/uid_map \
        && grep -q '^ *0 *200000 *1000$' /proc/self/gid_map \
        && test \"$(id -u)\" = 0 && test -c /dev/null && echo x > /dev/null \
        && test \"$(hostname)\" = ocibox && exit 7";
    let mut v = config(&b, script);
    v["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "user"}));
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 1000}]);
    let bundle = b.load(&v);
    assert_eq!(run(bundle), ExitStatus::exited(7));
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_network_namespace_joined_by_path() {
    let b = Bundle::new("oci-netns");
    let mut holder = std::process::Command::new("unshare")
        .args(["--net", "sleep", "60"])
        .spawn()
        .unwrap();
    let path = PathBuf::from(format!("/proc/{}/ns/net", holder.id()));
    // unshare runs sleep once its namespace exists: wait for the link to change.
    let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
    let mut theirs = mine.clone();
    for _ in 0..200 {
        theirs = std::fs::read_link(&path).unwrap_or(mine.clone());
        if theirs != mine {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_ne!(theirs, mine, "unshare made no network namespace");
    let script = format!(
        "ls -l /proc/self/ns/net | grep -qF '{}' && exit 7",
        theirs.display()
    );
    let mut v = config(&b, &script);
    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}, {"type": "uts"},
                                      {"type": "network", "path": path}]);
    // sysfs needs a network namespace of the container's own user namespace: bind it instead.
    v["mounts"][3] = json!({"destination": "/sys", "type": "bind", "source": "/sys",
                            "options": ["rbind", "ro"]});
    let status = run(b.load(&v));
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(status, ExitStatus::exited(7));
    // The runtime's own thread is back in its namespace.
    assert_eq!(
        std::fs::read_link("/proc/thread-self/ns/net").unwrap(),
        mine
    );
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn devices_masks_and_a_seccomp_profile() {
    let b = Bundle::new("oci-dev");
    let script = "test -c /dev/myzero && test \"$(stat -c %a /dev/myzero)\" = 600 \
        && test \"$(head -c 3 /dev/myzero | wc -c)\" = 3 \
        && test -c /dev/null && test -L /dev/ptmx \
        && ! mkdir /tmp/refused 2>/dev/null \
        && test \"$(cat /etc/hostname.masked 2>/dev/null | wc -c)\" = 0 \
        && ! (echo 100 > /proc/sys/kernel/ns_last_pid) 2>/dev/null \
        && exit 7";
    let mut v = config(&b, script);
    v["linux"]["devices"] =
        json!([{"path": "/dev/myzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600}]);
    v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]});
    std::fs::write(b.dir.0.join("rootfs/etc/hostname.masked"), "secret").unwrap();
    v["linux"]["maskedPaths"] = json!(["/etc/hostname.masked"]);
    v["linux"]["readonlyPaths"] = json!(["/proc/sys"]);
    assert_eq!(run(b.load(&v)), ExitStatus::exited(7));
    // The same without the profile: mkdir works (the check above can fail).
    let mut v = config(&b, "mkdir /tmp/allowed && exit 7");
    v["linux"]["seccomp"] = Value::Null;
    assert_eq!(run(b.load(&v)), ExitStatus::exited(7));
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn hooks_in_order_with_the_state_on_stdin() {
    let b = Bundle::new("oci-hooks");
    let out = b.share().join("order");
    let host_hook = |name: &str| {
        json!({"path": "/bin/sh",
               "args": ["sh", "-c", format!("echo {name} >> {}; cat >> {}.{name}", out.display(), out.display())]})
    };
    // In the container's mount namespace the file is /share/order.
    let inner_hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo {name} >> /share/order; cat > /share/order.{name}")]});
    let mut v = config(&b, "echo process >> /share/order; exit 7");
    v["hooks"] = json!({
        "prestart": [host_hook("prestart")],
        "createRuntime": [host_hook("createRuntime")],
        "createContainer": [inner_hook("createContainer")],
        "startContainer": [inner_hook("startContainer")],
        "poststart": [host_hook("poststart")],
        "poststop": [host_hook("poststop")]
    });
    let state = TempDir::new("oci-state");
    let mut c = container(b.load(&v), &state);
    c.start().unwrap();
    let pid = c.pid().unwrap();
    assert_eq!(c.wait().unwrap(), ExitStatus::exited(7));
    let order = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = order.lines().collect();
    let pos = |n: &str| {
        lines
            .iter()
            .position(|l| *l == n)
            .unwrap_or_else(|| panic!("{n}: {order}"))
    };
    assert!(pos("prestart") < pos("createRuntime"), "{order}");
    assert!(pos("createRuntime") < pos("createContainer"), "{order}");
    assert!(pos("createContainer") < pos("startContainer"), "{order}");
    assert!(pos("startContainer") < pos("process"), "{order}");
    pos("poststart");
    assert!(
        !order.contains("poststop"),
        "poststop is the front end's, at delete"
    );
    let stdin: State = serde_json::from_str(
        &std::fs::read_to_string(b.share().join("order.createRuntime")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (stdin.id.as_str(), stdin.status.as_str(), stdin.pid),
        ("ocitest", "creating", Some(pid))
    );
    assert_eq!(stdin.bundle, std::fs::canonicalize(&b.dir.0).unwrap());
    let inner: State = serde_json::from_str(
        &std::fs::read_to_string(b.share().join("order.createContainer")).unwrap(),
    )
    .unwrap();
    assert_eq!(inner.pid, Some(pid));
    // A failing hook fails the start and leaves nothing.
    let mut v = config(&b, "exit 0");
    v["hooks"] = json!({"createRuntime": [{"path": "/bin/false"}]});
    let state = TempDir::new("oci-state");
    let mut c = container(b.load(&v), &state);
    let err = c.start().unwrap_err();
    assert!(matches!(err, crate::Error::Hook { .. }), "{err}");
    assert!(c.pid().is_none());
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn create_then_start_through_the_exec_fifo() {
    let b = Bundle::new("oci-fifo");
    let fifo = b.dir.0.join("exec.fifo");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let v = config(&b, "touch /share/started; exit 7");
    let mut bundle = b.load(&v);
    bundle.spec.exec_fifo = Some(fifo.clone());
    bundle.spec.terminal = true;
    let state = TempDir::new("oci-state");
    let mut c = container(bundle, &state);
    c.start().unwrap();
    let master = c.take_pty_master();
    assert!(
        master.is_some(),
        "a terminal container hands out its pty master"
    );
    let pid = c.detach().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !b.share().join("started").exists(),
        "the command waits for start"
    );
    assert!(
        crate::procfs::process_start_time(pid).is_some(),
        "the init waits"
    );
    open_exec_fifo(&fifo).unwrap();
    let mut status = 0;
    // SAFETY: our own child (the clone), detached from its handle but not reaped.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(ExitStatus::from_wait_status(status), ExitStatus::exited(7));
    assert!(b.share().join("started").exists());
    drop(master);
    // The detached container's cgroup stays until the front end's delete removes it.
    let store = crate::state::Store::new(&state.0);
    let rec = store.find("ocitest").unwrap();
    let cg = crate::cgroups::Cgroup::open(&Default::default(), &rec.id).unwrap();
    cg.remove().unwrap();
    store.remove(&rec);
}

/// podman's usual bundle: a seccomp profile, no_new_privileges off and no CAP_SYS_ADMIN kept.
/// The filter then needs installing before the capabilities go (as runc does).
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn seccomp_without_no_new_privileges_or_cap_sys_admin() {
    let b = Bundle::new("oci-nnp");
    let mut v = config(
        &b,
        "! mkdir /tmp/refused 2>/dev/null && grep -q 'NoNewPrivs:.*0' /proc/self/status \
         && grep -q 'Seccomp:.*2' /proc/self/status && exit 7",
    );
    v["process"]["noNewPrivileges"] = json!(false);
    v["process"]["capabilities"] = json!({"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                          "permitted": ["CAP_KILL"]});
    v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]});
    assert_eq!(run(b.load(&v)), ExitStatus::exited(7));
}

/// A user other than root with capabilities of its own (kept across the change of user), and
/// execs into the created container: waited for, and detached.
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_user_with_capabilities_and_execs_into_a_created_container() {
    let b = Bundle::new("oci-exec");
    let fifo = b.dir.0.join("exec.fifo");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let mut v = config(
        &b,
        "test $(id -u) = 1000 && grep -q 'CapEff:.*0000000000000020' /proc/self/status \
         && grep -q 'CapAmb:.*0000000000000020' /proc/self/status && exit 7",
    );
    v["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5]});
    v["process"]["capabilities"] = json!({"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]});
    let mut bundle = b.load(&v);
    bundle.spec.exec_fifo = Some(fifo.clone());
    let seccomp = bundle.spec.seccomp.clone();
    let state = TempDir::new("oci-state");
    let mut c = container(bundle, &state);
    c.start().unwrap();
    let init = c.detach().unwrap();
    let host = crate::Host {
        state_root: state.0.clone(),
        ..Default::default()
    };
    let opened = Container::open_in(host, "ocitest").unwrap();
    let exec = crate::ExecSpec {
        args: vec![
            "/bin/sh".into(),
            "-c".into(),
            "test $(id -u) = 1000 && id -G | grep -qw 5 && test \"$A\" = b \
                    && test \"$HOME\" = / && test -z \"$HOSTNAME\" && exit 7"
                .into(),
        ],
        env: vec!["A=b".into()],
        cwd: "/".into(),
        uid: 1000,
        gid: 1000,
        additional_gids: vec![5],
        exact_env: true,
        seccomp: Some(seccomp),
        ..Default::default()
    };
    assert_eq!(opened.exec(&exec).unwrap(), ExitStatus::exited(7));
    let (pid, master) = opened.exec_detached(&exec).unwrap();
    assert!(master.is_none());
    let mut status = 0;
    // SAFETY: our own child, the detached exec.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert_eq!(ExitStatus::from_wait_status(status), ExitStatus::exited(7));
    // start: the init's own command, as user 1000 with its capabilities.
    open_exec_fifo(&fifo).unwrap();
    // SAFETY: our own child, the container's init.
    assert_eq!(unsafe { libc::waitpid(init, &mut status, 0) }, init);
    assert_eq!(ExitStatus::from_wait_status(status), ExitStatus::exited(7));
    let store = crate::state::Store::new(&state.0);
    let rec = store.find("ocitest").unwrap();
    crate::cgroups::Cgroup::open(&Default::default(), &rec.id)
        .unwrap()
        .remove()
        .unwrap();
    store.remove(&rec);
}
