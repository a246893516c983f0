//! Terminal window sizes.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// Give the pty behind `to` the window size of the terminal `from`; nothing
/// happens when `from` is not a terminal.
pub fn copy_winsize(from: BorrowedFd<'_>, to: &OwnedFd) {
    // SAFETY: winsize is plain old data; the ioctls read and write it and
    // fail harmlessly on a non-terminal.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}
