//! `seccomp(2)` with `SECCOMP_SET_MODE_FILTER`: the load of a compiled program (what it holds is
//! `crate::seccomp`'s), and the probe of a filter flag.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

use super::SysError;

/// `SECCOMP_SET_MODE_FILTER` from linux/seccomp.h.
const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;

/// Load the BPF program `bpf` (8-byte instructions) into the calling thread with `flags`.
/// Needs no_new_privs or CAP_SYS_ADMIN. With `listener` (the flags ask for a new listener),
/// returns the notification listener's fd.
pub fn set_mode_filter(bpf: &[u8], flags: u32, listener: bool) -> Result<Option<OwnedFd>, SysError> {
    // The compiler checked the length is a whole number of 8-byte instructions; the kernel
    // reads `len` instructions through the pointer and copies them.
    let instructions = bpf.len() / 8;
    let len = u16::try_from(instructions)
        .map_err(|_| SysError::new("load seccomp filter", format!("{instructions} instructions (the kernel takes at most 4096)"), Errno::E2BIG))?;
    let fprog = libc::sock_fprog { len, filter: bpf.as_ptr() as *mut libc::sock_filter };
    // SAFETY: fprog points at `len` instructions that live until the call returns.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog as *const libc::sock_fprog) };
    if ret < 0 {
        return Err(SysError::new("seccomp(SECCOMP_SET_MODE_FILTER)", format!("flags {:#x}", flags), Errno::last()));
    }
    if listener {
        // SAFETY: with SECCOMP_FILTER_FLAG_NEW_LISTENER the return value is a new fd we own.
        Ok(Some(unsafe { OwnedFd::from_raw_fd(ret as i32) }))
    } else {
        Ok(None)
    }
}

/// Whether this kernel takes `flag` with `SECCOMP_SET_MODE_FILTER`: with no program, a known
/// flag fails on the program pointer (EFAULT), an unknown one on the flags (EINVAL).
pub fn flag_supported(flag: u32) -> bool {
    // SAFETY: a null program pointer: the kernel rejects the call without reading memory.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, std::ptr::null::<libc::sock_fprog>()) };
    ret < 0 && Errno::last() == Errno::EFAULT
}
