//! `state` and `list`: what the runtime reports about containers, in runc's shape.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::state::{State, StateStore, StateSummary};
use crate::sys::proc_stat;

use super::{ContainerError, Status, derive_status};

/// A container's state as `state` prints it (runc's keys, in runc's order).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StateReport {
    /// Spec version of the config.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Init's pid; 0 once stopped.
    pub pid: i32,
    /// Derived status.
    pub status: Status,
    /// Bundle path.
    pub bundle: PathBuf,
    /// Rootfs path.
    pub rootfs: PathBuf,
    /// Creation time.
    pub created: String,
    /// Annotations, omitted when empty.
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// Owner: empty in `state` (as runc), the user name in `list`.
    pub owner: String,
}

fn report(state: State, status: Status) -> StateReport {
    StateReport {
        oci_version: state.oci_version,
        id: state.id,
        pid: if status == Status::Stopped { 0 } else { state.init_pid },
        status,
        bundle: state.bundle,
        rootfs: state.rootfs,
        created: state.created,
        annotations: state.annotations,
        owner: String::new(),
    }
}

/// The state of container `id`.
pub fn state(store: &StateStore, id: &str) -> Result<StateReport, ContainerError> {
    let container = super::Loaded::load(store, id)?;
    Ok(report(container.state, container.status))
}

/// Every container under the root, with its owner's user name (from the host's
/// /etc/passwd, read directly: the binary is static, without NSS). Directories without a
/// readable state (an interrupted create) are left out, as runc does.
pub fn list(store: &StateStore) -> Result<Vec<StateReport>, ContainerError> {
    let mut reports = Vec::new();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for (id, summary) in store.summaries()? {
        let owner_uid = summary.owner_uid;
        // A stopped container needs nothing more than its summary; a live one is loaded
        // whole, for its cgroup (paused or not) and its start gate (created or running).
        let mut entry = if proc_stat::is_alive(summary.init_pid, summary.init_start_time) {
            let Ok(state) = store.load(&id) else { continue };
            let status = derive_status(&state, &store.container_dir(&id));
            report(state, status)
        } else {
            stopped_report(summary)
        };
        entry.owner = crate::sys::user::name_from_passwd(&passwd, owner_uid).unwrap_or_else(|| format!("#{owner_uid}"));
        reports.push(entry);
    }
    Ok(reports)
}

/// The report of a stopped container, from its summary.
fn stopped_report(summary: StateSummary) -> StateReport {
    StateReport {
        oci_version: summary.oci_version,
        id: summary.id,
        pid: 0,
        status: Status::Stopped,
        bundle: summary.bundle,
        rootfs: summary.rootfs,
        created: summary.created,
        annotations: summary.annotations,
        owner: String::new(),
    }
}
