use anyhow::{Context, Result};
use mydocker_core::engine::{Engine, ExecOptions};

use crate::cli::ExecArgs;

pub fn exec(engine: &Engine, a: ExecArgs) -> Result<i32> {
    let mut words = a.container_and_command.into_iter();
    let container = words.next().unwrap_or_default();
    let opts = ExecOptions {
        container: container.clone(),
        command: words.collect(),
        interactive: a.interactive,
        tty: a.tty,
        detach: a.detach,
        env: a.env,
        workdir: a.workdir,
    };
    engine.exec(opts).with_context(|| format!("exec in {container}"))
}
