//! The runtime half of core: an OCI runtime Spec in, a running container
//! process out. The Spec is its only input, so the same code can serve the
//! OCI runtime commands over a bundle.

pub mod cgroup;
pub mod plan;
pub mod process;
pub mod wait;

use std::os::fd::OwnedFd;
use std::path::Path;

use mydocker_cgroups::CgroupManager;
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use crate::CoreError;
use plan::InitPlan;
use process::channel::{self, Channel, Message};
use process::clone::{fork_into, Forked};
use process::init;

/// The container's stdio: each fd given replaces the one mydocker would
/// otherwise pass on (with a terminal, the pty replaces all three).
#[derive(Debug, Default)]
pub struct Stdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

impl Stdio {
    /// Inherit stdout and stderr; stdin too when `interactive`, else /dev/null.
    pub fn foreground(interactive: bool) -> Result<Stdio, CoreError> {
        let stdin = if interactive { None } else { Some(dev_null()?) };
        Ok(Stdio { stdin, ..Default::default() })
    }
}

pub fn dev_null() -> Result<OwnedFd, CoreError> {
    Ok(OwnedFd::from(std::fs::File::open("/dev/null").map_err(CoreError::io("opening /dev/null"))?))
}

/// A container whose init is set up and has been told to exec.
pub struct Running {
    /// Our child, to wait for and reap.
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// Where forwarded signals go: the child itself, or for exec the
    /// process it forked inside the container.
    pub target: Pid,
    /// The pty master, when the Spec asks for a terminal.
    pub pty: Option<OwnedFd>,
    /// The container's cgroup, made by create (None for exec, and when the
    /// Spec names none).
    pub cgroup: Option<Box<dyn CgroupManager>>,
}

/// A cloned init, waiting for `Start`.
pub struct Created {
    pub pid: Pid,
    target: Pid,
    pidfd: Option<OwnedFd>,
    chan: Channel,
    pty: Option<OwnedFd>,
    cgroup: Option<Box<dyn CgroupManager>>,
}

/// Clone init into its namespaces and let it build its root; it then waits
/// for [`Created::start`]. `cgroup`: the Spec's cgroup as
/// [`cgroup::planned`] gave it, made here. The caller must be
/// single-threaded.
pub fn create(
    spec: &Spec,
    bundle: &Path,
    stdio: Stdio,
    cgroup: Option<Box<dyn CgroupManager>>,
) -> Result<Created, CoreError> {
    let plan = InitPlan::from_spec(spec, bundle)?;
    let (parent, child) = channel::pair().map_err(CoreError::sys("making the sync channel"))?;
    match fork_into(plan.clone_flags).map_err(CoreError::sys("cloning the container's init"))? {
        Forked::Child => {
            drop(parent);
            init::run(&plan, child, stdio)
        }
        Forked::Parent { pid, pidfd } => {
            drop(child);
            let mut created = Created { pid, target: pid, pidfd: Some(pidfd), chan: parent, pty: None, cgroup: None };
            // Init builds its root meanwhile; it execs only after Start, so
            // the command never runs outside its cgroup.
            if let Some(cg) = cgroup {
                cgroup::make(cg.as_ref(), spec, pid.as_raw())?;
                created.cgroup = Some(cg);
            }
            Ok(created)
        }
    }
}

/// Fork a process that joins the namespaces of the container whose PID 1 is
/// behind `container`, and prepares `spec.process` there; it then waits for
/// [`Created::start`]. The caller must be single-threaded.
pub fn exec_in(
    container: &OwnedFd,
    spec: &Spec,
    stdio: Stdio,
    cgroup: Option<Box<dyn CgroupManager>>,
) -> Result<Created, CoreError> {
    let plan = InitPlan::from_spec(spec, Path::new("/"))?;
    let (parent, child) = channel::pair().map_err(CoreError::sys("making the sync channel"))?;
    match fork_into(0).map_err(CoreError::sys("forking the exec process"))? {
        Forked::Child => {
            drop(parent);
            process::join::run(&plan, container, cgroup.as_deref(), child, stdio)
        }
        Forked::Parent { pid, pidfd } => {
            drop(child);
            Ok(Created { pid, target: pid, pidfd: Some(pidfd), chan: parent, pty: None, cgroup: None })
        }
    }
}

impl Created {
    /// The container's cgroup, once made.
    pub fn cgroup(&self) -> Option<&dyn CgroupManager> {
        self.cgroup.as_deref()
    }

    /// Let init exec the command; returns once exec has happened, or with
    /// the reason it could not (init has then been reaped).
    pub fn start(mut self) -> Result<Running, CoreError> {
        // A send error means init already left; its reason is in the channel.
        let _ = self.chan.send(&Message::Start, None);
        let mut exec_announced = false;
        loop {
            match self.chan.recv() {
                Ok(Some((Message::PtyMaster, fd))) => self.pty = fd,
                Ok(Some((Message::Pid { pid }, _))) => self.target = Pid::from_raw(pid),
                Ok(Some((Message::Exec, _))) => exec_announced = true,
                Ok(Some((Message::Failed { message, code }, _))) => {
                    self.reap();
                    return Err(CoreError::Init { message, code });
                }
                Ok(Some((Message::Start, _))) => {
                    self.kill_and_reap();
                    return Err(CoreError::Init { message: "init sent an unexpected message".into(), code: 125 });
                }
                Ok(None) => break,
                Err(e) => {
                    self.kill_and_reap();
                    return Err(CoreError::sys("reading from the container's init")(e));
                }
            }
        }
        if !exec_announced {
            let status = wait::reap(self.pid).map(|c| c.to_string()).unwrap_or_else(|_| "?".into());
            self.pidfd = None;
            self.release_cgroup();
            return Err(CoreError::Init {
                message: format!("the container's init died before running the command (exit status {status})"),
                code: 125,
            });
        }
        let pidfd = self.pidfd.take().expect("pidfd is present until start");
        Ok(Running { pid: self.pid, pidfd, target: self.target, pty: self.pty.take(), cgroup: self.cgroup.take() })
    }

    /// Give up on this container: kill init and reap it.
    pub fn abort(mut self) {
        self.kill_and_reap();
    }

    fn kill_and_reap(&mut self) {
        let _ = nix::sys::signal::kill(self.pid, nix::sys::signal::Signal::SIGKILL);
        self.reap();
    }

    /// After init is gone: its cgroup goes too.
    fn release_cgroup(&mut self) {
        if let Some(cg) = self.cgroup.take() {
            if let Err(e) = cg.remove() {
                log::warn!("removing the cgroup of a container that did not start: {e}");
            }
        }
    }

    fn reap(&mut self) {
        let _ = wait::reap(self.pid);
        self.pidfd = None;
        self.release_cgroup();
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if self.pidfd.is_some() {
            self.kill_and_reap();
        }
    }
}
