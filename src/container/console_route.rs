//! Where a terminal's pty master goes: runc's rules for `process.terminal`, `--console-socket`
//! and a caller that relays the terminal itself.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use crate::sys::SysError;

use super::ContainerError;

/// Where a terminal's pty master goes. runc's rules: a terminal needs a console socket (or
/// a caller that relays it), and a console socket without a terminal is a mistake.
pub(super) enum ConsoleRoute {
    /// No terminal.
    None,
    /// `--console-socket`, connected here on the host.
    Socket(UnixStream),
    /// A socket pair: init sends the master into one end, the caller's end receives it.
    Relay { init: UnixStream, caller: UnixStream },
}

impl ConsoleRoute {
    /// The route for a process whose `terminal` is set or not, given `--console-socket`
    /// (`socket`) and whether the caller relays a terminal itself (`relay`).
    pub(super) fn new(terminal: bool, socket: Option<&Path>, relay: bool) -> Result<ConsoleRoute, ContainerError> {
        if relays_terminal(terminal, socket, relay) {
            let (init, caller) = UnixStream::pair().map_err(|e| SysError::io("socketpair", "the pty master's relay", &e))?;
            return Ok(ConsoleRoute::Relay { init, caller });
        }
        Ok(match connect_console(terminal, socket)? {
            Some(socket) => ConsoleRoute::Socket(socket),
            None => ConsoleRoute::None,
        })
    }

    /// The socket init sends the master to.
    pub(super) fn init_end(&self) -> Option<RawFd> {
        match self {
            ConsoleRoute::None => None,
            ConsoleRoute::Socket(socket) | ConsoleRoute::Relay { init: socket, .. } => Some(socket.as_raw_fd()),
        }
    }

    /// The socket init must not keep: the caller's end of a relay.
    pub(super) fn caller_end(&self) -> Option<RawFd> {
        match self {
            ConsoleRoute::Relay { caller, .. } => Some(caller.as_raw_fd()),
            _ => None,
        }
    }

    /// The master init sent, when the caller relays it, with newline translation off (before
    /// the process can write). Our copy of init's end is closed first, so an init that sent
    /// nothing reads as end of file, never as a wait.
    pub(super) fn relayed_master(self) -> Result<Option<OwnedFd>, SysError> {
        match self {
            ConsoleRoute::Relay { init, caller } => {
                drop(init);
                let master = crate::sys::fd_passing::receive_fd(&caller)?.0;
                crate::sys::pty::clear_output_newline_translation(&master)?;
                Ok(Some(master))
            }
            _ => Ok(None),
        }
    }
}

/// Whether the caller keeps a terminal's master and relays it: a terminal, no console
/// socket, and a caller that relays (`run`, `exec` and `restore` in the foreground).
pub(super) fn relays_terminal(terminal: bool, socket: Option<&Path>, relay: bool) -> bool {
    terminal && relay && socket.is_none()
}

/// Connect to `--console-socket`, which a terminal needs (unless the caller relays it) and
/// only a terminal may have.
pub(super) fn connect_console(terminal: bool, socket: Option<&Path>) -> Result<Option<UnixStream>, ContainerError> {
    match (terminal, socket) {
        (false, None) => Ok(None),
        (true, None) => Err(ContainerError::InvalidOption {
            option: "--console-socket",
            reason: "process.terminal is set: a console socket is needed to receive the pty master (only `run`, `exec` and `restore` in the foreground relay it themselves)".into(),
        }),
        (false, Some(_)) => Err(ContainerError::InvalidOption {
            option: "--console-socket",
            reason: "process.terminal is not set: there is no terminal to send".into(),
        }),
        (true, Some(path)) => UnixStream::connect(path).map(Some).map_err(|source| ContainerError::OptionUnusable {
            option: "--console-socket",
            what: format!("connect to {}", path.display()),
            source,
        }),
    }
}
