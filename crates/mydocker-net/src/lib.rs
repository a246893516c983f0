//! mydocker-net
