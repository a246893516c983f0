//! Bounded waits: poll a condition until it holds or a deadline passes,
//! never a fixed sleep that hopes the system was quick enough.

use std::time::{Duration, Instant};

/// How often a condition is polled.
const EVERY: Duration = Duration::from_millis(50);

/// Poll `f` until it returns `Ok`; fail the test after `limit`, showing
/// `what` and the last `Err` (what was seen instead).
pub fn poll<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match f() {
            Ok(v) => return v,
            Err(seen) if Instant::now() >= deadline => panic!("not within {limit:?}: {what}\nlast seen: {seen}"),
            Err(_) => std::thread::sleep(EVERY),
        }
    }
}

/// Poll `f` until it is true; fail the test after `limit` with `what`.
pub fn eventually(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    poll(limit, what, || if f() { Ok(()) } else { Err("still false".to_string()) })
}
