//! Reading and writing cgroupfs files, with the path in every error.

use std::io::ErrorKind;
use std::path::Path;

use crate::CgroupError;

pub fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|source| CgroupError::Io { op: "writing", path, source })
}

pub fn read(dir: &Path, file: &str) -> Result<String, CgroupError> {
    let path = dir.join(file);
    std::fs::read_to_string(&path).map_err(|source| CgroupError::Io { op: "reading", path, source })
}

pub fn read_u64(dir: &Path, file: &str) -> Result<u64, CgroupError> {
    let text = read(dir, file)?;
    text.trim().parse().map_err(|_| CgroupError::Cgroup {
        path: dir.join(file).display().to_string(),
        message: format!("not a number: {:?}", text.trim()),
    })
}

/// The number after `key` in a "key value" per line file (memory.events, cpu.stat...).
pub fn keyed(dir: &Path, file: &str, key: &str) -> Result<u64, CgroupError> {
    Ok(read(dir, file)?
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0))
}

pub fn mkdir(dir: &Path) -> Result<(), CgroupError> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CgroupError::Io { op: "creating", path: dir.to_path_buf(), source }),
    }
}

pub fn rmdir(dir: &Path) -> Result<(), CgroupError> {
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CgroupError::Io { op: "removing", path: dir.to_path_buf(), source }),
    }
}

pub fn pids(dir: &Path) -> Result<Vec<i32>, CgroupError> {
    Ok(read(dir, "cgroup.procs")?.lines().filter_map(|l| l.trim().parse().ok()).collect())
}

/// Wait (bounded) until `check` holds, for the freezer's state changes.
pub fn settle(mut check: impl FnMut() -> Result<bool, CgroupError>, what: &str, dir: &Path) -> Result<(), CgroupError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !check()? {
        if std::time::Instant::now() > deadline {
            return Err(CgroupError::Cgroup { path: dir.display().to_string(), message: format!("not {what} after 5s") });
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Ok(())
}
