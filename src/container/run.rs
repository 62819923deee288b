//! `run` in the foreground: wait for init while forwarding signals to it, like runc.

#![forbid(unsafe_code)]

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::linux::pidfd::kill_pid;
use crate::linux::signal::wait_for_signal;
use crate::linux::{SysContext, SysError};

/// How the container's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Exited with this status.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

impl RunOutcome {
    /// The exit status the runtime returns: the process's, or 128 + signal.
    pub fn exit_code(self) -> i32 {
        match self {
            RunOutcome::Exited(code) => code,
            RunOutcome::Signaled(signal) => 128 + signal,
        }
    }
}

/// The signals `run` forwards: all but the ones the kernel will not let us catch, the
/// synchronous faults, and SIGCHLD (which tells us init exited).
pub fn forwarded_signals() -> SigSet {
    let mut set = SigSet::all();
    for signal in [Signal::SIGKILL, Signal::SIGSTOP, Signal::SIGSEGV, Signal::SIGBUS, Signal::SIGFPE, Signal::SIGILL, Signal::SIGTRAP] {
        set.remove(signal);
    }
    set
}

/// Block the forwarded signals (and SIGCHLD) so they queue for [`wait_for_exit`]. Must run
/// before init is cloned; init unblocks them for itself.
pub fn block_signals() -> Result<(), SysError> {
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&forwarded_signals()), None).on("sigprocmask", "block forwarded signals")
}

/// Wait until init (our child) exits, forwarding every other signal to it.
pub fn wait_for_exit(init_pid: i32) -> Result<RunOutcome, SysError> {
    let set = forwarded_signals();
    loop {
        if let Some(outcome) = reap(init_pid)? {
            return Ok(outcome);
        }
        let signal = wait_for_signal(&set).map_err(|errno| SysError::new("sigwait", "forwarded signals", errno))?;
        if signal != libc::SIGCHLD {
            kill_pid(init_pid, signal)?;
        }
    }
}

fn reap(pid: i32) -> Result<Option<RunOutcome>, SysError> {
    match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(RunOutcome::Exited(code))),
        Ok(WaitStatus::Signaled(_, signal, _)) => Ok(Some(RunOutcome::Signaled(signal as i32))),
        Ok(_) => Ok(None),
        Err(Errno::EINTR) => Ok(None),
        Err(errno) => Err(SysError::new("waitpid", pid, errno)),
    }
}
