//! Removing trees the store made, and a guard that removes them on failure.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Remove `path` and everything beneath it; a missing path is fine. Folders
/// an image made read-only are opened up first (needed when not root).
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return fs::remove_file(path);
    }
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            open_up_dirs(path)?;
            fs::remove_dir_all(path)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Give the owner rwx on every folder beneath `dir` (symlinks are not followed).
fn open_up_dirs(dir: &Path) -> io::Result<()> {
    let mode = fs::symlink_metadata(dir)?.permissions().mode();
    if mode & 0o700 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))?;
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            open_up_dirs(&entry.path())?;
        }
    }
    Ok(())
}

/// Paths to remove if the operation that made them does not finish: made
/// next to the step that creates them, disarmed once all steps succeeded.
#[derive(Debug, Default)]
pub(crate) struct Undo {
    paths: Vec<PathBuf>,
}

impl Undo {
    pub(crate) fn new() -> Undo {
        Undo::default()
    }

    /// Remove `path` on drop unless disarmed.
    pub(crate) fn push(&mut self, path: PathBuf) {
        self.paths.push(path);
    }

    /// Stop tracking `path` (it was moved or handed over).
    pub(crate) fn forget(&mut self, path: &Path) {
        self.paths.retain(|p| p != path);
    }

    /// Everything succeeded: keep it all.
    pub(crate) fn disarm(mut self) {
        self.paths.clear();
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        // Newest first: undo in the reverse order of doing.
        for path in self.paths.drain(..).rev() {
            if let Err(e) = remove_tree(&path) {
                log::warn!("cleaning up {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_read_only_trees_and_missing_paths() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a");
        fs::create_dir_all(d.join("b/c")).unwrap();
        fs::write(d.join("b/c/f"), "x").unwrap();
        fs::set_permissions(d.join("b/c"), fs::Permissions::from_mode(0o500)).unwrap();
        fs::set_permissions(d.join("b"), fs::Permissions::from_mode(0o000)).unwrap();
        remove_tree(&d).unwrap();
        assert!(!d.exists());
        remove_tree(&d).unwrap();
    }

    #[test]
    fn undo_removes_unless_disarmed() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        {
            let mut u = Undo::new();
            u.push(a.clone());
        }
        assert!(!a.exists());
        let mut u = Undo::new();
        u.push(b.clone());
        u.disarm();
        assert!(b.exists());
    }
}
