//! Behaviour of the store as a user sees it: import, get, list, remove, and
//! what a hostile or broken archive cannot do. Archives are built in memory.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tar::{EntryType, Header};
use tempfile::TempDir;

use super::*;

const MTIME: u64 = 1_600_000_000;

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A tar archive written entry by entry, names taken as raw bytes so that
/// hostile ones (`../evil`, `/abs`) can be made too.
struct TarBuilder {
    b: tar::Builder<Vec<u8>>,
}

impl TarBuilder {
    fn new() -> Self {
        TarBuilder { b: tar::Builder::new(Vec::new()) }
    }

    fn header(path: &str, kind: EntryType, mode: u32, size: u64) -> Header {
        let mut h = Header::new_gnu();
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        h.set_size(size);
        h
    }

    fn add(&mut self, mut h: Header, data: &[u8]) -> &mut Self {
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        self.add(Self::header(path, EntryType::Directory, mode, 0), b"")
    }

    fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Self {
        self.add(Self::header(path, EntryType::Regular, mode, data.len() as u64), data)
    }

    fn owned_file(&mut self, path: &str, mode: u32, uid: u64, gid: u64, data: &[u8]) -> &mut Self {
        let mut h = Self::header(path, EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.add(h, data)
    }

    fn link(&mut self, path: &str, kind: EntryType, target: &str) -> &mut Self {
        let mut h = Self::header(path, kind, 0o777, 0);
        h.set_link_name_literal(target).unwrap();
        self.add(h, b"")
    }

    fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.link(path, EntryType::Symlink, target)
    }

    fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.link(path, EntryType::Link, target)
    }

    fn node(&mut self, path: &str, kind: EntryType, major: u32, minor: u32, mode: u32, gid: u64) -> &mut Self {
        let mut h = Self::header(path, kind, mode, 0);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        h.set_gid(gid);
        self.add(h, b"")
    }

    /// A pax header giving the next entry these key=value records.
    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let body_len = 1 + k.len() + 1 + v.len() + 1; // " k=v\n"
            let mut len = body_len + 1;
            while len != body_len + len.to_string().len() {
                len = body_len + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.add(Self::header("././@PaxHeader", EntryType::XHeader, 0o644, data.len() as u64), &data)
    }

    fn bytes(&mut self) -> Vec<u8> {
        self.b.get_mut().clone().into_iter().chain(std::iter::repeat_n(0, 1024)).collect()
    }

    fn write(&mut self, dir: &Path, file: &str) -> PathBuf {
        let path = dir.join(file);
        fs::write(&path, self.bytes()).unwrap();
        path
    }
}

/// A store under a temp folder, with room beside it for "outside" things.
struct Fixture {
    t: TempDir,
    store: ImageStore,
}

impl Fixture {
    fn new() -> Self {
        let t = tempfile::tempdir().unwrap();
        let store = ImageStore::open(&t.path().join("root")).unwrap();
        Fixture { t, store }
    }

    fn images(&self) -> PathBuf {
        self.t.path().join("root/images")
    }

    fn outside(&self) -> PathBuf {
        let p = self.t.path().join("outside");
        fs::create_dir_all(&p).unwrap();
        p
    }

    fn import(&self, tar: &mut TarBuilder, name: &str) -> Result<Image, ImageError> {
        let file = tar.write(self.t.path(), &format!("{}.tar", name.replace(['/', ':'], "_")));
        self.store.import(&file, name, &mut |_, _| {})
    }

    fn entries(&self, dir: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.images().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn record_dirs(&self) -> Vec<String> {
        self.entries(".").into_iter().filter(|n| n.len() == 64).collect()
    }

    /// Nothing of a failed import is left: no temp folder, layer, record or name.
    fn assert_empty(&self) {
        assert_eq!(self.entries(".tmp"), Vec::<String>::new(), "temp folders left");
        assert_eq!(self.entries("layers"), Vec::<String>::new(), "layers left");
        assert_eq!(self.entries("names"), Vec::<String>::new(), "names left");
        assert_eq!(self.record_dirs(), Vec::<String>::new(), "records left");
    }

    fn layer(&self, img: &Image) -> PathBuf {
        self.store.lower_dirs(img).remove(0)
    }
}

impl Drop for Fixture {
    /// TempDir cannot remove the read-only folders of a layer when not root.
    fn drop(&mut self) {
        let _ = super::tree::remove_tree(self.t.path());
    }
}

fn small_tar(content: &str) -> TarBuilder {
    let mut t = TarBuilder::new();
    t.dir("bin/", 0o755).file("bin/hello", 0o755, content.as_bytes());
    t
}

fn rootfs() -> TarBuilder {
    let mut t = TarBuilder::new();
    t.dir("./", 0o755)
        .dir("./bin/", 0o755)
        .file("./bin/busybox", 0o755, b"BUSYBOX")
        .symlink("./bin/sh", "/bin/busybox")
        .hardlink("./bin/ls", "./bin/busybox")
        .dir("./etc/", 0o755)
        .pax(&[("mtime", b"1600000000.25")])
        .file("./etc/hostname", 0o644, b"box\n")
        .file("./etc/.wh.gone", 0o644, b"")
        .file("./usr/bin/su", 0o4755, b"SU")
        .dir("./tmp/", 0o1777)
        .dir("./ro/", 0o555)
        .file("./ro/file", 0o444, b"read only")
        .node("./run/initctl", EntryType::Fifo, 0, 0, 0o600, 0)
        .file("/abs/file", 0o600, b"abs");
    t
}

#[test]
fn imports_a_rootfs_keeping_links_modes_and_times() {
    let f = Fixture::new();
    let mut tar = rootfs();
    let bytes = tar.bytes();
    let img = f.import(&mut tar, "busybox:latest").unwrap();

    assert_eq!(img.name, "busybox");
    assert_eq!(img.id.len(), 64);
    assert_eq!(img.layers, vec![mydocker_state::id::to_hex(&Sha256::digest(&bytes))]);
    assert_eq!(img.size, (b"BUSYBOX".len() + b"box\n".len() + b"SU".len() + b"read only".len() + b"abs".len()) as u64);
    assert_eq!(img.config.env, vec![DEFAULT_PATH_ENV.to_string()]);
    assert_eq!(img.config.cmd, vec!["sh".to_string()]);
    assert_eq!(img.config.working_dir, "");

    let l = f.layer(&img);
    assert_eq!(l, f.images().join("layers").join(&img.layers[0]));
    assert_eq!(fs::read(l.join("bin/busybox")).unwrap(), b"BUSYBOX");
    assert_eq!(fs::read_link(l.join("bin/sh")).unwrap(), PathBuf::from("/bin/busybox"));
    let bb = fs::metadata(l.join("bin/busybox")).unwrap();
    assert_eq!(fs::metadata(l.join("bin/ls")).unwrap().ino(), bb.ino());
    assert_eq!(bb.mode() & 0o7777, 0o755);
    assert_eq!(fs::metadata(l.join("usr/bin/su")).unwrap().mode() & 0o7777, 0o4755);
    assert_eq!(fs::metadata(l.join("tmp")).unwrap().mode() & 0o7777, 0o1777);
    assert_eq!(fs::metadata(l.join("ro")).unwrap().mode() & 0o7777, 0o555);
    assert_eq!(fs::read(l.join("ro/file")).unwrap(), b"read only");
    assert!(fs::symlink_metadata(l.join("run/initctl")).unwrap().file_type().is_fifo());
    assert_eq!(fs::read(l.join("abs/file")).unwrap(), b"abs", "absolute paths land inside the image");
    assert!(!l.join("etc/.wh.gone").exists(), "whiteouts are dropped");
    assert_eq!(fs::metadata(&l).unwrap().mode() & 0o7777, 0o755);
    for p in ["bin", "etc", "ro", "bin/busybox", "ro/file", "usr/bin/su", "run/initctl", "."] {
        assert_eq!(fs::metadata(l.join(p)).unwrap().mtime(), MTIME as i64, "{p}");
    }
    assert_eq!(fs::symlink_metadata(l.join("bin/sh")).unwrap().mtime(), MTIME as i64);
    assert_eq!(fs::metadata(l.join("etc/hostname")).unwrap().mtime_nsec(), 250_000_000, "pax sub-second mtime");

    assert_eq!(fs::read_link(f.images().join("names/busybox")).unwrap(), Path::new("..").join(&img.id));
    let on_disk: Image = mydocker_state::atomic::read_json(&f.images().join(&img.id).join("image.json")).unwrap();
    assert_eq!(on_disk, img);
    assert_eq!(f.entries(".tmp"), Vec::<String>::new());
    assert_eq!(f.store.list().unwrap(), vec![img]);
}

#[test]
fn keeps_owners_devices_and_setuid_as_root() {
    if !is_root() {
        return;
    }
    let f = Fixture::new();
    let mut tar = TarBuilder::new();
    tar.node("dev/null", EntryType::Char, 1, 3, 0o666, 0)
        .node("dev/loop0", EntryType::Block, 7, 0, 0o660, 6)
        .owned_file("home/me/suid", 0o6755, 1000, 1001, b"x");
    let img = f.import(&mut tar, "devs").unwrap();
    let l = f.layer(&img);
    let null = fs::symlink_metadata(l.join("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666);
    let lp = fs::symlink_metadata(l.join("dev/loop0")).unwrap();
    assert!(lp.file_type().is_block_device());
    assert_eq!(lp.rdev(), nix::sys::stat::makedev(7, 0));
    assert_eq!((lp.gid(), lp.mode() & 0o7777), (6, 0o660));
    let suid = fs::metadata(l.join("home/me/suid")).unwrap();
    assert_eq!((suid.uid(), suid.gid()), (1000, 1001));
    assert_eq!(suid.mode() & 0o7777, 0o6755, "chown must not clear setuid/setgid");
}

#[test]
fn keeps_user_xattrs_and_drops_overlay_ones() {
    let f = Fixture::new();
    let probe = f.t.path().join("probe");
    fs::write(&probe, "").unwrap();
    if xattr::set(&probe, "user.probe", b"1").is_err() {
        return; // this filesystem keeps no user xattrs
    }
    let mut tar = TarBuilder::new();
    tar.pax(&[("SCHILY.xattr.user.mime", b"text/plain"), ("SCHILY.xattr.trusted.overlay.opaque", b"y")])
        .file("doc.txt", 0o644, b"hi")
        .pax(&[("SCHILY.xattr.user.dir", b"d")])
        .dir("data/", 0o755);
    let img = f.import(&mut tar, "attrs").unwrap();
    let l = f.layer(&img);
    assert_eq!(xattr::get(l.join("doc.txt"), "user.mime").unwrap(), Some(b"text/plain".to_vec()));
    assert_eq!(xattr::get(l.join("doc.txt"), "trusted.overlay.opaque").unwrap_or(None), None);
    assert_eq!(xattr::get(l.join("data"), "user.dir").unwrap(), Some(b"d".to_vec()));
}

#[test]
fn dotdot_entry_is_refused_and_nothing_is_left() {
    let f = Fixture::new();
    let mut tar = TarBuilder::new();
    tar.file("ok", 0o644, b"fine").file("../evil", 0o644, b"evil");
    let err = f.import(&mut tar, "evil").unwrap_err();
    assert!(matches!(err, ImageError::UnsafeEntry { .. }), "{err}");
    assert!(err.to_string().contains("../evil") && err.to_string().contains(".."), "{err}");
    assert!(!f.images().join(".tmp/evil").exists());
    assert!(!f.images().join("evil").exists());
    f.assert_empty();
}

#[test]
fn entry_through_a_symlink_never_writes_outside() {
    let f = Fixture::new();
    let outside = f.outside();
    for target in [outside.to_str().unwrap().to_string(), "../../../../outside".to_string(), "..".to_string()] {
        let mut tar = TarBuilder::new();
        tar.file("a", 0o644, b"a").symlink("etc", &target).file("etc/x", 0o644, b"pwned");
        let err = f.import(&mut tar, "sneaky").unwrap_err();
        assert!(matches!(err, ImageError::UnsafeEntry { .. }), "{target}: {err}");
        assert!(err.to_string().contains("its parent etc is a symlink"), "{err}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "{target}: wrote outside");
        assert!(!f.images().join(".tmp/x").exists() && !f.images().join("x").exists());
        f.assert_empty();
    }
}

#[test]
fn hard_links_cannot_reach_outside() {
    let f = Fixture::new();
    let outside = f.outside();
    let secret = outside.join("secret");
    fs::write(&secret, "secret").unwrap();
    let outside_str = outside.to_str().unwrap();
    let cases = [
        ("dotdot", None, "../../../../outside/secret"),
        ("absolute", None, "/etc/passwd"),
        ("through a symlink", Some(outside_str), "d/secret"),
        ("itself", None, "l"),
    ];
    for (what, symlink_d, target) in cases {
        let mut tar = TarBuilder::new();
        tar.file("a", 0o644, b"a");
        if let Some(d) = symlink_d {
            tar.symlink("d", d);
        }
        tar.hardlink("l", target);
        let err = f.import(&mut tar, "links").unwrap_err();
        assert!(matches!(err, ImageError::UnsafeEntry { .. }), "{what}: {err}");
        assert!(err.to_string().contains("hard link target"), "{what}: {err}");
        assert_eq!(fs::metadata(&secret).unwrap().nlink(), 1, "{what}: linked outside");
        assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), 1, "{what}");
        f.assert_empty();
    }
}

#[test]
fn later_entries_replace_earlier_ones() {
    let f = Fixture::new();
    let mut tar = TarBuilder::new();
    tar.file("a", 0o644, b"first")
        .symlink("a", "/elsewhere")
        .symlink("b", "/tmp")
        .file("b", 0o644, b"file, not through the link")
        .dir("c/", 0o755)
        .file("c/inner", 0o644, b"x")
        .file("c", 0o600, b"now a file");
    let img = f.import(&mut tar, "replace").unwrap();
    let l = f.layer(&img);
    assert_eq!(fs::read_link(l.join("a")).unwrap(), PathBuf::from("/elsewhere"));
    assert_eq!(fs::read(l.join("b")).unwrap(), b"file, not through the link");
    assert_eq!(fs::read(l.join("c")).unwrap(), b"now a file");
}

#[test]
fn a_taken_name_is_refused_and_the_first_image_kept() {
    let f = Fixture::new();
    let first = f.import(&mut small_tar("one"), "busybox").unwrap();
    let err = f.import(&mut small_tar("two"), "busybox:latest").unwrap_err();
    assert_eq!(err.to_string(), format!("image name busybox is already in use by image {}", &first.id[..12]));
    assert_eq!(f.store.get("busybox").unwrap(), first);
    assert_eq!(f.store.list().unwrap().len(), 1);
    assert_eq!(f.entries("layers"), first.layers);
    assert_eq!(f.entries(".tmp"), Vec::<String>::new());
}

#[test]
fn invalid_names_are_refused_before_anything() {
    let f = Fixture::new();
    for name in ["../evil", "/abs", "a//b", "", "UPPER/../x"] {
        let err = f.store.import(Path::new("/nonexistent.tar"), name, &mut |_, _| {}).unwrap_err();
        assert!(matches!(err, ImageError::InvalidName(_)), "{name}: {err}");
    }
    f.assert_empty();
}

#[test]
fn get_by_name_full_id_and_prefix() {
    let f = Fixture::new();
    let img = f.import(&mut small_tar("x"), "library/busybox:1.36").unwrap();
    let other = f.import(&mut small_tar("y"), "alpine").unwrap();
    assert_eq!(f.store.get("library/busybox:1.36").unwrap(), img);
    assert_eq!(f.store.get("alpine:latest").unwrap(), other);
    assert_eq!(f.store.get(&img.id).unwrap(), img);
    assert_eq!(f.store.get(&format!("sha256:{}", img.id)).unwrap(), img);
    let unique = (1..=64).map(|n| &img.id[..n]).find(|p| !other.id.starts_with(p)).unwrap();
    assert_eq!(f.store.get(unique).unwrap(), img);
    for missing in ["nope", "library/busybox", "../../etc", "names", &"f".repeat(65)] {
        let err = f.store.get(missing).unwrap_err();
        assert_eq!(err.to_string(), format!("no such image: {missing}"));
    }
}

#[test]
fn an_ambiguous_prefix_is_an_error() {
    let f = Fixture::new();
    // 17 images: two of them must share a first hex digit.
    let mut by_first: std::collections::HashMap<char, Vec<Image>> = Default::default();
    for i in 0..17 {
        let img = f.import(&mut small_tar("same"), &format!("img{i}")).unwrap();
        by_first.entry(img.id.chars().next().unwrap()).or_default().push(img);
    }
    assert_eq!(f.entries("layers").len(), 1, "one tar, one shared layer");
    let (c, imgs) = by_first.iter().find(|(_, v)| v.len() > 1).unwrap();
    let err = f.store.get(&c.to_string()).unwrap_err();
    assert!(matches!(err, ImageError::Ambiguous { .. }), "{err}");
    for img in imgs {
        assert!(err.to_string().contains(&img.id[..12]), "{err}");
    }
}

#[test]
fn list_is_newest_first() {
    let f = Fixture::new();
    for n in ["x", "y", "z"] {
        f.import(&mut small_tar(n), n).unwrap();
    }
    let names: Vec<String> = f.store.list().unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["z", "y", "x"]);
}

#[test]
fn an_image_in_use_is_not_removed() {
    let f = Fixture::new();
    let img = f.import(&mut rootfs(), "busybox").unwrap();
    let err = f.store.remove("busybox", &|i: &Image| i.id == img.id).unwrap_err();
    assert_eq!(err.to_string(), "image busybox is in use by a container: remove the container first");
    assert_eq!(f.store.get("busybox").unwrap(), img);
    assert!(f.layer(&img).join("bin/busybox").exists());
}

#[test]
fn remove_frees_what_no_other_image_shares() {
    // Names that are not hex: "a" would also read as an ID prefix.
    let f = Fixture::new();
    let a = f.import(&mut rootfs(), "one").unwrap();
    let b = f.import(&mut rootfs(), "two").unwrap();
    assert_eq!(a.layers, b.layers, "the same tar shares its layer");
    assert_ne!(a.id, b.id);

    assert_eq!(f.store.remove("one", &|_| false).unwrap(), a);
    assert!(matches!(f.store.get("one"), Err(ImageError::NotFound(_))));
    assert!(f.layer(&b).join("ro/file").exists(), "layer still used by b");
    assert_eq!(f.store.get("two").unwrap(), b);

    f.store.remove(&b.id[..12], &|_| false).unwrap();
    f.assert_empty();
    f.import(&mut rootfs(), "one").unwrap();
}

#[test]
fn progress_reaches_the_total() {
    let f = Fixture::new();
    let big = vec![1u8; 3 << 20];
    let mut tar = TarBuilder::new();
    tar.file("big", 0o644, &big);
    let file = tar.write(f.t.path(), "big.tar");
    let total = fs::metadata(&file).unwrap().len();
    let mut calls = Vec::new();
    f.store.import(&file, "big", &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(calls.last(), Some(&(total, total)));
    assert!(calls.len() >= 4 && calls.len() < 10, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn compressed_empty_and_broken_files_are_refused_cleanly() {
    let f = Fixture::new();
    let gz = f.t.path().join("x.tar.gz");
    fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0]).unwrap();
    let err = f.store.import(&gz, "gz", &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("gzip-compressed"), "{err}");

    let empty = f.t.path().join("empty.tar");
    fs::write(&empty, "").unwrap();
    let err = f.store.import(&empty, "empty", &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");

    let text = f.t.path().join("text.tar");
    fs::write(&text, "this is not a tar archive at all\n".repeat(40)).unwrap();
    assert!(f.store.import(&text, "text", &mut |_, _| {}).is_err());

    let mut tar = rootfs();
    let bytes = tar.bytes();
    let cut = f.t.path().join("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() / 2 + 100]).unwrap();
    let err = f.store.import(&cut, "cut", &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("cut.tar"), "{err}");

    let missing = f.store.import(&f.t.path().join("missing.tar"), "m", &mut |_, _| {}).unwrap_err();
    assert!(missing.to_string().contains("missing.tar"), "{missing}");
    f.assert_empty();
}

#[test]
fn the_next_import_clears_what_a_crash_left() {
    let f = Fixture::new();
    let kept = f.import(&mut small_tar("kept"), "kept").unwrap();
    // A crashed import: a temp folder, a layer and a record but no name.
    fs::create_dir_all(f.images().join(".tmp/stale/ro")).unwrap();
    fs::set_permissions(f.images().join(".tmp/stale/ro"), fs::Permissions::from_mode(0o500)).unwrap();
    let orphan_layer = "b".repeat(64);
    fs::create_dir_all(f.images().join("layers").join(&orphan_layer).join("bin")).unwrap();
    let unnamed = Image::new(
        "ghost".into(),
        "2000-01-01T00:00:00.000000000Z".into(),
        0,
        vec![orphan_layer],
        ImageConfig::default(),
    );
    fs::create_dir(f.images().join(&unnamed.id)).unwrap();
    mydocker_state::atomic::write_json(&f.images().join(&unnamed.id).join("image.json"), &unnamed).unwrap();
    // A crashed remove: a name whose record is gone.
    std::os::unix::fs::symlink(format!("../{}", "c".repeat(64)), f.images().join("names/dangling")).unwrap();

    assert_eq!(f.store.list().unwrap(), vec![kept.clone()], "unfinished images are not listed");
    assert!(matches!(f.store.get(&unnamed.id), Err(ImageError::NotFound(_))));

    let new = f.import(&mut small_tar("new"), "new").unwrap();
    assert_eq!(f.entries(".tmp"), Vec::<String>::new());
    let mut layers = vec![kept.layers[0].clone(), new.layers[0].clone()];
    layers.sort();
    assert_eq!(f.entries("layers"), layers);
    let mut records = vec![kept.id.clone(), new.id.clone()];
    records.sort();
    assert_eq!(f.record_dirs(), records);
    assert_eq!(f.entries("names"), ["kept", "new"]);
}
