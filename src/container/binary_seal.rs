//! Whether skiff's binary, as the caller left it, may run a container's process: an
//! immutable binary (`chattr +i`) is enough unless that process may hold
//! CAP_LINUX_IMMUTABLE in the initial user namespace, which clears the attribute
//! (CVE-2019-5736; see `sys::exe_seal`).

use oci_spec::runtime::{Capability, Process};

use crate::sys::exe_seal::BinarySeal;

use super::ContainerError;

/// Refuses, with [`ContainerError::NeedsReadOnlyBinary`], a process that an immutable
/// binary does not protect against: one whose bounding set has CAP_LINUX_IMMUTABLE (or
/// says nothing of it) outside a user namespace of its own. The caller then re-executes
/// from a read-only mount and tries again, before anything exists.
pub(super) fn check(seal: BinarySeal, process: &Process, in_user_namespace: bool) -> Result<(), ContainerError> {
    if seal == BinarySeal::Sealed || in_user_namespace || !may_hold_cap_linux_immutable(process) {
        return Ok(());
    }
    Err(ContainerError::NeedsReadOnlyBinary)
}

/// Whether `process` may ever hold CAP_LINUX_IMMUTABLE: it is in its bounding set, or the
/// process has no capability sets at all (counted as possible rather than read as runc's
/// empty sets).
fn may_hold_cap_linux_immutable(process: &Process) -> bool {
    match process.capabilities().as_ref().and_then(|caps| caps.bounding().as_ref()) {
        Some(bounding) => bounding.contains(&Capability::LinuxImmutable),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxCapabilitiesBuilder;

    fn process(bounding: Option<&[Capability]>) -> Process {
        let mut process = Process::default();
        let caps = bounding.map(|b| LinuxCapabilitiesBuilder::default().bounding(b.iter().copied().collect::<std::collections::HashSet<_>>()).build().unwrap());
        process.set_capabilities(caps);
        process
    }

    #[test]
    fn an_immutable_binary_serves_processes_without_cap_linux_immutable() {
        let plain = process(Some(&[Capability::Chown, Capability::NetBindService]));
        assert!(check(BinarySeal::Immutable, &plain, false).is_ok());
        let holder = process(Some(&[Capability::Chown, Capability::LinuxImmutable]));
        assert!(matches!(check(BinarySeal::Immutable, &holder, false), Err(ContainerError::NeedsReadOnlyBinary)));
        // Without capability sets, possible: refused.
        let mut bare = Process::default();
        bare.set_capabilities(None);
        assert!(matches!(check(BinarySeal::Immutable, &bare, false), Err(ContainerError::NeedsReadOnlyBinary)));
    }

    #[test]
    fn a_sealed_binary_or_a_user_namespace_needs_no_check() {
        let holder = process(Some(&[Capability::LinuxImmutable]));
        assert!(check(BinarySeal::Sealed, &holder, false).is_ok());
        // In a user namespace of its own, the capability is that namespace's.
        assert!(check(BinarySeal::Immutable, &holder, true).is_ok());
    }
}
