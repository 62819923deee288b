//! A seccomp notification listener's fd, sent on to `listenerPath` with the container's state.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use super::ProcessError;

/// Where a seccomp notification listener goes: `listenerPath`, with `listenerMetadata` and
/// the container's state.
#[derive(Debug)]
pub struct ListenerTarget<'a> {
    /// `linux.seccomp.listenerPath`.
    pub path: &'a Path,
    /// `linux.seccomp.listenerMetadata`.
    pub metadata: Option<&'a str>,
    /// The container's state JSON.
    pub state: Vec<u8>,
}

impl<'a> ListenerTarget<'a> {
    /// The target of `profile`, when it names a `listenerPath`; `state` makes the state JSON
    /// (only then).
    pub fn of(
        profile: Option<&'a oci_spec::runtime::LinuxSeccomp>,
        state: impl FnOnce() -> Result<Vec<u8>, crate::hooks::HookError>,
    ) -> Result<Option<ListenerTarget<'a>>, crate::hooks::HookError> {
        let Some((profile, path)) = profile.and_then(|p| Some((p, p.listener_path().as_deref()?))) else {
            return Ok(None);
        };
        Ok(Some(ListenerTarget { path, metadata: profile.listener_metadata().as_deref(), state: state()? }))
    }
}

/// Send the listener fd init (or an exec'd process) handed over to `target`, as the
/// runtime-spec's container process state; `pid` is the process the filter is on.
pub(super) fn forward_listener(target: &ListenerTarget, listener: Option<OwnedFd>, pid: i32) -> Result<(), ProcessError> {
    let Some(listener) = listener else {
        return Err(ProcessError::Protocol { who: "the container's process", what: "announced a seccomp listener but sent no fd".into() });
    };
    let state: serde_json::Value = serde_json::from_slice(&target.state).unwrap_or(serde_json::Value::Null);
    let message = crate::seccomp::listener_message(&state, pid, target.metadata);
    crate::sys::fd_passing::send_fd_to_path_as(
        target.path,
        message.as_bytes(),
        listener.as_raw_fd(),
        "failed to connect with seccomp agent at",
        "send the seccomp listener to",
    )?;
    Ok(())
}
