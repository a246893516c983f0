//! Resource limits, as docker's flags give them, parsed and checked before
//! anything is made.

use serde::{Deserialize, Serialize};

use crate::CgroupError;

/// CFS period used for `--cpus`, as docker: 100 ms.
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes; -1 unlimited swap.
    pub memory_swap: Option<i64>,
    /// Relative CPU weight (v1 shares, 2..262144; v2 weight derived from it).
    pub cpu_shares: Option<u64>,
    /// CFS quota in microseconds per period.
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    pub cpu_period: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Most processes at once; -1 unlimited.
    pub pids_limit: Option<i64>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }
}
