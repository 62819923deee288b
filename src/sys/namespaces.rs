//! `linux.namespaces`: which namespaces init is cloned into and which it joins by path.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};

use super::{SysContext, SysError};

/// Errors in the namespace list itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NamespaceError {
    /// The same type is listed twice.
    #[error("linux.namespaces: {0} namespace listed more than once")]
    Duplicate(String),
}

/// The clone flag for a namespace type.
pub fn clone_flag(kind: LinuxNamespaceType) -> CloneFlags {
    match kind {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        // CLONE_NEWTIME (0x80) has no nix constant.
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// What to do with namespaces, decided from the spec before anything is cloned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePlan {
    /// Namespaces to create, as clone flags.
    pub create: CloneFlags,
    /// Namespaces to join, in the order init must join them (user first).
    pub join: Vec<(LinuxNamespaceType, PathBuf)>,
}

impl NamespacePlan {
    /// Whether the container ends up with a namespace of this type of its own or joined.
    pub fn has(&self, kind: LinuxNamespaceType) -> bool {
        self.create.contains(clone_flag(kind)) || self.join.iter().any(|(k, _)| *k == kind)
    }

    /// Whether the container gets a new namespace of this type.
    pub fn creates(&self, kind: LinuxNamespaceType) -> bool {
        self.create.contains(clone_flag(kind))
    }
}

/// Split the spec's list into namespaces to create and to join.
pub fn plan_namespaces(namespaces: &[LinuxNamespace]) -> Result<NamespacePlan, NamespaceError> {
    let mut plan = NamespacePlan { create: CloneFlags::empty(), join: Vec::new() };
    let mut seen = Vec::new();
    for ns in namespaces {
        if seen.contains(&ns.typ()) {
            return Err(NamespaceError::Duplicate(ns.typ().to_string()));
        }
        seen.push(ns.typ());
        match ns.path() {
            Some(path) if !path.as_os_str().is_empty() => plan.join.push((ns.typ(), path.clone())),
            _ => plan.create |= clone_flag(ns.typ()),
        }
    }
    // Joining a user namespace first gives the capabilities to join the others.
    plan.join.sort_by_key(|(kind, _)| *kind != LinuxNamespaceType::User);
    Ok(plan)
}

/// A namespace file opened ahead of the clone, ready to be joined.
#[derive(Debug)]
pub struct NamespaceFile {
    /// Its type.
    pub kind: LinuxNamespaceType,
    /// The path it came from.
    pub path: PathBuf,
    fd: OwnedFd,
}

impl NamespaceFile {
    /// Open `path` (e.g. `/proc/123/ns/net`).
    pub fn open(kind: LinuxNamespaceType, path: &Path) -> Result<NamespaceFile, SysError> {
        let raw = nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).on("open namespace", path.display())?;
        // SAFETY: a fresh fd from open.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(NamespaceFile { kind, path: path.to_path_buf(), fd })
    }

    /// Join it (the calling process must be single-threaded).
    pub fn join(&self) -> Result<(), SysError> {
        setns(&self.fd, clone_flag(self.kind)).on("setns", format!("{} {}", self.kind, self.path.display()))
    }
}

/// Switches the calling process's namespace for future children (pid, time) and switches it
/// back when dropped, so the runtime itself and its later children (hooks) stay where they were.
#[derive(Debug)]
pub struct ChildrenNamespace {
    saved: OwnedFd,
    flag: CloneFlags,
}

impl ChildrenNamespace {
    /// Make children of this process start in `target`.
    pub fn enter(target: &NamespaceFile) -> Result<ChildrenNamespace, SysError> {
        let saved = ChildrenNamespace::save(target.kind)?;
        target.join()?;
        Ok(saved)
    }

    /// Remember the current namespace for children of `kind` (pid or time), to return to it
    /// when dropped, before changing it some other way (unshare).
    pub fn save(kind: LinuxNamespaceType) -> Result<ChildrenNamespace, SysError> {
        let own = match kind {
            LinuxNamespaceType::Time => "/proc/self/ns/time_for_children",
            _ => "/proc/self/ns/pid_for_children",
        };
        let saved = NamespaceFile::open(kind, Path::new(own))?;
        Ok(ChildrenNamespace { saved: saved.fd, flag: clone_flag(kind) })
    }
}

impl Drop for ChildrenNamespace {
    fn drop(&mut self) {
        // Returning to our own namespace cannot fail for a root process that just left it;
        // if it did, the only effect is on children forked later by this short-lived process.
        let _ = setns(&self.saved, self.flag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(json: &str) -> Vec<LinuxNamespace> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn splits_create_and_join_user_first() {
        let plan =
            plan_namespaces(&ns(r#"[{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"},{"type":"user","path":"/proc/1/ns/user"},{"type":"mount"}]"#))
                .unwrap();
        assert_eq!(plan.create, CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS);
        assert_eq!(plan.join[0].0, LinuxNamespaceType::User);
        assert_eq!(plan.join[1].0, LinuxNamespaceType::Network);
        assert!(plan.has(LinuxNamespaceType::Network) && !plan.creates(LinuxNamespaceType::Network));
        assert!(!plan.has(LinuxNamespaceType::Uts));
    }

    #[test]
    fn refuses_duplicates() {
        let err = plan_namespaces(&ns(r#"[{"type":"pid"},{"type":"pid"}]"#)).unwrap_err();
        assert_eq!(err, NamespaceError::Duplicate("pid".into()));
    }
}
