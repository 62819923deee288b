//! Checkpoint and restore through CRIU: what CRIU is told about a container (pure functions of
//! its config, unit-tested here), and the RPC conversation itself (`session`).

pub mod session;

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

pub use session::{Criu, CriuStdio, Notifications};

/// The oldest CRIU skiff drives (runc's floor: 3.0).
pub const MINIMUM_VERSION: u32 = 30000;

/// The file, in the image directory, naming what the container's fds 0-2 were at the dump
/// (runc's name and format: a JSON list of `readlink /proc/<pid>/fd/N`), so that a restore can
/// hand the new pipes to CRIU in their place.
pub const DESCRIPTORS_FILE: &str = "descriptors.json";

/// Errors talking to CRIU, or with what it is asked.
#[derive(Debug, thiserror::Error)]
pub enum CriuError {
    /// No criu binary where it was looked for.
    #[error("criu binary {path:?} not found: checkpoint and restore need CRIU {}.{} or later (Debian: apt-get install criu), or its path in --criu", MINIMUM_VERSION / 10000, MINIMUM_VERSION / 100 % 100)]
    NotFound {
        /// The path or name tried.
        path: PathBuf,
    },
    /// criu could not be started.
    #[error("start criu {path:?}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// CRIU is older than an option needs.
    #[error("CRIU version {found} must be {minimum} or higher for {what}")]
    TooOld {
        /// Its version (runc's numbering: 31701 for 3.17.1).
        found: u32,
        /// What is needed.
        minimum: u32,
        /// What needs it.
        what: &'static str,
    },
    /// CRIU lacks a feature an option needs.
    #[error("criu is missing features: {0}")]
    MissingFeatures(String),
    /// CRIU answered that the operation failed.
    #[error("criu {request} failed{}{}", errno_text(*errno), if message.is_empty() { String::new() } else { format!(": {message}") })]
    Failed {
        /// The request.
        request: &'static str,
        /// CRIU's errno (0 when it gave none).
        errno: i32,
        /// CRIU's message, if it gave one.
        message: String,
    },
    /// criu exited unsuccessfully after answering.
    #[error("criu exited unsuccessfully ({0})")]
    Exited(String),
    /// Waiting for criu to exit failed.
    #[error("wait for criu")]
    Wait(#[source] std::io::Error),
    /// The conversation broke.
    #[error("criu swrk: {0}")]
    Protocol(String),
    /// A system call of the runtime's failed.
    #[error(transparent)]
    Sys(#[from] crate::sys::SysError),
    /// A notification could not be acted on.
    #[error("{script} notification: {reason}")]
    Notification {
        /// The notification.
        script: String,
        /// Why it failed.
        reason: String,
    },
    /// A checkpoint option's value is refused.
    #[error("{option}: {reason}")]
    Option {
        /// The option.
        option: &'static str,
        /// Why, and what would work.
        reason: String,
    },
}

fn errno_text(errno: i32) -> String {
    if errno == 0 { String::new() } else { format!(" (errno {errno}: {})", nix::errno::Errno::from_raw(errno).desc()) }
}

/// `--manage-cgroups-mode`: how CRIU treats the container's cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupsMode {
    /// Not given: CRIU's default (soft).
    Default,
    /// Restore cgroup properties only where CRIU creates the cgroup.
    Soft,
    /// Restore the properties always.
    Full,
    /// Fail unless the cgroups are as dumped.
    Strict,
    /// Leave cgroups alone.
    Ignore,
}

impl CgroupsMode {
    /// Parse runc's values (`soft|full|strict|ignore`; empty for the default).
    pub fn parse(value: Option<&str>) -> Result<CgroupsMode, CriuError> {
        Ok(match value.unwrap_or("") {
            "" => CgroupsMode::Default,
            "soft" => CgroupsMode::Soft,
            "full" => CgroupsMode::Full,
            "strict" => CgroupsMode::Strict,
            "ignore" => CgroupsMode::Ignore,
            other => {
                return Err(CriuError::Option {
                    option: "--manage-cgroups-mode",
                    reason: format!("invalid value {other:?}: use soft, full, strict or ignore"),
                });
            }
        })
    }

    /// The RPC's value.
    pub fn rpc(self) -> rust_criu::rust_criu_protobuf::rpc::Criu_cg_mode {
        use rust_criu::rust_criu_protobuf::rpc::Criu_cg_mode;
        match self {
            CgroupsMode::Default => Criu_cg_mode::DEFAULT,
            CgroupsMode::Soft => Criu_cg_mode::SOFT,
            CgroupsMode::Full => Criu_cg_mode::FULL,
            CgroupsMode::Strict => Criu_cg_mode::STRICT,
            CgroupsMode::Ignore => Criu_cg_mode::IGNORE,
        }
    }
}

/// `--page-server ADDRESS:PORT` (an IPv6 address in brackets), as runc splits it.
pub fn parse_page_server(value: &str) -> Result<(String, i32), CriuError> {
    let refuse = |reason: &str| CriuError::Option { option: "--page-server", reason: format!("{value:?}: {reason}; use ADDRESS:PORT") };
    let (host, port) = value.rsplit_once(':').ok_or_else(|| refuse("no port"))?;
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').ok_or_else(|| refuse("an unclosed bracket"))?,
        None if host.contains(':') => return Err(refuse("an IPv6 address needs brackets")),
        None => host,
    };
    if host.is_empty() {
        return Err(refuse("no address"));
    }
    let port: u16 = port.parse().map_err(|_| refuse("the port is not a number from 1 to 65535"))?;
    if port == 0 {
        return Err(refuse("port 0"));
    }
    Ok((host.to_string(), i32::from(port)))
}

/// `--empty-ns`: the namespaces CRIU recreates empty instead of restoring. The network
/// namespace always is (as runc: the runtime does not manage network devices); `network` is
/// the only other value runc accepts, and it adds nothing.
pub fn empty_namespaces(values: &[String]) -> Result<u32, CriuError> {
    for value in values {
        if value != "network" {
            return Err(CriuError::Option { option: "--empty-ns", reason: format!("namespace {value:?} is not supported: only network") });
        }
    }
    // CLONE_NEWNET is a positive flag that fits in 32 bits.
    Ok(libc::CLONE_NEWNET as u32)
}

/// One external mount: at `key` inside the container, from `value` (the same key at the dump,
/// a host path at the restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalMount {
    /// The mount point inside the container.
    pub key: String,
    /// What CRIU is told it is.
    pub value: String,
}

/// Which side of the operation the external mounts are described for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A dump: each external mount is named by its mount point.
    Dump,
    /// A restore: each is given its host source again.
    Restore,
}

/// The mounts CRIU must treat as external, from the config: bind mounts (their sources are
/// the host's), device nodes (bound from the host under a user namespace, and runc names them
/// all), and the masked files (the container's /dev/null bound over them). `v1_cgroup_binds`
/// are the per-hierarchy binds under a `cgroup` mount on a v1 host: (mount point, host
/// directory). `masked_files` are the masked paths that are files in the container (a masked
/// directory is a tmpfs, which CRIU dumps itself).
///
/// CRIU keys an external mount by its mount point at the dump and stores the value given
/// then; at the restore that stored value is the key, mapped to what to mount.
///
/// `resolve` gives a destination's real place in the rootfs (symlinks followed inside it), so
/// that the key is the mount point CRIU finds; a relative bind source is `bundle`'s, as create
/// bound it.
pub fn external_mounts(
    spec: &Spec,
    bundle: &Path,
    side: Side,
    v1_cgroup_binds: &[(String, String)],
    masked_files: &[String],
    resolve: &dyn Fn(&Path) -> String,
) -> Vec<ExternalMount> {
    let mut mounts: Vec<ExternalMount> = Vec::new();
    let mut add = |key: String, value: String| {
        if !mounts.iter().any(|m| m.key == key) {
            mounts.push(ExternalMount { key, value });
        }
    };
    // The mounts create bound (mount_plan decides which), with their sources as it took them.
    for mount in spec.mounts().iter().flatten().filter(|m| crate::rootfs::plan::is_bind(m)) {
        if let Some(source) = crate::rootfs::plan::bind_source(mount, bundle) {
            let destination = resolve(mount.destination());
            let value = if side == Side::Dump { destination.clone() } else { source.display().to_string() };
            add(destination, value);
        }
    }
    for (key, source) in v1_cgroup_binds {
        add(key.clone(), if side == Side::Dump { key.clone() } else { source.clone() });
    }
    let linux = spec.linux().as_ref();
    let configured = linux.and_then(|l| l.devices().clone()).unwrap_or_default();
    let defaults = crate::rootfs::devices::default_devices();
    for path in configured.iter().map(|d| d.path().clone()).chain(defaults.iter().map(|d| d.path.clone())) {
        let path = path.display().to_string();
        add(path.clone(), path);
    }
    match side {
        Side::Dump => masked_files.iter().for_each(|path| add(path.clone(), DEV_NULL.to_string())),
        Side::Restore if !masked_files.is_empty() => add(DEV_NULL.to_string(), DEV_NULL.to_string()),
        Side::Restore => {}
    }
    mounts
}

const DEV_NULL: &str = "/dev/null";

/// `/a//b/` as `/a/b`: CRIU matches keys against mount points textually.
pub fn clean(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    format!("/{}", parts.join("/"))
}

/// From the saved descriptors (what fds 0-2 were), the ones that were pipes: CRIU is told to
/// use CRIU's own fd of that number (the runtime's stdio, which it inherits) in their place.
pub fn inherited_pipes(descriptors: &[String]) -> Vec<(String, i32)> {
    descriptors.iter().zip(0..).filter(|(d, _)| d.contains("pipe:")).map(|(d, fd)| (d.clone(), fd)).collect()
}

/// The first name in an image directory's listing that no checkpoint writes, if any. A
/// checkpoint's are CRIU's images (`*.img`), its logs and statistics, the `parent` link of a
/// dump on a pre-dump, its irmap cache, and runc's `descriptors.json`.
pub fn foreign_to_checkpoint(names: &[String]) -> Option<&str> {
    const CHECKPOINT_FILES: &[&str] = &[DESCRIPTORS_FILE, "parent", "stats-dump", "stats-restore", "irmap-cache"];
    names.iter().map(String::as_str).find(|name| !(name.ends_with(".img") || name.ends_with(".log") || CHECKPOINT_FILES.contains(name)))
}

/// How CRIU deals with a namespace a container joins by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinedNamespace {
    /// Network and pid: external to the dump (`<name>[<inode>]:extRoot<Name>NS`), handed to the
    /// restore as an open file; needs CRIU `minimum` (runc's numbering).
    External {
        /// The kernel's name (`net`, `pid`).
        name: &'static str,
        /// The CRIU version needed.
        minimum: u32,
    },
    /// Joined by CRIU by path at the restore (`join_ns`).
    Joined {
        /// The kernel's name (`mnt`, `ipc`, ...).
        name: &'static str,
    },
    /// A cgroup namespace: CRIU has no way to join one.
    Unsupported,
}

/// How CRIU deals with a joined namespace of `kind` (runc's versions and names).
pub fn joined_namespace(kind: oci_spec::runtime::LinuxNamespaceType) -> JoinedNamespace {
    use oci_spec::runtime::LinuxNamespaceType as Kind;
    match kind {
        Kind::Network => JoinedNamespace::External { name: "net", minimum: 31100 },
        Kind::Pid => JoinedNamespace::External { name: "pid", minimum: 31500 },
        Kind::Mount => JoinedNamespace::Joined { name: "mnt" },
        Kind::Ipc => JoinedNamespace::Joined { name: "ipc" },
        Kind::Uts => JoinedNamespace::Joined { name: "uts" },
        Kind::User => JoinedNamespace::Joined { name: "user" },
        Kind::Time => JoinedNamespace::Joined { name: "time" },
        Kind::Cgroup => JoinedNamespace::Unsupported,
    }
}

/// CRIU's key for an external namespace of `kind` (`extRootNetNS`), as runc names it.
pub fn namespace_key(kind: &str) -> String {
    let mut chars = kind.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
    format!("extRoot{first}{}NS", chars.as_str())
}

/// The lines of CRIU's log that say what went wrong: each `Error` line with the line before
/// it, at most `limit` lines, so that an error message can quote them.
pub fn log_errors(log: &str, limit: usize) -> Vec<String> {
    let lines: Vec<&str> = log.lines().collect();
    let mut quoted: Vec<usize> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.contains("Error") {
            for i in n.saturating_sub(1)..=n {
                if !quoted.contains(&i) {
                    quoted.push(i);
                }
            }
        }
    }
    // The last errors say the most: CRIU's first failure is usually followed by its fallout.
    let skip = quoted.len().saturating_sub(limit);
    quoted.into_iter().skip(skip).filter_map(|i| lines.get(i).map(|l| l.trim().to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Spec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cgroups_modes_are_runcs() {
        assert_eq!(CgroupsMode::parse(None).unwrap(), CgroupsMode::Default);
        assert_eq!(CgroupsMode::parse(Some("soft")).unwrap(), CgroupsMode::Soft);
        assert_eq!(CgroupsMode::parse(Some("full")).unwrap(), CgroupsMode::Full);
        assert_eq!(CgroupsMode::parse(Some("strict")).unwrap(), CgroupsMode::Strict);
        assert_eq!(CgroupsMode::parse(Some("ignore")).unwrap(), CgroupsMode::Ignore);
        let error = CgroupsMode::parse(Some("props")).unwrap_err().to_string();
        assert!(error.contains("--manage-cgroups-mode") && error.contains("soft, full, strict or ignore"), "{error}");
    }

    #[test]
    fn page_servers_split_as_runc_splits_them() {
        assert_eq!(parse_page_server("10.0.0.1:2700").unwrap(), ("10.0.0.1".into(), 2700));
        assert_eq!(parse_page_server("[::1]:2700").unwrap(), ("::1".into(), 2700));
        assert_eq!(parse_page_server("host:1").unwrap(), ("host".into(), 1));
        for bad in ["host", ":2700", "host:", "host:x", "host:70000", "::1:2700", "[::1:2700", "host:0"] {
            assert!(parse_page_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_namespaces_are_the_network_only() {
        assert_eq!(empty_namespaces(&[]).unwrap(), libc::CLONE_NEWNET as u32);
        assert_eq!(empty_namespaces(&["network".into()]).unwrap(), libc::CLONE_NEWNET as u32);
        assert!(empty_namespaces(&["pid".into()]).unwrap_err().to_string().contains("only network"));
    }

    #[test]
    fn external_mounts_name_binds_devices_and_masked_files() {
        let config = spec(
            r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"},
               "mounts": [
                 {"destination": "/proc", "type": "proc", "source": "proc"},
                 {"destination": "/data/", "type": "bind", "source": "/srv/data", "options": ["rbind"]},
                 {"destination": "/etc/hosts", "source": "/run/hosts", "options": ["bind", "ro"]},
                 {"destination": "/rel", "source": "data", "options": ["bind"]},
                 {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}],
               "linux": {"maskedPaths": ["/proc/kcore"],
                         "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]}}"#,
        );
        let binds = [("/sys/fs/cgroup/cpu".to_string(), "/sys/fs/cgroup/cpu/skiff/x".to_string())];
        let masked = ["/proc/kcore".to_string()];
        let resolve = |p: &Path| clean(p);
        let restore = external_mounts(&config, Path::new("/b"), Side::Restore, &binds, &masked, &resolve);
        let find = |key: &str| restore.iter().find(|m| m.key == key).map(|m| m.value.clone());
        assert_eq!(find("/data").as_deref(), Some("/srv/data"));
        assert_eq!(find("/etc/hosts").as_deref(), Some("/run/hosts"));
        // a relative source is the bundle's, as create bound it
        assert_eq!(find("/rel").as_deref(), Some("/b/data"));
        assert_eq!(find("/sys/fs/cgroup/cpu").as_deref(), Some("/sys/fs/cgroup/cpu/skiff/x"));
        assert_eq!(find("/dev/fuse").as_deref(), Some("/dev/fuse"));
        assert_eq!(find("/dev/null").as_deref(), Some("/dev/null"));
        // the masked file's mount is stored as /dev/null at the dump, and found by that key
        assert_eq!(find("/proc/kcore"), None);
        assert_eq!(find("/proc"), None);
        assert_eq!(find("/tmp"), None);
        let dump = external_mounts(&config, Path::new("/b"), Side::Dump, &binds, &masked, &resolve);
        let kcore = dump.iter().find(|m| m.key == "/proc/kcore").map(|m| m.value.as_str());
        assert_eq!(kcore, Some("/dev/null"));
        assert!(dump.iter().filter(|m| m.key != "/proc/kcore").all(|m| m.key == m.value), "{dump:?}");
        // a restore of a container without masked files needs no /dev/null beyond the device
        assert_eq!(external_mounts(&config, Path::new("/b"), Side::Restore, &[], &[], &resolve).iter().filter(|m| m.key == "/dev/null").count(), 1);
        // a destination through a symlink of the image is keyed where the mount really is
        let moved = |p: &Path| if p == Path::new("/data/") { "/srv/real".to_string() } else { clean(p) };
        let keys = external_mounts(&config, Path::new("/b"), Side::Dump, &[], &[], &moved);
        assert!(keys.iter().any(|m| m.key == "/srv/real" && m.value == "/srv/real"), "{keys:?}");
    }

    #[test]
    fn only_pipes_are_handed_over() {
        let descriptors = ["/dev/null".to_string(), "pipe:[1234]".to_string(), "pipe:[99]".to_string()];
        assert_eq!(inherited_pipes(&descriptors), [("pipe:[1234]".to_string(), 1), ("pipe:[99]".to_string(), 2)]);
    }

    #[test]
    fn an_earlier_checkpoint_is_no_foreign_content() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let earlier = names(&["inventory.img", "pages-1.img", "core-1.img", "descriptors.json", "dump.log", "stats-dump", "parent", "irmap-cache"]);
        assert_eq!(foreign_to_checkpoint(&earlier), None);
        assert_eq!(foreign_to_checkpoint(&[]), None);
        assert_eq!(foreign_to_checkpoint(&names(&["inventory.img", "notes.txt"])), Some("notes.txt"));
        assert_eq!(foreign_to_checkpoint(&names(&[".bashrc"])), Some(".bashrc"));
    }

    #[test]
    fn namespace_keys_are_runcs() {
        assert_eq!(namespace_key("net"), "extRootNetNS");
        assert_eq!(namespace_key("pid"), "extRootPidNS");
    }

    #[test]
    fn log_quotes_the_last_errors_with_their_context() {
        let log = "(00.1) a\n(00.2) b\n(00.3) Error (vdso.c:1): one\n(00.4) c\n(00.5) Error (kerndat.c:2): two\n";
        assert_eq!(log_errors(log, 10), ["(00.2) b", "(00.3) Error (vdso.c:1): one", "(00.4) c", "(00.5) Error (kerndat.c:2): two"]);
        assert_eq!(log_errors(log, 2), ["(00.4) c", "(00.5) Error (kerndat.c:2): two"]);
        assert!(log_errors("all good\n", 5).is_empty());
    }
}
