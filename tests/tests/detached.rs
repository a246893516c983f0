//! `run -d`: the ID printed at once, the container left running under its
//! monitor, its exit recorded, `--rm` honoured; and the status staying true
//! when the monitor itself is killed.

use std::time::{Duration, Instant};

use mydocker_tests::host::{self, ProcessRef};
use mydocker_tests::{eventually, test_env, TestEnv};

const LIMIT: Duration = Duration::from_secs(10);

/// Fail unless nothing of the container `id` (called `name`) is left: not
/// listed, no folder, no name, no mount, none of its `processes`.
fn assert_gone(env: &TestEnv, id: &str, name: &str, processes: &[ProcessRef]) {
    assert!(!env.ps_json().iter().any(|c| c["id"] == id), "ps still lists {name}: {:?}", env.ps_json());
    assert!(!env.container_dir(id).exists(), "{} is left", env.container_dir(id).display());
    assert!(!env.names().contains(&name.to_string()), "the name {name} is left: {:?}", env.names());
    env.assert_no_mounts();
    let alive: Vec<_> = processes.iter().filter(|p| p.is_alive()).collect();
    assert!(alive.is_empty(), "processes of {name} outlived it: {alive:?}");
}

/// The monitor of the running container `name`, checked to be a mydocker
/// process of this test's root before anyone signals it.
fn monitor_of(env: &TestEnv, name: &str) -> ProcessRef {
    let rec = env.record(name);
    let pid = rec["monitor_pid"].as_i64().unwrap_or_else(|| panic!("no monitor_pid in {rec}")) as i32;
    let monitor = ProcessRef::of(pid).unwrap_or_else(|| panic!("the monitor {pid} of {name} is not running: {rec}"));
    let cmdline = host::cmdline(pid).unwrap_or_default();
    let root = env.root().to_string_lossy();
    assert!(
        cmdline.contains("mydocker") && cmdline.contains(root.as_ref()),
        "pid {pid} (monitor_pid of {name}) is not a mydocker process of {root}: {cmdline:?}"
    );
    monitor
}

#[test]
fn run_d_prints_the_id_and_returns_while_the_container_runs() {
    let env = test_env!("det_runs");
    let name = env.name("d");
    let started = Instant::now();
    let id = env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    assert!(started.elapsed() < Duration::from_secs(20), "run -d took {:?}", started.elapsed());
    assert_eq!(env.id_of(&name), id, "the name should point at the ID run -d printed");

    let row = env.row_of(&name).expect("ps lists the container");
    assert_eq!(row.get("STATUS"), "Up", "{}", row.line);
    assert_eq!(row.get("CONTAINER ID"), &id[..12], "{}", row.line);
    assert_eq!(row.get("IMAGE"), "busybox", "{}", row.line);
    let pid: i32 = row.get("PID").parse().unwrap_or_else(|_| panic!("no PID in {:?}", row.line));
    assert_eq!(host::cmdline(pid).as_deref(), Some("sleep 3600"), "host pid {pid} should be the container's command");
    assert_ne!(host::pid_namespace(pid), Some(host::namespace("pid")), "pid {pid} runs in the host's PID namespace");

    let rec = env.record(&id);
    assert_eq!(rec["status"], "running", "{rec}");
    assert_eq!(rec["pid"], pid, "{rec}");
    assert_eq!(rec["detached"], true, "{rec}");
    assert!(rec["exit_code"].is_null(), "a running container has no exit code: {rec}");

    // Still running a while later: run -d's return did not take it down.
    std::thread::sleep(Duration::from_millis(300));
    assert!(ProcessRef::of(pid).is_some(), "the container's process {pid} died after run -d returned");
    assert_eq!(env.status(&name), "Up");
}

#[test]
fn a_detached_container_that_exits_shows_its_code() {
    let env = test_env!("det_exit");
    for (suffix, code) in [("seven", 7), ("zero", 0)] {
        let name = env.name(suffix);
        let script = format!("sleep 0.3; exit {code}");
        let id = env.run_detached(&["--name", &name, "busybox", "sh", "-c", &script]);
        env.wait_for_status(&name, &format!("Exited ({code})"), LIMIT);
        let rec = env.record(&id);
        assert_eq!(rec["status"], "stopped", "{rec}");
        assert_eq!(rec["exit_code"], code, "{rec}");
        assert!(rec["finished"].is_string(), "no finish time recorded: {rec}");
    }
    let ids = env.ps_ids();
    assert_eq!(ids.len(), 2, "both exited containers stay listed: {ids:?}");
}

#[test]
fn run_d_rm_leaves_nothing_once_the_container_exits() {
    let env = test_env!("det_rm");
    let name = env.name("gone");
    let id = env.run_detached(&["--rm", "--name", &name, "busybox", "sh", "-c", "sleep 1; exit 3"]);
    let processes = env.processes_of(&id);
    assert!(!processes.is_empty());
    eventually(LIMIT, "run -d --rm to remove the container after it exits", || {
        !env.container_dir(&id).exists() && env.names().is_empty() && env.ps_ids().is_empty()
    });
    assert_gone(&env, &id, &name, &processes);
    // The name is free again.
    env.run_detached(&["--rm", "--name", &name, "busybox", "true"]);
    eventually(LIMIT, "the second --rm container to go", || env.container_dirs().is_empty());
}

#[test]
fn stop_or_rm_f_of_an_rm_container_leaves_nothing() {
    let env = test_env!("det_rm_stop");
    let name = env.name("stopped");
    let id = env.run_detached(&["--rm", "--name", &name, "busybox", "sleep", "3600"]);
    let processes = env.processes_of(&name);
    env.run_ok(&["stop", "-t", "1", &name]);
    eventually(LIMIT, "the stopped --rm container to go", || {
        !env.container_dir(&id).exists() && !env.names().contains(&name) && env.ps_ids().is_empty()
    });
    assert_gone(&env, &id, &name, &processes);

    let name = env.name("forced");
    let id = env.run_detached(&["--rm", "--name", &name, "busybox", "sleep", "3600"]);
    let processes = env.processes_of(&name);
    // rm -f and the monitor's own --rm removal race: neither may fail or leave anything.
    env.run_ok(&["rm", "-f", &name]);
    assert_gone(&env, &id, &name, &processes);
}

#[test]
fn run_d_of_a_missing_command_exits_127() {
    let env = test_env!("det_127");
    let name = env.name("nf");
    let out = env.mydocker(&["run", "-d", "--name", &name, "busybox", "no-such-command"]);
    out.assert_code(127);
    assert!(out.stderr.contains("no-such-command"), "the error should name the command\n{out}");
    assert_eq!(env.status(&name), "Exited (127)");

    let gone = env.name("nf-rm");
    env.mydocker(&["run", "-d", "--rm", "--name", &gone, "busybox", "no-such-command"]).assert_code(127);
    eventually(LIMIT, "the --rm container of a missing command to go, the first to stay", || {
        !env.names().contains(&gone) && env.container_dirs().len() == 1
    });
    assert_eq!(env.status(&name), "Exited (127)");
}

#[test]
fn status_stays_true_when_the_monitor_and_then_pid_1_are_killed() {
    let env = test_env!("det_monitor");
    let name = env.name("m");
    let id = env.run_detached(&["--name", &name, "busybox", "sh", "-c", "echo before; exec sleep 3600"]);
    let monitor = monitor_of(&env, &name);
    let pid1 = env.pid1(&name);
    let processes = env.processes_of(&name);

    assert!(monitor.signal(libc::SIGKILL), "the monitor was gone before the test killed it");
    eventually(LIMIT, "the monitor to die", || !monitor.is_alive());
    // The container lives on without its monitor, and every command says so.
    assert!(pid1.is_alive(), "killing the monitor took the container down");
    assert_eq!(env.status(&name), "Up");
    assert_eq!(env.stdout_of(&["exec", &name, "echo", "in"]), "in\n");
    let mut follow = env.spawn(&["logs", "-f", &name]);
    follow.wait_for_stdout("before\n", LIMIT);

    assert!(pid1.signal(libc::SIGKILL), "PID 1 was gone before the test killed it");
    eventually(LIMIT, "PID 1 to die", || !pid1.is_alive());
    // No monitor will write a last line: logs -f must notice the end by itself.
    let followed = follow.wait(Duration::from_secs(20));
    assert_eq!(followed.stdout, "before\n", "{followed}");
    env.wait_for_status(&name, "Exited (unknown)", LIMIT);
    let rec = env.record(&id);
    assert_eq!(rec["status"], "stopped", "{rec}");
    // Stopped for every command, not only for ps.
    env.mydocker(&["kill", &name]).assert_failure();
    env.run_ok(&["stop", &name]);
    assert_eq!(env.status(&name), "Exited (unknown)", "stop of a stopped container changed it");

    env.run_ok(&["rm", &name]);
    assert_gone(&env, &id, &name, &processes);
}

#[test]
fn rm_f_cleans_up_after_the_monitor_was_killed() {
    let env = test_env!("det_monitor_rmf");
    let name = env.name("m");
    let id = env.run_detached(&["--name", &name, "busybox", "sleep", "3600"]);
    let monitor = monitor_of(&env, &name);
    let processes = env.processes_of(&name);

    assert!(monitor.signal(libc::SIGKILL), "the monitor was gone before the test killed it");
    eventually(LIMIT, "the monitor to die", || !monitor.is_alive());
    assert_eq!(env.status(&name), "Up");

    env.run_ok(&["rm", "-f", &name]);
    assert_gone(&env, &id, &name, &processes);
}
