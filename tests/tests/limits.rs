//! Resource limits on the real kernel (cgroup v1 on this project's machines;
//! the same commands drive v2 where the host has it): bad values refused,
//! memory (OOM kill), pids, CPU quota and cpuset, stats, pause, update, and
//! no cgroup left after a container goes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mydocker_tests::{test_env, TestEnv};

fn inspect(env: &TestEnv, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&env.stdout_of(&["inspect", name])).expect("inspect json");
    v[0].clone()
}

/// Every folder of the container's cgroup, from its record.
fn cgroup_dirs(info: &serde_json::Value) -> Vec<PathBuf> {
    info["Cgroup"]["dirs"]
        .as_object()
        .map(|m| m.values().filter_map(|pair| pair[1].as_str().map(PathBuf::from)).collect())
        .unwrap_or_default()
}

fn eventually(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "not within {secs}s: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_limits_are_refused_before_anything_is_made() {
    let env = test_env!("lim_bad");
    for args in [
        vec!["-m", "abc"],
        vec!["-m", "1k"],
        vec!["--cpus", "-1"],
        vec!["--cpus", "1000"],
        vec!["--cpuset-cpus", "999"],
        vec!["--pids-limit", "-5"],
        vec!["--memory-swap", "1g"],
        vec!["--cpu-shares", "1"],
        vec!["--cgroup-parent", "relative"],
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(args.iter().copied());
        cmd.extend(["busybox", "true"]);
        let out = env.mydocker(&cmd);
        out.assert_code(125);
        assert!(out.stderr.contains("invalid"), "no clear message for {args:?}\n{out}");
        assert!(env.container_dirs().is_empty(), "{args:?} made a container");
    }
}

#[test]
fn over_its_memory_limit_a_container_is_oom_killed() {
    let env = test_env!("lim_oom");
    let name = env.name("hog");
    env.mydocker(&["run", "--name", &name, "-m", "16m", "busybox", "sh", "-c", "x=a; while :; do x=$x$x; done"])
        .assert_code(137);
    let info = inspect(&env, &name);
    assert_eq!(info["State"]["OOMKilled"], true, "{info}");
    assert_eq!(info["State"]["ExitCode"], 137);
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit() {
    let env = test_env!("lim_pids");
    let bomb = "i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; echo all-started";
    let limited = env.mydocker(&["run", "--rm", "--pids-limit", "10", "busybox", "sh", "-c", bomb]);
    assert!(!limited.stdout.contains("all-started"), "40 processes started under a limit of 10\n{limited}");
    assert!(limited.stderr.contains("can't fork"), "{limited}");
    // Without the limit the same script starts them all: the limit, not the script, stopped it.
    let free = env.mydocker(&["run", "--rm", "busybox", "sh", "-c", bomb]);
    assert!(free.stdout.contains("all-started"), "{free}");
}

#[test]
fn cpus_half_holds_a_busy_loop_to_about_half_a_core() {
    let env = test_env!("lim_cpus");
    let name = env.name("busy");
    env.run_ok(&["run", "-d", "--name", &name, "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done"]);
    let dirs = cgroup_dirs(&inspect(&env, &name));
    let cpu = dirs
        .iter()
        .find(|d| d.join("cpuacct.usage").exists())
        .or_else(|| dirs.iter().find(|d| d.join("cgroup.controllers").exists()))
        .cloned();
    let usage = |d: &PathBuf| -> u64 {
        std::fs::read_to_string(d.join("cpuacct.usage"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .or_else(|| {
                std::fs::read_to_string(d.join("cpu.stat")).ok().and_then(|s| {
                    s.lines().find_map(|l| l.strip_prefix("usage_usec ").and_then(|v| v.parse::<u64>().ok()).map(|u| u * 1000))
                })
            })
            .unwrap_or(0)
    };
    let d = cpu.expect("a cpu cgroup in the record");
    let (t0, u0) = (Instant::now(), usage(&d));
    std::thread::sleep(Duration::from_secs(2));
    let share = (usage(&d) - u0) as f64 / t0.elapsed().as_nanos() as f64;
    // The limit is the upper bound; the lower one only shows the loop ran (the
    // machine may be busy with other tests).
    assert!((0.1..=0.7).contains(&share), "used {share:.2} of a core under --cpus 0.5");
    env.run_ok(&["rm", "-f", &name]);
}

#[test]
fn cpuset_pins_the_container_to_its_cpus() {
    let env = test_env!("lim_cpuset");
    let cpus = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    if cpus.trim() == "0" {
        eprintln!("skipped: one CPU");
        return;
    }
    let out = env.stdout_of(&["run", "--rm", "--cpuset-cpus", "1", "busybox", "grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert_eq!(out.split_whitespace().last(), Some("1"), "{out}");
}

#[test]
fn stats_pause_unpause_update_and_no_cgroup_left() {
    let env = test_env!("lim_ops");
    let name = env.name("svc");
    env.run_ok(&["run", "-d", "--name", &name, "-m", "64m", "busybox", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.05; done"]);
    let info = inspect(&env, &name);
    let dirs = cgroup_dirs(&info);
    // cpu and cpuset folders are made only once a limit needs them.
    assert!(dirs.iter().any(|d| d.is_dir()), "{info}");

    let stats = env.stdout_of(&["stats", "--no-stream", &name]);
    assert!(stats.contains(&name) && stats.contains("/ 67.109MB"), "{stats}");

    env.run_ok(&["pause", &name]);
    assert_eq!(env.row_of(&name).unwrap().get("STATUS"), "Up (Paused)");
    let upper = env.container_dir(&env.id_of(&name)).join("upper/count");
    let frozen = std::fs::read_to_string(&upper).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(std::fs::read_to_string(&upper).unwrap(), frozen, "the counter moved while paused");
    env.run_ok(&["unpause", &name]);
    eventually(5, "the counter to move again", || std::fs::read_to_string(&upper).unwrap() != frozen);

    env.run_ok(&["update", "--memory", "128m", "--cpus", "0.5", &name]);
    let mem = dirs.iter().find(|d| d.join("memory.limit_in_bytes").exists()).map(|d| d.join("memory.limit_in_bytes"));
    if let Some(f) = mem {
        assert_eq!(std::fs::read_to_string(f).unwrap().trim(), (128u64 << 20).to_string());
    }
    let after = inspect(&env, &name);
    assert_eq!(after["Resources"]["memory"]["limit"], 128u64 << 20);
    assert_eq!(after["Resources"]["cpu"]["quota"], 50_000);
    // The cpu folder made by update holds the container's processes.
    let pid = after["State"]["Pid"].as_i64().unwrap();
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cgroups.lines().any(|l| l.contains(":cpu") && l.contains("mydocker-")), "{cgroups}");

    env.run_ok(&["pause", &name]);
    env.run_ok(&["rm", "-f", &name]);
    for d in &dirs {
        assert!(!d.exists(), "cgroup {} left after rm -f", d.display());
    }
}

#[test]
fn stop_of_a_paused_container_ends_it_and_removes_its_cgroup() {
    let env = test_env!("lim_stop_paused");
    let name = env.name("p");
    env.run_ok(&["run", "-d", "--name", &name, "busybox", "sleep", "60"]);
    let dirs = cgroup_dirs(&inspect(&env, &name));
    env.run_ok(&["pause", &name]);
    let t = Instant::now();
    env.run_ok(&["stop", "-t", "1", &name]);
    assert!(t.elapsed() < Duration::from_secs(8));
    assert!(env.row_of(&name).unwrap().get("STATUS").starts_with("Exited"));
    for d in &dirs {
        assert!(!d.exists(), "cgroup {} left after stop", d.display());
    }
}
