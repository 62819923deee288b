//! How starting a container's process fails, and how a reaped process ended.

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;

use super::channel::ChannelError;
use super::message::WireError;
use super::watch;
use crate::sys::SysError;

/// Errors starting init.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A system call in the runtime failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// The channel to init failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// `linux.seccomp` did not compile (on the thread that compiled it beside the setup).
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// Init reported a failure (runc 1.5's words lead: callers match them).
    #[error("unable to start container process: error during container init: {0}")]
    Init(WireError),
    /// An exec'd process reported a failure before its exec.
    #[error("{0}")]
    ExecSetup(WireError),
    /// A prestart or createRuntime hook failed.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// Placing init in its cgroup failed.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    /// Placing init in its Intel RDT group failed.
    #[error(transparent)]
    Resctrl(#[from] crate::resctrl::ResctrlError),
    /// The process exited before it was ready, without saying why.
    #[error("{who} exited before it was ready ({status})")]
    Exited {
        /// "container init" or "the exec'd process".
        who: &'static str,
        /// How it ended.
        status: ExitStatus,
    },
    /// The channel closed: init died before it was ready (see `init_died`).
    #[error("container init closed its channel before it was ready")]
    Gone,
    /// Init was OOM-killed during setup.
    #[error(
        "container init was OOM-killed during setup: linux.resources.memory.limit ({limit} bytes, {kept} in whole pages) is below what setting up the container needs (current usage: {usage}, peak usage: {peak}); raise the limit"
    )]
    OomKilled {
        /// The memory limit asked for, in bytes.
        limit: i64,
        /// The limit the kernel keeps: rounded down to whole pages.
        kept: u64,
        /// The cgroup's usage once init is gone, in bytes.
        usage: u64,
        /// The highest usage the cgroup reached, in bytes.
        peak: u64,
    },
    /// The process can no longer answer (stopped, or its cgroup frozen): waiting would never
    /// end. It was killed.
    #[error("{why} while the runtime waited for {who} to send {awaiting}; it was killed")]
    Stuck {
        /// "container init" or "the exec'd process".
        who: &'static str,
        /// The message that was due.
        awaiting: &'static str,
        /// Why it cannot answer.
        why: watch::WaitError,
    },
    /// The process broke the setup protocol (message.rs).
    #[error("{who} {what}")]
    Protocol {
        /// "container init" or "the exec'd process".
        who: &'static str,
        /// What it did.
        what: String,
    },
}

/// How a process that the runtime reaped ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit(code).
    Code(i32),
    /// Killed by a signal.
    Signal(nix::sys::signal::Signal),
    /// waitpid failed (the errno) or reported something else.
    Unknown(Option<nix::errno::Errno>),
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit status {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by {signal}"),
            ExitStatus::Unknown(Some(errno)) => write!(f, "wait failed: {errno}"),
            ExitStatus::Unknown(None) => write!(f, "unknown status"),
        }
    }
}

/// Reap `pid` and say how it ended.
pub(super) fn reap(pid: i32) -> ExitStatus {
    match waitpid(Pid::from_raw(pid), None) {
        Ok(WaitStatus::Exited(_, code)) => ExitStatus::Code(code),
        Ok(WaitStatus::Signaled(_, signal, _)) => ExitStatus::Signal(signal),
        Ok(_) => ExitStatus::Unknown(None),
        Err(errno) => ExitStatus::Unknown(Some(errno)),
    }
}

impl ProcessError {
    /// Whether this says the other end of the channel is gone (closed, reset, broken pipe).
    pub(super) fn init_is_gone(&self) -> bool {
        let gone = |errno: &nix::errno::Errno| matches!(errno, nix::errno::Errno::ECONNRESET | nix::errno::Errno::EPIPE);
        match self {
            ProcessError::Gone => true,
            ProcessError::Channel(ChannelError::Send { errno, .. } | ChannelError::Receive { errno, .. }) => gone(errno),
            _ => false,
        }
    }
}
