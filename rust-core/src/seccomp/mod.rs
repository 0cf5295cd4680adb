//! Seccomp profiles and their compiler: Docker's default profile, profiles in Docker's and in the
//! OCI format, compiled to classic BPF in the parent and installed by the child.
//!
//! ```text
//! docker_default(caps), load_docker_json(bytes, caps)   Docker's format -> Profile (OCI-shaped)
//! config.json's linux.seccomp (oci-spec)                 is a Profile already
//! compile(&profile) -> Program                           in the parent, before clone
//! program.install()                                      in the child: one system call
//! ```
//!
//! `docker_default_program(caps)` is `compile(&docker_default(caps))`, cached per process.
//!
//! # The compiler: our own, on purpose
//!
//! The BPF is generated here (`compile.rs`, a small assembler for classic BPF), in pure Rust,
//! so building the library still needs nothing but the Rust toolchain and gcc. The `libseccomp`
//! crate would need libseccomp-dev at build time and `-lseccomp` on every C program that links
//! the static library, which breaks that promise. seccompiler (rust-vmm, Firecracker's, pure
//! Rust) was the first choice and was tried: it has one match action per filter, so a profile
//! with several actions becomes a stack of filters installed by several seccomp() calls, and
//! each filter already installed judges the seccomp() calls that install the next. An
//! allow-list that leaves `seccomp` out (common in hand-written OCI profiles) then cannot be
//! installed at all (the second call failed with the profile's errno), and no installation
//! order fixes that for every profile. So, as libseccomp does, one filter holds every action:
//!
//! - a guard: a foreign ABI kills the process (below);
//! - a binary search over runs of call numbers that share one outcome (Docker's allow-list is a
//!   few dozen runs: 236 instructions in all, about 15 to a decision);
//! - for a call whose entries look at arguments, a block that tries the entries from the
//!   highest-precedence action down (KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, TRACE, LOG, ALLOW;
//!   profile order among equals), returns the first that holds, and else the default.
//!
//! So a call gets the most restrictive action among the entries it matches, or the default when
//! it matches none. Installing is one seccomp() call, with one filter to run per system call
//! (and the kernel's cache skips it for the calls allowed whatever their arguments). NOTIFY is
//! refused: it needs a seccomp agent (a listener socket and a supervisor) that this runtime does
//! not have.
//!
//! # Meaning of a profile, as runc and libseccomp give it
//!
//! - Actions: ALLOW, ERRNO, KILL (= KILL_THREAD, as in libseccomp), KILL_THREAD, KILL_PROCESS,
//!   TRAP, TRACE, LOG. errnoRet (and defaultErrnoRet) is the errno of ERRNO and the message of
//!   TRACE, EPERM when absent, and an error with any other action.
//! - Arguments are compared as 64-bit values: EQ, NE, LT, LE, GT, GE against `value`, and
//!   MASKED_EQ as `(arg & value) == valueTwo` (a valueTwo with bits outside the mask can never
//!   match; such a rule is dropped). Like libseccomp's, a comparison sees all 64 bits, also for an
//!   argument the kernel truncates to `int`.
//! - The arguments of one entry must all hold; when an entry names the same argument twice, each
//!   of its comparisons becomes a rule of its own (any one of them suffices), as runc does.
//! - An entry whose action equals the default action is dropped (libseccomp refuses it, runc skips
//!   it). Names this architecture does not know are skipped, as libseccomp does; `Program::skipped`
//!   lists them. An unknown action, operator, architecture or flag is an error naming it.
//! - Flags: SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW and _TSYNC are passed with the filter;
//!   _WAIT_KILLABLE_RECV is refused (it only means something with NOTIFY). `architectures`
//!   and `listenerPath` do not change the filter.
//!
//! # What is always refused
//!
//! Rules are compiled for the native architecture only (x86_64; aarch64 via cfg): a system call
//! of a foreign ABI (i386's `int 0x80`, x32's numbers on x86_64, AArch32 on aarch64) kills the
//! process, as libseccomp's bad-arch action does, even when the profile lists SCMP_ARCH_X86 or
//! SCMP_ARCH_X32 (Docker's does): letting those numbers through would bypass every rule. So a
//! 32-bit binary is killed by SIGSYS at its first system call (exit status 159), where Docker,
//! whose libseccomp filters the i386 numbers too, would run it.
//!
//! The minimal filter's refusals stay unless the profile covers the call (names it in any entry):
//! clone3 fails with ENOSYS (a filter cannot read its flags, and libc falls back to clone on
//! ENOSYS), and unshare and clone with CLONE_NEWUSER fail with EPERM (root in a container holds
//! CAP_SETFCAP, which lets it map uid 0 into a new user namespace). Docker's profile covers all
//! three itself: clone3 gets ENOSYS and clone may not create namespaces unless CAP_SYS_ADMIN is in
//! the set, in which case both are allowed, as in Docker.
//!
//! # Docker's format
//!
//! `load_docker_json` reads moby's format, a superset of the OCI one, so it takes plain
//! OCI-shaped JSON too: `archMap` (the native entry's architecture and sub-architectures become
//! `architectures`), `name` as well as `names`, and per entry `includes`/`excludes` with `caps`
//! (checked against the container's capability set: includes needs all, excludes any),
//! `arches` (the native architecture in moby's naming: amd64, arm64) and `minKernel` (against the
//! running kernel). The result is an OCI-shaped [`Profile`].
//!
//! # Using it
//!
//! - The capability set passed to the loaders is the one the container's process ends with
//!   (Docker checks its bounding set; here bounding = effective = permitted).
//! - `seccomp=unconfined` means no Program at all, as in Docker (which also lifts the minimal
//!   filter's refusals); to keep those, compile `{"defaultAction": "SCMP_ACT_ALLOW"}`.
//! - The filter judges the child's own later calls too: install it last before execve (as runc
//!   does), after which only the calls the profile allows (Docker's allows chdir, close_range,
//!   write, execve) can report or continue.
//!
//! # Cost
//!
//! Measured on the development VM, release build, fresh process (what one docker-run start
//! pays): parsing, resolving and compiling Docker's default profile 0.18-0.25 ms (0.11 ms when
//! warm, of which compile 0.04 ms), installing its filter in the child 0.06-0.09 ms.
//! [`docker_default_program`] keeps the compiled program per capability set for the life of the
//! process (0.002 ms from then on), for C hosts that start many containers. `cost` in the tests
//! prints the numbers for another machine.
//!
//! # Attribution
//!
//! `default.json` is moby's `profiles/seccomp/default.json` (https://github.com/moby/moby),
//! Copyright Docker, Inc., licensed under the Apache License, Version 2.0
//! (https://www.apache.org/licenses/LICENSE-2.0). It is embedded unchanged; this is the version
//! that blocks io_uring (moby#46762).

mod compile;
mod docker;
mod syscalls;
#[cfg(test)]
mod tests;

pub use compile::{Program, compile};
pub use docker::{
    CAPABILITIES, capability, docker_default, docker_default_program, load_docker_json,
};

/// A seccomp profile in the OCI runtime specification's shape (config.json's `linux.seccomp`).
pub type Profile = oci_spec::runtime::LinuxSeccomp;

/// What was wrong with a seccomp profile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("seccomp profile is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("seccomp profile: unknown action {0:?}")]
    UnknownAction(String),
    #[error("seccomp profile: unknown argument operator {0:?}")]
    UnknownOperator(String),
    #[error("seccomp profile: unknown architecture {0:?}")]
    UnknownArch(String),
    #[error("seccomp profile: unknown flag {0:?}")]
    UnknownFlag(String),
    #[error("seccomp profile: unknown capability {0:?}")]
    UnknownCapability(String),
    #[error("seccomp profile: minKernel {0:?} is not a kernel version such as \"4.8\"")]
    KernelVersion(String),
    #[error("seccomp profile: both 'architectures' and 'archMap' are given; use one")]
    ArchitecturesAndArchMap,
    #[error("seccomp profile: syscall entry {index} has both 'name' and 'names'; use one")]
    NameAndNames { index: usize },
    #[error("seccomp profile: syscall entry {index} names no system call")]
    NoNames { index: usize },
    #[error(
        "seccomp profile: {action} is not supported (it needs a seccomp agent at listenerPath)"
    )]
    Notify { action: &'static str },
    #[error("seccomp profile: flag {0} is not supported (it only applies to SCMP_ACT_NOTIFY)")]
    UnsupportedFlag(&'static str),
    #[error(
        "seccomp profile: {what}: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {action}"
    )]
    ErrnoRetNotAllowed { what: String, action: String },
    #[error("seccomp profile: {what}: errnoRet {value} is out of range (at most {max})")]
    ErrnoRetRange { what: String, value: u32, max: u32 },
    #[error("seccomp profile: rule for {syscall}: argument index {index} is out of range (0..=5)")]
    ArgIndex { syscall: String, index: usize },
    #[error(
        "seccomp profile compiles to {instructions} BPF instructions, more than the kernel takes ({max})"
    )]
    TooLarge { instructions: usize, max: usize },
    #[error("seccomp: no system call table for this architecture ({0})")]
    UnsupportedArch(&'static str),
    #[error("seccomp compiler: {0}")]
    Compiler(String),
}
