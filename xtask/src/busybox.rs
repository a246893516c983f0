//! busybox.tar: a rootfs tarball shaped like `docker export` of busybox,
//! made from Debian's static busybox, the same bytes every time (sorted
//! entries, fixed mtime, owner 0:0). No docker daemon involved.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::apt;
use crate::args::Args;
use crate::util::{cmd, output, target_dir};

/// Where Debian's busybox-static puts the binary.
pub const BUSYBOX: &str = "/bin/busybox";
const PACKAGE: &str = "busybox-static";

/// mtime of every entry, unless SOURCE_DATE_EPOCH says otherwise:
/// 2000-01-01T00:00:00Z.
const DEFAULT_MTIME: u64 = 946_684_800;

/// `cargo xtask busybox-tar [--out PATH] [--force]`
pub fn main(mut args: Args) -> Result<()> {
    let out = args.value("--out")?.map(PathBuf::from);
    let force = args.flag("--force");
    args.finish()?;
    ensure_static()?;
    let path = make_tar(out.as_deref(), force)?;
    println!("{}", path.display());
    Ok(())
}

/// Where busybox.tar goes unless told otherwise.
pub fn default_tar_path() -> PathBuf {
    target_dir().join("images").join("busybox.tar")
}

/// Make sure /bin/busybox is a static busybox, installing busybox-static
/// when it is missing or dynamically linked.
pub fn ensure_static() -> Result<PathBuf> {
    let path = Path::new(BUSYBOX);
    if path.exists() {
        if is_static(path)? {
            return Ok(path.to_path_buf());
        }
        println!("{BUSYBOX} is dynamically linked: installing {PACKAGE}");
    } else {
        println!("{BUSYBOX} not found: installing {PACKAGE}");
    }
    apt::install(&[PACKAGE])?;
    if !path.exists() {
        bail!("installed {PACKAGE} but {BUSYBOX} is still missing");
    }
    if !is_static(path)? {
        bail!("installed {PACKAGE} but {BUSYBOX} is still dynamically linked");
    }
    Ok(path.to_path_buf())
}

/// Build busybox.tar at `out` (default: target/images/busybox.tar), unless
/// one is there already that is newer than /bin/busybox and `force` is
/// false. Returns the absolute path of the tarball.
pub fn make_tar(out: Option<&Path>, force: bool) -> Result<PathBuf> {
    let out = match out {
        Some(p) => std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))?,
        None => default_tar_path(),
    };
    if !force && is_up_to_date(&out, Path::new(BUSYBOX)) {
        println!("{} is up to date", out.display());
        return Ok(out);
    }
    let busybox = fs::read(BUSYBOX).with_context(|| format!("reading {BUSYBOX}"))?;
    let applets = list_applets()?;
    let tree = rootfs(busybox, &applets)?;
    let dir = out
        .parent()
        .context("the output path has no parent folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".busybox.tar.tmp-{}", std::process::id()));
    let written = write_tar_file(&tmp, &tree, mtime());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &out)
        .with_context(|| format!("renaming {} to {}", tmp.display(), out.display()))?;
    println!(
        "wrote {} ({} entries, {} applets)",
        out.display(),
        tree.len(),
        applets.len()
    );
    Ok(out)
}

fn is_up_to_date(out: &Path, busybox: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(out), modified(busybox)) {
        (Some(tar), Some(bin)) => tar >= bin,
        _ => false,
    }
}

fn mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_MTIME)
}

/// The applets busybox was built with, as paths relative to /, every one in
/// `bin/` as the official busybox image has them (`bin/sh`, `bin/top`,
/// `bin/[`: the series runs `/bin/top`), whatever folder Debian's
/// `--list-full` gives. Entries at the top level (`linuxrc`) and busybox
/// itself are left out.
fn list_applets() -> Result<Vec<String>> {
    let listing = output(cmd(BUSYBOX).arg("--list-full"))?;
    check_applets(applets_in_bin(&listing))
}

fn applets_in_bin(listing: &str) -> Vec<String> {
    let mut applets: Vec<String> = listing
        .lines()
        .map(str::trim)
        .filter(|p| p.contains('/'))
        .filter_map(|p| p.rsplit('/').next())
        .filter(|name| !name.is_empty() && *name != "busybox" && *name != "." && *name != "..")
        .map(|name| format!("bin/{name}"))
        .collect();
    applets.sort();
    applets.dedup();
    applets
}

fn check_applets(applets: Vec<String>) -> Result<Vec<String>> {
    for applet in &applets {
        if applet.starts_with('/') || applet.split('/').any(|c| c.is_empty() || c == "..") {
            bail!("`{BUSYBOX} --list-full` gave an odd path: {applet:?}");
        }
    }
    if !applets.iter().any(|a| a == "bin/sh") {
        bail!("{BUSYBOX} has no sh applet; is it really busybox?");
    }
    Ok(applets)
}

/// One entry of the rootfs.
#[derive(Debug, PartialEq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
                      nobody:x:65534:65534:nobody:/home:/bin/false\n";
const GROUP: &str = "root:x:0:\nnobody:x:65534:\n";

/// The whole rootfs, keyed by path relative to / (sorted, so parents come
/// before their children).
fn rootfs(busybox: Vec<u8>, applets: &[String]) -> Result<BTreeMap<String, Node>> {
    let mut tree = BTreeMap::new();
    let dirs = [
        ("bin", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("home", 0o755),
        ("proc", 0o555),
        ("root", 0o700),
        ("sbin", 0o755),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("var", 0o755),
    ];
    for (path, mode) in dirs {
        tree.insert(path.to_string(), Node::Dir { mode });
    }
    let files: [(&str, u32, Vec<u8>); 4] = [
        ("bin/busybox", 0o755, busybox),
        ("etc/passwd", 0o644, PASSWD.into()),
        ("etc/group", 0o644, GROUP.into()),
        ("etc/resolv.conf", 0o644, Vec::new()),
    ];
    for (path, mode, data) in files {
        tree.insert(path.to_string(), Node::File { mode, data });
    }
    for applet in applets {
        let mut parent = Path::new(applet).parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            tree.entry(dir.to_string_lossy().into_owned())
                .or_insert(Node::Dir { mode: 0o755 });
            parent = dir.parent();
        }
        if tree.contains_key(applet.as_str()) {
            bail!("applet {applet} would replace a file of the rootfs");
        }
        tree.insert(
            applet.clone(),
            Node::Symlink {
                target: link_to_busybox(applet),
            },
        );
    }
    Ok(tree)
}

/// The relative symlink target from `applet` to bin/busybox, so it resolves
/// the same inside the container and when looked at from the host.
fn link_to_busybox(applet: &str) -> String {
    let depth = applet.matches('/').count();
    match depth {
        1 if applet.starts_with("bin/") => "busybox".to_string(),
        _ => format!("{}bin/busybox", "../".repeat(depth)),
    }
}

fn write_tar_file(path: &Path, tree: &BTreeMap<String, Node>, mtime: u64) -> Result<()> {
    let file = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut file = write_tar(BufWriter::new(file), tree, mtime)
        .with_context(|| format!("writing {}", path.display()))?
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing {}", path.display()))?;
    file.flush()?;
    file.sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    Ok(())
}

fn write_tar<W: Write>(out: W, tree: &BTreeMap<String, Node>, mtime: u64) -> io::Result<W> {
    let mut builder = tar::Builder::new(out);
    for (path, node) in tree {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        match node {
            Node::Dir { mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), io::empty())?;
            }
            Node::File { mode, data } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, data.as_slice())?;
            }
            Node::Symlink { target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target)?;
            }
        }
    }
    builder.into_inner()
}

/// Whether the ELF file at `path` is statically linked (has no PT_INTERP).
fn is_static(path: &Path) -> Result<bool> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    elf_is_static(&bytes).with_context(|| format!("reading the ELF headers of {}", path.display()))
}

fn elf_is_static(bytes: &[u8]) -> Result<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        bail!("not an ELF file");
    }
    let wide = match bytes.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => bail!("unknown ELF class"),
    };
    let little = match bytes.get(5) {
        Some(1) => true,
        Some(2) => false,
        _ => bail!("unknown ELF byte order"),
    };
    let read = |at: usize, len: usize| -> Result<u64> {
        let raw = bytes.get(at..at + len).context("truncated ELF file")?;
        let mut value = 0u64;
        for i in 0..len {
            let byte = if little { raw[len - 1 - i] } else { raw[i] };
            value = value << 8 | u64::from(byte);
        }
        Ok(value)
    };
    let (phoff, phentsize, phnum) = if wide {
        (read(0x20, 8)?, read(0x36, 2)?, read(0x38, 2)?)
    } else {
        (read(0x1c, 4)?, read(0x2a, 2)?, read(0x2c, 2)?)
    };
    for i in 0..phnum {
        let at = usize::try_from(phoff + i * phentsize).context("program header out of range")?;
        if read(at, 4)? == u64::from(PT_INTERP) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applets() -> Vec<String> {
        [
            "bin/sh",
            "bin/true",
            "sbin/ifconfig",
            "usr/bin/[",
            "usr/local/bin/x",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn every_applet_lands_in_bin_once() {
        let listing = "bin/sh\nusr/bin/top\nsbin/ifconfig\nusr/bin/[\nbin/[\nlinuxrc\nbin/busybox\n";
        assert_eq!(applets_in_bin(listing), ["bin/[", "bin/ifconfig", "bin/sh", "bin/top"]);
    }

    #[test]
    fn applets_link_to_busybox_relatively() {
        assert_eq!(link_to_busybox("bin/sh"), "busybox");
        assert_eq!(link_to_busybox("sbin/ifconfig"), "../bin/busybox");
        assert_eq!(link_to_busybox("usr/bin/["), "../../bin/busybox");
        assert_eq!(link_to_busybox("usr/local/bin/x"), "../../../bin/busybox");
    }

    #[test]
    fn the_rootfs_has_what_an_image_needs() {
        let tree = rootfs(b"elf".to_vec(), &applets()).unwrap();
        assert_eq!(tree["tmp"], Node::Dir { mode: 0o1777 });
        assert_eq!(tree["usr/local"], Node::Dir { mode: 0o755 });
        assert_eq!(
            tree["bin/sh"],
            Node::Symlink {
                target: "busybox".into()
            }
        );
        match &tree["etc/passwd"] {
            Node::File { data, .. } => {
                assert!(data.starts_with(b"root:x:0:0:root:/root:/bin/sh\n"))
            }
            other => panic!("etc/passwd is {other:?}"),
        }
        assert_eq!(
            tree["etc/resolv.conf"],
            Node::File {
                mode: 0o644,
                data: vec![]
            }
        );
        for path in tree.keys() {
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                assert!(
                    tree.contains_key(parent.to_str().unwrap()),
                    "{path} has no parent"
                );
            }
        }
    }

    #[test]
    fn the_tarball_is_the_same_every_time_and_owned_by_root() {
        let tree = rootfs(b"elf".to_vec(), &applets()).unwrap();
        let one = write_tar(Vec::new(), &tree, 42).unwrap();
        let two = write_tar(Vec::new(), &tree, 42).unwrap();
        assert_eq!(one, two);
        let mut archive = tar::Archive::new(one.as_slice());
        let mut paths = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, 0));
            assert_eq!(header.mtime().unwrap(), 42);
            paths.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        let position = |p: &str| paths.iter().position(|x| x == p).unwrap();
        assert!(position("usr/") < position("usr/bin/"));
        assert!(position("usr/bin/") < position("usr/bin/["));
        assert_eq!(paths.len(), tree.len());
    }

    #[test]
    fn applets_cannot_replace_files() {
        let err = rootfs(vec![], &["etc/passwd".to_string()]).unwrap_err();
        assert!(err.to_string().contains("etc/passwd"));
    }

    #[test]
    fn tells_static_from_dynamic_elf() {
        // A minimal 64-bit little-endian header with one program header at 64.
        let mut elf = vec![0u8; 64 + 56];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2;
        elf[5] = 1;
        elf[0x20] = 64; // e_phoff
        elf[0x36] = 56; // e_phentsize
        elf[0x38] = 1; // e_phnum
        elf[64] = 1; // PT_LOAD
        assert!(elf_is_static(&elf).unwrap());
        elf[64] = 3; // PT_INTERP
        assert!(!elf_is_static(&elf).unwrap());
        assert!(elf_is_static(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn this_machines_shells_are_read_right() {
        // /bin/sh on a Debian machine is dynamically linked dash.
        if Path::new("/bin/sh").exists() {
            assert!(!is_static(Path::new("/bin/sh")).unwrap());
        }
    }
}
