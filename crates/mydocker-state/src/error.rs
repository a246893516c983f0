use std::path::PathBuf;

/// Errors of the state layer. Every variant says what was being done and to what.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("decoding {path}: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid name {0:?}: a name must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 128 characters")]
    InvalidName(String),
    #[error("the name {name:?} is already in use by container {id}")]
    NameInUse { name: String, id: String },
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    #[error("{reference:?} matches more than one container: {candidates}")]
    Ambiguous { reference: String, candidates: String },
    #[error("container {id} is {from}: cannot {action}")]
    BadTransition {
        id: String,
        from: String,
        action: &'static str,
    },
}

impl StateError {
    /// Wrap an io::Error with the operation and the path it was done on.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| StateError::Io { op, path, source }
    }
}
