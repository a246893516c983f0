//! The tar file's reader: hashes every byte read and reports progress.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

/// Report progress at most once per this many bytes.
const REPORT_EVERY: u64 = 1 << 20;

/// Wraps the archive reader so that the file is read once: the same bytes are
/// unpacked, hashed into the layer ID, and counted for progress.
pub(crate) struct HashingReader<'p, R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    total: u64,
    reported: u64,
    progress: &'p mut dyn FnMut(u64, u64),
}

impl<'p, R: Read> HashingReader<'p, R> {
    pub(crate) fn new(inner: R, total: u64, progress: &'p mut dyn FnMut(u64, u64)) -> Self {
        progress(0, total);
        HashingReader { inner, hasher: Sha256::new(), read: 0, total, reported: 0, progress }
    }

    /// Read what the archive reader left (padding after the end blocks) so the
    /// hash covers the whole file; then the sha256 hex and the bytes read.
    pub(crate) fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let total = self.total.max(self.read);
        (self.progress)(self.read, total);
        Ok((mydocker_state::id::to_hex(&self.hasher.finalize()), self.read))
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        if self.read - self.reported >= REPORT_EVERY {
            self.reported = self.read;
            (self.progress)(self.read, self.total.max(self.read));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_everything_and_reports_throttled_progress() {
        let data = vec![7u8; 3 * REPORT_EVERY as usize + 10];
        let mut calls = Vec::new();
        let mut cb = |done: u64, total: u64| calls.push((done, total));
        let mut r = HashingReader::new(&data[..], data.len() as u64, &mut cb);
        let mut first = vec![0u8; 100];
        r.read_exact(&mut first).unwrap();
        let (hex, n) = r.finish().unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(hex, mydocker_state::id::to_hex(&Sha256::digest(&data)));
        assert_eq!(calls.first(), Some(&(0, data.len() as u64)));
        assert_eq!(calls.last(), Some(&(data.len() as u64, data.len() as u64)));
        assert!(calls.len() <= 6, "{} calls", calls.len());
        assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
