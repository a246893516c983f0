//! The options of `mydocker run`: environment, working directory, volumes,
//! the command's arguments, the hostname.

use std::fs;

use mydocker_tests::test_env;

#[test]
fn env_flags_and_env_file_reach_the_command() {
    let env = test_env!("opt_env");
    let file = env.scratch().join("vars.env");
    fs::write(&file, "# a comment line\nFROM_FILE=file value\n\n  # indented comment\nWITH_EQUALS=a=b\n").unwrap();
    let mut cmd = env.command(&[
        "run",
        "--rm",
        "-e",
        "FOO=bar",
        "--env",
        "SPACED=a b  c",
        "-e",
        "MYDOCKER_TEST_PASSED",
        "--env-file",
        &file.to_string_lossy(),
        "busybox",
        "env",
    ]);
    cmd.env("MYDOCKER_TEST_PASSED", "from host").env("MYDOCKER_TEST_NOT_PASSED", "secret");
    let out = env.run_command(cmd);
    out.assert_success();
    let lines = out.lines();
    for want in [
        "FOO=bar",
        "SPACED=a b  c",
        "MYDOCKER_TEST_PASSED=from host",
        "FROM_FILE=file value",
        "WITH_EQUALS=a=b",
        "HOME=/root",
    ] {
        assert!(lines.iter().any(|l| l == want), "`env` lacks {want:?}\n{out}");
    }
    assert!(lines.iter().any(|l| l.starts_with("HOSTNAME=")), "`env` lacks HOSTNAME\n{out}");
    assert!(!out.stdout.contains('#'), "a comment line of --env-file became a variable\n{out}");
    assert!(!out.stdout.contains("MYDOCKER_TEST_NOT_PASSED"), "a host variable leaked into the container\n{out}");
}

#[test]
fn later_env_flag_wins() {
    let env = test_env!("opt_env_order");
    let out = env.run_ok(&["run", "--rm", "-e", "X=1", "-e", "X=2", "busybox", "sh", "-c", "echo $X"]);
    assert_eq!(out.stdout, "2\n", "{out}");
}

#[test]
fn missing_env_file_is_125() {
    let env = test_env!("opt_env_file_missing");
    let missing = env.scratch().join("no-such.env");
    let out = env.mydocker(&["run", "--rm", "--env-file", &missing.to_string_lossy(), "busybox", "true"]);
    out.assert_code(125);
    assert!(out.stderr.contains("no-such.env"), "the error should name the file\n{out}");
}

#[test]
fn workdir_is_created_and_used() {
    let env = test_env!("opt_workdir");
    let out = env.run_ok(&["run", "--rm", "-w", "/some/new/dir", "busybox", "pwd"]);
    assert_eq!(out.stdout, "/some/new/dir\n", "{out}");
    let out = env.run_ok(&["run", "--rm", "--workdir", "/tmp", "busybox", "sh", "-c", "pwd; touch here; ls /tmp"]);
    assert_eq!(out.lines(), vec!["/tmp", "here"], "{out}");
    // Without -w: the image's root.
    let out = env.run_ok(&["run", "--rm", "busybox", "pwd"]);
    assert_eq!(out.stdout, "/\n", "{out}");
}

#[test]
fn volume_shares_files_both_ways() {
    let env = test_env!("opt_volume");
    let host_dir = env.scratch().join("shared");
    fs::create_dir(&host_dir).unwrap();
    fs::write(host_dir.join("from-host"), "hello from host\n").unwrap();
    let spec = format!("{}:/data", host_dir.display());
    let out = env.run_ok(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "cat /data/from-host; echo written > /data/from-ctr",
    ]);
    assert_eq!(out.stdout, "hello from host\n", "{out}");
    assert_eq!(fs::read_to_string(host_dir.join("from-ctr")).unwrap(), "written\n");
}

#[test]
fn volume_host_dir_is_created_when_missing() {
    let env = test_env!("opt_volume_new");
    let host_dir = env.scratch().join("made/by/mydocker");
    let spec = format!("{}:/deep/in/ctr", host_dir.display());
    env.run_ok(&["run", "--rm", "-v", &spec, "busybox", "sh", "-c", "echo x > /deep/in/ctr/f"]);
    assert!(host_dir.is_dir(), "-v did not make the host folder {}", host_dir.display());
    assert_eq!(fs::read_to_string(host_dir.join("f")).unwrap(), "x\n");
}

#[test]
fn two_volumes() {
    let env = test_env!("opt_volume_two");
    let (a, b) = (env.scratch().join("a"), env.scratch().join("b"));
    let (va, vb) = (format!("{}:/a", a.display()), format!("{}:/b", b.display()));
    env.run_ok(&["run", "--rm", "-v", &va, "-v", &vb, "busybox", "sh", "-c", "echo 1 > /a/f && echo 2 > /b/f"]);
    assert_eq!(fs::read_to_string(a.join("f")).unwrap(), "1\n");
    assert_eq!(fs::read_to_string(b.join("f")).unwrap(), "2\n");
}

#[test]
fn read_only_volume_refuses_writes() {
    let env = test_env!("opt_volume_ro");
    let host_dir = env.scratch().join("ro");
    fs::create_dir(&host_dir).unwrap();
    fs::write(host_dir.join("existing"), "readable\n").unwrap();
    let spec = format!("{}:/data:ro", host_dir.display());
    let out = env.run_ok(&["run", "--rm", "-v", &spec, "busybox", "cat", "/data/existing"]);
    assert_eq!(out.stdout, "readable\n", "{out}");
    let out = env.mydocker(&["run", "--rm", "-v", &spec, "busybox", "sh", "-c", "echo x > /data/new"]);
    out.assert_failure();
    assert!(!host_dir.join("new").exists(), "a write through a :ro volume reached the host");
    let out = env.mydocker(&["run", "--rm", "-v", &spec, "busybox", "rm", "/data/existing"]);
    out.assert_failure();
    assert!(host_dir.join("existing").exists(), "a :ro volume let a file be deleted");
}

#[test]
fn command_gets_all_its_arguments() {
    let env = test_env!("opt_args");
    let out = env.run_ok(&["run", "--rm", "busybox", "echo", "a", "b c"]);
    assert_eq!(out.stdout, "a b c\n", "{out}");
    let out = env.run_ok(&["run", "--rm", "busybox", "sh", "-c", "echo $#", "x", "1", "2", "3"]);
    assert_eq!(out.stdout, "3\n", "{out}");
    let out = env.run_ok(&["run", "--rm", "busybox", "sh", "-c", "printf '[%s]' \"$@\"", "x", "", "two words", "*"]);
    assert_eq!(out.stdout, "[][two words][*]", "{out}");
    // Arguments that look like flags belong to the command, not to mydocker.
    let out = env.run_ok(&["run", "--rm", "busybox", "echo", "-n", "--rm", "-e", "X=1"]);
    assert_eq!(out.stdout, "--rm -e X=1", "{out}");
}

#[test]
fn hostname_flag_sets_the_hostname() {
    let env = test_env!("opt_hostname");
    let out = env.run_ok(&["run", "--rm", "--hostname", "myhost", "busybox", "sh", "-c", "hostname; echo $HOSTNAME"]);
    assert_eq!(out.lines(), vec!["myhost", "myhost"], "{out}");
}

#[test]
fn default_hostname_is_the_short_id() {
    let env = test_env!("opt_hostname_default");
    let name = env.name("hn");
    let out = env.run_ok(&["run", "--name", &name, "busybox", "sh", "-c", "hostname; echo $HOSTNAME"]);
    let id = env.id_of(&name);
    let short = &id[..12];
    assert_eq!(out.lines(), vec![short, short], "hostname should be the 12-char short ID {short}\n{out}");
    assert_eq!(env.ps_ids(), vec![short.to_string()]);
    let row = env.row_of(&name).expect("listed");
    assert_eq!(row.get("CONTAINER ID"), short);
}
