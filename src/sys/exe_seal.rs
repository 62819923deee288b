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
//!
//! Rootless, skiff cannot mount. Then a binary its user cannot write needs nothing: every
//! container process runs with (a subset of) that user's credentials on the host, so none
//! can write it either. A binary the user can write (installed in their home, say) is
//! copied once per create/run/exec into a sealed memfd (`F_SEAL_WRITE` and the rest), and
//! skiff re-executes from that, as crun and runc do.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
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

/// Whether the running binary is on a read-only mount (sealed, or installed on one), or is
/// a memfd sealed against writes.
pub fn running_sealed() -> Result<bool, SysError> {
    let exe = open_fd(Path::new("/proc/self/exe"), OFlag::O_PATH, "open own executable")?;
    let stat = fstatvfs(&exe).on("statvfs", "/proc/self/exe")?;
    if stat.flags().contains(FsFlags::ST_RDONLY) {
        return Ok(true);
    }
    // F_GET_SEALS needs a real open file; EINVAL for anything but a memfd. An execute-only
    // binary cannot be opened for reading: not a memfd then.
    let Ok(exe) = open_fd(Path::new("/proc/self/exe"), OFlag::O_RDONLY, "open own executable") else { return Ok(false) };
    Ok(nix::fcntl::fcntl(exe.as_raw_fd(), nix::fcntl::FcntlArg::F_GET_SEALS)
        .is_ok_and(|seals| nix::fcntl::SealFlag::from_bits_truncate(seals).contains(nix::fcntl::SealFlag::F_SEAL_WRITE)))
}

/// Whether this process's credentials allow writing `binary`.
fn writable(binary: &Path) -> bool {
    nix::unistd::faccessat(None, binary, nix::unistd::AccessFlags::W_OK, AtFlags::AT_EACCESS).is_ok()
}

/// A copy of `binary` in a memfd sealed against any change.
fn sealed_copy(binary: &Path) -> Result<OwnedFd, SysError> {
    let memfd = nix::sys::memfd::memfd_create(c"skiff", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC | nix::sys::memfd::MemFdCreateFlag::MFD_ALLOW_SEALING)
        .on("memfd_create", format!("a sealed copy of {}", binary.display()))?;
    let mut source = std::fs::File::open(binary).map_err(|e| SysError::io("open", binary.display(), &e))?;
    let mut copy = std::fs::File::from(memfd);
    std::io::copy(&mut source, &mut copy).map_err(|e| SysError::io("copy into a memfd", binary.display(), &e))?;
    let seals =
        nix::fcntl::SealFlag::F_SEAL_SEAL | nix::fcntl::SealFlag::F_SEAL_SHRINK | nix::fcntl::SealFlag::F_SEAL_GROW | nix::fcntl::SealFlag::F_SEAL_WRITE;
    nix::fcntl::fcntl(copy.as_raw_fd(), nix::fcntl::FcntlArg::F_ADD_SEALS(seals)).on("seal", format!("the memfd copy of {}", binary.display()))?;
    Ok(copy.into())
}

/// `binary`, ready for `execveat(fd, "", AT_EMPTY_PATH)` by a process in a container, in a
/// form no process can write through /proc/PID/exe: a read-only detached bind mount of it
/// or, without the privilege to mount, the file itself when this user cannot write it (nor
/// can the container's processes, see the module's comment), else a sealed memfd copy.
/// For companion executables (the wasm handler) that become a container's process.
pub fn sealed_executable(binary: &Path) -> Result<OwnedFd, SysError> {
    match read_only_tree(binary) {
        Ok(tree) => Ok(tree),
        Err(error) if error.errno == Errno::EPERM && !writable(binary) => open_fd(binary, OFlag::O_PATH | OFlag::O_CLOEXEC, "open"),
        Err(error) if error.errno == Errno::EPERM => sealed_copy(binary),
        Err(error) => Err(error),
    }
}

/// A detached bind mount of `binary`, made read-only (and nosuid, nodev).
fn read_only_tree(binary: &Path) -> Result<OwnedFd, SysError> {
    let tree = super::open_tree_clone(binary, false)?;
    super::mount_setattr(&tree, false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, None::<&OwnedFd>)
        .on("mount_setattr read-only", format!("a bind mount of {}", binary.display()))?;
    Ok(tree)
}

/// Unless already sealed, re-execute this process with the same arguments and environment
/// from a read-only detached bind mount of its binary. Returns only if already sealed, or
/// with the error that stopped it.
pub fn reexec_sealed(args: Vec<OsString>, env: Vec<(OsString, OsString)>) -> Result<(), SysError> {
    if running_sealed()? {
        return Ok(());
    }
    let own = Path::new("/proc/self/exe");
    let tree = match read_only_tree(own) {
        Ok(tree) => tree,
        // Without the privilege to mount (rootless): see the module's comment.
        Err(error) if error.errno == Errno::EPERM => {
            if !writable(own) {
                return Ok(());
            }
            sealed_copy(own)?
        }
        Err(error) => return Err(error),
    };
    let to_c = |bytes: Vec<u8>| CString::new(bytes).map_err(|_| SysError::refused("re-execute", "skiff", "an argument contains a NUL byte"));
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
