//! Signal names as users write them: TERM, SIGTERM, sigterm, 15.

use nix::sys::signal::Signal;

use crate::CoreError;

pub fn parse(s: &str) -> Result<Signal, CoreError> {
    let bad = || CoreError::Invalid(format!("invalid signal {s:?}"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse::<Signal>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_spellings() {
        for s in ["TERM", "SIGTERM", "sigterm", "term", "15"] {
            assert_eq!(parse(s).unwrap(), Signal::SIGTERM, "{s}");
        }
        assert_eq!(parse("KILL").unwrap(), Signal::SIGKILL);
        assert_eq!(parse("HUP").unwrap(), Signal::SIGHUP);
    }

    #[test]
    fn nonsense_is_refused() {
        for s in ["", "NOPE", "0", "99", "-1"] {
            assert!(parse(s).is_err(), "{s}");
        }
    }
}
