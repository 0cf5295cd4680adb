//! Credentials and capabilities: Docker's capability set in the bounding, effective and
//! permitted sets (for root; a user other than root keeps none), empty ambient and inheritable
//! sets, then the user and groups.

use std::os::fd::RawFd;

use libc::c_ulong;

use super::{check, errno};
use crate::process::plan::ChildPlan;
use crate::process::sync::Step;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Shrinks the bounding set and clears the ambient set; needs CAP_SETPCAP, so before setuid.
fn drop_bounding_caps(plan: &ChildPlan) -> i32 {
    for cap in 0..=plan.last_cap {
        // SAFETY: prctl with plain integer arguments.
        let dropped = plan.caps & (1u64 << cap) != 0
            || unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong, 0, 0, 0) } == 0;
        // EINVAL: a capability this kernel does not know.
        if !dropped && errno() != libc::EINVAL {
            return -1;
        }
    }
    let clear_all = libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong;
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_CAP_AMBIENT, clear_all, 0, 0, 0) }
}

/// Sets the effective, permitted and inheritable sets.
fn capset3(effective: u64, permitted: u64, inheritable: u64) -> i32 {
    let half = |v: u64, hi: bool| if hi { (v >> 32) as u32 } else { v as u32 };
    let data = [false, true].map(|hi| CapData {
        effective: half(effective, hi),
        permitted: half(permitted, hi),
        inheritable: half(inheritable, hi),
    });
    let hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and two data records on the stack, as capset(2) expects for version 3.
    unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) as i32 }
}

/// Sets effective and permitted to `caps`, inheritable empty. For a user other than root, setuid
/// has emptied effective and permitted but not inheritable (capabilities(7)): the host's
/// inheritable set would stay, and an exec of a file with inheritable file capabilities would
/// gain them. So this runs for every user, with `caps` 0 for one that is not root.
fn capset(caps: u64) -> i32 {
    let lo = caps as u32;
    let hi = (caps >> 32) as u32;
    let data = [
        CapData {
            effective: lo,
            permitted: lo,
            inheritable: 0,
        },
        CapData {
            effective: hi,
            permitted: hi,
            inheritable: 0,
        },
    ];
    let hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    // SAFETY: header and two data records on the stack, as capset(2) expects for version 3.
    unsafe { libc::syscall(libc::SYS_capset, &hdr, data.as_ptr()) as i32 }
}

/// Bounding set, groups, gid, uid, then the effective and permitted sets.
///
/// Raw syscalls, not the glibc wrappers: those apply the change to every thread of the process
/// (POSIX semantics) by signalling each thread glibc knows of and waiting for it. In this copy
/// of a multi-threaded host the other threads do not exist, so the wrapper would wait forever.
/// The kernel's calls change just this thread, which is all there is.
pub(super) fn drop_privileges(plan: &ChildPlan, sock: RawFd) {
    check(sock, Step::Capabilities, 0, drop_bounding_caps(plan));
    if plan.cap_sets.is_some() {
        // The OCI sets survive the change of user (then set exactly, below).
        // SAFETY: plain prctl.
        check(sock, Step::Capabilities, 1, unsafe {
            libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0)
        });
    }
    let groups = plan.groups.as_ptr();
    // SAFETY: a pointer to plan.groups.len() gids owned by the plan.
    let rc = unsafe { libc::syscall(libc::SYS_setgroups, plan.groups.len(), groups) };
    check(sock, Step::Setgroups, 0, rc as i32);
    let gid = plan.gid;
    // SAFETY: plain syscall with integer arguments.
    let rc = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    check(sock, Step::Setgid, 0, rc as i32);
    let uid = plan.uid;
    // SAFETY: plain syscall with integer arguments.
    let rc = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    check(sock, Step::Setuid, 0, rc as i32);
    let Some(sets) = &plan.cap_sets else {
        let caps = if plan.uid == 0 { plan.caps } else { 0 };
        check(sock, Step::Capabilities, 0, capset(caps));
        return;
    };
    let b = plan.caps;
    let rc = capset3(sets.effective & b, sets.permitted & b, sets.inheritable & b);
    check(sock, Step::Capabilities, 2, rc);
    for cap in 0..=plan.last_cap {
        if sets.ambient & b & (1u64 << cap) != 0 {
            let raise = libc::PR_CAP_AMBIENT_RAISE as c_ulong;
            // SAFETY: prctl with plain integer arguments.
            let rc = unsafe { libc::prctl(libc::PR_CAP_AMBIENT, raise, cap as c_ulong, 0, 0) };
            check(sock, Step::Capabilities, 3, rc);
        }
    }
}
