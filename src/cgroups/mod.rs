//! cgroups: detecting the host's layout (unified v2, hybrid, legacy v1), placing a container
//! in its cgroup, applying `linux.resources`, freezing, listing and signalling its processes,
//! reading statistics, and removing it.
//!
//! Resource mapping is pure (`resources.rs`, `devices.rs`); this file does the file I/O.

#![forbid(unsafe_code)]

pub mod devices;
pub mod resources;
pub mod stats;

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

use crate::linux::mountinfo::{CgroupHierarchy, ProcessCgroup, cgroup_hierarchies, cgroup_path_in, parse_mountinfo, parse_proc_cgroup};
use crate::linux::pidfd::kill_pid;
use resources::Write;

/// Where cgroup filesystems are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

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

fn io_error(op: &'static str, path: &Path, value: Option<&str>) -> impl FnOnce(std::io::Error) -> CgroupError {
    let path = path.to_path_buf();
    let value = value.map(str::to_string);
    move |source| CgroupError::Io { op, path, value, source }
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

/// `linux.cgroupsPath` as runc reads it without systemd: empty means `/<id>`; an absolute
/// path is taken from the hierarchy root; a relative one from the runtime's own cgroup.
/// `..` cannot climb above the root. The systemd form `slice:prefix:name` is refused.
pub fn requested_path(cgroups_path: Option<&Path>, id: &str) -> Result<PathBuf, CgroupError> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    if raw.is_empty() {
        return Ok(PathBuf::from("/").join(id));
    }
    if !raw.starts_with('/') && raw.matches(':').count() == 2 {
        return Err(CgroupError::Invalid {
            field: "linux.cgroupsPath",
            reason: format!("{raw:?} is a systemd slice path; the systemd cgroup driver is not supported yet"),
        });
    }
    let mut clean = PathBuf::from("/");
    for component in Path::new(&raw).components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    if raw.starts_with('/') {
        Ok(clean)
    } else {
        // Relative: keep it relative (without the leading `/`) for joining to our own cgroup.
        Ok(clean.strip_prefix("/").map(Path::to_path_buf).unwrap_or(clean))
    }
}

/// What `create` writes into a new cgroup, computed (and validated) once.
#[derive(Debug)]
pub struct CgroupPlan {
    writes: Vec<Write>,
    device_rules: Vec<devices::DeviceRule>,
}

/// One directory of a container's cgroup: a v1 hierarchy's, or the v2 one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    /// Controllers of the hierarchy (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty for v2.
    pub controllers: Vec<String>,
    /// Whether this is a cgroup2 directory.
    pub unified: bool,
    /// Absolute path of the container's directory.
    pub path: PathBuf,
}

/// A container's cgroup: one directory on v2, one per hierarchy on v1 (and the unified tree
/// too on hybrid hosts, as runc does). Saved in state.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerCgroup {
    /// The host's layout.
    pub layout: Layout,
    /// The directories.
    pub dirs: Vec<CgroupDir>,
}

impl ContainerCgroup {
    /// Where the container's cgroup goes on this host, for `requested` (see [`requested_path`]).
    pub fn locate(root: &Path, layout: Layout, requested: &Path) -> Result<ContainerCgroup, CgroupError> {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").map_err(io_error("read", Path::new("/proc/self/mountinfo"), None))?;
        let own = fs::read_to_string("/proc/self/cgroup").map_err(io_error("read", Path::new("/proc/self/cgroup"), None))?;
        let hierarchies: Vec<CgroupHierarchy> = cgroup_hierarchies(&parse_mountinfo(&mountinfo))
            .into_iter()
            .filter(|h| Path::new(&h.mount_point).starts_with(root))
            .filter(|h| match layout {
                Layout::Unified => h.unified,
                Layout::Hybrid => true,
                Layout::Legacy => !h.unified,
            })
            .collect();
        let own = parse_proc_cgroup(&own);
        let mut dirs = Vec::new();
        for hierarchy in &hierarchies {
            dirs.push(CgroupDir {
                controllers: hierarchy.controllers.clone(),
                unified: hierarchy.unified,
                path: directory_in(hierarchy, &own, requested),
            });
        }
        if dirs.is_empty() {
            return Err(CgroupError::NoCgroupFs(root.to_path_buf()));
        }
        Ok(ContainerCgroup { layout, dirs })
    }

    /// The directory holding `controller`, if any hierarchy has it.
    pub fn dir_of(&self, controller: &str) -> Option<&Path> {
        if self.layout == Layout::Unified {
            return self.dirs.first().map(|d| d.path.as_path());
        }
        self.dirs.iter().find(|d| !d.unified && d.controllers.iter().any(|c| c == controller)).map(|d| d.path.as_path())
    }

    /// The v2 directory (on unified and hybrid hosts).
    pub fn unified_dir(&self) -> Option<&Path> {
        self.dirs.iter().find(|d| d.unified).map(|d| d.path.as_path())
    }

    /// A directory to list processes from: v2's, or a v1 hierarchy every process is in.
    fn procs_dir(&self) -> Option<&Path> {
        if self.layout == Layout::Unified {
            return self.unified_dir();
        }
        ["pids", "memory", "devices", "freezer", "cpu"].iter().find_map(|c| self.dir_of(c)).or_else(|| self.dirs.first().map(|d| d.path.as_path()))
    }

    /// Refuse a cgroup that already holds processes (the hierarchy root, the runtime's own
    /// cgroup, a system slice): `delete` would kill them all. Checked before anything is
    /// created, so that no cleanup path ever touches such a cgroup.
    pub fn check_unused(&self) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            let busy = fs::read_to_string(dir.path.join("cgroup.procs")).map(|p| !p.trim().is_empty()).unwrap_or(false);
            if busy {
                return Err(CgroupError::Invalid {
                    field: "linux.cgroupsPath",
                    reason: format!("cgroup {} already has processes; a container needs a cgroup of its own", dir.path.display()),
                });
            }
        }
        Ok(())
    }

    /// Make the directories. On v1 a new cpuset gets its parent's cpus and mems (the kernel
    /// starts it empty and would refuse tasks).
    pub fn create(&self) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            let is_cpuset = dir.controllers.iter().any(|c| c == "cpuset");
            create_dir_chain(&dir.path, is_cpuset)?;
        }
        // On hybrid hosts controllers may live in the unified tree too (hugetlb here).
        if let (Some(dir), Some(root)) = (self.unified_dir(), self.unified_root()) {
            enable_controllers(&root, dir)?;
        }
        Ok(())
    }

    /// Where the cgroup2 tree is mounted: `/sys/fs/cgroup` (unified) or its `unified` (hybrid).
    fn unified_root(&self) -> Option<PathBuf> {
        match self.layout {
            Layout::Unified => Some(PathBuf::from(CGROUP_ROOT)),
            Layout::Hybrid => Some(Path::new(CGROUP_ROOT).join("unified")),
            Layout::Legacy => None,
        }
    }

    /// Validate and compute everything `create` will write: resource files and device rules.
    /// Done before anything exists, and only once.
    pub fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError> {
        Ok(CgroupPlan { writes: self.planned_writes(resources)?, device_rules: devices::effective_rules(spec)? })
    }

    /// Apply a plan made by [`ContainerCgroup::plan`].
    pub fn apply(&self, plan: CgroupPlan) -> Result<(), CgroupError> {
        self.write_all(plan.writes)?;
        self.apply_devices(&plan.device_rules)
    }

    /// Apply only the resources of an `update` (devices are not updated, as with runc).
    pub fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        if let Some(memory) = resources.memory() {
            if memory.check_before_update() == Some(true) {
                self.check_memory_usage(memory.limit().unwrap_or(0))?;
            }
        }
        self.write_all(self.planned_writes(resources)?)
    }

    fn write_all(&self, mut writes: Vec<Write>) -> Result<(), CgroupError> {
        if self.layout != Layout::Unified {
            if let Some(dir) = self.dir_of("memory") {
                if writes.iter().any(|w| w.file == "memory.memsw.limit_in_bytes") {
                    let current = read_file(&dir.join("memory.limit_in_bytes"))?.trim().parse().unwrap_or(u64::MAX);
                    resources::order_v1_memory(&mut writes, current);
                }
            }
        }
        for w in &writes {
            self.write_one(w)?;
        }
        Ok(())
    }

    /// Validate and compute the writes for this layout without touching anything.
    pub fn planned_writes(&self, resources: &LinuxResources) -> Result<Vec<Write>, CgroupError> {
        match self.layout {
            Layout::Unified => {
                let has_bfq = self.unified_dir().is_some_and(|d| d.join("io.bfq.weight").exists());
                resources::v2_writes(resources, has_bfq)
            }
            Layout::Hybrid | Layout::Legacy => resources::v1_writes(resources),
        }
    }

    fn write_one(&self, w: &Write) -> Result<(), CgroupError> {
        let missing = || CgroupError::Invalid {
            field: "linux.resources",
            reason: format!("{} needs the {} controller, which this host does not mount", w.file, w.controller),
        };
        let Some(dir) = self.dir_of(w.controller) else {
            // A hybrid host can have a controller only in its cgroup2 tree (hugetlb here):
            // write the v2 form of the file there.
            let on_unified = self.layout == Layout::Hybrid && w.controller == "hugetlb";
            let dir = self.unified_dir().filter(|_| on_unified).ok_or_else(missing)?;
            let file = w.file.replace(".limit_in_bytes", ".max");
            let value = if w.value == "-1" { "max".to_string() } else { w.value.clone() };
            return write_file(&dir.join(file), &value);
        };
        let mut path = dir.join(&w.file);
        // v1 blkio weights live in blkio.bfq.* when the host's I/O scheduler is BFQ (runc too).
        if !path.exists() && w.file.starts_with("blkio.weight") {
            let bfq = dir.join(w.file.replace("blkio.", "blkio.bfq."));
            if bfq.exists() {
                path = bfq;
            } else {
                return Err(CgroupError::Invalid {
                    field: "linux.resources.blockIO",
                    reason: format!("{}: this host's I/O scheduler has no blkio weights", w.file),
                });
            }
        }
        write_file(&path, &w.value)
    }

    fn check_memory_usage(&self, new_limit: i64) -> Result<(), CgroupError> {
        if new_limit <= 0 {
            return Ok(());
        }
        let usage_file = if self.layout == Layout::Unified { "memory.current" } else { "memory.usage_in_bytes" };
        let Some(dir) = self.dir_of("memory") else { return Ok(()) };
        let usage: i64 = read_file(&dir.join(usage_file))?.trim().parse().unwrap_or(0);
        if usage > new_limit {
            return Err(CgroupError::Invalid {
                field: "linux.resources.memory.limit",
                reason: format!("the new limit {new_limit} is below the current usage {usage} (checkBeforeUpdate)"),
            });
        }
        Ok(())
    }

    fn apply_devices(&self, rules: &[devices::DeviceRule]) -> Result<(), CgroupError> {
        match self.layout {
            Layout::Unified => {
                if let Some(dir) = self.unified_dir() {
                    devices::attach_program(dir, &devices::build_program(rules))?;
                }
            }
            Layout::Hybrid | Layout::Legacy => {
                if let Some(dir) = self.dir_of("devices") {
                    for (file, value) in devices::v1_writes(rules) {
                        write_file(&dir.join(file), &value)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Move `pid` into every directory (not needed on v2 when cloned into the cgroup).
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            write_file(&dir.path.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The sub-cgroup `exec --cgroup` names: each request is `path` (every hierarchy) or
    /// `controller[,controller...]:path` (the v1 hierarchies with one of those controllers),
    /// a path below the container's cgroup that must exist already (runc's rules).
    pub fn sub_cgroup(&self, requests: &[String]) -> Result<ContainerCgroup, CgroupError> {
        let invalid = |reason: String| CgroupError::Invalid { field: "exec --cgroup", reason };
        let mut default = None;
        let mut by_controller: Vec<(Vec<&str>, &Path)> = Vec::new();
        for request in requests {
            let (controllers, path) = match request.split_once(':') {
                Some((controllers, path)) => (controllers.split(',').filter(|c| !c.is_empty()).collect::<Vec<_>>(), path),
                None => (Vec::new(), request.as_str()),
            };
            let path = Path::new(path);
            let below = path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
            if path.as_os_str().is_empty() || !below {
                return Err(invalid(format!("{request:?}: the path must be relative and stay below the container's cgroup")));
            }
            if controllers.is_empty() {
                default = Some(path);
            } else {
                if self.layout == Layout::Unified {
                    return Err(invalid(format!("{request:?}: controllers cannot be named on cgroup v2")));
                }
                by_controller.push((controllers, path));
            }
        }
        let mut sub = self.clone();
        for dir in &mut sub.dirs {
            let named = by_controller.iter().find(|(names, _)| names.iter().any(|n| dir.controllers.iter().any(|c| c == n)));
            let Some(path) = named.map(|(_, path)| *path).or(default) else { continue };
            dir.path = dir.path.join(path);
            if !dir.path.is_dir() {
                return Err(invalid(format!("{}: no such sub-cgroup (exec --cgroup joins an existing one)", dir.path.display())));
            }
        }
        Ok(sub)
    }

    /// Whether the container's cgroup is frozen.
    pub fn is_frozen(&self) -> bool {
        match self.layout {
            Layout::Unified => self.unified_dir().and_then(|d| fs::read_to_string(d.join("cgroup.freeze")).ok()).is_some_and(|v| v.trim() == "1"),
            _ => self.dir_of("freezer").and_then(|d| fs::read_to_string(d.join("freezer.state")).ok()).is_some_and(|v| v.trim() != "THAWED"),
        }
    }

    /// Freeze (`true`) or thaw every process, waiting until the kernel reports it done.
    pub fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let timeout = Duration::from_secs(5);
        match self.layout {
            Layout::Unified => {
                let Some(dir) = self.unified_dir() else { return Ok(()) };
                write_file(&dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
                let wanted = if frozen { "frozen 1" } else { "frozen 0" };
                wait_until(dir, timeout, wanted, || Ok(read_file(&dir.join("cgroup.events"))?.lines().any(|l| l == wanted)))
            }
            Layout::Hybrid | Layout::Legacy => {
                let Some(dir) = self.dir_of("freezer") else {
                    return Err(CgroupError::Invalid { field: "freezer", reason: "the freezer controller is not mounted".into() });
                };
                let wanted = if frozen { "FROZEN" } else { "THAWED" };
                let file = dir.join("freezer.state");
                let deadline = Instant::now() + timeout;
                loop {
                    // FREEZING can stall on a busy process: writing again retries it.
                    write_file(&file, wanted)?;
                    if read_file(&file)?.trim() == wanted {
                        return Ok(());
                    }
                    if Instant::now() > deadline {
                        return Err(CgroupError::FreezeTimeout { path: dir.to_path_buf(), wanted, seconds: timeout.as_secs() });
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    /// Every process in the container's cgroup, including sub-cgroups, sorted.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(dir) = self.procs_dir() else { return Ok(Vec::new()) };
        let mut pids = Vec::new();
        collect_pids(dir, &mut pids)?;
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Signal every process: `cgroup.kill` for SIGKILL on v2 where the kernel has it;
    /// otherwise freeze, signal each process, thaw (no process can fork away meanwhile).
    pub fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        if signal == libc::SIGKILL && self.layout == Layout::Unified {
            if let Some(dir) = self.unified_dir() {
                let kill_file = dir.join("cgroup.kill");
                if kill_file.exists() {
                    return write_file(&kill_file, "1");
                }
            }
        }
        let can_freeze = self.layout == Layout::Unified || self.dir_of("freezer").is_some();
        let was_frozen = self.is_frozen();
        if can_freeze && !was_frozen {
            self.set_frozen(true)?;
        }
        let result = self.pids().map(|pids| {
            for pid in pids {
                // A process that exits meanwhile is fine; others are reported below.
                let _ = kill_pid(pid, signal);
            }
        });
        if can_freeze && !was_frozen {
            self.set_frozen(false)?;
        }
        result
    }

    /// Remove the directories (innermost first), killing anything still inside.
    pub fn destroy(&self) -> Result<(), CgroupError> {
        if self.pids().map(|p| !p.is_empty()).unwrap_or(false) {
            self.signal_all(libc::SIGKILL)?;
        }
        // Frozen processes cannot act on SIGKILL (v1 freezer): let them die.
        if self.is_frozen() {
            self.set_frozen(false)?;
        }
        for dir in &self.dirs {
            remove_tree(&dir.path)?;
        }
        Ok(())
    }
}

/// The directory of the container in `hierarchy`.
fn directory_in(hierarchy: &CgroupHierarchy, own: &[ProcessCgroup], requested: &Path) -> PathBuf {
    let mount = Path::new(&hierarchy.mount_point);
    let within = if requested.is_absolute() {
        requested.to_path_buf()
    } else {
        let own_path = cgroup_path_in(hierarchy, own).unwrap_or("/");
        // Our cgroup path is relative to the hierarchy root; the mount may show a subtree.
        let own_path = Path::new(own_path).strip_prefix(&hierarchy.root).unwrap_or(Path::new(own_path));
        Path::new("/").join(own_path).join(requested)
    };
    mount.join(within.strip_prefix("/").unwrap_or(&within))
}

fn create_dir_chain(path: &Path, copy_cpuset: bool) -> Result<(), CgroupError> {
    let mut missing = Vec::new();
    let mut current = path;
    while !current.exists() {
        missing.push(current.to_path_buf());
        match current.parent() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    for dir in missing.iter().rev() {
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error("create cgroup", dir, None)(e)),
        }
        if copy_cpuset {
            if let Some(parent) = dir.parent() {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    if read_file(&dir.join(file))?.trim().is_empty() {
                        write_file(&dir.join(file), read_file(&parent.join(file))?.trim())?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// On v2, enable every available controller in each ancestor's `cgroup.subtree_control`, from
/// the mount `root` down to the container's parent, so the container's directory has them.
fn enable_controllers(root: &Path, dir: &Path) -> Result<(), CgroupError> {
    let Ok(relative) = dir.strip_prefix(root) else { return Ok(()) };
    let mut current = root.to_path_buf();
    for component in relative.components() {
        let available = read_file(&current.join("cgroup.controllers"))?;
        let enabled = read_file(&current.join("cgroup.subtree_control"))?;
        let missing: Vec<String> = available
            .split_whitespace()
            .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
            .map(|c| format!("+{c}"))
            .collect();
        // Usually one write per level, and none once the tree is set up. If the kernel
        // refuses the batch, try each: one it will not enable here (a busy threaded domain,
        // say) is reported when the container asks for one of its files.
        if !missing.is_empty() && fs::write(current.join("cgroup.subtree_control"), missing.join(" ")).is_err() {
            for controller in &missing {
                let _ = fs::write(current.join("cgroup.subtree_control"), controller);
            }
        }
        current.push(component);
    }
    Ok(())
}

fn collect_pids(dir: &Path, pids: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = match fs::read_to_string(dir.join("cgroup.procs")) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("read", &dir.join("cgroup.procs"), None)(e)),
    };
    pids.extend(procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_pids(&entry.path(), pids)?;
            }
        }
    }
    Ok(())
}

/// rmdir a cgroup and its sub-cgroups. EBUSY right after the last process exited is
/// retried for a moment (the kernel releases the cgroup asynchronously).
fn remove_tree(path: &Path) -> Result<(), CgroupError> {
    if let Ok(entries) = fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&entry.path())?;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(io_error("remove cgroup", path, None)(e)),
        }
    }
}

fn wait_until(dir: &Path, timeout: Duration, wanted: &'static str, mut done: impl FnMut() -> Result<bool, CgroupError>) -> Result<(), CgroupError> {
    let deadline = Instant::now() + timeout;
    while !done()? {
        if Instant::now() > deadline {
            return Err(CgroupError::FreezeTimeout { path: dir.to_path_buf(), wanted, seconds: timeout.as_secs() });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Write `value` to an existing cgroup file (never creating it).
pub fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    let mut file = fs::OpenOptions::new().write(true).open(path).map_err(io_error("open", path, Some(value)))?;
    std::io::Write::write_all(&mut file, value.as_bytes()).map_err(io_error("write", path, Some(value)))
}

/// Read a cgroup file.
pub fn read_file(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(io_error("read", path, None))
}

/// Whether `errno` says a file is missing (for optional statistics).
pub fn is_missing(error: &CgroupError) -> bool {
    matches!(error, CgroupError::Io { source, .. } if source.kind() == ErrorKind::NotFound || source.raw_os_error() == Some(Errno::ENODEV as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_paths_like_runc() {
        assert_eq!(requested_path(None, "c1").unwrap(), PathBuf::from("/c1"));
        assert_eq!(requested_path(Some(Path::new("")), "c1").unwrap(), PathBuf::from("/c1"));
        assert_eq!(requested_path(Some(Path::new("/a/b")), "c1").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(requested_path(Some(Path::new("/a/../../..")), "c1").unwrap(), PathBuf::from("/"));
        assert_eq!(requested_path(Some(Path::new("/../etc")), "c1").unwrap(), PathBuf::from("/etc"));
        assert_eq!(requested_path(Some(Path::new("a/../../b")), "c1").unwrap(), PathBuf::from("b"));
        assert!(requested_path(Some(Path::new("system.slice:skiff:c1")), "c1").is_err());
    }

    #[test]
    fn directories_per_hierarchy() {
        let memory = CgroupHierarchy { mount_point: "/sys/fs/cgroup/memory".into(), root: "/".into(), controllers: vec!["memory".into()], unified: false };
        let unified = CgroupHierarchy { mount_point: "/sys/fs/cgroup".into(), root: "/".into(), controllers: vec![], unified: true };
        let own = parse_proc_cgroup("4:memory:/session\n0::/user.slice\n");
        assert_eq!(directory_in(&memory, &own, Path::new("/c1")), PathBuf::from("/sys/fs/cgroup/memory/c1"));
        assert_eq!(directory_in(&memory, &own, Path::new("c1")), PathBuf::from("/sys/fs/cgroup/memory/session/c1"));
        assert_eq!(directory_in(&unified, &own, Path::new("c1")), PathBuf::from("/sys/fs/cgroup/user.slice/c1"));
    }
}
