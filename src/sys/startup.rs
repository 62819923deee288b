//! What Rust's runtime start-up does that skiff keeps, done here because skiff's binary starts
//! without it (`#![no_main]` in `main.rs`).
//!
//! Rust's start-up also finds the main thread's stack by parsing `/proc/self/maps` (glibc's
//! `pthread_getattr_np`: an open, a read and `sscanf` per line) and installs an alternate
//! signal stack and SIGSEGV/SIGBUS handlers, only to print "has overflowed its stack" before
//! the abort. That is 17 system calls and 6 KB of code at every invocation, which an
//! emulated machine translates again for every process. A stack overflow still ends the
//! process: the kernel's guard gap below the stack raises SIGSEGV.

use std::os::fd::RawFd;

/// Ready the process as Rust's start-up would, for what skiff relies on: fds 0, 1 and 2 open
/// (on `/dev/null` if the caller closed them, so that no file skiff opens takes their place
/// and then reaches a container as its stdio), and SIGPIPE ignored (a closed pipe is an error
/// to report, not a death; init gives the container's process the default back).
pub fn prepare_process() {
    for fd in closed_standard_fds() {
        reopen_on_dev_null(fd);
    }
    // SAFETY: ignoring a signal installs no handler; no memory is involved.
    let _ = unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigIgn) };
}

/// Which of fds 0, 1 and 2 are closed, in one `poll` (a closed fd polls as `POLLNVAL`).
fn closed_standard_fds() -> impl Iterator<Item = RawFd> {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // SAFETY: three valid pollfd entries; a zero timeout returns at once. On failure (EINTR
    // or ENOMEM, with nothing polled) fall back to asking fd by fd.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0;
    fds.into_iter().filter(move |p| if polled { p.revents & libc::POLLNVAL != 0 } else { !is_open(p.fd) }).map(|p| p.fd)
}

fn is_open(fd: RawFd) -> bool {
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_ok()
}

/// Open `/dev/null` as `fd`, the lowest free one (every lower fd is open). If even that fails,
/// nothing sane can follow: abort, as Rust's start-up does.
fn reopen_on_dev_null(fd: RawFd) {
    // SAFETY: a NUL-terminated path; the fd is kept open for the process's life.
    let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    if opened != fd {
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_fds_are_open_after_preparing() {
        prepare_process();
        for fd in 0..3 {
            assert!(is_open(fd), "fd {fd}");
        }
    }
}
