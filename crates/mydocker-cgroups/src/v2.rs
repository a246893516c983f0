//! cgroup v2 (unified): one folder, controllers enabled in its parent's
//! subtree_control.

use std::path::{Path, PathBuf};

use crate::files::{self, keyed, mkdir, read, read_u64, rmdir, write};
use crate::{CgroupError, CgroupManager, CgroupRecord, Resources, Stats, Version};

const CONTROLLERS: [&str; 4] = ["cpu", "memory", "pids", "cpuset"];

/// Where containers' cgroups go on v2 when mydocker runs in a cgroup other
/// than the root and no --cgroup-parent is given (as docker's cgroupfs
/// driver uses /docker). It holds no process, and is kept for the next
/// container, as docker keeps its own.
pub const DEFAULT_PARENT: &str = "/mydocker";

pub struct V2 {
    root: PathBuf,
    dir: PathBuf,
}

/// v2's share of CPU: docker's conversion of shares (2..262144) to weight (1..10000).
pub fn weight_of(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}

impl V2 {
    /// `name` beneath `parent`; by default beneath the cgroup of this
    /// process (`own`) when that is the root, else beneath [`DEFAULT_PARENT`]:
    /// v2's "no internal processes" rule keeps a cgroup that holds processes
    /// (ours holds us) from giving controllers to a child.
    pub fn new(root: &Path, own: &str, parent: Option<&str>, name: &str) -> V2 {
        let base = match parent {
            Some(p) => p,
            None if own.trim_matches('/').is_empty() => "/",
            None => DEFAULT_PARENT,
        };
        V2 { root: root.to_path_buf(), dir: root.join(base.trim_start_matches('/')).join(name) }
    }

    pub fn from_record(r: &CgroupRecord) -> V2 {
        let (root, dir) = r.dirs.get("unified").cloned().unwrap_or_default();
        V2 { root, dir }
    }

    /// Enable our controllers for the children of every level down to ours.
    fn enable_controllers(&self) -> Result<(), CgroupError> {
        let rel = self.dir.strip_prefix(&self.root).unwrap_or(Path::new(""));
        let mut at = self.root.clone();
        let parts: Vec<_> = rel.components().collect();
        for (i, part) in parts.iter().enumerate() {
            let available = read(&at, "cgroup.controllers")?;
            let wanted: Vec<String> = CONTROLLERS
                .iter()
                .filter(|c| available.split_whitespace().any(|a| a == **c))
                .map(|c| format!("+{c}"))
                .collect();
            if !wanted.is_empty() {
                write(&at, "cgroup.subtree_control", &wanted.join(" ")).map_err(|e| match e {
                    // v2's "no internal processes" rule: a cgroup (but the
                    // root) that holds processes can't pass controllers down.
                    CgroupError::Io { source, .. } if source.raw_os_error() == Some(nix::errno::Errno::EBUSY as i32) => {
                        CgroupError::Cgroup {
                            path: at.display().to_string(),
                            message: "it holds processes, so cgroup v2 lets it give no controllers to a \
                                      container's cgroup beneath it: choose another with --cgroup-parent"
                                .into(),
                        }
                    }
                    e => e,
                })?;
            }
            at.push(part);
            if i + 1 < parts.len() {
                mkdir(&at)?;
            }
        }
        Ok(())
    }
}

impl CgroupManager for V2 {
    fn version(&self) -> Version {
        Version::V2
    }

    fn record(&self) -> CgroupRecord {
        let mut dirs = std::collections::BTreeMap::new();
        dirs.insert("unified".to_string(), (self.root.clone(), self.dir.clone()));
        CgroupRecord { version: Version::V2, dirs }
    }

    fn create(&self) -> Result<(), CgroupError> {
        self.enable_controllers()?;
        mkdir(&self.dir)
    }

    fn apply(&self, r: &Resources) -> Result<(), CgroupError> {
        let d = &self.dir;
        if let Some(m) = r.memory {
            write(d, "memory.max", &m.to_string())?;
        }
        match (r.memory, r.memory_swap) {
            (_, Some(-1)) => write(d, "memory.swap.max", "max")?,
            (Some(m), Some(s)) => write(d, "memory.swap.max", &(s - m).max(0).to_string())?,
            _ => {}
        }
        if let Some(shares) = r.cpu_shares {
            write(d, "cpu.weight", &weight_of(shares).to_string())?;
        }
        if r.cpu_quota.is_some() || r.cpu_period.is_some() {
            let quota = r.cpu_quota.filter(|q| *q > 0).map(|q| q.to_string()).unwrap_or_else(|| "max".into());
            let period = r.cpu_period.unwrap_or(crate::resources::DEFAULT_CPU_PERIOD);
            write(d, "cpu.max", &format!("{quota} {period}"))?;
        }
        if let Some(v) = &r.cpuset_cpus {
            write(d, "cpuset.cpus", v)?;
        }
        if let Some(v) = &r.cpuset_mems {
            write(d, "cpuset.mems", v)?;
        }
        if let Some(v) = r.pids_limit {
            write(d, "pids.max", &if v < 0 { "max".to_string() } else { v.to_string() })?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        write(&self.dir, "cgroup.procs", &pid.to_string())
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        files::pids(&self.dir)
    }

    fn freeze(&self) -> Result<(), CgroupError> {
        write(&self.dir, "cgroup.freeze", "1")?;
        files::settle(|| Ok(keyed(&self.dir, "cgroup.events", "frozen ")? == 1), "frozen", &self.dir)
    }

    fn thaw(&self) -> Result<(), CgroupError> {
        write(&self.dir, "cgroup.freeze", "0")?;
        files::settle(|| Ok(keyed(&self.dir, "cgroup.events", "frozen ")? == 0), "thawed", &self.dir)
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        let d = &self.dir;
        let max = read(d, "memory.max").unwrap_or_default();
        Ok(Stats {
            cpu_usage_ns: keyed(d, "cpu.stat", "usage_usec ")? * 1000,
            memory_usage: read_u64(d, "memory.current").unwrap_or(0),
            memory_limit: max.trim().parse().ok(),
            pids: read_u64(d, "pids.current").unwrap_or(0),
            oom_kills: keyed(d, "memory.events", "oom_kill ").unwrap_or(0),
        })
    }

    fn remove(&self) -> Result<(), CgroupError> {
        // rmdir takes a frozen, empty cgroup too; thawing first is v1's
        // rule (a frozen task can't die), kept here so both behave alike.
        if read(&self.dir, "cgroup.freeze").map(|f| f.trim() == "1").unwrap_or(false) {
            let _ = write(&self.dir, "cgroup.freeze", "0");
        }
        rmdir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("cgroup.controllers"), "cpuset cpu io memory pids\n").unwrap();
        std::fs::write(t.path().join("cgroup.subtree_control"), "").unwrap();
        std::fs::create_dir(t.path().join("user.slice")).unwrap();
        std::fs::write(t.path().join("user.slice/cgroup.controllers"), "cpu memory pids\n").unwrap();
        t
    }

    #[test]
    fn weight_follows_dockers_conversion() {
        assert_eq!(weight_of(2), 1);
        assert_eq!(weight_of(1024), 39);
        assert_eq!(weight_of(262_144), 10_000);
    }

    #[test]
    fn controllers_enabled_and_limits_written() {
        let t = fake();
        let cg = V2::new(t.path(), "/", None, "mydocker-abc");
        cg.create().unwrap();
        let read = |p: &str| std::fs::read_to_string(t.path().join(p)).unwrap();
        assert_eq!(read("cgroup.subtree_control"), "+cpu +memory +pids +cpuset");
        assert!(t.path().join("mydocker-abc").is_dir());
        cg.apply(&Resources {
            memory: Some(64 << 20),
            memory_swap: Some(96 << 20),
            cpu_shares: Some(1024),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            pids_limit: Some(-1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(read("mydocker-abc/memory.max"), "67108864");
        assert_eq!(read("mydocker-abc/memory.swap.max"), "33554432");
        assert_eq!(read("mydocker-abc/cpu.max"), "50000 100000");
        assert_eq!(read("mydocker-abc/cpu.weight"), "39");
        assert_eq!(read("mydocker-abc/pids.max"), "max");
        cg.add_task(7).unwrap();
        assert_eq!(read("mydocker-abc/cgroup.procs"), "7");
        assert_eq!(V2::from_record(&cg.record()).record(), cg.record());
    }

    #[test]
    fn beneath_a_cgroup_of_processes_the_default_parent_is_used() {
        let t = fake();
        let cg = V2::new(t.path(), "/user.slice/session-3.scope", None, "mydocker-abc");
        assert_eq!(cg.record().dirs["unified"].1, t.path().join("mydocker/mydocker-abc"));
        // What the kernel shows in a cgroup it makes.
        std::fs::create_dir(t.path().join("mydocker")).unwrap();
        std::fs::write(t.path().join("mydocker/cgroup.controllers"), "cpuset cpu memory pids\n").unwrap();
        cg.create().unwrap();
        let read = |p: &str| std::fs::read_to_string(t.path().join(p)).unwrap();
        assert_eq!(read("mydocker/cgroup.subtree_control"), "+cpu +memory +pids +cpuset");
        assert!(t.path().join("mydocker/mydocker-abc").is_dir());
        assert!(!t.path().join("user.slice/cgroup.subtree_control").exists(), "own cgroup touched");
    }

    #[test]
    fn cgroup_parent_unlimited_swap_and_quota() {
        let t = fake();
        let cg = V2::new(t.path(), "/user.slice", Some("/ci/jobs"), "mydocker-p");
        assert_eq!(cg.record().dirs["unified"].1, t.path().join("ci/jobs/mydocker-p"));
        for d in ["ci", "ci/jobs"] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
            std::fs::write(t.path().join(d).join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        }
        cg.create().unwrap();
        let read = |p: &str| std::fs::read_to_string(t.path().join(p)).unwrap();
        assert_eq!(read("ci/cgroup.subtree_control"), "+cpu +memory +pids");
        assert_eq!(read("ci/jobs/cgroup.subtree_control"), "+cpu +memory +pids");
        assert!(!t.path().join("user.slice/cgroup.subtree_control").exists(), "own cgroup touched");
        cg.apply(&Resources {
            memory: Some(64 << 20),
            memory_swap: Some(-1),
            cpu_period: Some(50_000),
            cpu_shares: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(read("ci/jobs/mydocker-p/memory.swap.max"), "max");
        assert_eq!(read("ci/jobs/mydocker-p/cpu.max"), "max 50000");
        assert_eq!(read("ci/jobs/mydocker-p/cpu.weight"), "1");
    }

    #[test]
    fn freeze_waits_for_the_events_file() {
        let t = fake();
        let cg = V2::new(t.path(), "/", None, "c");
        let d = t.path().join("c");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        cg.freeze().unwrap();
        assert_eq!(std::fs::read_to_string(d.join("cgroup.freeze")).unwrap(), "1");
        std::fs::write(d.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        cg.thaw().unwrap();
        assert_eq!(std::fs::read_to_string(d.join("cgroup.freeze")).unwrap(), "0");
    }

    #[test]
    fn stats_read_the_v2_files() {
        let t = fake();
        let cg = V2::new(t.path(), "/", None, "c");
        std::fs::create_dir(t.path().join("c")).unwrap();
        let w = |f: &str, v: &str| std::fs::write(t.path().join("c").join(f), v).unwrap();
        w("cpu.stat", "usage_usec 1500\nuser_usec 1000\n");
        w("memory.current", "4096\n");
        w("memory.max", "max\n");
        w("pids.current", "3\n");
        w("memory.events", "low 0\noom 1\noom_kill 1\n");
        let s = cg.stats().unwrap();
        assert_eq!(s, Stats { cpu_usage_ns: 1_500_000, memory_usage: 4096, memory_limit: None, pids: 3, oom_kills: 1 });
    }
}
