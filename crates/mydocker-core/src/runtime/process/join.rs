//! exec: a new process inside a running container. The child forked by
//! mydocker joins the container's namespaces through its pidfd (one setns
//! for all of them), then forks again so that the new process is inside the
//! container's pid namespace; it reports that pid, waits for it, and exits
//! with its code.

use std::os::fd::{AsRawFd, OwnedFd};

use mydocker_cgroups::CgroupManager;
use nix::sys::stat::{umask, Mode};

use super::channel::{Channel, Message};
use super::clone::{fork_into, Forked};
use super::init::{self, Failure};
use crate::error::EXIT_ENGINE;
use crate::runtime::plan::InitPlan;
use crate::runtime::{wait, Stdio};

/// Runs in the child mydocker forked. Never returns.
pub fn run(plan: &InitPlan, container: &OwnedFd, cgroup: Option<&dyn CgroupManager>, chan: Channel, stdio: Stdio) -> ! {
    init::reset_signals();
    // Our stdio too, not only the command's: this process waits for the
    // command, and must not keep the caller's output open (exec -d).
    if let Err(f) = init::apply_stdio(stdio) {
        init::fail(&chan, f);
    }
    // Into the container's cgroup first: what we fork inherits it, so the
    // command never runs outside the container's limits.
    if let Some(cg) = cgroup {
        if let Err(e) = cg.add_task(std::process::id() as i32) {
            init::fail(&chan, Failure { message: format!("joining the container's cgroup: {e}"), code: EXIT_ENGINE });
        }
    }
    let joined = plan.clone_flags & !libc::CLONE_NEWUSER;
    // SAFETY: setns with a pidfd we own and CLONE_NEW* flags: joins those
    // namespaces of the process at once (Linux 5.8+).
    if unsafe { libc::setns(container.as_raw_fd(), joined) } != 0 {
        let e = nix::errno::Errno::last();
        init::fail(&chan, Failure { message: format!("joining the container's namespaces: {e}"), code: EXIT_ENGINE });
    }
    match fork_into(0) {
        Err(e) => init::fail(&chan, Failure { message: format!("forking into the container: {e}"), code: EXIT_ENGINE }),
        Ok(Forked::Child) => match setup_and_exec(plan, &chan) {
            Err(f) => init::fail(&chan, f),
            Ok(never) => match never {},
        },
        Ok(Forked::Parent { pid, pidfd: _ }) => {
            let _ = chan.send(&Message::Pid { pid: pid.as_raw() }, None);
            drop(chan);
            let code = wait::reap(pid).unwrap_or(EXIT_ENGINE);
            // SAFETY: _exit, as in init: nothing of the parent's exit path runs.
            unsafe { libc::_exit(code) }
        }
    }
}

fn setup_and_exec(plan: &InitPlan, chan: &Channel) -> Result<init::Never, Failure> {
    umask(Mode::empty());
    nix::unistd::setsid().map_err(|e| ("setsid", e))?;
    if plan.terminal {
        let master = init::open_terminal().map_err(|e| ("making the terminal", e))?;
        chan.send(&Message::PtyMaster, Some(master.as_raw_fd()))
            .map_err(|e| ("passing the terminal to mydocker", e))?;
    }
    std::fs::create_dir_all(&plan.cwd).map_err(|e| ("creating the working directory", e))?;
    std::env::set_current_dir(&plan.cwd).map_err(|e| ("entering the working directory", e))?;
    init::set_identity(plan)?;
    init::await_start_and_exec(plan, chan)
}
