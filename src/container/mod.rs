//! The container lifecycle: each operation checks the derived status and acts.

mod binary_seal;
mod checkpoint;
mod console_route;
mod create;
mod creation;
mod delete;
mod events;
mod exec;
mod kill;
mod pause;
mod ps;
mod query;
mod restore;
mod run;
mod start;
mod update;
mod wait;

pub use checkpoint::{CheckpointOptions, CriuFlags, checkpoint};
pub use create::{CreateOptions, Created, create};
pub use delete::delete;
pub use events::{Event, events_stats, watch_events};
pub use exec::{ExecOptions, ExecOutcome, exec};
pub use kill::kill;
pub use pause::{pause, resume};
pub use ps::processes;
pub use query::{StateReport, list, state};
pub use restore::{RestoreOptions, restore};
pub use run::{Foreground, Ran, restore_and_run, run};
pub use start::{PoststartFailure, start};
pub use update::update;
pub use wait::{RunOutcome, block_signals, wait_for_process};

use crate::cgroups::Manager;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::BundleError;
use crate::process::ProcessError;
use crate::process::gate::{GateError, gate_path};
use crate::state::{State, StateError};
use crate::sys::SysError;
use crate::sys::proc_stat;
use crate::sys::signal::SignalError;

/// Errors of lifecycle operations.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The state store.
    #[error(transparent)]
    State(#[from] StateError),
    /// The bundle is unusable.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Starting init failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A system call in the runtime failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// A bad signal name.
    #[error(transparent)]
    Signal(#[from] SignalError),
    /// The container's cgroup.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    /// A hook failed.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// Opening the start gate failed.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// The seccomp profile does not compile.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// The Intel RDT group.
    #[error(transparent)]
    Resctrl(#[from] crate::resctrl::ResctrlError),
    /// Checkpoint or restore through CRIU.
    #[error(transparent)]
    Criu(#[from] crate::criu::CriuError),
    /// A WebAssembly container's handler or module.
    #[error(transparent)]
    Wasm(#[from] crate::wasm::WasmError),
    /// skiff's binary is immutable, but the container's process may hold
    /// CAP_LINUX_IMMUTABLE: the caller must re-execute from a read-only mount first.
    #[error("the process may hold CAP_LINUX_IMMUTABLE, which an immutable skiff binary does not withstand: run skiff from a read-only mount")]
    NeedsReadOnlyBinary,
    /// The operation is not allowed in the container's status.
    #[error("{message}")]
    WrongState {
        /// runc's wording for the case.
        message: String,
        /// The status found.
        status: Status,
    },
    /// A command-line option with a value the runtime refuses.
    #[error("{option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// A command-line option names something that cannot be used: the I/O error says why.
    #[error("{option}: {what}")]
    OptionUnusable {
        /// The option.
        option: &'static str,
        /// What was tried with its value.
        what: String,
        /// The error, with its errno.
        #[source]
        source: std::io::Error,
    },
}

impl ContainerError {
    /// Whether the container's init reported the failure (its setup failed).
    pub fn is_init_failure(&self) -> bool {
        matches!(self, ContainerError::Process(crate::process::ProcessError::Init(_)))
    }
}

/// The status of a container, as `state` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created.
    Creating,
    /// Created; init waits at the start gate.
    Created,
    /// The user's process runs.
    Running,
    /// Frozen.
    Paused,
    /// Init has exited.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// A container's saved state with its status derived now: what every operation starts from.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The checked id.
    pub id: crate::state::ContainerId,
    /// The saved state.
    pub state: State,
    /// The derived status.
    pub status: Status,
}

impl Loaded {
    /// Load container `id` and derive its status.
    pub fn load(store: &crate::state::StateStore, id: &str) -> Result<Loaded, ContainerError> {
        let id = crate::state::ContainerId::parse(id)?;
        let state = store.load(&id)?;
        let status = derive_status(&state, &store.container_dir(&id));
        Ok(Loaded { id, state, status })
    }

    /// Refuse unless the status is one of `allowed`, with runc's `message`.
    pub fn require(&self, allowed: &[Status], message: &str) -> Result<(), ContainerError> {
        if allowed.contains(&self.status) { Ok(()) } else { Err(ContainerError::WrongState { message: message.to_string(), status: self.status }) }
    }

    /// The container's cgroup, for an operation that needs one.
    pub fn cgroup(&self) -> Result<&crate::cgroups::ContainerCgroup, ContainerError> {
        self.state.cgroup.as_ref().ok_or_else(|| ContainerError::WrongState { message: "container has no cgroup".into(), status: self.status })
    }

    /// The container's processes: from its cgroup, or, for a container without one (rootless
    /// outside a delegated cgroup), every process in its own pid namespace. Without either
    /// its processes cannot be told from the host's.
    pub fn pids(&self) -> Result<Vec<i32>, ContainerError> {
        if let Some(cgroup) = &self.state.cgroup {
            return Ok(cgroup.pids()?);
        }
        if !self.state.own_pid_namespace {
            return Err(ContainerError::WrongState {
                message: "container has no cgroup and shares its pid namespace: its processes cannot be listed".into(),
                status: self.status,
            });
        }
        if !proc_stat::is_alive(self.state.init_pid, self.state.init_start_time) {
            return Ok(Vec::new());
        }
        Ok(proc_stat::pids_in_pid_namespace_of(self.state.init_pid))
    }
}

/// Every status but stopped: what `kill`, `update`, `events` accept ("container not running").
pub(crate) const LIVE: &[Status] = &[Status::Creating, Status::Created, Status::Running, Status::Paused];

/// Derive the status from the live system, never from what was saved: stopped when init is
/// gone (or a zombie, or its pid now belongs to a process with another start time), paused
/// while its cgroup is frozen, created while the start gate exists, running otherwise.
pub fn derive_status(state: &State, container_dir: &Path) -> Status {
    if !proc_stat::is_alive(state.init_pid, state.init_start_time) {
        return Status::Stopped;
    }
    if state.cgroup.as_ref().is_some_and(|c| c.is_frozen()) {
        return Status::Paused;
    }
    if gate_path(container_dir).exists() {
        return Status::Created;
    }
    Status::Running
}
