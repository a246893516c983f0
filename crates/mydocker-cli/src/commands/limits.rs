//! stats, pause, unpause, update.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use mydocker_core::engine::Engine;
use mydocker_state::id;

use crate::cli::{NamesArgs, StatsArgs, UpdateArgs};
use crate::output::{human_size, table};

pub fn stats(engine: &Engine, a: StatsArgs) -> Result<i32> {
    loop {
        let rows: Vec<Vec<String>> = engine
            .stats(&a.containers, Duration::from_millis(500))?
            .into_iter()
            .map(|s| {
                let limit = s.stats.memory_limit.map(human_size).unwrap_or_else(|| "unlimited".into());
                vec![
                    id::short(&s.id).to_string(),
                    s.name,
                    format!("{:.2}%", s.cpu_percent),
                    format!("{} / {}", human_size(s.stats.memory_usage), limit),
                    s.stats.pids.to_string(),
                ]
            })
            .collect();
        let text = table(&["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "PIDS"], &rows);
        if a.no_stream {
            print!("{text}");
            return Ok(0);
        }
        // Redraw in place, as docker stats does.
        print!("\x1b[2J\x1b[H{text}");
        std::io::stdout().flush()?;
    }
}

pub fn pause(engine: &Engine, a: NamesArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        engine.pause(c)?;
        println!("{c}");
        Ok(())
    })
}

pub fn unpause(engine: &Engine, a: NamesArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        engine.unpause(c)?;
        println!("{c}");
        Ok(())
    })
}

pub fn update(engine: &Engine, a: UpdateArgs) -> Result<i32> {
    let limits = a.limits.into();
    super::for_each(&a.containers, |c| {
        engine.update(c, &limits)?;
        println!("{c}");
        Ok(())
    })
}
