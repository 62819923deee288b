//! Idmapped bind mounts (`idmap`/`ridmap`, `uidMappings`/`gidMappings` on a mount): the
//! runtime clones the source tree as a detached mount, attaches a user namespace holding the
//! mappings to it (mount_setattr MOUNT_ATTR_IDMAP), and init moves it into place.
//!
//! This runs in the runtime, as host root, before init is cloned (a container's own user
//! namespace has no privilege over the host filesystem to do it); init inherits the fds.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use oci_spec::runtime::LinuxIdMapping;

use super::{SysContext, SysError};

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// The text of a uid_map/gid_map file for `mappings`.
pub fn map_text(mappings: &[LinuxIdMapping]) -> String {
    mappings.iter().map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size())).collect()
}

/// Whether `mappings` map exactly one id, the caller's own `id`: the only gid map an
/// unprivileged process may write itself, and only once `setgroups` is denied.
pub fn is_own_single(mappings: &[LinuxIdMapping], id: u32) -> bool {
    matches!(mappings, [only] if only.host_id() == id && only.size() == 1)
}

/// Write `pid`'s uid or gid map (`file` is `uid_map` or `gid_map`) with the setuid helper
/// (`newuidmap`/`newgidmap` from Debian's uidmap, found on `PATH`), which checks
/// `/etc/subuid`/`/etc/subgid` for ranges beyond the caller's own id, as runc does rootless.
pub fn write_map_with_helper(pid: i32, file: &str, mappings: &[LinuxIdMapping]) -> Result<(), SysError> {
    let tool = if file == "uid_map" { "newuidmap" } else { "newgidmap" };
    let mut command = std::process::Command::new(tool);
    command.arg(pid.to_string());
    for m in mappings {
        command.args([m.container_id().to_string(), m.host_id().to_string(), m.size().to_string()]);
    }
    let target = format!("{file} of {pid} ({})", map_text(mappings).trim_end().replace('\n', ", "));
    let output = command.env_clear().output().map_err(|e| {
        let errno = Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT));
        SysError::new(if errno == Errno::ENOENT { "run (install uidmap) helper for" } else { "run helper for" }, format!("{tool}: {target}"), errno)
    })?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr).trim().replace('\n', "; ");
        // The helper says why (no subuid range for the user, an id outside it).
        return Err(SysError::refused("map ids", target, format!("{tool} failed: {said}")));
    }
    Ok(())
}

/// A user namespace holding `uid_mappings`/`gid_mappings`: a short-lived child is cloned
/// into a new user namespace, its maps are written, its namespace file is opened, and the
/// child is let go.
pub fn user_namespace_with(uid_mappings: &[LinuxIdMapping], gid_mappings: &[LinuxIdMapping]) -> Result<OwnedFd, SysError> {
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).on("pipe", "idmap helper")?;
    match crate::sys::clone::clone_process(CloneFlags::CLONE_NEWUSER, None)? {
        crate::sys::clone::Forked::Child => {
            drop(write_end);
            let mut byte = [0u8; 1];
            // Wait until the runtime has what it needs (EOF when it closes its end).
            let _ = nix::unistd::read(read_end.as_raw_fd(), &mut byte);
            super::exit_now(0)
        }
        crate::sys::clone::Forked::Parent(pid) => {
            drop(read_end);
            let result = (|| {
                std::fs::write(format!("/proc/{pid}/uid_map"), map_text(uid_mappings)).map_err(|e| SysError::io("write uid_map of idmap helper", pid, &e))?;
                std::fs::write(format!("/proc/{pid}/gid_map"), map_text(gid_mappings)).map_err(|e| SysError::io("write gid_map of idmap helper", pid, &e))?;
                let path = format!("/proc/{pid}/ns/user");
                let raw = nix::fcntl::open(path.as_str(), nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty())
                    .on("open", &path)?;
                // SAFETY: a fresh fd from open.
                Ok(unsafe { OwnedFd::from_raw_fd(raw) })
            })();
            drop(write_end);
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
            result
        }
    }
}

/// Clone `source` (its whole subtree with `rbind`) as a detached mount whose ids are mapped
/// through `userns`: the top mount, or every mount of the tree with `ridmap` (runc's rule:
/// `rbind,idmap` copies the subtree and maps its top only).
pub fn idmapped_tree(source: &Path, rbind: bool, ridmap: bool, userns: &OwnedFd) -> Result<OwnedFd, SysError> {
    let tree = super::open_tree_clone(source, rbind)?;
    super::mount_setattr(&tree, ridmap, MOUNT_ATTR_IDMAP, 0, Some(userns)).on("mount_setattr idmap", source.display())?;
    Ok(tree)
}
