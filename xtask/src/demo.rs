//! `cargo xtask demo`: from a fresh machine to a running, isolated
//! container: busybox-static, a release build, busybox.tar imported as
//! `busybox`, then one container that shows what it can see.

use anyhow::{bail, Result};

use crate::args::Args;
use crate::build::{self, Profile};
use crate::busybox;
use crate::mydocker::Mydocker;
use crate::util::{is_root, run};

/// What the demo container runs: its hostname, its pid, its processes, its
/// network interfaces and its mounts, all of them its own.
const SCRIPT: &str = concat!(
    r#"echo "hostname: $(hostname)"; echo "pid: $$"; "#,
    r#"echo "processes:"; ps -o pid,user,comm; "#,
    r#"echo "interfaces:"; ls /sys/class/net; "#,
    r#"echo "mounts:"; head /proc/mounts"#,
);

pub fn main(args: Args) -> Result<()> {
    args.finish()?;
    if !is_root() {
        bail!("demo: mydocker makes namespaces and mounts, so it needs root: run it as root");
    }
    step("1/4 busybox-static");
    let busybox = busybox::ensure_static()?;
    println!("{} is a static busybox", busybox.display());
    step("2/4 build mydocker (release)");
    let bin = build::mydocker(Profile::Release)?;
    step("3/4 busybox.tar, imported as busybox");
    let tar = busybox::make_tar(None, false)?;
    let mydocker = Mydocker { bin, root: None };
    match std::env::var_os("MYDOCKER_ROOT") {
        Some(root) => println!("state root: {} (MYDOCKER_ROOT)", root.to_string_lossy()),
        None => println!("state root: /var/lib/mydocker (set MYDOCKER_ROOT to move it)"),
    }
    mydocker.import_once(&tar, "busybox")?;
    step("4/4 a container: its own hostname, pids, network and mounts");
    run(&mut mydocker.cmd([
        "run",
        "--rm",
        "--hostname",
        "demo",
        "busybox",
        "sh",
        "-c",
        SCRIPT,
    ]))?;
    println!();
    println!("Try it yourself:");
    println!("  {} run -it --rm busybox sh", mydocker.bin.display());
    Ok(())
}

fn step(title: &str) {
    println!("\n==> {title}");
}
