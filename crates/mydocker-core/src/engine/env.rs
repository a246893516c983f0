//! The container's environment: the image's, then docker's defaults, then
//! `--env-file` files, then `-e` flags; a later KEY replaces an earlier one.

use std::path::Path;

use crate::CoreError;

/// Merge `KEY=VAL` entries, later ones winning, first-seen order kept.
pub fn merge(layers: &[&[String]]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for layer in layers {
        for entry in layer.iter() {
            let key = entry.split('=').next().unwrap_or("");
            match out.iter_mut().find(|e| e.split('=').next() == Some(key)) {
                Some(slot) => *slot = entry.clone(),
                None => out.push(entry.clone()),
            }
        }
    }
    out
}

/// One `-e` value: `KEY=VAL` as is; a bare `KEY` takes the host's value, and
/// is dropped when the host has none (as docker does).
pub fn from_flag(value: &str, host: impl Fn(&str) -> Option<String>) -> Result<Option<String>, CoreError> {
    let key = value.split('=').next().unwrap_or("");
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(CoreError::Invalid(format!("invalid environment variable {value:?}: expected KEY=VALUE")));
    }
    if value.contains('=') {
        return Ok(Some(value.to_string()));
    }
    Ok(host(key).map(|v| format!("{key}={v}")))
}

/// Read an env file: `KEY=VAL` lines; blank lines and `#` comments skipped.
pub fn read_file(path: &Path, host: impl Fn(&str) -> Option<String>) -> Result<Vec<String>, CoreError> {
    let text = std::fs::read_to_string(path).map_err(CoreError::io(format!("reading env file {}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match from_flag(line, &host) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => {}
            Err(_) => {
                return Err(CoreError::Invalid(format!(
                    "env file {} line {}: invalid variable {line:?}",
                    path.display(),
                    n + 1
                )))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn later_layers_replace_earlier_keys_in_place() {
        let a = s(&["PATH=/bin", "A=1"]);
        let b = s(&["A=2", "B=3"]);
        assert_eq!(merge(&[&a, &b]), s(&["PATH=/bin", "A=2", "B=3"]));
    }

    #[test]
    fn bare_key_takes_host_value_or_is_dropped() {
        let host = |k: &str| (k == "HOME").then(|| "/root".to_string());
        assert_eq!(from_flag("HOME", host).unwrap(), Some("HOME=/root".into()));
        assert_eq!(from_flag("NOPE", host).unwrap(), None);
        assert_eq!(from_flag("X=a=b", host).unwrap(), Some("X=a=b".into()));
        assert!(from_flag("=x", host).is_err());
    }

    #[test]
    fn env_file_skips_comments_and_blanks() {
        let t = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(t.path(), "# comment\n\nA=1\n  B=two words\n").unwrap();
        assert_eq!(read_file(t.path(), |_| None).unwrap(), s(&["A=1", "B=two words"]));
    }

    #[test]
    fn env_file_bad_line_names_file_and_line() {
        let t = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(t.path(), "A=1\n=bad\n").unwrap();
        let e = read_file(t.path(), |_| None).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
