//! What `run` was asked for, checked before anything is made.

use std::path::PathBuf;

use mydocker_cgroups::Resources;

use super::env;
use super::volume::Volume;
use crate::CoreError;

/// `run` as the user wrote it.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub image: String,
    /// The command and its arguments; empty means the image's default.
    pub command: Vec<String>,
    pub name: Option<String>,
    pub env: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub workdir: Option<String>,
    pub volumes: Vec<String>,
    pub hostname: Option<String>,
    pub interactive: bool,
    pub tty: bool,
    pub auto_remove: bool,
    /// -d: run in the background under a monitor.
    pub detach: bool,
    pub limits: LimitOptions,
}

/// Resource limit flags as written (`-m 100m`, `--cpus 0.5`, ...).
#[derive(Debug, Clone, Default)]
pub struct LimitOptions {
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub cpu_shares: Option<String>,
    pub cpus: Option<String>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<String>,
    pub cgroup_parent: Option<String>,
}

impl LimitOptions {
    /// Parse every value; a bad one is refused before anything is made.
    pub fn parse(&self) -> Result<Resources, CoreError> {
        use mydocker_cgroups::resources as r;
        let mut res = Resources::default();
        if let Some(v) = &self.memory {
            res.memory = Some(r::parse_memory(v)?);
        }
        if let Some(v) = &self.memory_swap {
            res.memory_swap = Some(r::parse_memory_swap(v, res.memory)?);
        }
        if let Some(v) = &self.cpu_shares {
            res.cpu_shares = r::parse_cpu_shares(v)?;
        }
        if let Some(v) = &self.cpus {
            let (quota, period) = r::parse_cpus(v)?;
            res.cpu_quota = Some(quota);
            res.cpu_period = Some(period);
        }
        if let Some(v) = &self.cpuset_cpus {
            res.cpuset_cpus = Some(r::parse_cpuset_cpus(v)?);
        }
        if let Some(v) = &self.cpuset_mems {
            res.cpuset_mems = Some(r::parse_cpuset_mems(v)?);
        }
        if let Some(v) = &self.pids_limit {
            res.pids_limit = r::parse_pids_limit(v)?;
        }
        if let Some(p) = &self.cgroup_parent {
            if !p.starts_with('/') || p.split('/').any(|c| c == "..") {
                return Err(CoreError::Invalid(format!(
                    "invalid --cgroup-parent {p:?}: it must be an absolute cgroup path without \"..\""
                )));
            }
        }
        Ok(res)
    }
}

/// `run`, checked: every value parsed, files read.
#[derive(Debug, Clone)]
pub struct ValidRun {
    pub opts: RunOptions,
    /// Variables from env files and -e flags, in order.
    pub env: Vec<String>,
    pub volumes: Vec<Volume>,
    pub resources: Resources,
}

impl RunOptions {
    pub fn validate(self) -> Result<ValidRun, CoreError> {
        if let Some(n) = &self.name {
            mydocker_state::name::validate(n)?;
        }
        if let Some(h) = &self.hostname {
            validate_hostname(h)?;
        }
        if let Some(w) = &self.workdir {
            if !w.starts_with('/') {
                return Err(CoreError::Invalid(format!(
                    "the working directory {w:?} is invalid: it must be an absolute path"
                )));
            }
        }
        let host = |k: &str| std::env::var(k).ok();
        let mut vars = Vec::new();
        for f in &self.env_files {
            vars.extend(env::read_file(f, host)?);
        }
        for e in &self.env {
            vars.extend(env::from_flag(e, host)?);
        }
        let volumes = self.volumes.iter().map(|v| Volume::parse(v)).collect::<Result<Vec<_>, _>>()?;
        for (i, v) in volumes.iter().enumerate() {
            if volumes[..i].iter().any(|w| w.container == v.container) {
                return Err(CoreError::Invalid(format!(
                    "duplicate mount point {}",
                    v.container.display()
                )));
            }
        }
        let resources = self.limits.parse()?;
        Ok(ValidRun { opts: self, env: vars, volumes, resources })
    }
}

/// RFC 1123 labels: letters, digits and '-', dot-separated, at most 64 bytes.
fn validate_hostname(h: &str) -> Result<(), CoreError> {
    let ok = !h.is_empty()
        && h.len() <= 64
        && h.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!("invalid hostname {h:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunOptions {
        RunOptions { image: "busybox".into(), command: vec!["true".into()], ..Default::default() }
    }

    #[test]
    fn bad_names_hostnames_and_workdirs_are_refused() {
        assert!(RunOptions { name: Some("../../x".into()), ..run() }.validate().is_err());
        assert!(RunOptions { hostname: Some("bad_host".into()), ..run() }.validate().is_err());
        assert!(RunOptions { workdir: Some("rel".into()), ..run() }.validate().is_err());
        assert!(RunOptions { volumes: vec!["/a:/x".into(), "/b:/x".into()], ..run() }.validate().is_err());
    }

    #[test]
    fn good_options_pass() {
        let v = RunOptions {
            name: Some("web".into()),
            hostname: Some("web-1.local".into()),
            workdir: Some("/srv".into()),
            env: vec!["A=1".into()],
            volumes: vec!["/tmp:/data:ro".into()],
            ..run()
        }
        .validate()
        .unwrap();
        assert_eq!(v.env, vec!["A=1".to_string()]);
        assert!(v.volumes[0].readonly);
    }
}
