//! exec: run a command in a running container: its namespaces, its
//! environment (then -e), its working directory unless -w.

use mydocker_state::Status;
use oci_spec::runtime::Spec;

use super::attach::{wait_attached, SignalBlock};
use super::launch::CONFIG_FILE;
use super::output::Outputs;
use super::stop::live_pidfd;
use super::{env, Engine};
use crate::runtime::{self, dev_null, Stdio};
use crate::CoreError;

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub container: String,
    pub command: Vec<String>,
    pub interactive: bool,
    pub tty: bool,
    pub detach: bool,
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

impl Engine {
    /// Returns the command's exit code (0 at once with detach).
    pub fn exec(&self, o: ExecOptions) -> Result<i32, CoreError> {
        if o.command.is_empty() {
            return Err(CoreError::Invalid("exec needs a command".into()));
        }
        if let Some(w) = &o.workdir {
            if !w.starts_with('/') {
                return Err(CoreError::Invalid(format!("the working directory {w:?} must be an absolute path")));
            }
        }
        let mut extra = Vec::new();
        for e in &o.env {
            extra.extend(env::from_flag(e, |k| std::env::var(k).ok())?);
        }
        let signals = SignalBlock::new()?;
        let id = self.containers.resolve(&o.container)?;
        let rec = self.containers.load(&id)?;
        let not_running = || CoreError::Conflict(format!("container {} is not running ({})", o.container, rec.status_text()));
        if rec.status != Status::Running {
            return Err(not_running());
        }
        let Some(container) = live_pidfd(&rec)? else { return Err(not_running()) };
        let mut spec: Spec = mydocker_state::atomic::read_json(&self.containers.dir(&id).join(CONFIG_FILE))?;
        let mut process = spec.process().clone().ok_or_else(|| CoreError::Invalid("the container has no process".into()))?;
        let base_env = process.env().clone().unwrap_or_default();
        let mut tty_env = Vec::new();
        if o.tty {
            tty_env.push("TERM=xterm".to_string());
        }
        process.set_env(Some(env::merge(&[&base_env, &tty_env, &extra])));
        process.set_args(Some(o.command.clone()));
        process.set_terminal(Some(o.tty && !o.detach));
        if let Some(w) = &o.workdir {
            process.set_cwd(w.into());
        }
        spec.set_process(Some(process));

        let stdio = if o.detach {
            Stdio { stdin: Some(dev_null()?), stdout: Some(dev_null()?), stderr: Some(dev_null()?) }
        } else {
            Stdio::foreground(o.interactive)?
        };
        let cgroup = super::limits::cgroup_of(&rec)?;
        let created = runtime::exec_in(&container, &spec, stdio, cgroup)?;
        let running = created.start()?;
        if o.detach {
            return Ok(0);
        }
        wait_attached(running, &signals, o.interactive, Outputs::new(None, true))
    }
}
