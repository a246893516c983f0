//! The container status state machine.
//!
//! Legal moves (anything else is a typed error):
//!
//! | from     | to       | by                                  |
//! |----------|----------|-------------------------------------|
//! | Created  | Running  | the process was started             |
//! | Created  | Stopped  | start failed, or the record was found dead |
//! | Running  | Stopped  | the process exited or was killed    |
//! | Running  | Paused   | freeze                              |
//! | Paused   | Running  | thaw                                |
//! | Paused   | Stopped  | killed while frozen                 |
//! | Stopped  | Running  | start again on the same writable layer |

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }

    /// Whether the move from `self` to `to` is legal.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Created, Running)
                | (Created, Stopped)
                | (Running, Stopped)
                | (Running, Paused)
                | (Paused, Running)
                | (Paused, Stopped)
                | (Stopped, Running)
        )
    }

    /// A container in this status has a live process.
    pub fn is_live(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::{self, *};

    #[test]
    fn transition_table() {
        let all = [Created, Running, Paused, Stopped];
        let legal = [
            (Created, Running),
            (Created, Stopped),
            (Running, Stopped),
            (Running, Paused),
            (Paused, Running),
            (Paused, Stopped),
            (Stopped, Running),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.can_become(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn serializes_lowercase() {
        assert_eq!(serde_json::to_string(&Status::Running).unwrap(), "\"running\"");
        let s: Status = serde_json::from_str("\"stopped\"").unwrap();
        assert_eq!(s, Stopped);
    }
}
