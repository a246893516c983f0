//! rm: remove a stopped container (a running one only with force, after
//! killing it). Leaves nothing: writable layer, log, record and name all go.

use nix::sys::signal::Signal;

use super::stop::{live_pidfd, thaw_if_paused};
use super::Engine;
use crate::runtime::process::pidfd;
use crate::CoreError;

impl Engine {
    /// Remove the container `reference` names; returns its full ID.
    pub fn rm(&self, reference: &str, force: bool) -> Result<String, CoreError> {
        let id = self.containers.resolve(reference)?;
        let _lock = self.containers.lock(&id)?;
        let rec = match self.containers.load(&id) {
            Ok(r) => r,
            // Removed while we waited for the lock.
            Err(mydocker_state::StateError::NoSuchContainer(_)) => {
                return Err(mydocker_state::StateError::NoSuchContainer(reference.to_string()).into())
            }
            // Left empty by a power loss while it started: nothing of it runs.
            Err(e @ mydocker_state::StateError::Decode { .. }) => {
                log::warn!("removing container {reference}, whose record is unreadable: {e}");
                self.containers.remove_undecodable(&id)?;
                return Ok(id);
            }
            Err(e) => return Err(e.into()),
        };
        if rec.status.is_live() {
            if !force {
                return Err(CoreError::Conflict(format!(
                    "cannot remove container {reference}: it is {}; stop it first or use rm -f",
                    rec.status
                )));
            }
            // Killing PID 1 ends its pid namespace, and with it every process
            // and mount of the container. Its monitor, waiting for our lock,
            // then finds the container gone and leaves.
            if let Some(fd) = live_pidfd(&rec)? {
                pidfd::send_signal(&fd, Signal::SIGKILL).map_err(CoreError::sys(format!("killing {}", rec.name)))?;
                thaw_if_paused(&rec)?;
                pidfd::wait_exit(&fd).map_err(CoreError::sys(format!("waiting for {}", rec.name)))?;
                self.containers.note_exit(&id, 128 + Signal::SIGKILL as i32)?;
            }
        }
        // Its monitor finds the container gone and leaves: the cgroup is ours to remove.
        let mut rec = rec;
        super::limits::release_cgroup(&mut rec);
        self.containers.remove(&id, &rec.name)?;
        Ok(id)
    }
}
