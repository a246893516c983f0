//! The image store: rootfs tarballs imported as read-only layers, image
//! records, and the names that point at them.
//!
//! On disk, under `<root>/images/` (mode 0700, so host users cannot reach the
//! setuid binaries inside layers; overlay reads the layers as root):
//!
//! ```text
//! images/lock                      flock held by every change (import, remove)
//! images/layers/<layer-id>/        an unpacked layer, a read-only overlay lower;
//!                                  layer-id = sha256 of the tar file's bytes
//! images/<image-id>/image.json     the record; image-id = sha256 of the record's
//!                                  name, created, layers and config
//! images/names/<name> -> ../<image-id>   taken with symlink(), so a name is
//!                                  held once; '/' in a name is stored as '%'
//! images/.tmp/<random>/            imports in progress
//! ```
//!
//! An import unpacks into `.tmp/`, renames the layer into `layers/` (or drops
//! it when the same tar is already there), writes the record, and takes the
//! name last. An image exists once its name link points at its record: list
//! and get show nothing else, and the next import (holding the lock) removes
//! what a crash left behind: temp folders, records without their name, layers
//! no record uses. Any error before that undoes every step.
//!
//! What an import keeps and refuses (see `unpack.rs`):
//! - absolute entry paths are taken relative to the image root (the leading
//!   `/` is stripped, as docker does); paths with `..` are refused;
//! - an entry whose parent inside the image is a symlink is refused, wherever
//!   the symlink points: tars made from a real filesystem never go through one,
//!   and following it could write outside the layer;
//! - hard links must point at an entry already unpacked, named the same way;
//! - symlinks are kept exactly as written (`/bin/sh -> /bin/busybox`);
//! - owners, modes (setuid included), mtimes, `SCHILY.xattr.*` extended
//!   attributes, device nodes and FIFOs are kept; overlayfs' own
//!   `trusted.overlay.*` / `user.overlay.*` attributes are dropped;
//! - whiteouts (`.wh.*`) are dropped: an import is a single bottom layer,
//!   there is nothing below for them to hide, and kept as files they would
//!   show up in containers as junk;
//! - gzip, bzip2, xz and zstd files are refused with a hint to decompress.

mod error;
mod import;
mod layout;
mod name;
mod progress;
mod record;
mod store;
mod tree;
mod unpack;

#[cfg(test)]
mod tests;

pub use error::ImageError;
pub use name::{normalize as normalize_name, validate as validate_name};
pub use record::{Image, ImageConfig, DEFAULT_PATH_ENV};
pub use store::ImageStore;
