//! `-v HOST:CONTAINER[:ro|rw]` bind mounts.

use std::path::{Component, PathBuf};

use crate::CoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: PathBuf,
    pub container: PathBuf,
    pub readonly: bool,
}

impl Volume {
    pub fn parse(spec: &str) -> Result<Volume, CoreError> {
        let bad = |why: &str| CoreError::Invalid(format!("invalid volume {spec:?}: {why}"));
        let parts: Vec<&str> = spec.split(':').collect();
        let (host, container, mode) = match parts.as_slice() {
            [h, c] => (*h, *c, None),
            [h, c, m] => (*h, *c, Some(*m)),
            _ => return Err(bad("expected HOST:CONTAINER[:ro]")),
        };
        let readonly = match mode {
            None | Some("rw") => false,
            Some("ro") => true,
            Some(m) => return Err(bad(&format!("unknown mode {m:?} (use ro or rw)"))),
        };
        if !host.starts_with('/') {
            return Err(bad("the host path must be absolute"));
        }
        if !container.starts_with('/') {
            return Err(bad("the container path must be absolute"));
        }
        let container = PathBuf::from(container);
        if container.components().all(|c| matches!(c, Component::RootDir)) {
            return Err(bad("cannot mount over the container's root"));
        }
        Ok(Volume { host: PathBuf::from(host), container, readonly })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        let v = Volume::parse("/srv/data:/data:ro").unwrap();
        assert_eq!(v, Volume { host: "/srv/data".into(), container: "/data".into(), readonly: true });
        assert!(!Volume::parse("/a:/b").unwrap().readonly);
        assert!(!Volume::parse("/a:/b:rw").unwrap().readonly);
    }

    #[test]
    fn refuses_bad_specs() {
        for bad in ["/a", "a:/b", "/a:b", "/a:/b:rx", "/a:/", "/a:/b:ro:x"] {
            assert!(Volume::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
