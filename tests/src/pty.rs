//! A pseudo-terminal standing in for a user's terminal: mydocker runs with
//! the slave as its stdin, stdout, stderr and controlling terminal; the test
//! types into and reads from the master.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A pty pair. Both ends are close-on-exec in this process.
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

fn check(rc: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if rc < 0 {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(rc)
    }
}

impl Pty {
    /// Open a pty whose window is `rows` x `cols`.
    pub fn open(rows: u16, cols: u16) -> Pty {
        Self::try_open(rows, cols).expect("opening a pseudo-terminal")
    }

    fn try_open(rows: u16, cols: u16) -> io::Result<Pty> {
        // SAFETY: plain syscalls; every fd returned is owned at once by an
        // OwnedFd; the name buffer is ours and large enough (its size is passed).
        unsafe {
            let m = check(libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC), "posix_openpt")?;
            let master = OwnedFd::from_raw_fd(m);
            check(libc::grantpt(m), "grantpt")?;
            check(libc::unlockpt(m), "unlockpt")?;
            let mut name = [0 as libc::c_char; 128];
            let rc = libc::ptsname_r(m, name.as_mut_ptr(), name.len());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            let s = check(
                libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC),
                "opening the pty slave",
            )?;
            let slave = OwnedFd::from_raw_fd(s);
            let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
            check(libc::ioctl(m, libc::TIOCSWINSZ, &ws), "TIOCSWINSZ")?;
            Ok(Pty { master, slave })
        }
    }

    /// The terminal settings of the slave (what mydocker sees as its terminal).
    pub fn termios(&self) -> Termios {
        // SAFETY: termios is plain data; tcgetattr fills it from a valid fd.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            check(libc::tcgetattr(self.slave.as_raw_fd(), &mut t), "tcgetattr")
                .expect("reading the terminal's settings");
            Termios(t)
        }
    }

    /// Start `cmd` in a new session whose controlling terminal is the
    /// slave, with the slave as its stdin, stdout and stderr.
    pub fn spawn(&self, mut cmd: Command) -> PtyChild {
        let command = crate::process::describe(&cmd);
        let dup = || Stdio::from(self.slave.try_clone().expect("dup of the pty slave"));
        cmd.stdin(dup()).stdout(dup()).stderr(dup());
        // SAFETY: only async-signal-safe calls (setsid, ioctl) between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("starting {command} on a pty: {e}"));
        PtyChild { command, child: Some(child), output: Vec::new(), master: self.master.as_raw_fd() }
    }
}

/// Terminal settings, compared field by field.
#[derive(Clone, Copy)]
pub struct Termios(pub libc::termios);

impl Termios {
    pub fn is_raw(&self) -> bool {
        self.0.c_lflag & (libc::ICANON | libc::ECHO) == 0
    }
}

impl PartialEq for Termios {
    fn eq(&self, o: &Termios) -> bool {
        let (a, b) = (&self.0, &o.0);
        a.c_iflag == b.c_iflag
            && a.c_oflag == b.c_oflag
            && a.c_cflag == b.c_cflag
            && a.c_lflag == b.c_lflag
            && a.c_line == b.c_line
            && a.c_cc == b.c_cc
            && a.c_ispeed == b.c_ispeed
            && a.c_ospeed == b.c_ospeed
    }
}

impl std::fmt::Debug for Termios {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = &self.0;
        write!(
            f,
            "termios {{ iflag: {:#o}, oflag: {:#o}, cflag: {:#o}, lflag: {:#o}, cc: {:?} }}",
            t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag, t.c_cc
        )
    }
}

/// mydocker running on the pty. Dropping it kills it (by its pid).
pub struct PtyChild {
    command: String,
    child: Option<Child>,
    /// Everything read from the master so far.
    pub output: Vec<u8>,
    master: libc::c_int,
}

impl PtyChild {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    /// Type `bytes` into the terminal.
    pub fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: writes from a live slice to the master fd, which the Pty owns.
            let n = unsafe { libc::write(self.master, rest.as_ptr().cast(), rest.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                panic!("writing to the pty master: {e}");
            }
            rest = &rest[n as usize..];
        }
    }

    /// Read what is there within `wait`; returns false if nothing came.
    fn read_some(&mut self, wait: Duration) -> bool {
        let mut pfd = libc::pollfd { fd: self.master, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as libc::c_int) };
        if rc <= 0 || pfd.revents & libc::POLLIN == 0 {
            return false;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: reads into a live buffer of the given length.
        let n = unsafe { libc::read(self.master, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return false;
        }
        self.output.extend_from_slice(&buf[..n as usize]);
        true
    }

    /// Read until the output holds `needle`; kill and fail after `timeout`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.text().contains(needle) {
            if Instant::now() >= deadline || self.exited() {
                // One last read for what came with the exit.
                while self.read_some(Duration::from_millis(100)) {}
                if self.text().contains(needle) {
                    return;
                }
                let why = if self.exited() { "mydocker exited" } else { "timed out" };
                self.kill();
                panic!(
                    "waiting for {needle:?} on the terminal of {}: {why}\nterminal output: {:?}",
                    self.command,
                    self.text()
                );
            }
            self.read_some(Duration::from_millis(50));
        }
    }

    fn exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            let _ = c.wait();
        }
    }

    /// Wait for mydocker to exit, reading the terminal all the while; kill
    /// it and fail the test after `timeout`.
    pub fn finish(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().expect("a running child");
        let status = loop {
            self.read_some(Duration::from_millis(20));
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => {}
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{} did not exit within {timeout:?}; killed it (pid {})\nterminal output: {:?}",
                        self.command,
                        child.id(),
                        self.text()
                    );
                }
            }
        };
        while self.read_some(Duration::from_millis(100)) {}
        status
    }
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Lines of terminal output, without `\r`.
pub fn lines(text: &str) -> Vec<String> {
    text.split('\n').map(|l| l.trim_end_matches('\r').trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_on_the_pty_sees_a_terminal_of_its_size() {
        let term = Pty::open(40, 100);
        let before = term.termios();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "stty size; test -t 0 && echo is-a-tty; read x; echo got-$x; stty raw -echo; exit 4"]);
        let mut run = term.spawn(cmd);
        run.wait_for("is-a-tty", Duration::from_secs(10));
        run.write(b"typed\n");
        let status = run.finish(Duration::from_secs(10));
        assert_eq!(status.code(), Some(4));
        let lines = lines(&run.text());
        assert!(lines.iter().any(|l| l == "40 100"), "{lines:?}");
        assert!(lines.iter().any(|l| l == "got-typed"), "{lines:?}");
        // `stty raw -echo` changed the terminal: the comparison notices.
        assert!(term.termios() != before);
        assert!(term.termios().is_raw());
    }
}
