//! The series' own transcript, spelled as the series spells it:
//!
//! ```text
//! mydocker run -d -name test /bin/top
//! mydocker ps          # test  Up, with a PID the host's `ps -ef` shows running top
//! mydocker stop test
//! mydocker ps          # test  stopped
//! mydocker rm test
//! mydocker ps          # nothing
//! ```
//! and afterwards that top is gone from the host.

use std::process::Command;
use std::time::Duration;

use mydocker_tests::host::ProcessRef;
use mydocker_tests::{eventually, is_full_id, test_env};

/// The host's `ps -ef`: (PID, CMD) of every process.
fn host_ps_ef() -> Vec<(i32, String)> {
    let out = Command::new("ps").arg("-ef").output().expect("running the host's ps -ef");
    assert!(out.status.success(), "ps -ef failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header from ps -ef").split_whitespace().collect();
    let pid_col = header.iter().position(|h| *h == "PID").expect("a PID column in ps -ef");
    let cmd_col = header.iter().position(|h| *h == "CMD" || *h == "COMMAND").expect("a CMD column in ps -ef");
    lines
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let pid = fields.get(pid_col)?.parse().ok()?;
            Some((pid, fields.get(cmd_col..)?.join(" ")))
        })
        .collect()
}

#[test]
fn the_series_transcript() {
    let env = test_env!("series");
    let out = env.run_ok(&["run", "-d", "-name", "test", "/bin/top"]);
    assert!(is_full_id(out.stdout.trim()), "run -d should print the ID\n{out}");

    let row = env.wait_until_up("test");
    assert_eq!(row.get("IMAGE"), "busybox", "a command starting with / runs on busybox: {}", row.line);
    assert_eq!(row.get("COMMAND"), "/bin/top", "{}", row.line);
    let pid: i32 = row.get("PID").parse().unwrap_or_else(|_| panic!("ps shows no PID: {}", row.line));
    let top = ProcessRef::of(pid).unwrap_or_else(|| panic!("PID {pid} from ps is not alive on the host"));
    let on_host = host_ps_ef();
    let cmd = on_host.iter().find(|(p, _)| *p == pid).map(|(_, c)| c.clone());
    assert_eq!(cmd.as_deref(), Some("/bin/top"), "the host's ps -ef should show PID {pid} running top");

    let out = env.run_ok(&["stop", "test"]);
    assert_eq!(out.stdout.trim(), "test", "{out}");
    let row = env.row_of("test").expect("ps lists test after stop");
    assert!(row.get("STATUS").starts_with("Exited ("), "ps should show test stopped: {}", row.line);
    assert!(!top.is_alive(), "top lives on after stop");

    env.run_ok(&["rm", "test"]);
    let ps = env.run_ok(&["ps"]);
    assert_eq!(ps.lines().len(), 1, "ps should print its header alone\n{ps}");
    assert!(env.ps().is_empty(), "{ps}");
    eventually(Duration::from_secs(10), "top to be gone from the host's ps -ef", || {
        !host_ps_ef().iter().any(|(p, c)| *p == pid && c.contains("top"))
    });
    assert!(env.container_dirs().is_empty() && env.names().is_empty(), "rm left files");
    env.assert_no_mounts();
}
