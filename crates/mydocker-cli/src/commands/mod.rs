//! One file per command; each calls one engine function and prints.

mod exec;
mod images;
mod import;
mod inspect;
mod lifecycle;
mod limits;
mod logs;
mod ps;
mod rm;
mod rmi;
mod run;

use anyhow::Result;
use mydocker_core::engine::Engine;
use mydocker_core::CoreError;

use crate::cli::{Cli, Command};

/// Run the command; Ok holds the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    let engine = Engine::open(&cli.root)?;
    match cli.command {
        Command::Run(a) => run::run(&engine, a),
        Command::Ps(a) => ps::ps(&engine, a),
        Command::Rm(a) => rm::rm(&engine, a),
        Command::Exec(a) => exec::exec(&engine, a),
        Command::Stop(a) => lifecycle::stop(&engine, a),
        Command::Kill(a) => lifecycle::kill(&engine, a),
        Command::Start(a) => lifecycle::start(&engine, a),
        Command::Restart(a) => lifecycle::restart(&engine, a),
        Command::Wait(a) => lifecycle::wait(&engine, a),
        Command::Inspect(a) => inspect::inspect(&engine, a),
        Command::Logs(a) => logs::logs(&engine, a),
        Command::Stats(a) => limits::stats(&engine, a),
        Command::Pause(a) => limits::pause(&engine, a),
        Command::Unpause(a) => limits::unpause(&engine, a),
        Command::Update(a) => limits::update(&engine, a),
        Command::Import(a) => import::import(&engine, a),
        Command::Images => images::images(&engine),
        Command::Rmi(a) => rmi::rmi(&engine, a),
    }
}

/// docker's code for an error: the engine's own when it says, else 125.
pub fn exit_code_of(e: &anyhow::Error) -> i32 {
    e.chain()
        .find_map(|c| c.downcast_ref::<CoreError>())
        .map(|c| c.exit_code())
        .unwrap_or(mydocker_core::error::EXIT_ENGINE)
}

/// Do `f` for each name; report each failure and go on, as docker does.
fn for_each(names: &[String], mut f: impl FnMut(&str) -> Result<()>) -> Result<i32> {
    let mut failed = false;
    for n in names {
        if let Err(e) = f(n) {
            eprintln!("mydocker: {}", crate::report::render(&e));
            failed = true;
        }
    }
    Ok(if failed { 1 } else { 0 })
}
