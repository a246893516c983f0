//! What stays after a container ends: nothing with `--rm`; a listed
//! "Exited (N)" container until `rm` otherwise; and never a mount or a
//! process on the host.

use std::time::Duration;

use mydocker_tests::{host, test_env, TestEnv};

fn assert_nothing_left(env: &TestEnv, after: &str) {
    assert!(env.container_dirs().is_empty(), "{after}: containers/ holds {:?}", env.container_dirs());
    assert!(env.names().is_empty(), "{after}: names/ holds {:?}", env.names());
    assert!(env.ps_ids().is_empty(), "{after}: ps -q lists {:?}", env.ps_ids());
    assert!(env.ps().is_empty(), "{after}: ps lists containers");
    env.assert_no_mounts();
}

#[test]
fn rm_flag_leaves_nothing() {
    let env = test_env!("clean_rm_flag");
    let name = env.name("gone");
    env.mydocker(&["run", "--rm", "--name", &name, "busybox", "sh", "-c", "echo x > /f; exit 3"]).assert_code(3);
    assert_nothing_left(&env, "after run --rm (exit 3)");
    // The name is free again.
    env.run_ok(&["run", "--rm", "--name", &name, "busybox", "true"]);
    assert_nothing_left(&env, "after a second run --rm with the same name");
}

#[test]
fn rm_flag_leaves_nothing_when_the_command_cannot_start() {
    let env = test_env!("clean_rm_flag_127");
    env.mydocker(&["run", "--rm", "--name", &env.name("nf"), "busybox", "nosuchcmd"]).assert_code(127);
    assert_nothing_left(&env, "after run --rm of a missing command");
    env.mydocker(&["run", "--rm", "busybox", "/etc"]).assert_code(126);
    assert_nothing_left(&env, "after run --rm of a folder");
}

#[test]
fn exited_container_stays_listed_until_rm() {
    let env = test_env!("clean_keep");
    let name = env.name("keep");
    env.mydocker(&["run", "--name", &name, "busybox", "sh", "-c", "exit 7"]).assert_code(7);
    let id = env.id_of(&name);
    let row = env.row_of(&name).unwrap_or_else(|| panic!("{name} should stay listed after it exited"));
    assert_eq!(row.get("STATUS"), "Exited (7)", "{}", row.line);
    assert_eq!(row.get("CONTAINER ID"), &id[..12]);
    assert_eq!(row.get("IMAGE"), "busybox");
    assert!(row.get("COMMAND").contains("exit 7"), "{}", row.line);
    assert_eq!(env.ps_ids(), vec![id[..12].to_string()]);
    let dir = env.container_dir(&id);
    for f in ["state.json", "config.json", "upper"] {
        assert!(dir.join(f).exists(), "{} lacks {f}", dir.display());
    }
    // `ps -a` is the same list.
    let all = env.stdout_of(&["ps", "-a"]);
    assert!(all.lines().any(|l| l.contains(&name) && l.contains("Exited (7)")), "ps -a:\n{all}");

    env.run_ok(&["rm", &name]);
    assert!(!dir.exists(), "rm left {}", dir.display());
    assert_nothing_left(&env, "after rm");
    env.mydocker(&["rm", &name]).assert_failure();
}

#[test]
fn rm_by_id_and_by_prefix() {
    let env = test_env!("clean_rm_id");
    let (a, b) = (env.name("a"), env.name("b"));
    env.run_ok(&["run", "--name", &a, "busybox", "true"]);
    env.run_ok(&["run", "--name", &b, "busybox", "true"]);
    let (ida, idb) = (env.id_of(&a), env.id_of(&b));
    env.run_ok(&["rm", &ida[..12]]);
    assert_eq!(env.container_dirs(), vec![idb.clone()]);
    env.run_ok(&["rm", &idb[..8]]);
    assert_nothing_left(&env, "after rm by ID and by prefix");
}

#[test]
fn rm_several_at_once() {
    let env = test_env!("clean_rm_many");
    let names: Vec<String> = (0..3).map(|i| env.name(&format!("c{i}"))).collect();
    for n in &names {
        env.run_ok(&["run", "--name", n, "busybox", "true"]);
    }
    let mut args = vec!["rm"];
    args.extend(names.iter().map(String::as_str));
    env.run_ok(&args);
    assert_nothing_left(&env, "after rm of three");
}

#[test]
fn rm_refuses_a_running_container_without_force() {
    let env = test_env!("clean_rm_running");
    let name = env.name("live");
    let run = env.spawn(&["run", "-i", "--name", &name, "busybox", "cat"]);
    let row = env.wait_until_up(&name);
    let pid: i32 = row.get("PID").parse().unwrap_or_else(|_| panic!("no pid for a running container: {}", row.line));
    let started = host::start_time(pid).expect("the container's process is alive");

    let out = env.mydocker(&["rm", &name]);
    out.assert_failure();
    let again = env.wait_until_up(&name);
    assert_eq!(again.get("PID"), row.get("PID"), "a refused rm disturbed the container");
    assert!(host::is_alive(pid, started));

    env.run_ok(&["rm", "-f", &name]);
    let out = run.wait(Duration::from_secs(30));
    assert_ne!(out.code(), 0, "the killed container's run should not report success\n{out}");
    assert!(!host::is_alive(pid, started), "rm -f left the container's process {pid} alive");
    assert_nothing_left(&env, "after rm -f");
}

#[test]
fn no_leaks_after_many_runs() {
    let env = test_env!("clean_leaks");
    env.run_ok(&["run", "--rm", "busybox", "true"]);
    env.mydocker(&["run", "busybox", "sh", "-c", "exit 9"]).assert_code(9);
    env.mydocker(&["run", "--rm", "busybox", "nosuchcmd"]).assert_code(127);
    env.with_stdin(&["run", "-i", "--rm", "busybox", "cat"], b"x").assert_success();
    let vol = format!("{}:/v", env.scratch().join("v").display());
    env.run_ok(&["run", "--rm", "-v", &vol, "busybox", "sh", "-c", "sleep 1 & echo hi > /v/f"]);
    env.assert_no_mounts();
    let root = env.root().to_string_lossy().into_owned();
    let procs = host::processes_mentioning(&root);
    assert!(procs.is_empty(), "processes of this root still run: {procs:?}");
    for id in env.ps_ids() {
        env.run_ok(&["rm", "-f", &id]);
    }
    assert_nothing_left(&env, "after rm -f of all");
}

#[test]
fn rm_flag_leaves_nothing_when_the_container_is_killed() {
    let env = test_env!("clean_rm_flag_killed");
    let name = env.name("k");
    let run = env.spawn(&["run", "--rm", "--name", &name, "busybox", "sleep", "1000"]);
    let row = env.wait_until_up(&name);
    let pid: i32 = row.get("PID").parse().unwrap_or_else(|_| panic!("no pid for a running container: {}", row.line));
    let started = host::start_time(pid).expect("the container's process is alive");
    host::kill_if_same(pid, started);
    run.wait(Duration::from_secs(30)).assert_code(137);
    assert_nothing_left(&env, "after run --rm killed by SIGKILL");
}

#[test]
fn a_record_left_empty_by_a_power_loss_is_skipped_by_ps_and_removed_by_rm() {
    // Records of a starting container are not fsynced: after a power loss
    // one may be empty. ps goes on; rm by name still removes it whole.
    let env = test_env!("clean_torn");
    let (torn, whole) = (env.name("torn"), env.name("whole"));
    env.run_ok(&["run", "--name", &torn, "busybox", "true"]);
    env.run_ok(&["run", "--name", &whole, "busybox", "true"]);
    let id = env.id_of(&torn);
    std::fs::write(env.container_dir(&id).join("state.json"), "").unwrap();
    let names: Vec<String> = env.ps().iter().map(|r| r.get("NAME").to_string()).collect();
    assert_eq!(names, [whole.clone()], "ps should list the whole container only");
    env.run_ok(&["rm", &torn]);
    env.run_ok(&["rm", &whole]);
    assert_nothing_left(&env, "after rm of a torn and a whole container");
}
