//! The monitor of a detached container: a small process of its own session
//! (and child subreaper) that owns the container. It writes the container's
//! stdout and stderr to container.log, line by line with stream and time,
//! waits for the exit, records the exit code and finish time, and honours
//! --rm. The `run -d` that forked it returns once the container runs.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use mydocker_state::log::Stream;
use mydocker_cgroups::CgroupManager;
use mydocker_state::lock::FileLock;
use mydocker_state::ContainerRecord;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use super::launch::LOG_FILE;
use super::output::{open_log, Outputs};
use super::Engine;
use crate::runtime::process::clone::{fork_into, Forked};
use crate::runtime::{self, dev_null, wait, Running, Stdio};
use crate::CoreError;

/// Fork the monitor; return once it reports the container running (or why not).
/// `lock`: the container's lock, when the caller holds it; it is released
/// once the monitor has reported.
pub(crate) fn launch_detached(
    engine: &Engine,
    rec: ContainerRecord,
    spec: &Spec,
    dir: &Path,
    lock: Option<FileLock>,
    cgroup: Option<Box<dyn CgroupManager>>,
) -> Result<i32, CoreError> {
    let (report_r, report_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(CoreError::sys("making a pipe"))?;
    match fork_into(0).map_err(CoreError::sys("forking the container's monitor"))? {
        Forked::Child => {
            drop(report_r);
            let lock_held = lock.is_some();
            // The lock stays our caller's; were our copy kept, a lock taken
            // by this process later (to record an end) would wait for itself.
            if let Some(l) = lock {
                l.close_inherited();
            }
            monitor(engine, rec, spec, dir, report_w, lock_held, cgroup)
        }
        Forked::Parent { .. } => {
            drop(report_w);
            let mut report = String::new();
            std::fs::File::from(report_r)
                .read_to_string(&mut report)
                .map_err(CoreError::io("reading the monitor's report"))?;
            parse_report(&report)
        }
    }
}

fn parse_report(report: &str) -> Result<i32, CoreError> {
    if report == "ok" {
        return Ok(0);
    }
    match report.split_once(' ') {
        Some((code, message)) => Err(CoreError::Init {
            message: message.to_string(),
            code: code.parse().unwrap_or(125),
        }),
        None => Err(CoreError::Init {
            message: "the container's monitor died before the container started".into(),
            code: 125,
        }),
    }
}

/// The monitor process. Never returns.
fn monitor(
    engine: &Engine,
    mut rec: ContainerRecord,
    spec: &Spec,
    dir: &Path,
    report: OwnedFd,
    lock_held: bool,
    cgroup: Option<Box<dyn CgroupManager>>,
) -> ! {
    let mut report = std::fs::File::from(report);
    let outcome = (|| -> Result<(Running, Vec<(OwnedFd, Stream)>), CoreError> {
        detach_from_caller()?;
        let terminal = spec.process().as_ref().and_then(|p| p.terminal()).unwrap_or(false);
        let mut outputs = Vec::new();
        let stdio = if terminal {
            Stdio { stdin: Some(dev_null()?), ..Default::default() }
        } else {
            let (out_r, out_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(CoreError::sys("making a pipe"))?;
            let (err_r, err_w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(CoreError::sys("making a pipe"))?;
            outputs.push((out_r, Stream::Stdout));
            outputs.push((err_r, Stream::Stderr));
            Stdio { stdin: Some(dev_null()?), stdout: Some(out_w), stderr: Some(err_w) }
        };
        // The log exists before `run -d` returns, so that a `logs -f` at
        // once follows it rather than finding nothing.
        drop(open_log(&dir.join(LOG_FILE))?);
        let created = runtime::create(spec, dir, stdio, cgroup)?;
        let me = std::process::id() as i32;
        let mut running = engine.record_started(&mut rec, created, me, lock_held)?;
        if let Some(master) = running.pty.take() {
            outputs.push((master, Stream::Stdout));
        }
        Ok((running, outputs))
    })();
    let (running, outputs) = match outcome {
        Ok(r) => r,
        Err(e) => {
            let _ = write!(report, "{} {}", e.exit_code(), e);
            drop(report);
            if rec.status == mydocker_state::Status::Running {
                rec.exit_code = Some(e.exit_code());
                let _ = engine.finish(rec, dir);
            }
            exit(1)
        }
    };
    let _ = report.write_all(b"ok");
    drop(report);

    // The rest is a small program of its own (what the CLI touched before
    // this fork would otherwise stay resident); only if it cannot be found
    // or run does this process go on watching.
    let watch = Watch { pid: running.pid, pidfd: running.pidfd, outputs };
    let watch = match exec_small_monitor(engine.root(), &rec.id, watch) {
        Ok(never) => match never {},
        Err((e, watch)) => {
            log::warn!("container {}: watching in place: {e}", rec.name);
            watch
        }
    };
    exit(watch_and_finish(engine, rec, dir, watch))
}

/// What the monitor watches: the container's PID 1 (its child) and the
/// read ends of its output.
pub struct Watch {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    pub outputs: Vec<(OwnedFd, Stream)>,
}

/// The name of the small monitor program, installed beside `mydocker`.
pub const MONITOR_BIN: &str = "mydocker-monitor";

enum Never {}

/// Replace this process with `mydocker-monitor ROOT ID PID PIDFD STREAM:FD...`.
/// The container stays our child across exec; its fds are passed open.
fn exec_small_monitor(root: &Path, id: &str, watch: Watch) -> Result<Never, (CoreError, Watch)> {
    let fail = |e: CoreError, w: Watch| Err((e, w));
    let exe = match std::env::current_exe() {
        Ok(p) => p.with_file_name(MONITOR_BIN),
        Err(e) => return fail(CoreError::io("finding mydocker's own path")(e), watch),
    };
    let mut args = vec![
        exe.display().to_string(),
        root.display().to_string(),
        id.to_string(),
        watch.pid.as_raw().to_string(),
        watch.pidfd.as_raw_fd().to_string(),
    ];
    for (fd, stream) in &watch.outputs {
        let name = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        args.push(format!("{name}:{}", fd.as_raw_fd()));
    }
    let keep = std::iter::once(watch.pidfd.as_raw_fd()).chain(watch.outputs.iter().map(|(fd, _)| fd.as_raw_fd()));
    for fd in keep {
        if let Err(e) = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty())) {
            return fail(CoreError::sys("passing fds to the monitor")(e), watch);
        }
    }
    let cargs: Result<Vec<std::ffi::CString>, _> = args.iter().map(|a| std::ffi::CString::new(a.as_str())).collect();
    let Ok(cargs) = cargs else {
        return fail(CoreError::Invalid("a monitor argument holds a NUL byte".into()), watch);
    };
    let err = match nix::unistd::execv(&cargs[0], &cargs) {
        Err(e) => e,
        Ok(never) => match never {},
    };
    fail(CoreError::sys(format!("running {}", exe.display()))(err), watch)
}

/// `mydocker-monitor ROOT ID PID PIDFD STREAM:FD...`: take over watching a
/// container from the monitor that started it. Returns the process exit code.
pub fn resume(args: &[String]) -> i32 {
    match resume_args(args) {
        Ok((root, id, watch)) => match Engine::open(&root).and_then(|e| {
            let rec = e.containers.load_raw(&id)?;
            let dir = e.containers.dir(&id);
            Ok((e, rec, dir))
        }) {
            Ok((engine, rec, dir)) => watch_and_finish(&engine, rec, &dir, watch),
            Err(e) => {
                eprintln!("mydocker-monitor: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("mydocker-monitor: {e}");
            2
        }
    }
}

fn resume_args(args: &[String]) -> Result<(PathBuf, String, Watch), String> {
    let usage = || "usage: mydocker-monitor ROOT ID PID PIDFD STREAM:FD... (started by mydocker run -d)".to_string();
    let [root, id, pid, pidfd, streams @ ..] = args else { return Err(usage()) };
    let fd = |s: &str| -> Result<OwnedFd, String> {
        let raw: RawFd = s.parse().map_err(|_| usage())?;
        // The fd must be open: it was passed across exec by our parent.
        nix::fcntl::fcntl(raw, nix::fcntl::FcntlArg::F_GETFD).map_err(|e| format!("fd {raw}: {e}"))?;
        // SAFETY: the fd is open, was handed to this process to own, and is
        // wrapped once.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    };
    let mut outputs = Vec::new();
    for s in streams {
        let (name, raw) = s.split_once(':').ok_or_else(usage)?;
        let stream = match name {
            "stdout" => Stream::Stdout,
            "stderr" => Stream::Stderr,
            _ => return Err(usage()),
        };
        outputs.push((fd(raw)?, stream));
    }
    let pid = Pid::from_raw(pid.parse().map_err(|_| usage())?);
    Ok((PathBuf::from(root), id.clone(), Watch { pid, pidfd: fd(pidfd)?, outputs }))
}

/// Write the log until the container ends, reap it, record the end.
fn watch_and_finish(engine: &Engine, mut rec: ContainerRecord, dir: &Path, watch: Watch) -> i32 {
    // The monitor lives as long as the container: keep resident only what
    // its loop uses.
    crate::runtime::process::trim::drop_clean_file_pages();
    if let Err(e) = pump_logs(&dir.join(LOG_FILE), &watch.pidfd, watch.outputs) {
        log::error!("container {}: writing its log: {e}", rec.name);
    }
    rec.exit_code = wait::reap(watch.pid).ok();
    match engine.finish(rec, dir) {
        Ok(()) => 0,
        Err(e) => {
            log::error!("recording the end of a container: {e}");
            1
        }
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the monitor without running the CLI's exit path twice.
    unsafe { libc::_exit(code) }
}

/// A session of its own, stdio on /dev/null (so that `$(mydocker run -d ..)`
/// is not held open), and the container's orphans reparented to us.
fn detach_from_caller() -> Result<(), CoreError> {
    nix::unistd::setsid().map_err(CoreError::sys("setsid"))?;
    nix::sys::prctl::set_child_subreaper(true).map_err(CoreError::sys("becoming a subreaper"))?;
    let null = dev_null()?;
    for fd in 0..=2 {
        nix::unistd::dup2(null.as_raw_fd(), fd).map_err(CoreError::sys("redirecting stdio"))?;
    }
    Ok(())
}

/// Copy the container's output into its log until the container ends.
fn pump_logs(path: &Path, pidfd: &OwnedFd, outputs: Vec<(OwnedFd, Stream)>) -> Result<(), CoreError> {
    let mut outs = Outputs::new(Some(open_log(path)?), false);
    for (fd, stream) in outputs {
        outs.add(fd, stream);
    }
    while outs.any_open() {
        let open = outs.open_fds();
        let mut fds: Vec<PollFd> = open.iter().map(|(_, fd)| PollFd::new(*fd, PollFlags::POLLIN)).collect();
        fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(CoreError::sys("waiting for output")(e)),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().map(|r| !r.is_empty()).unwrap_or(false)).collect();
        let which: Vec<usize> = open.iter().map(|(i, _)| *i).collect();
        drop(fds);
        drop(open);
        if ready[which.len()] {
            return outs.drain();
        }
        for (k, i) in which.into_iter().enumerate() {
            if ready[k] {
                outs.read_once(i)?;
            }
        }
    }
    Ok(())
}
