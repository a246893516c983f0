//! mydocker-core: the engine (run, ps, rm, images...) and the runtime half
//! that turns an OCI runtime Spec into a running container.

pub mod engine;
pub mod error;
pub mod runtime;

pub use error::CoreError;
