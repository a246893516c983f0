//! Running commands with clear errors, and small facts about the machine
//! and the workspace.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result};

/// A command that ran and did not succeed. `main` turns it into xtask's own
/// exit code, so `cargo xtask test` fails with the code `cargo test` had.
#[derive(Debug)]
pub struct CommandFailed {
    pub command: String,
    pub status: ExitStatus,
    pub stderr: String,
}

impl CommandFailed {
    /// The exit code to hand on: the command's own, or 128+N when it was
    /// killed by signal N.
    pub fn exit_code(&self) -> i32 {
        use std::os::unix::process::ExitStatusExt;
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => code,
            (None, Some(sig)) => 128 + sig,
            (None, None) => 1,
        }
    }
}

impl fmt::Display for CommandFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed: {}", self.command, describe(self.status))?;
        let stderr = self.stderr.trim();
        if !stderr.is_empty() {
            write!(f, "\n{stderr}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CommandFailed {}

/// "exit code 3" or "killed by signal 9".
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => format!("{status}"),
    }
}

/// A new command for `program`.
pub fn cmd(program: impl AsRef<OsStr>) -> Command {
    Command::new(program)
}

/// The command as a user would type it, with the environment variables
/// this xtask set on it in front.
pub fn display(c: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in c.get_envs() {
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                shell_quote(&value.to_string_lossy())
            ));
        }
    }
    parts.push(shell_quote(&c.get_program().to_string_lossy()));
    for arg in c.get_args() {
        parts.push(shell_quote(&arg.to_string_lossy()));
    }
    parts.join(" ")
}

/// Quote `s` for a POSIX shell, only when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Print the command, run it with inherited stdio, fail unless it succeeds.
pub fn run(c: &mut Command) -> Result<()> {
    println!("$ {}", display(c));
    run_quiet(c)
}

/// Run the command with inherited stdio without printing it first.
pub fn run_quiet(c: &mut Command) -> Result<()> {
    let shown = display(c);
    let status = c
        .status()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if status.success() {
        Ok(())
    } else {
        Err(CommandFailed {
            command: shown,
            status,
            stderr: String::new(),
        }
        .into())
    }
}

/// Run the command and return its stdout; its stderr goes into the error
/// when it fails. Nothing is printed.
pub fn output(c: &mut Command) -> Result<String> {
    let shown = display(c);
    let out = c
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot start `{shown}`"))?;
    if !out.status.success() {
        return Err(CommandFailed {
            command: shown,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
        .into());
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{shown}` printed something not UTF-8"))
}

/// Where `name` is found on PATH, if anywhere.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether this process runs with effective uid 0.
pub fn is_root() -> bool {
    // The "Uid:" line of /proc/self/status is: real, effective, saved, fs.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The workspace this xtask belongs to.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in a folder of the workspace")
        .to_path_buf()
}

/// The cargo target directory: CARGO_TARGET_DIR when set, else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The cargo that runs this xtask (cargo sets CARGO for `cargo run`).
pub fn cargo() -> Command {
    let mut c = cmd(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(workspace_root());
    c
}

/// A fresh folder under the system temp dir, named after `prefix` and this
/// process, so two runs on one machine never share one.
pub fn fresh_temp_dir(prefix: &str) -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos:x}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("/bin/true"), "/bin/true");
        assert_eq!(shell_quote("K=V"), "K=V");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("echo $$"), "'echo $$'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_failed_command_tells_what_and_how() {
        let err = output(cmd("sh").args(["-c", "echo oops >&2; exit 3"])).unwrap_err();
        let failed = err
            .downcast_ref::<CommandFailed>()
            .expect("a CommandFailed");
        assert_eq!(failed.exit_code(), 3);
        let text = err.to_string();
        assert!(
            text.contains("`sh -c 'echo oops >&2; exit 3'` failed: exit code 3"),
            "{text}"
        );
        assert!(text.contains("oops"), "{text}");
    }

    #[test]
    fn a_missing_program_is_reported_by_name() {
        let err = output(&mut cmd("/nonexistent/prog")).unwrap_err();
        assert!(format!("{err:#}").contains("cannot start `/nonexistent/prog`"));
    }
}
