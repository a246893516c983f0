use anyhow::Result;
use mydocker_core::engine::Engine;
use mydocker_state::{id, time};

use crate::cli::PsArgs;
use crate::output::table;

pub fn ps(engine: &Engine, a: PsArgs) -> Result<i32> {
    let list = engine.ps()?;
    if a.format == "json" {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(0);
    }
    if a.format != "table" {
        anyhow::bail!("unknown format {:?}: use table or json", a.format);
    }
    if a.quiet {
        for c in &list {
            println!("{}", id::short(&c.id));
        }
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                id::short(&c.id).to_string(),
                c.name.clone(),
                c.image.clone(),
                if c.pid > 0 { c.pid.to_string() } else { String::new() },
                c.status_text(),
                c.command.join(" "),
                time::human_since(&c.created),
            ]
        })
        .collect();
    print!("{}", table(&["CONTAINER ID", "NAME", "IMAGE", "PID", "STATUS", "COMMAND", "CREATED"], &rows));
    let _ = a.all; // every container is listed, as the series does
    Ok(0)
}
