//! `start`: open the start gate of a created container.

#![forbid(unsafe_code)]

use crate::process::gate::open_gate;
use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Loaded, Status};

/// Start the user's process of container `id`, which must be `created`.
pub fn start(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    let message = match container.status {
        Status::Created => return Ok(open_gate(&store.container_dir(&container.id))?),
        Status::Stopped => "cannot start a container that has stopped",
        Status::Paused => "cannot start a container in the paused state",
        Status::Creating | Status::Running => "cannot start an already running container",
    };
    Err(ContainerError::WrongState { message: message.into(), status: container.status })
}
