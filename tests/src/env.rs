//! One test's world: a temporary mydocker root with busybox imported, and a
//! guard that takes down everything the test made, even when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::host::ProcessRef;
use crate::process::{self, Output, Running};
use crate::table::{self, Row};
use crate::{host, is_full_id, wait, COMMAND_TIMEOUT};

/// The columns `mydocker ps` promises.
pub const PS_COLUMNS: &[&str] = &["CONTAINER ID", "NAME", "IMAGE", "PID", "STATUS", "COMMAND", "CREATED"];
/// The columns `mydocker images` promises.
pub const IMAGES_COLUMNS: &[&str] = &["NAME", "IMAGE ID", "SIZE", "CREATED"];

/// The Cargo workspace these tests belong to.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lies in the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => workspace_dir().join(t),
        None => workspace_dir().join("target"),
    }
}

/// The mydocker binary under test: `$MYDOCKER_BIN`, else `target/debug/mydocker`.
pub fn mydocker_bin() -> PathBuf {
    match std::env::var_os("MYDOCKER_BIN") {
        Some(p) => PathBuf::from(p),
        None => target_dir().join("debug").join("mydocker"),
    }
}

/// The busybox rootfs tarball: `$MYDOCKER_BUSYBOX_TAR`, else `target/images/busybox.tar`.
pub fn busybox_tar() -> PathBuf {
    match std::env::var_os("MYDOCKER_BUSYBOX_TAR") {
        Some(p) => PathBuf::from(p),
        None => target_dir().join("images").join("busybox.tar"),
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A temporary mydocker root holding the image `busybox`, for one test.
///
/// Dropping it (also when the test panics) removes every container with
/// `rm -f`, checks that no container process, mydocker process or mount of
/// the root is left on the host (taking down any it finds, and failing the
/// test), then deletes the folder.
pub struct TestEnv {
    tag: String,
    bin: PathBuf,
    root: PathBuf,
    scratch: PathBuf,
    image_id: String,
    tmp: Option<TempDir>,
}

impl TestEnv {
    /// A fresh root with busybox imported; None (after printing
    /// "skipped: needs root") when not run as root. `tag` names the test:
    /// it prefixes the temp folder and [`TestEnv::name`]s.
    pub fn new(tag: &str) -> Option<TestEnv> {
        if !is_root() {
            eprintln!("skipped: needs root");
            return None;
        }
        let bin = mydocker_bin();
        assert!(
            bin.is_file(),
            "the mydocker binary is not at {} (set MYDOCKER_BIN, or build it with \
             `cargo build -p mydocker-cli`; `cargo xtask test` builds it and the busybox image, then runs these tests)",
            bin.display()
        );
        let tar = busybox_tar();
        assert!(
            tar.is_file(),
            "the busybox rootfs tarball is not at {} (set MYDOCKER_BUSYBOX_TAR, or make it with \
             `cargo xtask busybox-tar`; `cargo xtask test` makes it and the binary, then runs these tests)",
            tar.display()
        );
        let tmp = tempfile::Builder::new()
            .prefix(&format!("mydocker-test-{tag}-"))
            .tempdir_in("/var/tmp")
            .expect("making a temp folder in /var/tmp");
        let root = tmp.path().join("root");
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir(&root).expect("making the test's mydocker root");
        std::fs::create_dir(&scratch).expect("making the test's scratch folder");
        let mut env = TestEnv { tag: tag.to_string(), bin, root, scratch, image_id: String::new(), tmp: Some(tmp) };
        let out = env.mydocker(&["import", &tar.to_string_lossy(), "busybox"]);
        out.assert_success();
        let id = out.stdout.trim().to_string();
        assert!(is_full_id(&id), "import should print the image ID (64 hex digits)\n{out}");
        env.image_id = id;
        Some(env)
    }

    /// The mydocker root of this test (`--root`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A folder beside the root for the test's own host files (volumes, env files).
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// The ID `import` printed for busybox.
    pub fn image_id(&self) -> &str {
        &self.image_id
    }

    /// A container name unique to this test: `<tag>-<suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.tag)
    }

    /// `mydocker --root ROOT ARGS...` as a Command, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env_remove("MYDOCKER_ROOT").arg("--root").arg(&self.root).args(args);
        cmd
    }

    /// Run mydocker with stdin at /dev/null; fail the test if it takes over a minute.
    pub fn mydocker(&self, args: &[&str]) -> Output {
        process::run(self.command(args), None, COMMAND_TIMEOUT)
    }

    /// Run mydocker with `stdin` as its standard input.
    pub fn with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        process::run(self.command(args), Some(stdin.to_vec()), COMMAND_TIMEOUT)
    }

    /// Run a prepared mydocker Command (e.g. with extra environment).
    pub fn run_command(&self, cmd: Command) -> Output {
        process::run(cmd, None, COMMAND_TIMEOUT)
    }

    /// Run mydocker and fail the test unless it exits 0.
    pub fn run_ok(&self, args: &[&str]) -> Output {
        let out = self.mydocker(args);
        out.assert_success();
        out
    }

    /// Run mydocker, fail unless it exits 0, and return its stdout.
    pub fn stdout_of(&self, args: &[&str]) -> String {
        self.run_ok(args).stdout
    }

    /// Start mydocker and leave it running, its stdin a pipe the test holds.
    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::spawn(self.command(args), Stdio::piped())
    }

    /// `mydocker ps`, parsed.
    pub fn ps(&self) -> Vec<Row> {
        let out = self.run_ok(&["ps"]);
        table::parse(&out.stdout, PS_COLUMNS)
    }

    /// `mydocker ps -q`: the short IDs of all containers.
    pub fn ps_ids(&self) -> Vec<String> {
        self.stdout_of(&["ps", "-q"]).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
    }

    /// The `ps` row of the container called `name`, if listed.
    pub fn row_of(&self, name: &str) -> Option<Row> {
        self.ps().into_iter().find(|r| r.get("NAME") == name)
    }

    /// Wait until `ps` shows `name` as "Up"; fail after 30s.
    pub fn wait_until_up(&self, name: &str) -> Row {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let rows = self.ps();
            if let Some(r) = rows.iter().find(|r| r.get("NAME") == name && r.get("STATUS").starts_with("Up")) {
                return r.clone();
            }
            if Instant::now() >= deadline {
                let lines: Vec<&str> = rows.iter().map(|r| r.line.as_str()).collect();
                panic!("container {name} did not show as Up within 30s; ps:\n{}", lines.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `run -d ARGS...`: fail unless it exits 0 printing one full container
    /// ID (and nothing else on stdout); return the ID.
    pub fn run_detached(&self, args: &[&str]) -> String {
        let mut all = vec!["run", "-d"];
        all.extend_from_slice(args);
        let out = self.run_ok(&all);
        let id = out.stdout.trim_end_matches('\n');
        assert!(is_full_id(id), "run -d should print the container's full ID (64 hex digits) alone\n{out}");
        id.to_string()
    }

    /// `ps --format json`, parsed: one record per container.
    pub fn ps_json(&self) -> Vec<serde_json::Value> {
        let out = self.run_ok(&["ps", "--format", "json"]);
        match serde_json::from_str::<serde_json::Value>(&out.stdout) {
            Ok(serde_json::Value::Array(records)) => records,
            Ok(other) => panic!("ps --format json should print an array, not {other}\n{out}"),
            Err(e) => panic!("ps --format json printed no JSON: {e}\n{out}"),
        }
    }

    /// The `ps --format json` record of the container whose full ID or name
    /// is `reference`; fail if it is not listed.
    pub fn record(&self, reference: &str) -> serde_json::Value {
        let all = self.ps_json();
        all.iter().find(|c| c["id"] == reference || c["name"] == reference).cloned().unwrap_or_else(|| {
            panic!("ps --format json does not list {reference}:\n{}", serde_json::Value::Array(all.clone()))
        })
    }

    /// `inspect REFERENCE`: the one object of the array it prints.
    pub fn inspect(&self, reference: &str) -> serde_json::Value {
        let out = self.run_ok(&["inspect", reference]);
        let all: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("inspect printed no JSON: {e}\n{out}"));
        match all.as_array().map(Vec::as_slice) {
            Some([one]) => one.clone(),
            _ => panic!("inspect {reference} should print an array of one object\n{out}"),
        }
    }

    /// The STATUS `ps` shows for the container called `name`; fail if it is not listed.
    pub fn status(&self, name: &str) -> String {
        let rows = self.ps();
        match rows.iter().find(|r| r.get("NAME") == name) {
            Some(r) => r.get("STATUS").to_string(),
            None => {
                let lines: Vec<&str> = rows.iter().map(|r| r.line.as_str()).collect();
                panic!("ps does not list {name}:\n{}", lines.join("\n"))
            }
        }
    }

    /// Wait up to `limit` until `ps` shows `name` with the STATUS `want`.
    pub fn wait_for_status(&self, name: &str, want: &str, limit: Duration) {
        wait::poll(limit, &format!("ps to show {name} as {want:?}"), || {
            let status = self.status(name);
            if status == want {
                Ok(())
            } else {
                Err(format!("STATUS {status:?}"))
            }
        })
    }

    /// The running container's PID 1 on the host (from `ps --format json`);
    /// fail unless the record says running and that process lives.
    pub fn pid1(&self, reference: &str) -> ProcessRef {
        let rec = self.record(reference);
        assert_eq!(rec["status"], "running", "{reference} should be running: {rec}");
        let pid = rec["pid"].as_i64().unwrap_or_else(|| panic!("{reference} is running without a pid: {rec}"));
        ProcessRef::of(pid as i32).unwrap_or_else(|| panic!("{reference}'s PID 1 ({pid}) is not a live process: {rec}"))
    }

    /// Every process of the running container: those in its PID 1's PID namespace.
    pub fn processes_of(&self, reference: &str) -> Vec<ProcessRef> {
        let pid1 = self.pid1(reference);
        let ns = host::pid_namespace(pid1.pid).unwrap_or_else(|| panic!("{reference}'s PID 1 {} is gone", pid1.pid));
        assert_ne!(ns, host::namespace("pid"), "{reference}'s PID 1 {} is in the host's PID namespace", pid1.pid);
        host::processes_in_pid_namespace(&ns)
    }

    /// Wait until `exec NAME test -e PATH` succeeds: the container's script
    /// has got as far as making PATH (e.g. set its trap, then `touch /ready`).
    pub fn wait_for_file(&self, name: &str, path: &str) {
        wait::eventually(Duration::from_secs(20), &format!("{name} to make {path}"), || {
            self.mydocker(&["exec", name, "test", "-e", path]).success()
        })
    }

    /// `mydocker images`, parsed.
    pub fn images(&self) -> Vec<Row> {
        let out = self.run_ok(&["images"]);
        table::parse(&out.stdout, IMAGES_COLUMNS)
    }

    /// `<root>/containers`.
    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// `<root>/containers/<id>`.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    /// The entries of `<root>/containers`.
    pub fn container_dirs(&self) -> Vec<String> {
        host::entries(&self.containers_dir())
    }

    /// The entries of `<root>/names`.
    pub fn names(&self) -> Vec<String> {
        host::entries(&self.root.join("names"))
    }

    /// The full ID of the container called `name`, from `<root>/names/<name>`.
    pub fn id_of(&self, name: &str) -> String {
        let link = self.root.join("names").join(name);
        let target = std::fs::read_link(&link).unwrap_or_else(|e| {
            panic!(
                "reading the name link {}: {e}; names: {:?}; containers: {:?}",
                link.display(),
                self.names(),
                self.container_dirs()
            )
        });
        let id = target.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        assert!(is_full_id(&id), "{} points at {}, not at a container ID", link.display(), target.display());
        id
    }

    /// Fail the test if the host has any mount under (or naming) the root.
    pub fn assert_no_mounts(&self) {
        let left = host::mounts_mentioning(&self.root);
        assert!(left.is_empty(), "the host has mounts of {}:\n{}", self.root.display(), mount_lines(&left));
    }

    /// Take down everything of this test; return what had to be taken down
    /// by force (each a problem: mydocker should not have left it).
    fn cleanup(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let timeout = Duration::from_secs(30);
        let run = |args: &[&str]| process::try_run(self.command(args), None, timeout);

        // 1. Every container, by `ps` and by what is on disk.
        let mut ids: Vec<String> = Vec::new();
        let mut live: Vec<(i32, u64, String)> = Vec::new();
        match run(&["ps"]) {
            Ok(out) if out.success() && out.stdout.trim().is_empty() => {}
            Ok(out) if out.success() => match table::try_parse(&out.stdout, PS_COLUMNS) {
                Err(e) => problems.push(format!("cleanup: ps: {e}")),
                Ok(rows) => {
                    for r in rows {
                        let id = r.get("CONTAINER ID").to_string();
                        if let Ok(pid) = r.get("PID").parse::<i32>() {
                            if pid > 0 && r.get("STATUS").starts_with("Up") {
                                if let Some(t) = host::start_time(pid) {
                                    live.push((pid, t, id.clone()));
                                }
                            }
                        }
                        ids.push(id);
                    }
                }
            },
            Ok(out) => problems.push(format!("cleanup: ps failed\n{out}")),
            Err(e) => problems.push(format!("cleanup: {e}")),
        }
        for dir in self.container_dirs() {
            if !ids.iter().any(|id| dir.starts_with(id.as_str())) {
                ids.push(dir);
            }
        }
        for id in &ids {
            match run(&["rm", "-f", id]) {
                Ok(out) if out.success() => {}
                Ok(out) => problems.push(format!("cleanup: rm -f {id} failed\n{out}")),
                Err(e) => problems.push(format!("cleanup: {e}")),
            }
        }

        // 2. The container processes `rm -f` should have killed.
        let deadline = Instant::now() + Duration::from_secs(10);
        while live.iter().any(|(pid, t, _)| host::is_alive(*pid, *t)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for (pid, t, id) in &live {
            if host::is_alive(*pid, *t) {
                host::kill_if_same(*pid, *t);
                problems.push(format!("container {id}: its process {pid} outlived `rm -f` by 10s (killed it)"));
            }
        }

        // 3. mydocker processes of this root (a monitor, a stuck run).
        let needle = self.root.to_string_lossy().into_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !host::processes_mentioning(&needle).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        for p in host::processes_mentioning(&needle) {
            if let Some(t) = host::start_time(p.pid) {
                host::kill_if_same(p.pid, t);
                problems.push(format!("process {} `{}` was still running after cleanup (killed it)", p.pid, p.cmdline));
            }
        }

        // 4. Mounts: nothing of a container is mounted on the host.
        let mut under = host::mounts_under(&self.root);
        under.sort_by_key(|m| std::cmp::Reverse(m.mount_point.as_os_str().len()));
        for m in &under {
            let how = match host::lazy_unmount(&m.mount_point) {
                Ok(()) => "lazily unmounted it".to_string(),
                Err(e) => format!("lazy unmount failed: {e}"),
            };
            problems.push(format!("mount left on the host ({how}): {}", m.line));
        }
        for m in host::mounts_mentioning(&self.root) {
            if !m.mount_point.starts_with(&self.root) {
                problems.push(format!("mount elsewhere naming the test root (left alone): {}", m.line));
            }
        }
        problems
    }
}

fn mount_lines(ms: &[host::Mount]) -> String {
    ms.iter().map(|m| format!("    {}", m.line)).collect::<Vec<_>>().join("\n")
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let problems = self.cleanup();
        if let Some(tmp) = self.tmp.take() {
            let path = tmp.path().to_path_buf();
            if let Err(e) = tmp.close() {
                eprintln!("warning: removing {}: {e}", path.display());
            }
        }
        if problems.is_empty() {
            return;
        }
        let msg = format!("test {} left things behind:\n  {}", self.tag, problems.join("\n  "));
        if std::thread::panicking() {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}
