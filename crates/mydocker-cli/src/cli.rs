//! The command line, as clap structs: one variant per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "mydocker", version, about = "A container engine: namespaces, cgroups, overlay images", long_about = None)]
pub struct Cli {
    /// Where mydocker keeps containers and images.
    #[arg(long, global = true, env = "MYDOCKER_ROOT", default_value = mydocker_core::engine::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// error, warn, info, debug or trace.
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command in a new container.
    Run(RunArgs),
    /// List containers.
    Ps(PsArgs),
    /// Remove containers.
    Rm(RmArgs),
    /// Run a command in a running container.
    Exec(ExecArgs),
    /// Stop containers: SIGTERM, then SIGKILL after a timeout.
    Stop(StopArgs),
    /// Send a signal to containers.
    Kill(KillArgs),
    /// Start stopped containers.
    Start(StartArgs),
    /// Stop, then start containers.
    Restart(StopArgs),
    /// Wait for containers to end and print their exit codes.
    Wait(NamesArgs),
    /// Show everything known of containers, as JSON.
    Inspect(NamesArgs),
    /// Show a detached container's output.
    Logs(LogsArgs),
    /// CPU, memory and pids of running containers.
    Stats(StatsArgs),
    /// Freeze every process of containers.
    Pause(NamesArgs),
    /// Thaw paused containers.
    Unpause(NamesArgs),
    /// Change the resource limits of running containers.
    Update(UpdateArgs),
    /// Store a rootfs tarball as an image.
    Import(ImportArgs),
    /// List images.
    Images,
    /// Remove images.
    Rmi(RmiArgs),
}

#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Keep stdin open.
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the container a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Run in the background and print the container's ID.
    #[arg(short, long)]
    pub detach: bool,
    /// The container's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to take the host's).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Read environment variables from a file.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// The working directory inside the container.
    #[arg(short, long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// Bind mount a host folder: HOST:CONTAINER[:ro].
    #[arg(short, long = "volume", value_name = "HOST:CONTAINER[:ro]")]
    pub volume: Vec<String>,
    /// The container's hostname (default: its short ID).
    #[arg(long)]
    pub hostname: Option<String>,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// The image, then the command and its arguments.
    #[arg(required = true, value_name = "IMAGE [COMMAND [ARG...]]", allow_hyphen_values = true)]
    pub image_and_command: Vec<String>,
}

/// Resource limits (docker's names; the series' -cpushare and -cpuset too).
#[derive(Debug, Args, Default, Clone)]
pub struct LimitArgs {
    /// Memory limit: 100m, 1g, or bytes.
    #[arg(short = 'm', long, value_name = "BYTES")]
    pub memory: Option<String>,
    /// Memory plus swap; -1 for unlimited swap.
    #[arg(long = "memory-swap", value_name = "BYTES")]
    pub memory_swap: Option<String>,
    /// Relative CPU weight (default 1024).
    #[arg(short = 'c', long = "cpu-shares", value_name = "N")]
    pub cpu_shares: Option<String>,
    /// How many CPUs' time, e.g. 0.5.
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// CPUs the container may run on, e.g. 0-1 or 1.
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use.
    #[arg(long = "cpuset-mems", value_name = "LIST")]
    pub cpuset_mems: Option<String>,
    /// Most processes at once (-1: unlimited).
    #[arg(long = "pids-limit", value_name = "N")]
    pub pids_limit: Option<String>,
    /// The cgroup to make the container's cgroup beneath (default: mydocker's own).
    #[arg(long = "cgroup-parent", value_name = "PATH")]
    pub cgroup_parent: Option<String>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (the default: mydocker lists stopped ones too).
    #[arg(short, long)]
    pub all: bool,
    /// Only IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// table (default) or json.
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct ExecArgs {
    #[arg(short, long)]
    pub interactive: bool,
    #[arg(short, long)]
    pub tty: bool,
    /// Run in the background.
    #[arg(short, long)]
    pub detach: bool,
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    #[arg(short, long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// The container, then the command and its arguments.
    #[arg(required = true, num_args = 2.., value_name = "CONTAINER COMMAND [ARG...]", allow_hyphen_values = true)]
    pub container_and_command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait for the container to end after SIGTERM.
    #[arg(short, long = "time", default_value_t = 10)]
    pub time: u64,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The signal: TERM, SIGTERM, 15...
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach: print the container's output until it ends; exit with its code.
    #[arg(short, long)]
    pub attach: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print one sample and return.
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Containers (default: every running one).
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub limits: LimitArgs,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow new output until the container ends.
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Show each line's time.
    #[arg(short, long)]
    pub timestamps: bool,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Kill a running container, then remove it.
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A rootfs tarball (as `docker export` makes).
    pub file: PathBuf,
    /// The image's name.
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

impl From<LimitArgs> for mydocker_core::engine::options::LimitOptions {
    fn from(a: LimitArgs) -> Self {
        mydocker_core::engine::options::LimitOptions {
            memory: a.memory,
            memory_swap: a.memory_swap,
            cpu_shares: a.cpu_shares,
            cpus: a.cpus,
            cpuset_cpus: a.cpuset_cpus,
            cpuset_mems: a.cpuset_mems,
            pids_limit: a.pids_limit,
            cgroup_parent: a.cgroup_parent,
        }
    }
}
