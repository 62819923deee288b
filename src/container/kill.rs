//! `kill`: signal init (or, with `--all`, every process of the container).

use crate::cgroups::Manager;
use crate::state::StateStore;
use crate::sys::pidfd::PidFd;
use crate::sys::signal::parse_signal;

use super::{ContainerError, LIVE, Loaded, Status};

/// Send `signal` (a number or a name) to container `id`.
pub fn kill(store: &StateStore, id: &str, signal: &str, all: bool) -> Result<(), ContainerError> {
    let container = Loaded::load(store, id)?;
    let signal = parse_signal(signal)?;
    // With --all a stopped container is not an error (runc signals whatever is left in the
    // cgroup, usually nothing): containerd's shim sends it while deleting.
    if all {
        if let Some(cgroup) = &container.state.cgroup {
            // systemd removes a scope's cgroup once its last process has gone: for a stopped
            // container that is nothing left to signal, not an error (runc does the same).
            // containerd's CRI plugin sends this after every exit and retries while it fails.
            let stopped = container.status == Status::Stopped;
            if stopped && !cgroup.location().exists() {
                return Ok(());
            }
            return match cgroup.signal_all(signal) {
                // (removed between the check and the signal)
                Err(error) if stopped && error.errno() == Some(libc::ENOENT) => Ok(()),
                result => Ok(result?),
            };
        }
        crate::sys::pidfd::kill_each(&container.pids()?, signal);
        return Ok(());
    }
    // Without a pid namespace of its own, init's death does not take the other processes
    // with it (as a namespace's init would): SIGKILL goes to every process in the cgroup,
    // whether or not init is still there (runc 1.2+).
    if signal == libc::SIGKILL
        && !container.state.own_pid_namespace
        && let Some(cgroup) = container.state.cgroup.as_ref().filter(|c| c.location().exists())
    {
        return Ok(cgroup.signal_all(signal)?);
    }
    container.require(LIVE, "container not running")?;
    let state = &container.state;
    let Some(pidfd) = PidFd::open_verified(state.init_pid, state.init_start_time)? else {
        return Err(ContainerError::WrongState { message: "container not running".into(), status: Status::Stopped });
    };
    pidfd.send_signal(signal)?;
    Ok(())
}
