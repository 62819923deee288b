//! Loading a bundle: `config.json` into the oci-spec types, the rootfs resolved, and every
//! check that can be made before anything on the system is touched.

use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Process, Spec};

use crate::rootfs::mount_options::parse_propagation;
use crate::sys::lsm::Lsm;
use crate::sys::namespaces::{NamespaceError, NamespacePlan, plan_namespaces};
use crate::sys::process_attrs::timens_offsets;
use crate::sys::sysctl::validate_sysctls;

/// The runtime-spec version skiff implements.
pub const OCI_VERSION: &str = "1.3.0";

/// The name of the configuration file inside a bundle.
pub const CONFIG_FILE: &str = "config.json";

/// Why a bundle cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle directory or config.json cannot be read.
    #[error("read {path}")]
    Read {
        /// What we tried to read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// config.json is not valid JSON for the spec.
    #[error("parse {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The decoder's message, with line and column.
        reason: String,
    },
    /// The rootfs cannot be resolved: the I/O error says why.
    #[error("root.path: rootfs {path}")]
    Rootfs {
        /// The rootfs as the config names it (made absolute).
        path: PathBuf,
        /// The error, with its errno.
        #[source]
        source: std::io::Error,
    },
    /// A field has a value the runtime refuses.
    #[error("{field}: {reason}")]
    Invalid {
        /// The config field, as a JSON path (`process.args`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The namespace list is inconsistent.
    #[error(transparent)]
    Namespaces(#[from] NamespaceError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> BundleError {
    BundleError::Invalid { field, reason: reason.into() }
}

/// A loaded, validated bundle.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    spec: Spec,
    rootfs: PathBuf,
    namespaces: NamespacePlan,
    rootfs_propagation: MsFlags,
    net_device_moves: Vec<(String, String)>,
    /// What the runtime logs as warnings: capability names it skipped, ambient
    /// capabilities it cannot raise.
    warnings: Vec<String>,
}

impl Bundle {
    /// Load and validate the bundle in `dir`.
    pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
        let dir = std::fs::canonicalize(dir).map_err(|source| BundleError::Read { path: dir.to_path_buf(), source })?;
        let config_path = dir.join(CONFIG_FILE);
        let bytes = std::fs::read(&config_path).map_err(|source| BundleError::Read { path: config_path.clone(), source })?;
        let (spec, skipped) = parse_config_skipping_unknown_capabilities(&bytes).map_err(|reason| BundleError::Parse { path: config_path, reason })?;
        let mut bundle = Bundle::from_spec(dir, spec)?;
        if !skipped.is_empty() {
            // runc 1.5's words.
            bundle.warnings.insert(0, format!("ignoring unknown or unavailable capabilities: [{}]", skipped.join(" ")));
        }
        Ok(bundle)
    }

    /// Validate an already parsed spec for the bundle directory `dir` (absolute).
    pub fn from_spec(dir: PathBuf, mut spec: Spec) -> Result<Bundle, BundleError> {
        validate_version(spec.version())?;
        let root = spec.root().as_ref().ok_or_else(|| invalid("root", "is required"))?;
        if root.path().as_os_str().is_empty() {
            return Err(invalid("root.path", "is required"));
        }
        let rootfs_config = if root.path().is_absolute() { root.path().clone() } else { dir.join(root.path()) };
        let rootfs = std::fs::canonicalize(&rootfs_config).map_err(|source| BundleError::Rootfs { path: rootfs_config.clone(), source })?;
        if !rootfs.is_dir() {
            return Err(invalid("root.path", format!("rootfs {} is not a directory", rootfs.display())));
        }
        let process = spec.process().as_ref().ok_or_else(|| invalid("process", "is required to create a container"))?;
        validate_process(process)?;
        let linux = spec.linux().as_ref().ok_or_else(|| invalid("linux", "is required on Linux"))?;
        refuse_unsupported(process)?;
        let namespaces = plan_namespaces(linux.namespaces().as_deref().unwrap_or_default())?;
        // Without a mount namespace the rootfs is set up in the runtime's own (runc's rule):
        // nothing there could hide the paths asked to be masked or made read-only.
        let restricts = |paths: &Option<Vec<String>>| paths.as_ref().is_some_and(|p| !p.is_empty());
        if !namespaces.has(LinuxNamespaceType::Mount) && (restricts(linux.masked_paths()) || restricts(linux.readonly_paths())) {
            return Err(invalid(
                "linux.maskedPaths",
                "unable to restrict sys entries without a private MNT namespace: add {\"type\": \"mount\"} to linux.namespaces, or empty maskedPaths and readonlyPaths",
            ));
        }
        if spec.hostname().as_deref().is_some_and(|h| !h.is_empty()) && !namespaces.has(LinuxNamespaceType::Uts) {
            return Err(invalid(
                "hostname",
                "cannot set a hostname without a private uts namespace: add {\"type\": \"uts\"} to linux.namespaces, or remove hostname",
            ));
        }
        let has_mappings = linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty());
        if namespaces.creates(LinuxNamespaceType::User) && !has_mappings {
            return Err(invalid(
                "linux.uidMappings",
                "a new user namespace needs uid and gid mappings: add linux.uidMappings and linux.gidMappings, or join a user namespace by path",
            ));
        }
        if has_mappings && !namespaces.has(LinuxNamespaceType::User) {
            return Err(invalid(
                "linux.uidMappings",
                "mappings are given but there is no user namespace: add {\"type\": \"user\"} to linux.namespaces, or remove the mappings",
            ));
        }
        let net_device_moves = plan_net_devices(linux, &namespaces)?;
        if let Some(policy) = linux.memory_policy() {
            crate::sys::placement::memory_policy_arguments(policy).map_err(|reason| invalid("linux.memoryPolicy", reason))?;
        }
        if let Some(sysctls) = linux.sysctl() {
            validate_sysctls(sysctls, &namespaces).map_err(|reason| invalid("linux.sysctl", reason))?;
        }
        if let Some(offsets) = linux.time_offsets() {
            if !namespaces.creates(LinuxNamespaceType::Time) {
                return Err(invalid("linux.timeOffsets", "needs a new time namespace: add {\"type\": \"time\"} to linux.namespaces"));
            }
            timens_offsets(offsets).map_err(|reason| invalid("linux.timeOffsets", reason))?;
        }
        if spec.domainname().as_deref().is_some_and(|d| !d.is_empty()) && !namespaces.has(LinuxNamespaceType::Uts) {
            return Err(invalid(
                "domainname",
                "cannot set a domain name without a private uts namespace: add {\"type\": \"uts\"} to linux.namespaces, or remove domainname",
            ));
        }
        if let Some(score) = process.oom_score_adj()
            && !(-1000..=1000).contains(&score)
        {
            return Err(invalid("process.oomScoreAdj", format!("{score} is outside -1000..1000")));
        }
        let rootfs_propagation = match linux.rootfs_propagation().as_deref() {
            None | Some("") => MsFlags::MS_SLAVE | MsFlags::MS_REC,
            Some(name) => parse_propagation(name).ok_or_else(|| invalid("linux.rootfsPropagation", format!("unknown propagation {name:?}")))?,
        };
        for mount in spec.mounts().as_deref().unwrap_or_default() {
            validate_idmap(mount, linux)?;
        }
        let mut warnings = crate::sys::capabilities::ambient_warnings(process.capabilities().as_ref());
        if let Some(mounts) = spec.mounts_mut() {
            warnings.extend(mounts.iter_mut().filter_map(|mount| normalize_destination(mount, &rootfs_config, &rootfs)));
        }
        Ok(Bundle { dir, spec, rootfs, namespaces, rootfs_propagation, net_device_moves, warnings })
    }

    /// Whether `path` (absolute, on the host) lies in the rootfs, lexically: a mount source
    /// there may be under the container's own earlier mounts.
    pub fn in_rootfs(&self, path: &Path) -> bool {
        path.starts_with(&self.rootfs)
    }

    /// The bundle directory (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Warnings for the caller to log (runc logs the same ones).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The parsed config.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The rootfs, absolute with symlinks resolved (on the host, where the bundle lives).
    pub fn rootfs(&self) -> &Path {
        &self.rootfs
    }

    /// The process section (present: checked by validation).
    pub fn process(&self) -> &Process {
        // Invariant: from_spec refuses a spec without a process.
        self.spec.process().as_ref().expect("validated bundle has a process")
    }

    /// Which namespaces to create and join.
    pub fn namespaces(&self) -> &NamespacePlan {
        &self.namespaces
    }

    /// Propagation for `/` in the container's mount namespace.
    pub fn rootfs_propagation(&self) -> MsFlags {
        self.rootfs_propagation
    }

    /// `linux.mountLabel` as init applies it: `None` when unset, and on a host without SELinux,
    /// where mounts carry no labels (what runc's label library and crun do).
    pub fn mount_label(&self) -> Option<&str> {
        self.configured_mount_label().filter(|_| Lsm::SELinux.enabled())
    }

    /// `linux.mountLabel` as configured (non-empty), applied or not.
    pub fn configured_mount_label(&self) -> Option<&str> {
        self.spec.linux().as_ref().and_then(|l| l.mount_label().as_deref()).filter(|l| !l.is_empty())
    }

    /// `linux.netDevices` as moves (host name, name in the container), sorted; checked at load.
    pub fn net_device_moves(&self) -> &[(String, String)] {
        &self.net_device_moves
    }

    /// The annotations, for the state.
    pub fn annotations(&self) -> std::collections::HashMap<String, String> {
        self.spec.annotations().clone().unwrap_or_default()
    }
}

/// Decode config.json. A type error names the field's path (`linux.resources.memory.limit:
/// invalid type: string "1g", expected i64 at line 5 column 20`); a syntax error keeps
/// serde's line and column alone.
pub fn parse_config(bytes: &[u8]) -> Result<Spec, String> {
    serde_json::from_slice(bytes).map_err(|e| crate::json_path::describe(bytes, &e))
}

/// [`parse_config`], except that capability names no kernel knows are left out of
/// `process.capabilities` (returned, sorted) instead of failing the parse: runc 1.5 skips
/// them with a warning, so that a config written for a newer kernel still runs. The typed
/// parse is tried first; only a config that fails it is read again. A bad memory policy is
/// refused in runc's words.
pub fn parse_config_skipping_unknown_capabilities(bytes: &[u8]) -> Result<(Spec, Vec<String>), String> {
    let error = match serde_json::from_slice(bytes) {
        Ok(spec) => return Ok((spec, Vec::new())),
        Err(error) => error,
    };
    let describe = || crate::json_path::describe(bytes, &error);
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return Err(describe()) };
    if let Some(reason) = value.pointer("/linux/memoryPolicy").and_then(memory_policy_refusal) {
        return Err(reason);
    }
    let respelled = value.get_mut("process").is_some_and(respell_scheduler_flags);
    let mut skipped = std::collections::BTreeSet::new();
    if let Some(sets) = value.pointer_mut("/process/capabilities").and_then(serde_json::Value::as_object_mut) {
        for names in sets.values_mut().filter_map(serde_json::Value::as_array_mut) {
            names.retain(|name| {
                let known = serde_json::from_value::<oci_spec::runtime::Capability>(name.clone()).is_ok();
                if !known {
                    skipped.insert(name.as_str().map(str::to_string).unwrap_or_else(|| name.to_string()));
                }
                known
            });
        }
    }
    if skipped.is_empty() && !respelled {
        return Err(describe());
    }
    let spec = serde_json::from_value(value).map_err(|_| describe())?;
    Ok((spec, skipped.into_iter().collect()))
}

/// The runtime-spec's names of `scheduler.flags` that oci-spec 0.10 spells otherwise
/// (`SCHED_FLAG_RESET_ON_FORK` as `SCHED_RESET_ON_FORK`, `SCHED_FLAG_DL_OVERRUN` as
/// `SCHED_FLAG_D_L_OVERRUN`), respelled in `process` (a JSON process object) for its types.
/// Returns whether any was.
pub fn respell_scheduler_flags(process: &mut serde_json::Value) -> bool {
    let Some(flags) = process.pointer_mut("/scheduler/flags").and_then(serde_json::Value::as_array_mut) else { return false };
    let mut changed = false;
    for flag in flags.iter_mut() {
        let respelled = match flag.as_str() {
            Some("SCHED_FLAG_RESET_ON_FORK") => "SCHED_RESET_ON_FORK",
            Some("SCHED_FLAG_DL_OVERRUN") => "SCHED_FLAG_D_L_OVERRUN",
            _ => continue,
        };
        *flag = respelled.into();
        changed = true;
    }
    changed
}

/// runc 1.5's refusal of a `linux.memoryPolicy` whose mode or a flag is not a name it
/// knows (or is missing), worded as runc words it; `None` when both are fine, so that the
/// typed parse's own message stands.
fn memory_policy_refusal(policy: &serde_json::Value) -> Option<String> {
    use oci_spec::runtime::{MemoryPolicyFlagType, MemoryPolicyModeType};
    let known_mode = |value: &serde_json::Value| serde_json::from_value::<MemoryPolicyModeType>(value.clone()).is_ok();
    let known_flag = |value: &serde_json::Value| serde_json::from_value::<MemoryPolicyFlagType>(value.clone()).is_ok();
    let text = |value: &serde_json::Value| value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    let mode = policy.get("mode").unwrap_or(&serde_json::Value::Null);
    if !known_mode(mode) {
        let shown = if mode.is_null() { String::new() } else { text(mode) };
        return Some(format!("linux.memoryPolicy: invalid memory policy mode {shown:?}"));
    }
    let flags = policy.get("flags").and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let unknown = flags.iter().find(|flag| !known_flag(flag))?;
    Some(format!("linux.memoryPolicy: invalid memory policy flag {:?}", text(unknown)))
}

/// Settings this host cannot honour are refused, never silently dropped: a container that
/// asked for an LSM label must not run without it.
fn refuse_unsupported(process: &Process) -> Result<(), BundleError> {
    let asked = |value: Option<&String>| value.is_some_and(|v| !v.is_empty());
    check_lsm(asked(process.apparmor_profile().as_ref()), Lsm::AppArmor, "process.apparmorProfile")?;
    // linux.mountLabel is not refused: without SELinux there is nothing to label, and runc's
    // label library and crun go on (see Bundle::mount_label).
    check_lsm(asked(process.selinux_label().as_ref()), Lsm::SELinux, "process.selinuxLabel")
}

/// A label for `lsm` was `asked` for: the host must have the module.
pub fn check_lsm(asked: bool, lsm: Lsm, field: &'static str) -> Result<(), BundleError> {
    if asked && !lsm.enabled() {
        let name = match lsm {
            Lsm::AppArmor => "AppArmor",
            Lsm::SELinux => "SELinux",
        };
        return Err(invalid(field, format!("a label is set but {name} is not enabled on this host")));
    }
    Ok(())
}

/// An idmapped mount (`idmap`/`ridmap`, or mappings on the mount) must be a bind mount and
/// have mappings, its own or the container's.
/// A mount destination as the container sees it, in place: a relative one is relative to
/// `/` (the runtime-spec allows it, deprecated; runc warns, in the words returned here), and
/// one lexically under the rootfs's host path (`rootfs_config` as given, `rootfs`
/// canonical) is that path within the rootfs, as runc strips it.
fn normalize_destination(mount: &mut oci_spec::runtime::Mount, rootfs_config: &Path, rootfs: &Path) -> Option<String> {
    let destination = mount.destination().clone();
    if !destination.is_absolute() {
        mount.set_destination(Path::new("/").join(&destination));
        return Some(format!(
            "mount destination {} is not absolute. Support for non-absolute mount destinations will be removed in a future release.",
            destination.display()
        ));
    }
    let inside = [rootfs, rootfs_config].into_iter().find_map(|root| destination.strip_prefix(root).ok());
    if let Some(inside) = inside {
        mount.set_destination(Path::new("/").join(inside));
    }
    None
}

fn validate_idmap(mount: &oci_spec::runtime::Mount, linux: &oci_spec::runtime::Linux) -> Result<(), BundleError> {
    let options = crate::rootfs::mount_options::parse_mount_options(mount.options().as_deref().unwrap_or_default());
    let own = mount.uid_mappings().as_ref().is_some_and(|m| !m.is_empty()) || mount.gid_mappings().as_ref().is_some_and(|m| !m.is_empty());
    if options.idmap.is_none() && !own {
        return Ok(());
    }
    let destination = mount.destination().display();
    if !(options.is_bind() || mount.typ().as_deref() == Some("bind")) {
        return Err(invalid("mounts.options", format!("{destination}: only bind mounts can be idmapped")));
    }
    let has = |own: &Option<Vec<LinuxIdMapping>>, container: &Option<Vec<LinuxIdMapping>>| {
        own.as_ref().is_some_and(|m| !m.is_empty()) || container.as_ref().is_some_and(|m| !m.is_empty())
    };
    // A user namespace joined by path brings its own maps, which the mount then takes (runc).
    let joins_user_namespace = linux.namespaces().as_deref().unwrap_or_default().iter().any(|ns| ns.typ() == LinuxNamespaceType::User && ns.path().is_some());
    let mapped = has(mount.uid_mappings(), linux.uid_mappings()) && has(mount.gid_mappings(), linux.gid_mappings());
    if !mapped && !joins_user_namespace {
        return Err(invalid(
            "mounts.uidMappings",
            format!("{destination}: an idmapped mount needs uid and gid mappings (on the mount or the container, or a user namespace joined by path)"),
        ));
    }
    Ok(())
}

fn validate_version(version: &str) -> Result<(), BundleError> {
    let mut parts = version.split('.');
    let major = parts.next().and_then(|m| m.parse::<u32>().ok());
    let minor = parts.next().and_then(|m| m.split('-').next()?.parse::<u32>().ok());
    match (major, minor) {
        (Some(1), Some(_)) => Ok(()),
        _ if version.is_empty() => Err(invalid("ociVersion", "is required")),
        _ => Err(invalid("ociVersion", format!("{version:?} is not a supported 1.x version (skiff implements {})", OCI_VERSION))),
    }
}

/// `linux.netDevices` as moves: names the kernel takes, and a network namespace for them whose
/// identity is settled when init is cloned (the runtime moves them before init proceeds).
fn plan_net_devices(linux: &oci_spec::runtime::Linux, namespaces: &NamespacePlan) -> Result<Vec<(String, String)>, BundleError> {
    let Some(devices) = linux.net_devices().as_ref().filter(|d| !d.is_empty()) else { return Ok(Vec::new()) };
    let moves = crate::sys::net_devices::plan_moves(devices).map_err(|reason| invalid("linux.netDevices", reason))?;
    if !namespaces.has(LinuxNamespaceType::Network) {
        return Err(invalid("linux.netDevices", "moving network devices needs a network namespace: add {\"type\": \"network\"} to linux.namespaces"));
    }
    let joins_user = namespaces.join.iter().any(|(kind, _)| *kind == LinuxNamespaceType::User);
    let joins_other = namespaces.join.iter().any(|(kind, _)| !matches!(kind, LinuxNamespaceType::Pid | LinuxNamespaceType::Time));
    if namespaces.creates(LinuxNamespaceType::Network) && (joins_user || (namespaces.creates(LinuxNamespaceType::User) && joins_other)) {
        return Err(invalid(
            "linux.netDevices",
            "not supported when the new network namespace is made after joining namespaces by path; create the namespaces instead of joining them, or join the network namespace too",
        ));
    }
    Ok(moves)
}

/// `process.execCPUAffinity` lists, checked again here: oci-spec's pattern lets a backwards
/// range (`3-1`) through.
pub fn validate_cpu_affinity(process: &Process) -> Result<(), BundleError> {
    let Some(affinity) = process.exec_cpu_affinity() else { return Ok(()) };
    for (field, list) in [("process.execCPUAffinity.initial", affinity.initial()), ("process.execCPUAffinity.final", affinity.cpu_affinity_final())] {
        if let Some(list) = list.as_deref().filter(|l| !l.is_empty()) {
            crate::sys::placement::parse_id_list(list).map_err(|reason| invalid(field, reason))?;
        }
    }
    Ok(())
}

fn validate_process(process: &Process) -> Result<(), BundleError> {
    validate_cpu_affinity(process)?;
    let args = process.args().as_deref().unwrap_or_default();
    if args.is_empty() || args[0].is_empty() {
        return Err(invalid("process.args", "must not be empty: give the program to run and its arguments"));
    }
    if !process.cwd().is_absolute() {
        return Err(invalid("process.cwd", format!("{:?} is not an absolute path (\"/\" is the usual one)", process.cwd())));
    }
    let mut seen = Vec::new();
    for rlimit in process.rlimits().as_deref().unwrap_or_default() {
        if seen.contains(&rlimit.typ()) {
            return Err(invalid("process.rlimits", format!("{:?} is given more than once; give each limit once", rlimit.typ())));
        }
        if rlimit.soft() > rlimit.hard() {
            return Err(invalid("process.rlimits", format!("{:?} soft limit is above its hard limit; lower soft or raise hard", rlimit.typ())));
        }
        seen.push(rlimit.typ());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundle_with(config: serde_json::Value) -> (tempfile::TempDir, Result<Bundle, BundleError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rootfs")).unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), config.to_string()).unwrap();
        let result = Bundle::load(dir.path());
        (dir, result)
    }

    fn minimal() -> serde_json::Value {
        json!({
            "ociVersion": "1.2.0",
            "root": {"path": "rootfs"},
            "process": {"args": ["/bin/true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
            "hostname": "h",
            "linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}, {"type": "pid"}]}
        })
    }

    fn error_of(config: serde_json::Value) -> String {
        bundle_with(config).1.unwrap_err().to_string()
    }

    #[test]
    fn mount_destinations_relative_or_under_the_rootfs_path_are_the_containers() {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().canonicalize().unwrap().join("rootfs");
        std::fs::create_dir(&rootfs).unwrap();
        let mut c = minimal();
        c["mounts"] = json!([
            {"destination": "tmp/mount-1", "type": "tmpfs", "source": "tmpfs"},
            {"destination": rootfs.join("mnt/x"), "source": "/tmp", "options": ["rbind"]},
            {"destination": "/mnt/y", "source": "/tmp", "options": ["bind"]}
        ]);
        std::fs::write(dir.path().join(CONFIG_FILE), c.to_string()).unwrap();
        let bundle = Bundle::load(dir.path()).unwrap();
        let destinations: Vec<_> = bundle.spec().mounts().as_ref().unwrap().iter().map(|m| m.destination().clone()).collect();
        // runc 1.5: relative to "/" with a warning; a host path under the rootfs stripped of it
        assert_eq!(destinations, [Path::new("/tmp/mount-1"), Path::new("/mnt/x"), Path::new("/mnt/y")]);
        assert_eq!(
            bundle.warnings(),
            ["mount destination tmp/mount-1 is not absolute. Support for non-absolute mount destinations will be removed in a future release."]
        );
    }

    #[test]
    fn scheduler_flags_in_the_runtime_specs_spelling_are_read() {
        // oci-spec 0.10 spells two of them otherwise; runc 1.5's scheduler.bats uses the spec's
        let mut c = minimal();
        c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_DL_OVERRUN"]});
        let (_dir, bundle) = bundle_with(c);
        let flags = bundle.unwrap().spec().process().as_ref().unwrap().scheduler().as_ref().unwrap().flags().clone().unwrap();
        assert_eq!(flags, [oci_spec::runtime::LinuxSchedulerFlag::SchedResetOnFork, oci_spec::runtime::LinuxSchedulerFlag::SchedFlagDLOverrun]);
    }

    #[test]
    fn a_bad_memory_policy_is_refused_in_runc_words() {
        let with_policy = |policy: serde_json::Value| {
            let mut c = minimal();
            c["linux"]["memoryPolicy"] = policy;
            error_of(c)
        };
        assert!(with_policy(json!({})).contains("invalid memory policy mode \"\""));
        assert!(with_policy(json!({"nodes": "0-7"})).contains("invalid memory policy mode \"\""));
        assert!(with_policy(json!({"mode": "INTERLEAVE", "nodes": "0"})).contains("invalid memory policy mode \"INTERLEAVE\""));
        let flag = with_policy(json!({"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES", "badflag"]}));
        assert!(flag.contains("invalid memory policy flag \"badflag\""), "{flag}");
        assert!(with_policy(json!({"mode": "MPOL_DEFAULT", "nodes": "0-7"})).contains("memory policy mode requires 0 nodes but got 8"));
        assert!(with_policy(json!({"mode": "MPOL_BIND", "nodes": "0-9876543210"})).contains("invalid memory policy nodes \"0-9876543210\""));
    }

    #[test]
    fn unknown_capability_names_are_skipped_and_ambient_ones_not_inheritable_warned() {
        let mut c = minimal();
        c["process"]["capabilities"] = json!({"bounding": ["CAP_KILL", "UNKNOWN_CAP", "CAP_UNKNOWN"], "inheritable": ["CAP_KILL"],
            "permitted": ["CAP_KILL", "CAP_CHOWN"], "ambient": ["CAP_KILL", "CAP_CHOWN", "CAP_NOPE"]});
        let (_dir, bundle) = bundle_with(c.clone());
        let bundle = bundle.unwrap();
        assert_eq!(
            bundle.warnings(),
            [
                "ignoring unknown or unavailable capabilities: [CAP_NOPE CAP_UNKNOWN UNKNOWN_CAP]",
                "can't raise ambient capability CAP_CHOWN: operation not permitted"
            ]
        );
        let bounding = bundle.spec().process().as_ref().unwrap().capabilities().as_ref().unwrap().bounding().clone().unwrap();
        assert_eq!(bounding.len(), 1);
        // Other type errors still fail, naming the field.
        c["process"]["capabilities"]["bounding"] = json!("CAP_KILL");
        let error = parse_config_skipping_unknown_capabilities(c.to_string().as_bytes()).unwrap_err();
        assert!(error.contains("process.capabilities.bounding"), "{error}");
    }

    #[test]
    fn minimal_bundle_loads() {
        let (dir, bundle) = bundle_with(minimal());
        let bundle = bundle.unwrap();
        assert_eq!(bundle.rootfs(), std::fs::canonicalize(dir.path().join("rootfs")).unwrap());
        assert!(bundle.namespaces().creates(LinuxNamespaceType::Pid));
    }

    #[test]
    fn refuses_bad_configs_naming_the_field() {
        let mut c = minimal();
        c["process"]["args"] = json!([]);
        assert_eq!(error_of(c), "process.args: must not be empty: give the program to run and its arguments");
        let mut c = minimal();
        c["root"]["path"] = json!("missing");
        assert!(error_of(c).starts_with("root.path: rootfs "));
        let mut c = minimal();
        c["ociVersion"] = json!("2.0.0");
        assert!(error_of(c).starts_with("ociVersion: "));
        let mut c = minimal();
        c["linux"]["namespaces"] = json!([{"type": "mount"}]);
        assert!(error_of(c).starts_with("hostname: "));
        let mut c = minimal();
        c["process"]["cwd"] = json!("relative");
        assert!(error_of(c).starts_with("process.cwd: "));
        let mut c = minimal();
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}]);
        assert!(error_of(c).starts_with("process.rlimits: "));
        let mut c = minimal();
        c["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}, {"type": "user"}]);
        assert!(error_of(c).starts_with("linux.uidMappings: "));
        let mut c = minimal();
        c.as_object_mut().unwrap().remove("process");
        assert!(error_of(c).starts_with("process: "));
    }

    #[test]
    fn malformed_json_reports_position() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "{\"ociVersion\": \"1.0.0\",").unwrap();
        let error = Bundle::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("config.json") && error.contains("line 1"), "{error}");
    }

    #[test]
    fn type_errors_name_the_field_path() {
        let mut c = minimal();
        c["linux"]["resources"] = json!({"memory": {"limit": "1g"}});
        let error = parse_config(c.to_string().as_bytes()).unwrap_err();
        assert!(error.starts_with("linux.resources.memory.limit: invalid type: string \"1g\""), "{error}");
        let mut c = minimal();
        c["mounts"] = json!([{"destination": "/a"}, {"destination": 7}]);
        let error = parse_config(c.to_string().as_bytes()).unwrap_err();
        assert!(error.starts_with("mounts[1].destination: invalid type: integer `7`"), "{error}");
        let mut c = minimal();
        c["process"]["capabilities"] = json!({"bounding": ["CAP_NOPE"]});
        let error = parse_config(c.to_string().as_bytes()).unwrap_err();
        // (oci-spec converts the list as a whole, so the error comes at its end.)
        assert!(error.starts_with("process.capabilities.bounding: no variant for CAP_NOPE"), "{error}");
        // Trailing bytes after the object are still an error.
        let error = parse_config(format!("{} x", minimal()).as_bytes()).unwrap_err();
        assert!(error.contains("trailing characters"), "{error}");
    }

    #[test]
    fn missing_config_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Bundle::load(dir.path()), Err(BundleError::Read { .. })));
    }
}
