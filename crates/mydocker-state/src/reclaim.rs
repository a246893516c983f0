//! Folders left by a mydocker that died half-way: a staging folder
//! (`.new-<id>`, a container being reserved) or a trash folder
//! (`.removing-<id>`, one being removed). Each is worked on under its lock
//! file; one whose lock is free has no one working on it any more, and is
//! removed, with any name that points at it.

use std::fs;
use std::path::Path;

use crate::lock::FileLock;
use crate::StateError;
use crate::store::{ContainerStore, LOCK_FILE, STAGING_LOCK_SUFFIX, STAGING_PREFIX, TRASH_PREFIX};

impl ContainerStore {
    /// Whether the staging folder of `id` exists and its maker is alive
    /// (its lock file is there and held). One left by a dead maker is
    /// removed.
    pub(crate) fn staging_is_live(&self, id: &str) -> bool {
        let dir = self.staging_dir(id);
        if !dir.exists() {
            return false;
        }
        let lock_path = self.staging_lock(id);
        match FileLock::try_existing(&lock_path) {
            // Held: its maker is at work.
            Ok(None) if lock_path.exists() => true,
            // Free, or gone while the folder stays: its maker died.
            Ok(lock) => {
                self.remove_stale(&dir, id);
                let _ = fs::remove_file(&lock_path);
                drop(lock);
                false
            }
            Err(_) => true,
        }
    }

    /// Remove the entry `entry` of `containers/` if it is a staging folder,
    /// a staging lock or a trash folder that no one works on. Best effort:
    /// listing goes on regardless.
    pub(crate) fn reclaim_if_stale(&self, entry: &str) {
        if let Some(rest) = entry.strip_prefix(STAGING_PREFIX) {
            match rest.strip_suffix(STAGING_LOCK_SUFFIX) {
                Some(id) => {
                    // A lock whose folder was never made, or already went.
                    if !self.staging_dir(id).exists() {
                        if let Ok(Some(lock)) = FileLock::try_existing(&self.staging_lock(id)) {
                            let _ = fs::remove_file(self.staging_lock(id));
                            drop(lock);
                        }
                    }
                }
                None => {
                    self.staging_is_live(rest);
                }
            }
        } else if let Some(id) = entry.strip_prefix(TRASH_PREFIX) {
            // rm holds the container's lock, inside the folder, while it removes it.
            let dir = self.containers.join(entry);
            if let Ok(Some(lock)) = FileLock::try_existing(&dir.join(LOCK_FILE)) {
                self.remove_stale(&dir, id);
                drop(lock);
            }
        }
    }

    /// Remove container `id` whose record cannot be read (left empty by a
    /// power loss while it started), and any name that points at it.
    pub fn remove_undecodable(&self, id: &str) -> Result<(), StateError> {
        self.remove(id, "")?;
        self.remove_names_of(id);
        Ok(())
    }

    fn remove_stale(&self, dir: &Path, id: &str) {
        if !self.dir(id).exists() {
            self.remove_names_of(id);
        }
        if let Err(e) = fs::remove_dir_all(dir) {
            log::warn!("removing {}, left by a mydocker that died: {e}", dir.display());
        }
    }

    /// Remove the names that point at container `id`.
    fn remove_names_of(&self, id: &str) {
        if let Ok(rd) = fs::read_dir(&self.names) {
            for link in rd.flatten().map(|e| e.path()) {
                if fs::read_link(&link).ok().is_some_and(|t| t.file_name().is_some_and(|f| f == id)) {
                    let _ = fs::remove_file(&link);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::record::ContainerRecord;
use crate::store::{ContainerStore, STAGING_PREFIX};

    fn make(id: &str, name: &str) -> ContainerRecord {
        ContainerRecord::new(id.into(), name.into(), "busybox".into(), "f".repeat(64), vec!["true".into()])
    }

    /// What a mydocker killed in the middle of `reserve` leaves: a staging
    /// folder with a free lock, and the name it took.
    fn left_by_a_dead_run(s: &ContainerStore, name: &str) -> String {
        let id = "a".repeat(64);
        let staging = s.containers.join(format!("{STAGING_PREFIX}{id}"));
        std::fs::write(s.staging_lock(&id), "").unwrap();
        std::fs::create_dir(&staging).unwrap();
        std::os::unix::fs::symlink(format!("../containers/{id}"), s.names.join(name)).unwrap();
        id
    }

    #[test]
    fn the_name_of_a_dead_reservation_is_taken_again() {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        let dead = left_by_a_dead_run(&s, "web");
        let r = s.reserve(Some("web"), make).unwrap();
        assert_ne!(r.id, dead);
        r.keep();
        assert!(!s.staging_dir(&dead).exists(), "the dead staging folder is left");
    }

    #[test]
    fn listing_removes_dead_staging_folders_and_their_names() {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        let dead = left_by_a_dead_run(&s, "db");
        assert!(s.ids().unwrap().is_empty());
        assert!(!s.staging_dir(&dead).exists());
        assert!(!s.staging_lock(&dead).exists());
        assert!(!s.names.join("db").exists() && std::fs::symlink_metadata(s.names.join("db")).is_err());
    }

    #[test]
    fn a_staging_folder_without_its_lock_is_dead() {
        // Its maker died after the folder went and before the lock did.
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        let dead = left_by_a_dead_run(&s, "q");
        std::fs::remove_file(s.staging_lock(&dead)).unwrap();
        assert!(s.ids().unwrap().is_empty());
        assert!(!s.staging_dir(&dead).exists());
    }

    #[test]
    fn a_record_left_empty_is_not_listed_and_can_be_removed_with_its_name() {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        let r = s.reserve(Some("torn"), make).unwrap();
        let id = r.id.clone();
        r.keep();
        std::fs::write(s.dir(&id).join("state.json"), "").unwrap();
        assert!(s.list().unwrap().is_empty());
        assert!(matches!(s.load(&id), Err(crate::StateError::Decode { .. })));
        s.remove_undecodable(&id).unwrap();
        assert!(!s.dir(&id).exists());
        assert!(std::fs::symlink_metadata(s.names.join("torn")).is_err(), "its name is left");
    }

    #[test]
    fn reserving_leaves_no_staging_lock() {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        s.reserve(Some("a"), make).unwrap().keep();
        assert!(s.reserve(Some("a"), make).is_err());
        let dots: Vec<_> = std::fs::read_dir(&s.containers)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(dots.is_empty(), "{dots:?}");
    }

    #[test]
    fn a_staging_folder_whose_lock_is_held_is_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        let live = left_by_a_dead_run(&s, "api");
        let _held = crate::lock::FileLock::exclusive(&s.staging_lock(&live)).unwrap();
        assert!(s.ids().unwrap().is_empty());
        assert!(s.staging_dir(&live).exists());
        assert!(matches!(s.reserve(Some("api"), make), Err(crate::StateError::NameInUse { .. })));
    }
}
