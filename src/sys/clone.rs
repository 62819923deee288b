//! Cloning init straight into its new namespaces with clone3 (plain clone as a fallback).

use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sched::CloneFlags;

use super::{SysError, check};

/// clone3's flag to start the child in the cgroup given by fd (libc's constant overflows).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` of clone3(2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of the clone we are on.
#[derive(Debug, PartialEq, Eq)]
pub enum Forked {
    /// The new process.
    Child,
    /// The caller, with the child's pid.
    Parent(i32),
}

/// Clone the calling process like fork(2), into the namespaces in `flags`, and with
/// `cgroup_fd` into that cgroup v2 directory before it runs.
///
/// The contract is checked, not assumed: a process with other threads is refused (the child
/// would be a copy of this one thread, with locks other threads held never released). The
/// child must still leave through exec or [`super::exit_now`], never by returning into the
/// caller's frames: that is the callers' shape (`Forked::Child` arms end in one of the two).
pub fn clone_process(flags: CloneFlags, cgroup_fd: Option<RawFd>) -> Result<Forked, SysError> {
    if !single_threaded() {
        return Err(SysError::refused("clone", format!("with flags {flags:?}"), "the process has other threads"));
    }
    let mut args = CloneArgs { flags: flags.bits() as u64, exit_signal: libc::SIGCHLD as u64, ..Default::default() };
    if let Some(fd) = cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: clone3 without CLONE_VM and without a stack behaves like fork: the child gets a
    // copy of the address space and continues from here. The struct is valid for the call.
    let ret = check(unsafe { libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) });
    let ret = match ret {
        Err(Errno::ENOSYS) if cgroup_fd.is_none() => clone_legacy(flags),
        other => other,
    };
    match ret {
        Ok(0) => Ok(Forked::Child),
        Ok(pid) => Ok(Forked::Parent(pid as i32)),
        Err(errno) => Err(SysError::new("clone3", format!("with flags {flags:?}"), errno)),
    }
}

fn clone_legacy(flags: CloneFlags) -> nix::Result<libc::c_long> {
    // SAFETY: clone with a null stack and no CLONE_VM is fork with namespace flags.
    check(unsafe { libc::syscall(libc::SYS_clone, flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) })
}

/// Whether this process has never started a second thread: glibc's own record
/// (`__libc_single_threaded`, glibc 2.32), which it clears for good when a thread is made.
/// Reading it costs nothing, unlike counting /proc/self/task (which, in init, may be a
/// procfs of another pid namespace).
fn single_threaded() -> bool {
    unsafe extern "C" {
        static __libc_single_threaded: libc::c_char;
    }
    // SAFETY: a byte glibc defines and only ever writes while making a thread; reading it
    // races with nothing in a process that has one thread, and in one with more it reads 0.
    unsafe { std::ptr::read_volatile(&raw const __libc_single_threaded) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_with_threads_is_never_cloned() {
        // A thread made (and gone) is enough: glibc's record never goes back.
        std::thread::spawn(|| {}).join().unwrap();
        let error = clone_process(CloneFlags::empty(), None).expect_err("cloned with other threads alive");
        assert!(error.to_string().contains("other threads"), "{error}");
    }
}
