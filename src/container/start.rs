//! `start`: open the start gate of a created container, then run the poststart hooks.

use oci_spec::runtime::ContainerState;

use crate::hooks::state_json;
use crate::process::gate::open_gate;
use crate::state::{ContainerId, StateStore};
use crate::sys::pidfd::PidFd;

use super::{ContainerError, Loaded, Status};

/// What a failing poststart hook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoststartFailure {
    /// The runtime-spec's rule for its `start` operation: a warning, and the remaining hooks
    /// and the lifecycle go on (runtime-tools' `poststart_fail` checks it).
    Warn,
    /// runc's rule (1.1 to 1.5), which skiff keeps for `run`, not a spec operation: the
    /// container is killed and the command fails at the first failing hook (runc 1.5's
    /// hooks.bats "runc run [hook fails]").
    KillAndFail,
}

/// Start the user's process of container `id`, which must be `created`, and run its
/// poststart hooks. Returns the warnings to log (failed hooks, with [`PoststartFailure::Warn`]).
pub fn start(store: &StateStore, id: &str, on_failure: PoststartFailure) -> Result<Vec<String>, ContainerError> {
    let _lock = store.lock(&ContainerId::parse(id)?)?;
    let container = Loaded::load(store, id)?;
    let message = match container.status {
        Status::Created => {
            open_gate(&store.container_dir(&container.id))?;
            return poststart(&container, on_failure);
        }
        Status::Stopped => "cannot start a container that has stopped",
        Status::Paused => "cannot start a container in the paused state",
        Status::Creating | Status::Running => "cannot start an already running container",
    };
    Err(ContainerError::WrongState { message: message.into(), status: container.status })
}

fn poststart(container: &Loaded, on_failure: PoststartFailure) -> Result<Vec<String>, ContainerError> {
    let state = &container.state;
    let Some(hooks) = state.hooks.as_ref().and_then(|h| h.poststart().clone()).filter(|h| !h.is_empty()) else {
        return Ok(Vec::new());
    };
    let json = state_json(&state.id, ContainerState::Running, Some(state.init_pid), &state.bundle, &state.annotations)?;
    if on_failure == PoststartFailure::Warn {
        return Ok(crate::hooks::run_all_hooks("poststart", &hooks, &json));
    }
    let Err(failed) = crate::hooks::run_hooks("poststart", &hooks, &json) else {
        return Ok(Vec::new());
    };
    // The hook's error is the one to report; a container that is already gone is fine.
    if let Ok(Some(init)) = PidFd::open_verified(state.init_pid, state.init_start_time) {
        let _ = init.send_signal(libc::SIGKILL);
    }
    Err(failed.into())
}
