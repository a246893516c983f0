use anyhow::Result;
use mydocker_core::engine::Engine;

use crate::cli::RmiArgs;

pub fn rmi(engine: &Engine, a: RmiArgs) -> Result<i32> {
    super::for_each(&a.images, |i| {
        let img = engine.rmi(i)?;
        println!("Deleted: {}", img.id);
        Ok(())
    })
}
