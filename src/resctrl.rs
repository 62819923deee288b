//! `linux.intelRdt`: the container's class of service (CLOS) and monitoring group in the
//! resctrl filesystem, as runtime-spec 1.3 describes them.
//!
//! The plan is pure (unit-tested); the group operations take the resctrl root, so tests run
//! them on a temporary directory. Only [`ResctrlRoot::find`] needs the real filesystem.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxIntelRdt;
use serde::{Deserialize, Serialize};

/// Where resctrl is mounted by convention.
pub const RESCTRL_MOUNT: &str = "/sys/fs/resctrl";

/// `RDTGROUP_SUPER_MAGIC`.
const RESCTRL_MAGIC: i64 = 0x0765_5821;

/// Why the container's resctrl group cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ResctrlError {
    /// The config asks for something the spec does not allow.
    #[error("linux.intelRdt: {0}")]
    Invalid(String),
    /// A file operation under the resctrl root failed.
    #[error("linux.intelRdt: {op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// The container's group, as the plan decided and the state keeps for delete and exec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdtGroup {
    /// The CLOS directory (the resctrl root itself for closID `/`).
    pub dir: PathBuf,
    /// Created for this container (no closID): removed at delete.
    pub owned: bool,
    /// `mon_groups/<id>` under the CLOS, with enableMonitoring.
    pub monitor: Option<PathBuf>,
}

/// What to do for `linux.intelRdt`, relative to the resctrl root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdtPlan {
    /// The CLOS directory, relative to the root ("" for the root CLOS).
    pub clos: PathBuf,
    /// Whether the CLOS is the container's own (no closID).
    pub owned: bool,
    /// The schemata lines to write, in the spec's order (L3, MB, then `schemata`).
    pub schemata: Vec<String>,
    /// The monitoring group, relative to the root.
    pub monitor: Option<PathBuf>,
}

/// Plan `rdt` for container `id`.
pub fn plan(rdt: &LinuxIntelRdt, id: &str) -> Result<RdtPlan, ResctrlError> {
    let (clos, owned) = match rdt.clos_id().as_deref() {
        None | Some("") => (PathBuf::from(id), true),
        Some("/") => (PathBuf::new(), false),
        Some(name) if name == "." || name == ".." || name.contains('/') => {
            return Err(ResctrlError::Invalid(format!("closID {name:?} is not a group name (a name without '/', or \"/\" for the default group)")));
        }
        Some(name) => (PathBuf::from(name), false),
    };
    let mut schemata: Vec<String> = Vec::new();
    schemata.extend(rdt.l3_cache_schema().iter().flat_map(|s| s.lines()).map(str::to_string));
    schemata.extend(rdt.mem_bw_schema().iter().flat_map(|s| s.lines()).map(str::to_string));
    schemata.extend(rdt.schemata().iter().flatten().cloned());
    schemata.retain(|line| !line.trim().is_empty());
    for line in &schemata {
        if !line.contains(':') || line.contains('\n') {
            return Err(ResctrlError::Invalid(format!("schemata line {line:?} is not RESOURCE:domain=value;...")));
        }
    }
    if clos.as_os_str().is_empty() && owned {
        return Err(ResctrlError::Invalid("a container id is needed for the group name".into()));
    }
    #[allow(deprecated)] // enableCMT/enableMBM: the spec's older names for enableMonitoring
    let monitoring = [*rdt.enable_monitoring(), *rdt.enable_cmt(), *rdt.enable_mbm()].contains(&Some(true));
    let monitor = monitoring.then(|| clos.join("mon_groups").join(id));
    Ok(RdtPlan { clos, owned, schemata, monitor })
}

/// The mounted resctrl filesystem.
#[derive(Debug, Clone)]
pub struct ResctrlRoot(PathBuf);

impl ResctrlRoot {
    /// resctrl at its usual place, or a clear error where the host has none.
    pub fn find() -> Result<ResctrlRoot, ResctrlError> {
        match nix::sys::statfs::statfs(RESCTRL_MOUNT) {
            Ok(stat) if stat.filesystem_type().0 == RESCTRL_MAGIC => Ok(ResctrlRoot(PathBuf::from(RESCTRL_MOUNT))),
            _ => Err(ResctrlError::Invalid(format!(
                "Intel RDT is asked for, but no resctrl filesystem is mounted at {RESCTRL_MOUNT} (it needs an RDT-capable CPU and kernel, then `mount -t resctrl resctrl {RESCTRL_MOUNT}`); remove linux.intelRdt to run without it"
            ))),
        }
    }

    /// A root at `path` (tests use a temporary directory).
    pub fn at(path: &Path) -> ResctrlRoot {
        ResctrlRoot(path.to_path_buf())
    }

    /// Make the planned group: the CLOS (created, or checked against an existing one), its
    /// schemata, and the monitoring group.
    pub fn prepare(&self, plan: &RdtPlan) -> Result<RdtGroup, ResctrlError> {
        let dir = self.0.join(&plan.clos);
        let io = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| ResctrlError::Io { op, path, source }
        };
        // Made here: then ours to fill with the schemata (and, when it is the container's
        // own, to remove at delete).
        let made = if plan.owned {
            std::fs::create_dir(&dir).map_err(io("create group", &dir))?;
            true
        } else if !dir.is_dir() {
            if plan.schemata.is_empty() {
                return Err(ResctrlError::Invalid(format!(
                    "closID names {}, which does not exist; without a schema it must be made beforehand",
                    dir.display()
                )));
            }
            std::fs::create_dir(&dir).map_err(io("create group", &dir))?;
            true
        } else {
            false
        };
        if !made && !plan.schemata.is_empty() {
            let current = std::fs::read_to_string(dir.join("schemata")).map_err(io("read", &dir.join("schemata")))?;
            if let Some(line) = plan.schemata.iter().find(|line| !schema_line_matches(&current, line)) {
                return Err(ResctrlError::Invalid(format!("the existing group {} has another schema than {line:?}", dir.display())));
            }
        }
        let group = RdtGroup { dir: dir.clone(), owned: plan.owned, monitor: plan.monitor.as_ref().map(|m| self.0.join(m)) };
        let result = (|| {
            if made && !plan.schemata.is_empty() {
                let text = plan.schemata.join("\n") + "\n";
                std::fs::write(dir.join("schemata"), text).map_err(|source| {
                    let status = std::fs::read_to_string(self.0.join("info/last_cmd_status")).unwrap_or_default();
                    ResctrlError::Invalid(format!("write {}: {source} {}", dir.join("schemata").display(), status.trim()))
                })?;
            }
            if let Some(monitor) = &group.monitor {
                std::fs::create_dir(monitor).map_err(io("create monitoring group", monitor))?;
            }
            Ok(())
        })();
        if let Err(error) = result {
            // Only what this call made: a monitoring group that already existed (a crashed
            // create, the same id under another --root) is not ours.
            if made {
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(error);
        }
        Ok(group)
    }
}

/// Whether the `RESOURCE:domain=value;...` line's values are what `schemata` (the kernel's
/// file) holds for that resource: masks compared as numbers, so `f` matches `00f`.
fn schema_line_matches(schemata: &str, line: &str) -> bool {
    let parse = |text: &str| -> Option<(String, Vec<(String, u64)>)> {
        let (resource, domains) = text.trim().split_once(':')?;
        let radix = if resource.trim().starts_with("MB") { 10 } else { 16 };
        let values = domains
            .split(';')
            .filter(|d| !d.trim().is_empty())
            .map(|d| {
                let (domain, value) = d.split_once('=')?;
                Some((domain.trim().to_string(), u64::from_str_radix(value.trim(), radix).ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some((resource.trim().to_string(), values))
    };
    let Some((resource, wanted)) = parse(line) else { return false };
    schemata.lines().filter_map(parse).any(|(r, have)| r == resource && wanted.iter().all(|w| have.contains(w)))
}

impl RdtGroup {
    /// Put `pid` in the group (and its monitoring group).
    pub fn add_process(&self, pid: i32) -> Result<(), ResctrlError> {
        std::iter::once(&self.dir).chain(self.monitor.as_ref()).try_for_each(|dir| write_tasks(dir, pid))
    }

    /// Put an exec'd process in the CLOS (as runc does).
    pub fn add_exec(&self, pid: i32) -> Result<(), ResctrlError> {
        write_tasks(&self.dir, pid)
    }

    /// `update --l3-cache-schema/--mem-bw-schema`: write the lines to the container's CLOS.
    pub fn update(&self, lines: &[String]) -> Result<(), ResctrlError> {
        let file = self.dir.join("schemata");
        std::fs::write(&file, lines.join("\n") + "\n").map_err(|source| ResctrlError::Io { op: "write", path: file, source })
    }
}

/// Write `pid` to the `tasks` file of group `dir`.
fn write_tasks(dir: &Path, pid: i32) -> Result<(), ResctrlError> {
    let tasks = dir.join("tasks");
    std::fs::write(&tasks, pid.to_string()).map_err(|source| ResctrlError::Io { op: "write", path: tasks, source })
}

/// Remove what the container made: its monitoring group, and its CLOS if it owned it.
pub fn remove(group: &RdtGroup) -> Result<(), ResctrlError> {
    let gone = |dir: &Path| match std::fs::remove_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ResctrlError::Io { op: "remove", path: dir.to_path_buf(), source: e }),
        _ => Ok(()),
    };
    if let Some(monitor) = &group.monitor {
        gone(monitor)?;
    }
    if group.owned {
        gone(&group.dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rdt(json: &str) -> LinuxIntelRdt {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn plans_follow_the_spec() {
        let p = plan(&rdt(r#"{"l3CacheSchema": "L3:0=f", "memBwSchema": "MB:0=50", "schemata": ["L2:0=3"], "enableMonitoring": true}"#), "c1").unwrap();
        assert_eq!(
            p,
            RdtPlan {
                clos: "c1".into(),
                owned: true,
                schemata: vec!["L3:0=f".into(), "MB:0=50".into(), "L2:0=3".into()],
                monitor: Some("c1/mon_groups/c1".into())
            }
        );
        let p = plan(&rdt(r#"{"closID": "/"}"#), "c1").unwrap();
        assert_eq!((p.clos, p.owned, p.monitor), (PathBuf::new(), false, None));
        let p = plan(&rdt(r#"{"closID": "gold", "enableMonitoring": true}"#), "c1").unwrap();
        assert_eq!((p.clos, p.owned, p.monitor), (PathBuf::from("gold"), false, Some(PathBuf::from("gold/mon_groups/c1"))));
        for bad in [r#"{"closID": ".."}"#, r#"{"closID": "a/b"}"#, r#"{"schemata": ["nocolon"]}"#] {
            assert!(matches!(plan(&rdt(bad), "c1"), Err(ResctrlError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn groups_are_made_filled_and_removed_on_a_fixture() {
        let root = tempfile::tempdir().unwrap();
        let resctrl = ResctrlRoot::at(root.path());
        let clean = |dir: &Path| ["tasks", "schemata"].iter().for_each(|f| drop(std::fs::remove_file(dir.join(f))));
        // The container's own CLOS, with its schemata in the spec's order.
        let own = plan(&rdt(r#"{"l3CacheSchema": "L3:0=f", "schemata": ["MB:0=40"]}"#), "c1").unwrap();
        let group = resctrl.prepare(&own).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("c1/schemata")).unwrap(), "L3:0=f\nMB:0=40\n");
        group.add_process(42).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("c1/tasks")).unwrap(), "42");
        clean(&group.dir); // (the real resctrl removes a group with its files)
        remove(&group).unwrap();
        assert!(!root.path().join("c1").exists(), "the container's own CLOS goes at delete");
        // A named CLOS that does not exist, with a schema: made and filled (and kept at delete).
        let new_named = plan(&rdt(r#"{"closID": "silver", "memBwSchema": "MB:0=30"}"#), "c1").unwrap();
        let group = resctrl.prepare(&new_named).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("silver/schemata")).unwrap(), "MB:0=30\n");
        remove(&group).unwrap();
        assert!(root.path().join("silver").is_dir());
        // A named CLOS that does not exist and has no schema: an error, nothing made.
        let missing = plan(&rdt(r#"{"closID": "gold"}"#), "c1").unwrap();
        assert!(resctrl.prepare(&missing).unwrap_err().to_string().contains("must be made beforehand"));
        assert!(!root.path().join("gold").exists());
        // An existing named CLOS: its schema must match (masks as numbers); monitoring gets
        // the container's group under it; only that is removed.
        std::fs::create_dir_all(root.path().join("gold/mon_groups")).unwrap();
        std::fs::write(root.path().join("gold/schemata"), "L3:0=00f;1=fff\nMB:0=100;1=100\n").unwrap();
        let other = plan(&rdt(r#"{"closID": "gold", "memBwSchema": "MB:0=50"}"#), "c1").unwrap();
        assert!(resctrl.prepare(&other).unwrap_err().to_string().contains("has another schema"));
        let same = plan(&rdt(r#"{"closID": "gold", "l3CacheSchema": "L3:0=f", "enableMonitoring": true}"#), "c1").unwrap();
        let group = resctrl.prepare(&same).unwrap();
        assert!(!group.owned);
        group.add_process(7).unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("gold/mon_groups/c1/tasks")).unwrap(), "7");
        assert_eq!(
            std::fs::read_to_string(root.path().join("gold/schemata")).unwrap(),
            "L3:0=00f;1=fff\nMB:0=100;1=100\n",
            "an existing group's schema is not rewritten"
        );
        clean(group.monitor.as_ref().unwrap());
        remove(&group).unwrap();
        assert!(!root.path().join("gold/mon_groups/c1").exists());
        assert!(root.path().join("gold").is_dir(), "a named group is not the container's to remove");
    }
}
