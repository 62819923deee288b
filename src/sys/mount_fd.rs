//! Mounts made and changed through file descriptors, never through a path looked up a second
//! time. Between a mount and its remount, a co-tenant who can write a parent directory (a
//! shared volume) can swap a path component, so that a remount by path lands on another
//! mount and a "read-only" bind stays writable (the CVE-2021-30465 class).
//!
//! - A bind is a detached tree: `open_tree(OPEN_TREE_CLONE)`, its per-mount flags set with
//!   `mount_setattr` while nothing can reach it, then `move_mount` onto the destination's fd.
//!   The tree's fd is the mount itself, so every later change (recursive attributes,
//!   propagation) reaches that mount and no other.
//! - A filesystem made by mount(2) onto the destination's fd is found again by path, then
//!   proved to be the mount just made ([`NewMountWitness`]): the one mount that appeared
//!   on the destination's own mount during the call.
//!
//! These calls need Linux 5.12 (mount_setattr), which skiff needs anyway: every create and
//! exec re-executes from a read-only detached mount of its binary (`exe_seal.rs`).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

/// mount_setattr(2) attribute bits.
pub mod attr {
    /// Read-only.
    pub const RDONLY: u64 = 0x1;
    /// No setuid.
    pub const NOSUID: u64 = 0x2;
    /// No devices.
    pub const NODEV: u64 = 0x4;
    /// No exec.
    pub const NOEXEC: u64 = 0x8;
    /// The atime field (relatime is 0 in it).
    pub const ATIME_MASK: u64 = 0x70;
    /// noatime.
    pub const NOATIME: u64 = 0x10;
    /// strictatime.
    pub const STRICTATIME: u64 = 0x20;
    /// nodiratime.
    pub const NODIRATIME: u64 = 0x80;
    /// nosymfollow.
    pub const NOSYMFOLLOW: u64 = 0x20_0000;
}

use nix::mount::{MsFlags, mount};

use super::fs_in_root::fd_path;
use super::{SysContext, SysError, check};

const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;

/// The mount_setattr bits (set, clear) for the per-mount flags of a bind's remount: read-only,
/// nosuid, nodev, noexec and the atime mode. Other flags (sync, dirsync, mand, ...) belong to
/// the superblock, which a bind's remount never changes, so they are left out. Flags the
/// options do not name are kept as the source has them (a bind of a read-only or nosuid
/// mount stays so), never cleared.
pub fn per_mount_attributes(flags: MsFlags) -> (u64, u64) {
    let mut set = 0;
    for (flag, bit) in [
        (MsFlags::MS_RDONLY, attr::RDONLY),
        (MsFlags::MS_NOSUID, attr::NOSUID),
        (MsFlags::MS_NODEV, attr::NODEV),
        (MsFlags::MS_NOEXEC, attr::NOEXEC),
        (MsFlags::MS_NODIRATIME, attr::NODIRATIME),
    ] {
        if flags.contains(flag) {
            set |= bit;
        }
    }
    // The atime mode is a field: setting one clears the others (relatime is 0 in it).
    let atime = [(MsFlags::MS_NOATIME, attr::NOATIME), (MsFlags::MS_STRICTATIME, attr::STRICTATIME), (MsFlags::MS_RELATIME, 0)];
    let clear = match atime.iter().find(|(flag, _)| flags.contains(*flag)) {
        Some((_, bit)) => {
            set |= bit;
            attr::ATIME_MASK
        }
        None => 0,
    };
    (set, clear)
}

/// A bind's per-mount attributes as runc 1.5 sets them, `(set, clear)`, or `None` when the
/// options name no flag beyond `bind`/`rbind` (the source's flags are kept as they are).
/// Otherwise the bind gets what the options ask for: read-only, nosuid, nodev, noexec and
/// nosymfollow exactly as named, the others cleared (`mount --bind -o` as users expect it,
/// util-linux issue 2433); the atime mode changes only when one is named (noatime,
/// strictatime, relatime, nodiratime: relatime unless noatime or strictatime is among them,
/// nodiratime only if named), as the kernel's bind remount treats it.
pub fn bind_attributes(flags: MsFlags, cleared: MsFlags) -> Option<(u64, u64)> {
    let named = (flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT)) | cleared;
    if named.is_empty() {
        return None;
    }
    let nosymfollow = MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW);
    let (mut set, mut clear) = (0, 0);
    for (flag, bit) in [
        (MsFlags::MS_RDONLY, attr::RDONLY),
        (MsFlags::MS_NOSUID, attr::NOSUID),
        (MsFlags::MS_NODEV, attr::NODEV),
        (MsFlags::MS_NOEXEC, attr::NOEXEC),
        (nosymfollow, attr::NOSYMFOLLOW),
    ] {
        if flags.contains(flag) {
            set |= bit;
        } else {
            clear |= bit;
        }
    }
    if flags.intersects(MsFlags::MS_NOATIME | MsFlags::MS_STRICTATIME | MsFlags::MS_RELATIME | MsFlags::MS_NODIRATIME) {
        set |= atime_field(flags);
        clear |= attr::ATIME_MASK | attr::NODIRATIME;
        if flags.contains(MsFlags::MS_NODIRATIME) {
            set |= attr::NODIRATIME;
            clear &= !attr::NODIRATIME;
        }
    }
    Some((set, clear))
}

/// The atime field's value for `flags`: noatime over strictatime over relatime (0).
fn atime_field(flags: MsFlags) -> u64 {
    if flags.contains(MsFlags::MS_NOATIME) {
        attr::NOATIME
    } else if flags.contains(MsFlags::MS_STRICTATIME) {
        attr::STRICTATIME
    } else {
        0
    }
}

/// Set a bind's attributes ([`bind_attributes`]) on its detached `tree`. In a user
/// namespace the kernel locks the source's read-only, nosuid, nodev, noexec and atime
/// settings (EPERM when cleared); as runc does, the bind then keeps those the options did
/// not name, and fails, saying which, when the options asked to clear one the source has
/// or for another atime mode.
pub fn set_bind_flags(tree: &OwnedFd, flags: MsFlags, cleared: MsFlags, what: impl std::fmt::Display) -> Result<(), SysError> {
    let Some((set, clear)) = bind_attributes(flags, cleared) else { return Ok(()) };
    match super::mount_setattr(tree, false, set, clear, None::<&OwnedFd>) {
        Err(nix::errno::Errno::EPERM) => {}
        result => return result.on("mount_setattr (bind options) on", what),
    }
    let source = nix::sys::statvfs::fstatvfs(tree).on("statvfs", &what)?;
    let has = |flag: nix::sys::statvfs::FsFlags| source.flags().contains(flag);
    use nix::sys::statvfs::FsFlags;
    let locked: Vec<(u64, MsFlags, &str)> = [
        (FsFlags::ST_RDONLY, attr::RDONLY, MsFlags::MS_RDONLY, "ro"),
        (FsFlags::ST_NOSUID, attr::NOSUID, MsFlags::MS_NOSUID, "nosuid"),
        (FsFlags::ST_NODEV, attr::NODEV, MsFlags::MS_NODEV, "nodev"),
        (FsFlags::ST_NOEXEC, attr::NOEXEC, MsFlags::MS_NOEXEC, "noexec"),
    ]
    .into_iter()
    .filter(|(st, ..)| has(*st))
    .map(|(_, bit, flag, name)| (bit, flag, name))
    .collect();
    let cannot: Vec<&str> = locked.iter().filter(|(_, flag, _)| cleared.contains(*flag)).map(|(.., name)| *name).collect();
    let refuse = |reason: String| {
        SysError::refused("mount_setattr (bind options) on", &what, format!("{reason}: operation not permitted (locked by the user namespace)"))
    };
    if !cannot.is_empty() {
        return Err(refuse(format!("cannot clear locked flags {}", cannot.join(","))));
    }
    if set & attr::ATIME_MASK != 0 || clear & attr::ATIME_MASK != 0 {
        let source_atime = if has(FsFlags::ST_NOATIME) {
            attr::NOATIME
        } else if has(FsFlags::ST_RELATIME) {
            0
        } else {
            attr::STRICTATIME
        };
        let source_nodiratime = has(FsFlags::ST_NODIRATIME);
        if source_atime != atime_field(flags) || source_nodiratime != flags.contains(MsFlags::MS_NODIRATIME) {
            return Err(refuse("cannot change locked atime flags".into()));
        }
    }
    let keep: u64 = locked.iter().map(|(bit, ..)| *bit).sum();
    super::mount_setattr(tree, false, set | keep, clear & !keep, None::<&OwnedFd>).on("mount_setattr (bind options, locked flags kept) on", what)
}

/// A detached copy of `source` (its whole subtree when `recursive`) with the per-mount
/// `flags` already set on it, attached nowhere yet.
pub fn detached_bind(source: &Path, recursive: bool, flags: MsFlags) -> Result<OwnedFd, SysError> {
    let tree = super::open_tree_clone(source, recursive)?;
    set_flags(&tree, flags, source.display())?;
    Ok(tree)
}

/// [`detached_bind`] of the file or directory `opened` is (an O_PATH fd; `source` names it).
pub fn detached_bind_of(opened: &OwnedFd, source: &std::path::Path, recursive: bool, flags: MsFlags) -> Result<OwnedFd, SysError> {
    let tree = super::open_tree_clone_of(opened, source, recursive)?;
    set_flags(&tree, flags, source.display())?;
    Ok(tree)
}

/// Set the per-mount `flags` ([`per_mount_attributes`]) on the mount `tree` is, alone.
pub fn set_flags(tree: &OwnedFd, flags: MsFlags, what: impl std::fmt::Display) -> Result<(), SysError> {
    let (set, clear) = per_mount_attributes(flags);
    if set == 0 && clear == 0 {
        return Ok(());
    }
    super::mount_setattr(tree, false, set, clear, None::<&OwnedFd>).on("mount_setattr (bind options) on", what)
}

/// Attach the detached `tree` onto `target` (an O_PATH fd of the destination); `tree` is the
/// attached mount afterwards.
pub fn attach(tree: &OwnedFd, target: &OwnedFd, destination: impl std::fmt::Display) -> Result<(), SysError> {
    // SAFETY: two valid fds with empty paths, as the flags say.
    check(unsafe {
        libc::syscall(libc::SYS_move_mount, tree.as_raw_fd(), c"".as_ptr(), target.as_raw_fd(), c"".as_ptr(), MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
    })
    .map(drop)
    .on("move_mount onto", destination)
}

/// Change the propagation of the mount `mounted` is (the root of; `MS_REC` for all below).
pub fn set_propagation(mounted: &OwnedFd, flag: MsFlags, what: impl std::fmt::Display) -> Result<(), SysError> {
    mount(None::<&str>, fd_path(mounted).as_str(), None::<&str>, flag, None::<&str>).on("set propagation of", what)
}

/// mount_setattr(AT_RECURSIVE) on the mount `mounted` is and every mount below it.
pub fn set_recursive_attributes(mounted: &OwnedFd, set: u64, clear: u64, what: impl std::fmt::Display) -> Result<(), SysError> {
    super::mount_setattr(mounted, true, set, clear, None::<&OwnedFd>).on("mount_setattr (recursive options) on", what)
}

/// The mount ids and their parents' in this mount namespace, taken before a mount(2) onto
/// a held target so that the new mount can be told from every other afterwards.
#[derive(Debug)]
pub struct NewMountWitness {
    /// The target's mount: the new one must sit on it.
    parent: u64,
    /// Every mount id before the call.
    before: Vec<u64>,
}

impl NewMountWitness {
    /// Note the mounts before a mount(2) onto `target`.
    pub fn before(target: &OwnedFd) -> Result<NewMountWitness, SysError> {
        Ok(NewMountWitness { parent: mount_id(target)?, before: mount_ids()?.into_iter().map(|(id, _)| id).collect() })
    }

    /// `reopened` (the destination looked up again after the mount) must be the root of the
    /// one mount made since [`NewMountWitness::before`] on the target's mount: a swapped path
    /// component leads to a mount that existed before, or to none.
    pub fn prove(&self, reopened: OwnedFd, destination: impl std::fmt::Display) -> Result<OwnedFd, SysError> {
        let new: Vec<u64> = mount_ids()?.into_iter().filter(|(id, parent)| *parent == self.parent && !self.before.contains(id)).map(|(id, _)| id).collect();
        let found = mount_id(&reopened)?;
        if new != [found] {
            return Err(SysError::refused("find the new mount at", destination, "the path now leads to another mount (was a path component swapped?)"));
        }
        Ok(reopened)
    }
}

/// The mount id of the mount `fd` is on (`mnt_id` of /proc/self/fdinfo, any kernel).
pub fn mount_id(fd: &OwnedFd) -> Result<u64, SysError> {
    let path = format!("/proc/self/fdinfo/{}", fd.as_raw_fd());
    let text = std::fs::read_to_string(&path).map_err(|e| SysError::io("read", &path, &e))?;
    text.lines()
        .find_map(|line| line.strip_prefix("mnt_id:"))
        .and_then(|id| id.trim().parse().ok())
        .ok_or_else(|| SysError::refused("read", path, "no mnt_id in it"))
}

/// (id, parent id) of every mount in this namespace.
fn mount_ids() -> Result<Vec<(u64, u64)>, SysError> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| SysError::io("read", "/proc/self/mountinfo", &e))?;
    Ok(parse_mount_ids(&text))
}

/// The first two fields of each mountinfo line.
fn parse_mount_ids(mountinfo: &str) -> Vec<(u64, u64)> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
        })
        .collect()
}

/// A new tmpfs with `mode` for its root, made detached (fsopen, fsconfig, fsmount) with the
/// per-mount `flags`: its fd reaches it wherever it is attached, and what is made inside it
/// is private to this mount namespace.
pub fn detached_tmpfs(mode: &str, flags: MsFlags) -> Result<OwnedFd, SysError> {
    const FSOPEN_CLOEXEC: libc::c_uint = 1;
    const FSCONFIG_SET_STRING: libc::c_uint = 1;
    const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
    const FSMOUNT_CLOEXEC: libc::c_uint = 1;
    // SAFETY: a NUL-terminated name and plain flags; returns a new fd.
    let context = check(unsafe { libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC) }).on("fsopen", "tmpfs")?;
    // SAFETY: the fd fsopen just returned, owned by nothing else.
    let context: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(context as i32) };
    let value = std::ffi::CString::new(mode).map_err(|_| SysError::refused("fsconfig", "tmpfs mode", "contains a NUL byte"))?;
    // SAFETY: a valid fs context fd, NUL-terminated key and value.
    check(unsafe { libc::syscall(libc::SYS_fsconfig, context.as_raw_fd(), FSCONFIG_SET_STRING, c"mode".as_ptr(), value.as_ptr(), 0) })
        .on("fsconfig mode of", "tmpfs")?;
    // SAFETY: a valid fs context fd; CMD_CREATE takes no key or value.
    check(unsafe { libc::syscall(libc::SYS_fsconfig, context.as_raw_fd(), FSCONFIG_CMD_CREATE, std::ptr::null::<u8>(), std::ptr::null::<u8>(), 0) })
        .on("fsconfig create", "tmpfs")?;
    let (set, _) = per_mount_attributes(flags);
    // SAFETY: a valid, created fs context fd and plain flags; returns a new fd.
    let mounted = check(unsafe { libc::syscall(libc::SYS_fsmount, context.as_raw_fd(), FSMOUNT_CLOEXEC, set as libc::c_uint) }).on("fsmount", "tmpfs")?;
    // SAFETY: the fd fsmount just returned, owned by nothing else.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(mounted as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_options_become_attributes_and_keep_what_they_do_not_name() {
        assert_eq!(per_mount_attributes(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID), (attr::RDONLY | attr::NOSUID, 0));
        assert_eq!(
            per_mount_attributes(MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_NOATIME),
            (attr::NODEV | attr::NOEXEC | attr::NOATIME, attr::ATIME_MASK)
        );
        // relatime is the atime field's 0: clear the field, set nothing.
        assert_eq!(per_mount_attributes(MsFlags::MS_RELATIME), (0, attr::ATIME_MASK));
        // Superblock flags are not the bind's to change.
        assert_eq!(per_mount_attributes(MsFlags::MS_SYNCHRONOUS | MsFlags::MS_DIRSYNC), (0, 0));
    }

    #[test]
    fn a_bind_gets_exactly_the_flags_it_names_or_keeps_the_sources() {
        let plain = attr::RDONLY | attr::NOSUID | attr::NODEV | attr::NOEXEC | attr::NOSYMFOLLOW;
        // nothing named beyond bind: the source's flags stay
        assert_eq!(bind_attributes(MsFlags::MS_BIND | MsFlags::MS_REC, MsFlags::empty()), None);
        // a clearing flag alone still makes the bind what it names: all plain flags off
        assert_eq!(bind_attributes(MsFlags::MS_BIND, MsFlags::MS_NODEV), Some((0, plain)));
        // set ones on, the rest off; the atime mode untouched when none is named
        assert_eq!(
            bind_attributes(MsFlags::MS_BIND | MsFlags::MS_NOSUID | MsFlags::MS_NODEV, MsFlags::empty()),
            Some((attr::NOSUID | attr::NODEV, attr::RDONLY | attr::NOEXEC | attr::NOSYMFOLLOW))
        );
        // nodiratime alone is relatime (0) with nodiratime; noatime wins over strictatime
        let (set, clear) = bind_attributes(MsFlags::MS_BIND | MsFlags::MS_NODIRATIME, MsFlags::empty()).unwrap();
        assert_eq!((set & (attr::ATIME_MASK | attr::NODIRATIME), clear & (attr::ATIME_MASK | attr::NODIRATIME)), (attr::NODIRATIME, attr::ATIME_MASK));
        let (set, clear) = bind_attributes(MsFlags::MS_BIND | MsFlags::MS_STRICTATIME, MsFlags::empty()).unwrap();
        assert_eq!((set & attr::ATIME_MASK, clear & (attr::ATIME_MASK | attr::NODIRATIME)), (attr::STRICTATIME, attr::ATIME_MASK | attr::NODIRATIME));
        // clearing an atime flag by name changes nothing about atime (as the kernel's remount)
        let (set, clear) = bind_attributes(MsFlags::MS_BIND, MsFlags::MS_NOATIME).unwrap();
        assert_eq!((set, clear & (attr::ATIME_MASK | attr::NODIRATIME)), (0, 0));
    }

    #[test]
    fn mount_ids_come_from_the_first_two_fields() {
        let text = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n25 22 0:23 / /proc/sys ro - proc proc rw\nbroken\n";
        assert_eq!(parse_mount_ids(text), [(22, 1), (25, 22)]);
    }
}
