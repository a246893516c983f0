//! import, images, rmi: the image store, with the engine's knowledge of which
//! images containers use.

use std::path::Path;

use mydocker_fs::image::{Image, ImageStore};
use mydocker_state::lock::FileLock;

use super::Engine;
use crate::CoreError;

/// Held shared by a run from choosing its image until its container record
/// is saved, and exclusively by rmi while it checks for users and removes:
/// so an image is never removed from under a container being made.
const IMAGE_USERS_LOCK: &str = "image-users.lock";

impl Engine {
    pub(crate) fn image_users_lock(&self, exclusive: bool) -> Result<FileLock, CoreError> {
        let path = self.root.join(IMAGE_USERS_LOCK);
        Ok(if exclusive { FileLock::exclusive(&path)? } else { FileLock::shared(&path)? })
    }

    pub(crate) fn image_store(&self) -> Result<ImageStore, CoreError> {
        Ok(ImageStore::open(&self.root)?)
    }

    /// `import FILE NAME`: store a rootfs tarball as an image.
    pub fn import(&self, tar: &Path, name: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Image, CoreError> {
        Ok(self.image_store()?.import(tar, name, progress)?)
    }

    /// `images`: every image, newest first.
    pub fn images(&self) -> Result<Vec<Image>, CoreError> {
        Ok(self.image_store()?.list()?)
    }

    /// `rmi NAME`: refused while any container (running or not) uses the image.
    pub fn rmi(&self, reference: &str) -> Result<Image, CoreError> {
        // No run may be between choosing this image and recording its container.
        let _users = self.image_users_lock(true)?;
        let containers = self.containers.list()?;
        let in_use = |img: &Image| containers.iter().any(|c| c.image_id == img.id);
        Ok(self.image_store()?.remove(reference, &in_use)?)
    }
}
