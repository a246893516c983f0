//! stats, pause, unpause and update: what a running container's cgroup
//! shows and allows. And the cgroup's end when the container ends.

use std::time::{Duration, Instant};

use mydocker_cgroups::{CgroupManager, Resources, Stats};
use mydocker_state::{ContainerRecord, Status};
use oci_spec::runtime::Spec;

use super::launch::CONFIG_FILE;
use super::options::LimitOptions;
use super::Engine;
use crate::CoreError;

/// One line of `stats`.
#[derive(Debug, Clone)]
pub struct ContainerStats {
    pub id: String,
    pub name: String,
    /// Percent of one CPU over the sampling interval.
    pub cpu_percent: f64,
    pub stats: Stats,
}

/// The cgroup a record names, if any.
pub(crate) fn cgroup_of(rec: &ContainerRecord) -> Result<Option<Box<dyn CgroupManager>>, CoreError> {
    match &rec.cgroup {
        None => Ok(None),
        Some(v) => Ok(Some(mydocker_cgroups::open_recorded(v)?)),
    }
}

/// Once the container has ended: note an OOM kill, then remove its cgroup.
pub(crate) fn release_cgroup(rec: &mut ContainerRecord) {
    let cg = match cgroup_of(rec) {
        Ok(Some(cg)) => cg,
        Ok(None) => return,
        Err(e) => {
            log::warn!("container {}: its cgroup: {e}", rec.name);
            return;
        }
    };
    // Only a SIGKILLed container can have been OOM-killed: read no more than that needs.
    if rec.exit_code == Some(137) {
        rec.oom_killed = cg.stats().map(|s| s.oom_kills > 0).unwrap_or(false);
    }
    // The last processes of the container may still be on their way out.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match cg.remove() {
            Ok(()) => break,
            Err(e) if Instant::now() < deadline => {
                log::debug!("container {}: removing its cgroup: {e}; again", rec.name);
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                log::warn!("container {}: removing its cgroup: {e}", rec.name);
                break;
            }
        }
    }
    rec.cgroup = None;
}

impl Engine {
    fn running_cgroup(&self, reference: &str) -> Result<(ContainerRecord, Box<dyn CgroupManager>), CoreError> {
        let id = self.containers.resolve(reference)?;
        let rec = self.containers.load(&id)?;
        if !rec.status.is_live() {
            return Err(CoreError::Conflict(format!("container {reference} is not running")));
        }
        let cg = cgroup_of(&rec)?
            .ok_or_else(|| CoreError::Conflict(format!("container {reference} has no cgroup")))?;
        Ok((rec, cg))
    }

    /// CPU %, memory and pids of running containers (all when `names` is empty),
    /// sampled over `interval`.
    pub fn stats(&self, names: &[String], interval: Duration) -> Result<Vec<ContainerStats>, CoreError> {
        let mut targets = Vec::new();
        if names.is_empty() {
            for rec in self.containers.list()? {
                if rec.status.is_live() {
                    if let Ok(Some(cg)) = cgroup_of(&rec) {
                        targets.push((rec, cg));
                    }
                }
            }
        } else {
            for n in names {
                targets.push(self.running_cgroup(n)?);
            }
        }
        let first: Vec<(Instant, u64)> = targets
            .iter()
            .map(|(_, cg)| (Instant::now(), cg.stats().map(|s| s.cpu_usage_ns).unwrap_or(0)))
            .collect();
        std::thread::sleep(interval);
        let mut out = Vec::new();
        for ((rec, cg), (t0, cpu0)) in targets.into_iter().zip(first) {
            let Ok(stats) = cg.stats() else { continue }; // ended meanwhile
            let wall = t0.elapsed().as_nanos().max(1) as f64;
            let cpu_percent = stats.cpu_usage_ns.saturating_sub(cpu0) as f64 * 100.0 / wall;
            out.push(ContainerStats { id: rec.id, name: rec.name, cpu_percent, stats });
        }
        Ok(out)
    }

    /// Freeze every process of the container.
    pub fn pause(&self, reference: &str) -> Result<(), CoreError> {
        let id = self.containers.resolve(reference)?;
        let _lock = self.containers.lock(&id)?;
        let (mut rec, cg) = self.running_cgroup(&id)?;
        if rec.status == Status::Paused {
            return Err(CoreError::Conflict(format!("container {reference} is already paused")));
        }
        cg.freeze()?;
        rec.status = Status::Paused;
        self.containers.save(&rec)?;
        Ok(())
    }

    /// Thaw a paused container.
    pub fn unpause(&self, reference: &str) -> Result<(), CoreError> {
        let id = self.containers.resolve(reference)?;
        let _lock = self.containers.lock(&id)?;
        let (mut rec, cg) = self.running_cgroup(&id)?;
        if rec.status != Status::Paused {
            return Err(CoreError::Conflict(format!("container {reference} is not paused")));
        }
        cg.thaw()?;
        rec.status = Status::Running;
        self.containers.save(&rec)?;
        Ok(())
    }

    /// Change the limits of a running container; they are kept in its
    /// config.json for its next start too.
    pub fn update(&self, reference: &str, limits: &LimitOptions) -> Result<Resources, CoreError> {
        let resources = limits.parse()?;
        if resources.is_empty() {
            return Err(CoreError::Invalid("update needs at least one limit (--memory, --cpus, ...)".into()));
        }
        let id = self.containers.resolve(reference)?;
        let _lock = self.containers.lock(&id)?;
        let (_, cg) = self.running_cgroup(&id)?;
        cg.apply(&resources)?;
        let path = self.containers.dir(&id).join(CONFIG_FILE);
        let mut spec: Spec = mydocker_state::atomic::read_json(&path)?;
        if let Some(linux) = spec.linux_mut().as_mut() {
            let merged = merge(
                linux.resources().as_ref().map(crate::runtime::cgroup::resources).unwrap_or_default(),
                &resources,
            );
            linux.set_resources(Some(super::spec::linux_resources(&merged)?));
        }
        mydocker_state::atomic::write_json(&path, &spec)?;
        Ok(resources)
    }
}

/// `base` with every limit `new` sets replaced.
fn merge(mut base: Resources, new: &Resources) -> Resources {
    macro_rules! take {
        ($($f:ident),*) => { $( if new.$f.is_some() { base.$f = new.$f.clone(); } )* };
    }
    take!(memory, memory_swap, cpu_shares, cpu_quota, cpu_period, cpuset_cpus, cpuset_mems, pids_limit);
    base
}
