//! Container and image IDs: 64 lowercase hex digits, 12 shown.

use std::io::Read;

/// The length of the short form that commands print.
pub const SHORT_LEN: usize = 12;

/// A fresh random 64-hex ID, from the kernel's random source.
pub fn random_id() -> std::io::Result<String> {
    let mut buf = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(to_hex(&buf))
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

/// The 12-digit short form of an ID.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(SHORT_LEN)]
}

/// True when `s` could be (a prefix of) an ID: only lowercase hex digits.
pub fn is_hex_prefix(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_64_hex_and_differ() {
        let a = random_id().unwrap();
        let b = random_id().unwrap();
        assert_eq!(a.len(), 64);
        assert!(is_hex_prefix(&a));
        assert_ne!(a, b);
        assert_eq!(short(&a).len(), 12);
    }

    #[test]
    fn hex_prefix_rejects_other_text() {
        assert!(is_hex_prefix("abc123"));
        assert!(!is_hex_prefix("web"));
        assert!(!is_hex_prefix(""));
        assert!(!is_hex_prefix("ABC"));
    }
}
