//! What `features` reports: the runtime-spec features document, true to what this build
//! does.

use std::collections::HashMap;

use oci_spec::runtime::{
    ApparmorBuilder, CgroupBuilder, Features, FeaturesBuilder, IDMapBuilder, IntelRdtBuilder, LinuxFeatureBuilder, LinuxNamespaceType, MemoryPolicyBuilder,
    MountExtensionsBuilder, NetDevicesBuilder, SeccompBuilder, SelinuxBuilder,
};

use crate::rootfs::mount_options::KNOWN_OPTIONS;

/// seccomp: every action, operator and architecture the compiler maps, the flags it knows,
/// and those this kernel takes.
fn seccomp() -> Result<oci_spec::runtime::Seccomp, oci_spec::OciSpecError> {
    use crate::seccomp::flag;
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Every name below is one of oci-spec's enum spellings: none is dropped.
    fn parsed<T: std::str::FromStr>(items: &[&str]) -> Vec<T> {
        items.iter().filter_map(|s| s.parse().ok()).collect()
    }
    let known = [
        ("SECCOMP_FILTER_FLAG_TSYNC", None),
        ("SECCOMP_FILTER_FLAG_LOG", Some(flag::LOG)),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", Some(flag::SPEC_ALLOW)),
        ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", Some(flag::WAIT_KILLABLE_RECV)),
    ];
    let supported: Vec<String> =
        known.iter().filter(|(_, bit)| bit.is_none_or(crate::sys::seccomp::flag_supported)).map(|(name, _)| name.to_string()).collect();
    SeccompBuilder::default()
        .enabled(true)
        .actions(parsed::<oci_spec::runtime::LinuxSeccompAction>(&[
            "SCMP_ACT_ALLOW",
            "SCMP_ACT_ERRNO",
            "SCMP_ACT_KILL",
            "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_LOG",
            "SCMP_ACT_NOTIFY",
            "SCMP_ACT_TRACE",
            "SCMP_ACT_TRAP",
        ]))
        .operators(strings(&["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]))
        .archs(parsed::<oci_spec::runtime::Arch>(&[
            "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_ARM",
            "SCMP_ARCH_LOONGARCH64",
            "SCMP_ARCH_M68K",
            "SCMP_ARCH_MIPS",
            "SCMP_ARCH_MIPS64",
            "SCMP_ARCH_MIPS64N32",
            "SCMP_ARCH_MIPSEL",
            "SCMP_ARCH_MIPSEL64",
            "SCMP_ARCH_MIPSEL64N32",
            "SCMP_ARCH_PARISC",
            "SCMP_ARCH_PARISC64",
            "SCMP_ARCH_PPC",
            "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE",
            "SCMP_ARCH_RISCV64",
            "SCMP_ARCH_S390",
            "SCMP_ARCH_S390X",
            "SCMP_ARCH_SH",
            "SCMP_ARCH_SHEB",
            "SCMP_ARCH_X32",
            "SCMP_ARCH_X86",
            "SCMP_ARCH_X86_64",
        ]))
        .known_flags(known.iter().map(|(name, _)| name.to_string()).collect::<Vec<_>>())
        .supported_flags(supported)
        .build()
}

/// Names sorted, as runc lists them.
fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

/// The oldest runtime-spec version skiff accepts.
pub const OCI_VERSION_MIN: &str = "1.0.0";

/// The features document.
pub fn features() -> Result<Features, oci_spec::OciSpecError> {
    let mut capabilities: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    capabilities.sort();
    let namespaces = vec![
        LinuxNamespaceType::Cgroup,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Time,
        LinuxNamespaceType::User,
        LinuxNamespaceType::Uts,
    ];
    let linux = LinuxFeatureBuilder::default()
        .namespaces(namespaces)
        .capabilities(capabilities)
        .cgroup(CgroupBuilder::default().v1(true).v2(true).systemd(true).systemd_user(true).rdma(true).build()?)
        .seccomp(seccomp()?)
        // Plumbed (src/linux/lsm.rs); a label on a host without the module is refused.
        .apparmor(ApparmorBuilder::default().enabled(true).build()?)
        .selinux(SelinuxBuilder::default().enabled(true).build()?)
        // Supported by this build; a host without resctrl gets a clear error at create.
        .intel_rdt(IntelRdtBuilder::default().enabled(true).schemata(true).monitoring(true).build()?)
        .memory_policy(
            MemoryPolicyBuilder::default()
                .modes(sorted(&[
                    "MPOL_DEFAULT",
                    "MPOL_BIND",
                    "MPOL_INTERLEAVE",
                    "MPOL_WEIGHTED_INTERLEAVE",
                    "MPOL_PREFERRED",
                    "MPOL_PREFERRED_MANY",
                    "MPOL_LOCAL",
                ]))
                .flags(sorted(&["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]))
                .build()?,
        )
        .net_devices(NetDevicesBuilder::default().enabled(true).build()?)
        .mount_extensions(MountExtensionsBuilder::default().idmap(IDMapBuilder::default().enabled(true).build()?).build()?)
        .build()?;
    // runc announces checkpoint/restore (CRIU) by this annotation; skiff has both. The wasm
    // annotations (crun's) list the values that select skiff's wasm handler.
    let annotations: HashMap<String, String> = [
        ("io.github.skiff.version", env!("CARGO_PKG_VERSION")),
        ("org.opencontainers.runc.checkpoint.enabled", "true"),
        (crate::wasm::HANDLER_ANNOTATION, "wasm,wasm-smart"),
        (crate::wasm::VARIANT_ANNOTATION, "compat,compat-smart"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    FeaturesBuilder::default()
        .oci_version_min(OCI_VERSION_MIN)
        .oci_version_max(crate::bundle::OCI_VERSION)
        .hooks(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].map(String::from).to_vec())
        .mount_options(KNOWN_OPTIONS.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .linux(linux)
        .annotations(annotations)
        // The systemd driver passes these to systemd as unit properties (as runc does).
        .potentially_unsafe_config_annotations(vec![crate::cgroups::systemd::properties::ANNOTATION_PREFIX.to_string()])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_true_to_the_build() {
        let json = serde_json::to_value(features().unwrap()).unwrap();
        assert_eq!(json["ociVersionMax"], crate::bundle::OCI_VERSION);
        assert_eq!(json["hooks"].as_array().unwrap().len(), 6);
        assert_eq!(json["linux"]["seccomp"]["enabled"], true);
        assert!(json["linux"]["seccomp"]["actions"].as_array().unwrap().contains(&serde_json::json!("SCMP_ACT_NOTIFY")));
        assert_eq!(json["linux"]["seccomp"]["actions"].as_array().unwrap().len(), 9);
        assert_eq!(json["linux"]["seccomp"]["archs"].as_array().unwrap().len(), 23);
        assert!(json["linux"]["seccomp"]["supportedFlags"].as_array().unwrap().contains(&serde_json::json!("SECCOMP_FILTER_FLAG_LOG")));
        assert_eq!(json["linux"]["cgroup"]["v2"], true);
        assert_eq!(json["linux"]["cgroup"]["systemd"], true);
        assert_eq!(json["potentiallyUnsafeConfigAnnotations"], serde_json::json!(["org.systemd.property."]));
        assert_eq!(json["linux"]["mountExtensions"]["idmap"]["enabled"], true);
        assert_eq!(json["linux"]["memoryPolicy"]["modes"].as_array().unwrap().len(), 7);
        assert_eq!(json["linux"]["memoryPolicy"]["modes"][0], "MPOL_BIND");
        assert_eq!(json["linux"]["memoryPolicy"]["flags"], serde_json::json!(["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]));
        assert_eq!(json["linux"]["netDevices"]["enabled"], true);
        assert_eq!(json["linux"]["intelRdt"], serde_json::json!({"enabled": true, "schemata": true, "monitoring": true}));
        assert_eq!(json["linux"]["cgroup"], serde_json::json!({"v1": true, "v2": true, "systemd": true, "systemdUser": true, "rdma": true}));
        assert!(json["mountOptions"].as_array().unwrap().contains(&serde_json::json!("rro")));
        assert!(json["linux"]["capabilities"].as_array().unwrap().contains(&serde_json::json!("CAP_SYS_ADMIN")));
    }
}
