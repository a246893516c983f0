//! The lifecycle of detached containers: run -d and its monitor, logs,
//! exec, stop, kill, rm, start, restart, wait, inspect, ID prefixes, the
//! series' transcript, and commands racing on many containers.

use std::time::{Duration, Instant};

use mydocker_tests::{host, test_env, TestEnv};

/// Poll `f` until it is true; fail after `secs` seconds with `what`.
fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "not within {secs}s: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The record of one container, from `ps --format json`.
fn record(env: &TestEnv, id: &str) -> serde_json::Value {
    let all: serde_json::Value = serde_json::from_str(&env.stdout_of(&["ps", "--format", "json"])).expect("ps json");
    all.as_array().and_then(|a| a.iter().find(|c| c["id"] == id).cloned()).unwrap_or(serde_json::Value::Null)
}

fn status_of(env: &TestEnv, name: &str) -> String {
    env.row_of(name).map(|r| r.get("STATUS").to_string()).unwrap_or_default()
}

/// Start a detached container whose PID 1 exits with `code` on SIGTERM, and
/// wait until its trap is set (a TERM before that would be ignored by PID 1).
fn run_trapping(env: &TestEnv, name: &str, code: i32) {
    let script = format!("trap 'exit {code}' TERM; touch /ready; sleep 60 & wait");
    env.run_ok(&["run", "-d", "--name", name, "busybox", "sh", "-c", &script]);
    eventually(10, "the container's TERM trap", || env.mydocker(&["exec", name, "test", "-f", "/ready"]).success());
}

fn cmdline(pid: i64) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline")).map(|b| String::from_utf8_lossy(&b).replace('\0', " ")).unwrap_or_default()
}

#[test]
fn run_detached_returns_while_the_container_runs_and_records_its_exit() {
    let env = test_env!("life_detach");
    let name = env.name("d");
    let started = Instant::now();
    let id = env.stdout_of(&["run", "-d", "--name", &name, "busybox", "sh", "-c", "sleep 1; exit 7"]).trim().to_string();
    assert!(started.elapsed() < Duration::from_millis(900), "run -d waited for the container");
    assert_eq!(id.len(), 64, "run -d prints the full ID: {id:?}");
    let rec = record(&env, &id);
    assert_eq!(rec["status"], "running");
    let pid = rec["pid"].as_i64().unwrap();
    assert!(cmdline(pid).contains("sleep 1"), "pid {pid} is not the container's command: {}", cmdline(pid));
    eventually(10, "the container to show Exited (7)", || status_of(&env, &name) == "Exited (7)");
}

#[test]
fn run_detached_rm_leaves_nothing_and_a_missing_command_is_127() {
    let env = test_env!("life_detach_rm");
    env.run_ok(&["run", "-d", "--rm", "busybox", "true"]);
    eventually(10, "run -d --rm to leave nothing", || env.container_dirs().is_empty() && env.names().is_empty());
    env.mydocker(&["run", "-d", "--name", &env.name("nf"), "busybox", "nosuchcmd"]).assert_code(127);
    assert_eq!(status_of(&env, &env.name("nf")), "Exited (127)");
}

#[test]
fn status_stays_true_after_the_monitor_is_killed() {
    let env = test_env!("life_monitor");
    let name = env.name("m");
    let id = env.stdout_of(&["run", "-d", "--name", &name, "busybox", "sleep", "60"]).trim().to_string();
    let rec = record(&env, &id);
    let (monitor, pid) = (rec["monitor_pid"].as_i64().unwrap(), rec["pid"].as_i64().unwrap());
    assert!(cmdline(monitor).contains("mydocker") && cmdline(monitor).contains(&id), "{}", cmdline(monitor));
    // SAFETY: kill with a pid this test's container owns (checked just above).
    unsafe { libc::kill(monitor as i32, libc::SIGKILL) };
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    eventually(10, "ps to show the container stopped", || status_of(&env, &name).starts_with("Exited"));
    env.run_ok(&["rm", &name]);
    assert!(env.container_dirs().is_empty());
}

#[test]
fn rm_f_cleans_up_after_a_killed_monitor() {
    let env = test_env!("life_monitor_rmf");
    let id = env.stdout_of(&["run", "-d", "busybox", "sleep", "60"]).trim().to_string();
    let rec = record(&env, &id);
    let (monitor, pid) = (rec["monitor_pid"].as_i64().unwrap(), rec["pid"].as_i64().unwrap());
    unsafe { libc::kill(monitor as i32, libc::SIGKILL) };
    env.run_ok(&["rm", "-f", &id[..12]]);
    eventually(5, "the container's process to end", || !std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(env.container_dirs().is_empty() && env.names().is_empty());
}

#[test]
fn logs_keep_streams_apart_and_lose_nothing() {
    let env = test_env!("life_logs");
    let name = env.name("l");
    let script = "echo out; echo err >&2; seq 1 200000";
    env.run_ok(&["run", "-d", "--name", &name, "busybox", "sh", "-c", script]);
    env.run_ok(&["wait", &name]);
    let out = env.run_ok(&["logs", &name]);
    assert!(!out.stdout.contains("err"), "stderr line on stdout");
    assert_eq!(out.stderr.trim(), "err");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 200_001, "lines lost");
    assert_eq!(lines[0], "out");
    assert_eq!(lines[200_000], "200000");
    assert!(out.stdout.len() > 1_000_000, "{} bytes", out.stdout.len());
    let tail = env.run_ok(&["logs", "--tail", "2", &name]);
    assert_eq!(tail.stdout, "199999\n200000\n");
    let stamped = env.run_ok(&["logs", "-t", "--tail", "1", &name]);
    assert!(stamped.stdout.starts_with("20") && stamped.stdout.contains("Z 200000"), "{}", stamped.stdout);
}

#[test]
fn logs_follow_returns_when_the_container_ends() {
    let env = test_env!("life_follow");
    let name = env.name("f");
    env.run_ok(&["run", "-d", "--name", &name, "busybox", "sh", "-c", "echo first; sleep 1; echo last"]);
    let started = Instant::now();
    let out = env.run_ok(&["logs", "-f", &name]);
    assert_eq!(out.stdout, "first\nlast\n");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn exec_joins_the_container() {
    let env = test_env!("life_exec");
    let name = env.name("e");
    env.run_ok(&["run", "-d", "--name", &name, "-e", "FROM_RUN=yes", "busybox", "sh", "-c", "echo hi > /f; exec sleep 60"]);
    eventually(5, "the file written by PID 1", || env.mydocker(&["exec", &name, "cat", "/f"]).stdout == "hi\n");
    assert_eq!(env.stdout_of(&["exec", &name, "sh", "-c", "echo $FROM_RUN"]), "yes\n");
    assert_eq!(env.stdout_of(&["exec", "-e", "X=1", "-w", "/new/dir", &name, "sh", "-c", "echo $X $(pwd)"]), "1 /new/dir\n");
    assert_eq!(env.stdout_of(&["exec", &name, "cat", "/proc/1/cmdline"]), "sleep\u{0}60\u{0}");
    env.mydocker(&["exec", &name, "sh", "-c", "exit 5"]).assert_code(5);
    env.mydocker(&["exec", &name, "nosuchcmd"]).assert_code(127);
    env.run_ok(&["kill", &name]);
    env.run_ok(&["wait", &name]);
    let refused = env.mydocker(&["exec", &name, "true"]);
    refused.assert_failure();
    assert!(refused.stderr.contains("not running"), "{refused}");
}

#[test]
fn stop_sends_term_then_kill_after_the_timeout() {
    let env = test_env!("life_stop");
    let stubborn = env.name("stubborn");
    env.run_ok(&["run", "-d", "--name", &stubborn, "busybox", "sh", "-c", "trap '' TERM; touch /ready; while :; do sleep 0.1; done"]);
    eventually(10, "the trap", || env.mydocker(&["exec", &stubborn, "test", "-f", "/ready"]).success());
    let pid = record(&env, &env.id_of(&stubborn))["pid"].as_i64().unwrap();
    let t = Instant::now();
    env.run_ok(&["stop", "-t", "2", &stubborn]);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(8), "stop took {took:?}");
    assert_eq!(status_of(&env, &stubborn), "Exited (137)");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "the process outlived stop");

    let polite = env.name("polite");
    run_trapping(&env, &polite, 0);
    let t = Instant::now();
    env.run_ok(&["stop", &polite]);
    assert!(t.elapsed() < Duration::from_secs(2), "a TERM-handling container took {:?}", t.elapsed());
    assert_eq!(status_of(&env, &polite), "Exited (0)");
    env.run_ok(&["stop", &polite]); // stopped already: nothing to do
    env.mydocker(&["stop", "no-such-container"]).assert_failure();
}

#[test]
fn kill_accepts_every_spelling_of_a_signal() {
    let env = test_env!("life_kill");
    for (i, sig) in ["TERM", "SIGTERM", "sigterm", "15"].into_iter().enumerate() {
        let name = env.name(&format!("k{i}"));
        run_trapping(&env, &name, 3);
        env.run_ok(&["kill", "-s", sig, &name]);
        assert_eq!(env.stdout_of(&["wait", &name]).trim(), "3", "kill -s {sig}");
    }
    let name = env.name("knope");
    env.run_ok(&["run", "-d", "--name", &name, "busybox", "sleep", "60"]);
    env.mydocker(&["kill", "-s", "NOPE", &name]).assert_code(125);
    env.run_ok(&["kill", &name]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "137");
    env.mydocker(&["kill", &name]).assert_failure();
}

#[test]
fn rm_refuses_a_running_container_and_rm_f_removes_it() {
    let env = test_env!("life_rm");
    let name = env.name("r");
    env.run_ok(&["run", "-d", "--name", &name, "busybox", "sleep", "60"]);
    let id = env.id_of(&name);
    let pid = record(&env, &id)["pid"].as_i64().unwrap();
    env.mydocker(&["rm", &name]).assert_failure();
    assert!(status_of(&env, &name).starts_with("Up") && cmdline(pid).contains("sleep"), "rm disturbed it");
    env.run_ok(&["rm", "-f", &name]);
    assert!(env.container_dirs().is_empty() && env.names().is_empty());
    eventually(5, "the process to end", || !std::path::Path::new(&format!("/proc/{pid}")).exists());
    env.run_ok(&["run", "--rm", "--name", &name, "busybox", "true"]); // the name is free
}

#[test]
fn start_restart_wait_and_inspect() {
    let env = test_env!("life_start");
    let name = env.name("s");
    let vol = env.scratch().join("vol");
    let spec = format!("{}:/data:ro", vol.display());
    env.run_ok(&["run", "-d", "--name", &name, "-v", &spec, "busybox", "sh", "-c", "echo kept >> /mark; exit 3"]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "3");
    let info: serde_json::Value = serde_json::from_str(&env.stdout_of(&["inspect", &name])).unwrap();
    assert_eq!(info[0]["State"]["Status"], "stopped");
    assert_eq!(info[0]["State"]["ExitCode"], 3);
    assert_eq!(info[0]["Mounts"][0]["Destination"], "/data");
    assert_eq!(info[0]["Mounts"][0]["RW"], false);
    let out = env.mydocker(&["start", "-a", &name]);
    out.assert_code(3);
    assert_eq!(out.stdout, "", "the container writes nothing");
    env.run_ok(&["start", &name]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "3");
    // Same writable layer: the file grew by one line per run.
    let id = env.id_of(&name);
    let mark = std::fs::read_to_string(env.container_dir(&id).join("upper/mark")).unwrap();
    assert_eq!(mark, "kept\nkept\nkept\n");

    let svc = env.name("svc");
    run_trapping(&env, &svc, 0);
    let before = record(&env, &env.id_of(&svc))["pid"].as_i64().unwrap();
    env.run_ok(&["restart", &svc]);
    let after = record(&env, &env.id_of(&svc))["pid"].as_i64().unwrap();
    assert_ne!(before, after, "restart kept the old process");
    let info: serde_json::Value = serde_json::from_str(&env.stdout_of(&["inspect", &svc])).unwrap();
    assert_eq!(info[0]["State"]["Running"], true);
}

#[test]
fn containers_are_named_by_unique_id_prefix() {
    let env = test_env!("life_prefix");
    let id = env.stdout_of(&["run", "-d", "busybox", "sleep", "60"]).trim().to_string();
    let info: serde_json::Value = serde_json::from_str(&env.stdout_of(&["inspect", &id[..6]])).unwrap();
    assert_eq!(info[0]["Id"], id.as_str());
    env.mydocker(&["inspect", "zzz-unknown"]).assert_failure();
    env.run_ok(&["rm", "-f", &id[..8]]);
    assert!(env.container_dirs().is_empty());
}

#[test]
fn the_series_transcript_works_as_written() {
    let env = test_env!("life_series");
    env.run_ok(&["run", "-d", "-name", "test", "/bin/top"]);
    let row = env.wait_until_up("test");
    let pid: i32 = row.get("PID").parse().expect("a pid");
    assert!(cmdline(pid as i64).contains("top"), "host pid {pid} is not top: {}", cmdline(pid as i64));
    env.run_ok(&["stop", "test"]);
    assert!(status_of(&env, "test").starts_with("Exited"));
    env.run_ok(&["rm", "test"]);
    assert!(env.ps().is_empty());
    eventually(5, "top to be gone from the host", || !std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn twenty_runs_racing_ps_stop_and_rm_leave_every_record_valid() {
    let env = test_env!("life_race");
    std::thread::scope(|s| {
        for i in 0..20 {
            let env = &env;
            s.spawn(move || {
                env.mydocker(&["run", "-d", "--name", &env.name(&format!("c{i}")), "busybox", "sleep", "60"]);
            });
        }
        for _ in 0..3 {
            s.spawn(|| env.mydocker(&["ps"]));
        }
        for i in 0..8 {
            let env = &env;
            s.spawn(move || {
                let n = env.name(&format!("c{i}"));
                env.mydocker(&["stop", "-t", "1", &n]);
                env.mydocker(&["rm", &n]);
            });
        }
    });
    for dir in env.container_dirs() {
        let path = env.container_dir(&dir).join("state.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let all: serde_json::Value = serde_json::from_str(&env.stdout_of(&["ps", "--format", "json"])).unwrap();
    let mut names: Vec<String> = Vec::new();
    for c in all.as_array().unwrap() {
        let pid = c["pid"].as_i64().unwrap_or(0);
        match c["status"].as_str().unwrap() {
            "running" => assert!(host::start_time(pid as i32).is_some(), "running without a process: {c}"),
            _ => assert_eq!(pid, 0, "stopped with a pid: {c}"),
        }
        names.push(c["name"].as_str().unwrap().to_string());
    }
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "duplicate names");
    assert!(count >= 12, "only {count} containers left of 20 runs minus at most 8 removed");
    let ids = env.ps_ids();
    let mut args = vec!["rm", "-f"];
    args.extend(ids.iter().map(String::as_str));
    env.run_ok(&args);
    assert!(env.container_dirs().is_empty(), "left: {:?}", env.container_dirs());
}
