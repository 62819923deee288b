//! AppArmor and SELinux: the label a container's process execs into, and the SELinux
//! context of its mounts. Plumbed as runc does; refused with a clear error on a host
//! without the module, since a container that asked for confinement must not run without it.

use std::path::Path;

use super::SysError;
use super::procfs::ProcFs;

/// The modules that label processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lsm {
    /// AppArmor: `process.apparmorProfile`.
    AppArmor,
    /// SELinux: `process.selinuxLabel`, `linux.mountLabel`.
    SELinux,
}

impl Lsm {
    /// Whether the running kernel enforces this module.
    pub fn enabled(self) -> bool {
        match self {
            // The module's own switch (what runc and libapparmor read).
            Lsm::AppArmor => std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|v| v.starts_with('Y')),
            // selinuxfs is mounted where the kernel puts it when SELinux is on.
            Lsm::SELinux => Path::new("/sys/fs/selinux/enforce").exists(),
        }
    }
}

/// The text to write to `attr/apparmor/exec` (or `attr/exec`) so the next exec changes to
/// `profile`.
pub fn apparmor_exec_request(profile: &str) -> String {
    format!("exec {profile}")
}

/// Ask the kernel to put the next exec of this process under `apparmor` and/or `selinux`,
/// through the container's verified procfs (a fake /proc in the image cannot absorb the
/// write: CVE-2019-16884). `pid` is our pid in the container's procfs.
pub fn label_next_exec(pid: i32, apparmor: Option<&str>, selinux: Option<&str>) -> Result<(), SysError> {
    if apparmor.is_none() && selinux.is_none() {
        return Ok(());
    }
    let proc = ProcFs::open(Path::new("/proc"))?;
    if let Some(profile) = apparmor {
        let request = apparmor_exec_request(profile);
        // Kernels with LSM stacking have the AppArmor-specific file; older ones only attr/exec.
        proc.write(&format!("{pid}/attr/apparmor/exec"), &request).or_else(|_| proc.write(&format!("{pid}/attr/exec"), &request))?;
    }
    if let Some(label) = selinux {
        proc.write(&format!("{pid}/attr/exec"), label)?;
    }
    Ok(())
}

/// Mount data with the SELinux `context=` option for `label` added, as runc formats it.
pub fn with_mount_label(data: Option<&str>, label: &str) -> String {
    match data {
        Some(data) if !data.is_empty() => format!("{data},context=\"{label}\""),
        _ => format!("context=\"{label}\""),
    }
}

/// Whether a mount of `fs_type` gets `linux.mountLabel` (runc labels tmpfs and other new
/// filesystems; proc, sysfs, mqueue, cgroup and bind mounts keep their own labels).
pub fn takes_mount_label(fs_type: &str, bind: bool) -> bool {
    !bind && !matches!(fs_type, "proc" | "sysfs" | "mqueue" | "cgroup" | "cgroup2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apparmor_request_and_mount_labels_are_formatted_as_runc_does() {
        assert_eq!(apparmor_exec_request("docker-default"), "exec docker-default");
        let label = "system_u:object_r:container_file_t:s0:c1,c2";
        assert_eq!(with_mount_label(Some("mode=755,size=65536k"), label), format!("mode=755,size=65536k,context=\"{label}\""));
        assert_eq!(with_mount_label(None, label), format!("context=\"{label}\""));
        assert!(takes_mount_label("tmpfs", false));
        assert!(takes_mount_label("devpts", false));
        assert!(!takes_mount_label("proc", false));
        assert!(!takes_mount_label("mqueue", false));
        assert!(!takes_mount_label("none", true));
    }

    #[test]
    fn labels_are_written_to_the_process_attr_files_through_procfs() {
        // Without the module the kernel refuses the write; the error shows which file was
        // tried last: AppArmor falls back from attr/apparmor/exec to attr/exec.
        let pid = std::process::id() as i32;
        if !Lsm::AppArmor.enabled() {
            let error = label_next_exec(pid, Some("docker-default"), None).unwrap_err().to_string();
            assert!(error.contains(&format!("\"exec docker-default\" to /proc/{pid}/attr/exec")), "{error}");
        }
        if !Lsm::SELinux.enabled() {
            let error = label_next_exec(pid, None, Some("system_u:system_r:container_t:s0")).unwrap_err().to_string();
            assert!(error.contains(&format!("to /proc/{pid}/attr/exec")), "{error}");
        }
        assert!(label_next_exec(pid, None, None).is_ok(), "nothing asked, nothing written");
    }
}
