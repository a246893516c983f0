//! The exit code of a container that removes itself at its end (`--rm`),
//! kept for those already waiting on it, as `docker wait` tells it.
//!
//! A waiter opens `<dir>/exit-code` (making it) while the container runs,
//! under the container's lock. Whoever records the end writes the code into
//! that same file, in place and under the lock, before the folder goes; the
//! waiter's open file outlives the folder. When no one waits, there is no
//! file and nothing is written.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;

use crate::store::ContainerStore;
use crate::StateError;

const EXIT_NOTE: &str = "exit-code";

impl ContainerStore {
    /// Open (making it) the file the end of container `id` will be noted in.
    /// Call it holding the container's lock, while the container runs.
    pub fn watch_exit(&self, id: &str) -> Result<File, StateError> {
        let path = self.dir(id).join(EXIT_NOTE);
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|source| StateError::Io { op: "opening", path, source })
    }

    /// Note the exit code of container `id` for its waiters, if it has any.
    /// Call it holding the container's lock, before removing the container.
    pub fn note_exit(&self, id: &str, code: i32) -> Result<(), StateError> {
        let path = self.dir(id).join(EXIT_NOTE);
        let mut f = match OpenOptions::new().write(true).truncate(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(StateError::Io { op: "opening", path, source }),
        };
        f.write_all(code.to_string().as_bytes())
            .map_err(|source| StateError::Io { op: "writing", path, source })
    }
}

/// The code noted in a file [`ContainerStore::watch_exit`] opened, if any.
pub fn read_exit_note(f: &mut File) -> Option<i32> {
    let mut text = String::new();
    f.seek(SeekFrom::Start(0)).ok()?;
    f.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ContainerRecord;

    fn store_with_container(tmp: &std::path::Path) -> (ContainerStore, String, String) {
        let store = ContainerStore::open(tmp).unwrap();
        let make = |id: &str, name: &str| {
            ContainerRecord::new(id.into(), name.into(), "busybox".into(), "f".repeat(64), vec!["true".into()])
        };
        let r = store.reserve(None, make).unwrap();
        let (id, name) = (r.id.clone(), r.name.clone());
        r.keep();
        (store, id, name)
    }

    #[test]
    fn a_waiter_reads_the_code_after_the_container_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, id, name) = store_with_container(tmp.path());
        let mut watch = store.watch_exit(&id).unwrap();
        assert_eq!(read_exit_note(&mut watch), None);
        store.note_exit(&id, 3).unwrap();
        store.remove(&id, &name).unwrap();
        assert!(!store.dir(&id).exists());
        assert_eq!(read_exit_note(&mut watch), Some(3));
    }

    #[test]
    fn a_later_note_replaces_an_earlier_one_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, id, _) = store_with_container(tmp.path());
        let mut watch = store.watch_exit(&id).unwrap();
        store.note_exit(&id, 137).unwrap();
        store.note_exit(&id, 3).unwrap();
        assert_eq!(read_exit_note(&mut watch), Some(3));
    }

    #[test]
    fn with_no_waiter_nothing_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let (store, id, _) = store_with_container(tmp.path());
        store.note_exit(&id, 3).unwrap();
        assert!(!store.dir(&id).join(EXIT_NOTE).exists());
    }
}
