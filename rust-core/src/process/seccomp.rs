//! A minimal seccomp filter: no new user namespaces inside a container.
//!
//! Root in the container holds CAP_SETFCAP (Docker's default set), which lets it map uid 0 into
//! a new user namespace; there, with a new cgroup namespace rooted at the container's own cgroup,
//! it could mount the cgroup filesystem and raise its own limits. Docker's default seccomp
//! profile refuses user namespaces for the same reason; this filter does only that (it is not
//! Docker's whole profile): unshare and clone with CLONE_NEWUSER fail with EPERM, clone3 (whose
//! flags a filter cannot read) fails with ENOSYS so that libc falls back to clone, and system
//! calls of another ABI (i386, x32), which would bypass the checks by number, fail with EPERM.
//! Built as a constant program: installing it allocates nothing.

use libc::{c_ulong, sock_filter, sock_fprog};

const RET: u16 = 0x06; // BPF_RET | BPF_K
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K

const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6].
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16; // little-endian: the low 32 bits of args[0]

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
/// x32 system calls share the x86_64 arch value and set this bit in the number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

const EPERM: u32 = SECCOMP_RET_ERRNO | libc::EPERM as u32;
const ENOSYS: u32 = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

static PROGRAM: [sock_filter; 14] = [
    /* 0 */ stmt(LD_W_ABS, ARCH),
    /* 1 */ jump(JEQ_K, AUDIT_ARCH, 1, 0),
    /* 2 */ stmt(RET, EPERM), // another ABI
    /* 3 */ stmt(LD_W_ABS, NR),
    /* 4 */ jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
    /* 5 */ stmt(RET, EPERM), // x32
    /* 6 */ jump(JEQ_K, libc::SYS_clone3 as u32, 0, 1),
    /* 7 */ stmt(RET, ENOSYS),
    /* 8 */ jump(JEQ_K, libc::SYS_unshare as u32, 1, 0),
    /* 9 */ jump(JEQ_K, libc::SYS_clone as u32, 0, 2),
    /* 10 */ stmt(LD_W_ABS, ARG0_LOW), // the flags of unshare and clone
    /* 11 */ jump(JSET_K, libc::CLONE_NEWUSER as u32, 1, 0),
    /* 12 */ stmt(RET, SECCOMP_RET_ALLOW),
    /* 13 */ stmt(RET, EPERM),
];

/// Installs the filter on the calling thread (inherited across fork and exec). Needs
/// no_new_privs or CAP_SYS_ADMIN. Returns 0 or -1 with errno set.
pub fn install() -> i32 {
    let prog = sock_fprog {
        len: PROGRAM.len() as u16,
        filter: PROGRAM.as_ptr().cast_mut(),
    };
    // SAFETY: prctl reads the constant program through the pointer during the call only.
    unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as c_ulong,
            &prog as *const sock_fprog as c_ulong,
            0,
            0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a forked child: install, then the forbidden calls fail and ordinary ones work.
    #[test]
    fn user_namespaces_are_refused_and_the_rest_works() {
        // SAFETY: the child only makes system calls and exits with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = unsafe {
                let ok = libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && install() == 0;
                let userns = libc::unshare(libc::CLONE_NEWUSER) == -1
                    && *libc::__errno_location() == libc::EPERM;
                let clone3 = libc::syscall(libc::SYS_clone3, 0usize, 0usize) == -1
                    && *libc::__errno_location() == libc::ENOSYS;
                let user_clone = libc::syscall(
                    libc::SYS_clone,
                    (libc::CLONE_NEWUSER | libc::SIGCHLD) as c_ulong,
                    0,
                    0,
                    0,
                    0,
                ) == -1
                    && *libc::__errno_location() == libc::EPERM;
                let getpid = libc::getpid() > 0;
                // A plain fork still works (clone without CLONE_NEWUSER).
                let child = libc::syscall(libc::SYS_clone, libc::SIGCHLD as c_ulong, 0, 0, 0, 0);
                if child == 0 {
                    libc::_exit(7);
                }
                let mut status = 0;
                let forked = child > 0
                    && libc::waitpid(child as i32, &mut status, 0) > 0
                    && libc::WEXITSTATUS(status) == 7;
                if ok && userns && clone3 && user_clone && getpid && forked {
                    0
                } else {
                    1
                }
            };
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status:#x}"
        );
    }
}
