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
        let fd = nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).on("open root directory", path.display())?;
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
    /// an `O_PATH` fd for it. The walk is ours, one component at a time under a parent fd
    /// already inside the root (`O_NOFOLLOW`), so a symlink planted or swapped in the image
    /// cannot redirect it; a symlink met on the way is followed as the kernel would inside
    /// the root (an absolute one from the root, `..` stopping there), and what it names is
    /// created when missing: a destination reached through a dangling link lands where the
    /// link points, inside the root, as runc 1.5 makes it.
    pub fn ensure(&self, rel: &Path, kind: NodeKind) -> Result<OwnedFd, SysError> {
        /// As the kernel's limit on symlinks in one lookup (MAXSYMLINKS).
        const MAX_LINKS: usize = 40;
        // Most destinations exist: one lookup, by the kernel, inside the root.
        match self.openat2(rel, libc::O_PATH) {
            Ok(fd) => return Ok(fd),
            Err(Errno::ENOENT) => {}
            Err(errno) => return Err(SysError::new("resolve in rootfs", self.display(rel), errno)),
        }
        let open_root = || self.openat2(Path::new(""), libc::O_PATH | libc::O_DIRECTORY).on("open rootfs", self.path.display());
        let mut parent = open_root()?;
        let mut so_far = PathBuf::new();
        let mut pending: std::collections::VecDeque<std::ffi::OsString> = components_of(rel).collect();
        let mut links = 0;
        while let Some(name) = pending.pop_front() {
            if name == ".." {
                so_far.pop();
                parent = self.openat2(&so_far, libc::O_PATH | libc::O_DIRECTORY).on("resolve in rootfs", self.display(&so_far))?;
                continue;
            }
            let last = pending.is_empty();
            let want_dir = !last || kind == NodeKind::Dir;
            let step = so_far.join(&name);
            let found = match openat(Some(parent.as_raw_fd()), Path::new(&name), OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty()) {
                Ok(fd) => unsafe_owned(fd),
                Err(Errno::ENOENT) => {
                    create_node(&parent, &name, want_dir)
                        .map_err(|errno| SysError::new(if want_dir { "mkdir in rootfs" } else { "create file in rootfs" }, self.display(&step), errno))?;
                    // Made, or made first by somebody else: the next round opens it.
                    pending.push_front(name);
                    continue;
                }
                Err(errno) => return Err(SysError::new("resolve in rootfs", self.display(&step), errno)),
            };
            let stat = nix::sys::stat::fstat(found.as_raw_fd()).on("stat in rootfs", self.display(&step))?;
            if stat.st_mode & libc::S_IFMT == libc::S_IFLNK {
                links += 1;
                if links > MAX_LINKS {
                    return Err(SysError::new("resolve in rootfs", self.display(rel), Errno::ELOOP));
                }
                let target = nix::fcntl::readlinkat(Some(found.as_raw_fd()), Path::new("")).on("readlink in rootfs", self.display(&step))?;
                let target = PathBuf::from(target);
                if target.is_absolute() {
                    so_far = PathBuf::new();
                    parent = open_root()?;
                }
                for component in components_of(&target).collect::<Vec<_>>().into_iter().rev() {
                    pending.push_front(component);
                }
                continue;
            }
            if !last && stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(SysError::new("resolve in rootfs", self.display(&step), Errno::ENOTDIR));
            }
            so_far = step;
            parent = found;
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
        super::openat2(&self.fd, relative, libc::O_PATH, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS).map_err(|errno| {
            match errno {
                Errno::ELOOP => SysError::new("refuse a symlink at", self.display(rel), errno),
                errno => SysError::new("resolve in rootfs", self.display(rel), errno),
            }
        })
    }

    /// Open `rel` with `flags` (`O_RDWR|O_NOCTTY`, say), refusing symlinks anywhere on the
    /// way (ELOOP): for objects whose every component must be the real one (the pty master).
    pub fn open_no_symlinks(&self, rel: &Path, flags: i32) -> Result<OwnedFd, SysError> {
        super::openat2(&self.fd, relative(rel), flags, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS).map_err(|errno| {
            match errno {
                Errno::ELOOP => SysError::new("refuse a symlink at", self.display(rel), errno),
                errno => SysError::new("open in rootfs", self.display(rel), errno),
            }
        })
    }

    /// The host path of `rel` inside this root, for messages only.
    pub fn display(&self, rel: &Path) -> String {
        self.path.join(relative(rel)).display().to_string()
    }
}

/// The names of `path`'s components, `..` kept, `/` and `.` dropped.
fn components_of(path: &Path) -> impl Iterator<Item = std::ffi::OsString> + '_ {
    path.components().filter_map(|component| match component {
        Component::Normal(name) => Some(name.to_os_string()),
        Component::ParentDir => Some("..".into()),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Create `name` under `parent`: a directory (0755) or an empty file (0644), never through a
/// symlink. One that exists already (made meanwhile) is not an error.
fn create_node(parent: &OwnedFd, name: &std::ffi::OsStr, dir: bool) -> nix::Result<()> {
    let created = if dir {
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
        Err(Errno::EEXIST) => Ok(()),
        other => other,
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
        // `abs` points at <rootfs><outside path>: made there, inside the root, never outside
        root.ensure(Path::new("/abs/x"), NodeKind::Dir).unwrap();
        assert!(!outside.path().join("x").exists(), "escaped through an absolute symlink");
        assert!(rootfs.join(outside.path().strip_prefix("/").unwrap()).join("x").is_dir());
        // `up` is clamped at the root: /up/tmp/y is <rootfs>/tmp/y
        root.ensure(Path::new("/up/tmp/y"), NodeKind::Dir).unwrap();
        assert!(rootfs.join("tmp/y").is_dir());
    }

    #[test]
    fn dangling_symlinks_on_the_way_are_followed_and_what_they_name_made() {
        // runc 1.5's mounts.bats: a bind onto /etc/hosts, a link to /jump/baz/hosts, where
        // /jump links to /tmp/foo/bar (missing); and a trailing link to a missing /tmp/hosts
        let tmp = tempfile::tempdir().unwrap();
        let rootfs = tmp.path();
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::create_dir_all(rootfs.join("tmp")).unwrap();
        symlink("/tmp/foo/bar", rootfs.join("jump")).unwrap();
        symlink("/jump/baz/hosts", rootfs.join("etc/hosts")).unwrap();
        symlink("../tmp/hosts2", rootfs.join("etc/hosts2")).unwrap();
        let root = RootDir::open(rootfs).unwrap();
        root.ensure(Path::new("/etc/hosts"), NodeKind::File).unwrap();
        assert!(rootfs.join("tmp/foo/bar/baz/hosts").is_file());
        root.ensure(Path::new("/etc/hosts2"), NodeKind::Dir).unwrap();
        assert!(rootfs.join("tmp/hosts2").is_dir());
        // a loop is refused, not walked for ever
        symlink("/loop", rootfs.join("loop")).unwrap();
        assert_eq!(root.ensure(Path::new("/loop/x"), NodeKind::Dir).unwrap_err().errno, Errno::ELOOP);
        // a file on the way is not a directory
        std::fs::write(rootfs.join("file"), "").unwrap();
        assert_eq!(root.ensure(Path::new("/file/x"), NodeKind::Dir).unwrap_err().errno, Errno::ENOTDIR);
    }
}
