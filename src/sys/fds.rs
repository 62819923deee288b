//! File descriptors the container process inherits: stdio, the `--preserve-fds` ones, nothing else.

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};

use super::{SysContext, SysError};

/// Mark every fd from `3 + preserve` up close-on-exec, and clear close-on-exec on the
/// preserved ones (3 .. 3+preserve), so exactly stdio and the preserved fds cross the exec.
pub fn prepare_fds_for_exec(preserve: u32) -> Result<(), SysError> {
    let first = 3 + preserve;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags on fds in the range.
    let ret = unsafe { libc::close_range(first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) };
    if ret != 0 {
        mark_cloexec_from_proc(first)?;
    }
    for fd in 3..first {
        let fd = fd as i32;
        match fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty())) {
            Ok(_) => {}
            // A preserved fd the caller did not actually pass is not our error (runc ignores it).
            Err(Errno::EBADF) => {}
            Err(errno) => return Err(SysError::new("clear close-on-exec of fd", fd, errno)),
        }
    }
    Ok(())
}

/// The fds skiff was started with beyond stdio and the ones it hands to the container:
/// noted once, before skiff opens anything.
static STRAY_FDS: std::sync::OnceLock<Vec<std::os::fd::RawFd>> = std::sync::OnceLock::new();

/// Note the fds open now from `3 + handed` up (the caller's, which a shell or a test harness
/// leaves without close-on-exec), for [`stray_fds`]. Call before anything is opened.
pub fn note_stray_fds(handed: u32) {
    let listed = open_fds_from(3 + handed).unwrap_or_default();
    // (the directory's own fd, listed too, is closed by now: F_GETFD drops it)
    let strays = listed.into_iter().filter(|fd| fcntl(*fd, FcntlArg::F_GETFD).is_ok()).collect();
    let _ = STRAY_FDS.set(strays);
}

/// The fds [`note_stray_fds`] found. Init closes them first thing: it is a clone of the
/// runtime, not an exec, so it holds every fd the runtime holds, and the caller's must not
/// reach a container waiting at its start gate (runc marks them close-on-exec before
/// starting its init, for the same reason).
pub fn stray_fds() -> &'static [std::os::fd::RawFd] {
    STRAY_FDS.get().map(Vec::as_slice).unwrap_or_default()
}

/// The fds open from `first` up, as /proc/self/fd lists them (the listing's own fd, closed
/// by the time this returns, may be among them: callers tolerate EBADF).
fn open_fds_from(first: u32) -> Result<Vec<std::os::fd::RawFd>, SysError> {
    let entries = std::fs::read_dir("/proc/self/fd").map_err(|e| SysError::io("read", "/proc/self/fd", &e))?;
    Ok(entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).filter(|fd: &i32| *fd >= first as i32).collect())
}

/// Fallback for kernels without close_range(CLOEXEC): walk /proc/self/fd.
fn mark_cloexec_from_proc(first: u32) -> Result<(), SysError> {
    for fd in open_fds_from(first)? {
        match fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)) {
            Ok(_) | Err(Errno::EBADF) => {}
            Err(errno) => return Err(errno).on("set close-on-exec of fd", fd),
        }
    }
    Ok(())
}

/// Write the NUL a `--status-fd` reader waits for, then close the fd (the reader sees the end
/// of the stream too), as runc does once CRIU's lazy-pages server is ready. The caller passed
/// the fd by number; a failed write means nobody reads, and is not an error.
pub fn write_status_byte(fd: Option<std::os::fd::RawFd>) {
    if let Some(fd) = fd {
        // SAFETY: the fd was checked open and writable at start-up, nothing in skiff owns or
        // closes it, and it is closed right below, once.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = nix::unistd::write(borrowed, &[0]);
        let _ = nix::unistd::close(fd);
    }
}
