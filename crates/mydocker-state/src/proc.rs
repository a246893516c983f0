//! What /proc says about a process: is it alive, and is it still the one we started.

/// The start time of `pid` (field 22 of /proc/PID/stat, in clock ticks since
/// boot), or None when there is no such process or it is a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).and_then(|(state, start)| (state != 'Z' && state != 'X').then_some(start))
}

/// Parse the state letter and the start time out of a /proc/PID/stat line.
/// The command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last ')'.
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    // After the state come fields 4..; start time is field 22, i.e. the 19th after state.
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// True when `pid` is alive and started at `start_time`: the same process,
/// not a recycled pid.
pub fn is_same_process(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parens() {
        let line = "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615";
        assert_eq!(parse_stat(line), Some(('S', 98765)));
    }

    #[test]
    fn our_own_process_is_alive_and_itself() {
        let me = std::process::id() as i32;
        let st = start_time(me).expect("own stat");
        assert!(is_same_process(me, st));
        assert!(!is_same_process(me, st + 1));
        assert!(!is_same_process(0, st));
    }
}
