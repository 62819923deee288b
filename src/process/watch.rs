//! The runtime's watch on a child it waits for during setup (init, or an exec'd process).
//!
//! A child that dies closes its end of the channel, and the wait ends with EOF. A child that
//! is stopped (SIGSTOP) or sits in a frozen cgroup never dies and never sends, so a plain
//! receive would wait forever. runc hangs there too, or refuses a frozen cgroup up front.
//! While it waits, the runtime therefore looks at the child once a second. If the child is
//! stopped, or its cgroup frozen, at two looks in a row, the wait ends with an error that
//! names the message it was waiting for. A child that is merely slow is left alone, for
//! example one running a long createContainer hook: its time has no bound but the hook's
//! own timeout.

use crate::cgroups::Manager;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::cgroups::ContainerCgroup;

/// How often a waiting runtime looks at the child.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Why a child cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stuck {
    /// Its cgroup is frozen (by someone else: the runtime never freezes during setup).
    Frozen,
    /// It is stopped by a signal (state `T`).
    Stopped,
}

impl Stuck {
    /// runc's words for the frozen case, which callers grep for.
    pub fn describe(self) -> &'static str {
        match self {
            Stuck::Frozen => "container's cgroup unexpectedly frozen",
            Stuck::Stopped => "the process was stopped by a signal (SIGSTOP)",
        }
    }
}

/// What to watch: the child and, for init, its cgroup. An exec'd process is not watched for
/// a frozen cgroup: `exec --ignore-paused` waits for a resume on purpose.
pub struct Watch<'a> {
    /// The child's pid.
    pub pid: i32,
    /// The cgroup whose freezing means the child cannot answer.
    pub cgroup: Option<&'a ContainerCgroup>,
}

impl Watch<'_> {
    /// Wait until `channel` has a message (or EOF) to read; `Err` when the child is stuck.
    pub fn until_readable(&self, channel: &impl AsFd) -> Result<(), WaitError> {
        let mut seen_stuck = None;
        loop {
            let mut fds = [PollFd::new(channel.as_fd(), PollFlags::POLLIN)];
            let timeout = PollTimeout::try_from(LOOK_EVERY).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, timeout) {
                Ok(0) => {}
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(WaitError::Poll { fd: channel.as_fd().as_raw_fd(), errno }),
            }
            let now = self.stuck();
            // Two looks in a row: a stop a debugger or a job-control shell lifts at once is
            // not a hang.
            if let Some(stuck) = now
                && seen_stuck == now
            {
                return Err(WaitError::Stuck(stuck));
            }
            seen_stuck = now;
        }
    }

    /// Whether the child is stuck now.
    pub fn stuck(&self) -> Option<Stuck> {
        if self.cgroup.is_some_and(|cgroup| cgroup.is_frozen()) {
            return Some(Stuck::Frozen);
        }
        match crate::sys::proc_stat::read_stat(self.pid) {
            Some(stat) if stat.state == 'T' => Some(Stuck::Stopped),
            _ => None,
        }
    }
}

/// A wait that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// poll(2) failed.
    #[error("poll on the setup channel (fd {fd}): {errno}")]
    Poll {
        /// The channel's fd.
        fd: i32,
        /// What poll said.
        errno: Errno,
    },
    /// The child cannot answer.
    #[error("{}", .0.describe())]
    Stuck(Stuck),
}
