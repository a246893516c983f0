//! /dev inside a container: the standard device nodes and links.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use nix::unistd::{chown, Gid, Uid};

use crate::error::MountError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// Path inside the container, e.g. /dev/null.
    pub path: PathBuf,
    pub block: bool,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}


/// The nodes every container gets, as docker gives them.
pub fn default_devices() -> Vec<DeviceNode> {
    [
        ("/dev/null", 1, 3),
        ("/dev/zero", 1, 5),
        ("/dev/full", 1, 7),
        ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9),
        ("/dev/tty", 5, 0),
    ]
    .into_iter()
    .map(|(p, major, minor)| DeviceNode {
        path: PathBuf::from(p),
        block: false,
        major,
        minor,
        mode: 0o666,
        uid: 0,
        gid: 0,
    })
    .collect()
}

/// Make the nodes inside `rootfs` (whose /dev is a fresh tmpfs).
pub fn create_devices(rootfs: &Path, devices: &[DeviceNode]) -> Result<(), MountError> {
    for d in devices {
        let path = crate::securejoin::resolve_in_root(rootfs, &d.path)
            .map_err(MountError::io("resolving", &d.path))?;
        let kind = if d.block { SFlag::S_IFBLK } else { SFlag::S_IFCHR };
        let perm = Mode::from_bits_truncate(d.mode & 0o7777);
        match mknod(&path, kind, perm, makedev(d.major, d.minor)) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(MountError::Sys { op: "making device node", path, source: e }),
        }
        nix::sys::stat::fchmodat(None, &path, perm, nix::sys::stat::FchmodatFlags::FollowSymlink)
            .map_err(MountError::sys("setting mode of", &path))?;
        if d.uid != 0 || d.gid != 0 {
            chown(&path, Some(Uid::from_raw(d.uid)), Some(Gid::from_raw(d.gid)))
                .map_err(MountError::sys("setting owner of", &path))?;
        }
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/ptmx and /dev/core, as links.
pub fn create_links(rootfs: &Path) -> Result<(), MountError> {
    let dev = rootfs.join("dev");
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
        ("ptmx", "pts/ptmx"),
    ] {
        let path = dev.join(link);
        match symlink(target, &path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(MountError::Io { op: "linking", path, source: e }),
        }
    }
    Ok(())
}
