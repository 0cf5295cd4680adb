//! The compiled filters decide as the profiles mean (interpreter; no kernel involved).

use super::*;
use crate::seccomp::{Error, compile, docker_default};

fn decide(program: &crate::seccomp::Program, name: &str, args: [u64; 6]) -> u32 {
    interp::run(program.instructions(), &Data::native(nr(name), args))
}

fn a0(v: u64) -> [u64; 6] {
    [v, 0, 0, 0, 0, 0]
}

const NEWUSER: u64 = libc::CLONE_NEWUSER as u64;
const SIGCHLD: u64 = libc::SIGCHLD as u64;

#[test]
fn docker_default_with_docker_caps_decides_as_docker() {
    let program = compile(&docker_default(docker_caps())).unwrap();
    interp::check(program.instructions());
    let d = |name: &str, args| decide(&program, name, args);
    for name in [
        "read",
        "write",
        "openat",
        "close",
        "execve",
        "exit_group",
        "futex",
        "getpid",
    ] {
        assert_eq!(d(name, [0; 6]), ALLOW, "{name}");
    }
    for name in [
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "userfaultfd",
        "perf_event_open",
        "keyctl",
        "add_key",
        "request_key",
        "mount",
        "umount2",
        "bpf",
        "setns",
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "reboot",
        "init_module",
        "open_by_handle_at",
        "swapon",
        "kexec_load",
        "iopl",
        "settimeofday",
        "unshare",
        "acct",
        "syslog",
        "vhangup",
        "mbind",
    ] {
        assert_eq!(d(name, [0; 6]), errno(libc::EPERM), "{name}");
    }
    assert_eq!(d("clone3", [0; 6]), errno(libc::ENOSYS));
    // clone: a fork or a thread, but no namespace.
    assert_eq!(d("clone", a0(SIGCHLD)), ALLOW);
    assert_eq!(d("clone", a0(0x3d0f00)), ALLOW); // pthread_create's flags
    assert_eq!(d("clone", a0(NEWUSER | SIGCHLD)), errno(libc::EPERM));
    assert_eq!(d("clone", a0(libc::CLONE_NEWNS as u64)), errno(libc::EPERM));
    assert_eq!(
        d("clone", a0(libc::CLONE_NEWNET as u64 | SIGCHLD)),
        errno(libc::EPERM)
    );
    assert_eq!(d("unshare", a0(NEWUSER)), errno(libc::EPERM));
    // socket: anything but AF_VSOCK (compared on 64 bits, as libseccomp does).
    assert_eq!(d("socket", a0(libc::AF_INET as u64)), ALLOW);
    assert_eq!(d("socket", a0(libc::AF_VSOCK as u64)), errno(libc::EPERM));
    assert_eq!(d("socket", a0(libc::AF_VSOCK as u64 | 1 << 32)), ALLOW);
    // personality: the five values Docker allows, nothing else.
    for p in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
        assert_eq!(d("personality", a0(p)), ALLOW, "personality({p:#x})");
    }
    for p in [0x0400000, 0x1_0000_0000, u64::MAX, 1] {
        assert_eq!(
            d("personality", a0(p)),
            errno(libc::EPERM),
            "personality({p:#x})"
        );
    }
    // Capability-conditional: CAP_SYS_CHROOT is in Docker's set; minKernel 4.8 holds here.
    assert_eq!(d("chroot", [0; 6]), ALLOW);
    assert_eq!(d("ptrace", [0; 6]), ALLOW);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(d("arch_prctl", [0; 6]), ALLOW);
        assert_eq!(d("modify_ldt", [0; 6]), ALLOW);
    }
    // Foreign ABIs die.
    let i386 = Data {
        arch: 0x4000_0003,
        ..Data::native(20, [0; 6])
    };
    assert_eq!(interp::run(program.instructions(), &i386), KILL_PROCESS);
    if cfg!(target_arch = "x86_64") {
        let x32 = Data::native(0x4000_0000 | nr("getpid"), [0; 6]);
        assert_eq!(interp::run(program.instructions(), &x32), KILL_PROCESS);
    }
}

#[test]
fn cap_sys_admin_flips_the_conditional_entries() {
    let program = compile(&docker_default(docker_caps() | cap("CAP_SYS_ADMIN"))).unwrap();
    let d = |name: &str, args| decide(&program, name, args);
    assert_eq!(d("clone3", [0; 6]), ALLOW);
    assert_eq!(d("clone", a0(NEWUSER | SIGCHLD)), ALLOW);
    assert_eq!(d("unshare", a0(NEWUSER)), ALLOW);
    for name in [
        "mount",
        "umount2",
        "setns",
        "bpf",
        "perf_event_open",
        "sethostname",
        "fsopen",
    ] {
        assert_eq!(d(name, [0; 6]), ALLOW, "{name}");
    }
    // Not conditional on CAP_SYS_ADMIN: still refused.
    for name in [
        "io_uring_setup",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "kcmp",
    ] {
        assert_eq!(d(name, [0; 6]), errno(libc::EPERM), "{name}");
    }

    let others = compile(&docker_default(
        docker_caps() | cap("CAP_SYS_PTRACE") | cap("CAP_DAC_READ_SEARCH") | cap("CAP_BPF"),
    ))
    .unwrap();
    for name in [
        "kcmp",
        "pidfd_getfd",
        "process_madvise",
        "open_by_handle_at",
        "bpf",
    ] {
        assert_eq!(decide(&others, name, [0; 6]), ALLOW, "{name}");
    }
    let none = compile(&docker_default(0)).unwrap();
    assert_eq!(decide(&none, "chroot", [0; 6]), errno(libc::EPERM));
}

#[test]
fn docker_default_matches_its_meaning_for_every_call() {
    for caps in [
        docker_caps(),
        docker_caps() | cap("CAP_SYS_ADMIN"),
        u64::MAX >> 23,
        0,
    ] {
        assert_matches_intent(&docker_default(caps));
    }
}

#[test]
fn comparisons_see_all_64_bits() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["dup"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967296, "op": "SCMP_CMP_GT"}]},
            {"names": ["dup2"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967296, "op": "SCMP_CMP_LT"}]},
            {"names": ["dup3"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967297, "op": "SCMP_CMP_GE"}]},
            {"names": ["lseek"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967297, "op": "SCMP_CMP_LE"}]},
            {"names": ["fcntl"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 18446744069414584320, "valueTwo": 8589934592,
                       "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["read"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967301, "op": "SCMP_CMP_EQ"}]},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4294967301, "op": "SCMP_CMP_NE"}]}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    let a2 = |v: u64| [0, 0, v, 0, 0, 0];
    let d = |name: &str, v: u64| decide(&program, name, a2(v)) == ALLOW;
    let cases: &[(&str, u64, bool)] = &[
        ("dup", 0x1_0000_0000, false),
        ("dup", 0x1_0000_0001, true),
        ("dup", 0xffff_ffff, false), // low half larger, high half smaller
        ("dup", 0x2_0000_0000, true),
        ("dup2", 0xffff_ffff, true),
        ("dup2", 0x1_0000_0000, false),
        ("dup2", 0x2_0000_0000, false),
        ("dup3", 0x1_0000_0001, true),
        ("dup3", 0x1_0000_0000, false),
        ("dup3", 0x2_0000_0000, true),
        ("dup3", 0xffff_ffff, false),
        ("lseek", 0x1_0000_0001, true),
        ("lseek", 0x1_0000_0002, false),
        ("lseek", 0xffff_ffff, true),
        ("lseek", 0x2_0000_0000, false),
        ("fcntl", 0x2_0000_0000, true),
        ("fcntl", 0x2_ffff_ffff, true), // the low half is outside the mask
        ("fcntl", 0x3_0000_0000, false),
        ("fcntl", 0x0_0000_0002, false),
        ("read", 0x1_0000_0005, true),
        ("read", 0x0_0000_0005, false),
        ("read", 0x2_0000_0005, false),
        ("write", 0x0_0000_0005, true),
        ("write", 0x1_0000_0005, false),
    ];
    for &(name, v, allowed) in cases {
        assert_eq!(d(name, v), allowed, "{name}({v:#x})");
    }
    assert_matches_intent(&p);
}

#[test]
fn several_actions_resolve_by_precedence_then_profile_order() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
            {"names": ["getpid", "exit_group"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_LT"}]},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 33, "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_GE"}]},
            {"names": ["dup"], "action": "SCMP_ACT_TRAP", "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 34, "args": [{"index": 0, "value": 6, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_TRACE", "errnoRet": 77, "args": [{"index": 0, "value": 200, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_KILL", "args": [{"index": 0, "value": 300, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_TRACE", "args": [{"index": 0, "value": 400, "op": "SCMP_CMP_EQ"}]},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["getuid"], "action": "SCMP_ACT_KILL_THREAD"},
            {"names": ["getgid"], "action": "SCMP_ACT_TRAP"}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    let d = |name: &str, v: u64| decide(&program, name, a0(v));
    assert_eq!(d("getpid", 0), ALLOW);
    assert_eq!(d("dup", 1), ALLOW);
    assert_eq!(d("dup", 5), errno(33)); // ALLOW and ERRNO match: ERRNO
    assert_eq!(d("dup", 6), errno(33)); // two ERRNOs match: the earlier entry's
    assert_eq!(d("dup", 7), TRAP); // TRAP over ERRNO and ALLOW
    assert_eq!(d("dup", 50), errno(33));
    assert_eq!(d("dup", 100), errno(33)); // LOG is weaker than ERRNO
    assert_eq!(d("dup", 200), errno(33));
    assert_eq!(d("dup", 300), KILL_THREAD);
    assert_eq!(d("getppid", 0), errno(libc::EPERM));
    assert_eq!(d("getuid", 0), KILL_THREAD);
    assert_eq!(d("getgid", 0), TRAP);
    assert_eq!(d("getegid", 0), KILL_PROCESS); // the default
    assert_eq!(d("clone3", 0), errno(libc::ENOSYS)); // the runtime's refusal
    assert_matches_intent(&p);

    // LOG and TRACE where nothing stronger matches.
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["dup"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_TRACE", "errnoRet": 77, "args": [{"index": 0, "value": 200, "op": "SCMP_CMP_EQ"}]},
            {"names": ["dup"], "action": "SCMP_ACT_TRACE", "args": [{"index": 0, "value": 100, "op": "SCMP_CMP_GE"}]}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    let d = |v: u64| decide(&program, "dup", a0(v));
    assert_eq!(d(1), ALLOW);
    assert_eq!(d(100), trace(1)); // TRACE over LOG; TRACE's message defaults to EPERM
    assert_eq!(d(200), trace(77));
    assert_eq!(d(150), trace(1));
    assert_matches_intent(&p);
}

#[test]
fn a_deny_list_keeps_the_runtime_refusals() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    let d = |name: &str, v: u64| decide(&program, name, a0(v));
    assert_eq!(d("mkdir", 0), errno(libc::EACCES));
    assert_eq!(d("mount", 0), ALLOW);
    assert_eq!(d("clone3", 0), errno(libc::ENOSYS));
    assert_eq!(
        d("unshare", NEWUSER | libc::CLONE_NEWNS as u64),
        errno(libc::EPERM)
    );
    assert_eq!(d("unshare", libc::CLONE_NEWNS as u64), ALLOW);
    assert_eq!(d("clone", NEWUSER | SIGCHLD), errno(libc::EPERM));
    assert_eq!(d("clone", SIGCHLD), ALLOW);
    if cfg!(target_arch = "x86_64") {
        let x32 = Data::native(0x4000_0000 | nr("mkdir"), [0; 6]);
        assert_eq!(interp::run(program.instructions(), &x32), KILL_PROCESS);
    }
    assert_matches_intent(&p);

    // A profile that names them decides itself; with nothing left to refuse, the guard
    // against foreign ABIs still stands.
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["clone3", "clone", "unshare"], "action": "SCMP_ACT_ALLOW"}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    assert_eq!(decide(&program, "clone3", [0; 6]), ALLOW);
    assert_eq!(decide(&program, "unshare", a0(NEWUSER)), ALLOW);
    let i386 = Data {
        arch: 0x4000_0003,
        ..Data::native(20, [0; 6])
    };
    assert_eq!(interp::run(program.instructions(), &i386), KILL_PROCESS);
    assert_matches_intent(&p);
}

#[test]
fn repeated_argument_index_means_any_of_them() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]},
            {"names": ["tgkill"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    let d = |name: &str, args| decide(&program, name, args);
    assert_eq!(d("kill", [5, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(d("kill", [5, 15, 0, 0, 0, 0]), ALLOW);
    assert_eq!(d("kill", [5, 9, 0, 0, 0, 0]), errno(libc::EPERM));
    assert_eq!(d("tgkill", [1, 0, 9, 0, 0, 0]), ALLOW);
    assert_eq!(d("tgkill", [1, 0, 8, 0, 0, 0]), errno(libc::EPERM));
    assert_eq!(d("tgkill", [2, 0, 9, 0, 0, 0]), errno(libc::EPERM));
    assert_matches_intent(&p);
}

#[test]
fn dead_and_default_entries_are_dropped() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 15, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["getppid"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "args": [
                {"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}]},
            {"names": ["no_such_call", "getuid", "chown32"], "action": "SCMP_ACT_ALLOW"}
        ]}"#,
    );
    let program = compile(&p).unwrap();
    // A valueTwo outside the mask never matches, whatever the argument.
    for v in [0, 16, 31, u64::MAX] {
        assert_eq!(decide(&program, "getpid", a0(v)), errno(libc::EPERM));
    }
    // An entry with the default action does not count (runc skips it).
    assert_eq!(decide(&program, "getppid", a0(5)), ALLOW);
    // Unknown names are skipped and listed; the rest of the entry holds.
    assert_eq!(decide(&program, "getuid", [0; 6]), ALLOW);
    let mut skipped = program.skipped().to_vec();
    skipped.sort();
    let mut want = vec!["no_such_call".to_string()];
    if cfg!(target_arch = "x86_64") || cfg!(target_arch = "aarch64") {
        want.push("chown32".to_string());
    }
    want.sort();
    assert_eq!(skipped, want);
    assert_matches_intent(&p);
}

#[test]
fn the_filter_starts_with_the_foreign_abi_guard() {
    for p in [
        docker_default(docker_caps()),
        profile(r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#),
    ] {
        let program = compile(&p).unwrap();
        let filter = program.instructions();
        assert_eq!((filter[0].code, filter[0].k), (0x20, 4)); // load arch
        assert_eq!((filter[1].code, filter[1].k), (0x15, NATIVE_AUDIT_ARCH));
        assert_eq!((filter[2].code, filter[2].k), (0x06, KILL_PROCESS));
    }
}

#[test]
fn flags_are_passed_and_notify_is_refused() {
    let p = profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]}"#,
    );
    let flags = compile(&p).unwrap().flags();
    assert_eq!(
        flags,
        libc::SECCOMP_FILTER_FLAG_LOG
            | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            | libc::SECCOMP_FILTER_FLAG_TSYNC
    );
    let refused = |json: &str| compile(&profile(json)).unwrap_err();
    let e = refused(r#"{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock"}"#);
    assert!(
        matches!(e, Error::Notify { .. }) && e.to_string().contains("SCMP_ACT_NOTIFY"),
        "{e}"
    );
    let e = refused(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(matches!(e, Error::Notify { .. }), "{e}");
    let e = refused(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
    );
    assert!(e.to_string().contains("WAIT_KILLABLE_RECV"), "{e}");
}

#[test]
fn bad_profiles_are_refused_with_a_message_naming_the_mistake() {
    let refused = |json: &str| compile(&profile(json)).unwrap_err().to_string();
    let e = refused(
        r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}"#,
    );
    assert!(
        e.contains("getpid") && e.contains("errnoRet") && e.contains("SCMP_ACT_KILL"),
        "{e}"
    );
    let e = refused(r#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}"#);
    assert!(e.contains("defaultAction") && e.contains("errnoRet"), "{e}");
    let e = refused(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}"#);
    assert!(e.contains("5000") && e.contains("4095"), "{e}");
    let e = refused(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(e.contains("getpid") && e.contains("index 6"), "{e}");
    let e = refused(
        r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(
        e.contains("entry 0") && e.contains("names no system call"),
        "{e}"
    );
    // serde names an unknown action or operator in config.json itself.
    let e =
        serde_json::from_str::<Profile>(r#"{"defaultAction": "SCMP_ACT_EXPLODE"}"#).unwrap_err();
    assert!(e.to_string().contains("SCMP_ACT_EXPLODE"), "{e}");
}

#[test]
fn program_is_plain_data() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<crate::seccomp::Program>();
}
