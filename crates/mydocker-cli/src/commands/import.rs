use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use mydocker_core::engine::Engine;

use crate::cli::ImportArgs;
use crate::output::human_size;

pub fn import(engine: &Engine, a: ImportArgs) -> Result<i32> {
    let show = std::io::stderr().is_terminal();
    let mut progress = |done: u64, total: u64| {
        if show {
            let pct = (done * 100).checked_div(total).unwrap_or(100);
            eprint!("\rimporting {}: {} / {} ({pct}%)", a.name, human_size(done), human_size(total));
            let _ = std::io::stderr().flush();
        }
    };
    let img = engine
        .import(&a.file, &a.name, &mut progress)
        .with_context(|| format!("importing {} as {}", a.file.display(), a.name))?;
    if show {
        eprintln!();
    }
    println!("{}", img.id);
    Ok(0)
}
