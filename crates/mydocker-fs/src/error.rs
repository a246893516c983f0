use std::path::PathBuf;

/// Errors made while building a container's filesystem view. Each names the
/// step and the path it was done on.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("{op} {path}: {source}")]
    Sys {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MountError {
    pub(crate) fn sys(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(nix::errno::Errno) -> Self {
        let path = path.into();
        move |source| MountError::Sys { op, path, source }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| MountError::Io { op, path, source }
    }
}
