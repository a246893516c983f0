//! Atomic file writes: a temp file in the same folder, fsync, rename.
//!
//! A reader sees the old content or the new, never a torn write, and a crash
//! leaves at most a stray `.tmp-*` file that no reader looks at.
//!
//! The `_unsynced` writes skip the fsync: still whole to every reader and
//! across a crash of the writer, but a power loss may leave the file empty.
//! They are for what a power loss makes moot anyway: the records of a
//! container starting (its processes do not outlive the power either), so
//! that the start path does not wait for the disk several times.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::StateError;

/// Write `data` to `path` atomically and durably.
pub fn write_bytes(path: &Path, data: &[u8]) -> Result<(), StateError> {
    write(path, data, true)
}

/// Write `data` to `path` atomically, without waiting for the disk.
pub fn write_bytes_unsynced(path: &Path, data: &[u8]) -> Result<(), StateError> {
    write(path, data, false)
}

fn write(path: &Path, data: &[u8], durable: bool) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".tmp-{}-{}", file_name, std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(libc::O_CLOEXEC)
            .open(&tmp)
            .map_err(StateError::io("creating", &tmp))?;
        f.write_all(data).map_err(StateError::io("writing", &tmp))?;
        if durable {
            f.sync_data().map_err(StateError::io("syncing", &tmp))?;
        }
        fs::rename(&tmp, path).map_err(StateError::io("renaming into place", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Serialize `value` as pretty JSON and write it atomically and durably to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StateError> {
    write(path, &to_json(path, value)?, true)
}

/// As [`write_json`], without waiting for the disk.
pub fn write_json_unsynced<T: Serialize>(path: &Path, value: &T) -> Result<(), StateError> {
    write(path, &to_json(path, value)?, false)
}

fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec_pretty(value).map_err(|e| StateError::Decode { path: path.to_path_buf(), source: e })
}

/// Read and decode a JSON file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, StateError> {
    let f = File::open(path).map_err(StateError::io("opening", path))?;
    serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| StateError::Decode {
        path: path.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_roundtrips_and_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("mydocker-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("state.json");
        write_json(&p, &vec![1, 2, 3]).unwrap();
        write_json(&p, &vec![4]).unwrap();
        let back: Vec<i32> = read_json(&p).unwrap();
        assert_eq!(back, vec![4]);
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn write_into_missing_folder_fails_with_the_path() {
        let p = Path::new("/nonexistent-mydocker-dir/x.json");
        let err = write_json(p, &1).unwrap_err().to_string();
        assert!(err.contains("/nonexistent-mydocker-dir"), "{err}");
    }
}
