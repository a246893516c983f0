//! pidfds: a handle on a process that a recycled pid can never fool.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

/// A pidfd for `pid`, or None when there is no such process.
pub fn open(pid: i32) -> Result<Option<OwnedFd>, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return match Errno::last() {
            Errno::ESRCH => Ok(None),
            e => Err(e),
        };
    }
    // SAFETY: the fd was just returned to us and is owned by nobody else.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

/// Send `sig` to the process; a process that has already exited is no error.
pub fn send_signal(pidfd: &OwnedFd, sig: Signal) -> Result<(), Errno> {
    // SAFETY: pidfd_send_signal on a pidfd we own; no siginfo is passed.
    let rc = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), sig as i32, std::ptr::null::<u8>(), 0)
    };
    match rc {
        0 => Ok(()),
        _ => match Errno::last() {
            Errno::ESRCH => Ok(()),
            e => Err(e),
        },
    }
}

/// Block until the process has exited (the pidfd polls readable then).
pub fn wait_exit(pidfd: &OwnedFd) -> Result<(), Errno> {
    wait_exit_timeout(pidfd, None).map(|_| ())
}

/// Block until the process has exited or `timeout` has passed; true when it exited.
pub fn wait_exit_timeout(pidfd: &OwnedFd, timeout: Option<Duration>) -> Result<bool, Errno> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    loop {
        let wait = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now()).as_millis().min(i32::MAX as u128) as i32;
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
        };
        match poll(&mut fds, wait) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
        }
    }
}
