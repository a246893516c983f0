//! mydocker-monitor: the small program a detached container's monitor
//! becomes once the container runs (`run -d`, `start`). It writes the
//! container's log, waits for its end and records it. It links only that
//! code, so it stays small in memory for as long as the container runs.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(mydocker_core::engine::monitor::resume(&args));
}
