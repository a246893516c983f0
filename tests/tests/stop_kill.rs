//! Ending containers: `stop` (TERM, then KILL after the timeout), `kill`
//! with a signal, and `rm` (refused while running, `-f` kills first).

use std::time::{Duration, Instant};

use mydocker_tests::host::ProcessRef;
use mydocker_tests::{test_env, TestEnv};

/// A detached container whose PID 1 runs `trap ACTION TERM` and then
/// loops; returned once the trap is set (PID 1 ignores a TERM it has no
/// handler for, so signalling before that would test nothing).
fn run_trapping(env: &TestEnv, name: &str, action: &str) -> String {
    let script = format!("trap '{action}' TERM; touch /ready; while :; do sleep 0.1; done");
    let id = env.run_detached(&["--name", name, "busybox", "sh", "-c", &script]);
    env.wait_for_file(name, "/ready");
    id
}

/// Fail if any of `processes` still lives.
fn assert_all_dead(processes: &[ProcessRef], after: &str) {
    let alive: Vec<_> = processes.iter().filter(|p| p.is_alive()).collect();
    assert!(alive.is_empty(), "after {after}, processes of the container live on: {alive:?}");
}

/// Fail unless nothing of the container `id` called `name` is left.
fn assert_removed(env: &TestEnv, id: &str, name: &str) {
    assert!(!env.container_dir(id).exists(), "{} is left", env.container_dir(id).display());
    assert!(!env.names().contains(&name.to_string()), "the name {name} is left: {:?}", env.names());
    assert!(env.row_of(name).is_none(), "ps still lists {name}");
    assert!(!env.ps_json().iter().any(|c| c["id"] == id), "ps --format json still lists {id}");
}

#[test]
fn stop_kills_a_process_that_ignores_term_after_the_timeout() {
    let env = test_env!("stop_stubborn");
    let name = env.name("stubborn");
    run_trapping(&env, &name, "");
    let processes = env.processes_of(&name);
    let started = Instant::now();
    let out = env.run_ok(&["stop", "-t", "2", &name]);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(8), "stop -t 2 took {took:?}\n{out}");
    assert_eq!(out.stdout.trim(), name, "stop prints the name\n{out}");
    assert_all_dead(&processes, "stop");
    assert_eq!(env.status(&name), "Exited (137)");
    assert_eq!(env.record(&name)["exit_code"], 137);
}

#[test]
fn stop_t_0_kills_at_once() {
    let env = test_env!("stop_t0");
    let name = env.name("stubborn");
    run_trapping(&env, &name, "");
    let started = Instant::now();
    env.run_ok(&["stop", "-t", "0", &name]);
    assert!(started.elapsed() < Duration::from_secs(3), "stop -t 0 took {:?}", started.elapsed());
    assert_eq!(env.status(&name), "Exited (137)");
}

#[test]
fn stop_is_at_once_when_the_process_exits_on_term() {
    let env = test_env!("stop_polite");
    let name = env.name("polite");
    run_trapping(&env, &name, "exit 0");
    let processes = env.processes_of(&name);
    let started = Instant::now();
    env.run_ok(&["stop", &name]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "stop of a container that exits on TERM took {took:?}");
    assert_all_dead(&processes, "stop");
    assert_eq!(env.status(&name), "Exited (0)");
    assert_eq!(env.record(&name)["exit_code"], 0);
}

#[test]
fn stop_leaves_no_process_of_the_container() {
    let env = test_env!("stop_all");
    let name = env.name("many");
    let script = "trap 'exit 0' TERM; sleep 3601 & sleep 3602 & (while :; do sleep 1; done) & touch /ready; wait";
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", script]);
    env.wait_for_file(&name, "/ready");
    let processes = env.processes_of(&name);
    assert!(processes.len() >= 4, "the container should have PID 1 and 3 children: {processes:?}");
    env.run_ok(&["stop", &name]);
    assert_all_dead(&processes, "stop");
    assert_eq!(env.status(&name), "Exited (0)");
}

#[test]
fn stop_of_several_stops_each_and_prints_each_name() {
    let env = test_env!("stop_several");
    let (a, b) = (env.name("a"), env.name("b"));
    run_trapping(&env, &a, "exit 1");
    run_trapping(&env, &b, "exit 2");
    let out = env.run_ok(&["stop", &a, &b]);
    assert_eq!(out.lines(), vec![a.clone(), b.clone()], "{out}");
    assert_eq!(env.status(&a), "Exited (1)");
    assert_eq!(env.status(&b), "Exited (2)");
}

#[test]
fn stop_of_a_stopped_container_succeeds_and_changes_nothing() {
    let env = test_env!("stop_stopped");
    let name = env.name("done");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", "exit 3"]);
    env.run_ok(&["wait", &name]);
    let before = env.record(&name);
    env.run_ok(&["stop", &name]);
    assert_eq!(env.status(&name), "Exited (3)", "stop of a stopped container changed its exit code");
    let after = env.record(&name);
    assert_eq!(after["finished"], before["finished"], "stop of a stopped container changed its finish time");
}

#[test]
fn stop_of_an_unknown_name_fails() {
    let env = test_env!("stop_unknown");
    let out = env.mydocker(&["stop", "no-such-container"]);
    out.assert_failure();
    assert!(out.stderr.contains("no-such-container"), "the error should name the container\n{out}");
}

#[test]
fn kill_s_term_is_accepted_in_every_spelling() {
    let env = test_env!("kill_term");
    for (i, signal) in ["TERM", "SIGTERM", "sigterm", "15"].into_iter().enumerate() {
        let name = env.name(&format!("k{i}"));
        let code = 10 + i;
        run_trapping(&env, &name, &format!("exit {code}"));
        env.run_ok(&["kill", "-s", signal, &name]);
        assert_eq!(env.stdout_of(&["wait", &name]).trim(), code.to_string(), "after kill -s {signal}");
        assert_eq!(env.status(&name), format!("Exited ({code})"), "after kill -s {signal}");
    }
}

#[test]
fn kill_sends_sigkill_by_default() {
    let env = test_env!("kill_default");
    let name = env.name("k");
    // Traps TERM, so only a KILL ends it.
    run_trapping(&env, &name, "");
    let processes = env.processes_of(&name);
    env.run_ok(&["kill", &name]);
    assert_eq!(env.stdout_of(&["wait", &name]).trim(), "137");
    assert_eq!(env.status(&name), "Exited (137)");
    assert_all_dead(&processes, "kill and wait");
}

#[test]
fn kill_with_a_bad_signal_fails_and_the_container_runs_on() {
    let env = test_env!("kill_bad");
    let name = env.name("k");
    env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    let pid1 = env.pid1(&name);
    for bad in ["NOPE", "SIGNOPE", "99", ""] {
        let out = env.mydocker(&["kill", "-s", bad, &name]);
        out.assert_failure();
        assert!(pid1.is_alive(), "kill -s {bad:?} ended the container\n{out}");
    }
    assert_eq!(env.status(&name), "Up");
}

#[test]
fn kill_of_a_stopped_container_fails() {
    let env = test_env!("kill_stopped");
    let name = env.name("k");
    env.run_detached(&["--name", &name, "busybox", "true"]);
    env.run_ok(&["wait", &name]);
    env.mydocker(&["kill", &name]).assert_failure();
    env.mydocker(&["kill", "-s", "TERM", &name]).assert_failure();
    assert_eq!(env.status(&name), "Exited (0)", "kill changed a stopped container's record");
    env.mydocker(&["kill", "no-such-container"]).assert_failure();
}

#[test]
fn kill_of_a_stopped_container_says_it_is_not_running() {
    let env = test_env!("kill_stopped_msg");
    let name = env.name("k");
    env.run_detached(&["--name", &name, "busybox", "true"]);
    env.run_ok(&["wait", &name]);
    let out = env.mydocker(&["kill", &name]);
    out.assert_failure();
    assert!(
        out.stderr.contains(&name) && out.stderr.contains("not running"),
        "the error should name the container and say it is not running\n{out}"
    );
}

#[test]
fn rm_refuses_a_running_container_and_it_runs_on() {
    let env = test_env!("rm_running");
    let name = env.name("r");
    let id = env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    let pid1 = env.pid1(&name);
    let out = env.mydocker(&["rm", &name]);
    out.assert_code(1);
    assert!(out.stderr.contains("running"), "the error should say the container is running\n{out}");
    assert!(pid1.is_alive(), "rm took the container's process down");
    assert_eq!(env.pid1(&name), pid1, "rm changed the container's process");
    assert_eq!(env.status(&name), "Up");
    assert!(env.container_dir(&id).is_dir() && env.names().contains(&name), "rm removed files of a running container");
}

#[test]
fn rm_f_removes_a_running_container_and_everything_of_it() {
    let env = test_env!("rm_force");
    let name = env.name("r");
    let id = env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    let processes = env.processes_of(&name);
    env.run_ok(&["rm", "-f", &name]);
    assert_all_dead(&processes, "rm -f");
    assert_removed(&env, &id, &name);
    env.assert_no_mounts();

    // The name is free again: a new container, with a new ID.
    let again = env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    assert_ne!(again, id);
    assert_eq!(env.status(&name), "Up");
}

#[test]
fn rm_of_a_stopped_container_leaves_nothing() {
    let env = test_env!("rm_stopped");
    let name = env.name("r");
    let id = env.run_detached(&["--name", &name, "busybox", "sh", "-c", "echo x; exit 4"]);
    env.run_ok(&["wait", &name]);
    env.run_ok(&["rm", &name]);
    assert_removed(&env, &id, &name);
    env.assert_no_mounts();
    let again = env.mydocker(&["rm", &name]);
    again.assert_failure();
    assert!(again.stderr.contains(&name), "the error should name the container\n{again}");
}

#[test]
fn rm_f_of_several_removes_each() {
    let env = test_env!("rm_several");
    let (a, b) = (env.name("a"), env.name("b"));
    let ida = env.run_detached(&["--name", &a, "busybox", "sleep", "3600"]);
    let idb = env.run_detached(&["--name", &b, "busybox", "sh", "-c", "exit 0"]);
    let processes = env.processes_of(&a);
    env.run_ok(&["rm", "-f", &a, &b]);
    assert_all_dead(&processes, "rm -f");
    assert_removed(&env, &ida, &a);
    assert_removed(&env, &idb, &b);
    assert!(env.container_dirs().is_empty(), "left: {:?}", env.container_dirs());
}
