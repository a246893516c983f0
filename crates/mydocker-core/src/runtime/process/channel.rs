//! The sync channel between the parent (mydocker) and the container's init:
//! one serde enum, one message per SOCK_SEQPACKET packet, over a CLOEXEC
//! socketpair. File descriptors travel beside a message as SCM_RIGHTS.
//!
//! | step | init -> parent                   | parent -> init                  |
//! |------|----------------------------------|---------------------------------|
//! | 1    |                                  | (clone: init sets up the root)  |
//! | 1b   | `Pid { pid }` (exec only: the joining child tells the pid of the process it forked into the container) | |
//! | 2    | `PtyMaster` + fd (with terminal) |                                 |
//! | 3    |                                  | `Start` (cgroup, network done)  |
//! | 4    | `Exec`: everything is set, execve is next |                        |
//! | 5    | EOF: exec succeeded (the socket is CLOEXEC) |                      |
//! | any  | `Failed { message, code }`, then init exits |                      |
//!
//! The parent also closes its end to abort: init's read of `Start` then sees
//! EOF and exits without running the command.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use serde::{Deserialize, Serialize};

const MAX_MESSAGE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// parent -> init: everything outside the container is ready; exec.
    Start,
    /// init -> parent: the pty master of the container's terminal rides along.
    PtyMaster,
    /// joining child -> parent (exec): the host pid of the process it forked
    /// inside the container's pid namespace.
    Pid { pid: i32 },
    /// init -> parent: set up; execve is the next call. EOF after it means
    /// the exec succeeded (however soon the command then ended); EOF without
    /// it means init died before.
    Exec,
    /// init -> parent: setup or exec failed; init exits with `code`.
    Failed { message: String, code: i32 },
}

#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// A connected pair: (parent's end, init's end).
pub fn pair() -> nix::Result<(Channel, Channel)> {
    let (a, b) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn send(&self, msg: &Message, fd: Option<RawFd>) -> nix::Result<()> {
        let data = serde_json::to_vec(msg).map_err(|_| nix::errno::Errno::EINVAL)?;
        let iov = [IoSlice::new(&data)];
        let fds;
        let cmsgs: &[ControlMessage] = match fd {
            Some(f) => {
                fds = [f];
                &[ControlMessage::ScmRights(&fds)]
            }
            None => &[],
        };
        loop {
            match sendmsg::<()>(self.fd.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => return other.map(|_| ()),
            }
        }
    }

    /// The next message, with any fd that came with it; None at EOF.
    pub fn recv(&self) -> nix::Result<Option<(Message, Option<OwnedFd>)>> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        let mut cmsg_space = nix::cmsg_space!([RawFd; 1]);
        let (n, fd) = loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg_space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e),
                Ok(msg) => {
                    let mut fd = None;
                    for c in msg.cmsgs()? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for (i, raw) in fds.into_iter().enumerate() {
                                // SAFETY: the kernel just gave us this fd; we own it now.
                                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                                if i == 0 {
                                    fd = Some(owned);
                                }
                            }
                        }
                    }
                    break (msg.bytes, fd);
                }
            }
        };
        if n == 0 {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&buf[..n]).map_err(|_| nix::errno::Errno::EBADMSG)?;
        Ok(Some((msg, fd)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_fds_cross_and_eof_follows_close() {
        let (a, b) = pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        b.send(&Message::PtyMaster, Some(file.as_raw_fd())).unwrap();
        b.send(&Message::Failed { message: "boom".into(), code: 127 }, None).unwrap();
        drop(b);
        let (m, fd) = a.recv().unwrap().unwrap();
        assert_eq!(m, Message::PtyMaster);
        assert!(fd.is_some());
        let (m, fd) = a.recv().unwrap().unwrap();
        assert_eq!(m, Message::Failed { message: "boom".into(), code: 127 });
        assert!(fd.is_none());
        assert!(a.recv().unwrap().is_none());
    }
}
