//! Unpack a tar stream into a fresh layer folder, keeping every write inside it.
//!
//! Entries are taken one by one (not with `Archive::unpack`) because the
//! tar crate writes device nodes as empty files and we want our own rules:
//! - a leading `/` is stripped; a `..` component is refused;
//! - every parent of an entry must be a real folder of the layer: a missing
//!   one is made (0755), a symlink is refused wherever it points;
//! - a hard link's target is named the same way and must be an entry already
//!   unpacked, reached without symlinks; links are made with linkat, which
//!   never follows the target;
//! - files are created with O_EXCL|O_NOFOLLOW after removing what an earlier
//!   entry left at that path (tar semantics: the later entry wins);
//! - owner (when root), then mode (chown clears setuid), then xattrs, then
//!   times; folder modes and times are set last, deepest first, so a
//!   read-only folder can still be filled and keeps its mtime;
//! - whiteouts (`.wh.*`) are dropped; `trusted.overlay.*`/`user.overlay.*`
//!   xattrs are dropped, since overlayfs would read them on a lower layer.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, FileTimes, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::stat::{makedev, mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use tar::EntryType;
use xattr::FileExt;

use crate::image::tree::remove_tree;
use crate::image::ImageError;

/// What an unpack produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unpacked {
    /// Bytes of regular files written (hard links counted once).
    pub(crate) size: u64,
}

/// Unpack the tar stream `reader` (read from `archive`, named in errors) into
/// the existing, empty folder `dst`. On error, `dst` holds a partial tree that
/// the caller removes; nothing is ever written outside `dst`.
pub(crate) fn unpack<R: Read>(reader: R, archive: &Path, dst: &Path) -> Result<Unpacked, ImageError> {
    let mut u = Unpacker {
        dst,
        archive,
        chown: nix::unistd::geteuid().is_root(),
        dirs: BTreeMap::new(),
        size: 0,
        buf: vec![0; 128 << 10],
        warned_xattrs: false,
    };
    let mut ar = tar::Archive::new(reader);
    let entries = ar.entries().map_err(ImageError::io("reading archive", archive))?;
    for entry in entries {
        let mut entry = entry.map_err(ImageError::io("reading archive", archive))?;
        u.entry(&mut entry)?;
    }
    u.finish_dirs()?;
    Ok(Unpacked { size: u.size })
}

/// The path of an archive entry inside the image, with a leading `/` and `.`
/// parts dropped. The empty path is the image root. `..` is refused.
pub(crate) fn clean(path: &Path) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => return Err("its path has a '..' component".into()),
            Component::Prefix(_) => return Err("its path has a prefix".into()),
        }
    }
    Ok(out)
}

fn is_whiteout(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| n.as_bytes().starts_with(b".wh."))
}

/// Overlayfs reads these on lower layers (opaque dirs, redirects, metacopy):
/// an archive must not be able to set them.
fn is_overlay_xattr(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}

fn refuse(path: &Path, reason: impl Into<String>) -> ImageError {
    ImageError::UnsafeEntry { path: path.to_path_buf(), reason: reason.into() }
}

/// Owner, mode, time and xattrs of an entry, as the archive gives them.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    /// Seconds since the epoch and nanoseconds.
    mtime: (i64, u32),
    xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    fn read<R: Read>(entry: &mut tar::Entry<'_, R>, raw: &Path) -> Result<Meta, ImageError> {
        let bad = |field: &'static str| ImageError::unpack(field, raw);
        let h = entry.header();
        let mode = h.mode().map_err(bad("reading the mode"))? & 0o7777;
        let uid = h.uid().map_err(bad("reading the owner"))?;
        let gid = h.gid().map_err(bad("reading the group"))?;
        let secs = h.mtime().map_err(bad("reading the mtime"))?;
        let mut mtime = (i64::try_from(secs).unwrap_or(i64::MAX), 0);
        let (Ok(uid), Ok(gid)) = (u32::try_from(uid), u32::try_from(gid)) else {
            return Err(ImageError::Unsupported {
                path: raw.to_path_buf(),
                reason: format!("owner {uid}:{gid} is out of range"),
            });
        };
        let mut xattrs = Vec::new();
        if let Some(exts) = entry.pax_extensions().map_err(bad("reading pax extensions"))? {
            for ext in exts {
                let ext = ext.map_err(bad("reading pax extensions"))?;
                if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    if is_overlay_xattr(name) {
                        log::warn!("{}: dropping overlayfs attribute {}", raw.display(), String::from_utf8_lossy(name));
                        continue;
                    }
                    xattrs.push((OsString::from_vec(name.to_vec()), ext.value_bytes().to_vec()));
                } else if ext.key_bytes() == b"mtime" {
                    // GNU tar and docker write sub-second times here.
                    mtime = ext.value().ok().and_then(parse_pax_time).unwrap_or(mtime);
                }
            }
        }
        Ok(Meta { mode, uid, gid, mtime, xattrs })
    }

    fn timespec(&self) -> TimeSpec {
        TimeSpec::new(self.mtime.0 as _, self.mtime.1 as _)
    }

    fn system_time(&self) -> SystemTime {
        let (secs, nanos) = self.mtime;
        if secs >= 0 {
            UNIX_EPOCH + Duration::new(secs as u64, nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()) + Duration::from_nanos(u64::from(nanos))
        }
    }
}

/// A pax time, `1763860103.123456789` or `-5.25`: seconds and nanoseconds,
/// the nanoseconds always counted forward (so -5.25 is -6 s + 750 ms).
fn parse_pax_time(s: &str) -> Option<(i64, u32)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let negative = int.starts_with('-');
    let secs: i64 = int.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let nanos: u32 = digits.parse().ok()?;
    if negative && nanos > 0 {
        Some((secs - 1, 1_000_000_000 - nanos))
    } else {
        Some((secs, nanos))
    }
}

/// A folder's mode and mtime, set once everything inside it is written.
struct DirMeta {
    raw: PathBuf,
    mode: u32,
    time: TimeSpec,
}

struct Unpacker<'a> {
    dst: &'a Path,
    archive: &'a Path,
    /// Owners can be kept only as root.
    chown: bool,
    dirs: BTreeMap<PathBuf, DirMeta>,
    size: u64,
    buf: Vec<u8>,
    warned_xattrs: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    Node(SFlag, &'static str),
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ImageError> {
        let raw = entry.path().map_err(ImageError::io("reading archive", self.archive))?.into_owned();
        let trailing_slash = entry.path_bytes().ends_with(b"/");
        let kind = match entry.header().entry_type() {
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink => {
                return Ok(());
            }
            // Old tars mark folders with a trailing slash on a plain file entry.
            EntryType::Regular | EntryType::Continuous if trailing_slash => Kind::Dir,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => Kind::File,
            EntryType::Directory => Kind::Dir,
            EntryType::Symlink => Kind::Symlink,
            EntryType::Link => Kind::HardLink,
            EntryType::Char => Kind::Node(SFlag::S_IFCHR, "creating character device"),
            EntryType::Block => Kind::Node(SFlag::S_IFBLK, "creating block device"),
            EntryType::Fifo => Kind::Node(SFlag::S_IFIFO, "creating fifo"),
            other => {
                return Err(ImageError::Unsupported {
                    path: raw,
                    reason: format!("entry type {:?} ({:?}) is not supported", other, other.as_byte() as char),
                })
            }
        };
        let rel = clean(&raw).map_err(|reason| refuse(&raw, reason))?;
        if is_whiteout(&rel) {
            log::debug!("{}: dropping whiteout from a plain rootfs import", raw.display());
            return Ok(());
        }
        let meta = Meta::read(entry, &raw)?;
        if rel.as_os_str().is_empty() {
            return match kind {
                Kind::Dir => self.dir(&raw, &rel, &meta),
                _ => Err(refuse(&raw, "the image root can only be a folder")),
            };
        }
        self.check_parents(&raw, &rel, true)?;
        match kind {
            Kind::File => self.file(entry, &raw, &rel, &meta),
            Kind::Dir => self.dir(&raw, &rel, &meta),
            Kind::Symlink => self.symlink(entry, &raw, &rel, &meta),
            Kind::HardLink => self.hard_link(entry, &raw, &rel),
            Kind::Node(flag, op) => self.node(entry, &raw, &rel, &meta, flag, op),
        }
    }

    /// Every parent of `rel` must be a real folder of the layer. Missing ones
    /// are made when `create`, else refused.
    fn check_parents(&self, raw: &Path, rel: &Path, create: bool) -> Result<(), ImageError> {
        let Some(parent) = rel.parent() else { return Ok(()) };
        let mut host = self.dst.to_path_buf();
        let mut inside = PathBuf::new();
        for c in parent.components() {
            host.push(c);
            inside.push(c);
            match fs::symlink_metadata(&host) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(refuse(raw, format!("its parent {} is a symlink", inside.display())))
                }
                Ok(_) => return Err(refuse(raw, format!("its parent {} is not a folder", inside.display()))),
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => DirBuilder::new()
                    .mode(0o755)
                    .create(&host)
                    .map_err(ImageError::unpack("creating parent folder", raw))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(refuse(raw, format!("{} is not in the image", inside.display())))
                }
                Err(e) => return Err(ImageError::unpack("inspecting parent folder", raw)(e)),
            }
        }
        Ok(())
    }

    /// Make room at `full` for a new entry; an existing folder is kept when the
    /// new entry is a folder too. Returns true when a folder was kept.
    fn clear(&mut self, raw: &Path, rel: &Path, full: &Path, keep_dir: bool) -> Result<bool, ImageError> {
        let replace = ImageError::unpack("replacing an earlier entry", raw);
        match fs::symlink_metadata(full) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(replace(e)),
            Ok(m) if m.is_dir() && keep_dir => Ok(true),
            Ok(m) if m.is_dir() => {
                remove_tree(full).map_err(replace)?;
                self.dirs.retain(|p, _| !p.starts_with(rel));
                Ok(false)
            }
            Ok(_) => fs::remove_file(full).map(|_| false).map_err(replace),
        }
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw: &Path,
        rel: &Path,
        meta: &Meta,
    ) -> Result<(), ImageError> {
        let full = self.dst.join(rel);
        self.clear(raw, rel, &full, false)?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&full)
            .map_err(ImageError::unpack("creating file", raw))?;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ImageError::io("reading archive", self.archive)(e)),
            };
            f.write_all(&self.buf[..n]).map_err(ImageError::unpack("writing file", raw))?;
            self.size += n as u64;
        }
        if self.chown {
            std::os::unix::fs::fchown(&f, Some(meta.uid), Some(meta.gid))
                .map_err(ImageError::unpack("setting owner", raw))?;
        }
        f.set_permissions(Permissions::from_mode(meta.mode)).map_err(ImageError::unpack("setting mode", raw))?;
        for (name, value) in &meta.xattrs {
            let r = f.set_xattr(name, value);
            self.xattr_result(r, raw, name, false)?;
        }
        let t = meta.system_time();
        f.set_times(FileTimes::new().set_accessed(t).set_modified(t)).map_err(ImageError::unpack("setting times", raw))
    }

    fn dir(&mut self, raw: &Path, rel: &Path, meta: &Meta) -> Result<(), ImageError> {
        let full = self.dst.join(rel);
        if !rel.as_os_str().is_empty() && !self.clear(raw, rel, &full, true)? {
            // Owner-writable until finish_dirs, whatever the archive says.
            DirBuilder::new().mode(0o700).create(&full).map_err(ImageError::unpack("creating folder", raw))?;
        }
        self.own(raw, &full, meta)?;
        self.set_xattrs(raw, &full, meta, false)?;
        self.dirs.insert(rel.to_path_buf(), DirMeta { raw: raw.to_path_buf(), mode: meta.mode, time: meta.timespec() });
        Ok(())
    }

    fn symlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        raw: &Path,
        rel: &Path,
        meta: &Meta,
    ) -> Result<(), ImageError> {
        // Kept exactly as written: absolute targets are normal in a rootfs and
        // only mean something once the container's root is in place.
        let target = entry
            .link_name()
            .map_err(ImageError::unpack("reading the symlink target", raw))?
            .filter(|t| !t.as_os_str().is_empty())
            .ok_or_else(|| ImageError::Unsupported {
                path: raw.to_path_buf(),
                reason: "a symlink without a target".into(),
            })?
            .into_owned();
        let full = self.dst.join(rel);
        self.clear(raw, rel, &full, false)?;
        std::os::unix::fs::symlink(&target, &full).map_err(ImageError::unpack("creating symlink", raw))?;
        self.own(raw, &full, meta)?;
        self.set_xattrs(raw, &full, meta, true)?;
        set_time(&full, meta.timespec()).map_err(ImageError::unpack("setting times", raw))
    }

    fn hard_link<R: Read>(&mut self, entry: &tar::Entry<'_, R>, raw: &Path, rel: &Path) -> Result<(), ImageError> {
        let link = entry
            .link_name()
            .map_err(ImageError::unpack("reading the hard link target", raw))?
            .ok_or_else(|| ImageError::Unsupported {
                path: raw.to_path_buf(),
                reason: "a hard link without a target".into(),
            })?
            .into_owned();
        let what = |reason: String| refuse(raw, format!("hard link target {}: {reason}", link.display()));
        let target = clean(&link).map_err(what)?;
        if target.as_os_str().is_empty() {
            return Err(what("it is the image root".into()));
        }
        if target == rel {
            return Err(what("it is the link itself".into()));
        }
        self.check_parents(raw, &target, false).map_err(|e| match e {
            ImageError::UnsafeEntry { reason, .. } => what(reason),
            other => other,
        })?;
        let target_full = self.dst.join(&target);
        match fs::symlink_metadata(&target_full) {
            Ok(m) if m.is_dir() => return Err(what("it is a folder".into())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(what("it is not in the image".into())),
            Err(e) => return Err(ImageError::unpack("inspecting the hard link target", raw)(e)),
        }
        let full = self.dst.join(rel);
        self.clear(raw, rel, &full, false)?;
        // linkat without AT_SYMLINK_FOLLOW: a target that is a symlink is linked itself.
        fs::hard_link(&target_full, &full).map_err(ImageError::unpack("creating hard link", raw))
    }

    fn node<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        raw: &Path,
        rel: &Path,
        meta: &Meta,
        kind: SFlag,
        op: &'static str,
    ) -> Result<(), ImageError> {
        let dev = if kind == SFlag::S_IFIFO {
            0
        } else {
            let h = entry.header();
            let major = h.device_major().map_err(ImageError::unpack("reading the device number", raw))?;
            let minor = h.device_minor().map_err(ImageError::unpack("reading the device number", raw))?;
            makedev(u64::from(major.unwrap_or(0)), u64::from(minor.unwrap_or(0)))
        };
        let full = self.dst.join(rel);
        self.clear(raw, rel, &full, false)?;
        mknod(&full, kind, Mode::from_bits_truncate(0o600), dev).map_err(|e| ImageError::unpack(op, raw)(e.into()))?;
        self.own(raw, &full, meta)?;
        // A node we just made, not a symlink: chmod by path is safe here.
        fs::set_permissions(&full, Permissions::from_mode(meta.mode))
            .map_err(ImageError::unpack("setting mode", raw))?;
        self.set_xattrs(raw, &full, meta, false)?;
        set_time(&full, meta.timespec()).map_err(ImageError::unpack("setting times", raw))
    }

    fn own(&self, raw: &Path, full: &Path, meta: &Meta) -> Result<(), ImageError> {
        if !self.chown {
            return Ok(());
        }
        std::os::unix::fs::lchown(full, Some(meta.uid), Some(meta.gid))
            .map_err(ImageError::unpack("setting owner", raw))
    }

    fn set_xattrs(&mut self, raw: &Path, full: &Path, meta: &Meta, is_symlink: bool) -> Result<(), ImageError> {
        for (name, value) in &meta.xattrs {
            // xattr::set is lsetxattr: it never follows a symlink.
            let r = xattr::set(full, name, value);
            self.xattr_result(r, raw, name, is_symlink)?;
        }
        Ok(())
    }

    /// A filesystem without xattrs (or, on symlinks, without user.*) is told
    /// once and skipped; any other failure fails the import.
    fn xattr_result(
        &mut self,
        r: io::Result<()>,
        raw: &Path,
        name: &OsString,
        is_symlink: bool,
    ) -> Result<(), ImageError> {
        match r {
            Ok(()) => Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EOPNOTSUPP)
                    || (is_symlink && e.raw_os_error() == Some(libc::EPERM)) =>
            {
                if !self.warned_xattrs {
                    self.warned_xattrs = true;
                    log::warn!("{}: cannot keep extended attribute {}: {e}", raw.display(), name.to_string_lossy());
                }
                Ok(())
            }
            Err(e) => Err(ImageError::unpack("setting extended attribute", raw)(e)),
        }
    }

    /// Folder modes and times, deepest first (a descendant sorts after its
    /// ancestors), once nothing more will be written inside them.
    fn finish_dirs(&mut self) -> Result<(), ImageError> {
        let dirs = std::mem::take(&mut self.dirs);
        for (rel, d) in dirs.into_iter().rev() {
            let full = self.dst.join(&rel);
            match fs::symlink_metadata(&full) {
                Ok(m) if m.is_dir() => {}
                _ => continue, // replaced by a later entry
            }
            fs::set_permissions(&full, Permissions::from_mode(d.mode))
                .map_err(ImageError::unpack("setting mode", &d.raw))?;
            set_time(&full, d.time).map_err(ImageError::unpack("setting times", &d.raw))?;
        }
        Ok(())
    }
}

/// Set atime and mtime of `path` itself, never of a symlink's target.
fn set_time(path: &Path, t: TimeSpec) -> io::Result<()> {
    utimensat(None, path, &t, &t, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_root_and_refuses_dotdot() {
        assert_eq!(clean(Path::new("/etc/passwd")).unwrap(), PathBuf::from("etc/passwd"));
        assert_eq!(clean(Path::new("./bin//sh")).unwrap(), PathBuf::from("bin/sh"));
        assert_eq!(clean(Path::new("./")).unwrap(), PathBuf::new());
        assert_eq!(clean(Path::new("a/.../b")).unwrap(), PathBuf::from("a/.../b"));
        assert!(clean(Path::new("../evil")).is_err());
        assert!(clean(Path::new("a/../../evil")).is_err());
        assert!(clean(Path::new("/../evil")).is_err());
    }

    #[test]
    fn pax_times_keep_nanoseconds() {
        assert_eq!(parse_pax_time("1763860103.123456789"), Some((1763860103, 123_456_789)));
        assert_eq!(parse_pax_time("1763860103.5"), Some((1763860103, 500_000_000)));
        assert_eq!(parse_pax_time("1763860103.1234567891"), Some((1763860103, 123_456_789)));
        assert_eq!(parse_pax_time("12"), Some((12, 0)));
        assert_eq!(parse_pax_time("-5.25"), Some((-6, 750_000_000)));
        assert_eq!(parse_pax_time("x"), None);
        assert_eq!(parse_pax_time("1.2e3"), None);
    }

    #[test]
    fn whiteouts_and_overlay_xattrs_are_recognized() {
        assert!(is_whiteout(Path::new("etc/.wh.passwd")));
        assert!(is_whiteout(Path::new("etc/.wh..wh..opq")));
        assert!(!is_whiteout(Path::new("etc/wh.passwd")));
        assert!(is_overlay_xattr(b"trusted.overlay.opaque"));
        assert!(is_overlay_xattr(b"user.overlay.redirect"));
        assert!(!is_overlay_xattr(b"user.mime_type"));
        assert!(!is_overlay_xattr(b"security.capability"));
    }
}
