//! `pause` and `resume`: freeze and thaw the container's cgroup.

use crate::cgroups::Manager;
use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Loaded, Status};

fn set_frozen(store: &StateStore, id: &str, allowed: &[Status], message: &str, freeze: bool) -> Result<(), ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    container.require(allowed, message)?;
    container.cgroup()?.set_frozen(freeze)?;
    Ok(())
}

/// Freeze every process of a running (or created) container.
pub fn pause(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    set_frozen(store, id, &[Status::Running, Status::Created], "container not running", true)
}

/// Thaw a paused container.
pub fn resume(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    set_frozen(store, id, &[Status::Paused], "container not paused", false)
}
