//! A minimal init as PID 1 (`--init`, and the first process of every exec): runs the command as
//! its child, forwards signals to it, reaps every zombie and exits with the command's status
//! (128+signal when it was killed).

use std::os::fd::RawFd;

use super::{exec, exit, fail};
use crate::process::clone::{Forked, clone};
use crate::process::plan::ChildPlan;
use crate::process::sync::Step;

/// Forks the command and stays its init. Never returns.
pub(super) fn run(plan: &ChildPlan, sock: RawFd) -> ! {
    // This process never execs: it stays the host's binary for the container's whole life, so
    // keep /proc/<pid>/exe and its memory out of the container's reach.
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Signals stay blocked here (reset_signals) and are collected with sigwaitinfo.
    let pid = match clone(0) {
        Err(e) => fail(sock, Step::InitFork, 0, e as i32),
        Ok(Forked::Child) => {
            // Its own process group, in the foreground of the terminal: a Ctrl-C typed there
            // must reach the command once, not also this init (which would forward it again).
            // SAFETY: plain syscalls; SIGTTOU is still blocked, so tcsetpgrp cannot stop us.
            unsafe {
                libc::setpgid(0, 0);
                if plan.terminal {
                    libc::tcsetpgrp(0, libc::getpid());
                }
            }
            exec(plan, sock)
        }
        Ok(Forked::Parent(pid)) => pid,
    };
    // The command reports exec errors itself; EOF must come from its exec, not from us. This
    // process never execs, so close-on-exec does not apply to it: close every inherited fd
    // above stdio (the host's descriptors, other containers' sync sockets) by hand.
    // SAFETY: plain syscall on a range of descriptors.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0) };
    forward_and_reap(pid)
}

/// Forwards every signal but SIGCHLD to `pid`, reaps every child, and exits with `pid`'s status.
fn forward_and_reap(pid: libc::pid_t) -> ! {
    // SAFETY: sigset_t is plain data; sigfillset initialises it.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: a stack sigset.
    unsafe { libc::sigfillset(&mut all) };
    loop {
        // SAFETY: siginfo_t is plain data.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a stack sigset and siginfo.
        let sig = unsafe { libc::sigwaitinfo(&all, &mut info) };
        if sig < 0 {
            continue;
        }
        if sig != libc::SIGCHLD {
            // SAFETY: forwarding to our own child.
            unsafe { libc::kill(pid, sig) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: reaping any child of ours into a stack int.
            let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if r <= 0 {
                break;
            }
            if r == pid {
                // Leaving PID 1 ends the namespace.
                exit(if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                });
            }
        }
    }
}
