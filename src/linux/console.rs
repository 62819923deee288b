//! `process.terminal`: a pty from the container's own devpts, its master sent to the
//! `--console-socket` (SCM_RIGHTS, with the pty's name as data, as runc sends it), its slave
//! made the process's controlling terminal and stdio, and bound over `/dev/console`.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::pty::{posix_openpt, ptsname_r, unlockpt};
use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};

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
        let console = root.ensure(Path::new("/dev/console"), NodeKind::File)?;
        mount(Some(name.as_str()), fd_path(&console).as_str(), None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .on("bind mount the pty over", "/dev/console")?;
    }
    let fds = [master.as_raw_fd()];
    let data = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(socket, &data, &[ControlMessage::ScmRights(&fds)], MsgFlags::MSG_NOSIGNAL, None)
        .on("send the pty master over", "--console-socket")?;
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

/// Receive one fd sent with SCM_RIGHTS on `stream`, with the data sent beside it (the pty's
/// name, or "pidfd"): what `run` does without a console socket of the caller's, and what a
/// recvtty-like receiver does.
pub fn receive_fd(stream: &impl AsRawFd) -> Result<(OwnedFd, String), SysError> {
    use nix::sys::socket::{ControlMessageOwned, recvmsg};
    let mut data = [0u8; 256];
    let mut iov = [std::io::IoSliceMut::new(&mut data)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let message = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
        .on("receive the pty master", "console socket")?;
    let length = message.bytes;
    let fd = message.cmsgs().ok().and_then(|mut c| {
        c.find_map(|c| match c {
            ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
    });
    match fd {
        // SAFETY: the kernel just installed this fd for us.
        Some(fd) => Ok((unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }, String::from_utf8_lossy(&data[..length]).into_owned())),
        None => Err(SysError::new("receive the pty master", "console socket: no fd arrived", nix::errno::Errno::EBADMSG)),
    }
}
