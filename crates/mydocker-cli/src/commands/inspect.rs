use anyhow::Result;
use mydocker_core::engine::Engine;

use crate::cli::NamesArgs;

pub fn inspect(engine: &Engine, a: NamesArgs) -> Result<i32> {
    let mut all = Vec::new();
    let mut failed = false;
    for c in &a.containers {
        match engine.inspect(c) {
            Ok(v) => all.push(v),
            Err(e) => {
                eprintln!("mydocker: {e}");
                failed = true;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(if failed { 1 } else { 0 })
}
