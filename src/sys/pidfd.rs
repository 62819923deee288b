//! Process file descriptors: signal and wait for a process without racing pid reuse.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::{SysContext, SysError, check, proc_stat};

/// An open pidfd for a process that was checked to be the one started at a known time.
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

impl PidFd {
    /// Open a pidfd for `pid` and confirm it is still the process that started at
    /// `start_time`: the check after the open makes the fd refer to the right process.
    /// `Ok(None)` means the process is gone.
    pub fn open_verified(pid: i32, start_time: u64) -> Result<Option<PidFd>, SysError> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let ret = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) });
        let raw = match ret {
            Ok(raw) => raw as i32,
            Err(Errno::ESRCH) => return Ok(None),
            Err(errno) => return Err(SysError::new("pidfd_open", pid, errno)),
        };
        // SAFETY: the kernel just returned this fd to us; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        if !proc_stat::is_alive(pid, start_time) {
            return Ok(None);
        }
        Ok(Some(PidFd { fd, pid }))
    }

    /// A pidfd for `pid`, a child of ours not yet reaped: its pid cannot be reused before we
    /// reap it, so no start-time check is needed.
    pub fn of_child(pid: i32) -> Result<PidFd, SysError> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let raw = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) }).on("pidfd_open", pid)?;
        // SAFETY: the kernel just returned this fd to us; nothing else owns it.
        Ok(PidFd { fd: unsafe { OwnedFd::from_raw_fd(raw as i32) }, pid })
    }

    /// Send `signal` to the process. `Ok(false)` when it has already exited.
    pub fn send_signal(&self, signal: i32) -> Result<bool, SysError> {
        // SAFETY: a valid pidfd, a signal number, no siginfo, no flags.
        let ret = check(unsafe { libc::syscall(libc::SYS_pidfd_send_signal, self.fd.as_raw_fd(), signal, 0usize, 0) });
        match ret {
            Ok(_) => Ok(true),
            Err(Errno::ESRCH) => Ok(false),
            Err(errno) => Err(SysError::new("pidfd_send_signal", self.pid, errno)),
        }
    }

    /// Wait up to `timeout` for the process to exit; `Ok(true)` once it has.
    pub fn wait_exit(&self, timeout: Duration) -> Result<bool, SysError> {
        let mut fds = [PollFd::new(self.fd_borrow(), PollFlags::POLLIN)];
        let millis = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        loop {
            match poll(&mut fds, PollTimeout::from(millis)) {
                Ok(n) => return Ok(n > 0),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(SysError::new("poll pidfd of", self.pid, errno)),
            }
        }
    }

    /// Join the namespaces of this process named by `flags` (setns on the pidfd: the kernel
    /// joins them together, user namespace first). The calling process must be single-threaded.
    pub fn join_namespaces(&self, flags: nix::sched::CloneFlags) -> Result<(), SysError> {
        nix::sched::setns(self.fd_borrow(), flags).on("setns into the namespaces of", format!("{} ({flags:?})", self.pid))
    }

    /// Send this pidfd over the unix socket at `socket` (`--pidfd-socket`), SCM_RIGHTS with
    /// its name as data.
    pub fn send_to(&self, socket: &std::path::Path) -> Result<(), SysError> {
        super::fd_passing::send_fd_to_path(socket, b"pidfd", self.fd.as_raw_fd(), "send a pidfd over")
    }

    /// The pid this fd refers to.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    fn fd_borrow(&self) -> std::os::fd::BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }
}

/// The namespaces `pid` is in that differ from the caller's (what an exec must join).
pub fn namespaces_differing(pid: i32) -> nix::sched::CloneFlags {
    use nix::sched::CloneFlags;
    let kinds = [
        ("user", CloneFlags::CLONE_NEWUSER),
        ("mnt", CloneFlags::CLONE_NEWNS),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("net", CloneFlags::CLONE_NEWNET),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("time", CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)),
    ];
    kinds
        .iter()
        .filter(|(name, _)| {
            let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{name}")).ok();
            let ours = std::fs::read_link(format!("/proc/self/ns/{name}")).ok();
            theirs.is_some() && theirs != ours
        })
        .fold(CloneFlags::empty(), |all, (_, flag)| all | *flag)
}

/// Send `signal` to each of `pids`; a process that exited meanwhile is not an error.
pub fn kill_each(pids: &[i32], signal: i32) {
    for pid in pids {
        let _ = kill_pid(*pid, signal);
    }
}

/// Signal a process by plain pid (for processes found in a namespace scan).
pub fn kill_pid(pid: i32, signal: i32) -> Result<(), SysError> {
    // SAFETY: kill takes plain integers; real-time signals have no nix `Signal` value.
    match check(unsafe { libc::kill(pid, signal) }.into()) {
        Ok(_) | Err(Errno::ESRCH) => Ok(()),
        Err(errno) => Err(errno).on("kill", pid),
    }
}
