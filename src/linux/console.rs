//! `process.terminal`: a pty from the container's own devpts, its master sent to the
//! `--console-socket` (SCM_RIGHTS, with the pty's name as data, as runc sends it), its slave
//! made the process's controlling terminal and stdio, and bound over `/dev/console`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::fs_in_root::{NodeKind, RootDir, fd_path};
use super::{SysContext, SysError};

nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, libc::winsize);

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
    let mut unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int through the pointer; `master` is a pty master.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) } != 0 {
        return Err(SysError::new("unlock the pty (TIOCSPTLCK)", PTMX, nix::errno::Errno::last()));
    }
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int through the pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } != 0 {
        return Err(SysError::new("read the pty number (TIOCGPTN)", PTMX, nix::errno::Errno::last()));
    }
    // The name runc sends with the master; only a label for the engine, never opened.
    let name = format!("/dev/pts/{number}");
    // SAFETY: TIOCGPTPEER takes open flags as its integer argument and returns a new fd.
    let slave = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if slave < 0 {
        return Err(SysError::new("open the pty slave (TIOCGPTPEER) of", &name, nix::errno::Errno::last()));
    }
    // SAFETY: the ioctl just returned this fd; nothing else owns it.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if let Some((height, width)) = size {
        let size = libc::winsize { ws_row: height, ws_col: width, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: a valid pty fd and a pointer to a winsize that outlives the call.
        unsafe { set_window_size(master.as_raw_fd(), &size) }.on("set window size of", &name)?;
    }
    if bind_dev_console {
        // The container's /dev/console is its init's pty too (runc binds it the same way).
        // No symlink, and a plain file or device off procfs and sysfs: the bind must not
        // land on a file the link chose (CVE-2025-52565).
        let console = root.ensure_no_symlinks(Path::new("/dev/console"), NodeKind::File)?;
        check_console_target(&console)?;
        let tree = super::open_tree_clone(Path::new(&fd_path(&slave)), false).map_err(|error| error.within(format_args!("bind the pty {name} over /dev/console")))?;
        super::mount_fd::attach(&tree, &console, "/dev/console")?;
    }
    super::fd_passing::send_fd(&socket, name.as_bytes(), master.as_raw_fd()).on("send the pty master over", "the console socket")?;
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
    // SAFETY: TIOCSCTTY takes an integer argument; `slave` is a valid tty fd.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(SysError::new("ioctl TIOCSCTTY", "pty slave", nix::errno::Errno::last()));
    }
    for target in 0..3 {
        nix::unistd::dup2(slave.as_raw_fd(), target).on("dup2 pty slave to", target)?;
    }
    Ok(())
}

/// Turn off the pty's newline translation (`ONLCR`) through its master: a terminal the
/// runtime relays to its own stdout passes the process's output through unchanged, "\n"
/// not "\r\n", as runc's foreground terminal does (scripts that read `run`'s output
/// compare lines).
pub fn clear_output_newline_translation(master: &OwnedFd) -> Result<(), SysError> {
    use nix::sys::termios;
    let mut attributes = termios::tcgetattr(master).on("tcgetattr", "pty master")?;
    attributes.output_flags.remove(termios::OutputFlags::ONLCR);
    termios::tcsetattr(master, termios::SetArg::TCSANOW, &attributes).on("tcsetattr (clear ONLCR)", "pty master")
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
