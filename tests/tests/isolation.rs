//! What a container is cut off from: the host's hostname, processes,
//! network, mounts, and other containers' files.

use std::fs;
use std::time::Duration;

use mydocker_tests::{host, test_env, unique};

#[test]
fn own_namespaces() {
    let env = test_env!("iso_ns");
    let kinds = ["uts", "pid", "mnt", "ipc", "net"];
    let script: String = kinds.iter().map(|k| format!("readlink /proc/self/ns/{k}; ")).collect();
    let out = env.run_ok(&["run", "--rm", "busybox", "sh", "-c", &script]);
    let inside = out.lines();
    assert_eq!(inside.len(), kinds.len(), "{out}");
    for (kind, ns) in kinds.iter().zip(&inside) {
        let on_host = host::namespace(kind);
        assert!(ns.starts_with(&format!("{kind}:[")), "{out}");
        assert_ne!(*ns, on_host, "the container shares the host's {kind} namespace");
    }
}

#[test]
fn hostname_differs_from_the_hosts() {
    let env = test_env!("iso_hostname");
    let out = env.run_ok(&["run", "--rm", "busybox", "hostname"]);
    let inside = out.stdout.trim();
    assert!(!inside.is_empty());
    assert_ne!(inside, host::hostname(), "the container sees the host's hostname");
    // Setting it for a container leaves the host's alone.
    let before = host::hostname();
    env.run_ok(&["run", "--rm", "--hostname", "changed-for-ctr", "busybox", "true"]);
    assert_eq!(host::hostname(), before);
}

#[test]
fn command_is_pid_1_and_sees_only_its_processes() {
    let env = test_env!("iso_pid");
    let out = env.run_ok(&["run", "--rm", "busybox", "sh", "-c", "echo $$"]);
    assert_eq!(out.stdout, "1\n", "{out}");
    // `sleep` in the background (waited for), then ps: sh (1), sleep and ps, nothing of the host.
    let out = env.run_ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "sleep 30 & until ps -o comm | grep -q sleep; do :; done; ps -o pid,comm; kill $!",
    ]);
    let rows: Vec<(u32, String)> = out
        .lines()
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("bad ps line {l:?}\n{out}"));
            (pid, f.next().unwrap_or("").to_string())
        })
        .collect();
    let comms: Vec<&str> = rows.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(comms, vec!["sh", "sleep", "ps"], "ps inside should list only the container's processes\n{out}");
    assert_eq!(rows[0].0, 1, "{out}");
}

#[test]
fn only_loopback_and_it_is_up() {
    let env = test_env!("iso_net");
    let out = env.run_ok(&["run", "--rm", "busybox", "ls", "/sys/class/net"]);
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), vec!["lo"], "{out}");
    let out = env.run_ok(&["run", "--rm", "busybox", "cat", "/sys/class/net/lo/flags"]);
    let flags = u32::from_str_radix(out.stdout.trim().trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("{out}"));
    assert!(flags & libc::IFF_UP as u32 != 0, "lo is down inside the container (flags {flags:#x})");
}

#[test]
fn standard_mounts_inside() {
    let env = test_env!("iso_mounts");
    let out = env.run_ok(&["run", "--rm", "busybox", "cat", "/proc/mounts"]);
    let entries: Vec<Vec<&str>> = out.stdout.lines().map(|l| l.split(' ').collect()).collect();
    let find = |mp: &str| {
        entries.iter().rev().find(|e| e.get(1) == Some(&mp)).unwrap_or_else(|| panic!("no mount at {mp} inside\n{out}"))
    };
    assert_eq!(find("/")[2], "overlay", "the root should be an overlay\n{out}");
    assert_eq!(find("/proc")[2], "proc", "{out}");
    assert_eq!(find("/dev")[2], "tmpfs", "{out}");
    assert_eq!(find("/dev/pts")[2], "devpts", "{out}");
    assert_eq!(find("/dev/shm")[2], "tmpfs", "{out}");
    let sys = find("/sys");
    assert_eq!(sys[2], "sysfs", "{out}");
    assert!(sys[3].split(',').any(|o| o == "ro"), "/sys should be read-only\n{out}");
    // None of the host's own mount points show through.
    for m in host::mounts() {
        let mp = m.mount_point.to_string_lossy().into_owned();
        if mp != "/" && !["/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"].iter().any(|p| mp.starts_with(p)) {
            assert!(!entries.iter().any(|e| e.get(1) == Some(&mp.as_str())), "the host mount {mp} shows inside\n{out}");
        }
    }
}

#[test]
fn host_mount_table_is_untouched_during_and_after_a_run() {
    let env = test_env!("iso_host_mounts");
    let name = env.name("up");
    let before = host::mounts();
    let mut run = env.spawn(&[
        "run",
        "-i",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "cat /proc/mounts; echo READY; read line; echo bye",
    ]);
    let inside = run.wait_for_stdout("READY", Duration::from_secs(30));
    env.wait_until_up(&name);
    // During: nothing of the container is mounted on the host.
    env.assert_no_mounts();
    let during = host::mounts();
    assert!(
        inside.lines().any(|l| l.split(' ').nth(1) == Some("/") && l.split(' ').nth(2) == Some("overlay")),
        "the container's / should be its own overlay, not the host's\n{inside}"
    );
    run.write_stdin(b"go\n");
    run.close_stdin();
    let out = run.wait(Duration::from_secs(30));
    out.assert_success();
    assert!(out.stdout.ends_with("bye\n"), "{out}");
    env.assert_no_mounts();
    // Other mounts on this shared machine may come and go; none may appear
    // at the places the container mounts over (a propagation leak).
    for (when, table) in [("during", &during), ("after", &host::mounts())] {
        let new: Vec<&str> = table
            .iter()
            .filter(|m| !before.contains(m))
            .filter(|m| {
                ["/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"].iter().any(|p| m.mount_point.as_os_str() == *p)
            })
            .map(|m| m.line.as_str())
            .collect();
        assert!(new.is_empty(), "the host gained mounts {when} the run:\n{}", new.join("\n"));
    }
}

#[test]
fn dev_has_the_standard_nodes_and_sys_is_read_only() {
    let env = test_env!("iso_dev");
    let out = env.run_ok(&["run", "--rm", "busybox", "ls", "/dev"]);
    let names: Vec<&str> = out.stdout.split_whitespace().collect();
    for want in ["null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm"] {
        assert!(names.contains(&want), "/dev lacks {want}\n{out}");
    }
    let out = env.run_ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo gone > /dev/null && head -c 5 /dev/zero | wc -c && head -c 7 /dev/urandom | wc -c",
    ]);
    assert_eq!(out.stdout.split_whitespace().collect::<Vec<_>>(), vec!["5", "7"], "{out}");
    let out = env.mydocker(&["run", "--rm", "busybox", "sh", "-c", "echo x > /dev/full"]);
    out.assert_failure();
    let out = env.mydocker(&["run", "--rm", "busybox", "sh", "-c", "mkdir /sys/mydocker-test"]);
    out.assert_failure();
    // The host's devices are not there.
    let out = env.mydocker(&["run", "--rm", "busybox", "ls", "/dev/vda"]);
    out.assert_failure();
}

#[test]
fn containers_have_separate_writable_layers() {
    let env = test_env!("iso_layers");
    let marker = unique("marker");
    let path = format!("/{marker}");
    let a = env.name("a");
    env.run_ok(&["run", "--name", &a, "busybox", "sh", "-c", &format!("echo from-a > {path}")]);
    // Another container of the same image does not see it.
    let out = env.mydocker(&["run", "--rm", "busybox", "cat", &path]);
    out.assert_failure();
    assert!(!out.stdout.contains("from-a"), "{out}");
    // Nor does the image: no file of that name anywhere in the image store.
    let in_images: Vec<_> =
        host::walk(&env.root().join("images")).into_iter().filter(|p| p.ends_with(&marker)).collect();
    assert!(in_images.is_empty(), "a container's write reached the image's layer: {in_images:?}");
    // It lives in the container's own upper dir, until rm.
    let id = env.id_of(&a);
    let upper_file = env.container_dir(&id).join("upper").join(&marker);
    assert_eq!(
        fs::read_to_string(&upper_file).unwrap_or_default(),
        "from-a\n",
        "{} should hold the write",
        upper_file.display()
    );
    env.run_ok(&["rm", &a]);
    assert!(!upper_file.exists() && !env.container_dir(&id).exists(), "rm left {}", env.container_dir(&id).display());
}

#[test]
fn deleting_an_image_file_in_a_container_leaves_the_image_whole() {
    let env = test_env!("iso_whiteout");
    env.run_ok(&["run", "--rm", "busybox", "rm", "/etc/passwd"]);
    let out = env.run_ok(&["run", "--rm", "busybox", "cat", "/etc/passwd"]);
    assert!(out.stdout.starts_with("root:"), "{out}");
}
