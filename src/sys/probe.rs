//! Whether the kernel has what skiff can use: each probe makes one harmless call (one the
//! kernel must refuse, or one with no effect) and tells "absent" (ENOSYS) from "present".
//! For `skiff doctor`.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

/// Whether a refused call said ENOSYS (the syscall is absent) or something else.
fn present(ret: libc::c_long) -> bool {
    ret != -1 || Errno::last() != Errno::ENOSYS
}

/// `clone3` (Linux 5.3): with a NULL argument and size 0 it is refused with EINVAL.
pub fn has_clone3() -> bool {
    // SAFETY: clone3 rejects a zero size before it looks at the (null) pointer; no process is made.
    present(unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) })
}

/// `openat2` (Linux 5.6): refused with EINVAL (a size below the smallest `open_how`).
pub fn has_openat2() -> bool {
    // SAFETY: size 0 is refused before the kernel reads either (null) pointer.
    present(unsafe { libc::syscall(libc::SYS_openat2, -1, std::ptr::null::<u8>(), std::ptr::null::<u8>(), 0usize) })
}

/// `open_tree` (Linux 5.2): refused with EFAULT (the null path).
pub fn has_open_tree() -> bool {
    // SAFETY: the null path is refused (EFAULT) before anything is opened.
    present(unsafe { libc::syscall(libc::SYS_open_tree, -1, std::ptr::null::<u8>(), 0u32) })
}

/// `mount_setattr` (Linux 5.12, id-mapped mounts): refused with EINVAL (size 0).
pub fn has_mount_setattr() -> bool {
    // SAFETY: size 0 is refused before the kernel reads the (null) attributes or path.
    present(unsafe { libc::syscall(libc::SYS_mount_setattr, -1, std::ptr::null::<u8>(), 0u32, std::ptr::null::<u8>(), 0usize) })
}

/// `pidfd_open` (Linux 5.3) on our own pid.
pub fn has_pidfd() -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0u32) };
    if ret >= 0 {
        // SAFETY: the kernel just returned this fd; nothing else owns it.
        drop(unsafe { OwnedFd::from_raw_fd(ret as i32) });
        return true;
    }
    false
}

/// `SECCOMP_GET_NOTIF_SIZES`: the seccomp user notification API (Linux 5.0).
pub fn has_seccomp_notify() -> bool {
    const SECCOMP_GET_NOTIF_SIZES: libc::c_ulong = 3;
    let mut sizes = [0u16; 3];
    // SAFETY: the kernel writes struct seccomp_notif_sizes (three u16) into the buffer.
    unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0u32, sizes.as_mut_ptr()) == 0 }
}

/// Whether the kernel knows `SECCOMP_SET_MODE_FILTER`'s `flag`: with a null program the
/// kernel checks the flags first (EINVAL for an unknown one), then fails to copy the program
/// (EFAULT); no filter is ever installed.
pub fn seccomp_filter_flag_known(flag: u32) -> bool {
    const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
    // SAFETY: a null program pointer: the call fails before anything is installed.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, std::ptr::null::<u8>()) };
    ret == -1 && Errno::last() == Errno::EFAULT
}

/// `SECCOMP_GET_ACTION_AVAIL` for `action` (a `SECCOMP_RET_*` value).
pub fn seccomp_action_available(action: u32) -> bool {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
    // SAFETY: the kernel reads one u32 from the pointer.
    unsafe { libc::syscall(libc::SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0u32, &action as *const u32) == 0 }
}
