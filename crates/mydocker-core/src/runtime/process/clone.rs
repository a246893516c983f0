//! clone3 with fork semantics (no new stack) into new namespaces, with a
//! pidfd for the child so that waiting and signalling never race a recycled pid.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::unistd::Pid;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

pub enum Forked {
    Parent { pid: Pid, pidfd: OwnedFd },
    Child,
}

/// Fork into the namespaces named by `namespace_flags` (CLONE_NEW*).
///
/// The caller must be single-threaded: the child continues with a copy of
/// the whole address space, as after fork(2).
pub fn fork_into(namespace_flags: libc::c_int) -> Result<Forked, Errno> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: (namespace_flags as u64) | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    // SAFETY: clone3 with a zero stack behaves as fork: the child runs on a
    // copy of our stack. `args` outlives the call and its size is passed.
    // The process is single-threaded (the CLI never starts threads), so the
    // child's copy of every lock is unlocked.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: Pid::from_raw(pid as i32),
            // SAFETY: CLONE_PIDFD stored a new fd that nobody else owns.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}
