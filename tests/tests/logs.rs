//! `logs` of detached and foreground containers: each line back on the
//! stream it came from, nothing lost, `--tail`, `-t` and `-f`.

use std::time::Duration;

use mydocker_tests::time::{now, parse_rfc3339};
use mydocker_tests::{test_env, TestEnv};

const LIMIT: Duration = Duration::from_secs(60);

/// Run `script` detached as `name` and wait until it has exited.
fn run_to_the_end(env: &TestEnv, name: &str, script: &str) -> String {
    let id = env.run_detached(&["--name", name, "busybox", "sh", "-c", script]);
    env.run_ok(&["wait", name]);
    id
}

#[test]
fn stdout_and_stderr_stay_apart() {
    let env = test_env!("logs_streams");
    let name = env.name("s");
    let id = run_to_the_end(&env, &name, "echo out; echo err >&2; echo out2; echo err2 >&2");
    let out = env.run_ok(&["logs", &name]);
    assert_eq!(out.stdout, "out\nout2\n", "logs' stdout should hold the stdout lines only\n{out}");
    assert_eq!(out.stderr, "err\nerr2\n", "logs' stderr should hold the stderr lines only\n{out}");

    // The file: one JSON object a line, each with its stream and time.
    let path = env.container_dir(&id).join("container.log");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut seen = Vec::new();
    for line in text.lines() {
        let rec: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}: a line is not JSON ({e}): {line}", path.display()));
        let time = rec["time"].as_str().unwrap_or_default();
        assert!(parse_rfc3339(time).is_some(), "not an RFC 3339 time in {line}");
        seen.push((
            rec["stream"].as_str().unwrap_or_default().to_string(),
            rec["log"].as_str().unwrap_or_default().to_string(),
        ));
    }
    seen.sort();
    let want: Vec<(String, String)> =
        [("stderr", "err\n"), ("stderr", "err2\n"), ("stdout", "out\n"), ("stdout", "out2\n")]
            .iter()
            .map(|(s, l)| (s.to_string(), l.to_string()))
            .collect();
    assert_eq!(seen, want, "{}:\n{text}", path.display());
}

#[test]
fn a_megabyte_on_each_stream_loses_nothing() {
    let env = test_env!("logs_big");
    let name = env.name("big");
    // Both streams at once: 150000 numbers on stdout, 10000 lines of 100 x on stderr.
    let script = "seq 1 150000 & head -c 1000000 /dev/zero | tr '\\0' x | fold -w 100 >&2; echo >&2; wait";
    run_to_the_end(&env, &name, script);
    let out = env.run_ok(&["logs", &name]);

    let want: String = (1..=150_000).map(|n| format!("{n}\n")).collect();
    let lines = out.stdout.lines().count();
    assert_eq!((lines, out.stdout.len()), (150_000, want.len()), "stdout lines and bytes (want 150000 lines)");
    assert!(out.stdout == want, "stdout holds every number, in order");
    let xs = "x".repeat(100);
    let err_lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!((err_lines.len(), out.stderr.len()), (10_000, 1_010_000), "stderr lines and bytes");
    assert!(err_lines.iter().all(|l| *l == xs), "every stderr line is 100 x");
}

#[test]
fn a_last_line_without_newline_comes_back_as_written() {
    let env = test_env!("logs_partial");
    let name = env.name("p");
    run_to_the_end(&env, &name, "printf 'a\\nb'; printf 'c' >&2");
    let out = env.run_ok(&["logs", &name]);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("a\nb", "c"), "{out}");
}

#[test]
fn tail_gives_the_last_lines() {
    let env = test_env!("logs_tail");
    let name = env.name("t");
    run_to_the_end(&env, &name, "seq 1 10");
    assert_eq!(env.stdout_of(&["logs", "--tail", "2", &name]), "9\n10\n");
    assert_eq!(env.stdout_of(&["logs", "--tail", "1", &name]), "10\n");
    assert_eq!(
        env.stdout_of(&["logs", "--tail", "100", &name]),
        (1..=10).map(|n| format!("{n}\n")).collect::<String>()
    );
}

#[test]
fn timestamps_are_rfc3339_times_of_the_run() {
    let env = test_env!("logs_time");
    let name = env.name("t");
    let before = now();
    run_to_the_end(&env, &name, "echo one; sleep 0.2; echo two; echo three >&2");
    let after = now();
    let out = env.run_ok(&["logs", "-t", &name]);
    let mut last = 0.0;
    let mut texts = Vec::new();
    for line in out.stdout.lines() {
        let (stamp, text) = line.split_once(' ').unwrap_or_else(|| panic!("no time prefix in {line:?}\n{out}"));
        let t = parse_rfc3339(stamp).unwrap_or_else(|| panic!("{stamp:?} is not an RFC 3339 time\n{out}"));
        assert!(t >= before - 2.0 && t <= after + 2.0, "{stamp} is not a time of the run\n{out}");
        assert!(t >= last, "times go backwards\n{out}");
        last = t;
        texts.push(text.to_string());
    }
    assert_eq!(texts, ["one", "two"], "{out}");
    let (stamp, text) = out.stderr.trim_end().split_once(' ').unwrap_or_else(|| panic!("no time on stderr\n{out}"));
    assert!(parse_rfc3339(stamp).is_some() && text == "three", "{out}");
}

#[test]
fn follow_shows_later_lines_and_returns_when_the_container_exits() {
    let env = test_env!("logs_follow");
    let name = env.name("f");
    let script = "echo first; echo first-err >&2; while [ ! -e /go ]; do sleep 0.1; done; \
                  echo after; echo after-err >&2; sleep 0.5; echo last; exit 2";
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", script]);
    let mut follow = env.spawn(&["logs", "-f", &name]);
    follow.wait_for_stdout("first\n", LIMIT);
    // The container waits for /go: logs -f must still be following.
    env.run_ok(&["exec", &name, "true"]);
    assert!(follow.is_running(), "logs -f returned while the container runs:\n{}", follow.stdout_so_far());
    env.run_ok(&["exec", &name, "touch", "/go"]);
    let out = follow.wait(Duration::from_secs(20));
    out.assert_success();
    assert_eq!(out.stdout, "first\nafter\nlast\n", "{out}");
    assert_eq!(out.stderr, "first-err\nafter-err\n", "{out}");
    assert_eq!(env.status(&name), "Exited (2)");

    // Following an exited container prints everything and returns.
    let again = env.run_ok(&["logs", "-f", &name]);
    assert_eq!(again.stdout, "first\nafter\nlast\n", "{again}");
}

#[test]
fn follow_loses_nothing_of_output_written_while_it_reads() {
    let env = test_env!("logs_follow_big");
    let name = env.name("f");
    let script = "echo start; while [ ! -e /go ]; do sleep 0.1; done; seq 1 200000; seq 1 50000 >&2";
    env.run_detached(&["--name", &name, "busybox", "sh", "-c", script]);
    let mut follow = env.spawn(&["logs", "-f", &name]);
    follow.wait_for_stdout("start\n", LIMIT);
    env.run_ok(&["exec", &name, "touch", "/go"]);
    let out = follow.wait(LIMIT);
    out.assert_success();
    let want_out: String =
        std::iter::once("start\n".to_string()).chain((1..=200_000).map(|n| format!("{n}\n"))).collect();
    let want_err: String = (1..=50_000).map(|n| format!("{n}\n")).collect();
    assert_eq!(out.stdout.lines().count(), 200_001, "stdout lines");
    assert!(out.stdout == want_out, "stdout holds every line, in order, once");
    assert_eq!(out.stderr.lines().count(), 50_000, "stderr lines");
    assert!(out.stderr == want_err, "stderr holds every line, in order, once");
}

#[test]
fn a_detached_t_container_logs_its_terminal() {
    let env = test_env!("logs_tty");
    let name = env.name("t");
    env.run_detached(&["-t", "--name", &name, "busybox", "sh", "-c", "tty; echo hi"]);
    env.run_ok(&["wait", &name]);
    let out = env.run_ok(&["logs", &name]);
    let lines: Vec<&str> = out.stdout.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert!(lines.len() == 2 && lines[0].starts_with("/dev/pts/") && lines[1] == "hi", "{out}");
}

#[test]
fn logs_of_an_unknown_container_fail() {
    let env = test_env!("logs_unknown");
    let out = env.mydocker(&["logs", "no-such-container"]);
    out.assert_failure();
    assert!(out.stderr.contains("no-such-container"), "the error should name the container\n{out}");
}

#[test]
fn a_foreground_run_prints_its_output_and_keeps_it_in_its_log() {
    // As docker: `run` without -d shows the output and `logs` has it after.
    let env = test_env!("logs_foreground");
    let name = env.name("fg");
    let script = "echo out; echo err >&2; echo out2; printf 'no newline'";
    let run = env.mydocker(&["run", "--name", &name, "busybox", "sh", "-c", &format!("{script}; exit 3")]);
    run.assert_code(3);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("out\nout2\nno newline", "err\n"), "{run}");
    let logs = env.run_ok(&["logs", &name]);
    assert_eq!((logs.stdout.as_str(), logs.stderr.as_str()), ("out\nout2\nno newline", "err\n"), "{logs}");
    // The stdin of a foreground run without -i is /dev/null, as before.
    let out = env.with_stdin(&["run", "--rm", "busybox", "cat"], b"not passed on");
    out.assert_success();
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn a_foreground_run_with_a_terminal_keeps_its_output_in_its_log() {
    let env = test_env!("logs_foreground_tty");
    let name = env.name("fgt");
    env.mydocker(&["run", "-t", "--name", &name, "busybox", "echo", "on-a-tty"]).assert_success();
    let logs = env.run_ok(&["logs", &name]);
    assert_eq!(logs.stdout.replace('\r', ""), "on-a-tty\n", "{logs}");
}

#[test]
fn a_foreground_run_with_rm_keeps_no_log_and_leaves_nothing() {
    let env = test_env!("logs_foreground_rm");
    let out = env.mydocker(&["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2"]);
    out.assert_success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("out\n", "err\n"), "{out}");
    assert!(env.container_dirs().is_empty(), "an --rm run left {:?}", env.container_dirs());
}

#[test]
fn a_foreground_run_whose_reader_goes_away_ends_as_with_a_plain_pipe() {
    // `run ... | head -2`: once head has gone, the container's next write
    // fails as it would writing to head itself; it does not run on into
    // its log.
    let env = test_env!("logs_foreground_epipe");
    let name = env.name("p");
    let script = format!(
        "{} --root {} run --name {name} busybox seq 1 100000000 | head -2",
        mydocker_tests::mydocker_bin().display(),
        env.root().display()
    );
    let started = std::time::Instant::now();
    let out = std::process::Command::new("sh").arg("-c").arg(&script).output().expect("running sh");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n2\n");
    assert!(started.elapsed() < Duration::from_secs(20), "the run went on for {:?}", started.elapsed());
    let status = env.status(&name);
    assert!(status.starts_with("Exited (") && status != "Exited (0)", "seq should have failed to write: {status}");
    let logged = env.run_ok(&["logs", &name]).stdout.lines().count();
    assert!(logged < 1_000_000, "{logged} lines logged after the reader went away");
}
