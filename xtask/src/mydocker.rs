//! Driving the built `mydocker` binary: images in, images out.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{cmd, output, run};

pub struct Mydocker {
    pub bin: PathBuf,
    /// `--root DIR`; None leaves it to MYDOCKER_ROOT or the default.
    pub root: Option<PathBuf>,
}

impl Mydocker {
    /// `mydocker [--root R] ARGS...`
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = cmd(&self.bin);
        if let Some(root) = &self.root {
            c.arg("--root").arg(root);
        }
        c.args(args);
        c
    }

    /// Whether `mydocker images` lists an image called `name`.
    pub fn has_image(&self, name: &str) -> Result<bool> {
        let table = output(&mut self.cmd(["images"]))?;
        Ok(lists_image(&table, name))
    }

    /// `mydocker import TAR NAME`, unless `name` is there already.
    pub fn import_once(&self, tar: &Path, name: &str) -> Result<()> {
        if self.has_image(name)? {
            println!("image {name} is there already: not importing it again");
            return Ok(());
        }
        self.import(tar, name)
    }

    /// `mydocker import TAR NAME`, then a look that `images` lists it.
    pub fn import(&self, tar: &Path, name: &str) -> Result<()> {
        run(&mut self.cmd([OsStr::new("import"), tar.as_os_str(), OsStr::new(name)]))
            .with_context(|| format!("importing {} as {name}", tar.display()))?;
        if !self.has_image(name)? {
            bail!("`mydocker import` succeeded but `mydocker images` does not list {name}");
        }
        Ok(())
    }

    /// `mydocker rmi NAME`
    pub fn rmi(&self, name: &str) -> Result<()> {
        run(&mut self.cmd(["rmi", name]))
    }
}

/// Whether the `mydocker images` table (NAME ID SIZE CREATED, with a
/// header line) has a row for `name`.
fn lists_image(table: &str, name: &str) -> bool {
    table
        .lines()
        .skip(1)
        .any(|row| row.split_whitespace().next() == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_images_table() {
        let table = "NAME      ID            SIZE    CREATED\n\
                     busybox   3f0c2a1b9d8e  2.0MB   5 seconds ago\n";
        assert!(lists_image(table, "busybox"));
        assert!(!lists_image(table, "busy"));
        assert!(!lists_image(table, "NAME"));
        assert!(!lists_image("NAME ID SIZE CREATED\n", "busybox"));
    }
}
