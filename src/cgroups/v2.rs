//! The cgroupfs manager of a unified (cgroup v2) host: one directory, controllers enabled in
//! the parents' `cgroup.subtree_control`, the eBPF device filter, `cgroup.freeze` and
//! `cgroup.kill`.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxResources, Spec};
use serde::{Deserialize, Serialize};

use super::fs::{check_unused, collect_pids, create_dir_chain, read_file, wait_until, write_file};
use super::resources::Write;
use super::{CgroupError, CgroupPlan, ContainerCgroup, ExecCgroups, HostCgroups, Manager, devices, stats};
use crate::sys::mountinfo::{cgroup_hierarchies, cgroup_path_in, parse_mountinfo, parse_proc_cgroup};

/// A container's cgroup on a v2 host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Cgroup {
    /// Where the cgroup2 filesystem is mounted.
    pub root: PathBuf,
    /// The container's directory.
    pub path: PathBuf,
    /// The topmost directory the cgroupfs driver had to make for it (see v1's `CgroupDir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_from: Option<PathBuf>,
}

impl V2Cgroup {
    /// The directory for `requested` (absolute: from the root; relative: from our own cgroup).
    pub fn locate(host: &HostCgroups, requested: &Path) -> Result<V2Cgroup, CgroupError> {
        let hierarchy = cgroup_hierarchies(&parse_mountinfo(&host.mountinfo))
            .into_iter()
            .find(|h| h.unified && Path::new(&h.mount_point) == host.root)
            .ok_or_else(|| CgroupError::NoCgroupFs(host.root.clone()))?;
        let within = if requested.is_absolute() {
            requested.to_path_buf()
        } else {
            let own = parse_proc_cgroup(&host.own_cgroup);
            let own_path = cgroup_path_in(&hierarchy, &own).unwrap_or("/");
            // Our cgroup path is relative to the hierarchy root; the mount may show a subtree.
            let own_path = Path::new(own_path).strip_prefix(&hierarchy.root).unwrap_or(Path::new(own_path));
            Path::new("/").join(own_path).join(requested)
        };
        Ok(V2Cgroup { path: host.root.join(within.strip_prefix("/").unwrap_or(&within)), root: host.root.clone(), made_from: None })
    }

    fn write_all(&self, writes: &[Write]) -> Result<(), CgroupError> {
        writes.iter().try_for_each(|w| write_file(&self.path.join(&w.file), &w.value))
    }

    fn planned_writes(&self, resources: &LinuxResources) -> Result<Vec<Write>, CgroupError> {
        super::resources::v2_writes(resources, self.path.join("io.bfq.weight").exists())
    }

    /// Refuse an update whose memory limit is below the current usage, when asked to check.
    /// Apply resource writes and the device filter.
    pub fn apply(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.write_all(&plan.writes)?;
        if !plan.skip_devices {
            devices::attach_program(&self.path, &devices::build_program(&plan.device_rules))?;
        }
        Ok(())
    }

    /// Make the directory, with every available controller enabled above it.
    pub fn make_dir(&self) -> Result<(), CgroupError> {
        create_dir_chain(&self.path, false)?;
        super::fs::enable_controllers(&self.root, &self.path)
    }

    /// Write `pid` into the cgroup.
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        write_file(&self.path.join("cgroup.procs"), &pid.to_string())
    }
}

impl Manager for V2Cgroup {
    fn check_unused(&self) -> Result<(), CgroupError> {
        check_unused(&self.path)
    }

    fn plan(&self, resources: &LinuxResources, spec: &Spec) -> Result<CgroupPlan, CgroupError> {
        Ok(CgroupPlan { writes: self.planned_writes(resources)?, device_rules: devices::effective_rules(spec)?, ..CgroupPlan::default() })
    }

    fn location(&self) -> &Path {
        &self.path
    }

    fn may_create(&self) -> bool {
        super::fs::may_create(&self.path)
    }

    fn prepare(&self, plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.make_dir()?;
        self.apply(plan)
    }

    fn clone_dir(&self, _init: bool) -> Option<&Path> {
        Some(&self.path)
    }

    fn enter_init(&self, _pid: i32, _plan: &CgroupPlan) -> Result<(), CgroupError> {
        // Init was cloned into the directory.
        Ok(())
    }

    fn enter_criu(&self, pid: i32, _plan: &CgroupPlan) -> Result<(), CgroupError> {
        self.add_process(pid)
    }

    fn freezer_dir(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn enter_exec(&self, pid: i32, cloned_into: bool) -> Result<(), CgroupError> {
        if cloned_into { Ok(()) } else { self.add_process(pid) }
    }

    fn update(&self, resources: &LinuxResources) -> Result<(), CgroupError> {
        super::fs::check_memory_usage(resources, Some(&self.path.join("memory.current")))?;
        self.write_all(&self.planned_writes(resources)?)
    }

    fn is_frozen(&self) -> bool {
        std::fs::read_to_string(self.path.join("cgroup.freeze")).is_ok_and(|v| v.trim() == "1")
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        write_file(&self.path.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
        let wanted = if frozen { "frozen 1" } else { "frozen 0" };
        wait_until(&self.path, wanted, || Ok(read_file(&self.path.join("cgroup.events"))?.lines().any(|l| l == wanted)))
    }

    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let mut pids = Vec::new();
        collect_pids(&self.path, &mut pids)?;
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// `cgroup.kill` for SIGKILL where the kernel has it; otherwise freeze, signal each
    /// process, thaw (no process can fork away meanwhile).
    fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        let kill_file = self.path.join("cgroup.kill");
        if signal == libc::SIGKILL && kill_file.exists() {
            return write_file(&kill_file, "1");
        }
        super::fs::signal_each(self, signal, !self.is_frozen())
    }

    fn stats(&self) -> Result<stats::Stats, CgroupError> {
        stats::v2_stats(&self.path)
    }

    fn oom_kills(&self) -> u64 {
        stats::oom_kills(&self.path.join("memory.events"))
    }

    fn destroy(&self) -> Result<(), CgroupError> {
        super::fs::kill_what_is_left(self)?;
        super::fs::remove_made(&self.path, self.made_from.as_deref())
    }

    fn sub_cgroup(&self, requests: &ExecCgroups) -> Result<ContainerCgroup, CgroupError> {
        if !requests.by_controller.is_empty() {
            return Err(CgroupError::Invalid { field: "exec --cgroup", reason: "controllers cannot be named on cgroup v2".into() });
        }
        let mut sub = self.clone();
        if let Some(path) = requests.for_hierarchy(&[]) {
            sub.path = ExecCgroups::existing(&self.path, path)?;
        }
        Ok(ContainerCgroup::V2(sub))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::Layout;

    fn host(root: &Path) -> HostCgroups {
        HostCgroups {
            root: root.to_path_buf(),
            layout: Layout::Unified,
            mountinfo: format!("30 25 0:26 / {} rw - cgroup2 cgroup2 rw\n", root.display()),
            own_cgroup: "0::/user.slice/session-1.scope\n".into(),
            systemd_running: false,
        }
    }

    #[test]
    fn locates_absolute_and_relative_paths() {
        let root = Path::new("/fixture/cgroup");
        assert_eq!(V2Cgroup::locate(&host(root), Path::new("/c1")).unwrap().path, root.join("c1"));
        assert_eq!(V2Cgroup::locate(&host(root), Path::new("c1")).unwrap().path, root.join("user.slice/session-1.scope/c1"));
        let mut no_mount = host(root);
        no_mount.mountinfo.clear();
        assert!(matches!(V2Cgroup::locate(&no_mount, Path::new("/c1")), Err(CgroupError::NoCgroupFs(_))));
    }

    /// A fixture tree: create enables the parent's controllers, update writes files.
    #[test]
    fn prepare_enables_controllers_and_update_writes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        std::fs::write(root.path().join("cgroup.subtree_control"), "memory\n").unwrap();
        let cgroup = V2Cgroup::locate(&host(root.path()), Path::new("/c1")).unwrap();
        cgroup.make_dir().unwrap();
        // A plain file takes the last write: the batch of missing controllers.
        assert_eq!(std::fs::read_to_string(root.path().join("cgroup.subtree_control")).unwrap(), "+cpu +pids");
        for file in ["memory.max", "pids.max", "memory.current"] {
            std::fs::write(cgroup.path.join(file), "").unwrap();
        }
        let resources: LinuxResources = serde_json::from_str(r#"{"memory": {"limit": 1048576}, "pids": {"limit": 10}}"#).unwrap();
        cgroup.update(&resources).unwrap();
        assert_eq!(std::fs::read_to_string(cgroup.path.join("memory.max")).unwrap(), "1048576");
        assert_eq!(std::fs::read_to_string(cgroup.path.join("pids.max")).unwrap(), "10");
        std::fs::write(cgroup.path.join("memory.current"), "2097152\n").unwrap();
        let checked: LinuxResources = serde_json::from_str(r#"{"memory": {"limit": 1048576, "checkBeforeUpdate": true}}"#).unwrap();
        assert!(cgroup.update(&checked).unwrap_err().to_string().contains("below the current usage"));
    }

    #[test]
    fn exec_sub_cgroups() {
        let root = tempfile::tempdir().unwrap();
        let cgroup = V2Cgroup { root: root.path().into(), path: root.path().join("c1"), made_from: None };
        std::fs::create_dir_all(cgroup.path.join("sub")).unwrap();
        let sub = cgroup.sub_cgroup(&ExecCgroups::parse(&["sub".into()]).unwrap()).unwrap();
        assert_eq!(sub.clone_dir(false), Some(cgroup.path.join("sub").as_path()));
        assert!(cgroup.sub_cgroup(&ExecCgroups::parse(&["missing".into()]).unwrap()).is_err());
        assert!(cgroup.sub_cgroup(&ExecCgroups::parse(&["memory:sub".into()]).unwrap()).is_err());
    }
}
