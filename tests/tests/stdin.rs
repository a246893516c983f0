//! The container's standard input: mydocker's with `-i`, /dev/null without.

use std::time::{Duration, Instant};

use mydocker_tests::test_env;

#[test]
fn with_i_stdin_reaches_the_command() {
    let env = test_env!("stdin_i");
    let out = env.with_stdin(&["run", "-i", "--rm", "busybox", "cat"], b"hi\n");
    out.assert_success();
    assert_eq!(out.stdout, "hi\n", "{out}");
}

#[test]
fn with_i_a_megabyte_passes_whole() {
    let env = test_env!("stdin_big");
    let data: Vec<u8> = (0..1_048_576u32).map(|i| (i % 251) as u8).collect();
    let out = env.with_stdin(&["run", "-i", "--rm", "busybox", "wc", "-c"], &data);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "1048576", "{out}");
    let out = env.with_stdin(&["run", "-i", "--rm", "busybox", "md5sum"], &data);
    out.assert_success();
    let host = std::process::Command::new("/bin/busybox")
        .arg("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&data)?;
            c.wait_with_output()
        })
        .expect("md5sum on the host");
    let want = String::from_utf8_lossy(&host.stdout).split_whitespace().next().unwrap_or("").to_string();
    assert_eq!(out.stdout.split_whitespace().next(), Some(want.as_str()), "the data changed on its way in\n{out}");
}

#[test]
fn without_i_stdin_is_empty() {
    let env = test_env!("stdin_none");
    // mydocker's stdin is a pipe the test keeps open and writes to: if the
    // container read it, `cat` would print the line, or wait forever.
    let mut run = env.spawn(&["run", "--rm", "busybox", "cat"]);
    run.write_stdin(b"must not arrive\n");
    let started = Instant::now();
    let out = run.wait(Duration::from_secs(20));
    out.assert_success();
    assert_eq!(out.stdout, "", "without -i the container read mydocker's stdin\n{out}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn output_streams_stay_apart() {
    let env = test_env!("stdio_split");
    let out = env.run_ok(&["run", "--rm", "busybox", "sh", "-c", "echo to-out; echo to-err >&2"]);
    assert_eq!(out.stdout, "to-out\n", "{out}");
    assert!(out.stderr.contains("to-err"), "{out}");
    assert!(!out.stdout.contains("to-err") && !out.stderr.contains("to-out"), "{out}");
}
