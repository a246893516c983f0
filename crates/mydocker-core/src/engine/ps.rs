//! ps: every container with its derived status.

use mydocker_state::ContainerRecord;

use super::Engine;
use crate::CoreError;

impl Engine {
    pub fn ps(&self) -> Result<Vec<ContainerRecord>, CoreError> {
        Ok(self.containers.list()?)
    }
}
