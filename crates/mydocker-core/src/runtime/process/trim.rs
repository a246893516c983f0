//! Trimming a long-lived process's resident memory. Clean read-only file
//! mappings (code and constants of the binary and of libc) hold exactly what
//! their files hold, so dropping their pages is safe: the few still used
//! fault back in from the page cache. Writable or dirty mappings (data,
//! relocations, heap) are never touched.

/// A mapping that may be dropped: its address range.
#[derive(Debug, PartialEq, Eq)]
struct Clean {
    start: usize,
    end: usize,
}

/// The clean, read-only, file-backed mappings listed in /proc/self/smaps.
fn clean_mappings(smaps: &str) -> Vec<Clean> {
    let mut out = Vec::new();
    let mut current: Option<(Clean, bool)> = None; // (range, eligible so far)
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        let range = first.split_once('-').filter(|(a, _)| !a.is_empty() && a.chars().all(|c| c.is_ascii_hexdigit()));
        if let Some((a, b)) = range {
            if let Some((r, true)) = current.take() {
                out.push(r);
            }
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            let eligible = !perms.contains('w') && path.starts_with('/');
            current = match (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                (Ok(start), Ok(end)) => Some((Clean { start, end }, eligible)),
                _ => None,
            };
        } else if first == "Private_Dirty:" || first == "Shared_Dirty:" {
            let kb: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(1);
            if let (true, Some((_, eligible))) = (kb > 0, current.as_mut()) {
                *eligible = false;
            }
        }
    }
    if let Some((r, true)) = current {
        out.push(r);
    }
    out
}

/// Drop the resident pages of clean read-only file mappings.
pub fn drop_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    for m in clean_mappings(&smaps) {
        // SAFETY: the range is a whole mapping of ours that is read-only,
        // file-backed and has no dirty page: MADV_DONTNEED only drops pages
        // identical to the file, which are read back on their next use.
        unsafe {
            libc::madvise(m.start as *mut libc::c_void, m.end - m.start, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
5555000-5556000 r--p 00000000 fe:00 123 /usr/bin/mydocker-monitor
Rss:                   4 kB
Private_Dirty:         0 kB
Shared_Dirty:          0 kB
5556000-5558000 r-xp 00001000 fe:00 123 /usr/bin/mydocker-monitor
Private_Dirty:         0 kB
5558000-5559000 r--p 00003000 fe:00 123 /usr/bin/mydocker-monitor
Private_Dirty:         4 kB
5559000-555a000 rw-p 00004000 fe:00 123 /usr/bin/mydocker-monitor
Private_Dirty:         4 kB
555a000-555b000 rw-p 00000000 00:00 0 [heap]
Private_Dirty:         4 kB
7f00000-7f01000 r--p 00000000 00:00 0
Private_Dirty:         0 kB
";

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        assert_eq!(
            clean_mappings(SMAPS),
            vec![Clean { start: 0x5555000, end: 0x5556000 }, Clean { start: 0x5556000, end: 0x5558000 }]
        );
    }

    #[test]
    fn dropping_our_own_pages_keeps_us_running() {
        let before = std::fs::read_to_string("/proc/self/smaps").unwrap();
        assert!(!clean_mappings(&before).is_empty());
        drop_clean_file_pages();
        assert_eq!(format!("{}", 6 * 7), "42");
    }
}
