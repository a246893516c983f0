//! The store: open, list, get, remove, lower_dirs, and the clean-up of what
//! an interrupted import or remove left behind. Import is in `import.rs`.

use std::collections::HashSet;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use mydocker_state::atomic::read_json;
use mydocker_state::id::{is_hex_prefix, short};
use mydocker_state::lock::FileLock;
use mydocker_state::StateError;

use crate::image::layout::{is_full_id, Layout};
use crate::image::name::{normalize, validate};
use crate::image::tree::remove_tree;
use crate::image::{Image, ImageError};

/// The images under `<root>/images/`. Cheap to open; holds no file open.
#[derive(Debug, Clone)]
pub struct ImageStore {
    pub(crate) layout: Layout,
}

impl ImageStore {
    /// Open the store under `root`, making `images/`, `layers/`, `names/` and
    /// `.tmp/` when missing.
    pub fn open(root: &Path) -> Result<ImageStore, ImageError> {
        let layout = Layout::new(root);
        fs::create_dir_all(root).map_err(ImageError::io("creating", root))?;
        for dir in [layout.images().to_path_buf(), layout.layers(), layout.names(), layout.tmp()] {
            match DirBuilder::new().mode(0o700).create(&dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
                    return Err(ImageError::io("creating", &dir)(e));
                }
                _ => {}
            }
        }
        Ok(ImageStore { layout })
    }

    /// Every image, newest first. A damaged record is reported in the log and
    /// left out, so that one bad file does not hide the others.
    pub fn list(&self) -> Result<Vec<Image>, ImageError> {
        let mut images = Vec::new();
        for id in self.record_ids()? {
            match self.load(&id) {
                Ok(Some(img)) => {
                    if self.is_named(&img)? {
                        images.push(img);
                    }
                }
                Ok(None) => {}
                Err(e) => log::warn!("leaving image {} out of the list: {e}", short(&id)),
            }
        }
        images.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(images)
    }

    /// The image a user means by `reference`: a name (`busybox:latest` is
    /// `busybox`), else a full ID or a unique prefix of one (`sha256:` allowed).
    /// A name wins over an ID prefix that reads the same.
    pub fn get(&self, reference: &str) -> Result<Image, ImageError> {
        let name = normalize(reference);
        if validate(name).is_ok() {
            if let Some(id) = self.name_link_id(name)? {
                if let Some(img) = self.load(&id)? {
                    return Ok(img);
                }
            }
        }
        let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
        if is_hex_prefix(hex) {
            let mut found = Vec::new();
            for id in self.record_ids()?.into_iter().filter(|id| id.starts_with(hex)) {
                if let Some(img) = self.load(&id)? {
                    if self.is_named(&img)? {
                        found.push(img);
                    }
                }
            }
            if found.len() > 1 {
                let mut ids: Vec<&str> = found.iter().map(|i| short(&i.id)).collect();
                ids.sort_unstable();
                return Err(ImageError::Ambiguous { reference: reference.to_string(), candidates: ids.join(", ") });
            }
            if let Some(img) = found.pop() {
                return Ok(img);
            }
        }
        Err(ImageError::NotFound(reference.to_string()))
    }

    /// Remove the image `reference` names, unless `in_use` says a container
    /// uses it: its name, its record, and the layers no other image shares.
    pub fn remove(&self, reference: &str, in_use: &dyn Fn(&Image) -> bool) -> Result<Image, ImageError> {
        let _lock = FileLock::exclusive(&self.layout.lock_file())?;
        let image = self.get(reference)?;
        if in_use(&image) {
            return Err(ImageError::InUse(image.name.clone()));
        }
        // Read every other record before changing anything.
        let mut shared = HashSet::new();
        for id in self.record_ids()?.into_iter().filter(|id| *id != image.id) {
            if let Some(other) = self.load(&id)? {
                shared.extend(other.layers);
            }
        }
        // The name first: from here on the image is gone for readers, and a
        // crash leaves an unnamed record that the next import clears.
        let link = self.layout.name_link(&image.name);
        match fs::remove_file(&link) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(ImageError::io("removing", &link)(e)),
            _ => sync_dir(&self.layout.names())?,
        }
        let dir = self.layout.image_dir(&image.id);
        remove_tree(&dir).map_err(ImageError::io("removing", &dir))?;
        for layer in image.layers.iter().filter(|l| is_full_id(l) && !shared.contains(*l)) {
            let path = self.layout.layer(layer);
            remove_tree(&path).map_err(ImageError::io("removing layer", &path))?;
        }
        Ok(image)
    }

    /// The image's layer folders, top layer first (overlay's lowerdir order).
    pub fn lower_dirs(&self, image: &Image) -> Vec<PathBuf> {
        image.layers.iter().rev().map(|l| self.layout.layer(l)).collect()
    }

    /// Folder names in `images/` that are image IDs.
    pub(crate) fn record_ids(&self) -> Result<Vec<String>, ImageError> {
        list_names(self.layout.images()).map(|names| names.into_iter().filter(|n| is_full_id(n)).collect())
    }

    /// The record of `id`, or None when there is none.
    pub(crate) fn load(&self, id: &str) -> Result<Option<Image>, ImageError> {
        let path = self.layout.record(id);
        match read_json::<Image>(&path) {
            Ok(img) if img.id == id => Ok(Some(img)),
            Ok(img) => Err(ImageError::Corrupt { path, reason: format!("it holds the ID {}", img.id) }),
            Err(StateError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The image ID a (valid, normalized) name points at.
    pub(crate) fn name_link_id(&self, name: &str) -> Result<Option<String>, ImageError> {
        let link = self.layout.name_link(name);
        match fs::read_link(&link) {
            Ok(target) => match target.file_name().and_then(|n| n.to_str()) {
                Some(id) if is_full_id(id) && target == Layout::name_target(id) => Ok(Some(id.to_string())),
                _ => Err(ImageError::Corrupt { path: link, reason: format!("it points at {}", target.display()) }),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ImageError::io("reading", &link)(e)),
        }
    }

    /// True when the image's name points at it: the last step of an import,
    /// so only then is the image complete.
    pub(crate) fn is_named(&self, image: &Image) -> Result<bool, ImageError> {
        if validate(&image.name).is_err() || normalize(&image.name) != image.name {
            return Ok(false);
        }
        Ok(self.name_link_id(&image.name)?.as_deref() == Some(image.id.as_str()))
    }

    /// Remove what an interrupted import or remove left: temp folders, records
    /// without their name, names without their record, layers no record uses.
    /// Call with the store lock held.
    pub(crate) fn collect_garbage(&self) -> Result<(), ImageError> {
        let tmp = self.layout.tmp();
        for name in list_names(&tmp)? {
            let path = tmp.join(name);
            log::info!("removing stale import folder {}", path.display());
            remove_tree(&path).map_err(ImageError::io("removing", &path))?;
        }
        let mut used = HashSet::new();
        let mut unsure = false;
        for id in self.record_ids()? {
            let keep = match self.load(&id) {
                Ok(Some(img)) => match self.is_named(&img) {
                    Ok(named) => {
                        if named {
                            used.extend(img.layers);
                        }
                        named
                    }
                    Err(e) => {
                        log::warn!("keeping image {}: {e}", short(&id));
                        unsure = true;
                        true
                    }
                },
                Ok(None) => false,
                Err(e) => {
                    log::warn!("keeping image {}: {e}", short(&id));
                    unsure = true;
                    true
                }
            };
            if !keep {
                let dir = self.layout.image_dir(&id);
                log::info!("removing unfinished image {}", dir.display());
                remove_tree(&dir).map_err(ImageError::io("removing", &dir))?;
            }
        }
        let names = self.layout.names();
        for name in list_names(&names)? {
            let link = names.join(&name);
            let Ok(target) = fs::read_link(&link) else { continue };
            let id = target.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if is_full_id(id) && !self.layout.record(id).exists() {
                log::info!("removing name {name} of a missing image");
                fs::remove_file(&link).map_err(ImageError::io("removing", &link))?;
            }
        }
        if unsure {
            log::warn!("not removing unused layers: some image records could not be read");
            return Ok(());
        }
        for layer in list_names(&self.layout.layers())? {
            if !used.contains(&layer) {
                let path = self.layout.layer(&layer);
                log::info!("removing unused layer {}", path.display());
                remove_tree(&path).map_err(ImageError::io("removing", &path))?;
            }
        }
        Ok(())
    }
}

/// File names in `dir` (UTF-8 ones; the store makes no others).
fn list_names(dir: &Path) -> Result<Vec<String>, ImageError> {
    let rd = fs::read_dir(dir).map_err(ImageError::io("reading", dir))?;
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry.map_err(ImageError::io("reading", dir))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// Make the entries of `dir` durable (a new name link, a rename).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ImageError> {
    fs::File::open(dir).and_then(|f| f.sync_all()).map_err(ImageError::io("syncing", dir))
}
