//! The six hook points of the runtime-spec: each hook runs with the container's state JSON on
//! stdin, its own args and env, and an optional timeout in seconds. The caller decides where
//! (runtime or container namespace) and whether a failure is fatal.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::{ContainerState, Hook, StateBuilder};

/// Errors running a hook.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook could not be started.
    #[error("error running {point} hook #{index}: error running hook {path}: cannot start it")]
    Spawn {
        /// The hook point.
        point: &'static str,
        /// Its place in the point's list, from 0 (runc's numbering).
        index: usize,
        /// The program.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The hook exited unsuccessfully.
    #[error("error running {point} hook #{index}: error running hook {path}: {status}")]
    Failed {
        /// The hook point.
        point: &'static str,
        /// Its place in the point's list, from 0 (runc's numbering).
        index: usize,
        /// The program.
        path: PathBuf,
        /// Its exit status.
        status: String,
    },
    /// The hook ran past its timeout and was killed.
    #[error("error running {point} hook #{index}: error running hook {path}: timed out after {seconds} s")]
    Timeout {
        /// The hook point.
        point: &'static str,
        /// Its place in the point's list, from 0 (runc's numbering).
        index: usize,
        /// The program.
        path: PathBuf,
        /// The timeout.
        seconds: i64,
    },
    /// The state could not be encoded.
    #[error("encode the container state for hooks: {0}")]
    State(String),
}

/// How a hook ended, in Go's words as runc prints them ("exit status 1", "signal: bad
/// system call (core dumped)"), which callers grep for.
fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => {
            let text = crate::sys::signal::description(signal).to_lowercase();
            let core = if status.core_dumped() { " (core dumped)" } else { "" };
            format!("signal: {text}{core}")
        }
        (None, None) => status.to_string(),
    }
}

/// The state JSON a hook reads on stdin (the runtime-spec's state, with `status`).
pub fn state_json(id: &str, status: ContainerState, pid: Option<i32>, bundle: &Path, annotations: &HashMap<String, String>) -> Result<Vec<u8>, HookError> {
    let mut builder =
        StateBuilder::default().version(crate::bundle::OCI_VERSION).id(id).status(status).bundle(bundle.to_path_buf()).annotations(annotations.clone());
    if let Some(pid) = pid {
        builder = builder.pid(pid);
    }
    let state = builder.build().map_err(|e| HookError::State(e.to_string()))?;
    serde_json::to_vec(&state).map_err(|e| HookError::State(e.to_string()))
}

/// Run `hooks` in order, each to completion; the first failure stops the rest. Errors say
/// runc 1.5's "error running <point> hook #<n>:" around runc 1.1's "error running hook".
pub fn run_hooks(point: &'static str, hooks: &[Hook], state: &[u8]) -> Result<(), HookError> {
    hooks.iter().enumerate().try_for_each(|(index, hook)| run_hook(point, index, hook, state, None))
}

/// [`run_hooks`], where a hook without `env` gets `default_env` (runc gives startContainer
/// hooks the process's environment: not in the runtime-spec, but what callers rely on).
pub fn run_hooks_with_default_env(point: &'static str, hooks: &[Hook], state: &[u8], default_env: &[String]) -> Result<(), HookError> {
    hooks.iter().enumerate().try_for_each(|(index, hook)| run_hook(point, index, hook, state, Some(default_env)))
}

/// Run every hook of a point whose failures are warnings (poststop; poststart of `start`): the spec
/// says the remaining hooks and the lifecycle go on. Returns one warning per failed hook.
pub fn run_all_hooks(point: &'static str, hooks: &[Hook], state: &[u8]) -> Vec<String> {
    hooks.iter().enumerate().filter_map(|(index, hook)| run_hook(point, index, hook, state, None).err()).map(|e| e.to_string()).collect()
}

fn run_hook(point: &'static str, index: usize, hook: &Hook, state: &[u8], default_env: Option<&[String]>) -> Result<(), HookError> {
    let path = hook.path().clone();
    let args = hook.args().clone().unwrap_or_default();
    let mut command = Command::new(&path);
    if let Some(first) = args.first() {
        command.arg0(first);
    }
    command.args(args.iter().skip(1)).env_clear().stdin(Stdio::piped());
    for pair in hook.env().as_deref().or(default_env).unwrap_or_default() {
        if let Some((key, value)) = pair.split_once('=') {
            command.env(key, value);
        }
    }
    let mut child = command.spawn().map_err(|source| HookError::Spawn { point, index, path: path.clone(), source })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is not an error.
        let _ = stdin.write_all(state);
    }
    if let Some(seconds) = hook.timeout().filter(|t| *t > 0) {
        let at = Instant::now() + Duration::from_secs(seconds as u64);
        // Woken by the exit itself (the pidfd polls readable), not by a sleep loop. Our own
        // child, not yet reaped: its pid cannot have been reused.
        let waited = crate::sys::pidfd::PidFd::of_child(child.id() as i32).and_then(|pidfd| {
            loop {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() || pidfd.wait_exit(left)? {
                    return Ok(!left.is_zero());
                }
            }
        });
        // Without a pidfd (a kernel before 5.3, a sandbox refusing it): poll the child.
        let exited = match waited {
            Ok(exited) => exited,
            Err(_) => loop {
                match child.try_wait() {
                    Ok(Some(_)) => break true,
                    Ok(None) if Instant::now() >= at => break false,
                    Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                    Err(source) => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(HookError::Spawn { point, index, path, source });
                    }
                }
            },
        };
        if !exited {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HookError::Timeout { point, index, path, seconds });
        }
    }
    match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(HookError::Failed { point, index, path, status: describe_status(status) }),
        Err(source) => Err(HookError::Spawn { point, index, path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_exits_are_described_in_gos_words() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(describe_status(std::process::ExitStatus::from_raw(1 << 8)), "exit status 1");
        assert_eq!(describe_status(std::process::ExitStatus::from_raw(libc::SIGSYS | 0x80)), "signal: bad system call (core dumped)");
        assert_eq!(describe_status(std::process::ExitStatus::from_raw(libc::SIGKILL)), "signal: killed");
    }
}
