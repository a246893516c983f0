//! A container's filesystem view, built inside its own mount namespace:
//! private propagation first, then the root (overlay or a bind of a bundle's
//! rootfs), the mounts in order, /dev, and pivot_root. Everything mounted here
//! lives and dies with the container's mount namespace: nothing of it is ever
//! seen on, or left on, the host.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};

use crate::dev::{self, DeviceNode};
use crate::error::MountError;
use crate::mount_options;
use crate::securejoin::resolve_in_root;

/// One mount, in the terms of the OCI runtime spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub destination: PathBuf,
    pub fstype: String,
    pub source: PathBuf,
    pub options: Vec<String>,
}

/// What the root of the container is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootSource {
    /// A ready folder (an OCI bundle's rootfs): bound onto itself.
    Folder,
    /// An overlay mounted onto the root folder with this data.
    Overlay { data: String },
}

/// Everything the container's filesystem needs, before and after pivot_root.
#[derive(Debug, Clone)]
pub struct RootfsPlan {
    /// The host path of the root folder (the overlay's merged folder).
    pub root: PathBuf,
    pub source: RootSource,
    pub readonly: bool,
    pub mounts: Vec<MountEntry>,
    pub devices: Vec<DeviceNode>,
    pub masked_paths: Vec<PathBuf>,
    pub readonly_paths: Vec<PathBuf>,
}

/// Stop mount events from travelling between the host and this namespace.
/// Must come before anything is mounted (on hosts where / is shared, as under
/// systemd, mounts would otherwise leak back to the host).
pub fn make_private() -> Result<(), MountError> {
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(MountError::sys("making mounts private at", "/"))
}

/// Mount the root and everything beneath it. Call in the new mount namespace.
pub fn mount_all(plan: &RootfsPlan) -> Result<(), MountError> {
    let root = &plan.root;
    match &plan.source {
        RootSource::Overlay { data } => mount(Some("overlay"), root, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(MountError::sys("mounting overlay at", root))?,
        RootSource::Folder => mount(Some(root), root, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .map_err(MountError::sys("binding root folder", root))?,
    }
    for m in &plan.mounts {
        mount_one(root, m)?;
        if m.destination == Path::new("/dev") && m.fstype == "tmpfs" {
            dev::create_devices(root, &plan.devices)?;
            dev::create_links(root)?;
        }
    }
    Ok(())
}

fn mount_one(root: &Path, m: &MountEntry) -> Result<(), MountError> {
    let target = resolve_in_root(root, &m.destination).map_err(MountError::io("resolving", &m.destination))?;
    let opts = mount_options::parse(&m.options);
    let is_bind = opts.is_bind() || m.fstype == "bind";
    create_target(root, &target, is_bind.then_some(m.source.as_path()))?;
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    let mut flags = opts.flags;
    if is_bind {
        flags |= MsFlags::MS_BIND;
        // A bind takes no flags but MS_REC; the rest needs a remount.
        flags &= MsFlags::MS_BIND | MsFlags::MS_REC;
    }
    let fstype = (!is_bind).then_some(m.fstype.as_str());
    mount(Some(&m.source), &target, fstype, flags, data).map_err(MountError::sys("mounting", &target))?;
    if is_bind && !opts.bind_remount_flags.is_empty() {
        mount(
            None::<&str>,
            &target,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | opts.bind_remount_flags,
            None::<&str>,
        )
        .map_err(MountError::sys("remounting read-only", &target))?;
    }
    if let Some(p) = opts.propagation {
        mount(None::<&str>, &target, None::<&str>, p, None::<&str>)
            .map_err(MountError::sys("setting propagation of", &target))?;
    }
    Ok(())
}

/// Make the mount point: a folder, or an empty file when a file is bound.
/// Folders are made one level at a time beneath `root`, never `root` itself
/// or above it: a container removed while its init builds its root makes
/// init fail, instead of making its folder anew on the host.
fn create_target(root: &Path, target: &Path, bind_source: Option<&Path>) -> Result<(), MountError> {
    if target.exists() {
        return Ok(());
    }
    let source_is_file = bind_source.map(|s| s.is_file() || (s.exists() && !s.is_dir())).unwrap_or(false);
    let folder = if source_is_file { target.parent().unwrap_or(root) } else { target };
    let below = folder.strip_prefix(root).map_err(|_| MountError::Io {
        op: "creating (outside the root)",
        path: target.to_path_buf(),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })?;
    let mut at = root.to_path_buf();
    for part in below.components() {
        at.push(part);
        match std::fs::DirBuilder::new().mode(0o755).create(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(MountError::Io { op: "creating", path: at, source: e }),
        }
    }
    if source_is_file {
        std::fs::File::create(target).map_err(MountError::io("creating", target))?;
    }
    Ok(())
}

/// Make `root` the root of this mount namespace and drop the old one.
pub fn pivot(root: &Path) -> Result<(), MountError> {
    chdir(root).map_err(MountError::sys("entering", root))?;
    // pivot_root(".", ".") stacks the old root on top of the new one; the
    // detach below then takes it away (no put_old folder is needed).
    pivot_root(".", ".").map_err(MountError::sys("pivot_root to", root))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(MountError::sys("detaching the old root from", root))?;
    chdir("/").map_err(MountError::sys("entering", "/"))
}

/// After pivot_root: mask and protect paths, and make the root read-only when asked.
pub fn finish(plan: &RootfsPlan) -> Result<(), MountError> {
    for p in &plan.masked_paths {
        mask(p)?;
    }
    for p in &plan.readonly_paths {
        readonly(p)?;
    }
    if plan.readonly {
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .map_err(MountError::sys("remounting read-only", "/"))?;
    }
    Ok(())
}

fn mask(p: &Path) -> Result<(), MountError> {
    let result = if p.is_dir() {
        mount(Some("tmpfs"), p, Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>)
    } else {
        mount(Some("/dev/null"), p, None::<&str>, MsFlags::MS_BIND, None::<&str>)
    };
    match result {
        Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(MountError::Sys { op: "masking", path: p.to_path_buf(), source: e }),
    }
}

fn readonly(p: &Path) -> Result<(), MountError> {
    match mount(Some(p), p, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>) {
        Ok(()) => {}
        Err(nix::errno::Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(MountError::Sys { op: "binding read-only", path: p.to_path_buf(), source: e }),
    }
    mount(
        None::<&str>,
        p,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(MountError::sys("remounting read-only", p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_are_made_beneath_the_root_level_by_level() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("rootfs");
        std::fs::create_dir(&root).unwrap();
        create_target(&root, &root.join("a/b/c"), None).unwrap();
        assert!(root.join("a/b/c").is_dir());
        let source = t.path().join("file");
        std::fs::write(&source, "x").unwrap();
        create_target(&root, &root.join("etc/hosts"), Some(&source)).unwrap();
        assert!(root.join("etc/hosts").is_file());
    }

    #[test]
    fn a_root_that_is_gone_is_not_made_anew() {
        // The container was removed while its init built its root.
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("containers/abc/rootfs");
        let err = create_target(&root, &root.join("dev"), None).unwrap_err();
        assert!(err.to_string().contains("No such file"), "{err}");
        assert!(!t.path().join("containers").exists(), "the container's folder was made anew");
    }
}
