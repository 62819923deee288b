//! `delete`: remove a stopped container (`--force`: kill it first).

use crate::cgroups::Manager;
use std::time::Duration;

use crate::state::{ContainerId, StateError, StateStore};
use crate::sys::pidfd::PidFd;

use super::{ContainerError, Status, derive_status};

/// How long `delete --force` waits for init to die after SIGKILL.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// Delete container `id`. Without `force` it must be stopped (the runtime-spec's rule: a
/// created container is refused too); with `force` anything left is killed and removed.
/// Returns warnings (poststop hook failures).
pub fn delete(store: &StateStore, id: &str, force: bool) -> Result<Vec<String>, ContainerError> {
    let id = ContainerId::parse(id)?;
    let _lock = match store.lock(&id) {
        Ok(lock) => lock,
        Err(StateError::NotFound(_)) if force => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let state = match store.load(&id) {
        Ok(state) => state,
        // A directory without state.json is what an interrupted create leaves: remove it,
        // as runc does; the id still counts as not existing.
        Err(StateError::NotFound(_)) => {
            store.remove(&id)?;
            return if force { Ok(Vec::new()) } else { Err(StateError::NotFound(id.to_string()).into()) };
        }
        Err(e) => return Err(e.into()),
    };
    let dir = store.container_dir(&id);
    let status = derive_status(&state, &dir);
    if status != Status::Stopped {
        if !force {
            return Err(ContainerError::WrongState { message: format!("cannot delete container {id} that is not stopped: {status}"), status });
        }
        if let Some(pidfd) = PidFd::open_verified(state.init_pid, state.init_start_time)? {
            pidfd.send_signal(libc::SIGKILL)?;
            // A paused container must be thawed for SIGKILL to take effect.
            if let Some(cgroup) = state.cgroup.as_ref().filter(|c| c.is_frozen()) {
                cgroup.set_frozen(false)?;
            }
            pidfd.wait_exit(KILL_TIMEOUT)?;
        }
    }
    if let Some(cgroup) = &state.cgroup {
        // Also kills what is left in it (processes of a container sharing a pid namespace).
        cgroup.destroy()?;
    }
    if let Some(group) = &state.resctrl {
        crate::resctrl::remove(group)?;
    }
    if !state.own_mount_namespace {
        crate::rootfs::unmount_host_rootfs(&state.rootfs)?;
    }
    let warnings = poststop(&state);
    store.remove(&id)?;
    Ok(warnings)
}

/// poststop hooks, once the container is gone; failures are warnings (runtime-spec).
fn poststop(state: &crate::state::State) -> Vec<String> {
    let Some(hooks) = state.hooks.as_ref().and_then(|h| h.poststop().clone()).filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    match crate::hooks::state_json(&state.id, oci_spec::runtime::ContainerState::Stopped, None, &state.bundle, &state.annotations) {
        Ok(json) => crate::hooks::run_all_hooks("poststop", &hooks, &json),
        Err(error) => vec![error.to_string()],
    }
}
