//! `pause` and `resume`: freeze and thaw the container's cgroup.

use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Status, derive_status};

fn frozen_cgroup(store: &StateStore, id: &str, allowed: &[Status], message: &str, freeze: bool) -> Result<(), ContainerError> {
    let id = ContainerId::parse(id)?;
    let _lock = store.lock(&id)?;
    let state = store.load(&id)?;
    let status = derive_status(&state, &store.container_dir(&id));
    if !allowed.contains(&status) {
        return Err(ContainerError::WrongState { message: message.to_string(), status });
    }
    let Some(cgroup) = &state.cgroup else {
        return Err(ContainerError::WrongState { message: "container has no cgroup to freeze".into(), status });
    };
    cgroup.set_frozen(freeze)?;
    Ok(())
}

/// Freeze every process of a running (or created) container.
pub fn pause(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    frozen_cgroup(store, id, &[Status::Running, Status::Created], "container not running", true)
}

/// Thaw a paused container.
pub fn resume(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    frozen_cgroup(store, id, &[Status::Paused], "container not paused", false)
}
