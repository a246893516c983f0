//! The overlay root of a container: the image's layers read-only below, a
//! writable layer and workdir of the container's own above.

use std::path::{Path, PathBuf};

use crate::error::MountError;

/// The folders of a container's overlay, all inside its own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayDirs {
    pub upper: PathBuf,
    pub work: PathBuf,
    pub merged: PathBuf,
}

impl OverlayDirs {
    pub fn in_container_dir(dir: &Path) -> OverlayDirs {
        OverlayDirs { upper: dir.join("upper"), work: dir.join("work"), merged: dir.join("rootfs") }
    }

    /// Make the three folders (the writable layer is never shared: it lives in
    /// the container's own folder).
    pub fn create(&self) -> Result<(), MountError> {
        for d in [&self.upper, &self.work, &self.merged] {
            match std::fs::create_dir(d) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(MountError::Io { op: "creating", path: d.clone(), source: e }),
            }
        }
        Ok(())
    }

    /// The overlay mount data: `lowerdir=TOP:...:BOTTOM,upperdir=..,workdir=..`.
    pub fn mount_data(&self, lowers_top_first: &[PathBuf]) -> String {
        let lower: Vec<String> = lowers_top_first.iter().map(|p| escape(p)).collect();
        format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.join(":"),
            escape(&self.upper),
            escape(&self.work)
        )
    }
}

/// Overlay splits its options on ',' and lowerdir on ':': escape both.
fn escape(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_data_orders_layers_and_escapes() {
        let d = OverlayDirs::in_container_dir(Path::new("/r/containers/abc"));
        let data = d.mount_data(&[PathBuf::from("/r/l/top"), PathBuf::from("/r/l/a:b")]);
        assert_eq!(
            data,
            "lowerdir=/r/l/top:/r/l/a\\:b,upperdir=/r/containers/abc/upper,workdir=/r/containers/abc/work"
        );
    }
}
