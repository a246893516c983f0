use anyhow::Result;
use mydocker_core::engine::Engine;
use mydocker_state::{id, time};

use crate::output::{human_size, table};

pub fn images(engine: &Engine) -> Result<i32> {
    let rows: Vec<Vec<String>> = engine
        .images()?
        .iter()
        .map(|i| vec![i.name.clone(), id::short(&i.id).to_string(), human_size(i.size), time::human_since(&i.created)])
        .collect();
    print!("{}", table(&["NAME", "IMAGE ID", "SIZE", "CREATED"], &rows));
    Ok(0)
}
