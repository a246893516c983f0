//! mydocker-cgroups
