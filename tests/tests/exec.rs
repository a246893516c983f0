//! `exec`: a command inside a running container: its files, its
//! namespaces, its environment; the command's exit code; a terminal with -t.

use std::process::Stdio;
use std::time::Duration;

use mydocker_tests::pty::{self, Pty};
use mydocker_tests::{host, poll, test_env, TestEnv};

const LIMIT: Duration = Duration::from_secs(60);

/// A detached container called `name` that stays up for an hour.
fn running(env: &TestEnv, name: &str, run_flags: &[&str]) -> String {
    let mut args = vec!["--name", name];
    args.extend_from_slice(run_flags);
    args.extend_from_slice(&["busybox", "sleep", "3600"]);
    env.run_detached(&args)
}

#[test]
fn exec_sees_the_file_pid_1_wrote() {
    let env = test_env!("exec_file");
    let name = env.name("f");
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", "echo hi > /f; sleep 3600"]);
    poll(Duration::from_secs(10), "exec cat /f to show what PID 1 wrote", || {
        let out = env.mydocker(&["exec", &name, "cat", "/f"]);
        if out.success() && out.stdout == "hi\n" {
            Ok(())
        } else {
            Err(out.to_string())
        }
    });
    // And the other way: PID 1's filesystem is the one exec writes to.
    env.run_ok(&["exec", &name, "sh", "-c", "echo from-exec > /g"]);
    let id = env.id_of(&name);
    let upper = env.container_dir(&id).join("upper/g");
    assert_eq!(std::fs::read_to_string(&upper).ok().as_deref(), Some("from-exec\n"), "{}", upper.display());
}

#[test]
fn exec_joins_the_namespaces_of_pid_1() {
    let env = test_env!("exec_ns");
    let name = env.name("n");
    running(&env, &name, &[]);
    let pid1 = env.pid1(&name);
    let host_cmdline = std::fs::read(format!("/proc/{}/cmdline", pid1.pid)).expect("reading PID 1's cmdline");
    let out = env.run_ok(&["exec", &name, "cat", "/proc/1/cmdline"]);
    assert_eq!(out.stdout.as_bytes(), host_cmdline.as_slice(), "exec's /proc/1 should be the container's PID 1\n{out}");

    for ns in ["pid", "mnt", "uts", "ipc", "net"] {
        let theirs = std::fs::read_link(format!("/proc/{}/ns/{ns}", pid1.pid)).expect("reading PID 1's namespace");
        let out = env.run_ok(&["exec", &name, "readlink", &format!("/proc/self/ns/{ns}")]);
        assert_eq!(out.stdout.trim(), theirs.to_string_lossy(), "exec is not in PID 1's {ns} namespace\n{out}");
    }

    let hostname = env.run_ok(&["exec", &name, "hostname"]).stdout.trim().to_string();
    let config = env.inspect(&name)["Config"]["hostname"].clone();
    assert_eq!(config, hostname.as_str(), "exec's hostname should be the container's");
    assert_ne!(hostname, host::hostname(), "exec shows the host's hostname");
}

#[test]
fn exec_has_the_containers_environment_and_its_own_e() {
    let env = test_env!("exec_env");
    let name = env.name("e");
    running(&env, &name, &["-e", "FROM_RUN=yes", "-e", "BOTH=run"]);
    let plain = env.run_ok(&["exec", &name, "env"]);
    let lines = plain.lines();
    for want in ["FROM_RUN=yes", "BOTH=run", "HOME=/root"] {
        assert!(lines.iter().any(|l| l == want), "exec's env lacks {want:?}\n{plain}");
    }
    assert!(lines.iter().any(|l| l.starts_with("PATH=/")), "exec's env lacks PATH\n{plain}");

    let more = env.run_ok(&["exec", "-e", "ADDED=1", "-e", "BOTH=exec", &name, "env"]);
    let lines = more.lines();
    for want in ["FROM_RUN=yes", "ADDED=1", "BOTH=exec"] {
        assert!(lines.iter().any(|l| l == want), "exec -e's env lacks {want:?}\n{more}");
    }
    assert!(!lines.iter().any(|l| l == "BOTH=run"), "exec -e should override run's value\n{more}");

    let after = env.run_ok(&["exec", &name, "env"]);
    assert!(!after.stdout.contains("ADDED="), "one exec's -e leaked into the next\n{after}");
}

#[test]
fn exec_w_sets_the_directory_and_makes_it() {
    let env = test_env!("exec_w");
    let name = env.name("w");
    running(&env, &name, &[]);
    assert_eq!(env.stdout_of(&["exec", &name, "pwd"]), "/\n");
    assert_eq!(env.stdout_of(&["exec", "-w", "/tmp", &name, "pwd"]), "/tmp\n");
    assert_eq!(env.stdout_of(&["exec", "-w", "/made/by/exec", &name, "pwd"]), "/made/by/exec\n");
    env.run_ok(&["exec", &name, "test", "-d", "/made/by/exec"]);
}

#[test]
fn exec_returns_the_commands_exit_code() {
    let env = test_env!("exec_codes");
    let name = env.name("c");
    running(&env, &name, &[]);
    env.mydocker(&["exec", &name, "true"]).assert_code(0);
    env.mydocker(&["exec", &name, "sh", "-c", "exit 5"]).assert_code(5);
    env.mydocker(&["exec", &name, "sh", "-c", "kill -9 $$"]).assert_code(137);
    let missing = env.mydocker(&["exec", &name, "no-such-command"]);
    missing.assert_code(127);
    assert!(missing.stderr.contains("no-such-command"), "the error should name the command\n{missing}");
    env.mydocker(&["exec", &name, "/etc/passwd"]).assert_code(126);
    // The container is untouched by its execs' failures.
    assert_eq!(env.status(&name), "Up");
}

#[test]
fn exec_into_a_stopped_container_is_refused() {
    let env = test_env!("exec_stopped");
    let name = env.name("s");
    env.run_detached(&["--name", &name, "busybox", "true"]);
    env.run_ok(&["wait", &name]);
    let out = env.mydocker(&["exec", &name, "true"]);
    out.assert_failure();
    assert!(out.stderr.contains("not running"), "the error should say the container is not running\n{out}");
    env.mydocker(&["exec", "no-such-container", "true"]).assert_failure();
}

#[test]
fn exec_i_reads_stdin() {
    let env = test_env!("exec_i");
    let name = env.name("i");
    running(&env, &name, &[]);
    let out = env.with_stdin(&["exec", "-i", &name, "sh", "-c", "cat; echo end"], b"line one\nline two\n");
    out.assert_success();
    assert_eq!(out.stdout, "line one\nline two\nend\n", "{out}");
}

#[test]
fn exec_d_returns_while_the_command_runs() {
    let env = test_env!("exec_d");
    let name = env.name("d");
    running(&env, &name, &[]);
    // The command waits for /go; exec -d must return before it is there.
    // (Its output goes nowhere here: what exec -d does with the caller's
    // stdout is the next test's business.)
    let mut cmd =
        env.command(&["exec", "-d", &name, "sh", "-c", "while [ ! -e /go ]; do sleep 0.1; done; echo done > /done"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("starting mydocker exec -d");
    let status = poll(LIMIT, "exec -d to return", || match child.try_wait() {
        Ok(Some(status)) => Ok(status),
        Ok(None) => Err("still running".into()),
        Err(e) => panic!("waiting for exec -d: {e}"),
    });
    assert!(status.success(), "exec -d: {status:?}");
    env.run_ok(&["exec", &name, "touch", "/go"]);
    env.wait_for_file(&name, "/done");
    assert_eq!(env.stdout_of(&["exec", &name, "cat", "/done"]), "done\n");
}

#[test]
fn exec_d_does_not_hold_the_callers_stdout() {
    // `id=$(mydocker exec -d c long-job)` must not wait for the job: the
    // detached command must not keep mydocker's stdout and stderr open.
    let env = test_env!("exec_d_stdio");
    let name = env.name("d");
    running(&env, &name, &[]);
    env.run_ok(&["exec", "-d", &name, "sleep", "3600"]);
}

#[test]
fn exec_t_gives_a_terminal() {
    let env = test_env!("exec_t");
    let name = env.name("t");
    running(&env, &name, &[]);
    let term = Pty::open(30, 90);
    let before = term.termios();
    let script = "tty; stty size; test -t 0 && echo stdin-is-a-tty; test -t 1 && echo stdout-is-a-tty; exit 6";
    let mut run = term.spawn(env.command(&["exec", "-it", &name, "sh", "-c", script]));
    let status = run.finish(LIMIT);
    let text = run.text();
    assert_eq!(status.code(), Some(6), "terminal output: {text:?}");
    let lines = pty::lines(&text);
    assert!(lines.iter().any(|l| l.starts_with("/dev/pts/")), "tty should name a pty: {text:?}");
    for want in ["30 90", "stdin-is-a-tty", "stdout-is-a-tty"] {
        assert!(lines.iter().any(|l| l == want), "the terminal should show {want:?}: {text:?}");
    }
    assert_eq!(term.termios(), before, "the terminal's settings were not restored");
}
