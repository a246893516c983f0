//! mydocker-state: the ground floor.
//!
//! Container records and their status state machine, IDs and names, and the
//! helpers every other layer uses to write files safely: atomic JSON writes
//! (temp file in the same folder, fsync unless the record is of a container
//! starting, rename) and advisory file locks.

pub mod atomic;
pub mod error;
pub mod exit_note;
pub mod id;
pub mod lock;
pub mod log;
pub mod name;
pub mod proc;
mod reclaim;
pub mod record;
pub mod status;
pub mod store;
pub mod time;

pub use error::StateError;
pub use record::ContainerRecord;
pub use status::Status;
pub use store::{ContainerStore, Reservation};
