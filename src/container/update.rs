//! `update`: change the resources of a container's cgroup.

#![forbid(unsafe_code)]

use oci_spec::runtime::LinuxResources;

use crate::state::{ContainerId, StateStore};

use super::{ContainerError, LIVE, Loaded};

/// Apply `resources` to container `id` (created, running or paused).
pub fn update(store: &StateStore, id: &str, resources: &LinuxResources) -> Result<(), ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    container.require(LIVE, "container not running")?;
    container.cgroup()?.update(resources)?;
    Ok(())
}
