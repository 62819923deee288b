//! `update`: change the resources of a container's cgroup.

use crate::cgroups::Manager;
use oci_spec::runtime::LinuxResources;

use crate::state::{ContainerId, StateStore};

use super::{ContainerError, LIVE, Loaded};

/// Apply `resources` to container `id` (created, running or paused).
/// `schemata` holds `--l3-cache-schema`/`--mem-bw-schema` lines for the Intel RDT group.
pub fn update(store: &StateStore, id: &str, resources: &LinuxResources, schemata: &[String]) -> Result<(), ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    container.require(LIVE, "container not running")?;
    if !schemata.is_empty() {
        let Some(group) = &container.state.resctrl else {
            return Err(crate::resctrl::ResctrlError::Invalid(
                "--l3-cache-schema/--mem-bw-schema: the container has no Intel RDT group (create it with linux.intelRdt)".into(),
            )
            .into());
        };
        group.update(schemata)?;
    }
    container.cgroup()?.update(resources)?;
    Ok(())
}
