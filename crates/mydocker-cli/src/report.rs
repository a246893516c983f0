//! An error as the user reads it: each cause once. Our error types put their
//! source in their own message and also return it as `source()`, so the
//! plain `{:#}` of anyhow would print it twice.

/// The chain of `e`, joined with ": ", leaving out a cause whose text the
/// message before it already ends with.
pub fn render(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !last.is_empty() && last.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "reading x: {}", self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_source_already_in_the_message_is_printed_once() {
        let e = anyhow::Error::new(Wrapped(std::io::Error::other("disk on fire"))).context("importing busybox");
        assert_eq!(render(&e), "importing busybox: reading x: disk on fire");
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(render(&e), "outer: middle: inner");
    }
}
