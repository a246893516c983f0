//! `cargo xtask test [CARGO-TEST-ARGS] [-- TEST-BINARY-ARGS]`: build the
//! binary and the busybox image, then run every test of the workspace with
//! the black-box tests pointed at both.

use anyhow::{Context, Result};

use crate::args::Args;
use crate::build::{self, Profile};
use crate::busybox;
use crate::util::{cargo, is_root, run};

/// Read by the `tests/` crate: the binary under test.
pub const BIN_VAR: &str = "MYDOCKER_BIN";
/// Read by the `tests/` crate: the busybox rootfs tarball to import.
pub const TAR_VAR: &str = "MYDOCKER_BUSYBOX_TAR";

pub fn main(mut args: Args) -> Result<()> {
    let to_harness = args.after_dashes();
    let to_cargo = args.rest();
    if !is_root() {
        println!(
            "warning: not root: the black-box tests in tests/ need root and will fail or skip"
        );
    }
    busybox::ensure_static()?;
    let bin = build::mydocker(Profile::Debug)?;
    let tar = busybox::make_tar(None, false)?;

    let mut c = cargo();
    // Every test binary runs even after one fails: CI shows all failures.
    c.args(["test", "--no-fail-fast"]);
    if !names_packages(&to_cargo) {
        c.arg("--workspace");
    }
    c.args(&to_cargo);
    if let Some(to_harness) = to_harness {
        c.arg("--").args(to_harness);
    }
    c.env(BIN_VAR, &bin).env(TAR_VAR, &tar);
    run(&mut c).context("the tests failed")?;
    println!("\nall tests passed");
    Ok(())
}

/// Whether the user chose packages themselves (then `--workspace` would
/// override their choice).
fn names_packages(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_package_replaces_the_workspace() {
        let args = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(names_packages(&args(&["-p", "mydocker-tests"])));
        assert!(names_packages(&args(&["--package=xtask"])));
        assert!(names_packages(&args(&["-pxtask"])));
        assert!(!names_packages(&args(&["--release", "run_"])));
    }
}
