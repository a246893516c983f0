//! The image record, `images/<image-id>/image.json`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The PATH a plain rootfs image runs with, as docker sets it.
pub const DEFAULT_PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An image: its layers and the config containers start from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// 64 hex digits.
    pub id: String,
    /// The normalized name (`busybox`, never `busybox:latest`).
    pub name: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// Bytes of regular files unpacked (hard links counted once).
    pub size: u64,
    /// Layer IDs, bottom first.
    pub layers: Vec<String>,
    #[serde(default)]
    pub config: ImageConfig,
}

/// What a container of this image runs by default.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ImageConfig {
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
}

impl ImageConfig {
    /// The config of an imported rootfs tar, which carries none of its own.
    pub fn for_plain_rootfs() -> ImageConfig {
        ImageConfig { env: vec![DEFAULT_PATH_ENV.to_string()], cmd: vec!["sh".to_string()], working_dir: String::new() }
    }
}

impl Image {
    /// A new record whose ID is the sha256 of its content.
    pub(crate) fn new(name: String, created: String, size: u64, layers: Vec<String>, config: ImageConfig) -> Image {
        #[derive(Serialize)]
        struct Content<'a> {
            name: &'a str,
            created: &'a str,
            layers: &'a [String],
            config: &'a ImageConfig,
        }
        let content = Content { name: &name, created: &created, layers: &layers, config: &config };
        // Serializing plain strings and vectors cannot fail.
        let bytes = serde_json::to_vec(&content).unwrap_or_default();
        let id = mydocker_state::id::to_hex(&Sha256::digest(&bytes));
        Image { id, name, created, size, layers, config }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_a_digest_of_the_content() {
        let a = Image::new("a".into(), "t".into(), 1, vec!["l".into()], ImageConfig::for_plain_rootfs());
        let b = Image::new("a".into(), "t".into(), 1, vec!["l".into()], ImageConfig::for_plain_rootfs());
        let c = Image::new("b".into(), "t".into(), 1, vec!["l".into()], ImageConfig::for_plain_rootfs());
        assert_eq!(a.id.len(), 64);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
    }

    #[test]
    fn record_roundtrips_and_tolerates_a_missing_config() {
        let a = Image::new("a".into(), "t".into(), 1, vec!["l".into()], ImageConfig::for_plain_rootfs());
        let back: Image = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(a, back);
        let old: Image = serde_json::from_str(r#"{"id":"x","name":"n","created":"t","size":0,"layers":[]}"#).unwrap();
        assert_eq!(old.config, ImageConfig::default());
    }
}
