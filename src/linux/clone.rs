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
/// The caller must be single-threaded: the child is a copy of this one thread, and it must
/// leave through exec or `_exit`, never by returning into the caller's frames.
pub fn clone_process(flags: CloneFlags, cgroup_fd: Option<RawFd>) -> Result<Forked, SysError> {
    let mut args = CloneArgs { flags: flags.bits() as u64, exit_signal: libc::SIGCHLD as u64, ..Default::default() };
    if let Some(fd) = cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: clone3 without CLONE_VM and without a stack behaves like fork: the child gets a
    // copy of the address space and continues from here. The struct is valid for the call.
    let ret = check(unsafe {
        libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>())
    });
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
    check(unsafe {
        libc::syscall(libc::SYS_clone, flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong, 0usize, 0usize, 0usize, 0usize)
    })
}
