//! The session keyring: each container gets its own unless `--no-new-keyring`.

use nix::errno::Errno;

use super::SysError;

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;

/// Join a new session keyring named `name`, so the container cannot read the caller's keys.
/// Kernels without keyring support (ENOSYS) are tolerated, as runc does.
pub fn join_new_session_keyring(name: &str) -> Result<(), SysError> {
    let c_name = std::ffi::CString::new(name).map_err(|_| SysError::refused("keyctl join", name, "the name contains a NUL byte"))?;
    // SAFETY: KEYCTL_JOIN_SESSION_KEYRING with a NUL-terminated name.
    let ret = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c_name.as_ptr()) };
    match ret {
        r if r >= 0 => Ok(()),
        _ if Errno::last() == Errno::ENOSYS => Ok(()),
        _ => Err(SysError::new("keyctl join session keyring", name, Errno::last())),
    }
}
