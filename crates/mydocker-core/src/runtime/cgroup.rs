//! The container's cgroup, as its Spec describes it: `linux.cgroupsPath`
//! (relative: beneath the cgroup of the process that starts the container;
//! absolute: exactly there) and `linux.resources`.

use std::path::Path;

use mydocker_cgroups::{CgroupManager, Resources};
use oci_spec::runtime::{LinuxResources, Spec};

use crate::CoreError;

/// The limits the Spec asks for, in mydocker-cgroups' terms.
pub fn resources(r: &LinuxResources) -> Resources {
    let mut out = Resources::default();
    if let Some(m) = r.memory() {
        out.memory = m.limit();
        out.memory_swap = m.swap();
    }
    if let Some(c) = r.cpu() {
        out.cpu_shares = c.shares();
        out.cpu_quota = c.quota();
        out.cpu_period = c.period();
        out.cpuset_cpus = c.cpus().clone();
        out.cpuset_mems = c.mems().clone();
    }
    if let Some(p) = r.pids() {
        out.pids_limit = Some(p.limit());
    }
    out
}

/// A handle on the cgroup the Spec names, not made yet: where it will be,
/// so that a caller can record that before anything is made. None when the
/// Spec names no cgroup.
pub fn planned(spec: &Spec) -> Result<Option<Box<dyn CgroupManager>>, CoreError> {
    let Some(path) = spec.linux().as_ref().and_then(|l| l.cgroups_path().as_ref()) else { return Ok(None) };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| CoreError::Invalid(format!("invalid cgroupsPath {}", path.display())))?;
    let parent = path.parent().filter(|p| p.is_absolute()).map(Path::to_string_lossy);
    Ok(Some(mydocker_cgroups::for_container(&name, parent.as_deref())?))
}

/// Make the cgroup, with the Spec's limits, and put `pid` in it; on failure
/// nothing of it is left.
pub(crate) fn make(cg: &dyn CgroupManager, spec: &Spec, pid: i32) -> Result<(), CoreError> {
    let made = (|| {
        cg.create()?;
        if let Some(r) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) {
            cg.apply(&resources(r))?;
        }
        cg.add_task(pid)
    })();
    if let Err(e) = made {
        let _ = cg.remove();
        return Err(e.into());
    }
    Ok(())
}
