//! inspect: everything known of a container, as JSON.

use serde_json::{json, Value};

use super::launch::{CONFIG_FILE, LOG_FILE};
use super::Engine;
use crate::CoreError;

impl Engine {
    pub fn inspect(&self, reference: &str) -> Result<Value, CoreError> {
        let id = self.containers.resolve(reference)?;
        let rec = self.containers.load(&id)?;
        let dir = self.containers.dir(&id);
        let config: Value = mydocker_state::atomic::read_json(&dir.join(CONFIG_FILE)).unwrap_or(Value::Null);
        let mounts: Vec<Value> = config["mounts"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .filter(|m| m["type"] == "bind")
                    .map(|m| {
                        let ro = m["options"].as_array().map(|o| o.iter().any(|x| x == "ro")).unwrap_or(false);
                        json!({ "Source": m["source"], "Destination": m["destination"], "RW": !ro })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(json!({
            "Id": rec.id,
            "Name": rec.name,
            "Image": rec.image,
            "ImageId": rec.image_id,
            "Command": rec.command,
            "Created": rec.created,
            "State": {
                "Status": rec.status,
                "Running": rec.status.is_live(),
                "Paused": rec.status == mydocker_state::Status::Paused,
                "OOMKilled": rec.oom_killed,
                "Pid": rec.pid,
                "ExitCode": rec.exit_code,
                "StartedAt": rec.started,
                "FinishedAt": rec.finished,
            },
            "AutoRemove": rec.auto_remove,
            "Resources": config["linux"]["resources"],
            "Cgroup": rec.cgroup,
            "Detached": rec.detached,
            "Tty": rec.tty,
            "Mounts": mounts,
            "LogPath": dir.join(LOG_FILE),
            "RootfsUpper": dir.join("upper"),
            "Config": config,
        }))
    }
}
