//! Image names: `busybox`, `busybox:1.36`, `library/busybox`.

use crate::image::ImageError;

/// Longest accepted name; with '/' stored as '%' it stays a valid file name.
pub const MAX_NAME_LEN: usize = 200;

/// Check a user-supplied image name: `[a-zA-Z0-9][a-zA-Z0-9_.:/-]*`, no empty,
/// `.` or `..` parts between slashes, not 64 hex digits (that reads as an
/// image ID), at most [`MAX_NAME_LEN`] bytes.
pub fn validate(name: &str) -> Result<(), ImageError> {
    let mut bytes = name.bytes();
    let ok_first = matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric());
    let ok_rest = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'/' | b'-'));
    let ok_parts = name.split('/').all(|p| !p.is_empty() && p != "." && p != "..");
    let looks_like_id = name.len() == 64 && mydocker_state::id::is_hex_prefix(name);
    if ok_first && ok_rest && ok_parts && !looks_like_id && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(ImageError::InvalidName(name.to_string()))
    }
}

/// The stored form of a name: the default tag `:latest` is implied, so
/// `busybox:latest` and `busybox` are the same image.
pub fn normalize(name: &str) -> &str {
    match name.strip_suffix(":latest") {
        Some(base) if !base.is_empty() && !base.ends_with('/') => base,
        _ => name,
    }
}

/// The file name of a (valid, normalized) name's link in `images/names/`.
/// '%' never appears in a valid name, so the mapping is one to one.
pub(crate) fn link_file_name(name: &str) -> String {
    name.replace('/', "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_style_names() {
        for n in ["busybox", "busybox:latest", "busybox:1.36", "library/busybox", "my-app_2.v1", "0abc", "abc123"] {
            validate(n).unwrap();
        }
    }

    #[test]
    fn refuses_paths_ids_and_odd_names() {
        let id = "a".repeat(64);
        let long = "x".repeat(MAX_NAME_LEN + 1);
        for n in [
            "", "../x", "a/../b", "a/..", "a/./b", "/etc", "a//b", "a/", "-x", ".hidden", ":x", "a b", "a%b", "é", &id,
            &long,
        ] {
            assert!(validate(n).is_err(), "{n:?} accepted");
        }
    }

    #[test]
    fn latest_tag_is_implied() {
        assert_eq!(normalize("busybox:latest"), "busybox");
        assert_eq!(normalize("busybox"), "busybox");
        assert_eq!(normalize("busybox:1.36"), "busybox:1.36");
        assert_eq!(normalize("a/b:latest"), "a/b");
    }

    #[test]
    fn link_names_are_flat() {
        assert_eq!(link_file_name("library/busybox:1"), "library%busybox:1");
    }
}
