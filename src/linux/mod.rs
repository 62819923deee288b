//! Thin, typed wrappers over the Linux interfaces the runtime uses.
//!
//! This is where `unsafe` lives: each raw call sits under a `SAFETY:` comment and every failure
//! becomes a [`SysError`] naming the operation and the object it was applied to.

pub mod capabilities;
pub mod clone;
pub mod devices;
pub mod fds;
pub mod fs_in_root;
pub mod idmap;
pub mod keyring;
pub mod mount_options;
pub mod mountinfo;
pub mod namespaces;
pub mod pidfd;
pub mod proc_stat;
pub mod procfs;
pub mod process_attrs;
pub mod rlimits;
pub mod rootfs;
pub mod signal;
pub mod sysctl;
pub mod user;

use std::fmt::Display;

use nix::errno::Errno;

/// A failed system call: which operation, on what, and the errno the kernel returned.
#[derive(Debug, thiserror::Error)]
#[error("{op} {target}")]
pub struct SysError {
    /// The operation, e.g. `mount`, `pivot_root`, `open`.
    pub op: &'static str,
    /// The path, id or value it was applied to.
    pub target: String,
    /// What the kernel said.
    #[source]
    pub errno: Errno,
}

impl SysError {
    /// Build an error for `op` applied to `target`.
    pub fn new(op: &'static str, target: impl Display, errno: Errno) -> Self {
        SysError { op, target: target.to_string(), errno }
    }
}

/// Attach the operation and its object to a `nix` result.
pub trait SysContext<T> {
    /// Turn an errno into a [`SysError`] for `op` on `target`.
    fn on(self, op: &'static str, target: impl Display) -> Result<T, SysError>;
}

impl<T> SysContext<T> for nix::Result<T> {
    fn on(self, op: &'static str, target: impl Display) -> Result<T, SysError> {
        self.map_err(|errno| SysError::new(op, target, errno))
    }
}

/// Map a raw libc return value (-1 + errno) to a nix result.
pub(crate) fn check(ret: libc::c_long) -> nix::Result<libc::c_long> {
    if ret < 0 { Err(Errno::last()) } else { Ok(ret) }
}
