use std::io::Write;

use anyhow::Result;
use mydocker_core::engine::{Engine, LogsOptions};
use mydocker_state::log::Stream;

use crate::cli::LogsArgs;

pub fn logs(engine: &Engine, a: LogsArgs) -> Result<i32> {
    print(engine, &a.container, &LogsOptions { follow: a.follow, tail: a.tail, from: 0 }, a.timestamps)?;
    Ok(0)
}

/// Each line to the stream it came from.
pub fn print(engine: &Engine, container: &str, o: &LogsOptions, timestamps: bool) -> Result<()> {
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    engine.logs(container, o, &mut |e| {
        let w: &mut dyn Write = match e.stream {
            Stream::Stdout => &mut out,
            Stream::Stderr => &mut err,
        };
        if timestamps {
            write!(w, "{} ", e.time)?;
        }
        w.write_all(e.log.as_bytes())?;
        w.flush()
    })?;
    Ok(())
}
