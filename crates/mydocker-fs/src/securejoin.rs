//! Resolve a path inside a root folder as a process chrooted there would:
//! symlinks are followed relative to the root, and `..` never climbs above it.
//! Used for mount targets, volumes and `cp`, where a container's own symlinks
//! must never lead a host-side write outside its root.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

const MAX_SYMLINKS: usize = 255;

/// The host path that `path` (taken inside `root`) names. Components that do
/// not exist yet are kept as they are, so the result can be created.
pub fn resolve_in_root(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = components(path);
    pending.reverse(); // a stack: the next component is at the end
    let mut current = PathBuf::new();
    let mut links = 0;
    while let Some(comp) = pending.pop() {
        if comp == ".." {
            current.pop();
            continue;
        }
        let candidate = current.join(&comp);
        let full = root.join(&candidate);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(
                        format!("too many levels of symbolic links resolving {} in {}", path.display(), root.display()),
                    ));
                }
                let target = std::fs::read_link(&full)?;
                if target.is_absolute() {
                    current = PathBuf::new();
                }
                let mut more = components(&target);
                more.reverse();
                pending.extend(more);
            }
            Ok(_) => current = candidate,
            Err(e) if e.kind() == io::ErrorKind::NotFound => current = candidate,
            Err(e) => return Err(e),
        }
    }
    Ok(root.join(current))
}

fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn dotdot_never_climbs_out() {
        let t = tempfile::tempdir().unwrap();
        let r = resolve_in_root(t.path(), Path::new("../../etc/passwd")).unwrap();
        assert_eq!(r, t.path().join("etc/passwd"));
    }

    #[test]
    fn absolute_symlink_resolves_inside_root() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("data")).unwrap();
        symlink("/etc", t.path().join("data/link")).unwrap();
        let r = resolve_in_root(t.path(), Path::new("/data/link/shadow")).unwrap();
        assert_eq!(r, t.path().join("etc/shadow"));
    }

    #[test]
    fn relative_symlink_with_dotdots_stays_inside() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("a/b")).unwrap();
        symlink("../../../../../tmp", t.path().join("a/b/up")).unwrap();
        let r = resolve_in_root(t.path(), Path::new("a/b/up/x")).unwrap();
        assert_eq!(r, t.path().join("tmp/x"));
    }

    #[test]
    fn symlink_loop_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        symlink("/loop", t.path().join("loop")).unwrap();
        assert!(resolve_in_root(t.path(), Path::new("/loop/x")).is_err());
    }
}
