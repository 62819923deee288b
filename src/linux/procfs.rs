//! Writes into the container's procfs through a checked handle: the directory must be a real
//! procfs (statfs magic), and the file is opened beneath it without following symlinks or
//! crossing onto another mount, so an image cannot redirect a sysctl write.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::{SysContext, SysError, check};

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// An open, verified procfs.
#[derive(Debug)]
pub struct ProcFs {
    fd: OwnedFd,
}

impl ProcFs {
    /// Open `path` (normally `/proc`) and check that it is procfs.
    pub fn open(path: &Path) -> Result<ProcFs, SysError> {
        let raw = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .on("open procfs", path.display())?;
        // SAFETY: a fresh fd from open.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let stat = nix::sys::statfs::fstatfs(&fd).on("statfs", path.display())?;
        if stat.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
            return Err(SysError::new("check procfs", format!("{} is not a procfs mount", path.display()), Errno::EXDEV));
        }
        Ok(ProcFs { fd })
    }

    /// Write `value` to `rel` (e.g. `sys/net/ipv4/ip_forward`).
    pub fn write(&self, rel: &str, value: &str) -> Result<(), SysError> {
        let c_rel = CString::new(rel).map_err(|_| SysError::new("write proc file", rel, Errno::EINVAL))?;
        let how = OpenHow {
            flags: (libc::O_WRONLY | libc::O_CLOEXEC) as u64,
            mode: 0,
            resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_XDEV,
        };
        // SAFETY: a valid dirfd, NUL-terminated path, and an open_how of the size passed.
        let raw = check(unsafe {
            libc::syscall(libc::SYS_openat2, self.fd.as_raw_fd(), c_rel.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
        })
        .on("open proc file", format!("/proc/{rel}"))?;
        // SAFETY: a fresh fd from openat2.
        let file = unsafe { OwnedFd::from_raw_fd(raw as i32) };
        nix::unistd::write(&file, value.as_bytes()).on("write", format!("{value:?} to /proc/{rel}")).map(drop)
    }
}
