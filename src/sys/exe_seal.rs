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
//! A binary whose file is immutable (`chattr +i`, as `make install` and the .deb leave it)
//! needs no re-exec either: the kernel refuses to open it for writing (EPERM) to everyone,
//! root included, as long as the attribute stays. Only a process holding CAP_LINUX_IMMUTABLE
//! in the initial user namespace can clear it, so a container whose process may hold that
//! capability still gets the read-only mount ([`BinarySeal::Immutable`] tells the caller to
//! check). That saves the mount (its release waits for an expedited RCU grace period) and a
//! second process start on every create, run and exec.
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

/// What keeps the running binary from being written by a container's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinarySeal {
    /// A read-only mount, a sealed memfd, or (rootless) a file its user cannot write: no
    /// process of a container can open it for writing.
    Sealed,
    /// The file's immutable attribute: no write open succeeds, but a process holding
    /// CAP_LINUX_IMMUTABLE in the initial user namespace could clear the attribute first. A
    /// container whose process may hold it must run from a read-only mount
    /// ([`reexec_from_read_only_mount`]).
    Immutable,
}

/// `Sealed`: for a library caller that runs no container process from this binary, or
/// vouches for it (the `skiff` binary always says what it found).
impl Default for BinarySeal {
    fn default() -> Self {
        BinarySeal::Sealed
    }
}

/// What already keeps the running binary from writes, if anything: a read-only mount (a
/// sealed re-exec, or an install on one) or a memfd sealed against writes
/// ([`BinarySeal::Sealed`]), or the file's immutable attribute. One open of
/// /proc/self/exe for the common cases.
pub fn running_seal() -> Result<Option<BinarySeal>, SysError> {
    let exe = open_fd(Path::new("/proc/self/exe"), OFlag::O_PATH, "open own executable")?;
    let stat = fstatvfs(&exe).on("statvfs", "/proc/self/exe")?;
    if stat.flags().contains(FsFlags::ST_RDONLY) {
        return Ok(Some(BinarySeal::Sealed));
    }
    if immutable(&exe, "/proc/self/exe")? {
        return Ok(Some(BinarySeal::Immutable));
    }
    // F_GET_SEALS needs a real open file; EINVAL for anything but a memfd. An execute-only
    // binary cannot be opened for reading: not a memfd then.
    let Ok(exe) = open_fd(Path::new("/proc/self/exe"), OFlag::O_RDONLY, "open own executable") else { return Ok(None) };
    let sealed = nix::fcntl::fcntl(exe.as_raw_fd(), nix::fcntl::FcntlArg::F_GET_SEALS)
        .is_ok_and(|seals| nix::fcntl::SealFlag::from_bits_truncate(seals).contains(nix::fcntl::SealFlag::F_SEAL_WRITE));
    Ok(sealed.then_some(BinarySeal::Sealed))
}

/// Whether the file behind `fd` has the immutable attribute (statx's
/// `STATX_ATTR_IMMUTABLE`, where the filesystem reports it).
fn immutable(fd: &OwnedFd, what: &str) -> Result<bool, SysError> {
    // SAFETY: statx is plain data, for which all-zero bytes are a valid value.
    let mut stat: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: an empty path with AT_EMPTY_PATH names the open fd; `stat` is a valid, writable
    // statx the kernel fills.
    let rc = unsafe { libc::statx(fd.as_raw_fd(), c"".as_ptr(), libc::AT_EMPTY_PATH, 0, &mut stat) };
    if rc != 0 {
        return Err(SysError::new("statx", what, Errno::last()));
    }
    let bit = libc::STATX_ATTR_IMMUTABLE as u64;
    Ok(stat.stx_attributes_mask & bit != 0 && stat.stx_attributes & bit != 0)
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
/// `accept_immutable`: an immutable file is enough (the caller knows that the container's
/// process cannot hold CAP_LINUX_IMMUTABLE), and is opened as it is.
pub fn sealed_executable(binary: &Path, accept_immutable: bool) -> Result<OwnedFd, SysError> {
    if accept_immutable {
        let file = open_fd(binary, OFlag::O_PATH | OFlag::O_CLOEXEC, "open")?;
        if immutable(&file, &binary.display().to_string())? {
            return Ok(file);
        }
    }
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

/// Unless already sealed or immutable, re-execute this process with the same arguments and
/// environment from a read-only detached bind mount of its binary. Returns only if already
/// sealed (saying how), or with the error that stopped it.
pub fn reexec_sealed(args: &[OsString]) -> Result<BinarySeal, SysError> {
    match running_seal()? {
        Some(seal) => Ok(seal),
        // (the arguments and environment copied only for a re-exec)
        None => reexec_from_read_only_mount(args.to_vec(), std::env::vars_os().collect()),
    }
}

/// Re-execute this process with the same arguments and environment from a read-only
/// detached bind mount of its binary (or, rootless, see the module's comment), whatever
/// its file's attributes: for a binary [`running_seal`] found unsealed or only immutable.
/// Returns only when no re-exec is needed (rootless, a binary the user cannot write:
/// [`BinarySeal::Sealed`]), or with the error that stopped it.
pub fn reexec_from_read_only_mount(args: Vec<OsString>, env: Vec<(OsString, OsString)>) -> Result<BinarySeal, SysError> {
    let own = Path::new("/proc/self/exe");
    let tree = match read_only_tree(own) {
        Ok(tree) => tree,
        // Without the privilege to mount (rootless): see the module's comment.
        Err(error) if error.errno == Errno::EPERM => {
            if !writable(own) {
                return Ok(BinarySeal::Sealed);
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
