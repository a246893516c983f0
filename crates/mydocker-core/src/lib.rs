//! mydocker-core
