//! `linux.netDevices`: host interfaces moved into the container's network namespace, renamed
//! as asked, with their permanent global addresses, and up (runtime-spec 1.3). Nothing moves
//! them back: as the spec says, the kernel returns a physical device to the host's namespace
//! when the container's goes, and destroys a virtual one.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use oci_spec::runtime::LinuxNetDevice;

use super::SysError;
use super::netlink::{Netlink, interface_index, is_valid_interface_name};

/// The moves to make, sorted by host name: (host name, name in the container).
pub fn plan_moves(devices: &HashMap<String, LinuxNetDevice>) -> Result<Vec<(String, String)>, String> {
    let mut moves: Vec<(String, String)> =
        devices.iter().map(|(host, device)| (host.clone(), device.name().clone().filter(|n| !n.is_empty()).unwrap_or_else(|| host.clone()))).collect();
    moves.sort();
    for (host, name) in &moves {
        if !is_valid_interface_name(host) {
            return Err(format!("{host:?} is not an interface name"));
        }
        if !is_valid_interface_name(name) {
            return Err(format!("{host}: {name:?} is not an interface name (1 to 15 bytes, no '/', ':' or blanks)"));
        }
    }
    for (i, (_, name)) in moves.iter().enumerate() {
        if !name.contains("%d") && moves[..i].iter().any(|(_, other)| other == name) {
            return Err(format!("two devices would be named {name:?} in the container"));
        }
    }
    Ok(moves)
}

/// Whether every host device of `moves` exists: checked before anything is created.
pub fn check_present(moves: &[(String, String)]) -> Result<(), SysError> {
    moves.iter().try_for_each(|(host, _)| interface_index(host).map(drop).map_err(|e| e.within("linux.netDevices")))
}

/// Run `work` inside the network namespace `namespace`, then come back. The runtime is
/// single-threaded, so the switch is the whole process's.
fn in_namespace<T>(namespace: BorrowedFd, work: impl FnOnce() -> Result<T, SysError>) -> Result<T, SysError> {
    let own: OwnedFd = super::open_fd(std::path::Path::new("/proc/thread-self/ns/net"), nix::fcntl::OFlag::O_RDONLY, "open")?;
    nix::sched::setns(namespace, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|errno| SysError::new("setns", "the container's network namespace", errno))?;
    let result = work();
    nix::sched::setns(own.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|errno| SysError::new("setns", "back to the runtime's network namespace", errno))?;
    result
}

/// Move each device into the network namespace at `namespace` (`/proc/<init>/ns/net`, or
/// the path of a joined one).
pub fn move_devices(moves: &[(String, String)], namespace: &std::path::Path) -> Result<(), SysError> {
    if moves.is_empty() {
        return Ok(());
    }
    let namespace = super::open_fd(namespace, nix::fcntl::OFlag::O_RDONLY, "open")?;
    let mut host = Netlink::open()?;
    for (host_name, name) in moves {
        let entry = format!("linux.netDevices[{host_name}]");
        let index = interface_index(host_name).map_err(|e| e.within(&entry))?;
        host.set_up(index, host_name, false).map_err(|e| e.within(&entry))?;
        // A `%d` name is the kernel's pick: move under a name of our own, find the device by
        // it, then rename it by the pattern.
        let moved_as = if name.contains("%d") { format!("skiffmv{index}") } else { name.clone() };
        let moved = host.addresses(index, host_name).and_then(|addresses| {
            host.move_to(index, host_name, &moved_as, namespace.as_fd())?;
            Ok(addresses)
        });
        let addresses = match moved {
            Ok(addresses) => addresses,
            Err(error) => {
                // Still on the host: give it back as it was.
                let _ = host.set_up(index, host_name, true);
                return Err(error.within(&entry));
            }
        };
        in_namespace(namespace.as_fd(), || {
            let mut inside = Netlink::open()?;
            let moved = interface_index(&moved_as)?;
            if moved_as != *name {
                inside.rename(moved, &moved_as, name)?;
            }
            for address in &addresses {
                inside.add_address(moved, name, address)?;
            }
            inside.set_up(moved, name, true)
        })
        .map_err(|e| e.within(&entry))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devices(json: &str) -> HashMap<String, LinuxNetDevice> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn moves_are_planned_and_checked() {
        let moves = plan_moves(&devices(r#"{"vb": {}, "va": {"name": "eth1"}, "vc": {"name": ""}}"#)).unwrap();
        assert_eq!(moves, vec![("va".into(), "eth1".into()), ("vb".into(), "vb".into()), ("vc".into(), "vc".into())]);
        assert!(plan_moves(&devices(r#"{"va": {"name": "a/b"}}"#)).unwrap_err().contains("is not an interface name"));
        assert!(plan_moves(&devices(r#"{"va": {"name": "x"}, "vb": {"name": "x"}}"#)).unwrap_err().contains("two devices"));
        assert!(plan_moves(&devices(r#"{"va": {"name": "n%d"}, "vb": {"name": "n%d"}}"#)).is_ok());
        assert!(plan_moves(&devices(r#"{"a234567890123456": {}}"#)).is_err());
    }
}
