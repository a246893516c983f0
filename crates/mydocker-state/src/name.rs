//! Container names: validated, and taken atomically with a symlink so that a
//! name can be held by one container only, even under concurrent runs.

use crate::StateError;

/// Check a user-supplied name: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, at most 128 bytes.
pub fn validate(name: &str) -> Result<(), StateError> {
    let mut bytes = name.bytes();
    let ok_first = matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric());
    let ok_rest = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok_first && ok_rest && name.len() <= 128 {
        Ok(())
    } else {
        Err(StateError::InvalidName(name.to_string()))
    }
}

const ADJECTIVES: [&str; 24] = [
    "brave", "calm", "clever", "eager", "fervent", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty",
    "quirky", "serene", "sharp", "stoic", "sunny", "swift", "tender", "vibrant", "wise", "witty", "zealous", "bold",
];
const NOUNS: [&str; 24] = [
    "babbage", "curie", "darwin", "euler", "fermat", "galois", "hopper", "hypatia", "kepler", "knuth", "lamport",
    "lovelace", "mccarthy", "noether", "pascal", "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak",
    "yalow", "zuse", "ramanujan",
];

/// A docker-style random name, `adjective_scientist`, with a number when the
/// plain pairs run short.
pub fn generate() -> String {
    let mut buf = [0u8; 4];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut buf);
    }
    let n = u32::from_le_bytes(buf);
    let a = ADJECTIVES[(n % 24) as usize];
    let b = NOUNS[((n / 24) % 24) as usize];
    let k = (n / 576) % 100;
    if k < 50 {
        format!("{a}_{b}")
    } else {
        format!("{a}_{b}{k}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_docker_style_names() {
        for n in ["web", "a", "web-1", "my_app.v2", "0abc"] {
            validate(n).unwrap();
        }
    }

    #[test]
    fn refuses_paths_and_odd_names() {
        for n in ["", "../../x", "/etc", "-x", ".hidden", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(validate(n).is_err(), "{n:?} accepted");
        }
    }
}
