//! mydocker-fs

pub mod dev;
pub mod error;
pub mod image;
pub mod mount_options;
pub mod overlay;
pub mod rootfs;
pub mod securejoin;

pub use error::MountError;
