//! Writes into the container's procfs through a checked handle: the directory must be a real
//! procfs (statfs magic), and the file is opened beneath it without following symlinks or
//! crossing onto another mount, so an image cannot redirect a sysctl write.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::{SysContext, SysError};

/// An open, verified procfs.
#[derive(Debug)]
pub struct ProcFs {
    fd: OwnedFd,
}

impl ProcFs {
    /// Open `path` (normally `/proc`) and check that it is procfs.
    pub fn open(path: &Path) -> Result<ProcFs, SysError> {
        let raw = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).on("open procfs", path.display())?;
        // SAFETY: a fresh fd from open.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let stat = nix::sys::statfs::fstatfs(&fd).on("statfs", path.display())?;
        if stat.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
            return Err(SysError::refused("check procfs", path.display(), "it is not a procfs mount"));
        }
        Ok(ProcFs { fd })
    }

    /// Write `value` to `rel` (e.g. `sys/net/ipv4/ip_forward`).
    pub fn write(&self, rel: &str, value: &str) -> Result<(), SysError> {
        let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_XDEV;
        let file = super::openat2(&self.fd, Path::new(rel), libc::O_WRONLY, resolve).on("open proc file", format!("/proc/{rel}"))?;
        nix::unistd::write(&file, value.as_bytes()).on("write", format!("{value:?} to /proc/{rel}")).map(drop)
    }
}
