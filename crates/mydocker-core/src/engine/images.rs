//! import, images, rmi: the image store, with the engine's knowledge of which
//! images containers use.

use std::path::Path;

use mydocker_fs::image::{Image, ImageStore};

use super::Engine;
use crate::CoreError;

impl Engine {
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
        let containers = self.containers.list()?;
        let in_use = |img: &Image| containers.iter().any(|c| c.image_id == img.id);
        Ok(self.image_store()?.remove(reference, &in_use)?)
    }
}
