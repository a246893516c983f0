//! mydocker-cgroups: a container's cgroup, one [`CgroupManager`] trait with a
//! v1 and a v2 implementation, picked by what the host has: v1, v2 unified,
//! or hybrid (v1 controllers, cgroup2 beside them without controllers:
//! treated as v1).
//!
//! Both write cgroupfs files themselves (files.rs) rather than go through
//! cgroups-rs, as README's "Where we depart" says. cgroups-rs 0.5 got in
//! the way at each step: its v1 hierarchy comes only from
//! /proc/self/mountinfo and its v2 one only from /sys/fs/cgroup, so neither
//! can be pointed at the fake trees of the unit tests; `Cgroup::load*` makes
//! a folder in every mounted controller (blkio, devices, name=systemd...)
//! unless the controllers are named, and then without per-controller parent
//! paths; and creating through it costs reads we do not need on the start
//! path. What we need is a few mkdir and write calls.
//!
//! A container's cgroup is made beneath `--cgroup-parent`, else beneath the
//! cgroup of the process that starts it (each v1 controller has its own);
//! on v2 that holds only when it is the root, else `/mydocker` is used (see
//! [`v2::V2::new`]). It is named by the container's ID.

pub mod error;
mod files;
pub mod resources;
pub mod v1;
pub mod v2;

pub use error::CgroupError;
pub use resources::Resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a container's cgroup is, as its record keeps it: per controller
/// (v1) or "unified" (v2), the hierarchy's mount point and the folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupRecord {
    pub version: Version,
    pub dirs: BTreeMap<String, (PathBuf, PathBuf)>,
}

/// The cgroup2 mount of a unified host.
const UNIFIED_ROOT: &str = "/sys/fs/cgroup";

/// v2 when /sys/fs/cgroup is a cgroup2 mount; else v1 (hybrid hosts too:
/// their cgroup2 mount beside the v1 controllers has no controllers).
pub fn detect() -> Version {
    match nix::sys::statfs::statfs(UNIFIED_ROOT) {
        Ok(s) if s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC => Version::V2,
        _ => Version::V1,
    }
}

/// A handle (not yet made) on the cgroup `name` beneath `parent` (an
/// absolute cgroup path), or beneath the cgroup of this process.
pub fn for_container(name: &str, parent: Option<&str>) -> Result<Box<dyn CgroupManager>, CgroupError> {
    fn io(path: &'static str) -> impl FnOnce(std::io::Error) -> CgroupError {
        move |source| CgroupError::Io { op: "reading", path: PathBuf::from(path), source }
    }
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup").map_err(io("/proc/self/cgroup"))?;
    match detect() {
        Version::V2 => {
            let own = proc_cgroup.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/");
            Ok(Box::new(v2::V2::new(Path::new(UNIFIED_ROOT), own, parent, name)))
        }
        Version::V1 => {
            let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").map_err(io("/proc/self/mountinfo"))?;
            Ok(Box::new(v1::V1::new(&v1::mounts(&mountinfo), &v1::own_paths(&proc_cgroup), parent, name)?))
        }
    }
}

/// The record to keep for a cgroup, as JSON.
pub fn record_of(cg: &dyn CgroupManager) -> serde_json::Value {
    serde_json::to_value(cg.record()).unwrap_or(serde_json::Value::Null)
}

/// The cgroup a record names.
pub fn open_recorded(v: &serde_json::Value) -> Result<Box<dyn CgroupManager>, CgroupError> {
    let r: CgroupRecord = serde_json::from_value(v.clone()).map_err(|e| CgroupError::Cgroup {
        path: v.to_string(),
        message: format!("an unreadable cgroup record: {e}"),
    })?;
    Ok(match r.version {
        Version::V1 => Box::new(v1::V1::from_record(&r)),
        Version::V2 => Box::new(v2::V2::from_record(&r)),
    })
}

/// Which cgroup hierarchy a container's cgroup lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

/// What `stats` shows of a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// CPU time used by every process of the cgroup, in nanoseconds.
    pub cpu_usage_ns: u64,
    /// Memory in use, in bytes (without the page cache where the kernel says).
    pub memory_usage: u64,
    /// The memory limit in bytes; None when unlimited.
    pub memory_limit: Option<u64>,
    /// Processes in the cgroup.
    pub pids: u64,
    /// How many times the OOM killer killed a process of the cgroup.
    pub oom_kills: u64,
}

/// A container's cgroup. Every method is idempotent where that makes sense
/// (remove of a removed cgroup is Ok).
pub trait CgroupManager {
    /// The hierarchy it lives in.
    fn version(&self) -> Version;
    /// Where it is, for the container's record (reopened with [`open_recorded`]).
    fn record(&self) -> CgroupRecord;
    /// Make the cgroup (cpuset.cpus and cpuset.mems filled from the parent
    /// when empty, so that tasks can join it).
    fn create(&self) -> Result<(), CgroupError>;
    /// Set the limits; fields that are None are left as they are.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError>;
    /// Move a process into the cgroup (every controller of it).
    fn add_task(&self, pid: i32) -> Result<(), CgroupError>;
    /// The pids of the processes in it.
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    fn freeze(&self) -> Result<(), CgroupError>;
    fn thaw(&self) -> Result<(), CgroupError>;
    fn stats(&self) -> Result<Stats, CgroupError>;
    /// Remove the cgroup (it must hold no process). Ok when it is gone already.
    fn remove(&self) -> Result<(), CgroupError>;
}
