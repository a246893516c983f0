//! `wait` (blocks, prints exit codes), `inspect` (the JSON record of a
//! container), and naming containers by a unique prefix of their ID.

use std::time::{Duration, Instant};

use mydocker_tests::time::parse_rfc3339;
use mydocker_tests::{eventually, test_env, TestEnv};

const LIMIT: Duration = Duration::from_secs(60);

fn time_of(v: &serde_json::Value, what: &str) -> f64 {
    let s = v.as_str().unwrap_or_else(|| panic!("{what} is not a string: {v}"));
    parse_rfc3339(s).unwrap_or_else(|| panic!("{what} {s:?} is not an RFC 3339 time"))
}

#[test]
fn wait_blocks_until_the_container_ends_and_prints_its_code() {
    let env = test_env!("wait_blocks");
    let name = env.name("w");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", "while [ ! -e /go ]; do sleep 0.1; done; exit 3"]);
    let mut wait = env.spawn(&["wait", &name]);
    env.run_ok(&["exec", &name, "true"]);
    assert!(wait.is_running(), "wait returned while the container runs:\n{}", wait.stdout_so_far());
    env.run_ok(&["exec", &name, "touch", "/go"]);
    let out = wait.wait(LIMIT);
    out.assert_success();
    assert_eq!(out.stdout, "3\n", "{out}");
}

#[test]
fn wait_of_an_rm_container_prints_its_code() {
    // The container removes itself when it ends; wait, already waiting,
    // must still tell its exit code (as `docker wait` does).
    let env = test_env!("wait_rm");
    let name = env.name("w");
    let script = "while [ ! -e /go ]; do sleep 0.1; done; exit 3";
    env.run_detached(&["--rm", "--name", &name, "busybox", "sh", "-c", script]);
    let wait = env.spawn(&["wait", &name]);
    env.run_ok(&["exec", &name, "touch", "/go"]);
    let out = wait.wait(LIMIT);
    out.assert_success();
    assert_eq!(out.stdout, "3\n", "{out}");
    eventually(Duration::from_secs(10), "the --rm container to go", || env.container_dirs().is_empty());
}

#[test]
fn wait_of_an_ended_container_prints_its_code_at_once() {
    let env = test_env!("wait_ended");
    let name = env.name("w");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", "exit 5"]);
    env.wait_for_status(&name, "Exited (5)", Duration::from_secs(10));
    let started = Instant::now();
    assert_eq!(env.stdout_of(&["wait", &name]), "5\n");
    assert!(started.elapsed() < Duration::from_secs(5), "wait of an ended container took {:?}", started.elapsed());
}

#[test]
fn wait_of_several_prints_each_code_in_order() {
    let env = test_env!("wait_several");
    let (a, b) = (env.name("a"), env.name("b"));
    env.run_detached(&["--name", &a, "busybox", "sh", "-c", "sleep 0.5; exit 1"]);
    env.run_detached(&["--name", &b, "busybox", "sh", "-c", "exit 2"]);
    assert_eq!(env.stdout_of(&["wait", &a, &b]), "1\n2\n");
}

#[test]
fn wait_of_an_unknown_container_fails() {
    let env = test_env!("wait_unknown");
    let out = env.mydocker(&["wait", "no-such-container"]);
    out.assert_failure();
    assert!(out.stderr.contains("no-such-container"), "the error should name the container\n{out}");
}

#[test]
fn inspect_shows_a_running_container() {
    let env = test_env!("inspect_running");
    let name = env.name("i");
    let (ro, rw) = (env.scratch().join("ro"), env.scratch().join("rw"));
    std::fs::create_dir(&ro).unwrap();
    std::fs::create_dir(&rw).unwrap();
    let ro_spec = format!("{}:/data:ro", ro.display());
    let rw_spec = format!("{}:/rw", rw.display());
    let script = "sleep 3600";
    let id = env.run_detached(&["--name", &name, "-v", &ro_spec, "-v", &rw_spec, "busybox", "sh", "-c", script]);
    let pid1 = env.pid1(&name);
    let info = env.inspect(&name);

    assert_eq!(info["Id"], id.as_str(), "{info:#}");
    assert_eq!(info["Name"].as_str().map(|n| n.trim_start_matches('/')), Some(name.as_str()), "{info:#}");
    assert_eq!(info["Image"], "busybox", "{info:#}");
    assert_eq!(info["Command"], serde_json::json!(["sh", "-c", script]), "{info:#}");
    let state = &info["State"];
    assert_eq!(state["Status"], "running", "{state:#}");
    assert_eq!(state["Running"], true, "{state:#}");
    assert_eq!(state["Pid"], pid1.pid, "{state:#}");
    assert!(state["ExitCode"].is_null(), "a running container has no exit code: {state:#}");
    let created = time_of(&info["Created"], "Created");
    let started = time_of(&state["StartedAt"], "State.StartedAt");
    assert!(started >= created, "started before it was created: {info:#}");
    assert!(state["FinishedAt"].as_str().is_none_or(str::is_empty), "a running container has no finish time");

    let log = info["LogPath"].as_str().unwrap_or_else(|| panic!("no LogPath: {info:#}"));
    assert_eq!(std::path::Path::new(log), env.container_dir(&id).join("container.log"));
    assert!(std::path::Path::new(log).is_file(), "LogPath {log} is no file");

    let mounts = info["Mounts"].as_array().unwrap_or_else(|| panic!("Mounts is no array: {info:#}"));
    let mount = |dest: &str| {
        mounts.iter().find(|m| m["Destination"] == dest).unwrap_or_else(|| panic!("no mount at {dest}: {mounts:?}"))
    };
    assert_eq!(mount("/data")["Source"], ro.to_string_lossy().as_ref());
    assert_eq!(mount("/data")["RW"], false, "a :ro volume shows RW true");
    assert_eq!(mount("/rw")["Source"], rw.to_string_lossy().as_ref());
    assert_eq!(mount("/rw")["RW"], true, "a read-write volume shows RW false");
    assert_eq!(mounts.len(), 2, "{mounts:?}");

    let config = &info["Config"];
    assert!(config["ociVersion"].is_string(), "Config is not an OCI spec: {config:#}");
    assert_eq!(config["process"]["args"], serde_json::json!(["sh", "-c", script]), "{config:#}");
}

#[test]
fn inspect_shows_a_stopped_container() {
    let env = test_env!("inspect_stopped");
    let name = env.name("i");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", "sleep 0.2; exit 4"]);
    env.run_ok(&["wait", &name]);
    let info = env.inspect(&name);
    let state = &info["State"];
    assert_eq!(state["Status"], "stopped", "{state:#}");
    assert_eq!(state["Running"], false, "{state:#}");
    assert_eq!(state["ExitCode"], 4, "{state:#}");
    assert!(state["Pid"].is_null() || state["Pid"] == 0, "a stopped container has no pid: {state:#}");
    let started = time_of(&state["StartedAt"], "State.StartedAt");
    let finished = time_of(&state["FinishedAt"], "State.FinishedAt");
    assert!(finished >= started + 0.1, "it ran 0.2s, but finished {:.3}s after it started", finished - started);
    assert_eq!(info["Mounts"], serde_json::json!([]), "no volumes, no mounts: {info:#}");
}

#[test]
fn inspect_of_several_in_order_and_of_unknown_fails() {
    let env = test_env!("inspect_several");
    let (a, b) = (env.name("a"), env.name("b"));
    let ida = env.run_detached(&["--name", &a, "busybox", "true"]);
    let idb = env.run_detached(&["--name", &b, "busybox", "true"]);
    let out = env.run_ok(&["inspect", &b, &a]);
    let all: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let ids: Vec<&str> = all.as_array().expect("an array").iter().map(|c| c["Id"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, [idb.as_str(), ida.as_str()], "{out}");
    let unknown = env.mydocker(&["inspect", "no-such-container"]);
    unknown.assert_failure();
    assert!(unknown.stderr.contains("no-such-container"), "the error should name the container\n{unknown}");
}

/// Stopped containers made until two IDs share their first digit; returns
/// all their IDs and that digit (at most 17 runs: there are 16 digits).
fn ids_with_a_shared_first_digit(env: &TestEnv) -> (Vec<String>, String) {
    let mut ids: Vec<String> = Vec::new();
    loop {
        let id = env.run_detached(&["busybox", "true"]);
        if let Some(other) = ids.iter().find(|o| o[..1] == id[..1]) {
            let digit = other[..1].to_string();
            ids.push(id);
            return (ids, digit);
        }
        ids.push(id);
        assert!(ids.len() <= 16, "17 IDs, and no two share a first digit? {ids:?}");
    }
}

/// The shortest prefix (at least 2 digits) of `id` that no other of `ids` has.
fn unique_prefix<'a>(id: &'a str, ids: &[String]) -> &'a str {
    (2..=id.len()).map(|n| &id[..n]).find(|p| !ids.iter().any(|o| o != id && o.starts_with(p))).unwrap_or(id)
}

#[test]
fn a_unique_id_prefix_names_a_container_for_every_command() {
    let env = test_env!("prefix_unique");
    let (mut ids, _) = ids_with_a_shared_first_digit(&env);
    let id =
        env.run_detached(&["busybox", "sh", "-c", "echo hello; trap 'exit 0' TERM; touch /ready; sleep 3600 & wait"]);
    ids.push(id.clone());
    let prefix = unique_prefix(&id, &ids).to_string();

    assert_eq!(env.inspect(&prefix)["Id"], id.as_str(), "inspect {prefix}");
    env.wait_for_file(&prefix, "/ready");
    assert_eq!(env.stdout_of(&["exec", &prefix, "echo", "in"]), "in\n", "exec {prefix}");
    assert_eq!(env.stdout_of(&["logs", &prefix]), "hello\n", "logs {prefix}");
    env.run_ok(&["stop", &prefix]);
    assert_eq!(env.record(&id)["status"], "stopped", "stop {prefix}");
    assert_eq!(env.stdout_of(&["wait", &prefix]), "0\n", "wait {prefix}");
    env.run_ok(&["start", &prefix]);
    assert_eq!(env.record(&id)["status"], "running", "start {prefix}");
    env.run_ok(&["kill", &prefix]);
    assert_eq!(env.stdout_of(&["wait", &prefix]), "137\n");
    // The 12 digits ps shows work as well.
    assert_eq!(env.inspect(&id[..12])["Id"], id.as_str());
    env.run_ok(&["rm", &prefix]);
    assert!(!env.container_dir(&id).exists(), "rm {prefix} left the container");
    assert_eq!(env.container_dirs().len(), ids.len() - 1, "rm {prefix} removed others too");
}

#[test]
fn an_ambiguous_prefix_fails_and_changes_nothing() {
    let env = test_env!("prefix_ambiguous");
    let (ids, digit) = ids_with_a_shared_first_digit(&env);
    let matching: Vec<&String> = ids.iter().filter(|i| i.starts_with(&digit)).collect();
    for cmd in [&["inspect"][..], &["stop"], &["rm"], &["rm", "-f"], &["start"], &["wait"], &["logs"]] {
        let mut args = cmd.to_vec();
        args.push(&digit);
        let out = env.mydocker(&args);
        out.assert_failure();
        let said = out.stderr.to_lowercase();
        assert!(
            said.contains(&digit) && ["more than one", "ambiguous", "multiple"].iter().any(|w| said.contains(w)),
            "the error should say {digit:?} matches more than one container\n{out}"
        );
    }
    let mut left = env.container_dirs();
    left.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(left, all, "a command on an ambiguous prefix removed a container");
    for id in matching {
        assert_eq!(env.record(id)["status"], "stopped", "a command on an ambiguous prefix started {id}");
    }
}

#[test]
fn an_unknown_reference_fails_clearly() {
    let env = test_env!("prefix_unknown");
    let (ids, _) = ids_with_a_shared_first_digit(&env);
    let unused = "0123456789abcdef".chars().map(String::from).find(|d| !ids.iter().any(|i| i.starts_with(d.as_str())));
    let mut refs = vec!["no-such-container".to_string()];
    refs.extend(unused);
    for reference in &refs {
        for cmd in ["inspect", "stop", "rm", "start", "wait", "logs", "kill"] {
            let out = env.mydocker(&[cmd, reference]);
            out.assert_failure();
            assert!(
                out.stderr.contains(reference.as_str())
                    && ["no such", "not found", "unknown"].iter().any(|w| out.stderr.to_lowercase().contains(w)),
                "the error should say there is no such container {reference:?}\n{out}"
            );
        }
    }
    assert_eq!(env.container_dirs().len(), ids.len());
}
