use mydocker_fs::image::ImageError;
use mydocker_cgroups::CgroupError;
use mydocker_fs::MountError;
use mydocker_state::StateError;

/// docker's exit codes for failures that are not the command's own.
pub const EXIT_ENGINE: i32 = 125;
pub const EXIT_CANNOT_RUN: i32 = 126;
pub const EXIT_NOT_FOUND: i32 = 127;

/// Everything that can go wrong in the engine or the runtime. Each message
/// says what was being done and to what.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// Bad input from the user, caught before anything was made.
    #[error("{0}")]
    Invalid(String),
    /// The container's init failed before the command ran; `code` is 125,
    /// 126 (cannot execute) or 127 (not found).
    #[error("{message}")]
    Init { message: String, code: i32 },
    /// The operation is not allowed in the container's current state.
    #[error("{0}")]
    Conflict(String),
    #[error("{op}: {source}")]
    Sys {
        op: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("{op}: {source}")]
    Io {
        op: String,
        #[source]
        source: std::io::Error,
    },
}

impl CoreError {
    /// The process exit code a CLI should give for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CoreError::Init { code, .. } => *code,
            _ => EXIT_ENGINE,
        }
    }

    pub(crate) fn sys(op: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> Self {
        let op = op.into();
        move |source| CoreError::Sys { op, source }
    }

    pub(crate) fn io(op: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let op = op.into();
        move |source| CoreError::Io { op, source }
    }
}
