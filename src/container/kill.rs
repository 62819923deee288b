//! `kill`: signal init (or, with `--all`, every process of the container).

use crate::linux::pidfd::{PidFd, kill_pid};
use crate::linux::signal::parse_signal;
use crate::state::{ContainerId, State, StateStore};

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
        // A container from before cgroups were recorded: reach its pid namespace's members
        // (only when it has its own; a shared one holds unrelated processes).
        if state.own_pid_namespace {
            signal_namespace_members(&state, signal)?;
        }
    }
    let Some(pidfd) = PidFd::open_verified(state.init_pid, state.init_start_time)? else {
        return Err(ContainerError::WrongState { message: "container not running".into(), status: Status::Stopped });
    };
    pidfd.send_signal(signal)?;
    Ok(())
}

/// Signal every process in init's pid namespace other than init itself.
fn signal_namespace_members(state: &State, signal: i32) -> Result<(), ContainerError> {
    let own_ns = std::fs::read_link(format!("/proc/{}/ns/pid", state.init_pid)).ok();
    let Some(own_ns) = own_ns else { return Ok(()) };
    let Ok(entries) = std::fs::read_dir("/proc") else { return Ok(()) };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if pid == state.init_pid {
            continue;
        }
        if std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok().as_ref() == Some(&own_ns) {
            kill_pid(pid, signal)?;
        }
    }
    Ok(())
}
