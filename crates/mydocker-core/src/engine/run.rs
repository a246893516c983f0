//! run: image + flags -> Spec -> a container, in the foreground or detached.
//!
//! 1. check every flag (nothing is made when one is bad);
//! 2. reserve the ID and name, make the writable layer, write config.json
//!    (the Spec) and state.json;
//! 3. launch: init is cloned into its namespaces and builds its root while
//!    the pid is recorded (the two overlap), then execs the command.

use mydocker_fs::overlay::OverlayDirs;
use mydocker_state::{id, ContainerRecord};

use super::attach::SignalBlock;
use super::launch::{Mode, CONFIG_FILE};
use super::options::RunOptions;
use super::spec::{self, ImageView};
use super::Engine;
use crate::CoreError;

/// What `run` gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// A foreground container ended with this code.
    Exited(i32),
    /// A detached container runs with this ID.
    Detached(String),
}

impl Engine {
    pub fn run(&self, opts: RunOptions) -> Result<RunOutcome, CoreError> {
        let run = opts.validate()?;
        // Signals wait in a queue from here on: one that arrives while the
        // container is being made is forwarded to it once it runs, instead
        // of killing mydocker half-way.
        let signals = SignalBlock::new()?;
        let image_users = self.image_users_lock(false)?;
        let images = self.image_store()?;
        let image = images.get(&run.opts.image)?;
        let view = ImageView {
            env: image.config.env.clone(),
            cmd: image.config.cmd.clone(),
            working_dir: image.config.working_dir.clone(),
            lowers: images.lower_dirs(&image),
        };
        for v in &run.volumes {
            std::fs::create_dir_all(&v.host)
                .map_err(CoreError::io(format!("creating volume folder {}", v.host.display())))?;
        }

        let command = if run.opts.command.is_empty() { view.cmd.clone() } else { run.opts.command.clone() };
        if command.is_empty() {
            return Err(CoreError::Invalid("no command given and the image has no default command".into()));
        }

        let mut made = None;
        let reservation = self.containers.reserve(run.opts.name.as_deref(), |id, name| {
            let mut rec = ContainerRecord::new(id.into(), name.into(), run.opts.image.clone(), image.id.clone(), command);
            rec.auto_remove = run.opts.auto_remove;
            rec.detached = run.opts.detach;
            rec.tty = run.opts.tty;
            made = Some(rec.clone());
            rec
        })?;
        drop(image_users);
        let rec = made.ok_or_else(|| CoreError::Invalid("the container record was not made".into()))?;
        let dir = reservation.dir();
        let dirs = OverlayDirs::in_container_dir(&dir);
        dirs.create()?;
        let hostname = run.opts.hostname.clone().unwrap_or_else(|| id::short(&reservation.id).to_string());
        let spec = spec::build(&view, &run, &dirs, &reservation.id, &hostname)?;
        mydocker_state::atomic::write_json_unsynced(&dir.join(CONFIG_FILE), &spec)?;
        // From here the container exists: a failure to start is recorded on
        // it (as docker does), or it is removed with --rm.
        let id = reservation.id.clone();
        reservation.keep();

        if run.opts.detach {
            self.launch(rec, &spec, Mode::Detached { lock: None }, &signals)?;
            Ok(RunOutcome::Detached(id))
        } else {
            let mode = Mode::Foreground { interactive: run.opts.interactive };
            self.launch(rec, &spec, mode, &signals).map(RunOutcome::Exited)
        }
    }
}
