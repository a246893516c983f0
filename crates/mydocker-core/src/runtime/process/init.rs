//! The container's init: runs in the child right after clone, inside the new
//! namespaces, and ends in exec (or reports why it could not, and exits).
//!
//! Order matters: private propagation before any mount; the terminal is
//! made after /dev/pts exists; capabilities are dropped last, once nothing
//! privileged is left to do.

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd, RawFd};

use nix::fcntl::{open, OFlag};
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{dup2, setsid, sethostname};

use mydocker_fs::rootfs;

use super::channel::{Channel, Message};
use super::exec;
use crate::error::EXIT_ENGINE;
use crate::runtime::plan::{CapsPlan, InitPlan};
use crate::runtime::Stdio;

pub(crate) struct Failure {
    pub message: String,
    pub code: i32,
}

impl<E: std::fmt::Display> From<(&'static str, E)> for Failure {
    fn from((what, e): (&'static str, E)) -> Self {
        Failure { message: format!("{what}: {e}"), code: EXIT_ENGINE }
    }
}

/// Run init to the exec of the container's command. Never returns.
pub fn run(plan: &InitPlan, chan: Channel, stdio: Stdio) -> ! {
    match setup_and_exec(plan, &chan, stdio) {
        Err(f) => fail(&chan, f),
        Ok(never) => match never {},
    }
}

pub(crate) enum Never {}

fn setup_and_exec(plan: &InitPlan, chan: &Channel, stdio: Stdio) -> Result<Never, Failure> {
    reset_signals();
    umask(Mode::empty());
    apply_stdio(stdio)?;
    // A session of its own: the host terminal's signals are for mydocker,
    // which forwards them; with -t it also lets the pty become the controlling terminal.
    setsid().map_err(|e| ("setsid", e))?;

    rootfs::make_private().map_err(|e| ("preparing mounts", e))?;
    rootfs::mount_all(&plan.rootfs).map_err(|e| ("preparing the root filesystem", e))?;
    if let Some(h) = &plan.hostname {
        sethostname(h).map_err(|e| ("setting the hostname", e))?;
    }
    rootfs::pivot(&plan.rootfs.root).map_err(|e| ("entering the root filesystem", e))?;
    if plan.clone_flags & libc::CLONE_NEWNET != 0 {
        loopback_up().map_err(|e| ("bringing up lo", e))?;
    }
    // The working directory is made when missing, as docker does (before the
    // root may turn read-only).
    std::fs::create_dir_all(&plan.cwd).map_err(|e| ("creating the working directory", e))?;
    rootfs::finish(&plan.rootfs).map_err(|e| ("protecting paths", e))?;
    if plan.terminal {
        let master = open_terminal().map_err(|e| ("making the terminal", e))?;
        chan.send(&Message::PtyMaster, Some(master.as_raw_fd()))
            .map_err(|e| ("passing the terminal to mydocker", e))?;
    }
    std::env::set_current_dir(&plan.cwd).map_err(|e| ("entering the working directory", e))?;
    set_identity(plan)?;

    await_start_and_exec(plan, chan)
}

/// Wait for `Start`, then find the command and exec it.
pub(crate) fn await_start_and_exec(plan: &InitPlan, chan: &Channel) -> Result<Never, Failure> {
    match chan.recv() {
        Ok(Some((Message::Start, _))) => {}
        // The parent gave up (its end closed): leave quietly.
        // SAFETY: see run().
        Ok(None) => unsafe { libc::_exit(EXIT_ENGINE) },
        Ok(Some((other, _))) => return Err(("waiting for the start signal", format!("unexpected {other:?}")).into()),
        Err(e) => return Err(("waiting for the start signal", e).into()),
    }
    let program = exec::find_program(&plan.args[0], &plan.search_path)
        .map_err(|f| Failure { message: f.message, code: f.code })?;
    umask(Mode::from_bits_truncate(0o022));
    close_fds_on_exec();
    chan.send(&Message::Exec, None).map_err(|e| ("telling mydocker the command starts", e))?;
    let f = exec::exec(&program, &plan.args, &plan.env);
    Err(Failure { message: f.message, code: f.code })
}

/// Report a failure to the parent and end this process.
pub(crate) fn fail(chan: &Channel, failure: Failure) -> ! {
    let _ = chan.send(&Message::Failed { message: failure.message, code: failure.code }, None);
    // SAFETY: _exit ends this process at once, without running the parent's
    // atexit handlers or flushing its copied stdio buffers twice.
    unsafe { libc::_exit(failure.code) }
}

pub(crate) fn apply_stdio(stdio: Stdio) -> Result<(), Failure> {
    for (fd, target) in [(stdio.stdin, 0), (stdio.stdout, 1), (stdio.stderr, 2)] {
        if let Some(fd) = fd {
            dup2(fd.as_raw_fd(), target).map_err(|e| ("setting up stdio", e))?;
        }
    }
    Ok(())
}

/// Signals the parent blocked or ignored (Rust ignores SIGPIPE) must be
/// ordinary again in the container.
pub(crate) fn reset_signals() {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: installing SIG_DFL runs no code of ours in a signal context.
        let _ = unsafe { sigaction(sig, &dfl) };
    }
}

/// A new pty from the container's own devpts: the slave becomes stdin,
/// stdout, stderr and the controlling terminal; the master goes to mydocker.
pub(crate) fn open_terminal() -> nix::Result<OwnedFd> {
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)?;
    nix::pty::grantpt(&master)?;
    nix::pty::unlockpt(&master)?;
    let slave_name = nix::pty::ptsname_r(&master)?;
    let slave = open(slave_name.as_str(), OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty())?;
    // SAFETY: TIOCSCTTY takes an int argument; slave is an open tty fd and
    // this process leads a session with no controlling terminal yet.
    if unsafe { libc::ioctl(slave, libc::TIOCSCTTY, 0) } < 0 {
        return Err(nix::errno::Errno::last());
    }
    for target in 0..=2 {
        dup2(slave, target)?;
    }
    if slave > 2 {
        let _ = nix::unistd::close(slave);
    }
    // SAFETY: master's fd is ours; it moves into the OwnedFd.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(master.into_raw_fd()) })
}

/// The loopback interface of a new network namespace starts down.
fn loopback_up() -> nix::Result<()> {
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we own.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(nix::errno::Errno::last());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(nix::errno::Errno::last());
        }
    }
    Ok(())
}

/// User, groups and capabilities. Capabilities are set while still root, so
/// that the bounding set can be trimmed.
pub(crate) fn set_identity(plan: &InitPlan) -> Result<(), Failure> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    if let Some(c) = &plan.caps {
        drop_bounding(c).map_err(|e| ("dropping capabilities", e))?;
    }
    let groups: Vec<Gid> = plan.additional_gids.iter().map(|g| Gid::from_raw(*g)).collect();
    setgroups(&groups).map_err(|e| ("setting supplementary groups", e))?;
    let gid = Gid::from_raw(plan.gid);
    setresgid(gid, gid, gid).map_err(|e| ("setting the group", e))?;
    if plan.uid != 0 {
        // Keep the permitted set across the uid change; it is set just below.
        nix::sys::prctl::set_keepcaps(true).map_err(|e| ("keeping capabilities", e))?;
    }
    let uid = Uid::from_raw(plan.uid);
    setresuid(uid, uid, uid).map_err(|e| ("setting the user", e))?;
    if let Some(c) = &plan.caps {
        set_caps(c).map_err(|e| ("setting capabilities", e))?;
    }
    if plan.no_new_privileges {
        nix::sys::prctl::set_no_new_privs().map_err(|e| ("setting no_new_privs", e))?;
    }
    Ok(())
}

fn drop_bounding(c: &CapsPlan) -> Result<(), caps::errors::CapsError> {
    for cap in caps::all() {
        if !c.bounding.contains(&cap) && caps::has_cap(None, caps::CapSet::Bounding, cap).unwrap_or(false) {
            caps::drop(None, caps::CapSet::Bounding, cap)?;
        }
    }
    Ok(())
}

fn set_caps(c: &CapsPlan) -> Result<(), caps::errors::CapsError> {
    let set = |v: &Vec<caps::Capability>| v.iter().copied().collect::<caps::CapsHashSet>();
    caps::set(None, caps::CapSet::Effective, &set(&c.effective))?;
    caps::set(None, caps::CapSet::Permitted, &set(&c.permitted))?;
    caps::set(None, caps::CapSet::Inheritable, &set(&c.inheritable))?;
    caps::set(None, caps::CapSet::Ambient, &set(&c.ambient))?;
    Ok(())
}

/// Every fd above 2 closes at exec: the sync channel too, which is how the
/// parent learns that exec succeeded.
pub(crate) fn close_fds_on_exec() {
    // SAFETY: close_range only changes fd flags; CLOSE_RANGE_CLOEXEC closes nothing now.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if rc != 0 {
        // Older kernels: walk our fds.
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            let fds: Vec<RawFd> = dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect();
            for fd in fds.into_iter().filter(|fd| *fd > 2) {
                let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
            }
        }
    }
}
