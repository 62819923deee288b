//! What `features` reports: the runtime-spec features document, true to what this build
//! does (seccomp and LSMs are false until they exist).

#![forbid(unsafe_code)]

use std::collections::HashMap;

use oci_spec::runtime::{
    ApparmorBuilder, CgroupBuilder, Features, FeaturesBuilder, IDMapBuilder, IntelRdtBuilder, LinuxFeatureBuilder,
    LinuxNamespaceType, MountExtensionsBuilder, SeccompBuilder, SelinuxBuilder,
};

use crate::linux::mount_options::KNOWN_OPTIONS;

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
        .cgroup(CgroupBuilder::default().v1(true).v2(true).systemd(false).systemd_user(false).rdma(true).build()?)
        .seccomp(SeccompBuilder::default().enabled(false).build()?)
        .apparmor(ApparmorBuilder::default().enabled(false).build()?)
        .selinux(SelinuxBuilder::default().enabled(false).build()?)
        .intel_rdt(IntelRdtBuilder::default().enabled(false).build()?)
        .mount_extensions(MountExtensionsBuilder::default().idmap(IDMapBuilder::default().enabled(true).build()?).build()?)
        .build()?;
    let annotations: HashMap<String, String> =
        [("io.github.skiff.version".to_string(), env!("CARGO_PKG_VERSION").to_string())].into_iter().collect();
    FeaturesBuilder::default()
        .oci_version_min(OCI_VERSION_MIN)
        .oci_version_max(crate::OCI_VERSION)
        .hooks(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].map(String::from).to_vec())
        .mount_options(KNOWN_OPTIONS.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .linux(linux)
        .annotations(annotations)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_true_to_the_build() {
        let json = serde_json::to_value(features().unwrap()).unwrap();
        assert_eq!(json["ociVersionMax"], crate::OCI_VERSION);
        assert_eq!(json["hooks"].as_array().unwrap().len(), 6);
        assert_eq!(json["linux"]["seccomp"]["enabled"], false);
        assert_eq!(json["linux"]["cgroup"]["v2"], true);
        assert_eq!(json["linux"]["mountExtensions"]["idmap"]["enabled"], true);
        assert!(json["mountOptions"].as_array().unwrap().contains(&serde_json::json!("rro")));
        assert!(json["linux"]["capabilities"].as_array().unwrap().contains(&serde_json::json!("CAP_SYS_ADMIN")));
    }
}
