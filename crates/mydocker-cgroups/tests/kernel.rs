//! A container's cgroup on the real kernel: made beneath this test's own
//! cgroup (or a --cgroup-parent), limits read back from the kernel's files,
//! a process joined, stats, pause and unpause, removed from every controller.
//! Needs root; skipped with a message otherwise. Makes only cgroups named
//! `mydocker-test-*`, and a guard removes them even when a check fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use mydocker_cgroups::{
    for_container, open_recorded, record_of, CgroupManager, Resources, Version,
};

fn root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    eprintln!("skipped: cgroups on the real kernel need root");
    false
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.join(file).display()))
        .trim()
        .to_string()
}

/// Cleans up whatever a test made, in the order the kernel needs: thaw (a
/// frozen v1 task does not die), kill and reap the child, rmdir the
/// container's folders, then any parent folders the test asked for.
struct Guard {
    child: Option<Child>,
    dirs: Vec<PathBuf>,
    parents: Vec<PathBuf>,
}

impl Guard {
    fn new(cg: &dyn CgroupManager) -> Guard {
        let mut dirs: Vec<PathBuf> = cg.record().dirs.into_values().map(|(_, d)| d).collect();
        dirs.sort();
        dirs.dedup();
        Guard {
            child: None,
            dirs,
            parents: Vec::new(),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = std::fs::write(d.join("freezer.state"), "THAWED");
            let _ = std::fs::write(d.join("cgroup.freeze"), "0");
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for d in self.dirs.iter().chain(&self.parents) {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn sleeper() -> Child {
    Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawning sleep 30")
}

#[test]
fn a_containers_cgroup_limits_holds_pauses_and_goes() {
    if !root() {
        return;
    }
    let name = format!("mydocker-test-{}", std::process::id());
    let cg = for_container(&name, None).expect("a handle on the cgroup");
    // The record names every controller's folder, made or not yet.
    let guard = &mut Guard::new(cg.as_ref());

    cg.create().expect("making the cgroup");
    let limits = Resources {
        memory: Some(64 << 20),
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        cpuset_cpus: Some("0".into()),
        pids_limit: Some(10),
        ..Default::default()
    };
    cg.apply(&limits).expect("applying limits");
    let child = guard.child.insert(sleeper());
    let pid = child.id() as i32;
    cg.add_task(pid).expect("joining the child");

    let rec = cg.record();
    let dir = |c: &str| rec.dirs[c].1.clone();
    for (mount, d) in rec.dirs.values() {
        assert!(
            d.starts_with(mount) && d.ends_with(&name),
            "{} is not a folder {name} under {}",
            d.display(),
            mount.display()
        );
        assert!(d.is_dir(), "{} was not made", d.display());
        assert!(
            read(d, "cgroup.procs")
                .lines()
                .any(|l| l == pid.to_string()),
            "child not in {}",
            d.display()
        );
    }
    match cg.version() {
        Version::V1 => {
            // Beneath this process's own cgroup of each controller.
            let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
            let mem_own = own
                .lines()
                .find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string()))
                .unwrap();
            assert_eq!(
                dir("memory"),
                rec.dirs["memory"]
                    .0
                    .join(mem_own.trim_start_matches('/'))
                    .join(&name)
            );
            assert_eq!(
                read(&dir("memory"), "memory.limit_in_bytes"),
                (64u64 << 20).to_string()
            );
            assert_eq!(read(&dir("cpu"), "cpu.cfs_quota_us"), "50000");
            assert_eq!(read(&dir("cpu"), "cpu.cfs_period_us"), "100000");
            assert_eq!(read(&dir("cpuset"), "cpuset.cpus"), "0");
            assert!(
                !read(&dir("cpuset"), "cpuset.mems").is_empty(),
                "cpuset.mems not filled from the parent"
            );
            assert_eq!(read(&dir("pids"), "pids.max"), "10");
        }
        Version::V2 => {
            let d = dir("unified");
            assert_eq!(read(&d, "memory.max"), (64u64 << 20).to_string());
            assert_eq!(read(&d, "cpu.max"), "50000 100000");
            assert_eq!(read(&d, "cpuset.cpus"), "0");
            assert_eq!(read(&d, "pids.max"), "10");
        }
    }

    // Another mydocker process finds it again from the container's record.
    let again = open_recorded(&record_of(cg.as_ref())).expect("reopening from the record");
    assert_eq!(again.pids().unwrap(), vec![pid]);
    let s = again.stats().expect("stats");
    assert_eq!(s.pids, 1, "{s:?}");
    assert_eq!(s.memory_limit, Some(64 << 20), "{s:?}");
    // memory_usage may read 0: v1 does not move a task's existing charge
    // with it, and sleep allocates nothing after joining.

    again.freeze().expect("freezing");
    match cg.version() {
        Version::V1 => assert_eq!(read(&dir("freezer"), "freezer.state"), "FROZEN"),
        Version::V2 => assert!(read(&dir("unified"), "cgroup.events").contains("frozen 1")),
    }
    // A paused container does not act on a signal until it is unpaused.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let child = guard.child.as_mut().unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "a frozen child acted on SIGTERM"
    );
    again.thaw().expect("thawing");
    if cg.version() == Version::V1 {
        assert_eq!(read(&dir("freezer"), "freezer.state"), "THAWED");
    }
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(15),
        "{status:?}"
    );
    guard.child = None;

    again.remove().expect("removing");
    for (_, d) in rec.dirs.values() {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    again.remove().expect("removing a removed cgroup is fine");
}

#[test]
fn cgroup_parent_is_used_for_every_controller_and_a_frozen_cgroup_is_removed() {
    if !root() {
        return;
    }
    let parent = format!("/mydocker-test-parent-{}", std::process::id());
    let name = format!("mydocker-test-{}-p", std::process::id());
    let cg = for_container(&name, Some(&parent)).expect("a handle on the cgroup");
    let mut guard = Guard::new(cg.as_ref());
    for (mount, _) in cg.record().dirs.values() {
        guard
            .parents
            .push(mount.join(parent.trim_start_matches('/')));
    }
    guard.parents.sort();
    guard.parents.dedup();

    cg.create().expect("making the cgroup beneath the parent");
    cg.apply(&Resources {
        cpu_shares: Some(512),
        cpuset_mems: Some("0".into()),
        ..Default::default()
    })
    .expect("applying");
    for (mount, d) in cg.record().dirs.values() {
        assert_eq!(*d, mount.join(parent.trim_start_matches('/')).join(&name));
        assert!(d.is_dir(), "{} was not made", d.display());
    }
    cg.freeze().expect("freezing an empty cgroup");
    cg.remove()
        .expect("removing a frozen cgroup thaws it first");
    for (_, d) in cg.record().dirs.values() {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    drop(guard);
    for p in cg
        .record()
        .dirs
        .values()
        .map(|(m, _)| m.join(parent.trim_start_matches('/')))
    {
        assert!(!p.exists(), "{} left behind by the test", p.display());
    }
}
