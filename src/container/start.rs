//! `start`: open the start gate of a created container, then run the poststart hooks.

use oci_spec::runtime::ContainerState;

use crate::hooks::state_json;
use crate::process::gate::open_gate;
use crate::state::{ContainerId, StateStore};

use super::{ContainerError, Loaded, Status};

/// Start the user's process of container `id`, which must be `created`. Returns warnings:
/// poststart hook failures, which the runtime-spec says to log, not to fail on.
pub fn start(store: &StateStore, id: &str) -> Result<Vec<String>, ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    let message = match container.status {
        Status::Created => {
            open_gate(&store.container_dir(&container.id))?;
            return Ok(poststart(&container));
        }
        Status::Stopped => "cannot start a container that has stopped",
        Status::Paused => "cannot start a container in the paused state",
        Status::Creating | Status::Running => "cannot start an already running container",
    };
    Err(ContainerError::WrongState { message: message.into(), status: container.status })
}

fn poststart(container: &Loaded) -> Vec<String> {
    let state = &container.state;
    let Some(hooks) = state.hooks.as_ref().and_then(|h| h.poststart().clone()).filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    match state_json(&state.id, ContainerState::Running, Some(state.init_pid), &state.bundle, &state.annotations) {
        Ok(json) => crate::hooks::run_all_hooks("poststart", &hooks, &json),
        Err(error) => vec![error.to_string()],
    }
}
