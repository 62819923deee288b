//! config.json: decoded with `skiff::bundle::parse_config`, then everything the runtime
//! checks and computes from it before touching the system: `Bundle::from_spec` (against a
//! bundle directory with an empty `rootfs/`), the seccomp profile compiled to BPF by
//! libseccomp (not loaded), the device cgroup rules, the resources as cgroup writes, and the
//! pure conversions of capabilities, device nodes, mount options and id mappings.

#![no_main]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use caps::CapsHashSet;
use libfuzzer_sys::fuzz_target;
use skiff::bundle::{Bundle, parse_config};
use skiff::rootfs::{self, devices, mount_options};
use skiff::sys::{capabilities, idmap, process_attrs, sysctl};

/// A bundle directory for this process, made once: `rootfs/`, empty. config.json is never
/// written: `Bundle::from_spec` takes the parsed spec (what `Bundle::load` does after
/// reading the file).
fn bundle_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("skiff-fuzz-config.{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rootfs")).expect("create the fuzz bundle directory");
        std::fs::canonicalize(&dir).expect("canonicalize the fuzz bundle directory")
    })
}

fn supported_capabilities() -> &'static CapsHashSet {
    static SUPPORTED: OnceLock<CapsHashSet> = OnceLock::new();
    SUPPORTED.get_or_init(capabilities::supported_capabilities)
}

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = parse_config(data) else { return };
    let dir = bundle_dir();

    if let Some(root) = spec.root() {
        let _ = rootfs::absolute_rootfs(dir, root.path());
    }
    if let Some(process) = spec.process() {
        let _ = capabilities::plan_capabilities(process.capabilities().as_ref(), supported_capabilities());
    }
    for mount in spec.mounts().as_deref().unwrap_or_default() {
        let options = mount_options::parse_mount_options(mount.options().as_deref().unwrap_or_default());
        let _ = options.data_string();
        let _ = options.is_bind();
    }
    if let Some(linux) = spec.linux() {
        let _ = devices::devices_to_create(linux.devices().as_deref().unwrap_or_default());
        let _ = idmap::map_text(linux.uid_mappings().as_deref().unwrap_or_default());
        let _ = idmap::map_text(linux.gid_mappings().as_deref().unwrap_or_default());
        if let Some(offsets) = linux.time_offsets() {
            let _ = process_attrs::timens_offsets(offsets);
        }
        for key in linux.sysctl().iter().flat_map(|s| s.keys()) {
            let _ = sysctl::namespace_of(key);
            let _ = sysctl::proc_path(key);
        }
        if let Some(profile) = linux.seccomp() {
            // Compiled to BPF by libseccomp, not loaded.
            let _ = skiff::seccomp::compile(profile, &skiff::trace::Silent);
        }
        if let Some(resources) = linux.resources() {
            common::resources(resources);
        }
    }
    common::device_rules(&spec);

    if let Ok(bundle) = Bundle::from_spec(dir.clone(), spec) {
        assert!(bundle.rootfs().is_absolute());
        let _ = bundle.process();
        let _ = bundle.annotations();
        let _ = bundle.rootfs_propagation();
    }
});
