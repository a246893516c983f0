//! Timestamps as RFC 3339 strings in UTC, without a calendar dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as RFC 3339 UTC with nanoseconds: `2026-11-23T00:31:32.123456789Z`.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format_rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// Format seconds since the epoch (UTC) and nanoseconds as RFC 3339.
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parse the seconds since the epoch out of an RFC 3339 UTC string made by
/// [`format_rfc3339`]. Returns None for anything else.
pub fn parse_rfc3339_secs(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// "3 seconds ago", "5 minutes ago", "2 hours ago", "4 days ago", as docker prints.
pub fn human_since(rfc3339: &str) -> String {
    let Some(then) = parse_rfc3339_secs(rfc3339) else {
        return rfc3339.to_string();
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let ago = (now - then).max(0);
    let (n, unit) = match ago {
        0..=59 => (ago, "second"),
        60..=3599 => (ago / 60, "minute"),
        3600..=86_399 => (ago / 3600, "hour"),
        _ => (ago / 86_400, "day"),
    };
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

// Howard Hinnant's days-from-civil algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format_rfc3339(1_795_393_892, 5), "2026-11-23T00:31:32.000000005Z");
        assert_eq!(format_rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn parse_inverts_format() {
        for s in [0i64, 951_782_400, 1_795_393_892, 4_102_444_799] {
            assert_eq!(parse_rfc3339_secs(&format_rfc3339(s, 7)), Some(s));
        }
        assert_eq!(parse_rfc3339_secs("yesterday"), None);
    }
}
