//! The start gate: a fifo in the container's state directory that parks init between
//! `create` and `start`.
//!
//! Init holds the fifo open for reading (opened non-blocking before the clone) and polls it;
//! Linux reports no readiness on a fifo that never had a writer, so init sleeps until `start`
//! opens it for writing and writes one byte. `start` opens with `O_NONBLOCK`, which fails with
//! ENXIO when no reader exists: a dead init is an error, never a hang. The fifo existing is
//! what makes the status `created`.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::stat::Mode;

use crate::sys::{SysContext, SysError};

/// The gate's file name inside the container directory: runc's name, which callers that
/// audit init's fds allow (runc 1.5's fd-leak test among them).
pub const GATE_FILE: &str = "exec.fifo";

/// Path of the gate of the container whose state lives in `dir`.
pub fn gate_path(dir: &Path) -> PathBuf {
    dir.join(GATE_FILE)
}

/// Make the fifo and open init's (read) end of it.
pub fn create_gate(dir: &Path) -> Result<OwnedFd, SysError> {
    let path = gate_path(dir);
    nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).on("mkfifo", path.display())?;
    crate::sys::open_fd(&path, OFlag::O_RDONLY | OFlag::O_NONBLOCK, "open start gate")
}

/// In init: sleep until `start` writes to the gate, and consume its byte.
pub fn wait_at_gate(gate: &OwnedFd) -> Result<(), SysError> {
    let mut fds = [PollFd::new(gate.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(SysError::new("wait on", "start gate", errno)),
        }
    }
    let mut byte = [0u8; 1];
    // A signal-free read of whatever the writer left; an empty read (writer closed) is also a go.
    match nix::unistd::read(gate.as_raw_fd(), &mut byte) {
        Ok(_) | Err(Errno::EAGAIN) => Ok(()),
        Err(errno) => Err(SysError::new("read", "start gate", errno)),
    }
}

/// Errors opening the gate from `start`.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// Nobody is waiting at the gate.
    #[error("container init is not waiting at the start gate {0}")]
    NoInit(PathBuf),
    /// Any other failure.
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// From `start`: let init go, then remove the gate (the container is no longer `created`).
pub fn open_gate(dir: &Path) -> Result<(), GateError> {
    let path = gate_path(dir);
    let fd = match crate::sys::open_fd(&path, OFlag::O_WRONLY | OFlag::O_NONBLOCK, "open start gate") {
        Ok(fd) => fd,
        Err(e) if e.errno == Errno::ENXIO => return Err(GateError::NoInit(path)),
        Err(e) => return Err(e.into()),
    };
    nix::unistd::write(&fd, &[0u8]).on("write", path.display())?;
    drop(fd);
    match nix::unistd::unlink(&path) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(errno) => Err(SysError::new("remove", path.display(), errno).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_without_reader_reports_no_init() {
        let dir = tempfile::tempdir().unwrap();
        let reader = create_gate(dir.path()).unwrap();
        drop(reader);
        assert!(matches!(open_gate(dir.path()), Err(GateError::NoInit(_))));
    }

    #[test]
    fn gate_opens_and_disappears() {
        let dir = tempfile::tempdir().unwrap();
        let reader = create_gate(dir.path()).unwrap();
        open_gate(dir.path()).unwrap();
        wait_at_gate(&reader).unwrap();
        assert!(!gate_path(dir.path()).exists());
    }
}
