//! Image config + `run` options -> the OCI runtime Spec the runtime half runs.

use std::path::PathBuf;

use mydocker_cgroups::Resources;
use mydocker_fs::overlay::OverlayDirs;
use oci_spec::runtime::{
    get_default_maskedpaths, get_default_readonly_paths, Capabilities, Capability, LinuxBuilder,
    LinuxCapabilitiesBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxPidsBuilder,
    LinuxResources, LinuxResourcesBuilder, LinuxNamespaceType, Mount, MountBuilder, ProcessBuilder,
    RootBuilder, Spec, SpecBuilder, UserBuilder,
};

use super::env;
use super::options::ValidRun;
use crate::runtime::plan::DEFAULT_PATH;
use crate::CoreError;

/// What `run` needs of an image.
#[derive(Debug, Clone, Default)]
pub struct ImageView {
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: String,
    /// Layer folders, top first.
    pub lowers: Vec<PathBuf>,
}

/// docker's default capability set.
fn default_caps() -> Capabilities {
    use Capability::*;
    [
        Chown, DacOverride, Fsetid, Fowner, Mknod, NetRaw, Setgid, Setuid, Setfcap, Setpcap, NetBindService,
        SysChroot, Kill, AuditWrite,
    ]
    .into_iter()
    .collect()
}

fn mount(dest: &str, typ: &str, source: &str, options: &[&str]) -> Result<Mount, CoreError> {
    MountBuilder::default()
        .destination(dest)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(spec_err)
}

fn spec_err(e: oci_spec::OciSpecError) -> CoreError {
    CoreError::Invalid(format!("building the runtime spec: {e}"))
}

/// The cgroup path of a container: beneath `--cgroup-parent` when given, else
/// relative (the runtime makes it beneath the cgroup of the process that
/// starts the container).
pub fn cgroups_path(id: &str, parent: Option<&str>) -> PathBuf {
    let name = format!("mydocker-{id}");
    match parent {
        Some(p) => PathBuf::from(p).join(name),
        None => PathBuf::from(name),
    }
}

pub(crate) fn linux_resources(r: &Resources) -> Result<LinuxResources, CoreError> {
    let mut b = LinuxResourcesBuilder::default();
    if r.memory.is_some() || r.memory_swap.is_some() {
        let mut m = LinuxMemoryBuilder::default();
        if let Some(v) = r.memory {
            m = m.limit(v);
        }
        if let Some(v) = r.memory_swap {
            m = m.swap(v);
        }
        b = b.memory(m.build().map_err(spec_err)?);
    }
    let cpu_given = r.cpu_shares.is_some()
        || r.cpu_quota.is_some()
        || r.cpu_period.is_some()
        || r.cpuset_cpus.is_some()
        || r.cpuset_mems.is_some();
    if cpu_given {
        let mut c = LinuxCpuBuilder::default();
        if let Some(v) = r.cpu_shares {
            c = c.shares(v);
        }
        if let Some(v) = r.cpu_quota {
            c = c.quota(v);
        }
        if let Some(v) = r.cpu_period {
            c = c.period(v);
        }
        if let Some(v) = &r.cpuset_cpus {
            c = c.cpus(v.clone());
        }
        if let Some(v) = &r.cpuset_mems {
            c = c.mems(v.clone());
        }
        b = b.cpu(c.build().map_err(spec_err)?);
    }
    if let Some(v) = r.pids_limit {
        b = b.pids(LinuxPidsBuilder::default().limit(v).build().map_err(spec_err)?);
    }
    b.build().map_err(spec_err)
}

pub fn build(image: &ImageView, run: &ValidRun, dirs: &OverlayDirs, id: &str, hostname: &str) -> Result<Spec, CoreError> {
    let o = &run.opts;
    let args = if o.command.is_empty() { image.cmd.clone() } else { o.command.clone() };
    if args.is_empty() {
        return Err(CoreError::Invalid("no command given and the image has no default command".into()));
    }
    let mut defaults = vec![format!("HOSTNAME={hostname}"), "HOME=/root".to_string()];
    if o.tty {
        defaults.push("TERM=xterm".to_string());
    }
    let image_env = if image.env.iter().any(|e| e.starts_with("PATH=")) {
        image.env.clone()
    } else {
        let mut e = vec![format!("PATH={DEFAULT_PATH}")];
        e.extend(image.env.iter().cloned());
        e
    };
    let environment = env::merge(&[&image_env, &defaults, &run.env]);
    let cwd = o
        .workdir
        .clone()
        .or_else(|| (!image.working_dir.is_empty()).then(|| image.working_dir.clone()))
        .unwrap_or_else(|| "/".to_string());

    let caps = default_caps();
    let process = ProcessBuilder::default()
        .terminal(o.tty)
        .user(UserBuilder::default().uid(0u32).gid(0u32).build().map_err(spec_err)?)
        .args(args)
        .env(environment)
        .cwd(cwd)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(caps.clone())
                .effective(caps.clone())
                .permitted(caps)
                .inheritable(Capabilities::new())
                .ambient(Capabilities::new())
                .build()
                .map_err(spec_err)?,
        )
        .no_new_privileges(false)
        .build()
        .map_err(spec_err)?;

    let overlay_data = dirs.mount_data(&image.lowers);
    let mut mounts = vec![
        // The root itself: an overlay the runtime mounts inside the container's
        // mount namespace, so it never outlives the container.
        MountBuilder::default()
            .destination("/")
            .typ("overlay")
            .source("overlay")
            .options(split_overlay_data(&overlay_data))
            .build()
            .map_err(spec_err)?,
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"])?,
        mount("/dev/pts", "devpts", "devpts", &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"])?,
        mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"])?,
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"])?,
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"])?,
    ];
    for v in &run.volumes {
        let mut opts = vec!["rbind", "rprivate"];
        if v.readonly {
            opts.push("ro");
        }
        mounts.push(mount(
            &v.container.display().to_string(),
            "bind",
            &v.host.display().to_string(),
            &opts,
        )?);
    }

    let namespaces = [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ]
    .into_iter()
    .map(|t| LinuxNamespaceBuilder::default().typ(t).build().map_err(spec_err))
    .collect::<Result<Vec<_>, _>>()?;
    let linux = LinuxBuilder::default()
        .cgroups_path(cgroups_path(id, run.opts.limits.cgroup_parent.as_deref()))
        .resources(linux_resources(&run.resources)?)
        .namespaces(namespaces)
        .masked_paths(get_default_maskedpaths())
        .readonly_paths(get_default_readonly_paths())
        .build()
        .map_err(spec_err)?;

    SpecBuilder::default()
        .version("1.0.2")
        .root(RootBuilder::default().path(dirs.merged.clone()).readonly(false).build().map_err(spec_err)?)
        .process(process)
        .hostname(hostname)
        .mounts(mounts)
        .linux(linux)
        .build()
        .map_err(spec_err)
}

/// Overlay data as mount options: split on unescaped commas.
fn split_overlay_data(data: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in data.chars() {
        if c == ',' && !escaped {
            out.push(String::new());
            continue;
        }
        escaped = c == '\\' && !escaped;
        if let Some(s) = out.last_mut() {
            s.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::options::RunOptions;
    use crate::runtime::plan::InitPlan;
    use mydocker_fs::rootfs::RootSource;
    use std::path::Path;

    fn image() -> ImageView {
        ImageView {
            env: vec!["PATH=/bin:/usr/bin".into()],
            cmd: vec!["sh".into()],
            working_dir: String::new(),
            lowers: vec!["/r/images/layers/a".into()],
        }
    }

    fn valid(o: RunOptions) -> ValidRun {
        o.validate().unwrap()
    }

    #[test]
    fn run_flags_reach_the_spec_and_the_init_plan() {
        let run = valid(RunOptions {
            image: "busybox".into(),
            command: vec!["echo".into(), "a b".into()],
            env: vec!["A=1".into(), "PATH=/custom".into()],
            workdir: Some("/work".into()),
            volumes: vec!["/srv:/data:ro".into()],
            tty: true,
            ..Default::default()
        });
        let dirs = OverlayDirs::in_container_dir(Path::new("/r/containers/abc"));
        let spec = build(&image(), &run, &dirs, &"a".repeat(64), "abc123").unwrap();
        let plan = InitPlan::from_spec(&spec, Path::new("/")).unwrap();
        assert_eq!(plan.args.len(), 2);
        assert_eq!(plan.args[1].to_str().unwrap(), "a b");
        assert_eq!(plan.search_path, "/custom");
        assert!(plan.env.iter().any(|e| e.to_str().unwrap() == "HOSTNAME=abc123"));
        assert!(plan.env.iter().any(|e| e.to_str().unwrap() == "TERM=xterm"));
        assert_eq!(plan.cwd, Path::new("/work"));
        assert!(plan.terminal);
        assert_eq!(plan.hostname.as_deref(), Some("abc123"));
        let want = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWNET;
        assert_eq!(plan.clone_flags, want);
        match &plan.rootfs.source {
            RootSource::Overlay { data } => assert_eq!(data, &dirs.mount_data(&image().lowers)),
            other => panic!("root is {other:?}"),
        }
        let vol = plan.rootfs.mounts.last().unwrap();
        assert_eq!(vol.destination, Path::new("/data"));
        assert!(vol.options.contains(&"ro".to_string()));
        assert_eq!(plan.caps.as_ref().unwrap().bounding.len(), 14);
    }

    #[test]
    fn image_command_is_the_default() {
        let run = valid(RunOptions { image: "busybox".into(), ..Default::default() });
        let dirs = OverlayDirs::in_container_dir(Path::new("/r/c"));
        let spec = build(&image(), &run, &dirs, &"a".repeat(64), "h").unwrap();
        assert_eq!(spec.process().as_ref().unwrap().args().as_ref().unwrap(), &vec!["sh".to_string()]);
        assert_eq!(spec.process().as_ref().unwrap().cwd(), Path::new("/"));
    }

    #[test]
    fn no_command_at_all_is_refused() {
        let run = valid(RunOptions { image: "x".into(), ..Default::default() });
        let dirs = OverlayDirs::in_container_dir(Path::new("/r/c"));
        let img = ImageView { cmd: vec![], ..image() };
        assert!(build(&img, &run, &dirs, &"a".repeat(64), "h").is_err());
    }

    #[test]
    fn overlay_data_splits_on_unescaped_commas_only() {
        assert_eq!(split_overlay_data("a=1\\,2,b=3"), vec!["a=1\\,2".to_string(), "b=3".to_string()]);
    }
}
