//! `cargo xtask test [CARGO-TEST-ARGS] [-- TEST-BINARY-ARGS]`: build the
//! binary and the busybox image, then run every test of the workspace with
//! the black-box tests pointed at both.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::args::Args;
use crate::build::{self, Profile};
use crate::busybox;
use crate::util::{cargo, display, is_root, run};

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

    if names_packages(&to_cargo) {
        let mut c = test_command(&to_cargo, to_harness.as_deref(), &bin, &tar);
        run(&mut c).context("the tests failed")?;
        println!("\nall tests passed");
        return Ok(());
    }
    // Unit tests of every crate, then the black-box tests on their own, so
    // that the count of tests run as root on the real kernel is plain to see.
    let mut unit = to_cargo.clone();
    unit.extend(["--workspace".into(), "--exclude".into(), BLACK_BOX.into()]);
    let unit_result = run(&mut test_command(&unit, to_harness.as_deref(), &bin, &tar));
    let mut black_box = to_cargo.clone();
    black_box.extend(["-p".into(), BLACK_BOX.into()]);
    let (black_box_result, passed) = run_counting(&mut test_command(&black_box, to_harness.as_deref(), &bin, &tar));
    if is_root() {
        println!("\nroot tests (the real binary on the real kernel, as root): {passed} passed");
    } else {
        println!("\nroot tests: not root, so each of them skipped itself");
    }
    unit_result.context("the unit tests failed")?;
    black_box_result.context("the black-box tests failed")?;
    println!("all tests passed");
    Ok(())
}

/// The package of black-box tests.
const BLACK_BOX: &str = "mydocker-tests";

fn test_command(args: &[String], to_harness: Option<&[String]>, bin: &Path, tar: &Path) -> Command {
    let mut c = cargo();
    // Every test binary runs even after one fails: CI shows all failures.
    c.args(["test", "--no-fail-fast"]).args(args);
    if let Some(to_harness) = to_harness {
        c.arg("--").args(to_harness);
    }
    c.env(BIN_VAR, bin).env(TAR_VAR, tar);
    c
}

/// Run, echoing stdout, and add up the `N passed` of libtest's result lines.
fn run_counting(c: &mut Command) -> (Result<()>, u64) {
    let shown = display(c);
    println!("$ {shown}");
    let mut child = match c.stdout(Stdio::piped()).spawn() {
        Ok(ch) => ch,
        Err(e) => return (Err(anyhow::anyhow!("cannot start `{shown}`: {e}")), 0),
    };
    let mut passed = 0;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            passed += passed_in(&line);
        }
    }
    let result = match child.wait() {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(anyhow::anyhow!("`{shown}` failed: {st}")),
        Err(e) => Err(anyhow::anyhow!("waiting for `{shown}`: {e}")),
    };
    (result, passed)
}

/// N of a `test result: ok. N passed; ...` line, else 0.
fn passed_in(line: &str) -> u64 {
    line.strip_prefix("test result: ")
        .and_then(|rest| rest.split_once(". "))
        .and_then(|(_, counts)| counts.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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
    fn counts_passed_tests_of_result_lines() {
        assert_eq!(passed_in("test result: ok. 11 passed; 0 failed; 0 ignored"), 11);
        assert_eq!(passed_in("test result: FAILED. 3 passed; 1 failed"), 3);
        assert_eq!(passed_in("running 11 tests"), 0);
    }

    #[test]
    fn a_chosen_package_replaces_the_workspace() {
        let args = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(names_packages(&args(&["-p", "mydocker-tests"])));
        assert!(names_packages(&args(&["--package=xtask"])));
        assert!(names_packages(&args(&["-pxtask"])));
        assert!(!names_packages(&args(&["--release", "run_"])));
    }
}
