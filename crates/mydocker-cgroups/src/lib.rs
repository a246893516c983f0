//! mydocker-cgroups: a container's cgroup, one [`CgroupManager`] trait with a
//! v1 and a v2 implementation (over cgroups-rs), picked by what the host has:
//! v1, v2 unified, or hybrid (v1 controllers, cgroup2 beside them without
//! controllers: treated as v1).
//!
//! A container's cgroup is made beneath the cgroup of the process that
//! starts it (each v1 controller has its own), or beneath `--cgroup-parent`,
//! and is named by the container's ID.

pub mod error;
pub mod resources;

pub use error::CgroupError;
pub use resources::Resources;

use serde::{Deserialize, Serialize};

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
    /// Its path below the hierarchy root, e.g. `/user.slice/mydocker-<id>`
    /// (v1: the memory controller's); recorded in the container's state.
    fn path(&self) -> String;
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
