use std::path::PathBuf;

use mydocker_state::StateError;

/// Errors of the image store. Each says what was being done and to what.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("no such image: {0}")]
    NotFound(String),
    #[error(
        "invalid image name {0:?}: a name must match [a-zA-Z0-9][a-zA-Z0-9_.:/-]*, have no empty, '.' or '..' \
         parts between slashes, not be 64 hex digits, and be at most 200 characters"
    )]
    InvalidName(String),
    #[error("image name {name} is already in use by image {id}")]
    NameInUse { name: String, id: String },
    #[error("{reference:?} matches more than one image: {candidates}")]
    Ambiguous { reference: String, candidates: String },
    #[error("image {0} is in use by a container: remove the container first")]
    InUse(String),
    #[error("refusing archive entry {}: {reason}", path.display())]
    UnsafeEntry { path: PathBuf, reason: String },
    #[error("unsupported archive entry {}: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },
    #[error("{} is {format}-compressed: mydocker imports plain tar, decompress it first", path.display())]
    Compressed { path: PathBuf, format: &'static str },
    #[error("unpacking {}: {op}: {source}", path.display())]
    Unpack {
        /// The entry's path inside the archive.
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("image record {} is damaged: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error(transparent)]
    State(#[from] StateError),
}

impl ImageError {
    /// Wrap an io::Error with the operation and the host path it was done on.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ImageError::Io { op, path, source }
    }

    /// Wrap an io::Error met while unpacking the archive entry `path`.
    pub(crate) fn unpack(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ImageError::Unpack { op, path, source }
    }
}
