//! The lifecycle figures beside the start latency, on the same temp root:
//!   ps        `mydocker ps` with 1,000 containers in the store
//!   cycle     one `run -d` + `stop -t 0` + `rm`: stop's whole path (signal,
//!             wait through the pidfd, record, release) without a grace
//!             period that would time the container, not us

use anyhow::{bail, Context, Result};

use crate::mydocker::Mydocker;
use crate::util::{output, shell_quote};

/// How many containers `ps` lists.
pub const STORED: usize = 1000;

/// The shell line of `mydocker --root R ARGS`.
fn line(m: &Mydocker, args: &str) -> String {
    let mut s = shell_quote(&m.bin.to_string_lossy());
    if let Some(root) = &m.root {
        s.push_str(" --root ");
        s.push_str(&shell_quote(&root.to_string_lossy()));
    }
    s.push(' ');
    s.push_str(args);
    s
}

/// The cycle's shell line: run -d, stop, rm of one container.
pub fn cycle_command(m: &Mydocker) -> String {
    let run = line(m, "run -d busybox sleep 60");
    format!(
        "id=$({run}) && {} >/dev/null && {} >/dev/null",
        line(m, "stop -t 0 \"$id\""),
        line(m, "rm \"$id\"")
    )
}

/// Fill the store with `STORED` exited containers (foreground `true`, kept).
pub fn fill(m: &Mydocker) -> Result<()> {
    println!("\n==> storing {STORED} exited containers for ps");
    for i in 0..STORED {
        let out = m.cmd(["run", "busybox", "true"]).output().context("running mydocker")?;
        if !out.status.success() {
            bail!("container {i} of {STORED}: {}", String::from_utf8_lossy(&out.stderr));
        }
        if (i + 1) % 250 == 0 {
            println!("    {} stored", i + 1);
        }
    }
    let listed = output(&mut m.cmd(["ps", "-q"]))?.lines().count();
    if listed != STORED {
        bail!("ps lists {listed} containers, not {STORED}");
    }
    Ok(())
}

/// The resident memory of a detached container's monitor, in KiB: start one,
/// read VmRSS of the monitor_pid its record names, remove it.
pub fn monitor_rss_kib(m: &Mydocker) -> Result<u64> {
    let id = output(&mut m.cmd(["run", "-d", "busybox", "sleep", "60"]))?.trim().to_string();
    // Steady state: the monitor has become mydocker-monitor and trimmed itself.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let measured = (|| -> Result<u64> {
        let json = output(&mut m.cmd(["ps", "--format", "json"]))?;
        let list: serde_json::Value = serde_json::from_str(&json).context("reading ps --format json")?;
        let pid = list
            .as_array()
            .and_then(|a| a.iter().find(|c| c["id"] == id.as_str()))
            .and_then(|c| c["monitor_pid"].as_i64())
            .context("no monitor_pid for the detached container")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading the monitor's status")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .context("no VmRSS in the monitor's status")
    })();
    output(&mut m.cmd(["rm", "-f", &id]))?;
    measured
}

/// Remove every container of the root, in batches.
pub fn empty(m: &Mydocker) -> Result<()> {
    let ids = output(&mut m.cmd(["ps", "-q"]))?;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    for batch in ids.chunks(200) {
        let out = m.cmd(["rm", "-f"].iter().chain(batch)).output().context("running mydocker rm")?;
        if !out.status.success() {
            bail!("rm: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(())
}

/// The hyperfine runs: the cycle on an empty store, then ps on a full one.
/// Named hyperfine commands: (name, shell line).
pub type Named = Vec<(String, String)>;

pub fn commands(m: &Mydocker) -> (Named, Named) {
    (
        vec![("run -d + stop + rm".into(), cycle_command(m))],
        vec![(format!("ps ({STORED} stored)"), line(m, "ps"))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cycle_runs_stops_and_removes_one_container() {
        let m = Mydocker { bin: "/x/mydocker".into(), root: Some("/r".into()) };
        let c = cycle_command(&m);
        assert!(c.starts_with("id=$(/x/mydocker --root /r run -d busybox"), "{c}");
        assert!(c.contains("stop -t 0 \"$id\""), "{c}");
        assert!(c.ends_with("rm \"$id\" >/dev/null"), "{c}");
    }
}
