//! cgroups: one manager per driver behind one interface ([`Manager`]):
//! - [`v1::V1Cgroup`]: cgroupfs on v1 hosts, hybrid ones included (a directory per hierarchy);
//! - [`v2::V2Cgroup`]: cgroupfs on a unified (v2) host (one directory, eBPF device filter);
//! - [`systemd::SystemdCgroup`]: a transient systemd unit started over D-Bus, wrapping the
//!   cgroupfs manager of the host's layout for whatever systemd cannot set.
//!
//! The host's facts (layout, mountinfo, our own cgroup) are read once into [`HostCgroups`]
//! and passed in, so each manager is tested on fixtures. Resource mapping is pure
//! (`resources.rs`, `devices.rs`, `systemd/properties.rs`).

pub mod devices;
pub mod fs;
pub mod path;
pub mod resources;
pub mod stats;
pub mod systemd;
pub mod v1;
pub mod v2;

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

pub use fs::{is_missing, read_file, write_file};
pub use path::ExecCgroups;
use resources::Write;

pub use crate::sys::mountinfo::CGROUP_ROOT;

/// Errors of cgroup handling.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A resource value the runtime refuses (checked before anything is created).
    #[error("{field}: {reason}")]
    Invalid {
        /// The config field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A file operation on the cgroup filesystem failed.
    #[error("{op} {path}{}", value.as_ref().map(|v| format!(" (value {v:?})")).unwrap_or_default())]
    Io {
        /// The operation.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The value written, for writes.
        value: Option<String>,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The host has no cgroup filesystem skiff understands.
    #[error("no cgroup filesystem at {0}")]
    NoCgroupFs(PathBuf),
    /// A device rule of the config is unusable.
    #[error(transparent)]
    DeviceRules(#[from] devices::DeviceRuleError),
    /// The device filter could not be installed.
    #[error(transparent)]
    Devices(#[from] devices::DeviceFilterError),
    /// Waiting for the freezer timed out.
    #[error("cgroup {path} did not reach {wanted} within {seconds} s")]
    FreezeTimeout {
        /// The cgroup.
        path: PathBuf,
        /// The state waited for.
        wanted: &'static str,
        /// How long.
        seconds: u64,
    },
    /// The systemd driver was asked for where systemd does not run.
    #[error("--systemd-cgroup: systemd is not running on this host ({0} is missing), so the systemd cgroup driver cannot be used")]
    NoSystemd(PathBuf),
    /// Talking to systemd failed.
    #[error("systemd unit {unit}: {op}")]
    Systemd {
        /// The unit.
        unit: String,
        /// What was being done.
        op: &'static str,
        /// The D-Bus failure.
        #[source]
        source: crate::dbus::DbusError,
    },
    /// A systemd job ended otherwise than `done`.
    #[error("systemd unit {unit}: {op}: the job ended with {result:?}")]
    SystemdJob {
        /// The unit.
        unit: String,
        /// The job's purpose.
        op: &'static str,
        /// systemd's result (`failed`, `timeout`, `canceled`, ...).
        result: String,
    },
}

impl CgroupError {
    /// The errno behind the error, when there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            CgroupError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// The cgroup layout of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// cgroup v2 only, at `/sys/fs/cgroup`.
    Unified,
    /// v1 controllers, plus cgroup2 at `/sys/fs/cgroup/unified`.
    Hybrid,
    /// v1 only.
    Legacy,
}

/// Tell the layout from the filesystem types under `root` (statfs magic).
pub fn detect_layout(root: &Path) -> Result<Layout, CgroupError> {
    let magic = |path: &Path| nix::sys::statfs::statfs(path).map(|s| s.filesystem_type());
    match magic(root) {
        Ok(m) if m == nix::sys::statfs::CGROUP2_SUPER_MAGIC => Ok(Layout::Unified),
        Ok(m) if m == nix::sys::statfs::TMPFS_MAGIC => match magic(&root.join("unified")) {
            Ok(u) if u == nix::sys::statfs::CGROUP2_SUPER_MAGIC => Ok(Layout::Hybrid),
            _ => Ok(Layout::Legacy),
        },
        _ => Err(CgroupError::NoCgroupFs(root.to_path_buf())),
    }
}

/// The directory systemd makes when it runs as PID 1 (runc's test, too).
pub const SYSTEMD_RUNNING: &str = "/run/systemd/system";

/// What the managers need to know of the host, read once.
#[derive(Debug, Clone)]
pub struct HostCgroups {
    /// Where the cgroup filesystems are mounted.
    pub root: PathBuf,
    /// The layout.
    pub layout: Layout,
    /// `/proc/self/mountinfo`.
    pub mountinfo: String,
    /// `/proc/self/cgroup`: the runtime's own cgroups (for relative paths).
    pub own_cgroup: String,
    /// Whether systemd runs as PID 1.
    pub systemd_running: bool,
}

impl HostCgroups {
    /// Read the facts of this host.
    pub fn read() -> Result<HostCgroups, CgroupError> {
        let read = |path: &str| std::fs::read_to_string(path).map_err(fs::io_error("read", Path::new(path), None));
        let root = PathBuf::from(CGROUP_ROOT);
        Ok(HostCgroups {
            layout: detect_layout(&root)?,
            root,
            mountinfo: read("/proc/self/mountinfo")?,
            own_cgroup: read("/proc/self/cgroup")?,
            systemd_running: Path::new(SYSTEMD_RUNNING).is_dir(),
        })
    }
}

/// Which driver manages the container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// Direct writes to the cgroup filesystem.
    Cgroupfs,
    /// A systemd transient unit (`--systemd-cgroup`).
    Systemd,
}

/// What `create` applies to a new cgroup, computed (and validated) once, before anything
/// exists.
#[derive(Debug, Default)]
pub struct CgroupPlan {
    /// Resource file writes.
    pub writes: Vec<Write>,
    /// The device rules.
    pub device_rules: Vec<devices::DeviceRule>,
    /// The systemd unit's plan (systemd driver only), opaque to the other drivers.
    pub unit: Option<systemd::UnitPlan>,
    /// Apply no device rules at all (rootless).
    pub skip_devices: bool,
}

impl CgroupPlan {
    /// Leave the device rules out: a rootless runtime can neither load an eBPF filter nor
    /// write a v1 devices cgroup (runc skips them too); the user namespace already keeps
    /// the container from creating device nodes.
    pub fn without_devices(mut self) -> CgroupPlan {
        self.skip_devices = true;
        self.device_rules.clear();
        self
    }
}

/// What every cgroup driver does for a container.
pub trait Manager {
    /// Refuse a cgroup (or unit) that is already in use: removing the container would kill
    /// what is in it. Checked before anything is created.
    fn check_unused(&self) -> Result<(), CgroupError>;
    /// Validate and compute everything create will apply, without touching anything.
    fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError>;
    /// The container's cgroup directory (v1: the first hierarchy's), for messages.
    fn location(&self) -> &Path;
    /// Whether this process may make and use the cgroup (a rootless runtime may not,
    /// outside a subtree delegated to its user).
    fn may_create(&self) -> bool;
    /// Make what must exist before init is cloned, with the plan's limits and device rules
    /// in place (cgroupfs: before any process is in it, as before the managers were split).
    fn prepare(&self, plan: &CgroupPlan) -> Result<(), CgroupError>;
    /// The directory to clone a process straight into (`CLONE_INTO_CGROUP`), for init
    /// (`init`) or for an exec'd process.
    fn clone_dir(&self, init: bool) -> Option<&Path>;
    /// Put the new, parked init into the cgroup (systemd: start the unit with it, then apply
    /// the plan).
    fn enter_init(&self, pid: i32, plan: &CgroupPlan) -> Result<(), CgroupError>;
    /// Put CRIU into the cgroup before it restores the container: the processes it restores
    /// are made in its cgroup (systemd: start the unit with it, as with init).
    fn enter_criu(&self, pid: i32, plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.enter_init(pid, plan)
    }
    /// The directory CRIU freezes the container through (v1: the freezer hierarchy's).
    fn freezer_dir(&self) -> Option<&Path>;
    /// Put an exec'd process in (nothing when it was cloned into the cgroup).
    fn enter_exec(&self, pid: i32, cloned_into: bool) -> Result<(), CgroupError>;
    /// Apply new resources (`update`; devices are not updated, as with runc).
    fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError>;
    /// Whether the cgroup is frozen.
    fn is_frozen(&self) -> bool;
    /// Freeze (`true`) or thaw every process, waiting until the kernel reports it done.
    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError>;
    /// Every process in the cgroup and its sub-cgroups, sorted.
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    /// Signal every process.
    fn signal_all(&self, signal: i32) -> Result<(), CgroupError>;
    /// The statistics `events --stats` reports.
    fn stats(&self) -> Result<stats::Stats, CgroupError>;
    /// The number of OOM kills so far.
    fn oom_kills(&self) -> u64;
    /// Remove the cgroup (and unit), killing anything still inside.
    fn destroy(&self) -> Result<(), CgroupError>;
    /// The sub-cgroups `exec --cgroup` names, which must exist.
    fn sub_cgroup(&self, requests: &ExecCgroups) -> Result<ContainerCgroup, CgroupError>;
}

/// `Manager` for an enum of managers (`$manager` has a `manager()` returning the variant's):
/// every call goes to the variant's own method, overrides of the trait's defaults included.
macro_rules! forward_manager {
    ($manager:ty) => {
        impl Manager for $manager {
            fn check_unused(&self) -> Result<(), CgroupError> {
                self.manager().check_unused()
            }
            fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError> {
                self.manager().plan(resources, spec)
            }
            fn location(&self) -> &Path {
                self.manager().location()
            }
            fn may_create(&self) -> bool {
                self.manager().may_create()
            }
            fn prepare(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
                self.manager().prepare(plan)
            }
            fn clone_dir(&self, init: bool) -> Option<&Path> {
                self.manager().clone_dir(init)
            }
            fn enter_init(&self, pid: i32, plan: &CgroupPlan) -> Result<(), CgroupError> {
                self.manager().enter_init(pid, plan)
            }
            fn enter_criu(&self, pid: i32, plan: &CgroupPlan) -> Result<(), CgroupError> {
                self.manager().enter_criu(pid, plan)
            }
            fn freezer_dir(&self) -> Option<&Path> {
                self.manager().freezer_dir()
            }
            fn enter_exec(&self, pid: i32, cloned_into: bool) -> Result<(), CgroupError> {
                self.manager().enter_exec(pid, cloned_into)
            }
            fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
                self.manager().update(resources)
            }
            fn is_frozen(&self) -> bool {
                self.manager().is_frozen()
            }
            fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
                self.manager().set_frozen(frozen)
            }
            fn pids(&self) -> Result<Vec<i32>, CgroupError> {
                self.manager().pids()
            }
            fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
                self.manager().signal_all(signal)
            }
            fn stats(&self) -> Result<stats::Stats, CgroupError> {
                self.manager().stats()
            }
            fn oom_kills(&self) -> u64 {
                self.manager().oom_kills()
            }
            fn destroy(&self) -> Result<(), CgroupError> {
                self.manager().destroy()
            }
            fn sub_cgroup(&self, requests: &ExecCgroups) -> Result<ContainerCgroup, CgroupError> {
                self.manager().sub_cgroup(requests)
            }
        }
    };
}

/// A container's cgroup as its driver manages it; saved in state.json, so every later
/// command uses the driver the container was created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerCgroup {
    /// cgroupfs, v1 or hybrid.
    V1(v1::V1Cgroup),
    /// cgroupfs, unified.
    V2(v2::V2Cgroup),
    /// A systemd unit.
    Systemd(systemd::SystemdCgroup),
}

/// Reads what skiff saves, and what skiff saved before the managers were split
/// (`{"layout": ..., "dirs": [...]}`), so containers made by an earlier skiff can still be
/// killed and deleted after an upgrade.
impl<'de> Deserialize<'de> for ContainerCgroup {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Tagged {
            V1(v1::V1Cgroup),
            V2(v2::V2Cgroup),
            Systemd(systemd::SystemdCgroup),
        }
        #[derive(Deserialize)]
        struct Legacy {
            layout: Layout,
            dirs: Vec<v1::CgroupDir>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        // Lives for one deserialization: boxing the larger variant would buy nothing.
        #[allow(clippy::large_enum_variant)]
        enum Saved {
            Tagged(Tagged),
            Legacy(Legacy),
        }
        Ok(match Saved::deserialize(deserializer)? {
            Saved::Tagged(Tagged::V1(manager)) => ContainerCgroup::V1(manager),
            Saved::Tagged(Tagged::V2(manager)) => ContainerCgroup::V2(manager),
            Saved::Tagged(Tagged::Systemd(manager)) => ContainerCgroup::Systemd(manager),
            Saved::Legacy(Legacy { layout: Layout::Unified, dirs }) => ContainerCgroup::V2(v2::V2Cgroup {
                root: PathBuf::from(CGROUP_ROOT),
                path: dirs.into_iter().next().map(|d| d.path).unwrap_or_else(|| PathBuf::from(CGROUP_ROOT)),
                made_from: None,
            }),
            Saved::Legacy(Legacy { layout, dirs }) => {
                ContainerCgroup::V1(v1::V1Cgroup { dirs, unified_root: (layout == Layout::Hybrid).then(|| Path::new(CGROUP_ROOT).join("unified")) })
            }
        })
    }
}

impl ContainerCgroup {
    /// The manager of the variant: every [`Manager`] call of a container's cgroup goes to it.
    fn manager(&self) -> &dyn Manager {
        match self {
            ContainerCgroup::V1(manager) => manager,
            ContainerCgroup::V2(manager) => manager,
            ContainerCgroup::Systemd(manager) => manager,
        }
    }
}

forward_manager!(ContainerCgroup);

/// A cgroupfs manager of either version: what the systemd driver wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FsCgroup {
    /// v1 or hybrid.
    V1(v1::V1Cgroup),
    /// unified.
    V2(v2::V2Cgroup),
}

impl FsCgroup {
    /// The manager of the variant: every [`Manager`] call goes to it.
    fn manager(&self) -> &dyn Manager {
        match self {
            FsCgroup::V1(manager) => manager,
            FsCgroup::V2(manager) => manager,
        }
    }
}

forward_manager!(FsCgroup);

impl FsCgroup {
    /// The cgroupfs manager of the host's layout for `requested` (see [`path::cgroupfs_path`]).
    pub fn locate(host: &HostCgroups, requested: &Path) -> Result<FsCgroup, CgroupError> {
        Ok(match host.layout {
            Layout::Unified => FsCgroup::V2(v2::V2Cgroup::locate(host, requested)?),
            Layout::Hybrid | Layout::Legacy => FsCgroup::V1(v1::V1Cgroup::locate(host, requested)?),
        })
    }
}

impl ContainerCgroup {
    /// Refuse a cgroup that is in use, or frozen (runc's check, in its words): init put
    /// into a frozen cgroup could never run, nor report.
    pub fn check_usable(&self) -> Result<(), CgroupError> {
        if self.is_new() {
            return Ok(());
        }
        self.check_unused()?;
        if self.is_frozen() {
            return Err(CgroupError::Invalid {
                field: "linux.cgroupsPath",
                reason: format!(
                    "container's cgroup unexpectedly frozen ({}): thaw it, or give another cgroup",
                    self.freezer_dir().unwrap_or(self.location()).display()
                ),
            });
        }
        Ok(())
    }

    /// Whether the cgroupfs driver found every directory missing when it located them: such
    /// a cgroup can hold no process and cannot be frozen, with no file to read to know it.
    fn is_new(&self) -> bool {
        match self {
            ContainerCgroup::V1(manager) => manager.dirs.iter().all(|dir| dir.made_from.is_some()),
            ContainerCgroup::V2(manager) => manager.made_from.is_some(),
            ContainerCgroup::Systemd(_) => false,
        }
    }

    /// The cgroupfs manager of a v1 or hybrid host, whose hierarchies a new init can enter
    /// by itself ([`v1::V1Cgroup::enter_self`]).
    pub fn v1_cgroupfs(&self) -> Option<&v1::V1Cgroup> {
        match self {
            ContainerCgroup::V1(manager) => Some(manager),
            _ => None,
        }
    }

    /// The manager for a new container: `cgroups_path` read for `driver`, placed on `host`.
    pub fn for_container(host: &HostCgroups, driver: Driver, cgroups_path: Option<&Path>, id: &str, rootless: bool) -> Result<ContainerCgroup, CgroupError> {
        match driver {
            // The cgroupfs driver notes what it will have to make, to remove it again.
            Driver::Cgroupfs => Ok(match FsCgroup::locate(host, &path::cgroupfs_path(cgroups_path, id)?)? {
                FsCgroup::V1(mut manager) => {
                    manager.dirs.iter_mut().for_each(|dir| dir.made_from = fs::first_missing(&dir.path));
                    ContainerCgroup::V1(manager)
                }
                FsCgroup::V2(mut manager) => {
                    manager.made_from = fs::first_missing(&manager.path);
                    ContainerCgroup::V2(manager)
                }
            }),
            Driver::Systemd => {
                // The path's form is checked first: a malformed path is the user's to fix
                // wherever they run it.
                let default_slice = if rootless { path::DEFAULT_USER_SLICE } else { path::DEFAULT_SLICE };
                let unit = path::systemd_unit(cgroups_path, id, default_slice)?;
                if !host.systemd_running {
                    return Err(CgroupError::NoSystemd(PathBuf::from(SYSTEMD_RUNNING)));
                }
                if !rootless {
                    let fs = FsCgroup::locate(host, &unit.cgroup_path()?)?;
                    return Ok(ContainerCgroup::Systemd(systemd::SystemdCgroup::new(unit, host.layout, fs, false)));
                }
                if host.layout != Layout::Unified {
                    return Err(CgroupError::Invalid {
                        field: "--systemd-cgroup",
                        reason: "a rootless runtime can use systemd's cgroups only on cgroup v2 (systemd delegates no v1 controllers to users)".into(),
                    });
                }
                // The unit goes to the user's own systemd instance, whose cgroup is below the
                // user's slice: ask it where.
                let base = systemd::user_manager_cgroup(&unit.unit)?;
                let fs = FsCgroup::locate(host, &base.join(unit.cgroup_path()?.strip_prefix("/").unwrap_or(Path::new(""))))?;
                Ok(ContainerCgroup::Systemd(systemd::SystemdCgroup::new(unit, host.layout, fs, true)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(systemd_running: bool) -> HostCgroups {
        HostCgroups {
            root: "/sys/fs/cgroup".into(),
            layout: Layout::Unified,
            mountinfo: "30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n".into(),
            own_cgroup: "0::/user.slice\n".into(),
            systemd_running,
        }
    }

    #[test]
    fn drivers_place_the_container() {
        let fs = ContainerCgroup::for_container(&host(false), Driver::Cgroupfs, None, "c1", false).unwrap();
        assert_eq!(fs.clone_dir(true), Some(Path::new("/sys/fs/cgroup/c1")));
        let systemd = ContainerCgroup::for_container(&host(true), Driver::Systemd, Some(Path::new("system.slice:docker:c1")), "c1", false).unwrap();
        // Init is cloned into the runtime's cgroup and moved by systemd; exec goes straight in.
        assert_eq!(systemd.clone_dir(true), None);
        assert_eq!(systemd.clone_dir(false), Some(Path::new("/sys/fs/cgroup/system.slice/docker-c1.scope")));
        let error = ContainerCgroup::for_container(&host(false), Driver::Systemd, None, "c1", false).unwrap_err().to_string();
        assert!(error.contains("systemd is not running"), "{error}");
        // A malformed path is reported as such even where systemd does not run.
        let error = ContainerCgroup::for_container(&host(false), Driver::Systemd, Some(Path::new("a:b")), "c1", false).unwrap_err().to_string();
        assert!(error.contains("slice:prefix:name"), "{error}");
    }

    #[test]
    fn state_json_of_an_earlier_skiff_still_loads() {
        let hybrid = r#"{"layout": "hybrid", "dirs": [
            {"controllers": ["memory"], "unified": false, "path": "/sys/fs/cgroup/memory/c1"},
            {"controllers": [], "unified": true, "path": "/sys/fs/cgroup/unified/c1"}]}"#;
        let ContainerCgroup::V1(v1) = serde_json::from_str(hybrid).unwrap() else { panic!("a v1 manager") };
        assert_eq!(v1.dir_of("memory"), Some(Path::new("/sys/fs/cgroup/memory/c1")));
        assert_eq!(v1.unified_root.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        let unified = r#"{"layout": "unified", "dirs": [{"controllers": [], "unified": true, "path": "/sys/fs/cgroup/c1"}]}"#;
        let ContainerCgroup::V2(v2) = serde_json::from_str(unified).unwrap() else { panic!("a v2 manager") };
        assert_eq!(v2.path, PathBuf::from("/sys/fs/cgroup/c1"));
        assert!(serde_json::from_str::<ContainerCgroup>(r#"{"v3": {}}"#).is_err());
    }

    #[test]
    fn state_json_names_the_driver() {
        let systemd = ContainerCgroup::for_container(&host(true), Driver::Systemd, None, "c1", false).unwrap();
        let json = serde_json::to_string(&systemd).unwrap();
        assert!(json.starts_with(r#"{"systemd":{"unit":{"slice":"system.slice","unit":"skiff-c1.scope""#), "{json}");
        let back: ContainerCgroup = serde_json::from_str(&json).unwrap();
        assert_eq!(back, systemd);
    }
}
