//! A container's output as mydocker reads it (pipes, or a pty master): each
//! chunk echoed to the stream it came from when a caller is attached, and
//! kept in the container's log, line by line with stream and time. The
//! monitor of a detached container and an attached `run` both use it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use mydocker_state::log::{LineSplitter, Stream};
use nix::fcntl::{fcntl, FcntlArg, OFlag};

use crate::CoreError;

/// The log of a container, opened to append.
pub(crate) fn open_log(path: &Path) -> Result<BufWriter<File>, CoreError> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .map_err(CoreError::io(format!("opening {}", path.display())))?;
    Ok(BufWriter::with_capacity(64 * 1024, file))
}

struct Source {
    /// None once closed: at its end, or when the caller stopped reading
    /// the echo (the container then sees a broken pipe, as it would
    /// writing to the caller directly).
    file: Option<File>,
    lines: LineSplitter,
    stream: Stream,
}

/// The container's output fds, where they go, and a buffer to copy through.
pub(crate) struct Outputs {
    sources: Vec<Source>,
    log: Option<BufWriter<File>>,
    echo: bool,
    buf: Vec<u8>,
}

impl Outputs {
    /// `log`: where lines are kept, if anywhere; `echo`: whether they go to
    /// our own stdout and stderr too.
    pub fn new(log: Option<BufWriter<File>>, echo: bool) -> Outputs {
        Outputs { sources: Vec::new(), log, echo, buf: vec![0u8; 64 * 1024] }
    }

    pub fn add(&mut self, fd: OwnedFd, stream: Stream) {
        self.sources.push(Source { file: Some(File::from(fd)), lines: LineSplitter::new(stream), stream });
    }

    /// The fds still open, each with the index [`Outputs::read_once`] takes.
    pub fn open_fds(&self) -> Vec<(usize, BorrowedFd<'_>)> {
        self.sources.iter().enumerate().filter_map(|(i, s)| s.file.as_ref().map(|f| (i, f.as_fd()))).collect()
    }

    pub fn any_open(&self) -> bool {
        self.sources.iter().any(|s| s.file.is_some())
    }

    /// Copy what one read of source `i` gives (it polled readable).
    pub fn read_once(&mut self, i: usize) -> Result<(), CoreError> {
        self.copy(i, false)
    }

    /// The container ended: copy what is left in every source without
    /// blocking, then the unfinished last lines. A pty master reports EIO
    /// once its slave is gone; that too is an end.
    pub fn drain(&mut self) -> Result<(), CoreError> {
        for i in 0..self.sources.len() {
            if let Some(f) = &self.sources[i].file {
                let _ = fcntl(f.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
                self.copy(i, true)?;
            }
        }
        Ok(())
    }

    fn copy(&mut self, i: usize, to_the_end: bool) -> Result<(), CoreError> {
        let log_err = || CoreError::io("writing the log");
        let s = &mut self.sources[i];
        while let Some(file) = s.file.as_mut() {
            match file.read(&mut self.buf) {
                Ok(0) | Err(_) => {
                    s.file = None;
                    if let Some(log) = self.log.as_mut() {
                        s.lines.finish(log).map_err(log_err())?;
                    }
                    break;
                }
                Ok(n) => {
                    if let Some(log) = self.log.as_mut() {
                        s.lines.feed(&self.buf[..n], log).map_err(log_err())?;
                    }
                    if self.echo && !echo(s.stream, &self.buf[..n]) {
                        s.file = None;
                        if let Some(log) = self.log.as_mut() {
                            s.lines.finish(log).map_err(log_err())?;
                        }
                        break;
                    }
                    if !to_the_end {
                        break;
                    }
                }
            }
        }
        match self.log.as_mut() {
            Some(log) => log.flush().map_err(log_err()),
            None => Ok(()),
        }
    }
}

/// To our own stdout or stderr. False when the reader of that stream is
/// gone (a closed pipe): the container's stream is then closed too.
fn echo(stream: Stream, data: &[u8]) -> bool {
    let written = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|_| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(data),
    };
    !matches!(written, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mydocker_state::log::read_entries;

    fn pipe() -> (OwnedFd, File) {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        (r, File::from(w))
    }

    #[test]
    fn lines_of_each_stream_are_logged_with_their_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut outs = Outputs::new(Some(open_log(&path).unwrap()), false);
        let (out_r, mut out_w) = pipe();
        let (err_r, mut err_w) = pipe();
        outs.add(out_r, Stream::Stdout);
        outs.add(err_r, Stream::Stderr);
        out_w.write_all(b"one\ntw").unwrap();
        err_w.write_all(b"oops\n").unwrap();
        outs.read_once(0).unwrap();
        out_w.write_all(b"o\nlast, no newline").unwrap();
        drop((out_w, err_w));
        outs.drain().unwrap();
        assert!(!outs.any_open());
        let entries = read_entries(std::io::BufReader::new(File::open(&path).unwrap())).unwrap();
        let got: Vec<(Stream, &str)> = entries.iter().map(|e| (e.stream, e.log.as_str())).collect();
        assert_eq!(
            got,
            [(Stream::Stdout, "one\n"), (Stream::Stdout, "two\n"), (Stream::Stdout, "last, no newline"), (Stream::Stderr, "oops\n")]
        );
    }

    #[test]
    fn without_a_log_nothing_is_written() {
        let (r, mut w) = pipe();
        let mut outs = Outputs::new(None, false);
        outs.add(r, Stream::Stdout);
        w.write_all(b"x\n").unwrap();
        drop(w);
        outs.drain().unwrap();
        assert!(!outs.any_open());
    }
}
