//! Resource limits, as docker's flags give them, parsed and checked before
//! anything is made.

use serde::{Deserialize, Serialize};

use crate::CgroupError;

/// CFS period used for `--cpus`, as docker: 100 ms.
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;
/// The least memory limit docker allows.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes; -1 unlimited swap.
    pub memory_swap: Option<i64>,
    /// Relative CPU weight (v1 shares, 2..262144; v2 weight derived from it).
    pub cpu_shares: Option<u64>,
    /// CFS quota in microseconds per period.
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds.
    pub cpu_period: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Most processes at once; -1 unlimited.
    pub pids_limit: Option<i64>,
}

impl Resources {
    pub fn is_empty(&self) -> bool {
        *self == Resources::default()
    }
}

fn invalid(what: &'static str, value: &str, why: impl Into<String>) -> CgroupError {
    CgroupError::Invalid { what, value: value.to_string(), why: why.into() }
}

/// `100m`, `1g`, `1.5g`, `512k`, `100mb`, `1048576` -> bytes.
pub fn parse_memory(v: &str) -> Result<i64, CgroupError> {
    let bytes = parse_size(v).ok_or_else(|| invalid("memory", v, "expected a size such as 100m, 1g or bytes"))?;
    if bytes < MIN_MEMORY {
        return Err(invalid("memory", v, "minimum memory limit allowed is 6MB"));
    }
    Ok(bytes)
}

/// `--memory-swap`: memory plus swap; -1 for unlimited swap; at least the memory limit.
pub fn parse_memory_swap(v: &str, memory: Option<i64>) -> Result<i64, CgroupError> {
    if v.trim() == "-1" {
        return Ok(-1);
    }
    let bytes = parse_size(v).ok_or_else(|| invalid("memory-swap", v, "expected a size such as 200m, or -1"))?;
    match memory {
        None => Err(invalid("memory-swap", v, "it needs --memory as well")),
        Some(m) if bytes < m => Err(invalid("memory-swap", v, "it must be at least --memory (memory plus swap)")),
        Some(_) => Ok(bytes),
    }
}

/// docker's sizes (go-units RAMInBytes): a number, then optionally a space,
/// a unit of b, k, m, g, t or p (any case), an `i` and a `b`: `1.5g`, `100mb`,
/// `512KiB`, `1048576`.
fn parse_size(v: &str) -> Option<i64> {
    let s = v.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let s = s.strip_suffix('i').filter(|r| r.ends_with(|c: char| "kmgtp".contains(c))).unwrap_or(s);
    let (num, mult) = match s.char_indices().last()? {
        (i, 'k') => (&s[..i], 1i64 << 10),
        (i, 'm') => (&s[..i], 1 << 20),
        (i, 'g') => (&s[..i], 1 << 30),
        (i, 't') => (&s[..i], 1 << 40),
        (i, 'p') => (&s[..i], 1 << 50),
        _ => (s, 1),
    };
    let num = num.strip_suffix(' ').unwrap_or(num);
    // Digits with at most one fraction: no sign, exponent, "inf" or "nan".
    let (whole, frac) = num.split_once('.').unwrap_or((num, "0"));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let bytes = n * mult as f64;
    (bytes >= 1.0 && bytes < i64::MAX as f64).then_some(bytes as i64)
}

/// `--cpu-shares`: 2..262144; 0 means the default (None).
pub fn parse_cpu_shares(v: &str) -> Result<Option<u64>, CgroupError> {
    let n: u64 = v.trim().parse().map_err(|_| invalid("cpu-shares", v, "expected a whole number"))?;
    match n {
        0 => Ok(None),
        2..=262_144 => Ok(Some(n)),
        _ => Err(invalid("cpu-shares", v, "the range is 2 to 262144")),
    }
}

/// `--cpus 0.5` -> (quota, period) in microseconds, at most the machine's CPUs.
pub fn parse_cpus(v: &str) -> Result<(i64, u64), CgroupError> {
    let n: f64 = v.trim().parse().map_err(|_| invalid("cpus", v, "expected a number such as 0.5"))?;
    let max = online_cpus().len().max(1) as f64;
    if !n.is_finite() || n < 0.01 || n > max {
        return Err(invalid("cpus", v, format!("the range of CPUs is from 0.01 to {max}")));
    }
    Ok(((n * DEFAULT_CPU_PERIOD as f64).round() as i64, DEFAULT_CPU_PERIOD))
}

/// `--pids-limit`: -1 or 0 unlimited (None means leave as is... so -1), else > 0.
pub fn parse_pids_limit(v: &str) -> Result<Option<i64>, CgroupError> {
    let n: i64 = v.trim().parse().map_err(|_| invalid("pids-limit", v, "expected a whole number"))?;
    match n {
        n if n > 0 => Ok(Some(n)),
        0 | -1 => Ok(Some(-1)),
        _ => Err(invalid("pids-limit", v, "expected a positive number, or -1 for no limit")),
    }
}

/// `--cpuset-cpus 0-1,3`: every CPU must be online.
pub fn parse_cpuset_cpus(v: &str) -> Result<String, CgroupError> {
    parse_cpuset(v, "cpuset-cpus", &show(&online_cpus()))
}

/// `--cpuset-mems 0`: every memory node must be online.
pub fn parse_cpuset_mems(v: &str) -> Result<String, CgroupError> {
    let online = std::fs::read_to_string("/sys/devices/system/node/online").unwrap_or_else(|_| "0".into());
    parse_cpuset(v, "cpuset-mems", online.trim())
}

/// A cpuset list (`0-2,4`) whose every member is in `available` (a list of
/// the same form); `what` names the flag in the error.
pub fn parse_cpuset(spec: &str, what: &'static str, available: &str) -> Result<String, CgroupError> {
    let wanted = list(spec.trim()).ok_or_else(|| invalid(what, spec, "expected a list such as 0-2,4"))?;
    let available = list(available.trim()).unwrap_or_default();
    if let Some(bad) = wanted.iter().find(|c| !available.contains(c)) {
        return Err(invalid(what, spec, format!("{bad} is not available on this machine (available: {})", show(&available))));
    }
    Ok(spec.trim().to_string())
}

/// The online CPUs: /sys/devices/system/cpu/online, else the root cpuset's
/// (v1, then v2), else CPU 0.
pub fn online_cpus() -> Vec<u32> {
    [
        "/sys/devices/system/cpu/online",
        "/sys/fs/cgroup/cpuset/cpuset.effective_cpus",
        "/sys/fs/cgroup/cpuset.cpus.effective",
    ]
    .iter()
    .find_map(|f| std::fs::read_to_string(f).ok().and_then(|s| list(s.trim())))
    .unwrap_or_else(|| vec![0])
}

/// `0-2,4` -> [0, 1, 2, 4]; None when malformed.
pub fn list(s: &str) -> Option<Vec<u32>> {
    if s.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

fn show(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("100m").unwrap(), 100 << 20);
        assert_eq!(parse_memory("1g").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_memory("100mb").unwrap(), 100 << 20);
        assert_eq!(parse_memory("10485760").unwrap(), 10 << 20);
        assert_eq!(parse_memory("10485760b").unwrap(), 10 << 20);
        assert_eq!(parse_memory("8192k").unwrap(), 8 << 20);
        assert_eq!(parse_memory("512KiB").unwrap_err().to_string(), "invalid memory \"512KiB\": minimum memory limit allowed is 6MB");
        assert_eq!(parse_memory("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse_memory("1P").unwrap(), 1 << 50);
        for bad in ["abc", "", "-1", "0", "5m", "1x", "nanm", "infg", "1e9", "+100m", "1..5g", ".5g", "m", "100mm", "-100m"] {
            assert!(parse_memory(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn memory_swap() {
        assert_eq!(parse_memory_swap("-1", Some(1 << 30)).unwrap(), -1);
        assert_eq!(parse_memory_swap("2g", Some(1 << 30)).unwrap(), 2 << 30);
        assert!(parse_memory_swap("100m", Some(1 << 30)).is_err());
        assert!(parse_memory_swap("2g", None).is_err());
        assert!(parse_memory_swap("-2", Some(1 << 30)).is_err());
        assert!(parse_memory_swap("lots", Some(1 << 30)).is_err());
    }

    #[test]
    fn cpus_and_shares() {
        assert_eq!(parse_cpus("0.5").unwrap(), (50_000, 100_000));
        assert_eq!(parse_cpus("0.01").unwrap(), (1_000, 100_000));
        let n = online_cpus().len();
        assert_eq!(parse_cpus(&n.to_string()).unwrap(), (n as i64 * 100_000, 100_000));
        let err = parse_cpus(&(n + 1).to_string()).unwrap_err().to_string();
        assert!(err.contains(&format!("the range of CPUs is from 0.01 to {n}")), "{err}");
        for bad in ["-1", "0", "0.001", "abc", "NaN", "inf", "1000"] {
            assert!(parse_cpus(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(parse_cpu_shares("512").unwrap(), Some(512));
        assert_eq!(parse_cpu_shares("0").unwrap(), None);
        assert!(parse_cpu_shares("1").is_err());
        assert_eq!(parse_cpu_shares("262144").unwrap(), Some(262_144));
        assert!(parse_cpu_shares("262145").is_err());
        assert!(parse_cpu_shares("-2").is_err());
        assert!(parse_cpu_shares("x").is_err());
    }

    #[test]
    fn cpusets() {
        assert_eq!(list("0-2,4"), Some(vec![0, 1, 2, 4]));
        assert_eq!(list("2-1"), None);
        assert_eq!(list("a"), None);
        assert_eq!(list("0,,1"), None);
        assert_eq!(list("0-"), None);
        assert_eq!(parse_cpuset(" 0 ", "cpuset-cpus", "0-1").unwrap(), "0");
        assert_eq!(parse_cpuset("0-1,3", "cpuset-cpus", "0-3").unwrap(), "0-1,3");
        let err = parse_cpuset("0-3", "cpuset-cpus", "0-1").unwrap_err().to_string();
        assert!(err.contains("2 is not available on this machine (available: 0,1)"), "{err}");
        assert!(parse_cpuset("1", "cpuset-mems", "0").is_err());
        assert!(parse_cpuset("x", "cpuset-cpus", "0-1").is_err());
        assert!(parse_cpuset_cpus("4096").is_err());
        assert!(parse_cpuset_cpus("0").is_ok(), "CPU 0 is online on every machine");
        assert!(parse_cpuset_mems("0").is_ok());
    }

    #[test]
    fn pids() {
        assert_eq!(parse_pids_limit("10").unwrap(), Some(10));
        assert_eq!(parse_pids_limit("-1").unwrap(), Some(-1));
        assert_eq!(parse_pids_limit("0").unwrap(), Some(-1), "0 is unlimited, as docker");
        assert!(parse_pids_limit("-5").is_err());
        assert!(parse_pids_limit("ten").is_err());
    }
}
