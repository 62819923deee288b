//! `process.rlimits` with setrlimit.

use nix::errno::Errno;
use oci_spec::runtime::{PosixRlimit, PosixRlimitType};

use super::SysError;

/// The libc resource number of a spec rlimit type.
pub fn resource_of(kind: PosixRlimitType) -> libc::__rlimit_resource_t {
    use PosixRlimitType::*;
    match kind {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

/// Apply every rlimit; a limit above the hard limit fails with EPERM without CAP_SYS_RESOURCE.
pub fn apply_rlimits(rlimits: &[PosixRlimit]) -> Result<(), SysError> {
    for rlimit in rlimits {
        let limit = libc::rlimit { rlim_cur: rlimit.soft(), rlim_max: rlimit.hard() };
        // SAFETY: a resource number and a pointer to a valid rlimit struct.
        if unsafe { libc::setrlimit(resource_of(rlimit.typ()), &limit) } != 0 {
            return Err(SysError::new("setrlimit", format!("{:?} soft {} hard {}", rlimit.typ(), rlimit.soft(), rlimit.hard()), Errno::last()));
        }
    }
    Ok(())
}
