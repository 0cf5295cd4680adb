//! Docker's format: resolution of archMap and includes/excludes, OCI-shaped input, errors.

use oci_spec::runtime::Arch;

use super::*;
use crate::seccomp::docker::{DEFAULT_JSON, Host, kernel_version, resolve_json};
use crate::seccomp::{Error, load_docker_json};

fn host(caps: u64, arch: &'static str, kernel: (u32, u32, u32)) -> Host {
    let scmp_arch = match arch {
        "amd64" => Arch::ScmpArchX86_64,
        "arm64" => Arch::ScmpArchAarch64,
        "s390x" => Arch::ScmpArchS390x,
        other => panic!("no test host for {other}"),
    };
    Host {
        caps,
        arch,
        scmp_arch,
        kernel,
    }
}

/// Whether some entry of the resolved profile names `name` with `action`.
fn has(profile: &Profile, name: &str, action: A) -> bool {
    profile
        .syscalls()
        .iter()
        .flatten()
        .any(|e| e.action() == action && e.names().iter().any(|n| n == name))
}

/// The argument of the one entry for clone alone (Docker's namespace-flag check).
fn only_clone_arg(profile: &Profile) -> oci_spec::runtime::LinuxSeccompArg {
    let clone: Vec<_> = profile
        .syscalls()
        .iter()
        .flatten()
        .filter(|e| e.names() == &["clone"])
        .collect();
    assert_eq!(clone.len(), 1);
    clone[0].args().as_ref().unwrap()[0]
}

#[test]
fn default_profile_resolves_for_the_container() {
    let amd64 = host(docker_caps(), "amd64", (6, 18, 0));
    let p = resolve_json(DEFAULT_JSON.as_bytes(), &amd64).unwrap();
    assert_eq!(p.default_action(), A::ScmpActErrno);
    assert_eq!(p.default_errno_ret(), Some(1));
    let arches = p.architectures().clone().unwrap();
    assert_eq!(
        arches,
        [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    );
    assert!(has(&p, "read", A::ScmpActAllow));
    assert!(has(&p, "ptrace", A::ScmpActAllow)); // minKernel 4.8
    assert!(has(&p, "chroot", A::ScmpActAllow)); // CAP_SYS_CHROOT
    assert!(has(&p, "arch_prctl", A::ScmpActAllow)); // amd64
    assert!(has(&p, "clone3", A::ScmpActErrno)); // excludes CAP_SYS_ADMIN
    assert!(!has(&p, "mount", A::ScmpActAllow)); // includes CAP_SYS_ADMIN
    assert!(!has(&p, "io_uring_setup", A::ScmpActAllow));
    assert!(!has(&p, "arm_fadvise64_64", A::ScmpActAllow));
    assert!(!has(&p, "s390_pci_mmio_read", A::ScmpActAllow));
    let arg = only_clone_arg(&p);
    assert_eq!(
        (arg.index(), arg.value(), arg.op()),
        (0, 0x7e02_0000, Op::ScmpCmpMaskedEq)
    );

    let admin = resolve_json(
        DEFAULT_JSON.as_bytes(),
        &host(docker_caps() | cap("SYS_ADMIN"), "amd64", (6, 18, 0)),
    );
    let admin = admin.unwrap();
    assert!(has(&admin, "mount", A::ScmpActAllow) && has(&admin, "clone3", A::ScmpActAllow));
    assert!(!has(&admin, "clone3", A::ScmpActErrno));
    assert!(
        admin
            .syscalls()
            .iter()
            .flatten()
            .all(|e| e.args().is_none() || e.names() != &["clone"])
    );

    let old = resolve_json(
        DEFAULT_JSON.as_bytes(),
        &host(docker_caps(), "amd64", (4, 4, 0)),
    )
    .unwrap();
    assert!(!has(&old, "ptrace", A::ScmpActAllow));

    let arm = resolve_json(
        DEFAULT_JSON.as_bytes(),
        &host(docker_caps(), "arm64", (6, 1, 0)),
    )
    .unwrap();
    assert_eq!(
        arm.architectures().clone().unwrap(),
        [Arch::ScmpArchAarch64, Arch::ScmpArchArm]
    );
    assert!(has(&arm, "arm_fadvise64_64", A::ScmpActAllow));
    assert!(!has(&arm, "arch_prctl", A::ScmpActAllow));

    // s390x: clone's flags are its second argument.
    let s390 = resolve_json(
        DEFAULT_JSON.as_bytes(),
        &host(docker_caps(), "s390x", (6, 1, 0)),
    )
    .unwrap();
    assert_eq!(only_clone_arg(&s390).index(), 1);
}

#[test]
fn oci_shaped_json_is_accepted_too() {
    let oci = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 1, "value": 255, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]}"#;
    // Docker's old single "name" in an entry, and a comment.
    let with_name = oci.replace(
        "}]}\n        ]}",
        "}]},\n            {\"name\": \"getpid\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13, \"comment\": \"old style\"}\n        ]}",
    );
    let json = with_name.as_bytes();
    let p = load_docker_json(json, docker_caps()).unwrap();
    assert_eq!(p.default_errno_ret(), Some(38));
    assert_eq!(
        p.architectures().clone().unwrap(),
        [Arch::ScmpArchX86_64, Arch::ScmpArchAarch64]
    );
    assert_eq!(p.flags().clone().unwrap().len(), 1);
    let entries = p.syscalls().clone().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1].args().as_ref().unwrap()[0].value_two(), Some(1));
    assert_eq!(
        (entries[2].names().clone(), entries[2].errno_ret()),
        (vec!["getpid".to_string()], Some(13))
    );
    // The OCI part read as config.json's linux.seccomp gives the same profile.
    let mut oci: Profile = serde_json::from_str(oci).unwrap();
    let mut oci_entries = oci.syscalls().clone().unwrap();
    oci_entries.push(entries[2].clone());
    oci.set_syscalls(Some(oci_entries));
    assert_eq!(oci, p);
}

#[test]
fn mistakes_are_named() {
    let err = |json: &str| load_docker_json(json.as_bytes(), docker_caps()).unwrap_err();
    let cases: &[(&str, &str)] = &[
        (
            r#"{"defaultAction": "SCMP_ACT_EXPLODE"}"#,
            "SCMP_ACT_EXPLODE",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "ALLOW"}]}"#,
            "\"ALLOW\"",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]}"#,
            "SCMP_CMP_EQUAL",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}"#,
            "SCMP_ARCH_VAX",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_Z80"]}]}"#,
            "SCMP_ARCH_Z80",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_FAST"]}"#,
            "SECCOMP_FILTER_FLAG_FAST",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMN"]}}]}"#,
            "CAP_SYS_ADMN",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd46"]}}]}"#,
            "amd46",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "four"}}]}"#,
            "four",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
            "archMap",
        ),
        (
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}"#,
            "entry 0",
        ),
        (r#"{"syscalls": []}"#, "defaultAction"),
        (r#"{"defaultAction": "SCMP_ACT_ALLOW",}"#, "line 1"),
    ];
    for (json, named) in cases {
        let message = err(json).to_string();
        assert!(
            message.contains(named),
            "{json}: {message:?} does not name {named}"
        );
    }
    assert!(matches!(err("[]"), Error::Json(_)));
}

#[test]
fn kernel_versions_and_capabilities_parse() {
    assert_eq!(kernel_version("4.8"), Some((4, 8, 0)));
    assert_eq!(kernel_version("6.18.44-fc-v1045"), Some((6, 18, 44)));
    assert_eq!(kernel_version("5.10.0-28-amd64"), Some((5, 10, 0)));
    assert_eq!(kernel_version("6"), None);
    assert_eq!(kernel_version("x.1"), None);
    assert_eq!(docker::capability("CAP_SYS_ADMIN"), Some(21));
    assert_eq!(docker::capability("sys_admin"), Some(21));
    assert_eq!(docker::capability("CAP_CHECKPOINT_RESTORE"), Some(40));
    assert_eq!(docker::capability("CAP_NOPE"), None);
    // The names match the numbers of the capabilities the runtime already keeps.
    assert_eq!(docker::capability("CAP_SETFCAP"), Some(31));
    assert_eq!(docker::capability("CAP_MKNOD"), Some(27));
}

#[test]
fn the_embedded_profile_is_docker_s() {
    // Byte for byte what moby ships: tab-indented JSON, io_uring absent from the allow-list.
    assert_eq!(DEFAULT_JSON.len(), 12829);
    assert!(!DEFAULT_JSON.contains("io_uring"));
    assert!(
        DEFAULT_JSON
            .starts_with("{\n\t\"defaultAction\": \"SCMP_ACT_ERRNO\",\n\t\"defaultErrnoRet\": 1,")
    );
    let p = resolve_json(
        DEFAULT_JSON.as_bytes(),
        &host(docker_caps(), "amd64", (6, 18, 0)),
    )
    .unwrap();
    let allowed: usize = p.syscalls().iter().flatten().map(|e| e.names().len()).sum();
    assert!(allowed > 350, "{allowed}");
}

#[test]
fn call_tables_are_sorted_for_binary_search() {
    for table in [
        crate::seccomp::syscalls::X86_64,
        crate::seccomp::syscalls::AARCH64,
    ] {
        assert!(
            table
                .windows(2)
                .all(|w| (w[0].0.len(), w[0].0) < (w[1].0.len(), w[1].0))
        );
        assert!(table.len() > 300);
    }
    let lookup =
        |table: &[(&str, u32)], name: &str| table.iter().find(|(n, _)| *n == name).map(|e| e.1);
    use crate::seccomp::syscalls::{AARCH64, X86_64};
    assert_eq!(
        (lookup(X86_64, "clone3"), lookup(AARCH64, "clone3")),
        (Some(435), Some(435))
    );
    assert_eq!(
        (lookup(X86_64, "openat"), lookup(AARCH64, "openat")),
        (Some(257), Some(56))
    );
    assert_eq!(
        (lookup(X86_64, "open"), lookup(AARCH64, "open")),
        (Some(2), None)
    );
    #[cfg(target_arch = "x86_64")]
    for (name, nr) in [
        ("read", libc::SYS_read),
        ("mseal", libc::SYS_mseal),
        ("clone", libc::SYS_clone),
        ("io_uring_setup", libc::SYS_io_uring_setup),
        ("personality", libc::SYS_personality),
    ] {
        assert_eq!(syscall_number(name), Some(nr as u32), "{name}");
    }
}
