//! The configuration `spec` writes: the same as `runc spec` (and `runc spec --rootless`).

use serde_json::{Value, json};

/// The default config.json for a bundle with `rootfs/`.
pub fn default_spec() -> Value {
    json!({
        "ociVersion": crate::bundle::OCI_VERSION,
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// The rootless variant, as `runc spec --rootless` makes it for the calling user: a user
/// namespace mapping them to root, no network namespace, `/sys` bound from the host, no
/// devpts `gid=5` and no device cgroup rules.
pub fn rootless_spec(uid: u32, gid: u32) -> Value {
    let mut spec = default_spec();
    let linux = &mut spec["linux"];
    if let Some(linux) = linux.as_object_mut() {
        linux.remove("resources");
        linux.insert("uidMappings".into(), json!([{"containerID": 0, "hostID": uid, "size": 1}]));
        linux.insert("gidMappings".into(), json!([{"containerID": 0, "hostID": gid, "size": 1}]));
    }
    if let Some(namespaces) = spec["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|ns| ns["type"] != "network");
        namespaces.push(json!({"type": "user"}));
    }
    if let Some(mounts) = spec["mounts"].as_array_mut() {
        for mount in mounts.iter_mut() {
            if mount["destination"] == "/dev/pts"
                && let Some(options) = mount["options"].as_array_mut()
            {
                options.retain(|o| o != "gid=5");
            }
            if mount["destination"] == "/sys" {
                *mount = json!({"destination": "/sys", "type": "none", "source": "/sys",
                                "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Spec;

    #[test]
    fn both_specs_are_valid_oci_configs() {
        for spec in [default_spec(), rootless_spec(1000, 1000)] {
            let parsed: Spec = serde_json::from_value(spec).unwrap();
            assert!(parsed.process().is_some());
        }
    }

    #[test]
    fn rootless_maps_the_user_and_drops_the_network_namespace() {
        let spec = rootless_spec(1000, 100);
        assert_eq!(spec["linux"]["uidMappings"][0]["hostID"], 1000);
        assert_eq!(spec["linux"]["gidMappings"][0]["hostID"], 100);
        let types: Vec<_> = spec["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].clone()).collect();
        assert!(!types.contains(&json!("network")) && types.contains(&json!("user")));
    }
}
