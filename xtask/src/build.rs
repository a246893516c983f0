//! Building the `mydocker` binary and finding where cargo put it.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{bail, Result};

use crate::util::{cargo, display, output};

pub enum Profile {
    Debug,
    Release,
}

/// `cargo build [--release] -p mydocker-cli`; returns the absolute path of
/// the `mydocker` executable, read from cargo's own JSON messages (so it is
/// right whatever the target dir is).
pub fn mydocker(profile: Profile) -> Result<PathBuf> {
    let mut c = cargo();
    // Both binaries: `mydocker` and the `mydocker-monitor` it execs beside itself.
    c.args(["build", "-p", "mydocker-cli", "--bins"]);
    if let Profile::Release = profile {
        c.arg("--release");
    }
    c.arg("--message-format=json-render-diagnostics");
    let shown = display(&c);
    println!("$ {shown}");
    // stdout carries the JSON messages; compiler output stays on stderr.
    let stdout = output(c.stderr(Stdio::inherit()))?;
    match executable_named(&stdout, "mydocker") {
        Some(path) => Ok(path),
        None => bail!("`{shown}` succeeded but named no mydocker executable"),
    }
}

/// The last `executable` of a compiler-artifact for target `name` in cargo's
/// JSON message stream.
fn executable_named(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"mydocker_core"},"executable":null}
not json at all
{"reason":"compiler-artifact","target":{"name":"mydocker"},"executable":"/w/target/debug/mydocker"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_named(messages, "mydocker"),
            Some(PathBuf::from("/w/target/debug/mydocker"))
        );
        assert_eq!(executable_named(messages, "other"), None);
    }
}
