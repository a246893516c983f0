//! A foreground container: relay its terminal (with -t), forward the
//! signals mydocker receives, and wait for its end. One poll loop over a
//! signalfd, the container's pidfd, the pty master and stdin; no threads.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{self, SetArg, Termios};

use mydocker_state::log::Stream;

use super::output::Outputs;
use crate::runtime::process::tty::copy_winsize;
use crate::runtime::{wait, Running};
use crate::CoreError;

/// The signals a foreground run forwards to the container (SIGWINCH resizes instead).
pub const FORWARDED: [Signal; 6] =
    [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT, Signal::SIGUSR1, Signal::SIGUSR2];

/// Blocks the forwarded signals (and SIGWINCH) for as long as it lives, so
/// that they queue for the signalfd instead of killing mydocker.
pub struct SignalBlock {
    old: SigSet,
}

impl SignalBlock {
    pub fn new() -> Result<SignalBlock, CoreError> {
        let mut set = SigSet::empty();
        for s in FORWARDED {
            set.add(s);
        }
        set.add(Signal::SIGWINCH);
        let mut old = SigSet::empty();
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
            .map_err(CoreError::sys("blocking signals"))?;
        Ok(SignalBlock { old })
    }

    fn signalfd(&self) -> Result<SignalFd, CoreError> {
        let mut set = SigSet::empty();
        for s in FORWARDED {
            set.add(s);
        }
        set.add(Signal::SIGWINCH);
        SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(CoreError::sys("making a signalfd"))
    }
}

impl Drop for SignalBlock {
    fn drop(&mut self) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.old), None);
    }
}

/// The host terminal in raw mode while attached; restored when dropped.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enter(fd: BorrowedFd<'_>) -> Option<RawMode> {
        let saved = termios::tcgetattr(fd).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(fd, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSAFLUSH, &self.saved);
    }
}

/// Relay and wait; returns the container's exit code (128+N for signal N).
/// `outputs`: the container's output fds mydocker reads (the pty master is
/// added to them here), echoed to our stdout and stderr.
pub(crate) fn wait_attached(
    running: Running,
    signals: &SignalBlock,
    relay_stdin: bool,
    mut outputs: Outputs,
) -> Result<i32, CoreError> {
    let sfd = signals.signalfd()?;
    let stdin = std::io::stdin();
    let stdin_is_tty = termios::tcgetattr(stdin.as_fd()).is_ok();
    let _raw = match (&running.pty, stdin_is_tty && relay_stdin) {
        (Some(_), true) => RawMode::enter(stdin.as_fd()),
        _ => None,
    };
    let mut master_file = None;
    if let Some(master) = &running.pty {
        copy_winsize(stdin.as_fd(), master);
        let dup = |m: &std::os::fd::OwnedFd| m.try_clone().map_err(CoreError::io("duplicating the pty master"));
        outputs.add(dup(master)?, Stream::Stdout);
        master_file = Some(std::fs::File::from(dup(master)?));
    }
    let mut stdin_open = relay_stdin && running.pty.is_some();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let open = outputs.open_fds();
        let mut fds = vec![
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(running.pidfd.as_fd(), PollFlags::POLLIN),
        ];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        let first_output = fds.len();
        fds.extend(open.iter().map(|(_, fd)| PollFd::new(*fd, PollFlags::POLLIN)));
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(CoreError::sys("waiting for the container")(e)),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().map(|r| !r.is_empty()).unwrap_or(false)).collect();
        let readable: Vec<usize> = open.iter().enumerate().filter(|(k, _)| ready[first_output + k]).map(|(_, (i, _))| *i).collect();
        let (sig_ready, exited, stdin_ready) = (ready[0], ready[1], stdin_open && ready[2]);
        drop(fds);
        drop(open);
        if sig_ready {
            while let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig == libc::SIGWINCH {
                    if let Some(m) = &running.pty {
                        copy_winsize(stdin.as_fd(), m);
                    }
                } else if let Ok(s) = Signal::try_from(sig) {
                    let _ = nix::sys::signal::kill(running.target, s);
                }
            }
        }
        for i in readable {
            outputs.read_once(i)?;
        }
        if stdin_ready {
            let n = nix::unistd::read(stdin.as_raw_fd(), &mut buf).unwrap_or(0);
            if n == 0 {
                stdin_open = false;
            } else if let Some(m) = master_file.as_mut() {
                let _ = m.write_all(&buf[..n]);
            }
        }
        if exited {
            // Whatever the container wrote before it ended is still in the
            // pty or the pipes.
            outputs.drain()?;
            return wait::reap(running.pid).map_err(CoreError::sys("reaping the container"));
        }
    }
}
