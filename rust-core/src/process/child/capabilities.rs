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
    let caps = if plan.uid == 0 { plan.caps } else { 0 };
    check(sock, Step::Capabilities, 0, capset(caps));
}
