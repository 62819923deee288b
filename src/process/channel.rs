//! The socketpair between the runtime and init: one SEQPACKET packet per message.

use std::marker::PhantomData;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, send, socketpair};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::message::{ToInit, ToParent};

/// The largest message; errors with long chains fit easily.
const MAX_MESSAGE: usize = 64 * 1024;

/// Errors on the channel.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Creating the socketpair failed.
    #[error("create socketpair")]
    Create(#[source] Errno),
    /// Sending failed (the peer is gone: EPIPE).
    #[error("send {what} to {peer}")]
    Send {
        /// The message type.
        what: &'static str,
        /// Who we were sending to.
        peer: &'static str,
        /// The errno.
        #[source]
        errno: Errno,
    },
    /// Receiving failed.
    #[error("receive from {peer}")]
    Receive {
        /// Who we were receiving from.
        peer: &'static str,
        /// The errno.
        #[source]
        errno: Errno,
    },
    /// A message that does not decode.
    #[error("decode message from {peer}: {reason}")]
    Decode {
        /// Who sent it.
        peer: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
}

/// One end of the channel: it sends only `Out` and receives only `In`, so neither side can
/// send the other's messages (the types say which end is which).
#[derive(Debug)]
pub struct Channel<Out, In> {
    fd: OwnedFd,
    peer: &'static str,
    directions: PhantomData<fn(Out) -> In>,
}

/// The runtime's end: sends [`ToInit`], receives [`ToParent`].
pub type RuntimeEnd = Channel<ToInit, ToParent>;
/// The child's end (init, or an exec'd process): sends [`ToParent`], receives [`ToInit`].
pub type ChildEnd = Channel<ToParent, ToInit>;

/// Create the pair: (the runtime's end, the child's end).
pub fn channel_pair() -> Result<(RuntimeEnd, ChildEnd), ChannelError> {
    let (a, b) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).map_err(ChannelError::Create)?;
    Ok((Channel { fd: a, peer: "init", directions: PhantomData }, Channel { fd: b, peer: "runtime", directions: PhantomData }))
}

/// The socket itself, for a poll before a receive (the runtime's watch on its child).
impl<Out, In> std::os::fd::AsFd for Channel<Out, In> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl<Out: Serialize + std::fmt::Debug, In: DeserializeOwned> Channel<Out, In> {
    /// Mark this end close-on-exec again: preparing `--preserve-fds` clears the flag on fds
    /// 3.., and a count larger than the fds the caller passed reaches ours. The container's
    /// process must never inherit the channel.
    pub fn close_on_exec(&self) -> Result<(), ChannelError> {
        nix::fcntl::fcntl(self.fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
            .map(drop)
            .map_err(|errno| ChannelError::Receive { peer: self.peer, errno })
    }

    /// Send one message.
    pub fn send(&self, message: &Out, what: &'static str) -> Result<(), ChannelError> {
        let bytes = serde_json::to_vec(message).map_err(|e| ChannelError::Decode { peer: self.peer, reason: e.to_string() })?;
        loop {
            // MSG_NOSIGNAL: a dead peer is an error to report, not a SIGPIPE.
            match send(self.fd.as_raw_fd(), &bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(_) => return Ok(()),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(ChannelError::Send { what, peer: self.peer, errno }),
            }
        }
    }

    /// Send one message with `fd` beside it (SCM_RIGHTS).
    pub fn send_with_fd(&self, message: &Out, fd: RawFd, what: &'static str) -> Result<(), ChannelError> {
        let bytes = serde_json::to_vec(message).map_err(|e| ChannelError::Decode { peer: self.peer, reason: e.to_string() })?;
        crate::sys::fd_passing::send_fd(&self.fd, &bytes, fd).map_err(|errno| ChannelError::Send { what, peer: self.peer, errno })
    }

    /// Send one message with `fds` beside it (SCM_RIGHTS), at most
    /// [`crate::sys::fd_passing::MAX_FDS`].
    pub fn send_with_fds(&self, message: &Out, fds: &[RawFd], what: &'static str) -> Result<(), ChannelError> {
        let bytes = serde_json::to_vec(message).map_err(|e| ChannelError::Decode { peer: self.peer, reason: e.to_string() })?;
        crate::sys::fd_passing::send_fds(&self.fd, &bytes, fds).map_err(|errno| ChannelError::Send { what, peer: self.peer, errno })
    }

    /// Receive one message; `Ok(None)` when the peer closed its end (or exited). An fd sent
    /// with it is closed.
    pub fn recv(&self) -> Result<Option<In>, ChannelError> {
        Ok(self.recv_with_fd()?.map(|(message, _)| message))
    }

    /// Receive one message and the fd sent with it, if any.
    pub fn recv_with_fd(&self) -> Result<Option<(In, Option<OwnedFd>)>, ChannelError> {
        Ok(self.recv_with_fds()?.map(|(message, fds)| (message, fds.into_iter().next())))
    }

    /// Receive one message and the fds sent with it, in order.
    pub fn recv_with_fds(&self) -> Result<Option<(In, Vec<OwnedFd>)>, ChannelError> {
        // Sized to the packet: a fixed 64 KiB buffer was 16 pages touched per process.
        let waiting = crate::sys::fd_passing::peek_packet_length(&self.fd).map_err(|errno| ChannelError::Receive { peer: self.peer, errno })?;
        let mut buffer = vec![0u8; waiting.clamp(1, MAX_MESSAGE)];
        let (length, fd) =
            crate::sys::fd_passing::receive_packet_fds(&self.fd, &mut buffer).map_err(|errno| ChannelError::Receive { peer: self.peer, errno })?;
        if length == 0 {
            return Ok(None);
        }
        if length > buffer.len() {
            return Err(ChannelError::Decode { peer: self.peer, reason: format!("message of {length} bytes is too long") });
        }
        serde_json::from_slice(&buffer[..length])
            .map(|message| Some((message, fd)))
            .map_err(|e| ChannelError::Decode { peer: self.peer, reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_eof() {
        let (parent, init) = channel_pair().unwrap();
        init.send(&ToParent::Ready(Vec::new()), "ready").unwrap();
        assert_eq!(parent.recv().unwrap(), Some(ToParent::Ready(Vec::new())));
        parent.send(&ToInit::Committed, "committed").unwrap();
        assert_eq!(init.recv().unwrap(), Some(ToInit::Committed));
        drop(init);
        assert_eq!(parent.recv().unwrap(), None);
    }

    #[test]
    fn an_fd_travels_beside_a_message() {
        let (parent, init) = channel_pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        init.send_with_fd(&ToParent::SeccompListener, file.as_raw_fd(), "listener").unwrap();
        let (message, fd) = parent.recv_with_fd().unwrap().unwrap();
        assert_eq!(message, ToParent::SeccompListener);
        let fd = fd.expect("the fd arrives");
        let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"));
    }

    #[test]
    fn several_fds_travel_in_order_and_none_is_no_control_message() {
        let (parent, init) = channel_pair().unwrap();
        let files = [std::fs::File::open("/dev/null").unwrap(), std::fs::File::open("/dev/zero").unwrap()];
        let raw: Vec<RawFd> = files.iter().map(|f| f.as_raw_fd()).collect();
        parent.send_with_fds(&ToInit::Proceed { bind_sources: vec![3, 7], seccomp: None }, &raw, "proceed").unwrap();
        let (message, fds) = init.recv_with_fds().unwrap().unwrap();
        assert_eq!(message, ToInit::Proceed { bind_sources: vec![3, 7], seccomp: None });
        let targets: Vec<_> = fds.iter().map(|fd| std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()).collect();
        assert_eq!(targets, [std::path::Path::new("/dev/null"), std::path::Path::new("/dev/zero")]);
        parent.send_with_fds(&ToInit::Committed, &[], "committed").unwrap();
        let (message, fds) = init.recv_with_fds().unwrap().unwrap();
        assert_eq!((message, fds.len()), (ToInit::Committed, 0));
    }

    #[test]
    fn a_message_for_the_other_direction_is_a_decode_error() {
        // The types keep our own code from doing this; a peer that is not skiff might.
        let (a, b) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).unwrap();
        let parent: RuntimeEnd = Channel { fd: a, peer: "init", directions: PhantomData };
        let wrong: Channel<ToInit, ToInit> = Channel { fd: b, peer: "runtime", directions: PhantomData };
        wrong.send(&ToInit::Committed, "committed").unwrap();
        assert!(matches!(parent.recv(), Err(ChannelError::Decode { .. })));
    }
}
