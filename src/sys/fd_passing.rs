//! Passing fds over unix sockets (SCM_RIGHTS): the pty master to `--console-socket`, a
//! pidfd to `--pidfd-socket`, a seccomp listener to `listenerPath`, and init's messages
//! with an fd beside them on the channel.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

use super::{SysContext, SysError};

/// Send `data` with `fd` beside it on a connected socket.
pub fn send_fd(socket: &impl AsRawFd, data: &[u8], fd: RawFd) -> nix::Result<()> {
    send_fds(socket, data, &[fd])
}

/// The most fds one packet carries: [`receive_packet`] makes room for this many.
pub const MAX_FDS: usize = 64;

/// Send `data` with `fds` (at most [`MAX_FDS`]; none: no control message) over `socket`.
pub fn send_fds(socket: &impl AsRawFd, data: &[u8], fds: &[RawFd]) -> nix::Result<()> {
    if fds.len() > MAX_FDS {
        return Err(Errno::E2BIG);
    }
    let iov = [IoSlice::new(data)];
    let rights = [ControlMessage::ScmRights(fds)];
    let control: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<()>(socket.as_raw_fd(), &iov, control, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

/// Connect to the unix socket at `path` and send `data` with `fd`; `what` names the fd.
pub fn send_fd_to_path(path: &Path, data: &[u8], fd: RawFd, what: &'static str) -> Result<(), SysError> {
    send_fd_to_path_as(path, data, fd, "connect to", what)
}

/// [`send_fd_to_path`], naming a failed connect as `connect_op` (runc's words, where callers
/// look for them).
pub fn send_fd_to_path_as(path: &Path, data: &[u8], fd: RawFd, connect_op: &'static str, what: &'static str) -> Result<(), SysError> {
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| SysError::io(connect_op, path.display(), &e))?;
    send_fd(&stream, data, fd).on(what, path.display())
}

/// Receive one packet into `buffer` and the first fd sent with it (any others are closed).
/// Returns the full packet length (MSG_TRUNC: larger than the buffer when it did not fit).
pub fn receive_packet(socket: &impl AsRawFd, buffer: &mut [u8]) -> nix::Result<(usize, Option<OwnedFd>)> {
    receive_packet_fds(socket, buffer).map(|(length, fds)| (length, fds.into_iter().next()))
}

/// Receive one packet into `buffer` and every fd sent with it, in order (up to [`MAX_FDS`]).
pub fn receive_packet_fds(socket: &impl AsRawFd, buffer: &mut [u8]) -> nix::Result<(usize, Vec<OwnedFd>)> {
    let mut space = nix::cmsg_space!([RawFd; MAX_FDS]);
    loop {
        let mut iov = [IoSliceMut::new(buffer)];
        let message = match recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_TRUNC | MsgFlags::MSG_CMSG_CLOEXEC) {
            Err(Errno::EINTR) => continue,
            other => other?,
        };
        let mut received = Vec::new();
        for cmsg in message.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                // SAFETY: the kernel just installed these fds for us; each is owned once.
                received.extend(fds.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        return Ok((message.bytes, received));
    }
}

/// The length of the next packet waiting on `socket`, without taking it (0: the peer closed).
pub fn peek_packet_length(socket: &impl AsRawFd) -> nix::Result<usize> {
    loop {
        let mut iov = [IoSliceMut::new(&mut [])];
        match recvmsg::<()>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC) {
            Err(Errno::EINTR) => continue,
            other => return other.map(|message| message.bytes),
        }
    }
}

/// Receive one fd sent with SCM_RIGHTS on `stream`, with the data sent beside it (the pty's
/// name, or "pidfd"): what `create` does for a caller that relays the terminal, and what a
/// recvtty-like receiver does.
pub fn receive_fd(stream: &impl AsRawFd) -> Result<(OwnedFd, String), SysError> {
    let mut data = [0u8; 256];
    let (length, fd) = receive_packet(stream, &mut data).on("receive an fd", "unix socket")?;
    match fd {
        Some(fd) => Ok((fd, String::from_utf8_lossy(&data[..length.min(data.len())]).into_owned())),
        None => Err(SysError::refused("receive an fd", "unix socket", "the message carried no fd")),
    }
}
