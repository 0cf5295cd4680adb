//! Profile -> one classic-BPF seccomp filter (see the module doc for its meaning and layout).

use std::fmt;

use libc::sock_filter;
use oci_spec::runtime::{
    LinuxSeccompAction as OciAction, LinuxSeccompArg, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op,
};

use super::{Error, Profile, syscalls};

/// The kernel's limit for one filter (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

/// A filter's result, with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    KillProcess,
    KillThread,
    Trap,
    Errno(u32),
    Trace(u32),
    Log,
    Allow,
}

/// Largest errno the kernel returns as such (MAX_ERRNO); TRACE's message is 16 bits.
const MAX_ERRNO: u32 = 4095;
const MAX_TRACE: u32 = 0xffff;

impl Action {
    /// `what` names the entry in error messages ("defaultAction", "rule for clone").
    fn from_oci(action: OciAction, errno_ret: Option<u32>, what: &str) -> Result<Action, Error> {
        let with_data = |max: u32| -> Result<u32, Error> {
            match errno_ret {
                None => Ok(libc::EPERM as u32),
                Some(value) if value <= max => Ok(value),
                Some(value) => Err(Error::ErrnoRetRange {
                    what: what.into(),
                    value,
                    max,
                }),
            }
        };
        let oci = action;
        let action = match action {
            OciAction::ScmpActErrno => return Ok(Action::Errno(with_data(MAX_ERRNO)?)),
            OciAction::ScmpActTrace => return Ok(Action::Trace(with_data(MAX_TRACE)?)),
            OciAction::ScmpActNotify => {
                return Err(Error::Notify {
                    action: "SCMP_ACT_NOTIFY",
                });
            }
            OciAction::ScmpActKill | OciAction::ScmpActKillThread => Action::KillThread,
            OciAction::ScmpActKillProcess => Action::KillProcess,
            OciAction::ScmpActTrap => Action::Trap,
            OciAction::ScmpActLog => Action::Log,
            OciAction::ScmpActAllow => Action::Allow,
        };
        match errno_ret {
            None => Ok(action),
            Some(_) => Err(Error::ErrnoRetNotAllowed {
                what: what.into(),
                action: oci.to_string(),
            }),
        }
    }

    /// The kernel's precedence (kernel/seccomp.c): lower wins.
    fn rank(self) -> u8 {
        match self {
            Action::KillProcess => 0,
            Action::KillThread => 1,
            Action::Trap => 2,
            Action::Errno(_) => 3,
            Action::Trace(_) => 4,
            Action::Log => 5,
            Action::Allow => 6,
        }
    }

    /// The filter's return value (SECCOMP_RET_*).
    fn ret(self) -> u32 {
        match self {
            Action::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
            Action::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Action::Trap => libc::SECCOMP_RET_TRAP,
            Action::Errno(e) => libc::SECCOMP_RET_ERRNO | e,
            Action::Trace(m) => libc::SECCOMP_RET_TRACE | m,
            Action::Log => libc::SECCOMP_RET_LOG,
            Action::Allow => libc::SECCOMP_RET_ALLOW,
        }
    }
}

/// One 64-bit comparison of an argument.
#[derive(Clone, Copy, Debug)]
enum Cmp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// (arg & mask) == value, value within the mask.
    MaskedEq {
        mask: u64,
        value: u64,
    },
}

#[derive(Clone, Copy, Debug)]
struct Cond {
    index: u8,
    cmp: Cmp,
}

/// When an entry applies: all of its conditions hold (none: always).
type Rule = Vec<Cond>;

/// The compiled filter of one profile, ready to install.
///
/// Built in the parent; [`Program::install`] only makes one system call, so it may run between
/// clone and exec. Owns plain data: Send and Sync, and cheap to keep per container.
#[derive(Clone)]
pub struct Program {
    filter: Vec<sock_filter>,
    flags: libc::c_ulong,
    skipped: Vec<String>,
}

impl Program {
    /// Installs the filter on the calling thread (inherited across fork and exec). Needs
    /// no_new_privs or CAP_SYS_ADMIN. Allocates nothing and takes no locks. Returns 0, or -1 with
    /// errno set. The filter applies from the next system call on, to the caller's own calls too.
    pub fn install(&self) -> i32 {
        let prog = libc::sock_fprog {
            len: self.filter.len() as u16, // at most MAX_INSTRUCTIONS
            filter: self.filter.as_ptr().cast_mut(),
        };
        // SAFETY: the kernel copies the program during the call; `prog` and the filter live
        // across it.
        let rc = unsafe {
            if self.flags == 0 {
                // The same kernel path as seccomp(2) without flags, and one that tools such as
                // valgrind know (it lacks seccomp(2)): a host under valgrind can start containers.
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &prog as *const libc::sock_fprog,
                ) as libc::c_long
            } else {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    self.flags,
                    &prog as *const libc::sock_fprog,
                )
            }
        };
        match rc {
            0 => 0,
            -1 => -1,
            _ => {
                // TSYNC names a thread that could not follow (not possible in a lone child).
                nix::errno::Errno::ESRCH.set();
                -1
            }
        }
    }

    /// The BPF program.
    pub fn instructions(&self) -> &[sock_filter] {
        &self.filter
    }

    /// The SECCOMP_FILTER_FLAG_* bits passed with the filter.
    pub fn flags(&self) -> libc::c_ulong {
        self.flags
    }

    /// Names in the profile that this architecture does not have (skipped, as libseccomp does).
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("instructions", &self.filter.len())
            .field("flags", &self.flags)
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// The native architecture: its audit value and its system call table.
#[cfg(target_arch = "x86_64")]
mod native {
    pub const AUDIT: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
    pub const TABLE: Option<&[(&str, u32)]> = Some(super::syscalls::X86_64);
}
#[cfg(target_arch = "aarch64")]
mod native {
    pub const AUDIT: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
    pub const TABLE: Option<&[(&str, u32)]> = Some(super::syscalls::AARCH64);
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod native {
    pub const AUDIT: u32 = 0;
    pub const TABLE: Option<&[(&str, u32)]> = None;
}
#[cfg(test)]
pub(super) use native::AUDIT as NATIVE_AUDIT_ARCH;

/// The native number of a system call, if this architecture has it.
pub(super) fn syscall_number(name: &str) -> Option<u32> {
    let table = native::TABLE?;
    let key = (name.len(), name);
    table
        .binary_search_by(|(n, _)| (n.len(), *n).cmp(&key))
        .ok()
        .map(|i| table[i].1)
}

/// Compiles a profile for the native architecture (see the module doc for what it means).
pub fn compile(profile: &Profile) -> Result<Program, Error> {
    if native::TABLE.is_none() {
        return Err(Error::UnsupportedArch(std::env::consts::ARCH));
    }
    let default = Action::from_oci(
        profile.default_action(),
        profile.default_errno_ret(),
        "defaultAction",
    )?;
    let flags = flag_bits(profile.flags().as_deref().unwrap_or_default())?;

    // (call number, action, rule), in profile order.
    let mut calls: Vec<(u32, Action, Rule)> = Vec::with_capacity(512);
    let mut skipped: Vec<&str> = Vec::new();
    let entries = profile.syscalls().as_deref().unwrap_or_default();
    for (index, entry) in entries.iter().enumerate() {
        let names = entry.names();
        let Some(first) = names.first() else {
            return Err(Error::NoNames { index });
        };
        let action = Action::from_oci(
            entry.action(),
            entry.errno_ret(),
            &format!("rule for {first}"),
        )?;
        let rules = argument_rules(entry.args().as_deref().unwrap_or_default(), first)?;
        if action == default {
            continue; // runc skips these (libseccomp refuses them)
        }
        for name in names {
            match syscall_number(name) {
                Some(nr) => calls.extend(rules.iter().map(|rule| (nr, action, rule.clone()))),
                None => skipped.push(name),
            }
        }
    }
    add_refusals(&mut calls, entries, default);
    skipped.sort_unstable();
    skipped.dedup();
    let skipped = skipped.into_iter().map(String::from).collect();

    let filter = generate(calls, default)?;
    Ok(Program {
        filter,
        flags,
        skipped,
    })
}

/// The arguments of one entry as rules: one rule holding all comparisons, or, when an argument
/// is compared twice, one rule per comparison (runc's reading). No rule at all when the entry
/// can never match (a MASKED_EQ whose valueTwo has bits outside the mask).
fn argument_rules(args: &[LinuxSeccompArg], syscall: &str) -> Result<Vec<Rule>, Error> {
    let mut conds = Vec::with_capacity(args.len());
    for arg in args {
        let index = arg.index();
        if index > 5 {
            return Err(Error::ArgIndex {
                syscall: syscall.into(),
                index,
            });
        }
        let v = arg.value();
        let cmp = match arg.op() {
            Op::ScmpCmpEq => Cmp::Eq(v),
            Op::ScmpCmpNe => Cmp::Ne(v),
            Op::ScmpCmpLt => Cmp::Lt(v),
            Op::ScmpCmpLe => Cmp::Le(v),
            Op::ScmpCmpGt => Cmp::Gt(v),
            Op::ScmpCmpGe => Cmp::Ge(v),
            Op::ScmpCmpMaskedEq => {
                let value = arg.value_two().unwrap_or(0);
                if value & !v != 0 {
                    conds.push(None); // can never hold
                    continue;
                }
                Cmp::MaskedEq { mask: v, value }
            }
        };
        conds.push(Some(Cond {
            index: index as u8,
            cmp,
        }));
    }
    let mut indexes: Vec<usize> = args.iter().map(|a| a.index()).collect();
    indexes.sort_unstable();
    indexes.dedup();
    if indexes.len() == args.len() {
        // All must hold: one that never can makes the entry dead.
        return Ok(conds
            .into_iter()
            .collect::<Option<Rule>>()
            .into_iter()
            .collect());
    }
    Ok(conds.into_iter().flatten().map(|c| vec![c]).collect())
}

/// The minimal filter's refusals, for the calls the profile does not name at all. They come
/// after the profile's entries, so the profile wins ties.
fn add_refusals(
    calls: &mut Vec<(u32, Action, Rule)>,
    entries: &[oci_spec::runtime::LinuxSyscall],
    default: Action,
) {
    let mut refuse = |name: &str, action: Action, rule: Rule| {
        let named = entries.iter().any(|e| e.names().iter().any(|n| n == name));
        if let (false, true, Some(nr)) = (named, action != default, syscall_number(name)) {
            calls.push((nr, action, rule));
        }
    };
    refuse("clone3", Action::Errno(libc::ENOSYS as u32), Vec::new());
    let newuser = libc::CLONE_NEWUSER as u64;
    for name in ["unshare", "clone"] {
        // Both take their flags first on x86_64 and aarch64.
        let flags = Cond {
            index: 0,
            cmp: Cmp::MaskedEq {
                mask: newuser,
                value: newuser,
            },
        };
        refuse(name, Action::Errno(libc::EPERM as u32), vec![flags]);
    }
}

fn flag_bits(flags: &[Flag]) -> Result<libc::c_ulong, Error> {
    flags.iter().try_fold(0, |bits, flag| {
        Ok(bits
            | match flag {
                Flag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
                Flag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
                Flag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
                Flag::SeccompFilterFlagWaitKillableRecv => {
                    return Err(Error::UnsupportedFlag(
                        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
                    ));
                }
            })
    })
}

// Classic BPF opcodes (linux/bpf_common.h) and struct seccomp_data's layout.
pub(super) const LD_W_ABS: u16 = 0x20;
pub(super) const ALU_AND_K: u16 = 0x54;
pub(super) const JA: u16 = 0x05;
pub(super) const JEQ_K: u16 = 0x15;
pub(super) const JGT_K: u16 = 0x25;
pub(super) const JGE_K: u16 = 0x35;
#[cfg(test)]
pub(super) const JSET_K: u16 = 0x45; // only the tests' interpreter knows it
pub(super) const RET_K: u16 = 0x06;
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;
/// x32 system calls share x86_64's arch value and set this bit in the number.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// How a call number is handled: one return for every argument, or a block of rules.
enum Leaf {
    Ret(u32),
    Block(Label),
}

/// The filter: the foreign-ABI guard, a binary search over runs of call numbers with one
/// outcome, then one block per number whose entries look at arguments. A block tries its rules from the highest-precedence
/// action down (profile order among equals); the first rule that holds returns its action, and
/// the default follows the last. So one filter gives the most restrictive matching entry, as
/// libseccomp's does.
fn generate(
    mut calls: Vec<(u32, Action, Rule)>,
    default: Action,
) -> Result<Vec<sock_filter>, Error> {
    let mut asm = Asm::default();
    let kill = libc::SECCOMP_RET_KILL_PROCESS;
    let native = asm.label();
    asm.ld(DATA_ARCH);
    asm.jump(JEQ_K, native::AUDIT, Some(native), None);
    asm.ret(kill);
    asm.mark(native);
    asm.ld(DATA_NR);
    #[cfg(target_arch = "x86_64")]
    {
        let not_x32 = asm.label();
        asm.jump(JGE_K, X32_SYSCALL_BIT, None, Some(not_x32));
        asm.ret(kill);
        asm.mark(not_x32);
    }

    // By number, then precedence; stable, so profile order stays among equals.
    calls.sort_by_key(|(nr, action, _)| (*nr, action.rank()));
    let mut leaves = Vec::with_capacity(calls.len());
    let mut blocks = Vec::new();
    for group in calls.chunk_by(|a, b| a.0 == b.0) {
        let nr = group[0].0;
        // Nothing after a rule that always holds can be reached.
        let end = group
            .iter()
            .position(|(_, _, rule)| rule.is_empty())
            .map_or(group.len(), |i| i + 1);
        match &group[..end] {
            [(_, action, rule)] if rule.is_empty() => leaves.push((nr, Leaf::Ret(action.ret()))),
            rules => {
                let label = asm.label();
                leaves.push((nr, Leaf::Block(label)));
                blocks.push((label, rules));
            }
        }
    }
    dispatch(&mut asm, &runs(leaves, default.ret()));
    for (label, rules) in blocks {
        asm.mark(label);
        for (_, action, rule) in rules {
            let fail = asm.label();
            for cond in rule {
                condition(&mut asm, cond, fail);
            }
            asm.ret(action.ret());
            asm.mark(fail);
        }
        asm.ret(default.ret());
    }
    asm.assemble()
}

/// Splits the call numbers into runs with one outcome each, as (first number, outcome), from 0
/// to the end of the number space: Docker's allow-list on x86_64 is a few dozen runs.
fn runs(leaves: Vec<(u32, Leaf)>, default: u32) -> Vec<(u32, Leaf)> {
    let mut runs: Vec<(u32, Leaf)> = Vec::new();
    let mut push = |start: u32, leaf: Leaf| match (runs.last(), &leaf) {
        (Some((_, Leaf::Ret(last))), Leaf::Ret(ret)) if last == ret => {}
        _ => runs.push((start, leaf)),
    };
    let mut next = 0u32;
    for (nr, leaf) in leaves {
        if nr > next {
            push(next, Leaf::Ret(default));
        }
        push(nr, leaf);
        next = nr.saturating_add(1);
    }
    push(next, Leaf::Ret(default));
    runs
}

/// A binary search over the runs (A holds the number): 2 instructions per level, then the
/// outcome; about 15 instructions to a decision for Docker's profile.
fn dispatch(asm: &mut Asm, runs: &[(u32, Leaf)]) {
    if let [(_, leaf)] = runs {
        match leaf {
            Leaf::Ret(ret) => asm.ret(*ret),
            Leaf::Block(label) => asm.ja(*label),
        }
        return;
    }
    let (low, high) = runs.split_at(runs.len() / 2);
    let (upper, lower) = (asm.label(), asm.label());
    asm.jump(JGE_K, high[0].0, None, Some(lower));
    asm.ja(upper);
    asm.mark(lower);
    dispatch(asm, low);
    asm.mark(upper);
    dispatch(asm, high);
}

/// One 64-bit comparison: falls through when it holds, jumps to `fail` when not. The halves are
/// compared as the kernel lays them out on a little-endian machine (low word first).
fn condition(asm: &mut Asm, cond: &Cond, fail: Label) {
    let lo = DATA_ARGS + 8 * u32::from(cond.index);
    let hi = lo + 4;
    let split = |v: u64| ((v >> 32) as u32, v as u32);
    let held = asm.label();
    match cond.cmp {
        Cmp::Eq(v) => {
            let (vh, vl) = split(v);
            asm.ld(hi);
            asm.jump(JEQ_K, vh, None, Some(fail));
            asm.ld(lo);
            asm.jump(JEQ_K, vl, None, Some(fail));
        }
        Cmp::Ne(v) => {
            let (vh, vl) = split(v);
            asm.ld(hi);
            asm.jump(JEQ_K, vh, None, Some(held));
            asm.ld(lo);
            asm.jump(JEQ_K, vl, Some(fail), None);
        }
        // hi > vh, or hi == vh and lo > vl (>= for GE).
        Cmp::Gt(v) | Cmp::Ge(v) => {
            let (vh, vl) = split(v);
            asm.ld(hi);
            asm.jump(JGT_K, vh, Some(held), None);
            asm.jump(JEQ_K, vh, None, Some(fail));
            asm.ld(lo);
            let op = if matches!(cond.cmp, Cmp::Gt(_)) {
                JGT_K
            } else {
                JGE_K
            };
            asm.jump(op, vl, None, Some(fail));
        }
        // The negation of GE (for LT) and of GT (for LE).
        Cmp::Lt(v) | Cmp::Le(v) => {
            let (vh, vl) = split(v);
            asm.ld(hi);
            asm.jump(JGT_K, vh, Some(fail), None);
            asm.jump(JEQ_K, vh, None, Some(held));
            asm.ld(lo);
            let op = if matches!(cond.cmp, Cmp::Lt(_)) {
                JGE_K
            } else {
                JGT_K
            };
            asm.jump(op, vl, Some(fail), None);
        }
        Cmp::MaskedEq { mask, value } => {
            let ((mh, ml), (vh, vl)) = (split(mask), split(value));
            asm.ld(hi);
            asm.and(mh);
            asm.jump(JEQ_K, vh, None, Some(fail));
            asm.ld(lo);
            asm.and(ml);
            asm.jump(JEQ_K, vl, None, Some(fail));
        }
    }
    asm.mark(held);
}

/// A forward position in the program.
#[derive(Clone, Copy)]
struct Label(usize);

enum Ins {
    Op(sock_filter),
    /// A conditional jump; `None` is the next instruction. Targets must be near (255).
    Jump {
        code: u16,
        k: u32,
        jt: Option<Label>,
        jf: Option<Label>,
    },
    /// An unconditional jump, as far as needed.
    Ja(Label),
    Mark(Label),
}

/// A small assembler: instructions with labels, resolved to relative offsets at the end.
#[derive(Default)]
struct Asm {
    code: Vec<Ins>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    fn mark(&mut self, label: Label) {
        self.code.push(Ins::Mark(label));
    }

    fn op(&mut self, code: u16, k: u32) {
        self.code.push(Ins::Op(sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    fn ld(&mut self, offset: u32) {
        self.op(LD_W_ABS, offset);
    }

    fn and(&mut self, k: u32) {
        self.op(ALU_AND_K, k);
    }

    fn ret(&mut self, k: u32) {
        self.op(RET_K, k);
    }

    fn jump(&mut self, code: u16, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.code.push(Ins::Jump { code, k, jt, jf });
    }

    fn ja(&mut self, label: Label) {
        self.code.push(Ins::Ja(label));
    }

    fn assemble(self) -> Result<Vec<sock_filter>, Error> {
        let mut at = vec![usize::MAX; self.labels];
        let mut pc = 0;
        for ins in &self.code {
            match ins {
                Ins::Mark(Label(l)) => at[*l] = pc,
                _ => pc += 1,
            }
        }
        if pc > MAX_INSTRUCTIONS {
            return Err(Error::TooLarge {
                instructions: pc,
                max: MAX_INSTRUCTIONS,
            });
        }
        let mut out = Vec::with_capacity(pc);
        for ins in &self.code {
            let next = out.len() + 1;
            // Classic BPF jumps forward only: every label is marked after the jumps to it.
            let offset = |Label(l): Label| {
                at[l]
                    .checked_sub(next)
                    .ok_or_else(|| Error::Compiler(format!("label {l} is not ahead")))
            };
            let near = |label: Option<Label>| match label {
                None => Ok(0),
                Some(label) => u8::try_from(offset(label)?)
                    .map_err(|_| Error::Compiler("a conditional jump beyond 255".into())),
            };
            let ins = match ins {
                Ins::Mark(_) => continue,
                Ins::Op(op) => *op,
                Ins::Jump { code, k, jt, jf } => sock_filter {
                    code: *code,
                    jt: near(*jt)?,
                    jf: near(*jf)?,
                    k: *k,
                },
                Ins::Ja(label) => sock_filter {
                    code: JA,
                    jt: 0,
                    jf: 0,
                    k: offset(*label)? as u32,
                },
            };
            out.push(ins);
        }
        Ok(out)
    }
}
