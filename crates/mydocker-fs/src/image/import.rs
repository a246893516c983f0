//! `import FILE NAME`: a rootfs tarball becomes a one-layer image.

use std::fs::{self, DirBuilder, File};
use std::io::{self, BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use mydocker_state::atomic::write_json;
use mydocker_state::id::{random_id, short};
use mydocker_state::lock::FileLock;
use mydocker_state::time::now_rfc3339;

use crate::image::layout::Layout;
use crate::image::name::{normalize, validate};
use crate::image::progress::HashingReader;
use crate::image::store::sync_dir;
use crate::image::tree::{remove_tree, Undo};
use crate::image::unpack::unpack;
use crate::image::{Image, ImageConfig, ImageError, ImageStore};

impl ImageStore {
    /// Import the plain tar `tar` as the image `name`, calling
    /// `progress(bytes_read, total_bytes)` as the file is read. The file is
    /// read once: unpacked into a temp folder and hashed into the layer ID on
    /// the way. On any error nothing is left behind.
    pub fn import(&self, tar: &Path, name: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Image, ImageError> {
        validate(name)?;
        let name = normalize(name);
        let file = File::open(tar).map_err(ImageError::io("opening", tar))?;
        let total = file.metadata().map_err(ImageError::io("inspecting", tar))?.len();
        let mut input = BufReader::with_capacity(256 << 10, file);
        check_plain_tar(&mut input, tar)?;

        let _lock = FileLock::exclusive(&self.layout.lock_file())?;
        self.collect_garbage()?;
        // Fail before the work; the symlink below is what makes it certain.
        if let Some(id) = self.name_link_id(name)? {
            return Err(ImageError::NameInUse { name: name.to_string(), id: short(&id).to_string() });
        }

        let mut undo = Undo::new();
        let tmp = self.layout.tmp().join(random_id().map_err(ImageError::io("reading", "/dev/urandom"))?);
        DirBuilder::new().mode(0o755).create(&tmp).map_err(ImageError::io("creating", &tmp))?;
        undo.push(tmp.clone());

        let mut reader = HashingReader::new(input, total, progress);
        let unpacked = unpack(&mut reader, tar, &tmp)?;
        let (layer_id, _) = reader.finish().map_err(ImageError::io("reading archive", tar))?;
        sync_fs(&tmp)?;

        let layer = self.layout.layer(&layer_id);
        if fs::symlink_metadata(&layer).is_ok() {
            // The same tar is already stored: share its layer.
            undo.forget(&tmp);
            if let Err(e) = remove_tree(&tmp) {
                log::warn!("removing {}: {e}", tmp.display());
            }
        } else {
            fs::rename(&tmp, &layer).map_err(ImageError::io("moving layer into place", &layer))?;
            undo.forget(&tmp);
            undo.push(layer.clone());
            sync_dir(&self.layout.layers())?;
        }

        let image =
            Image::new(name.to_string(), now_rfc3339(), unpacked.size, vec![layer_id], ImageConfig::for_plain_rootfs());
        let dir = self.layout.image_dir(&image.id);
        fs::create_dir(&dir).map_err(ImageError::io("creating", &dir))?;
        undo.push(dir);
        write_json(&self.layout.record(&image.id), &image)?;
        self.take_name(name, &image.id)?;
        undo.disarm();
        Ok(image)
    }

    /// Point `name` at `id`: symlink() fails when the name exists, so a name
    /// is taken once even if two imports race.
    fn take_name(&self, name: &str, id: &str) -> Result<(), ImageError> {
        let link = self.layout.name_link(name);
        match std::os::unix::fs::symlink(Layout::name_target(id), &link) {
            Ok(()) => sync_dir(&self.layout.names()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let holder = self.name_link_id(name)?.unwrap_or_default();
                Err(ImageError::NameInUse { name: name.to_string(), id: short(&holder).to_string() })
            }
            Err(e) => Err(ImageError::io("creating name link", &link)(e)),
        }
    }
}

/// Refuse compressed and empty files with a clear message, before any work.
/// Peeks at the buffer only: nothing is consumed.
fn check_plain_tar(input: &mut BufReader<File>, tar: &Path) -> Result<(), ImageError> {
    let head = input.fill_buf().map_err(ImageError::io("reading archive", tar))?;
    let format = match head {
        [] => {
            let empty = io::Error::new(io::ErrorKind::InvalidData, "the file is empty, not a tar archive");
            return Err(ImageError::io("reading archive", tar)(empty));
        }
        [0x1f, 0x8b, ..] => "gzip",
        [b'B', b'Z', b'h', ..] => "bzip2",
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => "xz",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd",
        _ => return Ok(()),
    };
    Err(ImageError::Compressed { path: tar.to_path_buf(), format })
}

/// Flush the unpacked layer to disk before its record says it is there.
fn sync_fs(dir: &Path) -> Result<(), ImageError> {
    let f = File::open(dir).map_err(ImageError::io("opening", dir))?;
    nix::unistd::syncfs(f.as_raw_fd()).map_err(|e| ImageError::io("syncing", dir)(e.into()))
}
