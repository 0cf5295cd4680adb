//! Tests of the seccomp module.
//!
//! The compiled programs run in a classic-BPF interpreter (`interp`) on synthetic seccomp_data
//! and are compared with what the profile means (`intent`, written from the OCI specification and
//! runc's reading of it, not from the compiler) and with decisions written out by hand; the
//! loader's resolution and errors are checked on Docker's and OCI JSON (`loader`); and the real
//! kernel decides in forked children that install the programs (`kernel`).

mod interp;
mod kernel;
mod loader;
mod semantics;

use oci_spec::runtime::{LinuxSeccompAction as A, LinuxSeccompOperator as Op};

use super::compile::{NATIVE_AUDIT_ARCH, syscall_number};
use super::{Profile, docker};
use interp::{Data, action_only};

/// Docker's default capability set, as the container's first process gets it (spelled by name
/// here, so that this module's tests need nothing of the runtime's; process/plan.rs has the
/// numbers).
fn docker_caps() -> u64 {
    [
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_RAW",
        "CAP_SYS_CHROOT",
        "CAP_MKNOD",
        "CAP_AUDIT_WRITE",
        "CAP_SETFCAP",
    ]
    .iter()
    .fold(0, |m, name| m | cap(name))
}

fn cap(name: &str) -> u64 {
    1u64 << docker::capability(name).unwrap()
}

fn nr(name: &str) -> u32 {
    syscall_number(name).unwrap_or_else(|| panic!("{name} is not in the table"))
}

fn profile(json: &str) -> Profile {
    serde_json::from_str(json).unwrap()
}

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const KILL_THREAD: u32 = libc::SECCOMP_RET_KILL_THREAD;
const TRAP: u32 = libc::SECCOMP_RET_TRAP;
const LOG: u32 = libc::SECCOMP_RET_LOG;

fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | e as u32
}

fn trace(msg: u32) -> u32 {
    libc::SECCOMP_RET_TRACE | msg
}

/// The return value of an action, as the OCI specification defines it (errnoRet defaults to
/// EPERM for ERRNO and TRACE).
fn ret_of(action: A, errno_ret: Option<u32>) -> u32 {
    let data = errno_ret.unwrap_or(libc::EPERM as u32);
    match action {
        A::ScmpActAllow => ALLOW,
        A::ScmpActErrno => libc::SECCOMP_RET_ERRNO | data,
        A::ScmpActTrace => libc::SECCOMP_RET_TRACE | data,
        A::ScmpActKill | A::ScmpActKillThread => KILL_THREAD,
        A::ScmpActKillProcess => KILL_PROCESS,
        A::ScmpActTrap => TRAP,
        A::ScmpActLog => LOG,
        A::ScmpActNotify => unreachable!("refused by the compiler"),
    }
}

/// What `profile` means for one call: foreign ABIs are killed; otherwise the highest-precedence
/// action among the matching entries wins (the earliest entry among equals), entries with the
/// default action do not count, and without a match the default applies. An entry's arguments
/// must all hold, unless one index repeats: then any one of them suffices. The runtime's own
/// refusals come after the profile's entries, for the calls it does not name.
fn intent(profile: &Profile, data: &Data) -> u32 {
    if data.arch != NATIVE_AUDIT_ARCH
        || (cfg!(target_arch = "x86_64") && data.nr & 0x4000_0000 != 0)
    {
        return KILL_PROCESS;
    }
    let default = ret_of(profile.default_action(), profile.default_errno_ret());
    let entries: Vec<_> = profile.syscalls().iter().flatten().collect();
    let mut best: Option<u32> = None;
    let mut consider = |r: u32| {
        if r != default && best.is_none_or(|b| action_only(r) < action_only(b)) {
            best = Some(r);
        }
    };
    for entry in &entries {
        if !entry
            .names()
            .iter()
            .any(|n| syscall_number(n) == Some(data.nr))
        {
            continue;
        }
        let args = entry.args().as_deref().unwrap_or_default();
        let holds = |a: &&oci_spec::runtime::LinuxSeccompArg| {
            let v = data.args[a.index()];
            match a.op() {
                Op::ScmpCmpEq => v == a.value(),
                Op::ScmpCmpNe => v != a.value(),
                Op::ScmpCmpLt => v < a.value(),
                Op::ScmpCmpLe => v <= a.value(),
                Op::ScmpCmpGt => v > a.value(),
                Op::ScmpCmpGe => v >= a.value(),
                Op::ScmpCmpMaskedEq => v & a.value() == a.value_two().unwrap_or(0),
            }
        };
        let mut indexes: Vec<usize> = args.iter().map(|a| a.index()).collect();
        indexes.sort_unstable();
        indexes.dedup();
        let matched = match indexes.len() == args.len() {
            true => args.iter().all(|a| holds(&a)),
            false => args.iter().any(|a| holds(&a)),
        };
        if matched {
            consider(ret_of(entry.action(), entry.errno_ret()));
        }
    }
    let named = |name: &str| entries.iter().any(|e| e.names().iter().any(|n| n == name));
    if !named("clone3") && data.nr == nr("clone3") {
        consider(errno(libc::ENOSYS));
    }
    for name in ["unshare", "clone"] {
        if !named(name) && data.nr == nr(name) && data.args[0] & libc::CLONE_NEWUSER as u64 != 0 {
            consider(errno(libc::EPERM));
        }
    }
    best.unwrap_or(default)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Argument vectors that probe every comparison of `profile`: each value, its neighbours, its
/// high half set or cleared, masks and their complements, in every position, plus random mixes.
fn probing_args(profile: &Profile) -> Vec<[u64; 6]> {
    let mut values = vec![0, 1, 0xffff_ffff, 0x1_0000_0000, u64::MAX, 1 << 63];
    for arg in profile
        .syscalls()
        .iter()
        .flatten()
        .flat_map(|e| e.args().iter().flatten())
    {
        let (v, w) = (arg.value(), arg.value_two().unwrap_or(0));
        values.extend([
            v,
            v.wrapping_sub(1),
            v.wrapping_add(1),
            v ^ (1 << 32),
            v | (1 << 40),
        ]);
        values.extend([
            v & 0xffff_ffff,
            !v,
            w,
            w | !v,
            w ^ 1,
            (w & v) | (v.wrapping_add(1) & !v),
        ]);
    }
    values.extend([
        libc::CLONE_NEWUSER as u64,
        (libc::CLONE_NEWUSER | libc::SIGCHLD) as u64,
    ]);
    values.sort_unstable();
    values.dedup();
    let mut out = vec![[0; 6]];
    for &v in &values {
        for i in 0..6 {
            let mut args = [0; 6];
            args[i] = v;
            out.push(args);
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let mut args = [0; 6];
        for a in &mut args {
            let r = rng.next();
            *a = if r % 3 == 0 {
                r
            } else {
                values[(r as usize / 3) % values.len()]
            };
        }
        out.push(args);
    }
    out
}

/// Every call number (and a few beyond), with every probing argument vector where the number
/// has argument rules: the compiled filter must decide as `intent` does.
fn assert_matches_intent(profile: &Profile) {
    let program = super::compile(profile).unwrap();
    interp::check(program.instructions());
    let probing = probing_args(profile);
    let mut with_args: Vec<u32> = ["clone", "unshare", "clone3"]
        .iter()
        .map(|n| nr(n))
        .collect();
    for entry in profile.syscalls().iter().flatten() {
        if entry.args().as_ref().is_some_and(|a| !a.is_empty()) {
            with_args.extend(entry.names().iter().filter_map(|n| syscall_number(n)));
        }
    }
    let numbers = (0..480).chain([1000, 0x4000_0000, 0x4000_0027, u32::MAX]);
    for n in numbers {
        let vectors = if with_args.contains(&n) {
            &probing[..]
        } else {
            &probing[..2]
        };
        for args in vectors {
            let data = Data::native(n, *args);
            let (got, want) = (
                interp::run(program.instructions(), &data),
                intent(profile, &data),
            );
            assert_eq!(
                got, want,
                "call {n} with {args:x?}: got {got:#x}, want {want:#x}"
            );
        }
    }
    let foreign = Data {
        arch: 0x4000_0003,
        ..Data::native(nr("getpid"), [0; 6])
    }; // i386
    assert_eq!(interp::run(program.instructions(), &foreign), KILL_PROCESS);
}
