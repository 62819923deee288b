//! `run`: create, start and, in the foreground, wait and delete, as one core call (crun's
//! `libcrun_container_run`); `restore` in the foreground ends the same way.

use crate::state::StateStore;
use crate::sys::{SysContext, SysError};
use crate::trace::Trace;

use super::create::{CreateOptions, Created, create};
use super::restore::{RestoreOptions, restore};
use super::wait::{RunOutcome, block_signals, wait_for_process};
use super::{ContainerError, PoststartFailure, delete, start};

/// How `run` (or `restore`) treats the container once it exists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Foreground {
    /// `--detach`: return once the process runs.
    pub detach: bool,
    /// `--keep`: leave the stopped container for the caller to delete.
    pub keep: bool,
    /// `--no-subreaper`: do not adopt an init that is not our child (a joined user namespace
    /// with a new pid namespace makes init a grandchild).
    pub no_subreaper: bool,
}

/// What `run` ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    /// Detached: init's pid.
    Detached(i32),
    /// The process ended so (the container is deleted unless kept).
    Exited(RunOutcome),
}

/// Create the container from `options`, start it and, unless detached, wait for its process,
/// relaying signals (and its terminal, when it has one and no console socket), then delete it.
/// A failed start deletes the container.
pub fn run(store: &StateStore, options: &CreateOptions, how: Foreground, trace: &dyn Trace) -> Result<Ran, ContainerError> {
    let options = CreateOptions { relay_terminal: !how.detach, ..options.clone() };
    prepare_to_wait(how)?;
    let Created { pid, master, warnings } = create(store, &options, trace)?;
    warnings.iter().for_each(|warning| trace.warn(warning));
    trace.debug(format_args!("run: starting container {} (init pid {pid})", options.id));
    match start(store, &options.id, PoststartFailure::KillAndFail) {
        Ok(warnings) => {
            trace.lap("start");
            warnings.iter().for_each(|warning| trace.warn(warning));
        }
        Err(error) => {
            // Do not leave a created container behind a failed run.
            let _ = delete(store, &options.id, true);
            return Err(error);
        }
    }
    if how.detach {
        return Ok(Ran::Detached(pid));
    }
    let outcome = wait_for_process(pid, master)?;
    trace.lap("the container's process runs");
    trace.debug(format_args!("run: process exited pid={pid} status={}", outcome.exit_code()));
    if !how.keep {
        delete(store, &options.id, true)?.iter().for_each(|warning| trace.warn(warning));
        trace.lap("delete");
    }
    Ok(Ran::Exited(outcome))
}

/// Restore the container and, unless detached, wait for its process and delete it.
pub fn restore_and_run(store: &StateStore, options: &RestoreOptions, how: Foreground, trace: &dyn Trace) -> Result<Ran, ContainerError> {
    let mut options = options.clone();
    options.create.relay_terminal = !how.detach;
    if !how.detach {
        block_signals()?;
    }
    if !how.no_subreaper {
        // The restored init is this process's child; anything it leaves behind is reaped here.
        set_subreaper()?;
    }
    let Created { pid, master, warnings } = restore(store, &options, trace)?;
    warnings.iter().for_each(|warning| trace.warn(warning));
    trace.debug(format_args!("restore: container {} runs again (init pid {pid})", options.create.id));
    if how.detach {
        return Ok(Ran::Detached(pid));
    }
    let outcome = wait_for_process(pid, master)?;
    delete(store, &options.create.id, true)?.iter().for_each(|warning| trace.warn(warning));
    Ok(Ran::Exited(outcome))
}

/// In the foreground: signals sent to us from now on queue up, to be forwarded to the
/// container, and (unless told not to) we adopt an init that is not our child.
fn prepare_to_wait(how: Foreground) -> Result<(), SysError> {
    if how.detach {
        return Ok(());
    }
    block_signals()?;
    if !how.no_subreaper {
        set_subreaper()?;
    }
    Ok(())
}

fn set_subreaper() -> Result<(), SysError> {
    nix::sys::prctl::set_child_subreaper(true).on("prctl PR_SET_CHILD_SUBREAPER", 1)
}
