//! Paths inside a container's root filesystem, resolved by the kernel so that no symlink in the
//! image can lead outside it (`openat2` with `RESOLVE_IN_ROOT`).
//!
//! Every path the image controls (mount destinations, device nodes, the working directory) is
//! opened through [`RootDir`]; the result is an `O_PATH` fd, and mounts go onto that fd's
//! `/proc/self/fd/N` entry, so the checked object is the one used.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, mkdirat};

use super::{SysContext, SysError};

/// An open root directory that paths are resolved under.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// The kind of object a mount destination must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory (most mounts).
    Dir,
    /// A regular file (bind mounts of files, device nodes bound from the host).
    File,
}

impl RootDir {
    /// Open `path` as the root to resolve under.
    pub fn open(path: &Path) -> Result<RootDir, SysError> {
        let fd = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .on("open root directory", path.display())?;
        // SAFETY: `open` returned a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(RootDir { fd, path: path.to_path_buf() })
    }

    /// The host path of the root, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolve `rel` (absolute paths are taken as relative to the root) to an `O_PATH` fd.
    pub fn resolve(&self, rel: &Path) -> Result<OwnedFd, SysError> {
        self.openat2(rel, libc::O_PATH).on("resolve in rootfs", self.display(rel))
    }

    /// Open `rel` with `flags` (e.g. `O_RDONLY|O_DIRECTORY`), resolved inside the root.
    pub fn open_in(&self, rel: &Path, flags: i32) -> nix::Result<OwnedFd> {
        self.openat2(rel, flags)
    }

    fn openat2(&self, rel: &Path, flags: i32) -> nix::Result<OwnedFd> {
        let rel = relative(rel);
        // openat2 refuses an empty path; "." is the root itself.
        let rel = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
        super::openat2(&self.fd, rel, flags, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS)
    }

    /// Make `rel` exist as `kind`, creating missing parent directories (mode 0755), and return
    /// an `O_PATH` fd for it. Each component is created under a parent that was itself resolved
    /// inside the root, so a symlink planted in the image cannot redirect the creation.
    pub fn ensure(&self, rel: &Path, kind: NodeKind) -> Result<OwnedFd, SysError> {
        let rel = relative(rel);
        let mut parent = self.openat2(Path::new(""), libc::O_PATH | libc::O_DIRECTORY)
            .on("open rootfs", self.path.display())?;
        let mut so_far = PathBuf::new();
        let components: Vec<_> = rel.components().collect();
        for (index, component) in components.iter().enumerate() {
            let Component::Normal(name) = component else { continue };
            so_far.push(name);
            let last = index + 1 == components.len();
            let want_dir = !last || kind == NodeKind::Dir;
            match self.openat2(&so_far, libc::O_PATH) {
                Ok(fd) => {
                    parent = fd;
                    continue;
                }
                Err(Errno::ENOENT) => {}
                Err(errno) => return Err(SysError::new("resolve in rootfs", self.display(&so_far), errno)),
            }
            let created = if want_dir {
                mkdirat(Some(parent.as_raw_fd()), Path::new(name), Mode::from_bits_truncate(0o755))
            } else {
                openat(
                    Some(parent.as_raw_fd()),
                    Path::new(name),
                    OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_WRONLY,
                    Mode::from_bits_truncate(0o644),
                )
                .map(|fd| drop(unsafe_owned(fd)))
            };
            match created {
                // Somebody made it first: resolving it below decides whether it is usable.
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(errno) => {
                    let op = if want_dir { "mkdir in rootfs" } else { "create file in rootfs" };
                    return Err(SysError::new(op, self.display(&so_far), errno));
                }
            }
            parent = self.resolve(&so_far)?;
        }
        Ok(parent)
    }

    /// [`RootDir::ensure`], then insist that no component of `rel` is a symlink: for the
    /// targets runc's advisories show being redirected (proc and sysfs mounts, /dev/console,
    /// the /dev/null used for masking), where even a link that stays inside the root is
    /// refused.
    pub fn ensure_no_symlinks(&self, rel: &Path, kind: NodeKind) -> Result<OwnedFd, SysError> {
        match self.resolve_no_symlinks(rel) {
            Err(error) if error.errno == Errno::ENOENT => {
                self.ensure(rel, kind)?;
                self.resolve_no_symlinks(rel)
            }
            other => other,
        }
    }

    /// Resolve `rel` to an `O_PATH` fd, refusing symlinks anywhere on the way (ELOOP).
    pub fn resolve_no_symlinks(&self, rel: &Path) -> Result<OwnedFd, SysError> {
        let relative = relative(rel);
        let relative = if relative.as_os_str().is_empty() { Path::new(".") } else { relative };
        super::openat2(&self.fd, relative, libc::O_PATH, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS)
            .map_err(|errno| match errno {
                Errno::ELOOP => SysError::new("refuse a symlink at", self.display(rel), errno),
                errno => SysError::new("resolve in rootfs", self.display(rel), errno),
            })
    }

    /// Open `rel` with `flags` (`O_RDWR|O_NOCTTY`, say), refusing symlinks anywhere on the
    /// way (ELOOP): for objects whose every component must be the real one (the pty master).
    pub fn open_no_symlinks(&self, rel: &Path, flags: i32) -> Result<OwnedFd, SysError> {
        super::openat2(&self.fd, relative(rel), flags, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS).map_err(|errno| match errno {
            Errno::ELOOP => SysError::new("refuse a symlink at", self.display(rel), errno),
            errno => SysError::new("open in rootfs", self.display(rel), errno),
        })
    }

    /// The host path of `rel` inside this root, for messages only.
    pub fn display(&self, rel: &Path) -> String {
        self.path.join(relative(rel)).display().to_string()
    }
}

/// Wrap a raw fd returned by nix into an owned one.
fn unsafe_owned(fd: i32) -> OwnedFd {
    // SAFETY: called only with fds just returned by a successful open.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `/proc/self/fd/N` for an fd: the path through which mount(2) reaches the resolved object.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Strip leading `/` so that a spec path is relative to the root.
fn relative(path: &Path) -> &Path {
    path.strip_prefix("/").unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn creates_directories_and_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = RootDir::open(tmp.path()).unwrap();
        root.ensure(Path::new("/a/b/c"), NodeKind::Dir).unwrap();
        assert!(tmp.path().join("a/b/c").is_dir());
        root.ensure(Path::new("/a/f"), NodeKind::File).unwrap();
        assert!(tmp.path().join("a/f").is_file());
        // existing objects are fine
        root.ensure(Path::new("a/b"), NodeKind::Dir).unwrap();
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let rootfs = tmp.path().join("rootfs");
        std::fs::create_dir(&rootfs).unwrap();
        // an absolute symlink and a ../ symlink that would both leave the root on the host
        symlink(outside.path(), rootfs.join("abs")).unwrap();
        symlink("../../../../../../..", rootfs.join("up")).unwrap();
        let root = RootDir::open(&rootfs).unwrap();
        // `abs` points at <rootfs><outside path>, which does not exist: refused, not followed
        let error = root.ensure(Path::new("/abs/x"), NodeKind::Dir).unwrap_err();
        assert_eq!(error.errno, Errno::ENOENT);
        assert!(!outside.path().join("x").exists(), "escaped through an absolute symlink");
        // `up` is clamped at the root: /up/tmp/y is <rootfs>/tmp/y
        root.ensure(Path::new("/up/tmp/y"), NodeKind::Dir).unwrap();
        assert!(rootfs.join("tmp/y").is_dir());
    }
}
