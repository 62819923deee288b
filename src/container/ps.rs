//! `ps`: the processes of a container.

use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Status, derive_status};

/// The pids (in the runtime's pid namespace) of every process in the container's cgroup.
pub fn processes(store: &StateStore, id: &str) -> Result<Vec<i32>, ContainerError> {
    let id = ContainerId::parse(id)?;
    let state = store.load(&id)?;
    let status = derive_status(&state, &store.container_dir(&id));
    match &state.cgroup {
        Some(cgroup) => Ok(cgroup.pids()?),
        None if status == Status::Stopped => Ok(Vec::new()),
        None => Ok(vec![state.init_pid]),
    }
}
