//! cgroup v1 (and hybrid hosts, whose cgroup2 mount has no controllers):
//! one folder per controller, each beneath that controller's own cgroup of
//! the starting process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::files::{self, mkdir, read, read_u64, rmdir, write};
use crate::{CgroupError, CgroupManager, CgroupRecord, Resources, Stats, Version};

/// The controllers a container uses.
pub const CONTROLLERS: [&str; 6] = ["memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"];
/// Made for every container (stats, OOM, pause); `cpu` and `cpuset` only
/// once a limit needs them (creating a cgroup is on the start path).
const ALWAYS: [&str; 4] = ["memory", "cpuacct", "pids", "freezer"];

pub struct V1 {
    /// controller -> (mount point, folder of the container's cgroup)
    dirs: BTreeMap<String, (PathBuf, PathBuf)>,
}

/// Where each v1 controller is mounted, from /proc/self/mountinfo text.
pub fn mounts(mountinfo: &str) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let mut r = right.split_whitespace();
        if r.next() != Some("cgroup") {
            continue;
        }
        let opts = r.nth(1).unwrap_or("");
        let Some(point) = left.split_whitespace().nth(4) else { continue };
        for c in opts.split(',').filter(|c| CONTROLLERS.contains(c)) {
            out.entry(c.to_string()).or_insert_with(|| PathBuf::from(point));
        }
    }
    out
}

/// Each controller's cgroup of the process, from /proc/self/cgroup text.
pub fn own_paths(proc_cgroup: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in proc_cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or("/"));
        for c in ctrls.split(',').filter(|c| !c.is_empty()) {
            out.insert(c.to_string(), path.to_string());
        }
    }
    out
}

impl V1 {
    /// `name` beneath `parent` (or each controller's cgroup of this process).
    pub fn new(
        mounts: &BTreeMap<String, PathBuf>,
        own: &BTreeMap<String, String>,
        parent: Option<&str>,
        name: &str,
    ) -> Result<V1, CgroupError> {
        let mut dirs = BTreeMap::new();
        for c in CONTROLLERS {
            let Some(point) = mounts.get(c) else {
                if c == "freezer" || c == "cpuset" {
                    continue; // optional: pause and cpusets need them
                }
                return Err(CgroupError::NoHierarchy(format!("the {c} controller is not mounted")));
            };
            let base = parent.map(str::to_string).unwrap_or_else(|| own.get(c).cloned().unwrap_or_else(|| "/".into()));
            let rel = Path::new(base.trim_start_matches('/')).join(name);
            dirs.insert(c.to_string(), (point.clone(), point.join(rel)));
        }
        Ok(V1 { dirs })
    }

    pub fn from_record(r: &CgroupRecord) -> V1 {
        V1 { dirs: r.dirs.iter().map(|(c, (m, d))| (c.clone(), (m.clone(), d.clone()))).collect() }
    }

    fn dir(&self, c: &str) -> Option<&Path> {
        self.dirs.get(c).map(|(_, d)| d.as_path())
    }

    /// Each distinct folder once (cpu and cpuacct may share a mount).
    fn unique_dirs(&self) -> Vec<&Path> {
        let mut v: Vec<&Path> = self.dirs.values().map(|(_, d)| d.as_path()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Make the folder of controller `c` when missing, and move the
    /// container's processes (if any yet) into it.
    fn ensure(&self, c: &str) -> Result<Option<&Path>, CgroupError> {
        let Some(d) = self.dir(c) else { return Ok(None) };
        if d.is_dir() {
            return Ok(Some(d));
        }
        if c == "cpuset" {
            self.create_cpuset()?;
        } else {
            std::fs::create_dir_all(d).map_err(|source| CgroupError::Io { op: "creating", path: d.to_path_buf(), source })?;
        }
        if let Some(members) = self.dir("memory").filter(|m| m.is_dir() && *m != d) {
            for pid in files::pids(members)? {
                write(d, "cgroup.procs", &pid.to_string())?;
            }
        }
        Ok(Some(d))
    }

    /// Make the cpuset folders down from the mount, each level given its
    /// parent's cpus and mems when empty (else no task may join it).
    fn create_cpuset(&self) -> Result<(), CgroupError> {
        let Some((mount, dir)) = self.dirs.get("cpuset") else { return Ok(()) };
        let rel = dir.strip_prefix(mount).unwrap_or(Path::new(""));
        let mut at = mount.clone();
        for part in rel.components() {
            let parent = at.clone();
            at.push(part);
            mkdir(&at)?;
            for f in ["cpuset.cpus", "cpuset.mems"] {
                // The kernel makes these files empty in a new folder.
                if read(&at, f).unwrap_or_default().trim().is_empty() {
                    write(&at, f, read(&parent, f)?.trim())?;
                }
            }
        }
        Ok(())
    }
}

impl CgroupManager for V1 {
    fn version(&self) -> Version {
        Version::V1
    }

    fn record(&self) -> CgroupRecord {
        CgroupRecord { version: Version::V1, dirs: self.dirs.clone() }
    }

    fn create(&self) -> Result<(), CgroupError> {
        for c in ALWAYS {
            if let Some(dir) = self.dir(c) {
                std::fs::create_dir_all(dir)
                    .map_err(|source| CgroupError::Io { op: "creating", path: dir.to_path_buf(), source })?;
            }
        }
        Ok(())
    }

    fn apply(&self, r: &Resources) -> Result<(), CgroupError> {
        if let Some(d) = self.dir("memory") {
            let mut swap = r.memory_swap;
            if swap.is_some() && !d.join("memory.memsw.limit_in_bytes").exists() {
                // Without swap accounting (swapaccount=0), swap is unlimited
                // anyway: -1 asks for nothing more; a limit cannot be kept.
                if swap != Some(-1) {
                    return Err(CgroupError::Cgroup {
                        path: d.display().to_string(),
                        message: "this kernel has no swap accounting: --memory-swap cannot be applied".into(),
                    });
                }
                log::warn!("{}: no swap accounting; swap is unlimited", d.display());
                swap = None;
            }
            // memsw must stay >= the limit: order the two writes to keep it so.
            let set_mem = || r.memory.map(|m| write(d, "memory.limit_in_bytes", &m.to_string())).transpose();
            let set_swap = || swap.map(|s| write(d, "memory.memsw.limit_in_bytes", &s.to_string())).transpose();
            if set_mem().is_err() {
                set_swap()?;
                set_mem()?;
            } else {
                set_swap()?;
            }
        }
        let cpu_given = r.cpu_shares.is_some() || r.cpu_period.is_some() || r.cpu_quota.is_some();
        if let Some(d) = if cpu_given { self.ensure("cpu")? } else { None } {
            if let Some(v) = r.cpu_shares {
                write(d, "cpu.shares", &v.to_string())?;
            }
            if let Some(v) = r.cpu_period {
                write(d, "cpu.cfs_period_us", &v.to_string())?;
            }
            if let Some(v) = r.cpu_quota {
                write(d, "cpu.cfs_quota_us", &v.to_string())?;
            }
        }
        let cpuset_given = r.cpuset_cpus.is_some() || r.cpuset_mems.is_some();
        if let Some(d) = if cpuset_given { self.ensure("cpuset")? } else { None } {
            if let Some(v) = &r.cpuset_cpus {
                write(d, "cpuset.cpus", v)?;
            }
            if let Some(v) = &r.cpuset_mems {
                write(d, "cpuset.mems", v)?;
            }
        }
        if let (Some(d), Some(v)) = (self.dir("pids"), r.pids_limit) {
            write(d, "pids.max", &if v < 0 { "max".to_string() } else { v.to_string() })?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        for d in self.unique_dirs().into_iter().filter(|d| d.is_dir()) {
            write(d, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let d = self.dir("pids").or(self.dir("memory")).ok_or_else(|| CgroupError::NoHierarchy("no pids".into()))?;
        files::pids(d)
    }

    fn freeze(&self) -> Result<(), CgroupError> {
        let d = self.dir("freezer").ok_or_else(|| CgroupError::NoHierarchy("the freezer is not mounted".into()))?;
        write(d, "freezer.state", "FROZEN")?;
        files::settle(|| Ok(read(d, "freezer.state")?.trim() == "FROZEN"), "frozen", d)
    }

    fn thaw(&self) -> Result<(), CgroupError> {
        let d = self.dir("freezer").ok_or_else(|| CgroupError::NoHierarchy("the freezer is not mounted".into()))?;
        write(d, "freezer.state", "THAWED")?;
        files::settle(|| Ok(read(d, "freezer.state")?.trim() == "THAWED"), "thawed", d)
    }

    fn stats(&self) -> Result<Stats, CgroupError> {
        let mut s = Stats::default();
        if let Some(d) = self.dir("cpuacct") {
            s.cpu_usage_ns = read_u64(d, "cpuacct.usage")?;
        }
        if let Some(d) = self.dir("memory") {
            s.memory_usage = read_u64(d, "memory.usage_in_bytes")?;
            let limit = read_u64(d, "memory.limit_in_bytes")?;
            s.memory_limit = (limit < (1 << 62)).then_some(limit);
            s.oom_kills = files::keyed(d, "memory.oom_control", "oom_kill ")?;
        }
        if let Some(d) = self.dir("pids") {
            s.pids = read_u64(d, "pids.current")?;
        }
        Ok(s)
    }

    fn remove(&self) -> Result<(), CgroupError> {
        if let Some(d) = self.dir("freezer") {
            if read(d, "freezer.state").map(|s| s.trim() != "THAWED").unwrap_or(false) {
                let _ = write(d, "freezer.state", "THAWED");
            }
        }
        for d in self.unique_dirs() {
            rmdir(d)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake v1 hierarchy: one folder per controller, cpu and cpuacct shared.
    fn fake() -> (tempfile::TempDir, BTreeMap<String, PathBuf>) {
        let t = tempfile::tempdir().unwrap();
        let mut m = BTreeMap::new();
        for c in ["memory", "cpuset", "pids", "freezer"] {
            std::fs::create_dir(t.path().join(c)).unwrap();
            m.insert(c.to_string(), t.path().join(c));
        }
        std::fs::create_dir(t.path().join("cpu,cpuacct")).unwrap();
        m.insert("cpu".into(), t.path().join("cpu,cpuacct"));
        m.insert("cpuacct".into(), t.path().join("cpu,cpuacct"));
        std::fs::write(t.path().join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        std::fs::write(t.path().join("cpuset/cpuset.mems"), "0\n").unwrap();
        (t, m)
    }

    #[test]
    fn parses_mounts_and_own_cgroups() {
        let info = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        let m = mounts(info);
        assert_eq!(m["cpu"], PathBuf::from("/sys/fs/cgroup/cpu"));
        assert_eq!(m["memory"], PathBuf::from("/sys/fs/cgroup/memory"));
        assert!(!m.contains_key("pids"));
        let own = own_paths("4:memory:/a/b\n1:cpu,cpuacct:/\n0::/\n");
        assert_eq!(own["memory"], "/a/b");
        assert_eq!(own["cpuacct"], "/");
    }

    #[test]
    fn made_beneath_each_controllers_own_cgroup_with_limits_written() {
        let (_t, m) = fake();
        let mut own = BTreeMap::new();
        own.insert("memory".to_string(), "/session/x".to_string());
        let cg = V1::new(&m, &own, None, "mydocker-abc").unwrap();
        cg.create().unwrap();
        assert!(!m["cpuset"].join("mydocker-abc").exists(), "cpuset made without a cpuset limit");
        let mem = m["memory"].join("session/x/mydocker-abc");
        assert!(mem.is_dir(), "memory cgroup beneath the process's own");
        std::fs::write(mem.join("cgroup.procs"), "").unwrap(); // the kernel's, in a real tree
        cg.apply(&Resources {
            memory: Some(64 << 20),
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            pids_limit: Some(10),
            cpuset_cpus: Some("0-1".into()),
            ..Default::default()
        })
        .unwrap();
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");
        let cpu = m["cpu"].join("mydocker-abc");
        assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
        assert_eq!(read(cpu.join("cpu.shares")), "512");
        assert_eq!(read(m["pids"].join("mydocker-abc/pids.max")), "10");
        // cpuset filled from its parent, so that tasks can join.
        assert_eq!(read(m["cpuset"].join("mydocker-abc/cpuset.cpus")), "0-1");
        assert_eq!(read(m["cpuset"].join("mydocker-abc/cpuset.mems")), "0");
        cg.add_task(42).unwrap();
        assert_eq!(read(mem.join("cgroup.procs")), "42");
        // Reopened from its record, it is the same cgroup.
        let again = V1::from_record(&cg.record());
        assert_eq!(again.record(), cg.record());
    }

    #[test]
    fn cgroup_parent_is_used_for_every_controller() {
        let (_t, m) = fake();
        let cg = V1::new(&m, &BTreeMap::new(), Some("/ci/jobs"), "mydocker-x").unwrap();
        assert_eq!(cg.dir("pids").unwrap(), m["pids"].join("ci/jobs/mydocker-x"));
        assert_eq!(cg.dir("cpu"), cg.dir("cpuacct"));
        assert_eq!(cg.unique_dirs().len(), 5, "cpu and cpuacct share a folder");
    }

    #[test]
    fn freeze_thaw_and_stats_read_the_v1_files() {
        let (_t, m) = fake();
        let cg = V1::new(&m, &BTreeMap::new(), None, "mydocker-f").unwrap();
        cg.create().unwrap();
        cg.freeze().unwrap();
        let state = || std::fs::read_to_string(m["freezer"].join("mydocker-f/freezer.state")).unwrap();
        assert_eq!(state(), "FROZEN");
        cg.thaw().unwrap();
        assert_eq!(state(), "THAWED");
        let w = |c: &str, f: &str, v: &str| std::fs::write(m[c].join("mydocker-f").join(f), v).unwrap();
        w("cpuacct", "cpuacct.usage", "123456\n");
        w("memory", "memory.usage_in_bytes", "4096\n");
        w("memory", "memory.limit_in_bytes", "9223372036854771712\n");
        w("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        w("pids", "pids.current", "3\n");
        let s = cg.stats().unwrap();
        assert_eq!(s, Stats { cpu_usage_ns: 123_456, memory_usage: 4096, memory_limit: None, pids: 3, oom_kills: 2 });
        w("memory", "memory.limit_in_bytes", "67108864\n");
        assert_eq!(cg.stats().unwrap().memory_limit, Some(64 << 20));
    }

    #[test]
    fn swap_limits_need_swap_accounting() {
        let (_t, m) = fake();
        let cg = V1::new(&m, &BTreeMap::new(), None, "mydocker-s").unwrap();
        std::fs::create_dir_all(m["memory"].join("mydocker-s")).unwrap();
        let r = Resources { memory: Some(64 << 20), memory_swap: Some(128 << 20), ..Default::default() };
        let err = cg.apply(&r).unwrap_err().to_string();
        assert!(err.contains("swap accounting"), "{err}");
        // Unlimited swap is what such a kernel gives anyway.
        cg.apply(&Resources { memory_swap: Some(-1), ..r }).unwrap();
        let limit = std::fs::read_to_string(m["memory"].join("mydocker-s/memory.limit_in_bytes")).unwrap();
        assert_eq!(limit, "67108864");
        assert!(!m["memory"].join("mydocker-s/memory.memsw.limit_in_bytes").exists());
    }
}
