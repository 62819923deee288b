//! `linux.sysctl`: checked against the container's namespaces (as runc checks them), then
//! written through the container's own procfs.

use std::collections::HashMap;

use oci_spec::runtime::LinuxNamespaceType;

use super::namespaces::NamespacePlan;

/// IPC sysctls that belong to the ipc namespace (besides `fs.mqueue.*`).
const IPC_SYSCTLS: &[&str] =
    &["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

/// The namespace a sysctl belongs to, if any.
pub fn namespace_of(key: &str) -> Option<LinuxNamespaceType> {
    if IPC_SYSCTLS.contains(&key) || key.starts_with("fs.mqueue.") {
        return Some(LinuxNamespaceType::Ipc);
    }
    if key.starts_with("net.") {
        return Some(LinuxNamespaceType::Network);
    }
    if key == "kernel.hostname" || key == "kernel.domainname" {
        return Some(LinuxNamespaceType::Uts);
    }
    None
}

/// Refuse sysctls outside the container's namespaces: they would change the host.
pub fn validate_sysctls(sysctls: &HashMap<String, String>, namespaces: &NamespacePlan) -> Result<(), String> {
    let mut keys: Vec<&String> = sysctls.keys().collect();
    keys.sort();
    for key in keys {
        if key.contains('/') || key.contains("..") || key.is_empty() {
            return Err(format!("{key:?} is not a sysctl name"));
        }
        match namespace_of(key) {
            Some(kind) if namespaces.has(kind) => {}
            Some(kind) => return Err(format!("{key} needs a {kind} namespace of the container's own")),
            None => return Err(format!("{key} is not in a separate kernel namespace; setting it would change the host")),
        }
    }
    Ok(())
}

/// `net.ipv4.ip_forward` -> `sys/net/ipv4/ip_forward` (relative to the procfs root).
pub fn proc_path(key: &str) -> String {
    format!("sys/{}", key.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::namespaces::plan_namespaces;

    #[test]
    fn namespaced_sysctls_only() {
        let plan = plan_namespaces(&serde_json::from_str::<Vec<_>>(r#"[{"type": "network"}, {"type": "ipc"}]"#).unwrap()).unwrap();
        let ok: HashMap<String, String> = [("net.ipv4.ip_forward", "1"), ("kernel.shmmax", "1"), ("fs.mqueue.msg_max", "5")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(validate_sysctls(&ok, &plan).is_ok());
        for bad in ["kernel.pid_max", "kernel.hostname", "vm.swappiness", "net/../x"] {
            let map = [(bad.to_string(), "1".to_string())].into_iter().collect();
            assert!(validate_sysctls(&map, &plan).is_err(), "{bad}");
        }
        assert_eq!(proc_path("net.ipv4.ip_forward"), "sys/net/ipv4/ip_forward");
    }
}
