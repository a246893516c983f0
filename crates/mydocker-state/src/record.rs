//! The record of one container: `containers/<id>/state.json`.

use serde::{Deserialize, Serialize};

use crate::proc;
use crate::status::Status;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    /// The image as the user named it, and the ID it resolved to.
    pub image: String,
    pub image_id: String,
    /// The command and its arguments.
    pub command: Vec<String>,
    pub status: Status,
    /// The container's PID 1 as the host sees it, and its start time (clock
    /// ticks since boot) so that a recycled pid is never taken for ours.
    #[serde(default)]
    pub pid: i32,
    #[serde(default)]
    pub pid_start_time: u64,
    /// None while the container has not exited, or when nobody saw it exit.
    #[serde(default)]
    pub exit_code: Option<i32>,
    pub created: String,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub finished: Option<String>,
    /// `--rm`: remove the container when it exits.
    #[serde(default)]
    pub auto_remove: bool,
    /// The process that waits for the container and records its end (the
    /// monitor of a detached container, or the mydocker of a foreground
    /// one), with its start time.
    #[serde(default)]
    pub monitor_pid: i32,
    #[serde(default)]
    pub monitor_start_time: u64,
    /// Started with -d (its output is in container.log).
    #[serde(default)]
    pub detached: bool,
    /// Started with -t.
    #[serde(default)]
    pub tty: bool,
    /// Where the container's cgroup is, as mydocker-cgroups records it
    /// (opaque here: the ground floor knows no cgroups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<serde_json::Value>,
    /// The kernel's OOM killer ended the container.
    #[serde(default)]
    pub oom_killed: bool,
}

impl ContainerRecord {
    /// A record for a container that has been reserved but not started.
    pub fn new(id: String, name: String, image: String, image_id: String, command: Vec<String>) -> Self {
        ContainerRecord {
            id,
            name,
            image,
            image_id,
            command,
            status: Status::Created,
            pid: 0,
            pid_start_time: 0,
            exit_code: None,
            created: crate::time::now_rfc3339(),
            started: None,
            finished: None,
            auto_remove: false,
            monitor_pid: 0,
            monitor_start_time: 0,
            detached: false,
            tty: false,
            cgroup: None,
            oom_killed: false,
        }
    }

    /// Derive the status from the kernel: a record that says running or
    /// paused, whose process is gone (or whose pid now belongs to another
    /// process), is stopped. Returns true when the record changed.
    pub fn refresh(&mut self) -> bool {
        if self.status.is_live() && !proc::is_same_process(self.pid, self.pid_start_time) {
            self.status = Status::Stopped;
            self.pid = 0;
            return true;
        }
        false
    }

    /// True while the process that records this container's end is alive.
    pub fn monitor_alive(&self) -> bool {
        proc::is_same_process(self.monitor_pid, self.monitor_start_time)
    }

    /// The status as `ps` shows it: `Up`, `Created`, `Exited (N)`.
    pub fn status_text(&self) -> String {
        match self.status {
            Status::Created => "Created".to_string(),
            Status::Running => "Up".to_string(),
            Status::Paused => "Up (Paused)".to_string(),
            Status::Stopped => match self.exit_code {
                Some(code) => format!("Exited ({code})"),
                None => "Exited (unknown)".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> ContainerRecord {
        ContainerRecord::new("a".repeat(64), "web".into(), "busybox".into(), "b".repeat(64), vec!["sh".into()])
    }

    #[test]
    fn running_record_with_dead_pid_is_derived_stopped() {
        let mut r = rec();
        r.status = Status::Running;
        r.pid = i32::MAX - 1; // no such process
        r.pid_start_time = 1;
        assert!(r.refresh());
        assert_eq!(r.status, Status::Stopped);
        assert_eq!(r.status_text(), "Exited (unknown)");
    }

    #[test]
    fn running_record_with_recycled_pid_is_derived_stopped() {
        let mut r = rec();
        r.status = Status::Running;
        r.pid = std::process::id() as i32;
        r.pid_start_time = proc::start_time(r.pid).unwrap() + 1;
        assert!(r.refresh());
        assert_eq!(r.status, Status::Stopped);
    }

    #[test]
    fn running_record_with_live_pid_stays_running() {
        let mut r = rec();
        r.status = Status::Running;
        r.pid = std::process::id() as i32;
        r.pid_start_time = proc::start_time(r.pid).unwrap();
        assert!(!r.refresh());
        assert_eq!(r.status_text(), "Up");
    }
}
