//! `mydocker run` exits as docker does: the command's own code, 128+N when
//! it was killed by signal N, 125 when mydocker failed, 126 when the
//! command cannot be run, 127 when it was not found.

use std::time::Duration;

use mydocker_tests::{host, test_env};

#[test]
fn exit_code_is_the_commands() {
    let env = test_env!("exit_code");
    env.mydocker(&["run", "--rm", "busybox", "sh", "-c", "exit 42"]).assert_code(42);
    env.mydocker(&["run", "--rm", "busybox", "true"]).assert_code(0);
    env.mydocker(&["run", "--rm", "busybox", "false"]).assert_code(1);
}

#[test]
fn killed_by_signal_is_128_plus_signal() {
    // A pid namespace's init ignores signals it has no handler for when they
    // come from inside (`sh -c 'kill -9 $$'` as PID 1 is a no-op, as in
    // docker), so the SIGKILL comes from the host, as `kill -9` by a user.
    let env = test_env!("exit_signal");
    let name = env.name("victim");
    let mut run = env.spawn(&["run", "--name", &name, "busybox", "sleep", "1000"]);
    let row = env.wait_until_up(&name);
    let pid: i32 =
        row.get("PID").parse().unwrap_or_else(|_| panic!("ps shows no pid for a running container: {}", row.line));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).starts_with("sleep\u{0}1000"),
        "ps PID {pid} of {name} is not the container's command (cmdline {:?})",
        String::from_utf8_lossy(&cmdline)
    );
    assert!(run.is_running());
    let started = host::start_time(pid).expect("the container's process is alive");
    host::kill_if_same(pid, started);
    let out = run.wait(Duration::from_secs(30));
    out.assert_code(137);
    let row = env.row_of(&name).unwrap_or_else(|| panic!("{name} should stay listed after it was killed"));
    assert_eq!(row.get("STATUS"), "Exited (137)", "{}", row.line);
}

#[test]
fn command_not_found_is_127() {
    let env = test_env!("exit_127");
    let out = env.mydocker(&["run", "--rm", "busybox", "nosuchcmd"]);
    out.assert_code(127);
    assert!(out.stderr.contains("nosuchcmd"), "the error should name the missing command\n{out}");
    let out = env.mydocker(&["run", "--rm", "busybox", "/no/such/path"]);
    out.assert_code(127);
    assert!(out.stderr.contains("/no/such/path"), "the error should name the missing command\n{out}");
}

#[test]
fn command_not_executable_is_126() {
    let env = test_env!("exit_126");
    let out = env.mydocker(&["run", "--rm", "busybox", "/etc"]);
    out.assert_code(126);
    assert!(out.stderr.contains("/etc"), "the error should name the command\n{out}");
    // A file without the execute bit.
    let out = env.mydocker(&["run", "--rm", "busybox", "/etc/passwd"]);
    out.assert_code(126);
}

#[test]
fn unknown_image_is_125() {
    let env = test_env!("exit_125_image");
    let out = env.mydocker(&["run", "--rm", "nosuchimage", "true"]);
    out.assert_code(125);
    assert!(out.stderr.contains("nosuchimage"), "the error should name the image\n{out}");
    assert!(env.container_dirs().is_empty(), "a failed run left {:?}", env.container_dirs());
}

#[test]
fn bad_flag_is_125() {
    let env = test_env!("exit_125_flag");
    let out = env.mydocker(&["run", "--no-such-flag", "busybox", "true"]);
    out.assert_code(125);
    assert!(out.stderr.contains("no-such-flag"), "the error should name the flag\n{out}");
    assert!(env.container_dirs().is_empty(), "a failed run left {:?}", env.container_dirs());
}

#[test]
fn bad_name_is_125_and_makes_nothing() {
    let env = test_env!("exit_125_name");
    for bad in ["../../x", "a/b", ".hidden", "-dash", "sp ace", ""] {
        let out = env.mydocker(&["run", "--rm", "--name", bad, "busybox", "true"]);
        out.assert_code(125);
        assert!(env.container_dirs().is_empty(), "--name {bad:?} left {:?} in containers/", env.container_dirs());
        assert!(env.names().is_empty(), "--name {bad:?} left {:?} in names/", env.names());
    }
    // Nothing escaped the root either.
    let parent = env.root().parent().expect("root has a parent");
    assert!(!parent.join("x").exists() && !env.root().join("x").exists(), "--name ../../x made a file outside names/");
    assert!(env.ps_ids().is_empty());
}

#[test]
fn bad_volume_is_125_and_makes_nothing() {
    let env = test_env!("exit_125_volume");
    let host_dir = env.scratch().join("vol");
    let good = format!("{}:/data", host_dir.display());
    for bad in ["relative:/x", ":/x", &format!("{good}:rx")] {
        let out = env.mydocker(&["run", "--rm", "-v", bad, "busybox", "true"]);
        out.assert_code(125);
        assert!(env.container_dirs().is_empty(), "-v {bad:?} left {:?} in containers/", env.container_dirs());
        assert!(env.names().is_empty(), "-v {bad:?} left {:?} in names/", env.names());
    }
    assert!(!env.scratch().join("relative").exists() && !host_dir.exists(), "a refused -v made a host folder");
    assert!(env.ps_ids().is_empty());
}

#[test]
fn duplicate_name_is_125_and_leaves_the_first_alone() {
    let env = test_env!("exit_125_dup");
    let name = env.name("dup");
    let mut first = env.spawn(&["run", "-i", "--name", &name, "busybox", "cat"]);
    let before = env.wait_until_up(&name);
    let id = env.id_of(&name);

    let out = env.mydocker(&["run", "--rm", "--name", &name, "busybox", "true"]);
    out.assert_code(125);
    assert!(out.stderr.contains(&name), "the error should name the taken name\n{out}");

    // The first is untouched: same container, still up, its name still its own.
    let after = env.wait_until_up(&name);
    assert_eq!(before.get("CONTAINER ID"), after.get("CONTAINER ID"));
    assert_eq!(before.get("PID"), after.get("PID"));
    assert_eq!(env.id_of(&name), id);
    assert_eq!(env.container_dirs(), vec![id.clone()], "the refused run left a container behind");
    first.write_stdin(b"still here\n");
    first.close_stdin();
    let out = first.wait(Duration::from_secs(30));
    out.assert_code(0);
    assert_eq!(out.stdout, "still here\n");

    // Exited, the name is still taken.
    env.mydocker(&["run", "--rm", "--name", &name, "busybox", "true"]).assert_code(125);
    let rows = env.ps();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].get("STATUS"), "Exited (0)");
}

#[test]
fn racing_runs_for_one_name_have_one_winner() {
    let env = test_env!("exit_125_race");
    let name = env.name("race");
    let runs: Vec<_> = (0..4).map(|_| env.spawn(&["run", "--name", &name, "busybox", "true"])).collect();
    let codes: Vec<i32> = runs.into_iter().map(|r| r.wait(Duration::from_secs(60)).code()).collect();
    assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "exactly one run should get the name: {codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 125).count(), 3, "the others fail with 125: {codes:?}");
    assert_eq!(env.container_dirs().len(), 1, "{:?}", env.container_dirs());
    assert_eq!(env.names(), vec![name.clone()]);
    let row = env.row_of(&name).expect("the winner is listed");
    assert_eq!(row.get("STATUS"), "Exited (0)");
}

#[test]
fn quick_commands_in_parallel_always_report_their_own_code() {
    // A command that exits at once must not be mistaken for an init that
    // died before exec, however the scheduler orders the two.
    let env = test_env!("exit_quick");
    let bad: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let env = &env;
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for i in 0..30 {
                        let (cmd, want) = if (w + i) % 2 == 0 { ("true", 0) } else { ("false", 1) };
                        let out = env.mydocker(&["run", "--rm", "busybox", cmd]);
                        if out.status.code() != Some(want) {
                            bad.push(format!("expected {want}\n{out}"));
                        }
                    }
                    bad
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert!(bad.is_empty(), "{} of 120 quick runs reported the wrong exit code; first:\n{}", bad.len(), bad[0]);
    assert!(env.container_dirs().is_empty(), "--rm left {:?}", env.container_dirs());
}
