//! A mydocker killed with SIGKILL at any point of a run leaves nothing that
//! `rm -f` cannot clean up: no folder, name, process, mount or cgroup that
//! no listed container owns, and the name can be used again.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mydocker_tests::{host, test_env, unique, TestEnv};

const LIMIT: Duration = Duration::from_secs(60);

/// The `mydocker-*` cgroups beneath this test's own cgroup, in the v1
/// controllers mydocker always uses (or the unified hierarchy).
fn our_cgroups() -> BTreeSet<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut found = BTreeSet::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let mount = match controllers {
            "memory" => "/sys/fs/cgroup/memory",
            "pids" => "/sys/fs/cgroup/pids",
            "" if !std::path::Path::new("/sys/fs/cgroup/memory").exists() => "/sys/fs/cgroup",
            _ => continue,
        };
        let dir = PathBuf::from(mount).join(path.trim_start_matches('/'));
        for name in host::entries(&dir) {
            if name.starts_with("mydocker-") {
                found.insert(dir.join(name));
            }
        }
        // v2 away from the root: beneath /mydocker.
        for name in host::entries(&PathBuf::from(mount).join("mydocker")) {
            found.insert(PathBuf::from(mount).join("mydocker").join(name));
        }
    }
    found
}

/// `rm -f` every listed container, then check nothing is left. A killed
/// `run -d` may have left its monitor starting the container; it finds the
/// container removed and gives back what it made, so the last checks wait
/// a little for that.
fn clean_and_check(env: &TestEnv, marker: &str, cgroups_before: &BTreeSet<PathBuf>, after: &str) {
    let ids = env.ps_ids();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(|s| s.as_str()));
        env.run_ok(&args);
    }
    let root = env.root().to_string_lossy().into_owned();
    let leftovers = || {
        let mut left = Vec::new();
        left.extend(env.container_dirs().into_iter().map(|d| format!("containers/{d}")));
        left.extend(env.names().into_iter().map(|n| format!("names/{n}")));
        left.extend(host::processes_mentioning(&root).into_iter().map(|p| format!("process {} `{}`", p.pid, p.cmdline)));
        left.extend(host::processes_mentioning(marker).into_iter().map(|p| format!("process {} `{}`", p.pid, p.cmdline)));
        left.extend(our_cgroups().difference(cgroups_before).map(|c| format!("cgroup {}", c.display())));
        left
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !leftovers().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = leftovers();
    assert!(left.is_empty(), "{after}: left after rm -f of every listed container: {left:#?}");
    env.assert_no_mounts();
}

fn kill_run_at(env: &TestEnv, args: &[&str], after: Duration) {
    let run = env.spawn(args);
    std::thread::sleep(after);
    // SAFETY: plain syscall on our own child, not yet reaped.
    unsafe { libc::kill(run.pid() as i32, libc::SIGKILL) };
    let _ = run.wait(LIMIT);
}

#[test]
fn a_run_killed_at_any_point_leaves_nothing_rm_f_cannot_clean() {
    let env = test_env!("killed_runs");
    let before = our_cgroups();
    let name = env.name("k");
    let marker = unique("killed");
    let script = format!("sleep 3600; : {marker}");
    // From before anything is made to after the container runs, in steps
    // of half a millisecond, in the foreground and detached.
    for step in 0..40u64 {
        let after = Duration::from_micros(step * 500);
        for detach in [false, true] {
            let mut args = vec!["run"];
            if detach {
                args.push("-d");
            }
            args.extend(["--name", &name, "-m", "64m", "busybox", "sh", "-c", &script]);
            kill_run_at(&env, &args, after);
            clean_and_check(&env, &marker, &before, &format!("run (-d: {detach}) killed after {after:?}"));
        }
    }
    // The name is free again.
    env.run_ok(&["run", "--rm", "--name", &name, "busybox", "true"]);
}
