//! The engine: the commands a user names (run, ps, rm, images, ...), each
//! composing the layers below. One command, one file.

pub mod attach;
pub mod env;
pub mod exec;
pub mod images;
pub mod inspect;
pub mod launch;
pub mod limits;
pub mod logs;
pub mod monitor;
pub mod options;
mod output;
pub mod ps;
pub mod rm;
pub mod run;
pub mod signal;
pub mod spec;
pub mod start;
pub mod stop;
pub mod volume;

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use mydocker_state::ContainerStore;

use crate::CoreError;

pub use options::RunOptions;
pub use exec::ExecOptions;
pub use logs::LogsOptions;
pub use run::RunOutcome;

/// The default place of everything mydocker keeps.
pub const DEFAULT_ROOT: &str = "/var/lib/mydocker";

/// One mydocker root: its containers, images and (later) networks.
pub struct Engine {
    root: PathBuf,
    containers: ContainerStore,
}

impl Engine {
    /// Open (and make, when missing) the store under `root`.
    pub fn open(root: &Path) -> Result<Engine, CoreError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(root)
            .map_err(CoreError::io(format!("creating the mydocker root {}", root.display())))?;
        Ok(Engine { root: root.to_path_buf(), containers: ContainerStore::open(root)? })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}
