//! Thin, typed wrappers over the Linux interfaces the runtime uses.
//!
//! This is where `unsafe` lives: each raw call sits under a `SAFETY:` comment and every failure
//! becomes a [`SysError`] naming the operation and the object it was applied to.

pub mod bpf;
pub mod build_id;
pub mod capabilities;
pub mod clone;
pub mod exe_seal;
pub mod fd_passing;
pub mod fds;
pub mod fs_in_root;
pub mod idmap;
pub mod keyring;
pub mod lsm;
pub mod mount_fd;
pub mod mountinfo;
pub mod namespaces;
pub mod net_devices;
pub mod netlink;
pub mod pidfd;
pub mod placement;
pub mod probe;
pub mod proc_stat;
pub mod process_attrs;
pub mod procfs;
pub mod pty;
pub mod rlimits;
pub mod seccomp;
pub mod signal;
pub mod startup;
pub mod sysctl;
pub mod user;

use std::fmt::Display;

use nix::errno::Errno;

/// A failed system call: which operation, on what, and the errno the kernel returned; or a
/// value refused before any call ([`SysError::refused`]): then what was wrong, and no errno.
#[derive(Debug)]
pub struct SysError {
    /// Where in the config the operation came from (`mounts[3] /data: `), or empty.
    pub context: String,
    /// The operation, e.g. `mount`, `pivot_root`, `open`.
    pub op: &'static str,
    /// The path, id or value it was applied to (a mount's target).
    pub target: String,
    /// A mount's other parameters, each in its own field.
    pub mount: Option<Box<MountFields>>,
    /// What the kernel said (`Errno::UnknownErrno` for a refusal, which has no errno).
    pub errno: Errno,
    /// Why the value was refused, when no system call failed.
    pub refusal: Option<String>,
}

/// The parameters of a failed mount, besides its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFields {
    /// The source (a path, or a filesystem's name).
    pub source: Option<String>,
    /// The filesystem type, or `bind`.
    pub fs_type: Option<String>,
    /// The mount flags.
    pub flags: nix::mount::MsFlags,
    /// The data string.
    pub data: Option<String>,
}

impl std::fmt::Display for SysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.mount {
            // `mount tmpfs on /rootfs/x (source shm, flags MS_NOSUID, data "size=64k")`
            Some(mount) => {
                write!(f, "{}{} {} on {}", self.context, self.op, mount.fs_type.as_deref().unwrap_or("?"), self.target)?;
                let mut details = Vec::new();
                if let Some(source) = &mount.source {
                    details.push(format!("source {source}"));
                }
                if !mount.flags.is_empty() {
                    let names: Vec<&str> = mount.flags.iter_names().map(|(name, _)| name).collect();
                    details.push(format!("flags {}", names.join("|")));
                }
                if let Some(data) = mount.data.as_deref().filter(|d| !d.is_empty()) {
                    details.push(format!("data {data:?}"));
                }
                if !details.is_empty() {
                    write!(f, " ({})", details.join(", "))?;
                }
            }
            None => write!(f, "{}{} {}", self.context, self.op, self.target)?,
        }
        if let Some(reason) = &self.refusal {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SysError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if self.refusal.is_some() { None } else { Some(&self.errno) }
    }
}

impl SysError {
    /// Build an error for `op` applied to `target`.
    pub fn new(op: &'static str, target: impl Display, errno: Errno) -> Self {
        SysError { context: String::new(), op, target: target.to_string(), mount: None, errno, refusal: None }
    }

    /// An `op` on `target` that failed with an I/O error from std (its errno; EIO if it
    /// carries none).
    pub fn io(op: &'static str, target: impl Display, error: &std::io::Error) -> Self {
        SysError::new(op, target, Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)))
    }

    /// A failed mount of `target`, with its other parameters in their own fields.
    pub fn mount(op: &'static str, target: impl Display, fields: MountFields, errno: Errno) -> Self {
        SysError { mount: Some(Box::new(fields)), ..SysError::new(op, target, errno) }
    }

    /// A value refused before any system call (a check of the config, or of what a path
    /// turned out to be): `reason` says what is wrong; there is no errno to report.
    pub fn refused(op: &'static str, target: impl Display, reason: impl Display) -> Self {
        SysError { refusal: Some(reason.to_string()), ..SysError::new(op, target, Errno::UnknownErrno) }
    }

    /// The errno to report: none for a refusal.
    pub fn reported_errno(&self) -> Option<i32> {
        self.refusal.is_none().then_some(self.errno as i32)
    }

    /// Say which config entry the operation served: `mounts[3] /data`.
    pub fn within(mut self, entry: impl Display) -> Self {
        self.context = format!("{entry}: {}", self.context);
        self
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

/// `struct open_how` of `openat2(2)`; libc's copy is `non_exhaustive`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(2)`: open `path` relative to `dirfd` with `flags` (O_CLOEXEC added) under the
/// `resolve` restrictions (RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS, ...).
pub fn openat2(dirfd: &impl std::os::fd::AsRawFd, path: &std::path::Path, flags: i32, resolve: u64) -> nix::Result<std::os::fd::OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: 0, resolve };
    // SAFETY: a valid dirfd, a NUL-terminated path and an open_how of the size passed.
    let fd = check(unsafe { libc::syscall(libc::SYS_openat2, dirfd.as_raw_fd(), c_path.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>()) })?;
    // SAFETY: openat2 returned a new fd that nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd as i32) })
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `mount_setattr(2)` on the mount `fd` refers to (and, if `recursive`, all below it):
/// set and clear MOUNT_ATTR_* bits, attaching `userns` for MOUNT_ATTR_IDMAP.
pub fn mount_setattr(fd: &impl std::os::fd::AsRawFd, recursive: bool, set: u64, clear: u64, userns: Option<&impl std::os::fd::AsRawFd>) -> nix::Result<()> {
    let attr = MountAttr { attr_set: set, attr_clr: clear, propagation: 0, userns_fd: userns.map(|u| u.as_raw_fd() as u64).unwrap_or(0) };
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: a valid fd with an empty path (AT_EMPTY_PATH), and a mount_attr of the size passed.
    check(unsafe { libc::syscall(libc::SYS_mount_setattr, fd.as_raw_fd(), c"".as_ptr(), flags, &attr as *const MountAttr, std::mem::size_of::<MountAttr>()) })
        .map(drop)
}

/// `open_tree(OPEN_TREE_CLONE)`: a detached copy of the mount at `source` (a file or a
/// directory; its whole subtree when `recursive`), attached nowhere.
pub fn open_tree_clone(source: &std::path::Path, recursive: bool) -> Result<std::os::fd::OwnedFd, SysError> {
    use std::os::unix::ffi::OsStrExt;
    let c_source =
        std::ffi::CString::new(source.as_os_str().as_bytes()).map_err(|_| SysError::refused("open_tree", source.display(), "the path contains a NUL byte"))?;
    open_tree_clone_at(libc::AT_FDCWD, &c_source, 0, recursive).on("open_tree", source.display())
}

/// [`open_tree_clone`] of what the fd `opened` is (`source` names it in errors).
pub fn open_tree_clone_of(opened: &std::os::fd::OwnedFd, source: &std::path::Path, recursive: bool) -> Result<std::os::fd::OwnedFd, SysError> {
    use std::os::fd::AsRawFd;
    open_tree_clone_at(opened.as_raw_fd(), c"", libc::AT_EMPTY_PATH as libc::c_uint, recursive)
        .on("open_tree (the source the runtime opened)", source.display())
}

fn open_tree_clone_at(dirfd: std::os::fd::RawFd, path: &std::ffi::CStr, extra: libc::c_uint, recursive: bool) -> nix::Result<std::os::fd::OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    let mut flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | extra;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: a NUL-terminated path, a dirfd the caller holds (or AT_FDCWD) and plain
    // flags; returns a new fd.
    let raw = check(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path.as_ptr(), flags) })?;
    // SAFETY: a fresh fd from open_tree that nothing else owns.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(raw as i32) })
}

/// Map a raw libc return value (-1 + errno) to a nix result.
pub(crate) fn check(ret: libc::c_long) -> nix::Result<libc::c_long> {
    if ret < 0 { Err(Errno::last()) } else { Ok(ret) }
}

/// `open(2)` returning an owned fd; the error names the operation and path.
pub fn open_fd(path: &std::path::Path, flags: nix::fcntl::OFlag, op: &'static str) -> Result<std::os::fd::OwnedFd, SysError> {
    let raw = nix::fcntl::open(path, flags | nix::fcntl::OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty()).on(op, path.display())?;
    // SAFETY: `open` just returned this fd; nothing else owns it.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(raw) })
}

/// `openat(2)` relative to `dir` (`None`: the working directory), `O_CLOEXEC` added: the
/// new fd, owned.
pub fn openat_owned(
    dir: Option<std::os::fd::RawFd>,
    path: &std::path::Path,
    flags: nix::fcntl::OFlag,
    mode: nix::sys::stat::Mode,
) -> nix::Result<std::os::fd::OwnedFd> {
    let raw = nix::fcntl::openat(dir, path, flags | nix::fcntl::OFlag::O_CLOEXEC, mode)?;
    // SAFETY: `openat` just returned this fd; nothing else owns it.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(raw) })
}

/// End the calling process at once with `code`: no destructors, no atexit handlers, no
/// unwinding. The only way a cloned child (a copy of the runtime) may leave.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Take an exclusive flock on `file`, waiting for it (EINTR retried).
pub fn flock_exclusive(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on an fd `file` owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// `setdomainname(2)`.
pub fn set_domainname(name: &str) -> Result<(), SysError> {
    // SAFETY: a pointer and length of a valid byte string.
    if unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) } != 0 {
        return Err(SysError::new("setdomainname", name, Errno::last()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_error_keeps_each_parameter_in_its_field() {
        let fields =
            MountFields { source: Some("shm".into()), fs_type: Some("tmpfs".into()), flags: nix::mount::MsFlags::MS_NOSUID, data: Some("size=64k".into()) };
        let error = SysError::mount("mount", "/rootfs/dev/shm", fields.clone(), Errno::EINVAL).within("mounts[2] /dev/shm");
        assert_eq!(error.to_string(), "mounts[2] /dev/shm: mount tmpfs on /rootfs/dev/shm (source shm, flags MS_NOSUID, data \"size=64k\")");
        assert_eq!(error.mount.as_deref(), Some(&fields));
        assert_eq!(error.reported_errno(), Some(libc::EINVAL));
        assert!(std::error::Error::source(&error).is_some(), "the errno is the cause");
    }

    #[test]
    fn a_refusal_has_a_reason_and_no_errno() {
        let error = SysError::refused("check", "linux.memoryPolicy", "mode MPOL_X is unknown");
        assert_eq!(error.to_string(), "check linux.memoryPolicy: mode MPOL_X is unknown");
        assert_eq!(error.reported_errno(), None);
        assert!(std::error::Error::source(&error).is_none(), "no invented errno in the chain");
    }
}
