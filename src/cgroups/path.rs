//! Where a container's cgroup goes: `linux.cgroupsPath` read as runc reads it for the
//! cgroupfs driver (a path) and for the systemd driver (`slice:prefix:name`), and the
//! `exec --cgroup` requests. Pure functions.

use std::path::{Component, Path, PathBuf};

use super::CgroupError;

fn invalid(field: &'static str, reason: String) -> CgroupError {
    CgroupError::Invalid { field, reason }
}

/// `linux.cgroupsPath` as runc reads it without systemd: empty means `/<id>`; an absolute
/// path is taken from the hierarchy root; a relative one from the runtime's own cgroup.
/// `..` cannot climb above the root. The systemd form `slice:prefix:name` is refused.
pub fn cgroupfs_path(cgroups_path: Option<&Path>, id: &str) -> Result<PathBuf, CgroupError> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    if raw.is_empty() {
        return Ok(PathBuf::from("/").join(id));
    }
    if !raw.starts_with('/') && raw.matches(':').count() == 2 {
        return Err(invalid(
            "linux.cgroupsPath",
            format!("{raw:?} is a systemd slice:prefix:name path; it needs the systemd cgroup driver (--systemd-cgroup)"),
        ));
    }
    Ok(clean_path(&raw))
}

/// Remove `.`, `..` (never above the root) and repeated slashes; a relative path stays
/// relative.
fn clean_path(raw: &str) -> PathBuf {
    let mut clean = PathBuf::from("/");
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    if raw.starts_with('/') { clean } else { clean.strip_prefix("/").map(Path::to_path_buf).unwrap_or(clean) }
}

/// A systemd unit for a container: the parent slice and the unit's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemdUnit {
    /// The parent slice as systemd names it (`system.slice`, `-.slice` for the root).
    pub slice: String,
    /// The unit: `prefix-name.scope`, or `name` when it is itself a slice.
    pub unit: String,
    /// The container's name part, for the unit's description.
    pub name: String,
}

impl SystemdUnit {
    /// Whether the unit is a slice (made with `Wants=` its parent) rather than a scope.
    pub fn is_slice(&self) -> bool {
        self.unit.ends_with(".slice")
    }

    /// The unit's cgroup below the hierarchy root: the expanded slice, then the unit.
    pub fn cgroup_path(&self) -> Result<PathBuf, CgroupError> {
        Ok(expand_slice(&self.slice)?.join(&self.unit))
    }
}

/// The prefix of units made for an empty `cgroupsPath` (runc uses `runc`).
pub const DEFAULT_PREFIX: &str = "skiff";

/// The slice units go to when the path names none (runc's default for root).
pub const DEFAULT_SLICE: &str = "system.slice";

/// The same for a rootless runtime, in the user's own systemd instance (runc's default).
pub const DEFAULT_USER_SLICE: &str = "user.slice";

/// `linux.cgroupsPath` for the systemd driver, as runc reads it: `slice:prefix:name`;
/// empty means `<default slice>:skiff:<id>`; an empty slice means the default slice
/// (`system.slice`, or `user.slice` rootless) and `-` the root slice; a name ending in
/// `.slice` makes the unit a slice.
pub fn systemd_unit(cgroups_path: Option<&Path>, id: &str, default_slice: &str) -> Result<SystemdUnit, CgroupError> {
    let raw = cgroups_path.map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let (slice, prefix, name) = if raw.is_empty() {
        (String::new(), DEFAULT_PREFIX.to_string(), id.to_string())
    } else {
        let parts: Vec<&str> = raw.split(':').collect();
        let [slice, prefix, name] = parts.as_slice() else {
            return Err(invalid(
                "linux.cgroupsPath",
                format!("{raw:?}: the systemd cgroup driver expects slice:prefix:name (for example system.slice:skiff:{id})"),
            ));
        };
        (slice.to_string(), prefix.to_string(), name.to_string())
    };
    let slice = match slice.as_str() {
        "" => default_slice.to_string(),
        "-" => "-.slice".to_string(),
        _ => slice,
    };
    // The slice must be one systemd accepts; checked now, before anything exists.
    expand_slice(&slice)?;
    let valid_part = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b));
    if !valid_part(&name) || name.contains(':') || (!prefix.is_empty() && !valid_part(&prefix)) {
        return Err(invalid("linux.cgroupsPath", format!("{raw:?}: the prefix and name must be non-empty unit name characters (letters, digits, - _ . \\ @)")));
    }
    let unit = if name.ends_with(".slice") {
        expand_slice(&name)?;
        name.clone()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    Ok(SystemdUnit { slice, unit, name })
}

/// A slice name as a cgroup path: `a-b-c.slice` is `/a.slice/a-b.slice/a-b-c.slice`, and
/// `-.slice` (the root slice) is `/`. systemd's own rules for slice names.
pub fn expand_slice(slice: &str) -> Result<PathBuf, CgroupError> {
    let bad = |why: &str| invalid("linux.cgroupsPath", format!("invalid slice name {slice:?}: {why}"));
    let Some(stem) = slice.strip_suffix(".slice") else { return Err(bad("it must end in .slice")) };
    if slice == "-.slice" {
        return Ok(PathBuf::from("/"));
    }
    if stem.is_empty() || slice.contains('/') {
        return Err(bad("it must name a slice and hold no /"));
    }
    let mut path = PathBuf::from("/");
    let mut prefix = String::new();
    for component in stem.split('-') {
        if component.is_empty() {
            return Err(bad("- separates non-empty parts"));
        }
        prefix.push_str(component);
        path.push(format!("{prefix}.slice"));
        prefix.push('-');
    }
    Ok(path)
}

/// What `exec --cgroup` asks for: a sub-cgroup for every hierarchy, and per-controller ones
/// (v1), each a relative path that stays below the container's cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecCgroups {
    /// `--cgroup path`: every hierarchy.
    pub default: Option<PathBuf>,
    /// `--cgroup controller[,controller...]:path`.
    pub by_controller: Vec<(Vec<String>, PathBuf)>,
}

impl ExecCgroups {
    /// Parse runc's `--cgroup` values.
    pub fn parse(requests: &[String]) -> Result<ExecCgroups, CgroupError> {
        let mut parsed = ExecCgroups::default();
        for request in requests {
            let (controllers, path) = match request.split_once(':') {
                Some((controllers, path)) => (controllers.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect::<Vec<_>>(), path),
                None => (Vec::new(), request.as_str()),
            };
            // As runc: the path is the container's cgroup joined with it, so a leading /
            // starts at the container's cgroup (`/` alone is that cgroup itself).
            let given = Path::new(path);
            let path: PathBuf = given.components().skip_while(|c| matches!(c, Component::RootDir)).collect();
            let below = path.components().all(|c| matches!(c, Component::Normal(_)));
            if (path.as_os_str().is_empty() && !given.has_root()) || !below {
                return Err(invalid(
                    "exec --cgroup",
                    format!("bad sub cgroup path: {0}: {0} is not a sub cgroup path: it must stay below the container's cgroup", path.display()),
                ));
            }
            if controllers.is_empty() {
                parsed.default = Some(path.to_path_buf());
            } else {
                parsed.by_controller.push((controllers, path.to_path_buf()));
            }
        }
        Ok(parsed)
    }

    /// `dir` joined with `sub`, which must be an existing cgroup (exec joins, never makes);
    /// an empty `sub` is `dir` itself.
    pub fn existing(dir: &Path, sub: &Path) -> Result<PathBuf, CgroupError> {
        if sub.as_os_str().is_empty() {
            return Ok(dir.to_path_buf());
        }
        let path = dir.join(sub);
        if !path.is_dir() {
            // runc's words (its write of the pid fails), checked before any process exists.
            return Err(invalid(
                "exec --cgroup",
                format!("not adding pid to {}: no such file or directory (exec --cgroup joins an existing sub-cgroup)", path.join("cgroup.procs").display()),
            ));
        }
        Ok(path)
    }

    /// Refuse a controller named in `controller:path` that none of `mounted` (the container's
    /// hierarchies' controllers) has, in runc's words.
    pub fn check_controllers<'a>(&self, mounted: impl Iterator<Item = &'a String> + Clone) -> Result<(), CgroupError> {
        for (names, _) in &self.by_controller {
            if let Some(unknown) = names.iter().find(|name| !mounted.clone().any(|m| m == *name)) {
                return Err(invalid("exec --cgroup", format!("unknown controller {unknown} in --cgroup")));
            }
        }
        Ok(())
    }

    /// The sub-path for a hierarchy with `controllers` (v1), or for v2 (no controllers).
    pub fn for_hierarchy(&self, controllers: &[String]) -> Option<&Path> {
        self.by_controller.iter().find(|(names, _)| names.iter().any(|n| controllers.contains(n))).map(|(_, path)| path.as_path()).or(self.default.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroupfs_paths_like_runc() {
        assert_eq!(cgroupfs_path(None, "c1").unwrap(), PathBuf::from("/c1"));
        assert_eq!(cgroupfs_path(Some(Path::new("")), "c1").unwrap(), PathBuf::from("/c1"));
        assert_eq!(cgroupfs_path(Some(Path::new("/a/b")), "c1").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(cgroupfs_path(Some(Path::new("/a/../../..")), "c1").unwrap(), PathBuf::from("/"));
        assert_eq!(cgroupfs_path(Some(Path::new("/../etc")), "c1").unwrap(), PathBuf::from("/etc"));
        assert_eq!(cgroupfs_path(Some(Path::new("a/../../b")), "c1").unwrap(), PathBuf::from("b"));
        let error = cgroupfs_path(Some(Path::new("system.slice:skiff:c1")), "c1").unwrap_err().to_string();
        assert!(error.contains("--systemd-cgroup"), "{error}");
    }

    #[test]
    fn slices_expand_as_systemd_names_them() {
        assert_eq!(expand_slice("system.slice").unwrap(), PathBuf::from("/system.slice"));
        assert_eq!(expand_slice("-.slice").unwrap(), PathBuf::from("/"));
        assert_eq!(expand_slice("a-b-c.slice").unwrap(), PathBuf::from("/a.slice/a-b.slice/a-b-c.slice"));
        for bad in ["system", ".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "../x.slice"] {
            assert!(expand_slice(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn systemd_paths_like_runc() {
        let unit = |path: &str| systemd_unit(Some(Path::new(path)), "c1", DEFAULT_SLICE);
        assert_eq!(systemd_unit(None, "c1", DEFAULT_USER_SLICE).unwrap().slice, "user.slice");
        assert_eq!(
            systemd_unit(None, "c1", DEFAULT_SLICE).unwrap(),
            SystemdUnit { slice: "system.slice".into(), unit: "skiff-c1.scope".into(), name: "c1".into() }
        );
        assert_eq!(unit("system.slice:docker:abc").unwrap().unit, "docker-abc.scope");
        assert_eq!(unit("system.slice:docker:abc").unwrap().cgroup_path().unwrap(), PathBuf::from("/system.slice/docker-abc.scope"));
        assert_eq!(unit(":crio:x").unwrap().slice, "system.slice");
        let root = unit("-:skiff:x").unwrap();
        assert_eq!((root.slice.as_str(), root.cgroup_path().unwrap()), ("-.slice", PathBuf::from("/skiff-x.scope")));
        let pod = unit("kubepods-besteffort.slice::kubepods-besteffort-pod1.slice").unwrap();
        assert!(pod.is_slice());
        assert_eq!(pod.unit, "kubepods-besteffort-pod1.slice");
        assert_eq!(pod.cgroup_path().unwrap(), PathBuf::from("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice"));
        assert_eq!(unit("machine.slice::c2").unwrap().unit, "c2.scope");
        for bad in
            ["a:b", "a:b:c:d", "/abs/path", "system.slice:skiff:", "nonslice:skiff:x", "system.slice:sk/iff:x", "system.slice:skiff:x/../y", "a--b.slice:p:n"]
        {
            let error = unit(bad);
            assert!(error.is_err(), "{bad} gave {error:?}");
        }
    }

    #[test]
    fn exec_cgroup_requests() {
        let parsed = ExecCgroups::parse(&["sub".into(), "memory,pids:other".into()]).unwrap();
        assert_eq!(parsed.for_hierarchy(&[]), Some(Path::new("sub")));
        assert_eq!(parsed.for_hierarchy(&["pids".into()]), Some(Path::new("other")));
        assert_eq!(parsed.for_hierarchy(&["cpu".into(), "cpuacct".into()]), Some(Path::new("sub")));
        assert_eq!(ExecCgroups::parse(&["pids:x".into()]).unwrap().for_hierarchy(&["cpu".into()]), None);
        for bad in ["", "/..", "../up", "a/../b", "memory:"] {
            assert!(ExecCgroups::parse(&[bad.to_string()]).is_err(), "{bad}");
        }
        // runc joins the path to the container's cgroup: a leading / starts there.
        assert_eq!(ExecCgroups::parse(&["/abs".into()]).unwrap().for_hierarchy(&[]), Some(Path::new("abs")));
        assert_eq!(ExecCgroups::parse(&["pids:/".into()]).unwrap().for_hierarchy(&["pids".into()]), Some(Path::new("")));
        let mounted = ["pids".to_string(), "memory".to_string()];
        let unknown = ExecCgroups::parse(&["whaaat:/".into()]).unwrap().check_controllers(mounted.iter()).unwrap_err().to_string();
        assert!(unknown.contains("unknown controller whaaat in --cgroup"), "{unknown}");
        assert!(ExecCgroups::parse(&["pids,memory:x".into()]).unwrap().check_controllers(mounted.iter()).is_ok());
    }
}
