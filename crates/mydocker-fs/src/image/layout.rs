//! Where things live under `<root>/images/`.

use std::path::{Path, PathBuf};

use crate::image::name::link_file_name;

#[derive(Debug, Clone)]
pub(crate) struct Layout {
    images: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: &Path) -> Layout {
        Layout { images: root.join("images") }
    }

    pub(crate) fn images(&self) -> &Path {
        &self.images
    }

    pub(crate) fn lock_file(&self) -> PathBuf {
        self.images.join("lock")
    }

    pub(crate) fn layers(&self) -> PathBuf {
        self.images.join("layers")
    }

    pub(crate) fn layer(&self, layer_id: &str) -> PathBuf {
        self.layers().join(layer_id)
    }

    pub(crate) fn names(&self) -> PathBuf {
        self.images.join("names")
    }

    /// The link of a valid, normalized name.
    pub(crate) fn name_link(&self, name: &str) -> PathBuf {
        self.names().join(link_file_name(name))
    }

    /// What a name link holds: relative, so the store can be moved.
    pub(crate) fn name_target(image_id: &str) -> PathBuf {
        Path::new("..").join(image_id)
    }

    pub(crate) fn tmp(&self) -> PathBuf {
        self.images.join(".tmp")
    }

    pub(crate) fn image_dir(&self, image_id: &str) -> PathBuf {
        self.images.join(image_id)
    }

    pub(crate) fn record(&self, image_id: &str) -> PathBuf {
        self.image_dir(image_id).join("image.json")
    }
}

/// True for a full 64-hex ID (image and layer folder names).
pub(crate) fn is_full_id(s: &str) -> bool {
    s.len() == 64 && mydocker_state::id::is_hex_prefix(s)
}
