//! What the host sees: its mount table, its processes, its files.

use std::fs;
use std::path::{Path, PathBuf};

/// One line of /proc/self/mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: PathBuf,
    pub fstype: String,
    /// The whole line, for messages and for searching super options
    /// (an overlay's `upperdir=` names its folders).
    pub line: String,
}

/// The test process's mount table (the host's mount namespace).
pub fn mounts() -> Vec<Mount> {
    let text = fs::read_to_string("/proc/self/mountinfo").expect("reading /proc/self/mountinfo");
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let dash = fields.iter().position(|f| *f == "-")?;
            Some(Mount {
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                fstype: fields.get(dash + 1)?.to_string(),
                line: line.to_string(),
            })
        })
        .collect()
}

/// Mounts whose mount point is `dir` or beneath it.
pub fn mounts_under(dir: &Path) -> Vec<Mount> {
    mounts().into_iter().filter(|m| m.mount_point.starts_with(dir)).collect()
}

/// Mounts that name `dir` anywhere: as mount point, source or option.
pub fn mounts_mentioning(dir: &Path) -> Vec<Mount> {
    let needle = dir.to_string_lossy().into_owned();
    mounts().into_iter().filter(|m| m.mount_point.starts_with(dir) || unescape(&m.line).contains(&needle)).collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lazily unmount (MNT_DETACH) `path`.
pub fn lazy_unmount(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A live process: its pid and command line (arguments joined by spaces).
#[derive(Clone, Debug)]
pub struct Process {
    pub pid: i32,
    pub cmdline: String,
}

/// Every process (but this one) whose command line contains `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<Process> {
    let me = std::process::id() as i32;
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ").trim_end().to_string();
            cmdline.contains(needle).then_some(Process { pid, cmdline })
        })
        .collect()
}

/// A process's start time (field 22 of /proc/PID/stat), telling it apart
/// from a later process that reuses its pid; None if it is gone or a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// True if the process `pid` that started at `started` still lives.
pub fn is_alive(pid: i32, started: u64) -> bool {
    start_time(pid) == Some(started)
}

/// SIGKILL `pid` if it is still the process that started at `started`.
pub fn kill_if_same(pid: i32, started: u64) {
    if is_alive(pid, started) {
        // SAFETY: plain syscall; the pid was checked to be the process we mean.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Every path beneath `dir` (not following symlinks); empty if `dir` is missing.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// Names of the entries of `dir`, sorted; empty if it is missing.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The host's hostname.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").expect("reading the host's hostname").trim().to_string()
}

/// The namespace `kind` (uts, pid, mnt, ipc, net) of this process, as
/// `readlink /proc/self/ns/KIND` shows it.
pub fn namespace(kind: &str) -> String {
    fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap_or_else(|e| panic!("reading /proc/self/ns/{kind}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// A process named by its pid and its start time, so that a later process
/// reusing the pid is not mistaken for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessRef {
    pub pid: i32,
    pub started: u64,
}

impl ProcessRef {
    /// The live process `pid` (not a zombie), if there is one.
    pub fn of(pid: i32) -> Option<ProcessRef> {
        start_time(pid).map(|started| ProcessRef { pid, started })
    }

    pub fn is_alive(&self) -> bool {
        is_alive(self.pid, self.started)
    }

    /// Send `signal` if it is still the same process; false if it was gone.
    pub fn signal(&self, signal: libc::c_int) -> bool {
        if !self.is_alive() {
            return false;
        }
        // SAFETY: plain syscall; the pid was just checked to be the process we mean.
        unsafe { libc::kill(self.pid, signal) == 0 }
    }
}

/// The command line of `pid`, its arguments joined by spaces; None if it is gone.
pub fn cmdline(pid: i32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " ").trim_end().to_string())
}

/// The PID namespace of `pid` as `readlink /proc/PID/ns/pid` shows it.
pub fn pid_namespace(pid: i32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/pid")).ok().map(|p| p.to_string_lossy().into_owned())
}

/// Every live process in the PID namespace `ns` (as [`pid_namespace`] names it).
pub fn processes_in_pid_namespace(ns: &str) -> Vec<ProcessRef> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid_namespace(pid).as_deref() == Some(ns))
        .filter_map(ProcessRef::of)
        .collect()
}
