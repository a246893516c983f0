use anyhow::Result;
use mydocker_core::engine::Engine;

use crate::cli::RmArgs;

pub fn rm(engine: &Engine, a: RmArgs) -> Result<i32> {
    super::for_each(&a.containers, |c| {
        engine.rm(c, a.force)?;
        println!("{c}");
        Ok(())
    })
}
