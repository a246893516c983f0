//! mydocker-fs
