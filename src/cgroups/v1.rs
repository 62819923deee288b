//! The cgroupfs manager of a v1 host, hybrid hosts included: one directory per hierarchy
//! (and the cgroup2 tree's too on a hybrid host, as runc does), the devices controller's
//! allow/deny lists, and the freezer.

use std::path::{Path, PathBuf};
use std::time::Instant;

use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

use super::fs::{FREEZE_TIMEOUT, check_unused, collect_pids, create_dir_chain, read_file, write_file};
use super::resources::Write;
use super::{CgroupError, CgroupPlan, ContainerCgroup, ExecCgroups, HostCgroups, Layout, Manager, devices, stats};
use crate::sys::mountinfo::{CgroupHierarchy, ProcessCgroup, cgroup_hierarchies, cgroup_path_in, parse_mountinfo, parse_proc_cgroup};

/// One directory of a container's cgroup: a v1 hierarchy's, or the cgroup2 one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupDir {
    /// Controllers of the hierarchy (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty for v2.
    pub controllers: Vec<String>,
    /// Whether this is a cgroup2 directory.
    pub unified: bool,
    /// Absolute path of the container's directory.
    pub path: PathBuf,
    /// The topmost directory the cgroupfs driver had to make for it (itself or a parent),
    /// removed again at delete if empty; none for the systemd driver, whose slices are its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_from: Option<PathBuf>,
}

/// A container's cgroup on a v1 or hybrid host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V1Cgroup {
    /// The directories, one per hierarchy.
    pub dirs: Vec<CgroupDir>,
    /// Where the cgroup2 tree is mounted on a hybrid host.
    pub unified_root: Option<PathBuf>,
}

impl V1Cgroup {
    /// The directories for `requested` in every hierarchy mounted under the host's root
    /// (absolute: from each hierarchy's root; relative: from our own cgroup in it).
    pub fn locate(host: &HostCgroups, requested: &Path) -> Result<V1Cgroup, CgroupError> {
        let hierarchies: Vec<CgroupHierarchy> = cgroup_hierarchies(&parse_mountinfo(&host.mountinfo))
            .into_iter()
            .filter(|h| Path::new(&h.mount_point).starts_with(&host.root))
            .filter(|h| host.layout == Layout::Hybrid || !h.unified)
            .collect();
        let own = parse_proc_cgroup(&host.own_cgroup);
        let dirs: Vec<CgroupDir> = hierarchies
            .iter()
            .map(|h| CgroupDir { controllers: h.controllers.clone(), unified: h.unified, path: directory_in(h, &own, requested), made_from: None })
            .collect();
        if dirs.is_empty() {
            return Err(CgroupError::NoCgroupFs(host.root.clone()));
        }
        let unified_root = hierarchies.iter().find(|h| h.unified).map(|h| PathBuf::from(&h.mount_point));
        Ok(V1Cgroup { dirs, unified_root })
    }

    /// The directory holding `controller`, if any v1 hierarchy has it.
    pub fn dir_of(&self, controller: &str) -> Option<&Path> {
        self.dirs.iter().find(|d| !d.unified && d.controllers.iter().any(|c| c == controller)).map(|d| d.path.as_path())
    }

    /// The cgroup2 directory of a hybrid host.
    pub fn unified_dir(&self) -> Option<&Path> {
        self.dirs.iter().find(|d| d.unified).map(|d| d.path.as_path())
    }

    /// A directory to list processes from: a hierarchy every process is in.
    fn procs_dir(&self) -> Option<&Path> {
        ["pids", "memory", "devices", "freezer", "cpu"].iter().find_map(|c| self.dir_of(c)).or_else(|| self.dirs.first().map(|d| d.path.as_path()))
    }

    fn write_all(&self, mut writes: Vec<Write>) -> Result<(), CgroupError> {
        if let Some(dir) = self.dir_of("memory") {
            super::resources::lift_swap_with_memory(&mut writes, dir.join("memory.memsw.limit_in_bytes").exists());
        }
        if let Some(dir) = self.dir_of("memory")
            && writes.iter().any(|w| w.file == "memory.memsw.limit_in_bytes")
        {
            let current = read_file(&dir.join("memory.limit_in_bytes"))?.trim().parse().unwrap_or(u64::MAX);
            super::resources::order_v1_memory(&mut writes, current);
        }
        // A shorter period with the old quota can exceed a parent's quota (a pod's), and a
        // realtime period shorter than the old runtime is below it: the kernel refuses
        // either (EINVAL). As runc does, retry the period once its partner is in.
        let partner_of = |file: &str| match file {
            "cpu.cfs_period_us" => Some("cpu.cfs_quota_us"),
            "cpu.rt_period_us" => Some("cpu.rt_runtime_us"),
            _ => None,
        };
        let mut refused_periods = Vec::new();
        for w in &writes {
            match self.write_one(w) {
                Err(error) if partner_of(&w.file).is_some_and(|partner| writes.iter().any(|p| p.file == partner)) && super::fs::is_invalid_argument(&error) => {
                    refused_periods.push(w);
                }
                result => result?,
            }
            if let Some(at) = refused_periods.iter().position(|period| partner_of(&period.file) == Some(w.file.as_str())) {
                self.write_one(refused_periods.remove(at))?;
            }
        }
        Ok(())
    }

    fn write_one(&self, w: &Write) -> Result<(), CgroupError> {
        let missing = || CgroupError::Invalid {
            field: "linux.resources",
            reason: format!("{} needs the {} controller, which this host does not mount", w.file, w.controller),
        };
        let Some(dir) = self.dir_of(w.controller) else {
            // A hybrid host can have a controller only in its cgroup2 tree (hugetlb here):
            // write the v2 form of the file there.
            let dir = self.unified_dir().filter(|_| w.controller == "hugetlb").ok_or_else(missing)?;
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

    /// Write `pid` into every directory.
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        self.dirs.iter().try_for_each(|dir| write_file(&dir.path.join("cgroup.procs"), &pid.to_string()))
    }

    /// Move the calling thread, a new single-threaded init or exec'd process, into every v1
    /// hierarchy: `0` to each `tasks` file. A thread that moves itself is spared the kernel's
    /// global threadgroup lock, whose first taking after a quiet spell waits out an RCU grace
    /// period (about 9 ms on this VM) while holding `cgroup_mutex`; a runtime that writes the
    /// pid to `cgroup.procs` pays it, and every other cgroup operation on the host waits with
    /// it. The cgroup2 directory of a hybrid host is not written: the process is cloned into it.
    pub fn enter_self(&self) -> Result<(), CgroupError> {
        self.dirs.iter().filter(|dir| !dir.unified).try_for_each(|dir| write_file(&dir.path.join("tasks"), "0"))
    }

    /// Make the directories (cpuset's copied from the parent), and enable the controllers of
    /// the cgroup2 tree of a hybrid host.
    pub fn make_dirs(&self) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            create_dir_chain(&dir.path, dir.controllers.iter().any(|c| c == "cpuset"))?;
        }
        // On hybrid hosts controllers may live in the unified tree too (hugetlb here).
        if let (Some(dir), Some(root)) = (self.unified_dir(), self.unified_root.as_deref()) {
            super::fs::enable_controllers(root, dir)?;
        }
        Ok(())
    }

    /// Apply resource writes and the device lists.
    pub fn apply(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.write_all(plan.writes.clone())?;
        if let Some(dir) = self.dir_of("devices").filter(|_| !plan.skip_devices) {
            // In order, each run of rules to the same file through one open of it.
            let writes = devices::v1_writes(&plan.device_rules);
            for run in writes.chunk_by(|a, b| a.0 == b.0) {
                let values: Vec<&str> = run.iter().map(|(_, value)| value.as_str()).collect();
                // (chunk_by yields no empty run)
                super::fs::write_each(&dir.join(run[0].0), &values)?;
            }
        }
        Ok(())
    }
}

impl Manager for V1Cgroup {
    fn check_unused(&self) -> Result<(), CgroupError> {
        self.dirs.iter().try_for_each(|dir| check_unused(&dir.path))
    }

    fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError> {
        Ok(CgroupPlan { writes: super::resources::v1_writes(resources)?, device_rules: devices::effective_rules(spec)?, ..CgroupPlan::default() })
    }

    fn location(&self) -> &Path {
        self.dirs.first().map_or(Path::new("/"), |d| d.path.as_path())
    }

    fn may_create(&self) -> bool {
        self.dirs.iter().all(|dir| super::fs::may_create(&dir.path))
    }

    fn prepare(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.make_dirs()?;
        self.apply(plan)
    }

    fn clone_dir(&self, _init: bool) -> Option<&Path> {
        // CLONE_INTO_CGROUP takes one cgroup2 directory; v1 needs a write per hierarchy.
        None
    }

    fn enter_init(&self, pid: i32, _plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.add_process(pid)
    }

    fn freezer_dir(&self) -> Option<&Path> {
        self.dir_of("freezer")
    }

    fn enter_exec(&self, pid: i32, _cloned_into: bool) -> Result<(), CgroupError> {
        self.add_process(pid)
    }

    fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        super::fs::check_memory_usage(resources, self.dir_of("memory").map(|dir| dir.join("memory.usage_in_bytes")).as_deref())?;
        self.write_all(super::resources::v1_writes(resources)?)
    }

    fn is_frozen(&self) -> bool {
        self.dir_of("freezer").and_then(|d| std::fs::read_to_string(d.join("freezer.state")).ok()).is_some_and(|v| v.trim() != "THAWED")
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let Some(dir) = self.dir_of("freezer") else {
            return Err(CgroupError::Invalid { field: "freezer", reason: "the freezer controller is not mounted".into() });
        };
        let wanted = if frozen { "FROZEN" } else { "THAWED" };
        let file = dir.join("freezer.state");
        let deadline = Instant::now() + FREEZE_TIMEOUT;
        loop {
            // FREEZING can stall on a busy process: writing again retries it.
            write_file(&file, wanted)?;
            if read_file(&file)?.trim() == wanted {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(CgroupError::FreezeTimeout { path: dir.to_path_buf(), wanted, seconds: FREEZE_TIMEOUT.as_secs() });
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(dir) = self.procs_dir() else { return Ok(Vec::new()) };
        let mut pids = Vec::new();
        collect_pids(dir, &mut pids)?;
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Freeze (where the freezer is mounted), signal each process, thaw.
    fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        super::fs::signal_each(self, signal, self.dir_of("freezer").is_some() && !self.is_frozen())
    }

    fn stats(&self) -> Result<stats::Stats, CgroupError> {
        stats::v1_stats(|controller| self.dir_of(controller))
    }

    fn oom_kills(&self) -> u64 {
        self.dir_of("memory").map(|dir| stats::oom_kills(&dir.join("memory.oom_control"))).unwrap_or(0)
    }

    fn destroy(&self) -> Result<(), CgroupError> {
        super::fs::kill_what_is_left(self)?;
        self.dirs.iter().try_for_each(|dir| super::fs::remove_made(&dir.path, dir.made_from.as_deref()))
    }

    fn sub_cgroup(&self, requests: &ExecCgroups) -> Result<ContainerCgroup, CgroupError> {
        requests.check_controllers(self.dirs.iter().flat_map(|dir| dir.controllers.iter()))?;
        let mut sub = self.clone();
        for dir in &mut sub.dirs {
            let Some(path) = requests.for_hierarchy(&dir.controllers) else { continue };
            dir.path = ExecCgroups::existing(&dir.path, path)?;
        }
        Ok(ContainerCgroup::V1(sub))
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

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_MOUNTINFO: &str = "\
25 24 0:22 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer
";

    fn host(layout: Layout) -> HostCgroups {
        HostCgroups {
            root: "/sys/fs/cgroup".into(),
            layout,
            mountinfo: HYBRID_MOUNTINFO.into(),
            own_cgroup: "4:memory:/session\n3:cpu,cpuacct:/b\n2:freezer:/\n0::/user.slice\n".into(),
            systemd_running: false,
        }
    }

    #[test]
    fn directories_per_hierarchy() {
        let hybrid = V1Cgroup::locate(&host(Layout::Hybrid), Path::new("/c1")).unwrap();
        assert_eq!(hybrid.dirs.len(), 4);
        assert_eq!(hybrid.unified_dir(), Some(Path::new("/sys/fs/cgroup/unified/c1")));
        assert_eq!(hybrid.dir_of("cpuacct"), Some(Path::new("/sys/fs/cgroup/cpu,cpuacct/c1")));
        assert_eq!(hybrid.unified_root.as_deref(), Some(Path::new("/sys/fs/cgroup/unified")));
        let legacy = V1Cgroup::locate(&host(Layout::Legacy), Path::new("c1")).unwrap();
        assert_eq!(legacy.dirs.len(), 3);
        assert_eq!(legacy.unified_dir(), None);
        assert_eq!(legacy.dir_of("memory"), Some(Path::new("/sys/fs/cgroup/memory/session/c1")));
        assert_eq!(legacy.clone_dir(true), None);
    }

    /// A v1 fixture: enter writes the pid everywhere, applies the limits and device lists.
    #[test]
    fn enter_init_on_a_fixture() {
        let root = tempfile::tempdir().unwrap();
        let cgroup = V1Cgroup {
            dirs: ["memory", "devices"]
                .iter()
                .map(|c| CgroupDir { controllers: vec![c.to_string()], unified: false, path: root.path().join(c).join("c1"), made_from: None })
                .collect(),
            unified_root: None,
        };
        cgroup.make_dirs().unwrap();
        for file in
            ["memory/c1/cgroup.procs", "memory/c1/memory.limit_in_bytes", "devices/c1/cgroup.procs", "devices/c1/devices.allow", "devices/c1/devices.deny"]
        {
            std::fs::write(root.path().join(file), "").unwrap();
        }
        let resources: LinuxResources = serde_json::from_str(r#"{"memory": {"limit": 1048576}}"#).unwrap();
        let spec: Spec = serde_json::from_str(r#"{"ociVersion": "1.0.2", "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]}}}"#).unwrap();
        let plan = cgroup.plan(&resources, &spec).unwrap();
        cgroup.apply(&plan).unwrap();
        cgroup.enter_init(42, &plan).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("memory/c1/cgroup.procs")).unwrap(), "42");
        assert_eq!(std::fs::read_to_string(root.path().join("devices/c1/cgroup.procs")).unwrap(), "42");
        assert_eq!(std::fs::read_to_string(root.path().join("memory/c1/memory.limit_in_bytes")).unwrap(), "1048576");
        // The last allow write of runc's default list.
        assert!(!std::fs::read_to_string(root.path().join("devices/c1/devices.allow")).unwrap().is_empty());
        let error = cgroup.set_frozen(true).unwrap_err().to_string();
        assert!(error.contains("freezer"), "{error}");
    }
}
