//! File operations on a cgroup filesystem, shared by the v1 and v2 managers: each failure
//! names the file (and the value written).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::CgroupError;

pub(super) fn io_error(op: &'static str, path: &Path, value: Option<&str>) -> impl FnOnce(std::io::Error) -> CgroupError {
    let path = path.to_path_buf();
    let value = value.map(str::to_string);
    move |source| CgroupError::Io { op, path, value, source }
}

/// Write `value` to an existing cgroup file (never creating it).
pub fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    write_each(path, &[value])
}

/// Write each of `values` to an existing cgroup file, one `write` per value through a single
/// open: a file that takes one entry per write (v1's `devices.allow` and `devices.deny`)
/// needs no path walk per entry.
pub fn write_each(path: &Path, values: &[&str]) -> Result<(), CgroupError> {
    let Some(first) = values.first() else { return Ok(()) };
    let mut file = fs::OpenOptions::new().write(true).open(path).map_err(io_error("open", path, Some(first)))?;
    values.iter().try_for_each(|value| std::io::Write::write_all(&mut file, value.as_bytes()).map_err(io_error("write", path, Some(value))))
}

/// Read a cgroup file.
pub fn read_file(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(io_error("read", path, None))
}

/// Whether the error says a file is missing (for optional statistics).
pub fn is_missing(error: &CgroupError) -> bool {
    matches!(error, CgroupError::Io { source, .. } if source.kind() == ErrorKind::NotFound || source.raw_os_error() == Some(Errno::ENODEV as i32))
}

/// Whether the kernel refused a write's value (EINVAL).
pub(super) fn is_invalid_argument(error: &CgroupError) -> bool {
    matches!(error, CgroupError::Io { source, .. } if source.raw_os_error() == Some(Errno::EINVAL as i32))
}

/// Whether a cgroup directory holds processes (a missing directory holds none).
pub(super) fn has_processes(dir: &Path) -> bool {
    fs::read_to_string(dir.join("cgroup.procs")).map(|p| !p.trim().is_empty()).unwrap_or(false)
}

/// Refuse a directory that already holds processes (the hierarchy root, the runtime's own
/// cgroup, a system slice, another container's): removing the container would kill them all.
/// runc 1.1 only warned and 1.2 refuses, in these words.
pub(super) fn check_unused(dir: &Path) -> Result<(), CgroupError> {
    if has_processes(dir) {
        let mut pids = Vec::new();
        collect_pids(dir, &mut pids)?;
        return Err(CgroupError::Invalid {
            field: "linux.cgroupsPath",
            reason: format!(
                "container's cgroup is not empty: {} process(es) found in {}; a container needs a cgroup of its own",
                pids.len().max(1),
                dir.display()
            ),
        });
    }
    Ok(())
}

/// Whether this process may make (or join) the cgroup at `path`: its `cgroup.procs` is
/// writable if it exists, else the nearest existing ancestor directory is (a delegated
/// subtree, for a rootless runtime).
pub(super) fn may_create(path: &Path) -> bool {
    let writable = |p: &Path| nix::unistd::faccessat(None, p, nix::unistd::AccessFlags::W_OK, nix::fcntl::AtFlags::AT_EACCESS).is_ok();
    if path.is_dir() {
        return writable(&path.join("cgroup.procs"));
    }
    path.ancestors().find(|p| p.is_dir()).is_some_and(writable)
}

/// `path` and those of its parents that do not exist yet, deepest first.
fn missing_dirs(path: &Path) -> Vec<&Path> {
    path.ancestors().take_while(|dir| !dir.exists()).collect()
}

/// The topmost directory of `path` that does not exist yet (`path` itself when only it is
/// missing): what creating it will make, and so what removing it may take away.
pub(super) fn first_missing(path: &Path) -> Option<PathBuf> {
    missing_dirs(path).last().map(|dir| dir.to_path_buf())
}

/// Remove `leaf` with its sub-cgroups, then the parents made for it up to `made_from`, each
/// only while empty (another container may have made a cgroup beside ours since).
pub(super) fn remove_made(leaf: &Path, made_from: Option<&Path>) -> Result<(), CgroupError> {
    remove_tree(leaf)?;
    let Some(top) = made_from.filter(|top| leaf.starts_with(top) && *top != leaf) else { return Ok(()) };
    // Upwards, stopping at the first that is not empty (or not ours to remove).
    for dir in leaf.ancestors().skip(1).take_while(|dir| dir.starts_with(top)) {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
    Ok(())
}

/// Make `path` and its missing parents. On v1 a new cpuset gets its parent's cpus and mems
/// (the kernel starts it empty and would refuse tasks). The mkdir comes first: the parent
/// nearly always exists, and then one call does it (no walk up the path on the hot path).
pub(super) fn create_dir_chain(path: &Path, copy_cpuset: bool) -> Result<(), CgroupError> {
    match fs::create_dir(path) {
        // (an existing cpuset may be empty too: filled below)
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == ErrorKind::NotFound && path.parent().is_some_and(|p| p != path) => {
            if let Some(parent) = path.parent() {
                create_dir_chain(parent, copy_cpuset)?;
            }
            match fs::create_dir(path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_error("create cgroup", path, None)(e)),
            }
        }
        Err(e) => return Err(io_error("create cgroup", path, None)(e)),
    }
    if copy_cpuset {
        fill_cpuset(path)?;
    }
    Ok(())
}

/// Give the v1 cpuset `dir` its parent's cpus and mems where it has none, filling empty
/// ancestors first (runc's rule): a pod's parent cgroup made by someone else with `mkdir -p`
/// is empty too, and the kernel refuses tasks in an empty cpuset (ENOSPC). The hierarchy's
/// root always has both, which ends the walk up.
fn fill_cpuset(dir: &Path) -> Result<(), CgroupError> {
    for file in ["cpuset.cpus", "cpuset.mems"] {
        if !read_file(&dir.join(file))?.trim().is_empty() {
            continue;
        }
        let Some(parent) = dir.parent() else { continue };
        let mut inherited = read_file(&parent.join(file))?;
        if inherited.trim().is_empty() {
            fill_cpuset(parent)?;
            inherited = read_file(&parent.join(file))?;
        }
        write_file(&dir.join(file), inherited.trim())?;
    }
    Ok(())
}

/// Every pid in `dir` and its sub-cgroups.
pub(super) fn collect_pids(dir: &Path, pids: &mut Vec<i32>) -> Result<(), CgroupError> {
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
pub(super) fn remove_tree(path: &Path) -> Result<(), CgroupError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut listed = false;
    loop {
        // The rmdir comes first: a container's cgroup seldom has sub-cgroups, and then one
        // call does it (no listing of its files on the hot path).
        match fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            // Sub-cgroups keep it busy (EBUSY on v1, ENOTEMPTY on v2): remove them first.
            Err(e) if !listed && matches!(e.raw_os_error(), Some(libc::EBUSY | libc::ENOTEMPTY)) => {
                listed = true;
                remove_sub_cgroups(path)?;
            }
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(io_error("remove cgroup", path, None)(e)),
        }
    }
}

/// [`remove_tree`] each sub-cgroup of `path`.
fn remove_sub_cgroups(path: &Path) -> Result<(), CgroupError> {
    let Ok(entries) = fs::read_dir(path) else { return Ok(()) };
    for entry in entries.flatten() {
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            remove_tree(&entry.path())?;
        }
    }
    Ok(())
}

/// Signal every process of `cgroup`, frozen meanwhile when `freeze` (no process can fork
/// away between the listing and the signals); a process that exits meanwhile is fine.
pub(super) fn signal_each(cgroup: &dyn super::Manager, signal: i32, freeze: bool) -> Result<(), CgroupError> {
    if freeze {
        cgroup.set_frozen(true)?;
    }
    let result = cgroup.pids().map(|pids| crate::sys::pidfd::kill_each(&pids, signal));
    if freeze {
        cgroup.set_frozen(false)?;
    }
    result
}

/// Before a cgroup is removed: SIGKILL whatever is still in it, and thaw it, since frozen
/// processes cannot act on SIGKILL.
pub(super) fn kill_what_is_left(cgroup: &dyn super::Manager) -> Result<(), CgroupError> {
    if cgroup.pids().map(|p| !p.is_empty()).unwrap_or(false) {
        cgroup.signal_all(libc::SIGKILL)?;
    }
    if cgroup.is_frozen() {
        cgroup.set_frozen(false)?;
    }
    Ok(())
}

/// `checkBeforeUpdate`: refuse a memory limit below the usage `usage_file` reports.
pub(super) fn check_memory_usage(resources: &oci_spec::runtime::LinuxResources, usage_file: Option<&Path>) -> Result<(), CgroupError> {
    let Some(memory) = resources.memory().as_ref().filter(|m| m.check_before_update() == Some(true)) else { return Ok(()) };
    let limit = memory.limit().unwrap_or(0);
    let Some(usage_file) = usage_file.filter(|_| limit > 0) else { return Ok(()) };
    let usage: i64 = read_file(usage_file)?.trim().parse().unwrap_or(0);
    if usage > limit {
        return Err(CgroupError::Invalid {
            field: "linux.resources.memory.limit",
            reason: format!("the new limit {limit} is below the current usage {usage} (checkBeforeUpdate)"),
        });
    }
    Ok(())
}

/// How long pause/resume wait for the kernel.
pub(super) const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

/// Poll `done` every millisecond until it holds or the freeze timeout passes.
pub(super) fn wait_until(dir: &Path, wanted: &'static str, mut done: impl FnMut() -> Result<bool, CgroupError>) -> Result<(), CgroupError> {
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    while !done()? {
        if Instant::now() > deadline {
            return Err(CgroupError::FreezeTimeout { path: dir.to_path_buf(), wanted, seconds: FREEZE_TIMEOUT.as_secs() });
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Enable every available controller in each ancestor's `cgroup.subtree_control`, from the
/// mount `root` down to the container's parent, so the container's directory has them.
pub(super) fn enable_controllers(root: &Path, dir: &Path) -> Result<(), CgroupError> {
    let Ok(relative) = dir.strip_prefix(root) else { return Ok(()) };
    let mut current = root.to_path_buf();
    for component in relative.components() {
        let available = read_file(&current.join("cgroup.controllers"))?;
        let enabled = read_file(&current.join("cgroup.subtree_control"))?;
        let missing: Vec<String> = available.split_whitespace().filter(|c| !enabled.split_whitespace().any(|e| e == *c)).map(|c| format!("+{c}")).collect();
        // Usually one write per level, and none once the tree is set up. If the kernel
        // refuses the batch, try each: one it will not enable here (a busy threaded domain,
        // say) is reported when the container asks for one of its files.
        if !missing.is_empty() && std::fs::write(current.join("cgroup.subtree_control"), missing.join(" ")).is_err() {
            for controller in &missing {
                let _ = std::fs::write(current.join("cgroup.subtree_control"), controller);
            }
        }
        current.push(component);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_made_for_a_cgroup_go_with_it_while_empty() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("kept")).unwrap();
        let leaf = root.path().join("kept/made/also-made/c1");
        let top = first_missing(&leaf).unwrap();
        assert_eq!(top, root.path().join("kept/made"));
        create_dir_chain(&leaf, false).unwrap();
        // A neighbour made under one of our parents meanwhile keeps that parent.
        std::fs::create_dir(root.path().join("kept/made/neighbour")).unwrap();
        remove_made(&leaf, Some(&top)).unwrap();
        assert!(!root.path().join("kept/made/also-made").exists());
        assert!(root.path().join("kept/made/neighbour").exists());
        std::fs::remove_dir(root.path().join("kept/made/neighbour")).unwrap();
        create_dir_chain(&leaf, false).unwrap();
        remove_made(&leaf, Some(&top)).unwrap();
        assert!(!top.exists() && root.path().join("kept").is_dir(), "what existed before stays");
        assert_eq!(first_missing(root.path()), None);
    }

    #[test]
    fn an_empty_cpuset_takes_its_parents_cpus_and_mems_from_the_first_filled_ancestor() {
        let root = tempfile::tempdir().unwrap();
        let (pod, leaf) = (root.path().join("pod"), root.path().join("pod/c1"));
        std::fs::create_dir_all(&leaf).unwrap();
        for (dir, cpus, mems) in [(root.path(), "0-1", "0"), (pod.as_path(), "", ""), (leaf.as_path(), "", "")] {
            fs::write(dir.join("cpuset.cpus"), cpus).unwrap();
            fs::write(dir.join("cpuset.mems"), mems).unwrap();
        }
        create_dir_chain(&leaf, true).unwrap();
        for dir in [&pod, &leaf] {
            assert_eq!(read_file(&dir.join("cpuset.cpus")).unwrap(), "0-1", "{}", dir.display());
            assert_eq!(read_file(&dir.join("cpuset.mems")).unwrap(), "0", "{}", dir.display());
        }
    }

    #[test]
    fn pids_of_a_tree_and_its_removal() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("c1");
        create_dir_chain(&dir.join("sub"), false).unwrap();
        fs::write(dir.join("cgroup.procs"), "12\n7\n").unwrap();
        fs::write(dir.join("sub/cgroup.procs"), "30\n").unwrap();
        let mut pids = Vec::new();
        collect_pids(&dir, &mut pids).unwrap();
        pids.sort();
        assert_eq!(pids, vec![7, 12, 30]);
        assert!(check_unused(&dir).is_err());
        assert!(check_unused(&root.path().join("missing")).is_ok());
        // On a real cgroupfs the files vanish with the directory; here they are removed first.
        fs::remove_file(dir.join("cgroup.procs")).unwrap();
        fs::remove_file(dir.join("sub/cgroup.procs")).unwrap();
        remove_tree(&dir).unwrap();
        assert!(!dir.exists());
        let error = write_file(&dir.join("memory.max"), "1").unwrap_err().to_string();
        assert!(error.contains("memory.max") && error.contains("\"1\""), "{error}");
    }
}
