//! `start`: open the start gate of a created container.

use crate::process::gate::open_gate;
use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Status, derive_status};

/// Start the user's process of container `id`, which must be `created`.
pub fn start(store: &StateStore, id: &str) -> Result<(), ContainerError> {
    let id = ContainerId::parse(id)?;
    let _lock = store.lock(&id)?;
    let state = store.load(&id)?;
    let dir = store.container_dir(&id);
    match derive_status(&state, &dir) {
        Status::Created => Ok(open_gate(&dir)?),
        Status::Stopped => Err(wrong_state("cannot start a container that has stopped", Status::Stopped)),
        Status::Paused => Err(wrong_state("cannot start a container in the paused state", Status::Paused)),
        status => Err(wrong_state("cannot start an already running container", status)),
    }
}

fn wrong_state(message: &str, status: Status) -> ContainerError {
    ContainerError::WrongState { message: message.to_string(), status }
}
