//! `start` and `restart`: a stopped container runs again, the same
//! container (ID, writable layer), under a new process; `start -a` shows
//! the run and returns its code.

use std::time::{Duration, Instant};

use mydocker_tests::host::{self, ProcessRef};
use mydocker_tests::{test_env, TestEnv};

/// Counts its runs in /count (so in the writable layer), prints `run-N`
/// on stdout and `err-N` on stderr; `$n` is the run's number afterwards.
const COUNT: &str = "n=$(( $(cat /count 2>/dev/null || echo 0) + 1 )); echo $n > /count; echo run-$n; echo err-$n >&2";

/// A container called `name` that counts its runs, sets `trap ACTION TERM`,
/// makes /ready-N and loops. Returns its ID once the first run is ready.
fn run_counting(env: &TestEnv, name: &str, action: &str) -> String {
    let script = format!("{COUNT}; trap '{action}' TERM; touch /ready-$n; while :; do sleep 0.1; done");
    let id = env.run_detached(&["--name", name, "busybox", "sh", "-c", &script]);
    env.wait_for_file(name, "/ready-1");
    id
}

/// The run count the container `id` left in its writable layer.
fn count_in_upper(env: &TestEnv, id: &str) -> String {
    let path = env.container_dir(id).join("upper/count");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())).trim().to_string()
}

/// Fail unless `ps` lists exactly one container, `id`.
fn assert_only(env: &TestEnv, id: &str) {
    let ids: Vec<String> = env.ps_json().iter().map(|c| c["id"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(ids, vec![id.to_string()], "the same container, not a new one, should be listed");
}

#[test]
fn start_runs_the_same_container_again_with_its_files() {
    let env = test_env!("start_same");
    let name = env.name("s");
    let id = run_counting(&env, &name, "exit 0");
    let first = env.pid1(&name);
    env.run_ok(&["exec", &name, "sh", "-c", "echo kept > /written-by-exec"]);
    env.run_ok(&["stop", &name]);
    assert_eq!(env.status(&name), "Exited (0)");

    env.run_ok(&["start", &name]);
    env.wait_for_file(&name, "/ready-2");
    assert_eq!(env.status(&name), "Up");
    assert_eq!(env.id_of(&name), id, "start changed the container's ID");
    assert_only(&env, &id);
    let second = env.pid1(&name);
    assert_ne!(second, first, "a started container should run a new process");
    assert!(!first.is_alive(), "the first run's process lives on");
    assert_eq!(env.stdout_of(&["exec", &name, "cat", "/count"]), "2\n", "the writable layer was not kept");
    assert_eq!(env.stdout_of(&["exec", &name, "cat", "/written-by-exec"]), "kept\n");
    // Both runs' output is in its log.
    let logs = env.run_ok(&["logs", &name]);
    assert_eq!(logs.stdout, "run-1\nrun-2\n", "{logs}");

    // Detached under a monitor again: a mydocker process of this root, and
    // the end of this run is recorded.
    let monitor = env.record(&name)["monitor_pid"].as_i64().unwrap_or_else(|| panic!("no monitor after start"));
    let cmdline = host::cmdline(monitor as i32).unwrap_or_default();
    assert!(
        cmdline.contains("mydocker") && cmdline.contains(env.root().to_string_lossy().as_ref()),
        "monitor_pid {monitor} after start is not a mydocker process of the root: {cmdline:?}"
    );
    env.run_ok(&["stop", &name]);
    assert_eq!(env.status(&name), "Exited (0)");
    assert!(!second.is_alive());
}

#[test]
fn start_a_prints_the_output_and_exits_with_the_code() {
    let env = test_env!("start_attach");
    let name = env.name("a");
    let script = format!("{COUNT}; exit 3");
    let id = env.run_detached(&["--name", &name, "busybox", "sh", "-c", &script]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "3");
    let out = env.mydocker(&["start", "-a", &name]);
    out.assert_code(3);
    assert!(out.stdout.lines().any(|l| l == "run-2"), "start -a should print the run's stdout\n{out}");
    assert!(out.stderr.lines().any(|l| l == "err-2"), "start -a should print the run's stderr\n{out}");
    assert!(!out.stdout.contains("err-2"), "a stderr line came on stdout\n{out}");
    assert_eq!(env.status(&name), "Exited (3)");
    assert_eq!(count_in_upper(&env, &id), "2");
    assert_only(&env, &id);
}

#[test]
fn start_a_prints_only_this_runs_output() {
    // As `docker start -a`: the output of the run it starts, not the log of earlier runs.
    let env = test_env!("start_attach_only");
    let name = env.name("a");
    let script = format!("{COUNT}; exit 3");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", &script]);
    env.run_ok(&["wait", &name]);
    let out = env.mydocker(&["start", "-a", &name]);
    out.assert_code(3);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("run-2\n", "err-2\n"), "{out}");
}

#[test]
fn restart_gives_a_new_process_and_keeps_the_container() {
    let env = test_env!("restart_new_pid");
    let name = env.name("r");
    let id = run_counting(&env, &name, "exit 0");
    let before = env.pid1(&name);
    let started = Instant::now();
    env.run_ok(&["restart", &name]);
    assert!(started.elapsed() < Duration::from_secs(5), "restart took {:?}", started.elapsed());
    env.wait_for_file(&name, "/ready-2");
    let after = env.pid1(&name);
    assert_ne!(after, before, "restart kept the old process");
    assert!(!before.is_alive(), "the old process lives on after restart");
    assert_eq!(env.status(&name), "Up");
    assert_eq!(env.id_of(&name), id);
    assert_only(&env, &id);
    assert_eq!(env.stdout_of(&["exec", &name, "cat", "/count"]), "2\n");
}

#[test]
fn restart_t_kills_a_process_that_ignores_term() {
    let env = test_env!("restart_t");
    let name = env.name("r");
    run_counting(&env, &name, "");
    let before = env.pid1(&name);
    let started = Instant::now();
    env.run_ok(&["restart", "-t", "1", &name]);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(800) && took < Duration::from_secs(8), "restart -t 1 took {took:?}");
    env.wait_for_file(&name, "/ready-2");
    assert!(!before.is_alive(), "the old process lives on after restart");
    assert_ne!(env.pid1(&name), before);
    assert_eq!(env.status(&name), "Up");
}

#[test]
fn restart_of_a_stopped_container_starts_it() {
    let env = test_env!("restart_stopped");
    let name = env.name("r");
    // The first run exits 3; later runs stay up.
    let script = format!("{COUNT}; [ $n -ge 2 ] && exec sleep 3600; exit 3");
    let id = env.run_detached(&["--name", &name, "busybox", "sh", "-c", &script]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "3");
    env.run_ok(&["restart", &name]);
    env.wait_for_status(&name, "Up", Duration::from_secs(10));
    let pid1: ProcessRef = env.pid1(&name);
    assert_eq!(host::cmdline(pid1.pid).as_deref(), Some("sleep 3600"));
    assert_eq!(count_in_upper(&env, &id), "2");
}

#[test]
fn start_of_an_unknown_container_fails() {
    let env = test_env!("start_unknown");
    for cmd in ["start", "restart"] {
        let out = env.mydocker(&[cmd, "no-such-container"]);
        out.assert_failure();
        assert!(out.stderr.contains("no-such-container"), "the error should name the container\n{out}");
    }
}
