use anyhow::{Context, Result};
use mydocker_core::engine::{Engine, RunOptions, RunOutcome};

use crate::cli::RunArgs;

pub fn run(engine: &Engine, a: RunArgs) -> Result<i32> {
    let mut words = a.image_and_command.into_iter();
    let image = words.next().unwrap_or_default();
    let opts = RunOptions {
        image: image.clone(),
        command: words.collect(),
        name: a.name,
        env: a.env,
        env_files: a.env_file,
        workdir: a.workdir,
        volumes: a.volume,
        hostname: a.hostname,
        interactive: a.interactive,
        tty: a.tty,
        auto_remove: a.rm,
        detach: a.detach,
        limits: a.limits.into(),
    };
    match engine.run(opts).with_context(|| format!("running a container of {image}"))? {
        RunOutcome::Exited(code) => Ok(code),
        RunOutcome::Detached(id) => {
            println!("{id}");
            Ok(0)
        }
    }
}
