//! Commands racing on the same root: many `run -d` while `ps`, `stop` and
//! `rm` work on the same containers. Afterwards every record is whole, every
//! status true, every name taken once, and nothing runs that no record owns.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mydocker_tests::host::{self, ProcessRef};
use mydocker_tests::{eventually, is_full_id, table, test_env, unique, Output, TestEnv, PS_COLUMNS};

const LIMIT: Duration = Duration::from_secs(20);

/// A container command that stays up and whose PID 1 (a shell: the marker
/// follows the sleep, so sh does not exec it) carries `marker` in its
/// command line, so the test can find every process of its containers.
fn marked_script(marker: &str) -> String {
    format!("sleep 3600; : {marker}")
}

/// The live processes whose command line holds `marker`.
fn marked(marker: &str) -> Vec<host::Process> {
    host::processes_mentioning(marker)
}

/// Check that the root is consistent: every state.json whole, every status
/// true, every name once and pointing at a container, and every marked
/// process owned by a container listed as running. Returns the records.
fn assert_consistent(env: &TestEnv, marker: &str) -> Vec<serde_json::Value> {
    for dir in env.container_dirs() {
        let path = env.container_dir(&dir).join("state.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rec: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON ({e}):\n{text}", path.display()));
        assert!(rec.is_object(), "{} holds no record: {text}", path.display());
    }

    let records = env.ps_json();
    let rows = env.ps();
    let mut running_namespaces = HashSet::new();
    for rec in &records {
        let id = rec["id"].as_str().unwrap_or_else(|| panic!("a record without an id: {rec}"));
        assert!(is_full_id(id), "{rec}");
        let row = rows
            .iter()
            .find(|r| id.starts_with(r.get("CONTAINER ID")))
            .unwrap_or_else(|| panic!("ps --format json lists {id}, the ps table does not"));
        let pid = rec["pid"].as_i64().unwrap_or(0) as i32;
        match rec["status"].as_str() {
            Some("running") => {
                let pid1 = ProcessRef::of(pid).unwrap_or_else(|| panic!("running, but its pid is not alive: {rec}"));
                if let Some(started) = rec["pid_start_time"].as_u64() {
                    assert_eq!(pid1.started, started, "running, but pid {pid} is another process: {rec}");
                }
                assert_eq!(row.get("STATUS"), "Up", "{}", row.line);
                assert_eq!(row.get("PID"), pid.to_string(), "{}", row.line);
                running_namespaces.insert(host::pid_namespace(pid).expect("the namespace of a live pid"));
            }
            Some("stopped") => {
                if pid > 0 {
                    let same = match rec["pid_start_time"].as_u64() {
                        Some(started) => host::is_alive(pid, started),
                        None => ProcessRef::of(pid).is_some(),
                    };
                    assert!(!same, "stopped, but its process {pid} lives: {rec}");
                }
                assert!(row.get("STATUS").starts_with("Exited"), "{}", row.line);
            }
            other => panic!("after every command returned, a container is {other:?}: {rec}"),
        }
    }
    assert_eq!(rows.len(), records.len(), "ps and ps --format json list different containers");

    let names: Vec<String> = records.iter().map(|r| r["name"].as_str().unwrap_or_default().to_string()).collect();
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "a name is listed twice: {names:?}");
    let links: BTreeSet<String> = env.names().into_iter().collect();
    assert_eq!(links, distinct.into_iter().cloned().collect(), "names/ and ps disagree");
    for name in &links {
        assert!(env.container_dir(&env.id_of(name)).is_dir(), "the name {name} points at no container");
    }

    for p in marked(marker) {
        let ns = host::pid_namespace(p.pid).unwrap_or_default();
        assert!(
            running_namespaces.contains(&ns),
            "process {} `{}` runs, but no running container owns it (an orphan of the races)",
            p.pid,
            p.cmdline
        );
    }
    records
}

/// `rm -f` every container, then check that nothing is left of any.
fn remove_all_and_check(env: &TestEnv, marker: &str) {
    let ids = env.ps_ids();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        env.run_ok(&args);
    }
    assert!(env.container_dirs().is_empty(), "rm -f of all left {:?}", env.container_dirs());
    assert!(env.names().is_empty(), "rm -f of all left names {:?}", env.names());
    assert!(env.ps_ids().is_empty(), "ps still lists {:?}", env.ps_ids());
    eventually(Duration::from_secs(10), "every process of the containers to end", || marked(marker).is_empty());
    let root = env.root().to_string_lossy().into_owned();
    eventually(Duration::from_secs(10), "every mydocker process of the root to end", || {
        host::processes_mentioning(&root).is_empty()
    });
    env.assert_no_mounts();
}

#[test]
fn twenty_runs_racing_ps_stop_and_rm_leave_a_consistent_root() {
    let env = test_env!("race_twenty");
    let marker = unique("race-twenty");
    let script = marked_script(&marker);
    let runs: Mutex<Vec<(usize, Output)>> = Mutex::new(Vec::new());
    let stops: Mutex<Vec<(usize, Output, Output)>> = Mutex::new(Vec::new());
    let problems: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let running = AtomicBool::new(true);

    std::thread::scope(|s| {
        let runners: Vec<_> = (0..20)
            .map(|i| {
                let (env, runs, script) = (&env, &runs, &script);
                s.spawn(move || {
                    let name = env.name(&format!("c{i}"));
                    let out = env.mydocker(&["run", "-d", "--name", &name, "busybox", "sh", "-c", script]);
                    runs.lock().unwrap().push((i, out));
                })
            })
            .collect();
        for _ in 0..3 {
            let (env, problems, running) = (&env, &problems, &running);
            s.spawn(move || {
                while running.load(Ordering::SeqCst) {
                    let out = env.mydocker(&["ps"]);
                    if !out.success() {
                        problems.lock().unwrap().push(format!("ps failed during the races\n{out}"));
                    } else if let Err(e) = table::try_parse(&out.stdout, PS_COLUMNS) {
                        problems.lock().unwrap().push(format!("ps printed a broken table: {e}"));
                    }
                    let out = env.mydocker(&["ps", "--format", "json"]);
                    match serde_json::from_str::<serde_json::Value>(&out.stdout) {
                        Ok(v) if out.success() && v.is_array() => {}
                        _ => problems.lock().unwrap().push(format!("ps --format json failed during the races\n{out}")),
                    }
                }
            });
        }
        for i in 0..8 {
            let (env, stops) = (&env, &stops);
            s.spawn(move || {
                let name = env.name(&format!("c{i}"));
                // As soon as the name exists: while its run may still be under way.
                let deadline = Instant::now() + LIMIT;
                while !env.names().contains(&name) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let stop = env.mydocker(&["stop", "-t", "1", &name]);
                let rm = env.mydocker(&["rm", &name]);
                stops.lock().unwrap().push((i, stop, rm));
            });
        }
        for r in runners {
            r.join().expect("a runner thread panicked");
        }
        // Let ps race the stoppers a little longer, then stop it.
        std::thread::sleep(Duration::from_millis(200));
        running.store(false, Ordering::SeqCst);
    });

    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    let runs = runs.into_inner().unwrap();
    let mut ids = HashSet::new();
    for (i, out) in &runs {
        // Runs 8.. were left alone: each must have worked.
        if *i >= 8 {
            out.assert_success();
        }
        if out.success() {
            let id = out.stdout.trim().to_string();
            assert!(is_full_id(&id), "run -d should print the ID\n{out}");
            assert!(ids.insert(id), "two runs printed the same ID");
        }
    }
    let stops = stops.into_inner().unwrap();
    assert_eq!(stops.len(), 8);

    let records = assert_consistent(&env, &marker);
    for i in 8..20 {
        let name = env.name(&format!("c{i}"));
        let rec = records.iter().find(|r| r["name"] == name.as_str()).unwrap_or_else(|| panic!("{name} is not listed"));
        assert_eq!(rec["status"], "running", "nobody stopped {name}: {rec}");
    }
    for (i, stop, rm) in &stops {
        let name = env.name(&format!("c{i}"));
        if stop.success() && rm.success() {
            assert!(!records.iter().any(|r| r["name"] == name.as_str()), "rm {name} succeeded, yet it is listed");
        }
    }
    remove_all_and_check(&env, &marker);
}

#[test]
fn a_name_raced_by_many_runs_is_taken_once() {
    let env = test_env!("race_name");
    let marker = unique("race-name");
    let script = marked_script(&marker);
    let name = env.name("same");
    let outs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| env.mydocker(&["run", "-d", "--name", &name, "busybox", "sh", "-c", &script])))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a runner thread panicked")).collect()
    });
    let won: Vec<&Output> = outs.iter().filter(|o| o.success()).collect();
    assert_eq!(won.len(), 1, "exactly one run should get the name:\n{outs:#?}");
    for lost in outs.iter().filter(|o| !o.success()) {
        assert!(lost.stderr.contains(&name), "a run that lost the name should say which name\n{lost}");
    }
    let records = assert_consistent(&env, &marker);
    assert_eq!(records.len(), 1, "the losers left containers: {records:?}");
    assert_eq!(env.container_dirs().len(), 1, "the losers left folders: {:?}", env.container_dirs());
    assert_eq!(records[0]["id"], won[0].stdout.trim());
    assert_eq!(records[0]["status"], "running");
    remove_all_and_check(&env, &marker);
}

#[test]
fn stop_and_rm_f_racing_on_one_container() {
    let env = test_env!("race_one");
    let marker = unique("race-one");
    let script = marked_script(&marker);
    let name = env.name("one");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", &script]);
    let processes = env.processes_of(&name);

    let stops: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| env.mydocker(&["stop", "-t", "1", &name]))).collect();
        handles.into_iter().map(|h| h.join().expect("a stop thread panicked")).collect()
    });
    for out in &stops {
        out.assert_success();
    }
    assert!(processes.iter().all(|p| !p.is_alive()), "stop returned while the container's processes live");
    assert_eq!(env.status(&name), "Exited (137)", "PID 1 (sh) ignores TERM, so stop ends it with KILL");

    env.run_ok(&["start", &name]);
    env.wait_for_status(&name, "Up", LIMIT);
    let processes = env.processes_of(&name);
    let rms: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| env.mydocker(&["rm", "-f", &name]))).collect();
        handles.into_iter().map(|h| h.join().expect("an rm thread panicked")).collect()
    });
    assert!(rms.iter().any(|o| o.success()), "no rm -f succeeded:\n{rms:#?}");
    for out in rms.iter().filter(|o| !o.success()) {
        assert!(out.stderr.contains(&name), "a losing rm -f should say what it could not find\n{out}");
    }
    assert!(processes.iter().all(|p| !p.is_alive()), "rm -f returned while the container's processes live");
    remove_all_and_check(&env, &marker);
}
