//! `update`: change the resources of a container's cgroup.

use oci_spec::runtime::LinuxResources;

use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Status, derive_status};

/// Apply `resources` to container `id` (created, running or paused).
pub fn update(store: &StateStore, id: &str, resources: &LinuxResources) -> Result<(), ContainerError> {
    let id = ContainerId::parse(id)?;
    let _lock = store.lock(&id)?;
    let state = store.load(&id)?;
    let status = derive_status(&state, &store.container_dir(&id));
    if status == Status::Stopped {
        return Err(ContainerError::WrongState { message: "container not running".into(), status });
    }
    let Some(cgroup) = &state.cgroup else {
        return Err(ContainerError::WrongState { message: "container has no cgroup to update".into(), status });
    };
    cgroup.update(resources)?;
    Ok(())
}
