use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::spec::{MountKind, NetworkMode, Seccomp, ns};
use crate::test_utils::TempDir;

/// A bundle directory with an empty rootfs/.
fn bundle(tag: &str) -> TempDir {
    let t = TempDir::new(tag);
    std::fs::create_dir_all(t.0.join("rootfs")).unwrap();
    t
}

/// A config.json close to `runc spec`'s, every field this runtime reads set once.
// long: one document, the specification's sections in order.
fn full() -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": true,
            "consoleSize": {"height": 25, "width": 80},
            "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [5, 6]},
            "args": ["sh", "-c", "true"],
            "env": ["PATH=/bin", "A=1"],
            "cwd": "/work",
            "capabilities": {
                "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_KILL"],
                "permitted": ["CAP_KILL", "CAP_CHOWN"],
                "inheritable": [],
                "ambient": ["CAP_KILL"]
            },
            "rlimits": [
                {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512},
                {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}
            ],
            "noNewPrivileges": true,
            "oomScoreAdj": 100
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "box",
        "domainname": "example.org",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/data", "type": "bind", "source": "/tmp",
             "options": ["rbind", "ro", "nosuid", "rslave", "relatime"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["ro"]}
        ],
        "hooks": {
            "prestart": [{"path": "/bin/true"}],
            "createRuntime": [{"path": "/bin/echo", "args": ["echo", "cr"], "env": ["X=1"],
                               "timeout": 5}],
            "createContainer": [{"path": "/bin/true"}],
            "startContainer": [{"path": "/bin/true"}],
            "poststart": [{"path": "/bin/true"}],
            "poststop": [{"path": "/bin/true"}]
        },
        "annotations": {"org.example": "yes"},
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}
            ],
            "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
            "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                         "fileMode": 438, "uid": 0, "gid": 0}],
            "cgroupsPath": "/default/box",
            "resources": {
                "devices": [{"allow": false, "access": "rwm"},
                            {"allow": true, "type": "c", "major": 10, "minor": 229,
                             "access": "rw"}],
                "memory": {"limit": 67108864, "swap": 134217728},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
                "pids": {"limit": 64},
                "blockIO": {"weight": 300,
                            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}]}
            },
            "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536"},
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                      "errnoRet": 1}]},
            "rootfsPropagation": "rslave",
            "maskedPaths": ["/proc/kcore", "/etc/secret"],
            "readonlyPaths": ["/proc/sys"],
            "personality": {"domain": "LINUX32"}
        }
    })
}

fn load(t: &TempDir, v: &Value) -> Result<OciBundle> {
    load_config(v.to_string().as_bytes(), &t.0)
}

// long: every field of the full document, checked against the spec it becomes.
#[test]
fn every_field_reaches_the_spec() {
    let t = bundle("oci-full");
    let b = load(&t, &full()).unwrap();
    let s = &b.spec;
    assert_eq!(b.rootfs, std::fs::canonicalize(t.0.join("rootfs")).unwrap());
    assert_eq!(b.console_size, Some((25, 80)));
    assert_eq!(b.annotations["org.example"], "yes");
    assert_eq!(b.oci_version, "1.0.2");
    assert!(s.rootfs_shared && s.readonly_rootfs && !s.system_mounts && !s.env_defaults);
    assert_eq!((s.uid, s.gid, s.umask), (1000, 100, Some(0o22)));
    assert_eq!(s.additional_gids, vec![5, 6]);
    assert!(s.terminal && s.no_new_privileges);
    assert_eq!(s.oom_score_adj, Some(100));
    assert_eq!(s.cwd, Path::new("/work"));
    assert_eq!(s.env, vec!["PATH=/bin", "A=1"]);
    let caps = s.capabilities.unwrap();
    assert_eq!(caps.bounding, 1 << 0 | 1 << 5 | 1 << 10);
    assert_eq!((caps.effective, caps.ambient), (1 << 5, 1 << 5));
    assert_eq!((caps.permitted, caps.inheritable), (1 << 5 | 1, 0));
    assert_eq!(s.rlimits.len(), 2);
    assert_eq!(s.rlimits[0].resource, libc::RLIMIT_NOFILE);
    assert_eq!((s.rlimits[0].soft, s.rlimits[0].hard), (512, 1024));
    assert_eq!(s.hostname, "box");
    assert_eq!(s.domainname.as_deref(), Some("example.org"));
    assert_eq!(s.mounts.len(), 7);
    assert_eq!(s.mounts[6].kind, MountKind::Cgroup { readonly: true });
    match &s.mounts[5].kind {
        MountKind::Raw {
            source,
            fstype,
            flags,
            propagation,
            ..
        } => {
            assert_eq!(source, Path::new("/tmp"));
            assert_eq!(*fstype, None);
            let want = libc::MS_BIND
                | libc::MS_REC
                | libc::MS_RDONLY
                | libc::MS_NOSUID
                | libc::MS_RELATIME;
            assert_eq!(*flags, want);
            assert_eq!(*propagation, libc::MS_SLAVE | libc::MS_REC);
        }
        other => panic!("{other:?}"),
    }
    match &s.mounts[1].kind {
        MountKind::Raw {
            fstype,
            flags,
            data,
            ..
        } => {
            assert_eq!(fstype.as_deref(), Some("tmpfs"));
            assert_eq!(*flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
            assert_eq!(data, "mode=755,size=65536k");
        }
        other => panic!("{other:?}"),
    }
    let h = &s.hooks;
    assert_eq!(h.create_runtime[0].args, vec!["echo", "cr"]);
    assert_eq!(h.create_runtime[0].env, vec!["X=1"]);
    assert_eq!(
        h.create_runtime[0].timeout,
        Some(std::time::Duration::from_secs(5))
    );
    assert_eq!(h.prestart[0].args, vec!["/bin/true"]);
    for list in [
        &h.create_container,
        &h.start_container,
        &h.poststart,
        &h.poststop,
    ] {
        assert_eq!(list.len(), 1);
    }
    assert_eq!(h.state.bundle, b.bundle);
    assert_eq!(h.state.status, "creating");
    let all = ns::UTS | ns::MOUNT | ns::PID | ns::NET | ns::IPC | ns::CGROUP | ns::USER;
    assert_eq!(s.namespaces, all);
    assert_eq!(s.network.mode, NetworkMode::None);
    assert_eq!(s.uid_mappings[0].host_id, 100000);
    assert_eq!(s.gid_mappings[0].size, 65536);
    assert_eq!(s.devices[0].path, Path::new("/dev/fuse"));
    assert_eq!((s.devices[0].major, s.devices[0].minor), (10, 229));
    assert_eq!(s.devices[0].mode, 0o666);
    assert_eq!(s.cgroups_path.as_deref(), Some(Path::new("/default/box")));
    let r = &s.resources;
    assert_eq!((r.memory, r.memory_swap), (Some(64 << 20), Some(128 << 20)));
    assert_eq!(
        (r.cpu_shares, r.cpu_quota, r.cpu_period),
        (Some(512), Some(50000), Some(100000))
    );
    assert_eq!(r.cpuset_cpus.as_deref(), Some("0"));
    assert_eq!((r.pids_limit, r.blkio_weight), (Some(64), Some(300)));
    assert_eq!(r.device_read_bps[0].rate, 1000);
    let rules = r.device_rules.clone().unwrap();
    assert_eq!(
        rules,
        vec![(false, "a".into()), (true, "c 10:229 rw".into())]
    );
    assert_eq!(
        s.sysctl,
        vec![
            ("kernel.shmmax".into(), "65536".into()),
            ("net.ipv4.ip_forward".into(), "1".into())
        ]
    );
    assert!(matches!(s.seccomp, Seccomp::DockerJson(_)));
    assert_eq!(s.rootfs_propagation, Some(libc::MS_SLAVE | libc::MS_REC));
    assert_eq!(
        s.masked_paths.as_deref(),
        Some(&["/proc/kcore".into(), "/etc/secret".into()][..])
    );
    assert_eq!(s.readonly_paths.as_deref(), Some(&["/proc/sys".into()][..]));
    assert_eq!(s.personality, Some(8));
}

/// What the bundle leaves out stays out: no Docker profile, masks or capabilities.
#[test]
fn the_bundle_is_the_whole_truth() {
    let t = bundle("oci-minimal");
    let v = json!({
        "ociVersion": "1.1.0",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["/bin/sh"], "cwd": "/"},
        "root": {"path": "rootfs"},
        "linux": {"namespaces": [{"type": "mount"}]}
    });
    let b = load(&t, &v).unwrap();
    let s = &b.spec;
    assert_eq!(s.seccomp, Seccomp::Unconfined);
    assert_eq!(s.capabilities, Some(Default::default()));
    assert_eq!(s.masked_paths, Some(vec![]));
    assert_eq!(s.readonly_paths, Some(vec![]));
    assert!(s.mounts.is_empty() && s.env.is_empty() && !s.no_new_privileges);
    assert_eq!(s.namespaces, ns::MOUNT);
    assert_eq!(s.network.mode, NetworkMode::Host);
    // HOME as runc adds it, nothing else.
    assert_eq!(s.effective_env(), vec!["HOME=/root"]);
    // ... from the rootfs's /etc/passwd when the user is there.
    std::fs::create_dir_all(t.0.join("rootfs/etc")).unwrap();
    std::fs::write(
        t.0.join("rootfs/etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n",
    )
    .unwrap();
    let mut v1000 = v.clone();
    v1000["process"]["user"]["uid"] = json!(1000);
    assert_eq!(load(&t, &v1000).unwrap().spec.env, vec!["HOME=/home/user"]);
    let mut given = v1000.clone();
    given["process"]["env"] = json!(["HOME=/x"]);
    assert_eq!(load(&t, &given).unwrap().spec.env, vec!["HOME=/x"]);
    let plan = crate::rootfs::plan(s, &b.rootfs).unwrap();
    let described: Vec<String> = plan.ops.iter().map(|o| o.describe()).collect();
    assert!(
        !described
            .iter()
            .any(|d| d.contains("proc") || d.contains("mask")),
        "{described:?}"
    );
    assert!(
        described.contains(&"mknod /dev/null".to_string()),
        "{described:?}"
    );
}

/// A relative cgroupsPath (the spec allows one: runtime-tools' validation uses
/// "testdir/cgrouptest/container") goes beneath the runtime's own parent.
#[test]
fn a_relative_cgroups_path_is_beneath_ours() {
    let t = bundle("oci-relcg");
    let mut v = full();
    v["linux"]["cgroupsPath"] = json!("testdir/x");
    let b = load(&t, &v).unwrap();
    assert_eq!(
        b.spec.cgroups_path.as_deref(),
        Some(Path::new("/container-runtime/testdir/x"))
    );
}

#[test]
fn a_joined_namespace_is_kept_by_path() {
    let t = bundle("oci-join");
    let mut v = full();
    v["linux"]["namespaces"] = json!([
        {"type": "mount"}, {"type": "uts"},
        {"type": "network", "path": "/proc/self/ns/net"}
    ]);
    v["linux"]["uidMappings"] = json!(null);
    v["linux"]["gidMappings"] = json!(null);
    let s = load(&t, &v).unwrap().spec;
    assert_eq!(s.namespaces, ns::MOUNT | ns::UTS);
    assert_eq!(
        s.namespace_paths,
        vec![(ns::NET, "/proc/self/ns/net".into())]
    );
    assert_eq!(s.network.mode, NetworkMode::Host);
}

/// The plan of the full bundle: its devices, /dev links, sysctls, masks, in the child's order.
#[test]
fn the_plan_of_a_bundle() {
    let t = bundle("oci-plan");
    let mut v = full();
    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}, {"type": "network"}]);
    v["linux"]["uidMappings"] = json!(null);
    v["linux"]["gidMappings"] = json!(null);
    let b = load(&t, &v).unwrap();
    let plan = crate::rootfs::plan(&b.spec, &b.rootfs).unwrap();
    let d: Vec<String> = plan.ops.iter().map(|o| o.describe()).collect();
    let pos = |s: &str| {
        d.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s}: {d:?}"))
    };
    assert!(pos("mount proc on /proc") < pos("mount tmpfs on /dev"));
    assert!(pos("mount tmpfs on /dev") < pos("mknod /dev/null"));
    assert!(pos("mount bind /tmp on /data") < pos("remount /data with its flags"));
    pos("mknod /dev/fuse");
    pos("symlink /dev/ptmx");
    pos("create mount point /dev/console");
    let sysctl = pos("write \"1\" to /proc/sys/net/ipv4/ip_forward");
    assert!(sysctl < pos("mask /proc/kcore") && sysctl < pos("make /proc/sys read-only"));
    pos("mask /etc/secret");
}

/// Each mistake names its field.
// long: one table of bad documents and the words their errors must contain.
#[test]
fn mistakes_name_the_field() {
    let t = bundle("oci-bad");
    type Edit = fn(&mut Value);
    let cases: &[(Edit, &str)] = &[
        (
            |v| v["process"]["user"]["uid"] = json!("root"),
            "process.user",
        ),
        (
            |v| v["process"]["capabilities"]["bounding"] = json!(["CAP_NOPE"]),
            "process.capabilities",
        ),
        (|v| v["process"]["cwd"] = json!("work"), "process.cwd"),
        (|v| v["process"]["args"] = json!([]), "process.args"),
        (
            |v| {
                v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1},
                                            {"type": "RLIMIT_NOFILE", "hard": 1, "soft": 1}])
            },
            "process.rlimits[1]",
        ),
        (
            |v| v["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 1, "soft": 2}]),
            "soft limit",
        ),
        (
            |v| v["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0}),
            "process.ioPriority",
        ),
        (
            |v| {
                v.as_object_mut().unwrap().remove("root");
            },
            "root is required",
        ),
        (|v| v["root"]["path"] = json!("nope"), "root.path"),
        (|v| v["ociVersion"] = json!("2.0.0"), "ociVersion"),
        (
            |v| v["mounts"][1]["options"] = json!(["rro"]),
            "mounts[1].options",
        ),
        (
            |v| v["mounts"][1]["destination"] = json!("dev"),
            "mounts[1].destination",
        ),
        (|v| v["mounts"][2] = json!({"destination": 7}), "mounts[2]"),
        (
            |v| v["hooks"]["poststop"] = json!([{"path": "true"}]),
            "hooks.poststop[0].path",
        ),
        (
            |v| v["hooks"]["prestart"] = json!([{"path": "/bin/true", "timeout": 0}]),
            "hooks.prestart[0].timeout",
        ),
        (
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "time"}]),
            "linux.namespaces[1]",
        ),
        (
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "mount"}]),
            "given twice",
        ),
        (
            |v| v["linux"]["namespaces"] = json!([{"type": "pid"}]),
            "mount namespace is required",
        ),
        (
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "bogus"}]),
            "linux.namespaces",
        ),
        (
            |v| {
                v["linux"]["namespaces"] = json!([{"type": "mount"},
                                              {"type": "network", "path": "/no/such/ns"}])
            },
            "linux.namespaces[1].path",
        ),
        (
            |v| v["linux"]["cgroupsPath"] = json!("system.slice:docker:x"),
            "systemd",
        ),
        (
            |v| v["linux"]["cgroupsPath"] = json!("relative/../x"),
            "linux.cgroupsPath",
        ),
        (
            |v| v["linux"]["rootfsPropagation"] = json!("sideways"),
            "linux.rootfsPropagation",
        ),
        (
            |v| v["linux"]["personality"] = json!({"domain": "LINUX", "flags": ["x"]}),
            "linux.personality.flags",
        ),
        (
            |v| v["linux"]["intelRdt"] = json!({"closID": "x"}),
            "linux.intelRdt",
        ),
        (
            |v| v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_NOTIFY"}),
            "linux.seccomp",
        ),
        (
            |v| {
                v["linux"]["resources"]["blockIO"]["throttleReadIOPSDevice"] =
                    json!([{"major": 8, "minor": 0, "rate": 1}])
            },
            "throttle*IOPSDevice",
        ),
        (
            |v| v["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "x"}]),
            "linux.resources.devices[0].access",
        ),
        (
            |v| {
                v["linux"]["devices"] = json!([{"path": "dev/x", "type": "c", "major": 1,
                                             "minor": 1}])
            },
            "linux.devices[0].path",
        ),
        (
            |v| v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 1, "size": 0}]),
            "uid mapping 0",
        ),
        (
            |v| v["linux"]["maskedPaths"] = json!(["proc/kcore"]),
            "linux.maskedPaths",
        ),
        (
            |v| v["linux"]["namespaces"] = json!([{"type": "mount"}]),
            "hostname",
        ),
        (
            |v| {
                v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}]);
            },
            "uid/gid mappings need a user namespace",
        ),
    ];
    for (edit, want) in cases {
        let mut v = full();
        edit(&mut v);
        let err = load(&t, &v).unwrap_err().to_string();
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
    let err = load_config(b"{", &t.0).unwrap_err().to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    let err = load_bundle(&t.0.join("nope")).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
    assert_eq!(err.errno(), Some(libc::ENOENT));
}

#[test]
fn labels_are_refused_only_where_the_host_enforces_them() {
    let t = bundle("oci-labels");
    let mut v = full();
    v["process"]["apparmorProfile"] = json!("docker-default");
    v["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0");
    match load(&t, &v) {
        Ok(b) => {
            assert!(b.warnings.iter().any(|w| w.contains("apparmorProfile")));
            assert!(b.warnings.iter().any(|w| w.contains("selinuxLabel")));
        }
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("apparmorProfile") || e.contains("selinuxLabel"),
                "{e}"
            );
        }
    }
}

#[test]
fn an_exec_process() {
    let p = json!({
        "user": {"uid": 5, "gid": 6, "additionalGids": [7]},
        "args": ["ls", "-l"], "env": ["A=b"], "cwd": "/tmp", "terminal": true,
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
        "noNewPrivileges": true
    });
    let e = exec_spec(p.to_string().as_bytes()).unwrap();
    assert_eq!(e.args, vec!["ls", "-l"]);
    assert_eq!((e.uid, e.gid, e.tty, e.exact_env), (5, 6, true, true));
    assert_eq!(e.additional_gids, vec![7]);
    assert_eq!(e.extra.capabilities.unwrap().effective, 1 << 5);
    assert!(e.extra.no_new_privileges);
    let err = exec_spec(br#"{"args": ["x"], "cwd": "/", "user": {"uid": -1, "gid": 0}}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("process"), "{err}");
}

#[test]
fn the_state_as_json() {
    let s = State {
        oci_version: "1.0.2".into(),
        id: "abc".into(),
        status: "created".into(),
        pid: Some(42),
        bundle: "/b".into(),
        annotations: [("k".to_string(), "v".to_string())].into(),
    };
    let v: Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(
        v,
        json!({"ociVersion": "1.0.2", "id": "abc", "status": "created", "pid": 42,
               "bundle": "/b", "annotations": {"k": "v"}})
    );
}

/// Hooks get the state on stdin, in order; a failing or slow one stops the rest.
#[test]
fn hooks_run_in_order_with_the_state() {
    let t = TempDir::new("oci-hooks");
    let out = t.0.join("out");
    let hook = |script: &str, timeout| crate::spec::Hook {
        path: "/bin/sh".into(),
        args: vec!["sh".into(), "-c".into(), script.into()],
        env: vec![format!("OUT={}", out.display()).into()],
        timeout,
    };
    let state = State {
        id: "hooked".into(),
        status: "creating".into(),
        ..Default::default()
    };
    let hooks = [
        hook("echo one >> $OUT; cat >> $OUT; echo >> $OUT", None),
        hook("echo two >> $OUT", None),
    ];
    run_hooks(&hooks, &state, HookNs::Runtime).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "one");
    assert!(lines[1].contains("\"id\":\"hooked\""), "{text}");
    assert_eq!(lines[2], "two");
    let failing = [hook("exit 3", None), hook("echo never >> $OUT", None)];
    let err = run_hooks(&failing, &state, HookNs::Runtime)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hook 0") && err.contains("3"), "{err}");
    let slow = [hook("sleep 5", Some(std::time::Duration::from_secs(1)))];
    let started = std::time::Instant::now();
    let err = run_hooks(&slow, &state, HookNs::Runtime)
        .unwrap_err()
        .to_string();
    assert!(err.contains("timed out"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert!(!std::fs::read_to_string(&out).unwrap().contains("never"));
}
