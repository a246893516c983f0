//! stop, kill and wait: signals to a running container, and waiting for
//! its end without a sleep loop (pidfds poll readable when a process ends).

use std::time::Duration;

use mydocker_state::{time, ContainerRecord, Status};
use nix::sys::signal::Signal;

use super::Engine;
use crate::runtime::process::pidfd;
use crate::CoreError;

/// How long the end of a container's monitor is awaited, once the container
/// itself has ended, before the engine records the end itself.
const MONITOR_GRACE: Duration = Duration::from_secs(5);

impl Engine {
    /// SIGTERM, then SIGKILL after `timeout`; returns once the end is recorded.
    /// A container that is not running is left as it is.
    pub fn stop(&self, reference: &str, timeout: Duration) -> Result<(), CoreError> {
        let id = self.containers.resolve(reference)?;
        let killed = {
            let _lock = self.containers.lock(&id)?;
            let rec = self.containers.load(&id)?;
            if !rec.status.is_live() {
                return Ok(());
            }
            let Some(fd) = live_pidfd(&rec)? else { return Ok(()) };
            pidfd::send_signal(&fd, Signal::SIGTERM).map_err(CoreError::sys(format!("signalling {}", rec.name)))?;
            thaw_if_paused(&rec)?;
            let killed = if pidfd::wait_exit_timeout(&fd, Some(timeout)).map_err(CoreError::sys("waiting"))? {
                false
            } else {
                pidfd::send_signal(&fd, Signal::SIGKILL).map_err(CoreError::sys(format!("killing {}", rec.name)))?;
                pidfd::wait_exit_timeout(&fd, None).map_err(CoreError::sys("waiting"))?;
                true
            };
            killed
        };
        self.await_recorded(&id, killed.then_some(128 + Signal::SIGKILL as i32))
    }

    /// Send `sig` to the container's PID 1.
    pub fn kill(&self, reference: &str, sig: Signal) -> Result<(), CoreError> {
        let id = self.containers.resolve(reference)?;
        let _lock = self.containers.lock(&id)?;
        let rec = self.containers.load(&id)?;
        let not_running = || CoreError::Conflict(format!("container {reference} is not running ({})", rec.status_text()));
        if !rec.status.is_live() {
            return Err(not_running());
        }
        let Some(fd) = live_pidfd(&rec)? else { return Err(not_running()) };
        pidfd::send_signal(&fd, sig).map_err(CoreError::sys(format!("signalling {}", rec.name)))?;
        // A frozen container would hold the signal until thawed.
        if rec.status == Status::Paused && matches!(sig, Signal::SIGKILL | Signal::SIGTERM | Signal::SIGINT) {
            thaw_if_paused(&rec)?;
            let mut rec = rec;
            rec.status = Status::Running;
            self.containers.save(&rec)?;
        }
        Ok(())
    }

    /// Block until the container has ended and its end is recorded; its exit code.
    pub fn wait(&self, reference: &str) -> Result<Option<i32>, CoreError> {
        let id = self.containers.resolve(reference)?;
        let (rec, mut note) = {
            let _lock = self.containers.lock(&id)?;
            let rec = self.containers.load(&id)?;
            // Should it remove itself at its end, its code is noted here.
            let note = if rec.status.is_live() { Some(self.containers.watch_exit(&id)?) } else { None };
            (rec, note)
        };
        if rec.status.is_live() {
            if let Some(fd) = live_pidfd(&rec)? {
                pidfd::wait_exit_timeout(&fd, None).map_err(CoreError::sys("waiting"))?;
            }
        }
        self.await_recorded(&id, None)?;
        match self.containers.load(&id) {
            Ok(r) => Ok(r.exit_code),
            // Removed at its end (--rm): the code went with it.
            Err(mydocker_state::StateError::NoSuchContainer(_)) => {
                Ok(note.as_mut().and_then(mydocker_state::exit_note::read_exit_note).or(rec.exit_code))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// After the container's process ended: let its monitor record the end,
    /// or record it here when there is no monitor left to do it.
    fn await_recorded(&self, id: &str, code_if_unrecorded: Option<i32>) -> Result<(), CoreError> {
        let Ok(rec) = self.containers.load_raw(id) else { return Ok(()) };
        if rec.status.is_live() && rec.monitor_alive() {
            if let Some(fd) = pidfd::open(rec.monitor_pid).map_err(CoreError::sys("watching the monitor"))? {
                if rec.monitor_alive() {
                    pidfd::wait_exit_timeout(&fd, Some(MONITOR_GRACE)).map_err(CoreError::sys("waiting"))?;
                }
            }
        }
        let _lock = match self.containers.lock(id) {
            Ok(l) => l,
            Err(_) => return Ok(()), // removed meanwhile
        };
        let mut rec = match self.containers.load_raw(id) {
            Ok(r) => r,
            Err(_) => return Ok(()),
        };
        if rec.status.is_live() && !mydocker_state::proc::is_same_process(rec.pid, rec.pid_start_time) {
            record_end(&mut rec, code_if_unrecorded);
            super::limits::release_cgroup(&mut rec);
            if rec.auto_remove {
                if let Some(code) = rec.exit_code {
                    self.containers.note_exit(&rec.id, code)?;
                }
                self.containers.remove(&rec.id, &rec.name)?;
            } else {
                self.containers.save(&rec)?;
            }
        }
        Ok(())
    }
}

fn record_end(rec: &mut ContainerRecord, code: Option<i32>) {
    rec.status = Status::Stopped;
    rec.pid = 0;
    rec.monitor_pid = 0;
    rec.exit_code = code;
    rec.finished = Some(time::now_rfc3339());
}

/// Thaw the container's cgroup when it is paused, so that a signal sent to it
/// is acted on.
pub(crate) fn thaw_if_paused(rec: &ContainerRecord) -> Result<(), CoreError> {
    if rec.status == Status::Paused {
        if let Some(cg) = super::limits::cgroup_of(rec)? {
            cg.thaw()?;
        }
    }
    Ok(())
}

/// A pidfd on the container's PID 1 when it is still the process we started.
pub(crate) fn live_pidfd(rec: &ContainerRecord) -> Result<Option<std::os::fd::OwnedFd>, CoreError> {
    if rec.pid <= 0 {
        return Ok(None);
    }
    let Some(fd) = pidfd::open(rec.pid).map_err(CoreError::sys(format!("opening process {}", rec.pid)))? else {
        return Ok(None);
    };
    // The pidfd pins the process: checking after opening it is race-free.
    Ok(mydocker_state::proc::is_same_process(rec.pid, rec.pid_start_time).then_some(fd))
}

