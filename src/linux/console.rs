//! `process.terminal`: a pty from the container's own devpts, its master sent to the
//! `--console-socket` (SCM_RIGHTS, with the pty's name as data, as runc sends it), its slave
//! made the process's controlling terminal and stdio, and bound over `/dev/console`.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};

use super::fs_in_root::{NodeKind, RootDir, fd_path};
use super::{SysContext, SysError, open_fd};

nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, libc::winsize);

/// Make the pty (the container's devpts must be mounted at /dev/pts and the root entered),
/// send its master over `socket`, and return the slave.
pub fn create_console(socket: RawFd, size: Option<(u16, u16)>, bind_dev_console: bool) -> Result<OwnedFd, SysError> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).on("open", "/dev/ptmx")?;
    unlockpt(&master).on("unlockpt", "/dev/ptmx")?;
    let name = ptsname_r(&master).on("ptsname", "/dev/ptmx")?;
    let slave = open_fd(Path::new(&name), OFlag::O_RDWR | OFlag::O_NOCTTY, "open pty slave")?;
    if let Some((height, width)) = size {
        let size = libc::winsize { ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: a valid pty fd and a pointer to a winsize that outlives the call.
        unsafe { set_window_size(master.as_raw_fd(), &size) }.on("set window size of", &name)?;
    }
    if bind_dev_console {
        // The container's /dev/console is its init's pty too (runc binds it the same way).
        let root = RootDir::open(Path::new("/"))?;
        // No symlink, and a plain file or device off procfs and sysfs: the bind must not
        // land on a file the link chose (CVE-2025-52565).
        let console = root.ensure_no_symlinks(Path::new("/dev/console"), NodeKind::File)?;
        check_console_target(&console)?;
        mount(Some(name.as_str()), fd_path(&console).as_str(), None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .on("bind mount the pty over", "/dev/console")?;
    }
    super::fd_passing::send_fd(&socket, name.as_bytes(), master.as_raw_fd()).on("send the pty master over", "the console socket")?;
    Ok(slave)
}

/// Make `slave` the controlling terminal (after setsid) and stdin, stdout and stderr.
pub fn attach_console(slave: &OwnedFd) -> Result<(), SysError> {
    // SAFETY: TIOCSCTTY takes an integer argument; `slave` is a valid tty fd.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(SysError::new("ioctl TIOCSCTTY", "pty slave", nix::errno::Errno::last()));
    }
    for target in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), target).on("dup2 pty slave to", target)?;
    }
    Ok(())
}

nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, libc::winsize);

/// Copy the window size of terminal `from` to `to` (SIGWINCH on the user's terminal).
/// Does nothing when `from` is not a terminal.
pub fn copy_window_size(from: RawFd, to: RawFd) {
    let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: valid fds and a pointer to a winsize that outlives the calls.
    unsafe {
        if get_window_size(from, &mut size).is_ok() {
            let _ = set_window_size(to, &size);
        }
    }
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
