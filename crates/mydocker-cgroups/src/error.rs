use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid {what} {value:?}: {why}")]
    Invalid { what: &'static str, value: String, why: String },
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cgroup {path}: {message}")]
    Cgroup { path: String, message: String },
    #[error("no cgroup hierarchy found: {0}")]
    NoHierarchy(String),
}
