//! Hand-parsed arguments of one xtask command: `--flag`, `--key VALUE` or
//! `--key=VALUE`, and everything after `--` kept apart.

use anyhow::{bail, Context, Result};

pub struct Args {
    command: &'static str,
    args: Vec<String>,
    after_dashes: Option<Vec<String>>,
}

impl Args {
    pub fn new(command: &'static str, mut args: Vec<String>) -> Self {
        let after_dashes = args
            .iter()
            .position(|a| a == "--")
            .map(|at| args.split_off(at).into_iter().skip(1).collect());
        Args {
            command,
            args,
            after_dashes,
        }
    }

    /// Whether `--name` was given (and take it).
    pub fn flag(&mut self, name: &str) -> bool {
        match self.args.iter().position(|a| a == name) {
            Some(at) => {
                self.args.remove(at);
                true
            }
            None => false,
        }
    }

    /// The value of `--name VALUE` or `--name=VALUE`, if given (and take it).
    pub fn value(&mut self, name: &str) -> Result<Option<String>> {
        let prefix = format!("{name}=");
        for at in 0..self.args.len() {
            if let Some(value) = self.args[at].strip_prefix(&prefix) {
                let value = value.to_string();
                self.args.remove(at);
                return Ok(Some(value));
            }
            if self.args[at] == name {
                if at + 1 >= self.args.len() {
                    bail!("{}: {name} needs a value", self.command);
                }
                let value = self.args.remove(at + 1);
                self.args.remove(at);
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// The value of `--name N` as a number, if given.
    pub fn number(&mut self, name: &str) -> Result<Option<u32>> {
        let command = self.command;
        self.value(name)?
            .map(|v| {
                v.parse()
                    .with_context(|| format!("{command}: {name} wants a whole number, not {v:?}"))
            })
            .transpose()
    }

    /// The arguments not taken yet, for a command that passes them on.
    pub fn rest(&mut self) -> Vec<String> {
        std::mem::take(&mut self.args)
    }

    /// What followed `--`, if it was there.
    pub fn after_dashes(&mut self) -> Option<Vec<String>> {
        self.after_dashes.take()
    }

    /// Fail on anything not taken.
    pub fn finish(self) -> Result<()> {
        if let Some(first) = self.args.first() {
            bail!(
                "{}: unexpected argument {first:?} (see `cargo xtask help`)",
                self.command
            );
        }
        if self.after_dashes.is_some() {
            bail!("{}: takes nothing after `--`", self.command);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new("t", list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn takes_flags_and_values_in_both_spellings() {
        let mut a = args(&["--force", "--out", "x.tar", "--runs=7"]);
        assert!(a.flag("--force"));
        assert!(!a.flag("--force"));
        assert_eq!(a.value("--out").unwrap().as_deref(), Some("x.tar"));
        assert_eq!(a.number("--runs").unwrap(), Some(7));
        a.finish().unwrap();
    }

    #[test]
    fn keeps_what_follows_dashes_apart() {
        let mut a = args(&["-p", "x", "--", "--test-threads", "1"]);
        assert_eq!(a.after_dashes().unwrap(), ["--test-threads", "1"]);
        assert_eq!(a.rest(), ["-p", "x"]);
    }

    #[test]
    fn refuses_leftovers_and_bad_numbers() {
        assert!(args(&["--nope"]).finish().is_err());
        assert!(args(&["--runs", "many"]).number("--runs").is_err());
        assert!(args(&["--out"]).value("--out").is_err());
    }
}
