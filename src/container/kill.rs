//! `kill`: signal init (or, with `--all`, every process of the container).

use crate::linux::pidfd::PidFd;
use crate::linux::signal::parse_signal;
use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Status, derive_status};

/// Send `signal` (a number or a name) to container `id`.
pub fn kill(store: &StateStore, id: &str, signal: &str, all: bool) -> Result<(), ContainerError> {
    let id = ContainerId::parse(id)?;
    let signal = parse_signal(signal)?;
    let state = store.load(&id)?;
    let status = derive_status(&state, &store.container_dir(&id));
    if status == Status::Stopped {
        return Err(ContainerError::WrongState { message: "container not running".into(), status });
    }
    if all {
        if let Some(cgroup) = &state.cgroup {
            cgroup.signal_all(signal)?;
            return Ok(());
        }
    }
    let Some(pidfd) = PidFd::open_verified(state.init_pid, state.init_start_time)? else {
        return Err(ContainerError::WrongState { message: "container not running".into(), status: Status::Stopped });
    };
    pidfd.send_signal(signal)?;
    Ok(())
}
