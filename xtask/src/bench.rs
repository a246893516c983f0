//! `cargo xtask bench`: the headline figure, container start latency.
//!
//! Times, with hyperfine, from one busybox rootfs:
//!   mydocker  `mydocker --root R run --rm busybox true`
//!   runc      `runc --root S run -b BUNDLE ID`   (run without -d deletes
//!   crun      `crun --root S run -b BUNDLE ID`    the container when it ends)
//!   floor     `unshare --fork --pid --mount --uts --ipc --net --mount-proc
//!              chroot ROOTFS /bin/true`: namespaces and nothing else
//!
//! All four run in one private mount namespace. On a hybrid cgroup host
//! an empty file is bind-mounted there over the cgroup2 cgroup.controllers,
//! without which crun 1.8 refuses to start; the host's mount table never
//! sees it.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::apt;
use crate::args::Args;
use crate::build::{self, Profile};
use crate::busybox;
use crate::mydocker::Mydocker;
use crate::util::{
    cmd, display, fresh_temp_dir, is_root, output, run, shell_quote, workspace_root,
};

const IMAGE: &str = "busybox";
const HYBRID_CONTROLLERS: &str = "/sys/fs/cgroup/unified/cgroup.controllers";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Contender {
    Mydocker,
    /// mydocker with memory, CPU and pids limits: what limits cost at start.
    MydockerLimits,
    Runc,
    Crun,
    Floor,
}

impl Contender {
    const ALL: [Contender; 5] = [
        Contender::Mydocker,
        Contender::MydockerLimits,
        Contender::Runc,
        Contender::Crun,
        Contender::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            Contender::Mydocker => "mydocker",
            Contender::MydockerLimits => "mydocker+limits",
            Contender::Runc => "runc",
            Contender::Crun => "crun",
            Contender::Floor => "floor",
        }
    }

    /// `--only mydocker,crun` -> those, in the canonical order.
    fn parse_list(list: Option<&str>) -> Result<Vec<Contender>> {
        let Some(list) = list else {
            return Ok(Self::ALL.to_vec());
        };
        let mut chosen = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Self::ALL.iter().find(|c| c.name() == name) {
                Some(c) => chosen.push(*c),
                None => bail!("bench: --only takes mydocker, mydocker+limits, runc, crun and floor, not {name:?}"),
            }
        }
        if chosen.is_empty() {
            bail!("bench: --only names no contender");
        }
        Ok(Self::ALL
            .into_iter()
            .filter(|c| chosen.contains(c))
            .collect())
    }
}

pub fn main(mut args: Args) -> Result<()> {
    let runs = args.number("--runs")?.unwrap_or(100);
    let warmup = args.number("--warmup")?.unwrap_or(5);
    let only = args.value("--only")?;
    args.finish()?;
    let contenders = Contender::parse_list(only.as_deref())?;
    if runs < 2 {
        bail!("bench: --runs must be at least 2 (hyperfine needs two runs for a deviation)");
    }
    if !is_root() {
        bail!("bench: containers need root: run it as root");
    }

    let hyperfine = apt::ensure_program("hyperfine", "hyperfine")?;
    let runc = has(&contenders, Contender::Runc)
        .then(|| apt::ensure_program("runc", "runc"))
        .transpose()?;
    let crun = has(&contenders, Contender::Crun)
        .then(|| apt::ensure_program("crun", "crun"))
        .transpose()?;
    let unshare = apt::ensure_program("unshare", "util-linux")?;
    busybox::ensure_static()?;
    let mydocker_bin = (has(&contenders, Contender::Mydocker) || has(&contenders, Contender::MydockerLimits))
        .then(|| build::mydocker(Profile::Release))
        .transpose()?;
    let tar = busybox::make_tar(None, false)?;

    let mut lab = Lab::new(runc.clone(), crun.clone())?;
    println!("bench folder: {}", lab.dir.display());
    unpack(&tar, &lab.rootfs())?;
    if runc.is_some() || crun.is_some() {
        write_config(
            runc.as_deref().or(crun.as_deref()).expect("one of them"),
            &lab.bundle(),
        )?;
    }
    if let Some(bin) = mydocker_bin {
        let mydocker = Mydocker {
            bin,
            root: Some(lab.dir.join("mydocker-root")),
        };
        lab.mydocker = Some(mydocker);
        // Set first: a half-done import is cleaned up too.
        lab.imported = true;
        lab.mydocker
            .as_ref()
            .expect("just set")
            .import(&tar, IMAGE)?;
    }

    let commands: Vec<(Contender, Vec<String>)> = contenders
        .iter()
        .map(|&c| (c, lab.command(c, &unshare)))
        .collect();
    let env = BenchEnv::new(&lab.dir, &unshare)?;

    println!("\n==> one run of each, to see that they work");
    for (contender, argv) in &commands {
        run(&mut env.wrap(argv))
            .with_context(|| format!("{} does not start a container", contender.name()))?;
    }
    if has(&contenders, Contender::Mydocker) {
        check_isolated(&env, &lab)?;
    }

    println!("\n==> timing: {runs} runs each after {warmup} warm-up runs");
    let json = workspace_root().join(".bench").join("start-latency.json");
    let folder = json.parent().expect("has a parent");
    fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let h = hyperfine_argv(&hyperfine, warmup, runs, &json, &commands);
    run(&mut env.wrap(&h)).context("hyperfine failed")?;

    let results = read_results(&json)?;
    let mut report = report(&results, &versions(&commands));
    if let Some(m) = lab.mydocker.as_ref() {
        report.push_str(&lifecycle(&hyperfine, &env, m, runs.min(30), folder)?);
    }
    print!("\n{report}");
    let txt = json.with_extension("txt");
    fs::write(&txt, &report).with_context(|| format!("writing {}", txt.display()))?;
    println!("\nsaved {} and {}", json.display(), txt.display());
    Ok(())
}

/// The lifecycle figures (bench_lifecycle): a run -d + stop + rm cycle,
/// then ps over 1,000 stored containers. Returns their report lines.
fn lifecycle(hyperfine: &Path, env: &BenchEnv, m: &Mydocker, runs: u32, folder: &Path) -> Result<String> {
    use crate::bench_lifecycle as life;
    let (cycle, ps) = life::commands(m);
    println!("\n==> timing the lifecycle: {runs} runs each");
    let json = folder.join("lifecycle.json");
    run(&mut env.wrap(&hyperfine_named(hyperfine, 2, runs, &json, true, &cycle))).context("hyperfine failed")?;
    let mut results = read_results(&json)?;
    life::fill(m)?;
    let json = folder.join("ps.json");
    let timed = run(&mut env.wrap(&hyperfine_named(hyperfine, 2, runs, &json, true, &ps))).context("hyperfine failed");
    life::empty(m)?;
    timed?;
    results.extend(read_results(&json)?);
    let rss = life::monitor_rss_kib(m)?;
    let mut out = String::from("\nlifecycle               median ms     mean ± stddev ms\n");
    for t in &results {
        let _ = writeln!(out, "{:<22} {:>10.2}   {:>10.2} ± {:.2}", t.name, t.median, t.mean, t.stddev);
    }
    let _ = writeln!(out, "monitor RSS            {:>7} KiB  (one detached container's monitor)", rss);
    Ok(out)
}

/// `hyperfine` timing every command with no shell in between, results
/// exported as JSON to `json`.
fn hyperfine_argv(
    hyperfine: &Path,
    warmup: u32,
    runs: u32,
    json: &Path,
    commands: &[(Contender, Vec<String>)],
) -> Vec<String> {
    let named: Vec<(String, String)> = commands
        .iter()
        .map(|(c, argv)| {
            let line: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
            (c.name().to_string(), line.join(" "))
        })
        .collect();
    hyperfine_named(hyperfine, warmup, runs, json, false, &named)
}

/// `hyperfine` timing each (name, command line), with a shell when `shell`.
pub(crate) fn hyperfine_named(
    hyperfine: &Path,
    warmup: u32,
    runs: u32,
    json: &Path,
    shell: bool,
    named: &[(String, String)],
) -> Vec<String> {
    let mut h = vec![hyperfine.to_string_lossy().into_owned()];
    if !shell {
        h.push("--shell=none".into());
    }
    h.extend([
        "--warmup".into(),
        warmup.to_string(),
        "--runs".into(),
        runs.to_string(),
        "--time-unit".into(),
        "millisecond".into(),
        "--export-json".into(),
        json.to_string_lossy().into_owned(),
    ]);
    for (name, line) in named {
        h.extend(["--command-name".into(), name.clone(), line.clone()]);
    }
    h
}

fn has(contenders: &[Contender], c: Contender) -> bool {
    contenders.contains(&c)
}

/// The temp folder of one bench run: the OCI bundle (rootfs shared with the
/// floor), runc's and crun's state, mydocker's root. Dropping it removes
/// what the bench made, even when the bench failed half way.
struct Lab {
    dir: PathBuf,
    runc: Option<PathBuf>,
    crun: Option<PathBuf>,
    mydocker: Option<Mydocker>,
    imported: bool,
    id: String,
}

impl Lab {
    fn new(runc: Option<PathBuf>, crun: Option<PathBuf>) -> Result<Lab> {
        let dir = fresh_temp_dir("mydocker-bench")?;
        let lab = Lab {
            dir,
            runc,
            crun,
            mydocker: None,
            imported: false,
            id: format!("mydocker-bench-{}", std::process::id()),
        };
        for sub in ["bundle/rootfs", "runc-state", "crun-state"] {
            let path = lab.dir.join(sub);
            fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        }
        Ok(lab)
    }

    fn bundle(&self) -> PathBuf {
        self.dir.join("bundle")
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.join("bundle/rootfs")
    }

    fn state(&self, runtime: &str) -> PathBuf {
        self.dir.join(format!("{runtime}-state"))
    }

    /// The argv that starts one container of `contender` running true.
    fn command(&self, contender: Contender, unshare: &Path) -> Vec<String> {
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let oci = |bin: &Path, runtime: &str| {
            vec![
                s(bin),
                "--root".into(),
                s(&self.state(runtime)),
                "run".into(),
                "-b".into(),
                s(&self.bundle()),
                format!("{}-{runtime}", self.id),
            ]
        };
        match contender {
            Contender::Mydocker => self.mydocker_argv(&["run", "--rm", IMAGE, "true"]),
            Contender::MydockerLimits => self.mydocker_argv(&[
                "run", "--rm", "-m", "256m", "--cpus", "1", "--pids-limit", "100", IMAGE, "true",
            ]),
            Contender::Runc => oci(self.runc.as_ref().expect("runc is there"), "runc"),
            Contender::Crun => oci(self.crun.as_ref().expect("crun is there"), "crun"),
            Contender::Floor => {
                let mut argv = vec![s(unshare)];
                argv.extend(
                    [
                        "--fork",
                        "--pid",
                        "--mount",
                        "--uts",
                        "--ipc",
                        "--net",
                        "--mount-proc",
                        "chroot",
                    ]
                    .map(String::from),
                );
                argv.push(s(&self.rootfs()));
                argv.push("/bin/true".into());
                argv
            }
        }
    }

    /// `mydocker --root R ARGS...`
    fn mydocker_argv(&self, args: &[&str]) -> Vec<String> {
        let m = self.mydocker.as_ref().expect("mydocker was built");
        let root = m.root.as_ref().expect("a temp root");
        let mut argv = vec![m.bin.to_string_lossy().into_owned(), "--root".into()];
        argv.push(root.to_string_lossy().into_owned());
        argv.extend(args.iter().map(|a| a.to_string()));
        argv
    }

    fn clean(&mut self) {
        if self.imported {
            if let Some(m) = &self.mydocker {
                // `run --rm` should have left none; remove any that are left.
                match output(&mut m.cmd(["ps", "-a", "-q"])) {
                    Ok(ids) if ids.trim().is_empty() => {}
                    Ok(ids) => {
                        let ids: Vec<&str> = ids.split_whitespace().collect();
                        eprintln!(
                            "bench: warning: `run --rm` left containers: {}",
                            ids.join(" ")
                        );
                        let rm = output(&mut m.cmd(["rm", "-f"].iter().chain(&ids)));
                        if let Err(e) = rm {
                            eprintln!("bench: warning: {e:#}");
                        }
                    }
                    Err(e) => eprintln!("bench: warning: {e:#}"),
                }
                if let Err(e) = m.rmi(IMAGE) {
                    eprintln!("bench: warning: removing the image from the temp root: {e:#}");
                }
            }
            self.imported = false;
        }
        for (runtime, bin) in [("runc", &self.runc), ("crun", &self.crun)] {
            let Some(bin) = bin else { continue };
            let state = self.state(runtime);
            let id = format!("{}-{runtime}", self.id);
            // Normally gone already: `run` deletes the container when it ends.
            if state.join(&id).exists() {
                if let Err(e) = output(
                    cmd(bin)
                        .arg("--root")
                        .arg(&state)
                        .args(["delete", "-f", &id]),
                ) {
                    eprintln!("bench: warning: {e:#}");
                }
            }
        }
        match mounts_under(&self.dir) {
            Ok(mounts) if mounts.is_empty() => {
                if let Err(e) = fs::remove_dir_all(&self.dir) {
                    eprintln!("bench: warning: removing {}: {e}", self.dir.display());
                }
            }
            Ok(mounts) => eprintln!(
                "bench: warning: not removing {}: still mounted there: {}",
                self.dir.display(),
                mounts.join(", ")
            ),
            Err(e) => eprintln!("bench: warning: not removing {}: {e:#}", self.dir.display()),
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.clean();
    }
}

/// A mydocker that exits 0 without running anything would time very well:
/// make sure `run` really runs the command, as pid 1 of its own namespace.
fn check_isolated(env: &BenchEnv, lab: &Lab) -> Result<()> {
    let argv = lab.mydocker_argv(&["run", "--rm", IMAGE, "sh", "-c", "echo $$"]);
    let mut check = env.wrap(&argv);
    println!("$ {}", display(&check));
    let printed = output(&mut check)?;
    if printed.trim() != "1" {
        bail!(
            "`mydocker run --rm {IMAGE} sh -c 'echo $$'` printed {printed:?}, not 1: \
             the command did not run as pid 1 of a new pid namespace"
        );
    }
    println!("pid 1: the command ran in a pid namespace of its own");
    Ok(())
}

/// Mount points of this mount namespace at or under `dir`.
fn mounts_under(dir: &Path) -> Result<Vec<String>> {
    let info =
        fs::read_to_string("/proc/self/mountinfo").context("reading /proc/self/mountinfo")?;
    let dir = dir.to_string_lossy();
    Ok(info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| *point == dir || point.starts_with(&format!("{dir}/")))
        .map(String::from)
        .collect())
}

/// The private mount namespace every contender (and hyperfine) runs in.
struct BenchEnv {
    unshare: PathBuf,
    /// The empty file to bind over cgroup.controllers, on a hybrid host.
    empty: Option<PathBuf>,
}

impl BenchEnv {
    fn new(dir: &Path, unshare: &Path) -> Result<BenchEnv> {
        let empty = if Path::new(HYBRID_CONTROLLERS).exists() {
            let empty = dir.join("empty");
            fs::write(&empty, "").with_context(|| format!("creating {}", empty.display()))?;
            println!(
                "hybrid cgroups: contenders run with an empty {HYBRID_CONTROLLERS} (crun needs it)"
            );
            Some(empty)
        } else {
            None
        };
        Ok(BenchEnv {
            unshare: unshare.to_path_buf(),
            empty,
        })
    }

    /// `argv`, run inside the environment.
    fn wrap(&self, argv: &[String]) -> Command {
        let mut c = cmd(&self.unshare);
        c.args(["--mount", "--propagation", "private"]);
        match &self.empty {
            Some(empty) => {
                let script =
                    format!("mount --bind \"$1\" {HYBRID_CONTROLLERS} && shift && exec \"$@\"");
                c.args(["sh", "-c", &script, "sh"]).arg(empty);
            }
            None => {
                c.arg("--");
            }
        }
        c.args(argv);
        c
    }
}

/// Unpack busybox.tar into the bundle's rootfs.
fn unpack(tar: &Path, rootfs: &Path) -> Result<()> {
    let file = fs::File::open(tar).with_context(|| format!("opening {}", tar.display()))?;
    let mut archive = tar::Archive::new(file);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive
        .unpack(rootfs)
        .with_context(|| format!("unpacking {} into {}", tar.display(), rootfs.display()))
}

/// config.json from `runc spec` (or `crun spec`), changed to run /bin/true
/// without a terminal on a writable rootfs, like a docker container.
fn write_config(runtime: &Path, bundle: &Path) -> Result<()> {
    let file = bundle.join("config.json");
    run(cmd(runtime).arg("spec").arg("--bundle").arg(bundle))?;
    let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut spec: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    patch_spec(&mut spec).with_context(|| format!("patching {}", file.display()))?;
    fs::write(&file, serde_json::to_string_pretty(&spec)?)
        .with_context(|| format!("writing {}", file.display()))
}

fn patch_spec(spec: &mut Value) -> Result<()> {
    let process = spec
        .get_mut("process")
        .and_then(Value::as_object_mut)
        .context("no process")?;
    process.insert("args".into(), serde_json::json!(["/bin/true"]));
    process.insert("terminal".into(), Value::Bool(false));
    let root = spec
        .get_mut("root")
        .and_then(Value::as_object_mut)
        .context("no root")?;
    root.insert("path".into(), "rootfs".into());
    root.insert("readonly".into(), Value::Bool(false));
    spec["hostname"] = "bench".into();
    Ok(())
}

/// One line of hyperfine's results, in milliseconds.
#[derive(Debug, PartialEq)]
struct Timing {
    name: String,
    median: f64,
    mean: f64,
    stddev: f64,
    min: f64,
    max: f64,
}

fn read_results(json: &Path) -> Result<Vec<Timing>> {
    let text = fs::read_to_string(json).with_context(|| format!("reading {}", json.display()))?;
    parse_results(&text)
        .with_context(|| format!("reading hyperfine's results in {}", json.display()))
}

fn parse_results(text: &str) -> Result<Vec<Timing>> {
    let doc: Value = serde_json::from_str(text)?;
    let results = doc["results"].as_array().context("no results array")?;
    results
        .iter()
        .map(|r| {
            let ms = |key: &str| {
                r[key]
                    .as_f64()
                    .map(|s| s * 1000.0)
                    .with_context(|| format!("no {key} in a result"))
            };
            Ok(Timing {
                name: r["command"]
                    .as_str()
                    .context("no command in a result")?
                    .to_string(),
                median: ms("median")?,
                mean: ms("mean")?,
                stddev: ms("stddev")?,
                min: ms("min")?,
                max: ms("max")?,
            })
        })
        .collect()
}

/// The first line of each contender's `--version`, and the kernel.
fn versions(commands: &[(Contender, Vec<String>)]) -> Vec<String> {
    let mut lines = Vec::new();
    if let Ok(kernel) = fs::read_to_string("/proc/sys/kernel/osrelease") {
        lines.push(format!("kernel {}", kernel.trim()));
    }
    for (contender, argv) in commands {
        if matches!(contender, Contender::Runc | Contender::Crun) {
            if let Ok(v) = output(cmd(&argv[0]).arg("--version")) {
                lines.push(v.lines().next().unwrap_or_default().to_string());
            }
        }
    }
    lines
}

/// The table and the headline.
fn report(results: &[Timing], versions: &[String]) -> String {
    let find = |name: &str| results.iter().find(|t| t.name == name).map(|t| t.median);
    let (crun, floor) = (find("crun"), find("floor"));
    let ratio = |of: f64, to: Option<f64>| match to {
        Some(to) if to > 0.0 => format!("{:.2}x", of / to),
        _ => "-".to_string(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "container start latency ({})", versions.join(", "));
    let _ = writeln!(
        out,
        "{:<10} {:>10} {:>20} {:>16} {:>8} {:>9}",
        "", "median ms", "mean ± stddev ms", "min…max ms", "vs crun", "vs floor"
    );
    for t in results {
        let _ = writeln!(
            out,
            "{:<10} {:>10.2} {:>20} {:>16} {:>8} {:>9}",
            t.name,
            t.median,
            format!("{:.2} ± {:.2}", t.mean, t.stddev),
            format!("{:.1}…{:.1}", t.min, t.max),
            ratio(t.median, crun),
            ratio(t.median, floor),
        );
    }
    if let Some(mydocker) = find("mydocker") {
        match crun {
            Some(crun) => {
                let _ = writeln!(
                    out,
                    "mydocker run: {mydocker:.2} ms median = {:.2} x crun",
                    mydocker / crun
                );
            }
            None => {
                let _ = writeln!(out, "mydocker run: {mydocker:.2} ms median");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_picks_contenders_in_order() {
        assert_eq!(
            Contender::parse_list(Some("floor,runc")).unwrap(),
            [Contender::Runc, Contender::Floor]
        );
        assert_eq!(Contender::parse_list(None).unwrap().len(), 5);
        assert!(Contender::parse_list(Some("docker")).is_err());
        assert!(Contender::parse_list(Some(",")).is_err());
    }

    #[test]
    fn the_spec_runs_true_without_a_terminal() {
        let mut spec = serde_json::json!({
            "process": {"terminal": true, "args": ["sh"], "cwd": "/"},
            "root": {"path": "rootfs", "readonly": true},
            "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}]}
        });
        patch_spec(&mut spec).unwrap();
        assert_eq!(spec["process"]["args"], serde_json::json!(["/bin/true"]));
        assert_eq!(spec["process"]["terminal"], false);
        assert_eq!(spec["process"]["cwd"], "/");
        assert_eq!(spec["root"]["readonly"], false);
        assert_eq!(spec["linux"]["namespaces"][1]["type"], "network");
    }

    #[test]
    fn reads_hyperfine_json_in_milliseconds() {
        let text = r#"{"results":[
            {"command":"crun","mean":0.004,"stddev":0.0005,"median":0.0039,"min":0.003,"max":0.006,"times":[]},
            {"command":"mydocker","mean":0.010,"stddev":0.001,"median":0.0078,"min":0.007,"max":0.02}]}"#;
        let results = parse_results(text).unwrap();
        assert_eq!(results[0].name, "crun");
        assert!((results[0].median - 3.9).abs() < 1e-9);
        let report = report(&results, &["kernel 6.1".into()]);
        assert!(
            report.contains("mydocker run: 7.80 ms median = 2.00 x crun"),
            "{report}"
        );
        assert!(report.contains("kernel 6.1"), "{report}");
    }

    #[test]
    fn the_environment_binds_the_empty_file_only_on_hybrid_hosts() {
        let argv = vec!["/bin/true".to_string()];
        let hybrid = BenchEnv {
            unshare: "unshare".into(),
            empty: Some("/t/empty".into()),
        };
        let shown = display(&hybrid.wrap(&argv));
        assert!(shown.contains("mount --bind"), "{shown}");
        assert!(shown.ends_with("sh /t/empty /bin/true"), "{shown}");
        let plain = BenchEnv {
            unshare: "unshare".into(),
            empty: None,
        };
        assert_eq!(
            display(&plain.wrap(&argv)),
            "unshare --mount --propagation private -- /bin/true"
        );
    }

    #[test]
    fn finds_mounts_only_under_the_folder() {
        assert!(mounts_under(Path::new("/nonexistent-bench-dir"))
            .unwrap()
            .is_empty());
        assert!(!mounts_under(Path::new("/proc")).unwrap().is_empty());
    }
}
