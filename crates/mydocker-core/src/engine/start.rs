//! start and restart: run a stopped container again, on its own writable
//! layer, under a monitor (as `run -d`).

use std::time::Duration;

use oci_spec::runtime::Spec;

use super::attach::SignalBlock;
use super::launch::{Mode, CONFIG_FILE};
use super::Engine;
use crate::CoreError;

impl Engine {
    /// Start the container; one that is already running is left as it is.
    pub fn start(&self, reference: &str) -> Result<String, CoreError> {
        let signals = SignalBlock::new()?;
        let id = self.containers.resolve(reference)?;
        let lock = self.containers.lock(&id)?;
        let rec = self.containers.load(&id)?;
        if rec.status.is_live() {
            return Ok(id);
        }
        let spec: Spec = mydocker_state::atomic::read_json(&self.containers.dir(&id).join(CONFIG_FILE))?;
        let mut rec = rec;
        rec.detached = true;
        self.launch(rec, &spec, Mode::Detached { lock: Some(lock) }, &signals)?;
        Ok(id)
    }

    /// stop (SIGTERM, SIGKILL after `timeout`), then start.
    pub fn restart(&self, reference: &str, timeout: Duration) -> Result<String, CoreError> {
        self.stop(reference, timeout)?;
        self.start(reference)
    }
}
