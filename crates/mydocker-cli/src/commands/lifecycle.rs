//! stop, kill, start, restart, wait: one engine call per container named.

use std::time::Duration;

use anyhow::Result;
use mydocker_core::engine::{signal, Engine, LogsOptions};

use crate::cli::{KillArgs, NamesArgs, StartArgs, StopArgs};

pub fn stop(engine: &Engine, a: StopArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        engine.stop(c, Duration::from_secs(a.time))?;
        println!("{c}");
        Ok(())
    })
}

pub fn restart(engine: &Engine, a: StopArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        engine.restart(c, Duration::from_secs(a.time))?;
        println!("{c}");
        Ok(())
    })
}

pub fn kill(engine: &Engine, a: KillArgs) -> Result<i32> {
    let sig = signal::parse(&a.signal)?;
    super::for_each(&a.containers, |c| {
        engine.kill(c, sig)?;
        println!("{c}");
        Ok(())
    })
}

pub fn start(engine: &Engine, a: StartArgs) -> Result<i32> {
    if a.attach {
        let [c] = a.containers.as_slice() else {
            anyhow::bail!("start -a takes one container");
        };
        // Its output only, not the log of earlier runs.
        let from = engine.log_end(c)?;
        engine.start(c)?;
        super::logs::print(engine, c, &LogsOptions { follow: true, tail: None, from }, false)?;
        return Ok(engine.wait(c)?.unwrap_or(0));
    }
    super::for_each(&a.containers, |c| {
        engine.start(c)?;
        println!("{c}");
        Ok(())
    })
}

pub fn wait(engine: &Engine, a: NamesArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        match engine.wait(c)? {
            Some(code) => println!("{code}"),
            None => println!("unknown"),
        }
        Ok(())
    })
}
