//! Loading a compiled seccomp program: the one `seccomp(2)` call the child makes.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

use super::SysError;
use crate::seccomp::SeccompProgram;

/// `SECCOMP_SET_MODE_FILTER` from linux/seccomp.h.
const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;

/// Load `program` into the calling thread. Needs no_new_privs or CAP_SYS_ADMIN. Returns the
/// notification listener when the program was compiled with NOTIFY rules.
pub fn load_filter(program: &SeccompProgram) -> Result<Option<OwnedFd>, SysError> {
    // The compiler checked the length is a whole number of 8-byte instructions; the kernel
    // reads `len` instructions through the pointer and copies them.
    let instructions = program.bpf.len() / 8;
    let len = u16::try_from(instructions).map_err(|_| SysError::new("load seccomp filter", format!("{instructions} instructions (the kernel takes at most 4096)"), Errno::E2BIG))?;
    let fprog = libc::sock_fprog { len, filter: program.bpf.as_ptr() as *mut libc::sock_filter };
    // SAFETY: fprog points at `len` instructions that live until the call returns.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &fprog as *const libc::sock_fprog) };
    if ret < 0 {
        return Err(SysError::new("seccomp(SECCOMP_SET_MODE_FILTER)", format!("flags {:#x}", program.flags), Errno::last()));
    }
    if program.notify {
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
