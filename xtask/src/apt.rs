//! Installing what the xtasks need from Debian's packages, non-interactively,
//! and only when it is missing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Result};

use crate::util::{cmd, is_root, run, which};

static UPDATED: AtomicBool = AtomicBool::new(false);

/// `apt-get install -y` the packages (after one `apt-get update` per run).
pub fn install(packages: &[&str]) -> Result<()> {
    if which("apt-get").is_none() {
        bail!(
            "{} missing and there is no apt-get here to install it: install it by hand",
            packages.join(", ")
        );
    }
    if !is_root() {
        bail!(
            "{} missing: installing needs root (`sudo apt-get install {}`)",
            packages.join(", "),
            packages.join(" ")
        );
    }
    if !UPDATED.swap(true, Ordering::SeqCst) {
        run(cmd("apt-get")
            .args(["update", "-q"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    run(cmd("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The path of `program`, installing `package` first when it is not on PATH.
pub fn ensure_program(program: &str, package: &str) -> Result<PathBuf> {
    if let Some(path) = which(program) {
        return Ok(path);
    }
    println!("{program} not found: installing the Debian package {package}");
    install(&[package])?;
    match which(program) {
        Some(path) => Ok(path),
        None => bail!("installed {package} but {program} is still not on PATH"),
    }
}
