//! mydocker: parse, call one engine function per command, print, and map
//! errors to docker's exit codes (125 engine, 126 cannot run, 127 not found).

mod cli;
mod commands;
mod compat;
mod output;
mod report;

use clap::Parser;

fn main() {
    let cli = match cli::Cli::try_parse_from(compat::normalize(std::env::args_os().collect())) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    init_logging(&cli.log_level);
    let code = match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mydocker: {}", report::render(&e));
            commands::exit_code_of(&e)
        }
    };
    std::process::exit(code);
}

fn init_logging(level: &str) {
    let filter = level.parse().unwrap_or(log::LevelFilter::Warn);
    let config = simplelog::ConfigBuilder::new().set_time_level(log::LevelFilter::Off).build();
    let _ = simplelog::TermLogger::init(filter, config, simplelog::TerminalMode::Stderr, simplelog::ColorChoice::Never);
}
