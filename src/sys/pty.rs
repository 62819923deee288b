//! The pty ioctls: unlock a master, its number, its peer (the slave), window sizes, the
//! controlling terminal. What a console is for and where it goes is `rootfs/console.rs`'s.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::{SysContext, SysError};

nix::ioctl_write_ptr_bad!(set_window_size_raw, libc::TIOCSWINSZ, libc::winsize);
nix::ioctl_read_bad!(get_window_size_raw, libc::TIOCGWINSZ, libc::winsize);

/// Unlock the slave of `master` (`TIOCSPTLCK` 0); `shown` names the master in errors.
pub fn unlock(master: &OwnedFd, shown: &str) -> Result<(), SysError> {
    let mut unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int through the pointer; `master` is an open fd.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) } != 0 {
        return Err(SysError::new("unlock the pty (TIOCSPTLCK)", shown, nix::errno::Errno::last()));
    }
    Ok(())
}

/// The pty's number (`TIOCGPTN`): N of `/dev/pts/N`.
pub fn number(master: &OwnedFd, shown: &str) -> Result<u32, SysError> {
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int through the pointer.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } != 0 {
        return Err(SysError::new("read the pty number (TIOCGPTN)", shown, nix::errno::Errno::last()));
    }
    Ok(number)
}

/// The slave of `master`, opened through the master itself (`TIOCGPTPEER`), never by name.
pub fn peer(master: &OwnedFd, shown: &str) -> Result<OwnedFd, SysError> {
    // SAFETY: TIOCGPTPEER takes open flags as its integer argument and returns a new fd.
    let slave = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if slave < 0 {
        return Err(SysError::new("open the pty slave (TIOCGPTPEER) of", shown, nix::errno::Errno::last()));
    }
    // SAFETY: the ioctl just returned this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(slave) })
}

/// Set the window size of the terminal `fd` to `rows` x `columns`.
pub fn set_window_size(fd: &OwnedFd, rows: u16, columns: u16, shown: &str) -> Result<(), SysError> {
    let size = libc::winsize { ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: an open fd and a pointer to a winsize that outlives the call.
    unsafe { set_window_size_raw(fd.as_raw_fd(), &size) }.on("set window size of", shown).map(drop)
}

/// Make `slave` the calling process's controlling terminal (after setsid).
pub fn make_controlling(slave: &OwnedFd) -> Result<(), SysError> {
    // SAFETY: TIOCSCTTY takes an integer argument; `slave` is an open fd.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } != 0 {
        return Err(SysError::new("ioctl TIOCSCTTY", "pty slave", nix::errno::Errno::last()));
    }
    Ok(())
}

/// Copy the window size of terminal `from` to `to` (SIGWINCH on the user's terminal).
/// Does nothing when `from` is not a terminal.
pub fn copy_window_size(from: RawFd, to: RawFd) {
    let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: the calls take fds and a pointer to a winsize that outlives them; a bad fd is
    // an error return, not undefined behaviour.
    unsafe {
        if get_window_size_raw(from, &mut size).is_ok() {
            let _ = set_window_size_raw(to, &size);
        }
    }
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
