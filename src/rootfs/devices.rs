//! Device nodes in the container's `/dev`: the defaults every container gets, the ones
//! `linux.devices` asks for, and the standard symlinks.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag, makedev, mknodat};
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceType};

use crate::sys::fs_in_root::{NodeKind, RootDir, fd_path};
use crate::sys::{SysContext, SysError};

/// A device node to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// Absolute path inside the container.
    pub path: PathBuf,
    /// `S_IFCHR`, `S_IFBLK` or `S_IFIFO`.
    pub kind: SFlag,
    /// Major number.
    pub major: u64,
    /// Minor number.
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

/// After the switch into the rootfs, stdio that is the host's `/dev/null` becomes the
/// container's own, as runc does: then no fd of the container refers to a file in the host's
/// mount tree (CRIU cannot dump one), and `/proc/1/fd/0` reads as inside.
pub fn reopen_dev_null() -> Result<(), SysError> {
    let is_null = |st: &nix::sys::stat::FileStat| SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFCHR && st.st_rdev == makedev(1, 3);
    let null_fds: Vec<i32> = (0..3).filter(|&fd| nix::sys::stat::fstat(fd).is_ok_and(|st| is_null(&st))).collect();
    if null_fds.is_empty() {
        return Ok(());
    }
    let null = crate::sys::open_fd(Path::new("/dev/null"), nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC, "reopen")?;
    if !nix::sys::stat::fstat(null.as_raw_fd()).is_ok_and(|st| is_null(&st)) {
        return Err(SysError::refused("reopen", "/dev/null", "the container's /dev/null is not the null device (1:3)"));
    }
    for fd in null_fds {
        nix::unistd::dup3(null.as_raw_fd(), fd, nix::fcntl::OFlag::empty()).on("dup3 /dev/null onto fd", fd)?;
    }
    Ok(())
}

/// The devices every container gets (runtime-spec "Default Devices").
pub fn default_devices() -> Vec<DeviceNode> {
    [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]
        .into_iter()
        .map(|(name, major, minor)| DeviceNode { path: PathBuf::from("/dev").join(name), kind: SFlag::S_IFCHR, major, minor, mode: 0o666, uid: 0, gid: 0 })
        .collect()
}

/// Convert a `linux.devices` entry; `None` for types that cannot be created (`a`).
pub fn from_spec(device: &LinuxDevice) -> Option<DeviceNode> {
    let kind = match device.typ() {
        LinuxDeviceType::C | LinuxDeviceType::U => SFlag::S_IFCHR,
        LinuxDeviceType::B => SFlag::S_IFBLK,
        LinuxDeviceType::P => SFlag::S_IFIFO,
        LinuxDeviceType::A => return None,
    };
    Some(DeviceNode {
        path: device.path().clone(),
        kind,
        major: device.major() as u64,
        minor: device.minor() as u64,
        mode: device.file_mode().unwrap_or(0o666) & 0o7777,
        uid: device.uid().unwrap_or(0),
        gid: device.gid().unwrap_or(0),
    })
}

/// The default devices with the spec's own entries overriding those at the same path.
pub fn devices_to_create(spec_devices: &[LinuxDevice]) -> Vec<DeviceNode> {
    let configured: Vec<DeviceNode> = spec_devices.iter().filter_map(from_spec).collect();
    let mut all: Vec<DeviceNode> = default_devices().into_iter().filter(|d| !configured.iter().any(|c| c.path == d.path)).collect();
    all.extend(configured);
    all
}

/// Create `device` in the root: `mknod` normally, a bind mount of the host's node when
/// `bind` is set (inside a user namespace, where mknod is not allowed).
///
/// The node's mode and owner are set through an fd of the node itself, opened without
/// following a symlink and checked to be the device just made: by name, a symlink renamed
/// over the new node (a rootfs `/dev` or a volume another party can write) would have root
/// chmod whatever it points to.
pub fn create_device(root: &RootDir, device: &DeviceNode, bind: bool) -> Result<(), SysError> {
    let display = root.display(&device.path);
    let rdev = makedev(device.major, device.minor);
    if bind {
        let target = root.ensure(&device.path, NodeKind::File)?;
        let tree = crate::sys::open_tree_clone(&device.path, false)?;
        check_node(&tree, device.kind, rdev, &device.path.display().to_string())?;
        return crate::sys::mount_fd::attach(&tree, &target, &display);
    }
    let (parent, name) = split_parent(&device.path);
    let parent_fd = root.ensure(parent, NodeKind::Dir)?;
    let mode = Mode::from_bits_truncate(device.mode);
    match mknodat(Some(parent_fd.as_raw_fd()), name, device.kind, mode, rdev) {
        Ok(()) => {}
        // An image may ship its own /dev entries; those are kept as they are, like runc.
        Err(Errno::EEXIST) => return Ok(()),
        Err(errno) => return Err(SysError::new("mknod", &display, errno)),
    }
    let node = crate::sys::openat_owned(Some(parent_fd.as_raw_fd()), Path::new(name), OFlag::O_PATH | OFlag::O_NOFOLLOW, Mode::empty())
        .on("open the new device node", &display)?;
    check_node(&node, device.kind, rdev, &display)?;
    // mknod applies the umask; set the mode the spec asks for explicitly, on the node's
    // inode (the /proc/self/fd link of an O_PATH fd reaches it, not a name).
    nix::sys::stat::fchmodat(None, fd_path(&node).as_str(), mode, nix::sys::stat::FchmodatFlags::FollowSymlink).on("chmod device", &display)?;
    nix::unistd::fchownat(
        Some(node.as_raw_fd()),
        "",
        Some(Uid::from_raw(device.uid)),
        Some(Gid::from_raw(device.gid)),
        nix::unistd::FchownatFlags::AT_EMPTY_PATH,
    )
    .on("chown device", &display)
}

/// `node` must be the device asked for: its kind, and for a character or block device its
/// major:minor (a fifo has none).
fn check_node(node: &impl AsRawFd, kind: SFlag, rdev: u64, display: &str) -> Result<(), SysError> {
    let stat = nix::sys::stat::fstat(node.as_raw_fd()).on("stat", display)?;
    let is_kind = stat.st_mode & SFlag::S_IFMT.bits() == kind.bits();
    if !is_kind || (kind != SFlag::S_IFIFO && stat.st_rdev != rdev) {
        return Err(SysError::refused(
            "set up device",
            display,
            format!(
                "it is not the device asked for (mode {:o}, device {}:{})",
                stat.st_mode,
                nix::sys::stat::major(stat.st_rdev),
                nix::sys::stat::minor(stat.st_rdev)
            ),
        ));
    }
    Ok(())
}

/// The symlinks of a standard `/dev` (`/dev/fd`, stdio, `ptmx` into the devpts instance).
pub fn create_dev_symlinks(root: &RootDir) -> Result<(), SysError> {
    let mut links =
        vec![("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "/dev/core"));
    }
    for (target, link) in links {
        create_symlink(root, target, Path::new(link))?;
    }
    // /dev/ptmx must be the devpts instance's ptmx, not the host's.
    let dev = root.ensure(Path::new("/dev"), NodeKind::Dir)?;
    match nix::unistd::unlinkat(Some(dev.as_raw_fd()), "ptmx", nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(errno) => return Err(SysError::new("remove", root.display(Path::new("/dev/ptmx")), errno)),
    }
    create_symlink(root, "pts/ptmx", Path::new("/dev/ptmx"))
}

fn create_symlink(root: &RootDir, target: &str, link: &Path) -> Result<(), SysError> {
    let (parent, name) = split_parent(link);
    let parent_fd = root.ensure(parent, NodeKind::Dir)?;
    match nix::unistd::symlinkat(target, Some(parent_fd.as_raw_fd()), name) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(errno) => Err(SysError::new("symlink", root.display(link), errno)),
    }
}

fn split_parent(path: &Path) -> (&Path, &std::ffi::OsStr) {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().unwrap_or(path.as_os_str());
    (parent, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_devices_override_defaults() {
        let spec: LinuxDevice = serde_json::from_str(r#"{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438,"uid":5,"gid":6}"#).unwrap();
        let fuse: LinuxDevice = serde_json::from_str(r#"{"path":"/dev/fuse","type":"c","major":10,"minor":229}"#).unwrap();
        let all = devices_to_create(&[spec, fuse]);
        assert_eq!(all.len(), 7);
        let null = all.iter().find(|d| d.path == Path::new("/dev/null")).unwrap();
        assert_eq!((null.uid, null.gid, null.mode), (5, 6, 0o666));
        assert!(all.iter().any(|d| d.path == Path::new("/dev/fuse") && d.major == 10));
    }
}
