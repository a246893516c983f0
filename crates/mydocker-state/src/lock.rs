//! Advisory file locks (flock), released when the guard is dropped.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::StateError;

/// An flock held on a file until dropped.
#[derive(Debug)]
pub struct FileLock {
    _lock: Flock<File>,
}

impl FileLock {
    /// Block until the exclusive lock on `path` (created when missing) is ours.
    pub fn exclusive(path: &Path) -> Result<FileLock, StateError> {
        Self::take(path, FlockArg::LockExclusive)
    }

    /// Block until a shared lock on `path` (created when missing) is ours.
    pub fn shared(path: &Path) -> Result<FileLock, StateError> {
        Self::take(path, FlockArg::LockShared)
    }

    /// A new file at `path`, exclusively locked from the moment it has a
    /// name: made unnamed (O_TMPFILE), locked, then linked in. No one ever
    /// sees it unlocked while its maker lives. Fails if `path` exists.
    pub fn create_locked(path: &Path) -> Result<FileLock, StateError> {
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE | libc::O_CLOEXEC)
            .open(dir)
            .map_err(StateError::io("making a lock file in", dir))?;
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((_, errno)) => {
                return Err(StateError::Io { op: "locking", path: path.to_path_buf(), source: std::io::Error::from(errno) })
            }
        };
        let fd_path = PathBuf::from(format!("/proc/self/fd/{}", lock.as_raw_fd()));
        nix::unistd::linkat(None, fd_path.as_path(), None, path, nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW).map_err(
            |errno| StateError::Io { op: "linking lock file", path: path.to_path_buf(), source: std::io::Error::from(errno) },
        )?;
        Ok(FileLock { _lock: lock })
    }

    /// The exclusive lock on an existing `path`, if no one holds it now:
    /// None when it is held or the file is gone.
    pub fn try_existing(path: &Path) -> Result<Option<FileLock>, StateError> {
        let file = match OpenOptions::new().read(true).write(true).custom_flags(libc::O_CLOEXEC).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StateError::io("opening lock file", path)(e)),
        };
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Some(FileLock { _lock: lock })),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => {
                Err(StateError::Io { op: "locking", path: path.to_path_buf(), source: std::io::Error::from(errno) })
            }
        }
    }

    /// In a child forked while the lock was held: close the child's copy of
    /// the lock's fd, leaving the lock to the parent. (Dropping it would
    /// release the lock for both: they share one open file description.)
    pub fn close_inherited(self) {
        let raw = self._lock.as_raw_fd();
        std::mem::forget(self);
        // SAFETY: `raw` is this process's own copy, forgotten above, so it
        // is closed once and used no more.
        unsafe { libc::close(raw) };
    }

    fn take(path: &Path, how: FlockArg) -> Result<FileLock, StateError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(StateError::io("opening lock file", path))?;
        let mut file = file;
        loop {
            match Flock::lock(file, how) {
                Ok(lock) => return Ok(FileLock { _lock: lock }),
                Err((f, nix::errno::Errno::EINTR)) => file = f,
                Err((_, errno)) => {
                    return Err(StateError::Io {
                        op: "locking",
                        path: path.to_path_buf(),
                        source: std::io::Error::from(errno),
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_lock_excludes_a_second_taker_until_dropped() {
        let p = std::env::temp_dir().join(format!("mydocker-lock-{}", std::process::id()));
        let held = FileLock::exclusive(&p).unwrap();
        let f = File::open(&p).unwrap();
        let f = match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
            Ok(_) => panic!("second exclusive lock granted while the first is held"),
            Err((f, e)) => {
                assert_eq!(e, nix::errno::Errno::EWOULDBLOCK);
                f
            }
        };
        drop(held);
        assert!(Flock::lock(f, FlockArg::LockExclusiveNonblock).is_ok());
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_forked_child_closing_its_copy_leaves_the_lock_held() {
        let p = std::env::temp_dir().join(format!("mydocker-lock-fork-{}", std::process::id()));
        let held = FileLock::exclusive(&p).unwrap();
        // SAFETY: the child only closes an fd and calls _exit.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                held.close_inherited();
                unsafe { libc::_exit(0) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None).unwrap();
            }
        }
        let f = File::open(&p).unwrap();
        assert!(Flock::lock(f, FlockArg::LockExclusiveNonblock).is_err(), "the child's close released the lock");
        drop(held);
        std::fs::remove_file(&p).unwrap();
    }
}
