//! `run` in the foreground: wait for init while forwarding signals to it, like runc.

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::sys::pidfd::kill_pid;
use crate::sys::signal::wait_for_signal;
use crate::sys::{SysContext, SysError};

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

/// Wait until the process (our child) exits, relaying its terminal when the caller kept the
/// master (`run`, `exec` and `restore` in the foreground).
pub fn wait_for_process(pid: i32, master: Option<std::os::fd::OwnedFd>) -> Result<RunOutcome, SysError> {
    match master {
        Some(master) => wait_with_console(pid, master),
        None => wait_for_exit(pid),
    }
}

/// Wait until init (our child) exits, forwarding every other signal to it.
fn wait_for_exit(init_pid: i32) -> Result<RunOutcome, SysError> {
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

/// `run`, `exec` or `restore` in the foreground with a terminal and no console socket of
/// the caller's: relay between skiff's stdin/stdout and the pty master until the process
/// (`init_pid`, our child) exits, forwarding signals
/// (and window size changes) as [`wait_for_exit`] does. The caller's terminal, if stdin is
/// one, is put in raw mode meanwhile.
fn wait_with_console(init_pid: i32, master: std::os::fd::OwnedFd) -> Result<RunOutcome, SysError> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use nix::sys::termios;
    use std::os::fd::{AsFd, AsRawFd};

    let stdin = std::io::stdin();
    // Reads of the master must never block the relay (a background process may keep the
    // slave open after init is gone).
    nix::fcntl::fcntl(master.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK)).on("set non-blocking", "pty master")?;
    let saved = termios::tcgetattr(stdin.as_fd()).ok();
    if let Some(saved) = &saved {
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(stdin.as_fd(), termios::SetArg::TCSANOW, &raw);
        crate::sys::pty::copy_window_size(stdin.as_raw_fd(), master.as_raw_fd());
    }
    let restore = |saved: &Option<termios::Termios>| {
        if let Some(saved) = saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), termios::SetArg::TCSANOW, saved);
        }
    };
    let signals = SignalFd::with_flags(&forwarded_signals(), SfdFlags::SFD_CLOEXEC).on("signalfd", "forwarded signals")?;
    let mut stdin_open = true;
    let mut buffer = [0u8; 8192];
    let result = loop {
        if let Some(outcome) = reap(init_pid)? {
            break Ok(outcome);
        }
        let mut fds = vec![PollFd::new(master.as_fd(), PollFlags::POLLIN), PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => break Err(SysError::new("poll", "console relay", errno)),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let (master_ready, signal_ready) = (ready(&fds[0]), ready(&fds[1]));
        let stdin_ready = stdin_open && ready(&fds[2]);
        drop(fds);
        if master_ready {
            match nix::unistd::read(master.as_raw_fd(), &mut buffer) {
                Ok(n) if n > 0 => {
                    let _ = nix::unistd::write(std::io::stdout(), &buffer[..n]);
                }
                // EIO once the last slave holder is gone: the process is exiting.
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        if stdin_ready {
            match nix::unistd::read(stdin.as_raw_fd(), &mut buffer) {
                Ok(n) if n > 0 => {
                    let _ = nix::unistd::write(&master, &buffer[..n]);
                }
                _ => stdin_open = false,
            }
        }
        if signal_ready && let Ok(Some(info)) = signals.read_signal() {
            let signal = info.ssi_signo as i32;
            if signal == libc::SIGWINCH {
                crate::sys::pty::copy_window_size(stdin.as_raw_fd(), master.as_raw_fd());
            } else if signal != libc::SIGCHLD {
                kill_pid(init_pid, signal)?;
            }
        }
    };
    // What the process wrote last.
    while let Ok(n) = nix::unistd::read(master.as_raw_fd(), &mut buffer) {
        if n == 0 {
            break;
        }
        let _ = nix::unistd::write(std::io::stdout(), &buffer[..n]);
    }
    restore(&saved);
    result
}
