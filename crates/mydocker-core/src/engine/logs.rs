//! logs: a detached container's output, each line to the stream it came
//! from; with follow, new lines as they are written (inotify), until the
//! container's monitor has written the last of them and left.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsFd;

use mydocker_state::log::LogEntry;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use super::launch::LOG_FILE;
use super::Engine;
use crate::runtime::process::pidfd;
use crate::CoreError;

#[derive(Debug, Clone, Default)]
pub struct LogsOptions {
    pub follow: bool,
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Only what was written from this byte of the log on (a
    /// [`Engine::log_end`] taken earlier).
    pub from: u64,
}

impl Engine {
    /// Where the container's log ends now: with [`LogsOptions::from`], what
    /// a run started after this call writes, and nothing of earlier runs.
    pub fn log_end(&self, reference: &str) -> Result<u64, CoreError> {
        let id = self.containers.resolve(reference)?;
        let path = self.containers.dir(&id).join(LOG_FILE);
        match std::fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(CoreError::io(format!("reading {}", path.display()))(e)),
        }
    }

    pub fn logs(
        &self,
        reference: &str,
        o: &LogsOptions,
        emit: &mut dyn FnMut(&LogEntry) -> std::io::Result<()>,
    ) -> Result<(), CoreError> {
        let id = self.containers.resolve(reference)?;
        let rec = self.containers.load(&id)?;
        let path = self.containers.dir(&id).join(LOG_FILE);
        let io_err = |what: &str| CoreError::io(format!("{what} {}", path.display()));
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err("opening")(e)),
        };
        file.seek(SeekFrom::Start(o.from)).map_err(io_err("reading"))?;
        // Watch before reading, so that nothing written in between is missed.
        let watch = if o.follow && rec.status.is_live() && rec.monitor_alive() {
            let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
                .map_err(CoreError::sys("watching the log"))?;
            ino.add_watch(&path, AddWatchFlags::IN_MODIFY).map_err(CoreError::sys("watching the log"))?;
            pidfd::open(rec.monitor_pid).map_err(CoreError::sys("watching the monitor"))?.map(|fd| (ino, fd))
        } else {
            None
        };

        let mut pending = Vec::new();
        let mut entries = Vec::new();
        read_new(&mut file, &mut pending, &mut entries).map_err(io_err("reading"))?;
        let skip = o.tail.map(|n| entries.len().saturating_sub(n)).unwrap_or(0);
        for e in &entries[skip..] {
            emit(e).map_err(CoreError::io("writing logs"))?;
        }
        let Some((ino, monitor)) = watch else { return Ok(()) };
        loop {
            let mut fds = [PollFd::new(ino.as_fd(), PollFlags::POLLIN), PollFd::new(monitor.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(CoreError::sys("following the log")(e)),
                Ok(_) => {}
            }
            let done = fds[1].revents().map(|r| !r.is_empty()).unwrap_or(false);
            while ino.read_events().is_ok() {}
            let mut fresh = Vec::new();
            read_new(&mut file, &mut pending, &mut fresh).map_err(io_err("reading"))?;
            for e in &fresh {
                emit(e).map_err(CoreError::io("writing logs"))?;
            }
            if done {
                return Ok(());
            }
        }
    }
}

/// Read what was appended since the last call; complete lines become
/// entries, a torn last line waits in `pending`.
fn read_new(file: &mut File, pending: &mut Vec<u8>, out: &mut Vec<LogEntry>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    pending.extend_from_slice(&buf);
    let mut start = 0;
    while let Some(nl) = pending[start..].iter().position(|b| *b == b'\n') {
        if let Ok(e) = serde_json::from_slice::<LogEntry>(&pending[start..start + nl]) {
            out.push(e);
        }
        start += nl + 1;
    }
    pending.drain(..start);
    Ok(())
}
