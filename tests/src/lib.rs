//! Black-box test helpers: run the real `mydocker` binary, as root, against
//! the real kernel, each test in its own temporary `--root`.
//!
//! - [`TestEnv`]: a temp root with busybox imported, ways to call mydocker
//!   with a time limit, and a guard that removes everything the test made
//!   (containers, mounts, processes, files) even when the test panics.
//! - [`Running`]: a mydocker process left running while the test looks at it.
//! - [`pty`]: a pseudo-terminal to drive `run -t` as a user's terminal would.
//! - [`host`]: what the host sees: its mount table, its processes, files.
//! - [`table`]: the columns of `ps` and `images`.
//! - [`wait`]: bounded polling instead of fixed sleeps; [`time`]: RFC 3339 times.
//!
//! Where things are: the binary is `$MYDOCKER_BIN`, else
//! `<workspace>/target/debug/mydocker`; the busybox rootfs tarball is
//! `$MYDOCKER_BUSYBOX_TAR`, else `<workspace>/target/images/busybox.tar`.
//! `cargo xtask test` makes both. Without root every test prints
//! "skipped: needs root" and passes.

mod env;
pub mod host;
mod process;
pub mod pty;
pub mod table;
pub mod time;
pub mod wait;

use std::time::Duration;

pub use env::{busybox_tar, is_root, mydocker_bin, workspace_dir, TestEnv, IMAGES_COLUMNS, PS_COLUMNS};
pub use process::{Output, Running};
pub use table::Row;
pub use wait::{eventually, poll};

/// How long one mydocker command may take before the test fails.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A [`TestEnv`] for this test, or return from the test (it passes) when not root.
///
/// ```ignore
/// let env = test_env!("exit_code");
/// ```
#[macro_export]
macro_rules! test_env {
    ($tag:expr) => {
        match $crate::TestEnv::new($tag) {
            Some(env) => env,
            None => return,
        }
    };
}

/// True if `s` is a full container or image ID: 64 lowercase hex digits.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A short unique suffix for names of files a test makes on the host.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{}-{nanos:x}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}
