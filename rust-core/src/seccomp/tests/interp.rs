//! A classic-BPF interpreter for seccomp programs, and the kernel's rules for a stack of them.

use libc::sock_filter;

use super::super::compile::{
    ALU_AND_K, JA, JEQ_K, JGE_K, JGT_K, JSET_K, LD_W_ABS, NATIVE_AUDIT_ARCH, RET_K,
};

/// struct seccomp_data.
#[derive(Clone, Copy, Debug)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    pub fn native(nr: u32, args: [u64; 6]) -> Data {
        Data {
            nr,
            arch: NATIVE_AUDIT_ARCH,
            ip: 0x7f00_1234_5678,
            args,
        }
    }

    /// The 32-bit word at `offset`, as the kernel lays the struct out (little-endian here).
    fn word(&self, offset: u32) -> u32 {
        let mut bytes = [0u8; 64];
        bytes[0..4].copy_from_slice(&self.nr.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.arch.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.ip.to_le_bytes());
        for (i, arg) in self.args.iter().enumerate() {
            bytes[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_le_bytes());
        }
        let at = offset as usize;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }
}

/// The checks of the kernel's bpf_check_classic and seccomp_check_filter that a compiled
/// program could fail: length, opcodes seccomp accepts, aligned loads inside seccomp_data,
/// jumps inside the program, a return at the end.
pub fn check(prog: &[sock_filter]) {
    assert!(
        !prog.is_empty() && prog.len() <= 4096,
        "length {}",
        prog.len()
    );
    for (pc, ins) in prog.iter().enumerate() {
        let after = pc + 1;
        match ins.code {
            LD_W_ABS => assert!(ins.k % 4 == 0 && ins.k < 64, "{pc}: load at {}", ins.k),
            ALU_AND_K | RET_K => {}
            JA => assert!(
                after + (ins.k as usize) < prog.len(),
                "{pc}: ja out of the program"
            ),
            JEQ_K | JGT_K | JGE_K | JSET_K => {
                let far = after + usize::from(ins.jt.max(ins.jf));
                assert!(far < prog.len(), "{pc}: jump out of the program");
            }
            other => panic!("{pc}: opcode {other:#x} is not in seccomp's set"),
        }
    }
    assert_eq!(
        prog[prog.len() - 1].code,
        RET_K,
        "the program must end in a return"
    );
}

/// Runs one program on one call.
pub fn run(prog: &[sock_filter], data: &Data) -> u32 {
    let mut a = 0u32;
    let mut pc = 0usize;
    loop {
        let ins = prog[pc];
        pc += 1;
        let branch = |taken: bool| usize::from(if taken { ins.jt } else { ins.jf });
        match ins.code {
            LD_W_ABS => a = data.word(ins.k),
            ALU_AND_K => a &= ins.k,
            JA => pc += ins.k as usize,
            JEQ_K => pc += branch(a == ins.k),
            JGT_K => pc += branch(a > ins.k),
            JGE_K => pc += branch(a >= ins.k),
            JSET_K => pc += branch(a & ins.k != 0),
            RET_K => return ins.k,
            other => panic!("opcode {other:#x} at {}", pc - 1),
        }
    }
}

/// The precedence of a result: lower wins (kernel/seccomp.c, ACTION_ONLY is signed).
pub fn action_only(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

/// What the kernel decides for a stack (filters in installation order): every filter runs, the
/// most recent first; the highest-precedence result wins, the first seen among equals.
pub fn run_stack(filters: &[Vec<sock_filter>], data: &Data) -> u32 {
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for filter in filters.iter().rev() {
        let cur = run(filter, data);
        if action_only(cur) < action_only(ret) {
            ret = cur;
        }
    }
    ret
}

#[test]
fn interpreter_follows_the_instruction_set() {
    let prog = [
        sock_filter {
            code: LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 16,
        }, // args[0] low
        sock_filter {
            code: ALU_AND_K,
            jt: 0,
            jf: 0,
            k: 0xff,
        },
        sock_filter {
            code: JEQ_K,
            jt: 0,
            jf: 1,
            k: 0x34,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 1,
        },
        sock_filter {
            code: LD_W_ABS,
            jt: 0,
            jf: 0,
            k: 20,
        }, // args[0] high
        sock_filter {
            code: JGT_K,
            jt: 1,
            jf: 0,
            k: 5,
        },
        sock_filter {
            code: JA,
            jt: 0,
            jf: 0,
            k: 1,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 2,
        },
        sock_filter {
            code: JSET_K,
            jt: 0,
            jf: 1,
            k: 4,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 3,
        },
        sock_filter {
            code: JGE_K,
            jt: 0,
            jf: 1,
            k: 1,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 4,
        },
        sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 5,
        },
    ];
    check(&prog);
    let at = |arg0: u64| run(&prog, &Data::native(0, [arg0, 0, 0, 0, 0, 0]));
    assert_eq!(at(0x1234), 1);
    assert_eq!(at(0x6_0000_0000), 2);
    assert_eq!(at(0x4_0000_0000), 3);
    assert_eq!(at(0x1_0000_0000), 4);
    assert_eq!(at(0), 5);
    // Precedence: KILL_PROCESS < KILL_THREAD < TRAP < ERRNO < TRACE < LOG < ALLOW.
    let order = [
        libc::SECCOMP_RET_KILL_PROCESS,
        libc::SECCOMP_RET_KILL_THREAD,
        libc::SECCOMP_RET_TRAP,
        libc::SECCOMP_RET_ERRNO | 5,
        libc::SECCOMP_RET_TRACE,
        libc::SECCOMP_RET_LOG,
        libc::SECCOMP_RET_ALLOW,
    ];
    assert!(
        order
            .windows(2)
            .all(|w| action_only(w[0]) < action_only(w[1]))
    );
}
