//! One conversation with CRIU over its RPC: `criu swrk <fd>` on a socketpair, a `CriuReq`
//! sent, `CriuResp`s read until the answer to it, with the notify callbacks answered in
//! between (as runc's criuSwrk does).
//!
//! rust-criu's own client does not serve a runtime: it has no pre-dump and no feature check,
//! drops the restored pid, and its notify callback is a plain `fn` with no way to reach the
//! container being restored (hooks, state, console socket). So only its generated messages
//! (`rust_criu::rust_criu_protobuf::rpc`, CRIU's rpc.proto) are used, and the client is this.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use protobuf::Message;
use rust_criu::rust_criu_protobuf::rpc;

use super::CriuError;
use crate::sys::fd_passing::{peek_packet_length, receive_packet};

/// What the caller does when CRIU calls back (`notify_scripts`): `script` is the hook's name
/// (`post-restore`, `orphan-pts-master`, ...), `pid` the pid CRIU names, `fd` what CRIU
/// passed beside the message (the pty master of `orphan-pts-master`).
pub trait Notifications {
    /// Act on one notification; an error makes CRIU abort the operation.
    fn notify(&mut self, script: &str, pid: i32, fd: Option<OwnedFd>) -> Result<(), CriuError>;
}

/// No callbacks to act on (version and feature queries).
pub struct NoNotifications;

impl Notifications for NoNotifications {
    fn notify(&mut self, _script: &str, _pid: i32, _fd: Option<OwnedFd>) -> Result<(), CriuError> {
        Ok(())
    }
}

/// CRIU's stdio during the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriuStdio {
    /// /dev/null (checkpoint: CRIU logs to its log file).
    Null,
    /// The runtime's own (restore: the restored process's pipes are found as CRIU's fds 0-2).
    Inherit,
}

/// The criu binary to run.
#[derive(Debug, Clone)]
pub struct Criu {
    path: PathBuf,
}

/// A started `criu swrk`, before the request is sent: the caller may place it (in the
/// container's cgroup) first.
pub struct Started {
    child: Child,
    socket: OwnedFd,
}

impl Started {
    /// The criu process's pid.
    pub fn pid(&self) -> i32 {
        // A pid always fits: the kernel's pid_max is below 2^22.
        self.child.id() as i32
    }

    /// Give up before the request: kill criu and reap it.
    pub fn abort(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Criu {
    /// `--criu PATH`, or `criu` found on PATH.
    pub fn new(path: Option<&Path>) -> Criu {
        Criu { path: path.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("criu")) }
    }

    /// Start `criu swrk` with `inherited` fds left open for it (namespace files named in
    /// `inherit_fd`, by their numbers in this process).
    pub fn start(&self, stdio: CriuStdio, inherited: &[&OwnedFd]) -> Result<Started, CriuError> {
        let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
            .map_err(|errno| CriuError::Sys(crate::sys::SysError::new("socketpair for", "criu swrk", errno)))?;
        // criu takes the socket by number: it (and the inherited fds) must survive the exec.
        // This process is single-threaded, so no other fork sees them uncloexec'd.
        let cloexec_back = || {
            for fd in inherited {
                let _ = fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
            }
        };
        for fd in std::iter::once(&theirs).chain(inherited.iter().copied()) {
            if let Err(errno) = fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::empty())) {
                cloexec_back();
                return Err(CriuError::Sys(crate::sys::SysError::new("clear FD_CLOEXEC for criu on fd", fd.as_raw_fd(), errno)));
            }
        }
        let mut command = Command::new(&self.path);
        command.arg("swrk").arg(theirs.as_raw_fd().to_string());
        if stdio == CriuStdio::Null {
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        }
        let spawned = command.spawn();
        // Back to close-on-exec: later children (hooks) must not inherit them.
        cloexec_back();
        drop(theirs);
        let child = spawned.map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => CriuError::NotFound { path: self.path.clone() },
            _ => CriuError::Spawn { path: self.path.clone(), source },
        })?;
        Ok(Started { child, socket: ours })
    }

    /// CRIU's version as runc numbers it (3.17.1 is 31701; a git build counts as the next
    /// minor release).
    pub fn version(&self) -> Result<u32, CriuError> {
        let mut request = rpc::Criu_req::new();
        request.set_type(rpc::Criu_req_type::VERSION);
        let started = self.start(CriuStdio::Null, &[])?;
        let response = converse(started, request, &mut NoNotifications)?;
        let version = response.version.as_ref().ok_or_else(|| CriuError::Protocol("the version answer holds no version".into()))?;
        Ok(version_code(version.major_number(), version.minor_number(), version.sublevel(), version.has_gitid()))
    }

    /// Refuse unless CRIU is at least `minimum` (runc's numbering), saying what needs it.
    pub fn require(&self, minimum: u32, what: &'static str) -> Result<u32, CriuError> {
        at_least(self.version()?, minimum, what)
    }

    /// Ask CRIU whether it has the features `wanted` asks for (memory tracking for
    /// pre-dumps, lazy pages); the missing ones are an error naming them.
    pub fn check_features(&self, mem_track: bool, lazy_pages: bool) -> Result<(), CriuError> {
        let mut wanted = rpc::Criu_features::new();
        if mem_track {
            wanted.set_mem_track(true);
        }
        if lazy_pages {
            wanted.set_lazy_pages(true);
        }
        let mut request = rpc::Criu_req::new();
        request.set_type(rpc::Criu_req_type::FEATURE_CHECK);
        request.features = protobuf::MessageField::some(wanted);
        let response = converse(self.start(CriuStdio::Null, &[])?, request, &mut NoNotifications).map_err(|error| match error {
            CriuError::Failed { request, errno, message } if message.is_empty() => {
                CriuError::Failed { request, errno, message: "CRIU could not probe this kernel (`criu check` says why)".into() }
            }
            other => other,
        })?;
        let found = response.features.as_ref();
        let mut missing = Vec::new();
        if mem_track && !found.is_some_and(|f| f.mem_track()) {
            missing.push("memory tracking (pre-dump, --parent-path)");
        }
        if lazy_pages && !found.is_some_and(|f| f.lazy_pages()) {
            missing.push("lazy pages (userfaultfd)");
        }
        if missing.is_empty() { Ok(()) } else { Err(CriuError::MissingFeatures(missing.join(", "))) }
    }
}

/// runc's version number: 3.17.1 is 31701; a build from git counts as the next minor release.
fn version_code(major: i32, minor: i32, sublevel: i32, from_git: bool) -> u32 {
    let number = |n: i32| u32::try_from(n).unwrap_or(0);
    let code = number(major) * 10000 + number(minor) * 100 + number(sublevel);
    if from_git { code - code % 100 + 100 } else { code }
}

/// `found` if it is at least `minimum`, else the error saying what needs the newer CRIU.
fn at_least(found: u32, minimum: u32, what: &'static str) -> Result<u32, CriuError> {
    if found < minimum { Err(CriuError::TooOld { found, minimum, what }) } else { Ok(found) }
}

/// Send `request` to the started CRIU and read its answers until the one to `request`,
/// answering each notification through `notifications`; then wait for CRIU to exit.
pub fn converse(started: Started, request: rpc::Criu_req, notifications: &mut dyn Notifications) -> Result<rpc::Criu_resp, CriuError> {
    let Started { mut child, socket } = started;
    let result = exchange(&socket, &request, notifications);
    // Closing our end tells a still-running CRIU that nobody listens any more.
    drop(socket);
    let status = child.wait();
    let response = result?;
    match status {
        // A pre-dump's CRIU may exit non-zero after answering; runc ignores that too.
        Ok(status) if status.success() || request.type_() == rpc::Criu_req_type::PRE_DUMP => Ok(response),
        Ok(status) => Err(CriuError::Exited(status.to_string())),
        Err(source) => Err(CriuError::Wait(source)),
    }
}

fn exchange(socket: &OwnedFd, request: &rpc::Criu_req, notifications: &mut dyn Notifications) -> Result<rpc::Criu_resp, CriuError> {
    let kind = request.type_();
    send(socket, request)?;
    loop {
        let (response, fd) = receive(socket)?;
        if !response.success() {
            return Err(CriuError::Failed { request: request_name(response.type_()), errno: response.cr_errno(), message: response.cr_errmsg().to_string() });
        }
        if response.type_() == rpc::Criu_req_type::NOTIFY {
            let notify = response.notify.as_ref().ok_or_else(|| CriuError::Protocol("a notification without its script".into()))?;
            let outcome = notifications.notify(notify.script(), notify.pid(), fd);
            let mut ack = rpc::Criu_req::new();
            ack.set_type(rpc::Criu_req_type::NOTIFY);
            ack.set_notify_success(outcome.is_ok());
            send(socket, &ack)?;
            outcome?;
            continue;
        }
        if response.type_() != kind {
            return Err(CriuError::Protocol(format!("asked for {}, answered {}", request_name(kind), request_name(response.type_()))));
        }
        return Ok(response);
    }
}

fn send(socket: &OwnedFd, message: &rpc::Criu_req) -> Result<(), CriuError> {
    let bytes = message.write_to_bytes().map_err(|e| CriuError::Protocol(format!("encode request: {e}")))?;
    let written = nix::unistd::write(socket.as_fd(), &bytes).map_err(|errno| CriuError::Sys(crate::sys::SysError::new("send to", "criu swrk", errno)))?;
    if written != bytes.len() {
        return Err(CriuError::Protocol(format!("sent {written} of {} bytes", bytes.len())));
    }
    Ok(())
}

fn receive(socket: &OwnedFd) -> Result<(rpc::Criu_resp, Option<OwnedFd>), CriuError> {
    let sys = |errno| CriuError::Sys(crate::sys::SysError::new("receive from", "criu swrk", errno));
    let length = peek_packet_length(socket).map_err(sys)?;
    if length == 0 {
        return Err(CriuError::Protocol("criu closed the connection without an answer (see its log)".into()));
    }
    let mut buffer = vec![0u8; length];
    let (received, fd) = receive_packet(socket, &mut buffer).map_err(sys)?;
    let bytes = buffer.get(..received).ok_or_else(|| CriuError::Protocol("an answer larger than announced".into()))?;
    let response = rpc::Criu_resp::parse_from_bytes(bytes).map_err(|e| CriuError::Protocol(format!("decode answer: {e}")))?;
    Ok((response, fd))
}

/// The name of a request type, as CRIU's log and runc's messages spell it.
fn request_name(kind: rpc::Criu_req_type) -> &'static str {
    match kind {
        rpc::Criu_req_type::DUMP => "dump",
        rpc::Criu_req_type::PRE_DUMP => "pre-dump",
        rpc::Criu_req_type::RESTORE => "restore",
        rpc::Criu_req_type::VERSION => "version",
        rpc::Criu_req_type::FEATURE_CHECK => "feature check",
        rpc::Criu_req_type::NOTIFY => "notify",
        _ => "request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_as_runc_numbers_them() {
        assert_eq!(version_code(3, 17, 1, false), 31701);
        assert_eq!(version_code(3, 17, 1, true), 31800);
        assert_eq!(version_code(2, 9, 0, false), 20900);
    }

    #[test]
    fn a_too_old_criu_is_refused_naming_what_needs_more() {
        assert_eq!(at_least(31701, 30000, "checkpoint").unwrap(), 31701);
        let error = at_least(20900, 30000, "checkpoint").unwrap_err().to_string();
        assert_eq!(error, "CRIU version 20900 must be 30000 or higher for checkpoint");
        let error = at_least(31500, 31600, "--lsm-profile and --lsm-mount-context").unwrap_err().to_string();
        assert!(error.contains("--lsm-profile"), "{error}");
    }
}
