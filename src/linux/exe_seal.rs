//! CVE-2019-5736: a container process must never be able to write the runtime's binary.
//!
//! A process that execs inside a container (init, an exec'd process) is skiff until its
//! last execve; `#!/proc/self/exe` in the image makes the kernel run skiff's binary again
//! inside the container, where its root can take an fd of that file (/proc/PID/exe) and
//! reopen it for writing once no skiff runs. runc answered with a memfd copy of itself per
//! container (its size in memory each time). skiff instead re-executes itself, before any
//! container process exists, from a read-only detached bind mount of its own file: the
//! same inode, no copy, no mount visible in any namespace, and every write open through
//! /proc/PID/exe or a held fd fails with EROFS. One `open_tree`, one `mount_setattr` and one
//! `execveat` for `create`, `run` and `exec`; nothing for the other commands.

use std::ffi::{CString, OsString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::statvfs::{FsFlags, fstatvfs};

use super::{SysContext, SysError, open_fd};

/// `MOUNT_ATTR_RDONLY` and friends from linux/mount.h.
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;

/// Whether the running binary is on a read-only mount (sealed, or installed on one).
pub fn running_sealed() -> Result<bool, SysError> {
    let exe = open_fd(Path::new("/proc/self/exe"), OFlag::O_PATH, "open own executable")?;
    let stat = fstatvfs(&exe).on("statvfs", "/proc/self/exe")?;
    Ok(stat.flags().contains(FsFlags::ST_RDONLY))
}

/// Unless already sealed, re-execute this process with the same arguments and environment
/// from a read-only detached bind mount of its binary. Returns only if already sealed, or
/// with the error that stopped it.
pub fn reexec_sealed(args: Vec<OsString>, env: Vec<(OsString, OsString)>) -> Result<(), SysError> {
    if running_sealed()? {
        return Ok(());
    }
    let tree = super::open_tree_clone(Path::new("/proc/self/exe"), false)?;
    super::mount_setattr(&tree, false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, None::<&std::os::fd::OwnedFd>)
        .on("mount_setattr read-only", "a bind mount of /proc/self/exe")?;
    let to_c = |bytes: Vec<u8>| CString::new(bytes).map_err(|_| SysError::new("re-execute", "an argument with a NUL byte", Errno::EINVAL));
    let argv = args.into_iter().map(|a| to_c(a.into_vec())).collect::<Result<Vec<_>, _>>()?;
    let envp = env
        .into_iter()
        .map(|(k, v)| {
            let mut pair = k.into_vec();
            pair.push(b'=');
            pair.extend(v.into_vec());
            to_c(pair)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let errno = match nix::unistd::execveat(Some(tree.as_raw_fd()), c"", &argv, &envp, AtFlags::AT_EMPTY_PATH) {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    Err(SysError::new("execveat", "the sealed copy of skiff", errno))
}
