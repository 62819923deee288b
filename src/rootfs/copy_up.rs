//! `tmpcopyup`, runc's mount option (not the kernel's): a tmpfs mounted over a directory of
//! the image starts as a copy of what it hides, so that `/run`, `/tmp` or `/var/tmp` of a
//! `--read-only` container (podman asks for it on every tmpfs) still hold the image's files.
//!
//! The copy goes from an fd of the hidden directory, opened before the mount, to the fd of
//! the new tmpfs, one `*at` call at a time, never following a symlink of the image. The
//! tmpfs is new and attached only in this mount namespace, so no other party can rename a
//! name in it while the copy runs. Owners, modes, symlinks, device nodes, fifos and sockets
//! are copied; extended attributes and times are not (runc copies neither).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, Mode, SFlag, fstatat, mkdirat, mknodat};
use nix::unistd::{FchownatFlags, Gid, Uid, fchownat};

use crate::sys::{SysContext, SysError};

/// Copy every entry of the directory `from` (an fd opened for reading) into the directory
/// `to` (any fd of it, `O_PATH` too), recursively. `display` names `from` in errors. The
/// mode of `to` itself is the mount's (the covered directory's, given as `mode=`).
pub fn copy_directory(from: &OwnedFd, to: &OwnedFd, display: &Path) -> Result<(), SysError> {
    // `to` may be an O_PATH fd: entries are made through `*at` calls, which take one.
    copy_entries(from, to, display)
}

fn copy_entries(from: &OwnedFd, to: &OwnedFd, display: &Path) -> Result<(), SysError> {
    let mut dir = nix::dir::Dir::openat(Some(from.as_raw_fd()), ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
        .on("read directory", display.display())?;
    let names: Vec<std::ffi::CString> = dir
        .iter()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_owned())
        .filter(|name| name.as_bytes() != b"." && name.as_bytes() != b"..")
        .collect();
    for name in names {
        let name = Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.as_bytes()));
        copy_entry(from, to, name, &display.join(name))?;
    }
    Ok(())
}

fn copy_entry(from: &OwnedFd, to: &OwnedFd, name: &Path, display: &Path) -> Result<(), SysError> {
    let shown = display.display();
    let stat = fstatat(Some(from.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW).on("stat", &shown)?;
    let kind = SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits());
    let mode = Mode::from_bits_truncate(stat.st_mode & 0o7777);
    let owner = (Some(Uid::from_raw(stat.st_uid)), Some(Gid::from_raw(stat.st_gid)));
    if kind == SFlag::S_IFLNK {
        let target = nix::fcntl::readlinkat(Some(from.as_raw_fd()), name).on("readlink", &shown)?;
        nix::unistd::symlinkat(target.as_os_str(), Some(to.as_raw_fd()), name).on("copy up the symlink", &shown)?;
        return fchownat(Some(to.as_raw_fd()), name, owner.0, owner.1, FchownatFlags::AT_SYMLINK_NOFOLLOW).on("chown the copy of", &shown);
    }
    if kind == SFlag::S_IFDIR {
        mkdirat(Some(to.as_raw_fd()), name, Mode::from_bits_truncate(0o700)).on("copy up the directory", &shown)?;
        let (source, copy) = (open_dir_at(from, name, display)?, open_dir_at(to, name, display)?);
        copy_entries(&source, &copy, display)?;
        return set_owner_and_mode(&copy, owner, mode, &shown);
    }
    if kind == SFlag::S_IFREG {
        let source = open_at(from, name, OFlag::O_RDONLY | OFlag::O_NOFOLLOW, Mode::empty(), "open", &shown)?;
        let copy = open_at(
            to,
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW,
            Mode::from_bits_truncate(0o600),
            "copy up the file",
            &shown,
        )?;
        let (mut source, mut copy) = (std::fs::File::from(source), std::fs::File::from(copy));
        std::io::copy(&mut source, &mut copy).map_err(|e| SysError::io("copy up the contents of", &shown, &e))?;
        return set_owner_and_mode(&copy.into(), owner, mode, &shown);
    }
    // Device nodes, fifos and sockets: made anew with the same kind and numbers.
    mknodat(Some(to.as_raw_fd()), name, kind, mode, stat.st_rdev).on("copy up the node", &shown)?;
    fchownat(Some(to.as_raw_fd()), name, owner.0, owner.1, FchownatFlags::AT_SYMLINK_NOFOLLOW).on("chown the copy of", &shown)?;
    nix::sys::stat::fchmodat(Some(to.as_raw_fd()), name, mode, FchmodatFlags::FollowSymlink).on("chmod the copy of", &shown)
}

/// The owner first: a chown clears the set-id bits the mode then sets.
fn set_owner_and_mode(copy: &OwnedFd, owner: (Option<Uid>, Option<Gid>), mode: Mode, shown: &impl std::fmt::Display) -> Result<(), SysError> {
    nix::unistd::fchown(copy.as_raw_fd(), owner.0, owner.1).on("chown the copy of", shown)?;
    nix::sys::stat::fchmod(copy.as_raw_fd(), mode).on("chmod the copy of", shown)
}

fn open_dir_at(parent: &OwnedFd, name: &Path, display: &Path) -> Result<OwnedFd, SysError> {
    open_at(parent, name, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW, Mode::empty(), "open directory", &display.display())
}

fn open_at(parent: &OwnedFd, name: &Path, flags: OFlag, mode: Mode, op: &'static str, shown: &impl std::fmt::Display) -> Result<OwnedFd, SysError> {
    crate::sys::openat_owned(Some(parent.as_raw_fd()), name, flags, mode).map_err(|errno: Errno| SysError::new(op, shown, errno))
}
