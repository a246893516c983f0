//! The container store: `containers/<id>/` folders and `names/<name>` links.
//!
//! A container is reserved by `mkdir containers/<id>` (a duplicate ID fails
//! there, not on a check before it) and its name by `symlink names/<name>`
//! (atomic: a name is taken once). Removal first renames the folder out of
//! sight, so a crash half-way never leaves a record that points at nothing.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::atomic;
use crate::id;
use crate::lock::FileLock;
use crate::name;
use crate::record::ContainerRecord;
use crate::StateError;

const STATE_FILE: &str = "state.json";
pub(crate) const LOCK_FILE: &str = "lock";
pub(crate) const TRASH_PREFIX: &str = ".removing-";
pub(crate) const STAGING_PREFIX: &str = ".new-";
pub(crate) const STAGING_LOCK_SUFFIX: &str = ".lock";

/// The lock of a staging folder, held while a container is reserved;
/// dropped, its file goes (after the folder, moved or removed, went).
struct StagingLock {
    path: PathBuf,
    _lock: FileLock,
}

impl StagingLock {
    /// None when `id` is being staged already.
    fn take(store: &ContainerStore, id: &str) -> Result<Option<StagingLock>, StateError> {
        let path = store.staging_lock(id);
        match FileLock::create_locked(&path) {
            Ok(lock) => Ok(Some(StagingLock { path, _lock: lock })),
            Err(StateError::Io { source, .. }) if source.kind() == ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for StagingLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[derive(Debug, Clone)]
pub struct ContainerStore {
    pub(crate) containers: PathBuf,
    pub(crate) names: PathBuf,
}

/// A container folder and name that were just taken. Dropped without
/// [`Reservation::keep`], it gives both back.
#[derive(Debug)]
pub struct Reservation {
    store: ContainerStore,
    pub id: String,
    pub name: String,
    kept: bool,
}

impl Reservation {
    /// The container folder.
    pub fn dir(&self) -> PathBuf {
        self.store.dir(&self.id)
    }

    /// The container now exists for good: do not undo the reservation.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.kept {
            if let Err(e) = self.store.remove(&self.id, &self.name) {
                log::warn!("giving back container {}: {e}", id::short(&self.id));
            }
        }
    }
}

impl ContainerStore {
    /// The store under `root` (`<root>/containers`, `<root>/names`), created when missing.
    pub fn open(root: &Path) -> Result<ContainerStore, StateError> {
        let store = ContainerStore {
            containers: root.join("containers"),
            names: root.join("names"),
        };
        for dir in [&store.containers, &store.names] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(StateError::io("creating", dir))?;
        }
        Ok(store)
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.containers.join(id)
    }

    /// Take a fresh ID and the name (given, or generated when None), and
    /// write the record `make` returns for them.
    ///
    /// The folder is made, with its record, under a staging name and renamed
    /// into place once the name is taken: a mydocker killed at any point
    /// leaves either nothing that `ps` shows, or a whole container that `rm`
    /// removes.
    pub fn reserve(
        &self,
        wanted: Option<&str>,
        make: impl FnOnce(&str, &str) -> ContainerRecord,
    ) -> Result<Reservation, StateError> {
        if let Some(n) = wanted {
            name::validate(n)?;
        }
        // The staging lock first, locked as it appears, then the folder: a
        // staging folder whose lock is free or gone was left by a process
        // that died (reclaim.rs).
        let (id, _staging) = loop {
            let id = id::random_id().map_err(StateError::io("reading", "/dev/urandom"))?;
            let lock = match StagingLock::take(self, &id)? {
                Some(l) => l,
                None => continue,
            };
            let staging = self.staging_dir(&id);
            match fs::DirBuilder::new().mode(0o700).create(&staging) {
                Ok(()) => break (id, lock),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(StateError::Io { op: "creating", path: staging, source: e }),
            }
        };
        let mut reservation = Reservation { store: self.clone(), id, name: String::new(), kept: false };
        reservation.name = match wanted {
            Some(n) => {
                self.take_name(n, &reservation.id)?;
                n.to_string()
            }
            None => loop {
                let n = name::generate();
                match self.take_name(&n, &reservation.id) {
                    Ok(()) => break n,
                    Err(StateError::NameInUse { .. }) => continue,
                    Err(e) => return Err(e),
                }
            },
        };
        let record = make(&reservation.id, &reservation.name);
        let staging = self.staging_dir(&reservation.id);
        atomic::write_json_unsynced(&staging.join(STATE_FILE), &record)?;
        let dir = self.dir(&reservation.id);
        fs::rename(&staging, &dir).map_err(StateError::io("moving into place", &dir))?;
        Ok(reservation)
    }

    pub(crate) fn staging_dir(&self, id: &str) -> PathBuf {
        self.containers.join(format!("{STAGING_PREFIX}{id}"))
    }

    pub(crate) fn staging_lock(&self, id: &str) -> PathBuf {
        self.containers.join(format!("{STAGING_PREFIX}{id}{STAGING_LOCK_SUFFIX}"))
    }

    fn take_name(&self, n: &str, id: &str) -> Result<(), StateError> {
        let link = self.names.join(n);
        let target = Path::new("../containers").join(id);
        for _ in 0..2 {
            match std::os::unix::fs::symlink(&target, &link) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    // A link whose container folder is gone was left by a crash: reclaim it.
                    let holder = fs::read_link(&link)
                        .ok()
                        .and_then(|t| t.file_name().map(|h| h.to_string_lossy().into_owned()));
                    let held = |h: &String| self.dir(h).exists() || self.staging_is_live(h);
                    if let Some(holder) = holder.filter(held) {
                        return Err(StateError::NameInUse {
                            name: n.to_string(),
                            id: id::short(&holder).to_string(),
                        });
                    }
                    let _ = fs::remove_file(&link);
                }
                Err(e) => return Err(StateError::Io { op: "creating name link", path: link, source: e }),
            }
        }
        Err(StateError::NameInUse { name: n.to_string(), id: String::new() })
    }

    /// Hold the container's lock while changing it.
    pub fn lock(&self, id: &str) -> Result<FileLock, StateError> {
        FileLock::exclusive(&self.dir(id).join(LOCK_FILE))
    }

    pub fn save(&self, record: &ContainerRecord) -> Result<(), StateError> {
        atomic::write_json(&self.dir(&record.id).join(STATE_FILE), record)
    }

    /// Save a record of a container that is starting, without waiting for
    /// the disk (see atomic.rs): after a power loss its process is gone
    /// anyway, and a record left empty is skipped by `list` and removed by
    /// `remove_undecodable`.
    pub fn save_starting(&self, record: &ContainerRecord) -> Result<(), StateError> {
        atomic::write_json_unsynced(&self.dir(&record.id).join(STATE_FILE), record)
    }

    /// Load a record as written, without deriving its status.
    pub fn load_raw(&self, id: &str) -> Result<ContainerRecord, StateError> {
        let path = self.dir(id).join(STATE_FILE);
        match atomic::read_json(&path) {
            Err(StateError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                Err(StateError::NoSuchContainer(id.to_string()))
            }
            other => other,
        }
    }

    /// Load a record with its status derived from the kernel.
    pub fn load(&self, id: &str) -> Result<ContainerRecord, StateError> {
        let mut r = self.load_raw(id)?;
        r.refresh();
        Ok(r)
    }

    /// The full ID of a container named by name, full ID, or unique ID prefix.
    pub fn resolve(&self, reference: &str) -> Result<String, StateError> {
        if name::validate(reference).is_ok() {
            if let Ok(target) = fs::read_link(self.names.join(reference)) {
                if let Some(id) = target.file_name() {
                    let id = id.to_string_lossy().into_owned();
                    if self.dir(&id).join(STATE_FILE).exists() {
                        return Ok(id);
                    }
                }
            }
        }
        if !id::is_hex_prefix(reference) {
            return Err(StateError::NoSuchContainer(reference.to_string()));
        }
        let matches: Vec<String> = self.ids()?.into_iter().filter(|id| id.starts_with(reference)).collect();
        match matches.len() {
            0 => Err(StateError::NoSuchContainer(reference.to_string())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            _ => Err(StateError::Ambiguous {
                reference: reference.to_string(),
                candidates: matches.iter().map(|m| id::short(m)).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// Every container ID with a record.
    pub fn ids(&self) -> Result<Vec<String>, StateError> {
        let rd = fs::read_dir(&self.containers).map_err(StateError::io("listing", &self.containers))?;
        let mut ids = Vec::new();
        for entry in rd {
            let entry = entry.map_err(StateError::io("listing", &self.containers))?;
            let n = entry.file_name().to_string_lossy().into_owned();
            if n.len() == 64 && id::is_hex_prefix(&n) {
                ids.push(n);
            } else if n.starts_with('.') {
                self.reclaim_if_stale(&n);
            }
        }
        Ok(ids)
    }

    /// Every container, status derived, oldest first. A folder without a
    /// record (a run that is being set up) is skipped.
    pub fn list(&self) -> Result<Vec<ContainerRecord>, StateError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            match self.load(&id) {
                Ok(r) => out.push(r),
                Err(StateError::NoSuchContainer(_)) => {}
                // Left torn by a power loss: listed by no one, removed by rm.
                Err(e @ StateError::Decode { .. }) => log::warn!("container {}: {e}", id::short(&id)),
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.created.cmp(&b.created));
        Ok(out)
    }

    /// Remove the container's folder and its name. Idempotent.
    pub fn remove(&self, id: &str, name: &str) -> Result<(), StateError> {
        match fs::remove_dir_all(self.staging_dir(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io { op: "removing", path: self.staging_dir(id), source: e }),
        }
        let dir = self.dir(id);
        let trash = self.containers.join(format!("{TRASH_PREFIX}{id}"));
        match fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Io { op: "removing", path: dir, source: e }),
        }
        let link = self.names.join(name);
        if !name.is_empty() {
            if let Ok(target) = fs::read_link(&link) {
                if target.file_name().map(|f| f == id).unwrap_or(false) {
                    fs::remove_file(&link).map_err(StateError::io("removing name link", &link))?;
                }
            }
        }
        match fs::remove_dir_all(&trash) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StateError::Io { op: "removing", path: trash, source: e }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn store() -> (tempfile::TempDir, ContainerStore) {
        let t = tempfile::tempdir().unwrap();
        let s = ContainerStore::open(t.path()).unwrap();
        (t, s)
    }

    fn make(id: &str, name: &str) -> ContainerRecord {
        ContainerRecord::new(id.into(), name.into(), "busybox".into(), "f".repeat(64), vec!["true".into()])
    }

    fn record(r: &Reservation) -> ContainerRecord {
        make(&r.id, &r.name)
    }

    #[test]
    fn a_name_is_taken_once() {
        let (_t, s) = store();
        let a = s.reserve(Some("web"), make).unwrap();
        s.save(&record(&a)).unwrap();
        let err = s.reserve(Some("web"), make).unwrap_err();
        assert!(matches!(err, StateError::NameInUse { .. }), "{err}");
        a.keep();
        assert_eq!(s.ids().unwrap().len(), 1, "the failed reservation left a folder");
    }

    #[test]
    fn invalid_name_makes_nothing() {
        let (t, s) = store();
        assert!(matches!(s.reserve(Some("../../x"), make), Err(StateError::InvalidName(_))));
        assert_eq!(fs::read_dir(t.path().join("containers")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(t.path().join("names")).unwrap().count(), 0);
    }

    #[test]
    fn dropped_reservation_gives_back_folder_and_name() {
        let (_t, s) = store();
        {
            let _r = s.reserve(Some("tmp"), make).unwrap();
        }
        assert!(s.ids().unwrap().is_empty());
        s.reserve(Some("tmp"), make).unwrap().keep();
    }

    #[test]
    fn resolve_by_name_id_and_prefix() {
        let (_t, s) = store();
        let r = s.reserve(Some("db"), make).unwrap();
        s.save(&record(&r)).unwrap();
        let id = r.id.clone();
        r.keep();
        assert_eq!(s.resolve("db").unwrap(), id);
        assert_eq!(s.resolve(&id).unwrap(), id);
        assert_eq!(s.resolve(&id[..5]).unwrap(), id);
        assert!(matches!(s.resolve("nope"), Err(StateError::NoSuchContainer(_))));
    }

    #[test]
    fn generated_names_are_valid_and_list_roundtrips() {
        let (_t, s) = store();
        let r = s.reserve(None, make).unwrap();
        name::validate(&r.name).unwrap();
        let mut rec = record(&r);
        rec.status = Status::Stopped;
        rec.exit_code = Some(3);
        s.save(&rec).unwrap();
        r.keep();
        let listed = s.list().unwrap();
        assert_eq!(listed, vec![rec]);
    }

    #[test]
    fn remove_frees_the_name_and_is_idempotent() {
        let (_t, s) = store();
        let r = s.reserve(Some("gone"), make).unwrap();
        let (id, name) = (r.id.clone(), r.name.clone());
        s.save(&record(&r)).unwrap();
        r.keep();
        s.remove(&id, &name).unwrap();
        s.remove(&id, &name).unwrap();
        assert!(s.ids().unwrap().is_empty());
        s.reserve(Some("gone"), make).unwrap().keep();
    }

    #[test]
    fn a_reserved_container_is_whole_at_once() {
        let (t, s) = store();
        let r = s.reserve(Some("whole"), make).unwrap();
        assert_eq!(s.load(&r.id).unwrap().name, "whole");
        assert_eq!(s.resolve("whole").unwrap(), r.id);
        r.keep();
        let names: Vec<_> = fs::read_dir(t.path().join("containers")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_name_held_by_a_container_being_made_is_not_reclaimed() {
        let (t, s) = store();
        // Its maker is alive: the staging lock is held.
        let _maker = FileLock::create_locked(&s.staging_lock("abc")).unwrap();
        fs::create_dir(t.path().join("containers/.new-abc")).unwrap();
        std::os::unix::fs::symlink("../containers/abc", t.path().join("names/busy")).unwrap();
        assert!(matches!(s.reserve(Some("busy"), make), Err(StateError::NameInUse { .. })));
    }

    #[test]
    fn dangling_name_left_by_a_crash_is_reclaimed() {
        let (t, s) = store();
        std::os::unix::fs::symlink("../containers/deadbeef", t.path().join("names/ghost")).unwrap();
        s.reserve(Some("ghost"), make).unwrap().keep();
    }
}
