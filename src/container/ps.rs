//! `ps`: the processes of a container.

use crate::state::StateStore;

use super::{ContainerError, Loaded};

/// The pids (in the runtime's pid namespace) of every process in the container's cgroup.
pub fn processes(store: &StateStore, id: &str) -> Result<Vec<i32>, ContainerError> {
    let container = Loaded::load(store, id)?;
    container.pids()
}
