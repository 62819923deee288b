//! `process.terminal`: a pty from the container's own devpts, its master sent to the
//! `--console-socket` (SCM_RIGHTS, with the pty's name as data, as runc sends it), its slave
//! made the process's controlling terminal and stdio, and bound over `/dev/console`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::sys::fs_in_root::{NodeKind, RootDir, fd_path};
use crate::sys::pty;
use crate::sys::{SysContext, SysError};

/// The inode number devpts gives its `ptmx` (the root is 1, ptys from 3).
const DEVPTS_PTMX_INO: u64 = 2;

/// Make the pty (the container's devpts must be mounted at /dev/pts and the root entered),
/// send its master over `socket`, and return the slave.
///
/// No step names a path twice (CVE-2025-52565 on the source side): the master is
/// `/dev/pts/ptmx` opened without a symlink and proven to be a devpts instance's ptmx; the
/// slave is the master's peer (`TIOCGPTPEER`), not `/dev/pts/N` opened by name; and
/// `/dev/console` is bound from that slave fd. A `/dev/pts` that is a volume holding
/// symlinks can then lead nowhere.
pub fn create_console(socket: RawFd, size: Option<(u16, u16)>, bind_dev_console: bool) -> Result<OwnedFd, SysError> {
    let root = RootDir::open(Path::new("/"))?;
    let master = open_ptmx(&root)?;
    pty::unlock(&master, PTMX)?;
    // The name runc sends with the master; only a label for the engine, never opened.
    let name = format!("/dev/pts/{}", pty::number(&master, PTMX)?);
    let slave = pty::peer(&master, &name)?;
    if let Some((height, width)) = size {
        pty::set_window_size(&master, height, width, &name)?;
    }
    if bind_dev_console {
        // The container's /dev/console is its init's pty too (runc binds it the same way).
        // No symlink, and a plain file or device off procfs and sysfs: the bind must not
        // land on a file the link chose (CVE-2025-52565).
        let console = root.ensure_no_symlinks(Path::new("/dev/console"), NodeKind::File)?;
        check_console_target(&console)?;
        let tree = crate::sys::open_tree_clone(Path::new(&fd_path(&slave)), false)
            .map_err(|error| error.within(format_args!("bind the pty {name} over /dev/console")))?;
        crate::sys::mount_fd::attach(&tree, &console, "/dev/console")?;
    }
    crate::sys::fd_passing::send_fd(&socket, name.as_bytes(), master.as_raw_fd()).on("send the pty master over", "the console socket")?;
    Ok(slave)
}

/// Where the master comes from: the devpts instance's own ptmx, not `/dev/ptmx` (a symlink
/// to it, or a node that could be anything).
const PTMX: &str = "/dev/pts/ptmx";

/// Open `/dev/pts/ptmx` inside `root`, refusing a symlink on the way, and prove it is a
/// devpts instance's ptmx: the filesystem (statfs), the device (5:2) and devpts's own inode.
fn open_ptmx(root: &RootDir) -> Result<OwnedFd, SysError> {
    let ptmx = root.open_no_symlinks(Path::new(PTMX), libc::O_RDWR | libc::O_NOCTTY)?;
    let fs = nix::sys::statfs::fstatfs(&ptmx).on("statfs", PTMX)?.filesystem_type();
    let stat = nix::sys::stat::fstat(ptmx.as_raw_fd()).on("stat", PTMX)?;
    let is_ptmx = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == nix::sys::stat::makedev(5, 2) && stat.st_ino == DEVPTS_PTMX_INO;
    if fs != nix::sys::statfs::DEVPTS_SUPER_MAGIC || !is_ptmx {
        return Err(SysError::refused("open the pty master", PTMX, "it is not the ptmx of a devpts mount at /dev/pts"));
    }
    Ok(ptmx)
}

/// Make `slave` the controlling terminal (after setsid) and stdin, stdout and stderr.
pub fn attach_console(slave: &OwnedFd) -> Result<(), SysError> {
    pty::make_controlling(slave)?;
    for target in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), target).on("dup2 pty slave to", target)?;
    }
    Ok(())
}

/// `/dev/console` as resolved must be a regular file or a character device, not on procfs or
/// sysfs.
fn check_console_target(console: &OwnedFd) -> Result<(), SysError> {
    let stat = nix::sys::stat::fstat(console.as_raw_fd()).on("stat", "/dev/console")?;
    let kind = stat.st_mode & libc::S_IFMT;
    let fs = nix::sys::statfs::fstatfs(console).on("statfs", "/dev/console")?.filesystem_type();
    if !(kind == libc::S_IFREG || kind == libc::S_IFCHR) || fs == nix::sys::statfs::PROC_SUPER_MAGIC || fs == nix::sys::statfs::SYSFS_MAGIC {
        return Err(SysError::refused("bind the pty over", "/dev/console", "it is not a plain file or device"));
    }
    Ok(())
}
