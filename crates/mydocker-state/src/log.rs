//! A detached container's log, `containers/<id>/container.log`: one JSON
//! object per line, as docker's json-file driver writes it:
//! `{"log":"hello\n","stream":"stdout","time":"2026-11-23T00:31:32.123456789Z"}`.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub log: String,
    pub stream: Stream,
    pub time: String,
}

/// Longest piece kept as one entry; a longer line is split, as docker does.
pub const MAX_LINE: usize = 16 * 1024;

/// Splits a stream's bytes into lines; a partial line waits for its end.
#[derive(Debug)]
pub struct LineSplitter {
    stream: Stream,
    pending: Vec<u8>,
}

impl LineSplitter {
    pub fn new(stream: Stream) -> Self {
        LineSplitter { stream, pending: Vec::new() }
    }

    /// Feed bytes; complete lines (and over-long pieces) are written to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut impl Write) -> io::Result<()> {
        let mut rest = data;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            self.pending.extend_from_slice(&rest[..=pos]);
            self.emit(out)?;
            rest = &rest[pos + 1..];
        }
        self.pending.extend_from_slice(rest);
        while self.pending.len() >= MAX_LINE {
            let tail = self.pending.split_off(MAX_LINE);
            self.emit(out)?;
            self.pending = tail;
        }
        Ok(())
    }

    /// Write what is left (the stream ended without a newline).
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.pending.is_empty() {
            self.emit(out)?;
        }
        Ok(())
    }

    fn emit(&mut self, out: &mut impl Write) -> io::Result<()> {
        let entry = LogEntry {
            log: String::from_utf8_lossy(&self.pending).into_owned(),
            stream: self.stream,
            time: crate::time::now_rfc3339(),
        };
        self.pending.clear();
        serde_json::to_writer(&mut *out, &entry)?;
        out.write_all(b"\n")
    }
}

/// Read every complete entry of a log; a torn last line (being written) is left out.
pub fn read_entries(reader: impl BufRead) -> io::Result<Vec<LogEntry>> {
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if let Ok(e) = serde_json::from_str::<LogEntry>(&line) {
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_partial_lines_wait() {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(Stream::Stderr);
        s.feed(b"one\ntw", &mut out).unwrap();
        s.feed(b"o\nthree", &mut out).unwrap();
        s.finish(&mut out).unwrap();
        let entries = read_entries(&out[..]).unwrap();
        let logs: Vec<&str> = entries.iter().map(|e| e.log.as_str()).collect();
        assert_eq!(logs, vec!["one\n", "two\n", "three"]);
        assert!(entries.iter().all(|e| e.stream == Stream::Stderr));
    }

    #[test]
    fn long_lines_are_cut_into_pieces_without_loss() {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(Stream::Stdout);
        let big = vec![b'x'; MAX_LINE * 2 + 10];
        s.feed(&big, &mut out).unwrap();
        s.feed(b"\n", &mut out).unwrap();
        let entries = read_entries(&out[..]).unwrap();
        assert_eq!(entries.len(), 3);
        let total: usize = entries.iter().map(|e| e.log.len()).sum();
        assert_eq!(total, MAX_LINE * 2 + 11);
    }
}
