//! Child processes with time limits: every mydocker the tests start ends in
//! bounded time, killed by its pid if it overstays.

use std::fmt;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished command did.
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The exit code; fails the test if mydocker itself died of a signal.
    pub fn code(&self) -> i32 {
        match self.status.code() {
            Some(c) => c,
            None => panic!("mydocker itself was killed ({:?})\n{self}", self.status),
        }
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Fail the test, showing the whole command, unless it exited with `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.status.code(), Some(code), "wrong exit code\n{self}");
        self
    }

    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Fail unless it exited non-zero.
    pub fn assert_failure(&self) -> &Self {
        assert!(matches!(self.status.code(), Some(c) if c != 0), "expected a failure\n{self}");
        self
    }

    /// stdout as lines, each trimmed of trailing `\r` and spaces.
    pub fn lines(&self) -> Vec<String> {
        self.stdout.lines().map(|l| l.trim_end().to_string()).collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "status:  {:?}", self.status)?;
        writeln!(f, "stdout:\n{}", indent(&self.stdout))?;
        write!(f, "stderr:\n{}", indent(&self.stderr))
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn indent(s: &str) -> String {
    if s.is_empty() {
        return "    (empty)".into();
    }
    s.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

/// One output stream, read by a thread into a buffer the test can look at
/// while the process still runs.
struct Capture {
    buf: Mutex<Vec<u8>>,
    done: AtomicBool,
}

impl Capture {
    fn start(mut from: impl Read + Send + 'static) -> Arc<Capture> {
        let cap = Arc::new(Capture { buf: Mutex::new(Vec::new()), done: AtomicBool::new(false) });
        let c = Arc::clone(&cap);
        thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            loop {
                match from.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => c.buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            c.done.store(true, Ordering::SeqCst);
        });
        cap
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }
}

/// A mydocker process still running. Dropping it kills it (by its pid).
pub struct Running {
    command: String,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    out: Arc<Capture>,
    err: Arc<Capture>,
}

impl Running {
    /// Start `cmd` with stdout and stderr captured; `stdin` as given.
    pub fn spawn(cmd: Command, stdin: Stdio) -> Running {
        Self::try_spawn(cmd, stdin).unwrap_or_else(|e| panic!("{e}"))
    }

    pub(crate) fn try_spawn(mut cmd: Command, stdin: Stdio) -> Result<Running, String> {
        let command = describe(&cmd);
        cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("starting {command}: {e}"))?;
        let out = Capture::start(child.stdout.take().expect("piped stdout"));
        let err = Capture::start(child.stderr.take().expect("piped stderr"));
        let stdin = child.stdin.take();
        Ok(Running { command, child: Some(child), stdin, out, err })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running child").id()
    }

    pub fn stdout_so_far(&self) -> String {
        self.out.text()
    }

    pub fn stderr_so_far(&self) -> String {
        self.err.text()
    }

    /// Write to the process's stdin (it must have been started with a pipe).
    pub fn write_stdin(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is a pipe and still open");
        stdin.write_all(bytes).unwrap_or_else(|e| panic!("writing to stdin of {}: {e}", self.command));
        let _ = stdin.flush();
    }

    /// Close the process's stdin: it reads EOF.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Feed `bytes` to stdin from another thread, then close it.
    pub fn feed_stdin(&mut self, bytes: Vec<u8>) {
        if let Some(mut stdin) = self.stdin.take() {
            thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            });
        }
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Wait until stdout contains `needle`; fail the test after `timeout`.
    pub fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.out.text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline || (!self.is_running() && self.out.is_done()) {
                let what = if self.is_running() { "timed out" } else { "it exited" };
                panic!(
                    "waiting for {needle:?} on stdout of {}: {what}\nstdout:\n{}\nstderr:\n{}",
                    self.command,
                    indent(&text),
                    indent(&self.err.text())
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the process to exit and return what it did; kill it and fail
    /// the test if it takes longer than `timeout`.
    pub fn wait(self, timeout: Duration) -> Output {
        self.wait_result(timeout).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`Running::wait`], but a failure to finish is returned, not a panic
    /// (for cleanup code, which must not panic while a test is panicking).
    pub fn wait_result(mut self, timeout: Duration) -> Result<Output, String> {
        let mut child = self.child.take().expect("running child");
        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{} did not finish within {timeout:?}; killed it (pid {})\nstdout:\n{}\nstderr:\n{}",
                        self.command,
                        child.id(),
                        indent(&self.out.text()),
                        indent(&self.err.text())
                    ));
                }
                Err(e) => return Err(format!("waiting for {}: {e}", self.command)),
            }
        };
        self.stdin = None;
        // The pipes close when every process holding them has gone; a
        // container process outliving mydocker would keep them open.
        let drained = Instant::now() + Duration::from_secs(10);
        while !(self.out.is_done() && self.err.is_done()) {
            if Instant::now() >= drained {
                return Err(format!(
                    "{} exited ({status:?}) but its stdout/stderr stayed open 10s later: \
                     a process it started still holds them\nstdout:\n{}\nstderr:\n{}",
                    self.command,
                    indent(&self.out.text()),
                    indent(&self.err.text())
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(Output { command: self.command.clone(), status, stdout: self.out.text(), stderr: self.err.text() })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            if matches!(child.try_wait(), Ok(None)) {
                // Only the pid we started.
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// Run `cmd` to completion with `stdin` bytes (or /dev/null) within `timeout`.
pub(crate) fn run(cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Output {
    try_run(cmd, stdin, timeout).unwrap_or_else(|e| panic!("{e}"))
}

/// As [`run`], returning failures to start or finish instead of panicking.
pub(crate) fn try_run(cmd: Command, stdin: Option<Vec<u8>>, timeout: Duration) -> Result<Output, String> {
    let mut running = match stdin {
        Some(bytes) => {
            let mut r = Running::try_spawn(cmd, Stdio::piped())?;
            r.feed_stdin(bytes);
            r
        }
        None => Running::try_spawn(cmd, Stdio::null())?,
    };
    running.close_stdin();
    running.wait_result(timeout)
}

/// `prog arg arg`, quoting arguments that need it.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\|&;<>()*?".contains(c)) {
            parts.push(format!("'{}'", a.replace('\'', "'\\''")));
        } else {
            parts.push(a.into_owned());
        }
    }
    parts.join(" ")
}
