//! Starting a container whose record and Spec are ready: in the foreground
//! (mydocker waits and records the end) or detached (a monitor process does).
//! Used by run and start.

use std::path::Path;

use mydocker_cgroups::CgroupManager;
use mydocker_state::lock::FileLock;
use mydocker_state::{proc, time, ContainerRecord, Status};
use oci_spec::runtime::Spec;

use mydocker_state::log::Stream;
use nix::fcntl::OFlag;

use super::attach::{wait_attached, SignalBlock};
use super::output::{open_log, Outputs};
use super::Engine;
use crate::runtime::{self, Created, Stdio};
use crate::CoreError;

pub const CONFIG_FILE: &str = "config.json";
pub const LOG_FILE: &str = "container.log";

pub(crate) enum Mode {
    /// Attached: stdin passed on only when interactive.
    Foreground { interactive: bool },
    /// Under a monitor. `lock`: the container's lock when the caller holds
    /// it (start); it then stays the caller's until the container runs.
    Detached { lock: Option<FileLock> },
}

impl Engine {
    /// Launch the container; in the foreground returns its exit code, detached 0
    /// once it runs.
    pub(crate) fn launch(&self, mut rec: ContainerRecord, spec: &Spec, mode: Mode, signals: &SignalBlock) -> Result<i32, CoreError> {
        let dir = self.containers.dir(&rec.id);
        // Where its cgroup will be is recorded before it is made: a mydocker
        // killed from here on leaves no cgroup that rm cannot find.
        let cgroup = runtime::cgroup::planned(spec)?;
        if let Some(cg) = &cgroup {
            rec.cgroup = Some(mydocker_cgroups::record_of(cg.as_ref()));
            self.containers.save_starting(&rec)?;
        }
        match mode {
            Mode::Foreground { interactive } => self.launch_foreground(rec, spec, &dir, interactive, signals, cgroup),
            Mode::Detached { lock } => super::monitor::launch_detached(self, rec, spec, &dir, lock, cgroup),
        }
    }

    fn launch_foreground(
        &self,
        mut rec: ContainerRecord,
        spec: &Spec,
        dir: &Path,
        interactive: bool,
        signals: &SignalBlock,
        cgroup: Option<Box<dyn CgroupManager>>,
    ) -> Result<i32, CoreError> {
        // Kept in its log as docker does, unless it goes with its end (--rm):
        // its output then comes through pipes that mydocker copies.
        let terminal = spec.process().as_ref().and_then(|p| p.terminal()).unwrap_or(false);
        let log = if rec.auto_remove { None } else { Some(open_log(&dir.join(LOG_FILE))?) };
        let logged = log.is_some();
        let mut outputs = Outputs::new(log, true);
        let mut stdio = Stdio::foreground(interactive)?;
        if logged && !terminal {
            for (stream, slot) in [(Stream::Stdout, &mut stdio.stdout), (Stream::Stderr, &mut stdio.stderr)] {
                let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(CoreError::sys("making a pipe"))?;
                outputs.add(r, stream);
                *slot = Some(w);
            }
        }
        let created = runtime::create(spec, dir, stdio, cgroup)?;
        let me = std::process::id() as i32;
        let running = match self.record_started(&mut rec, created, me, false) {
            Ok(r) => r,
            Err(e) => {
                // Recorded as running: the end is ours to record. Else the
                // record is another command's (it removed or started it).
                if rec.status == Status::Running {
                    rec.exit_code = Some(e.exit_code());
                    self.finish(rec, dir)?;
                }
                return Err(e);
            }
        };
        let code = wait_attached(running, signals, interactive, outputs);
        rec.exit_code = code.as_ref().ok().copied();
        self.finish(rec, dir)?;
        code
    }

    /// Record the new pid (while init builds its root), then let init exec.
    /// Under the container's lock (taken here unless `lock_held`): a
    /// container removed or started by another command meanwhile is not
    /// started a second time, nor left running with no record.
    pub(crate) fn record_started(
        &self,
        rec: &mut ContainerRecord,
        created: Created,
        monitor_pid: i32,
        lock_held: bool,
    ) -> Result<runtime::Running, CoreError> {
        let _lock = if lock_held {
            None
        } else {
            match self.containers.lock(&rec.id) {
                Ok(l) => Some(l),
                Err(e) => {
                    created.abort();
                    return Err(e.into());
                }
            }
        };
        match self.containers.load(&rec.id) {
            Ok(now) if !now.status.is_live() => {}
            Ok(now) => {
                created.abort();
                return Err(CoreError::Conflict(format!("container {} was started meanwhile ({})", rec.name, now.status_text())));
            }
            Err(e) => {
                created.abort();
                return Err(match e {
                    mydocker_state::StateError::NoSuchContainer(_) => {
                        CoreError::Conflict(format!("container {} was removed while it was starting", rec.name))
                    }
                    e => e.into(),
                });
            }
        }
        rec.pid = created.pid.as_raw();
        rec.pid_start_time = proc::start_time(rec.pid).unwrap_or(0);
        rec.status = Status::Running;
        rec.exit_code = None;
        rec.started = Some(time::now_rfc3339());
        rec.finished = None;
        rec.monitor_pid = monitor_pid;
        rec.monitor_start_time = proc::start_time(monitor_pid).unwrap_or(0);
        rec.cgroup = created.cgroup().map(mydocker_cgroups::record_of);
        rec.oom_killed = false;
        if let Err(e) = self.containers.save_starting(rec) {
            created.abort();
            return Err(e.into());
        }
        created.start()
    }

    /// Record the end of a container, or remove it with --rm. A container
    /// removed meanwhile (rm -f from elsewhere) is left removed.
    pub(crate) fn finish(&self, mut rec: ContainerRecord, dir: &Path) -> Result<(), CoreError> {
        if !dir.exists() {
            return Ok(());
        }
        let _lock = self.containers.lock(&rec.id)?;
        if !dir.join("state.json").exists() {
            return Ok(());
        }
        super::limits::release_cgroup(&mut rec);
        if rec.auto_remove {
            if let Some(code) = rec.exit_code {
                self.containers.note_exit(&rec.id, code)?;
            }
            self.containers.remove(&rec.id, &rec.name)?;
            return Ok(());
        }
        rec.status = Status::Stopped;
        rec.pid = 0;
        rec.monitor_pid = 0;
        rec.finished = Some(time::now_rfc3339());
        self.containers.save(&rec)?;
        Ok(())
    }
}
