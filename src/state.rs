//! The state store: `<root>/<id>/state.json`, written atomically, and container ids.

use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The state file's name in a container directory.
pub const STATE_FILE: &str = "state.json";

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The id cannot name a container.
    #[error("invalid container id {id:?}: {reason}")]
    InvalidId {
        /// The id given.
        id: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A container with this id exists.
    #[error("container with id {0:?} already exists")]
    Exists(String),
    /// No container with this id.
    #[error("container does not exist")]
    NotFound(String),
    /// A file operation failed.
    #[error("{op} {path}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The state root is not safe to trust.
    #[error("state root {path}: {reason}: refusing to keep container state there")]
    UnsafeRoot {
        /// The root.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The state cannot be encoded.
    #[error("encode {path}: {reason}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// The encoder's message.
        reason: String,
    },
    /// state.json does not decode.
    #[error("decode {path}: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The decoder's message.
        reason: String,
    },
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io { op, path: path.to_path_buf(), source }
}

/// A container id that is safe as a directory name: 1 to 1024 of `[A-Za-z0-9_+.-]`, not `.`/`..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerId(String);

impl ContainerId {
    /// Check `id`.
    pub fn parse(id: &str) -> Result<ContainerId, StateError> {
        let refuse = |reason| Err(StateError::InvalidId { id: id.to_string(), reason });
        if id.is_empty() {
            return refuse("it is empty");
        }
        if id.len() > 1024 {
            return refuse("it is longer than 1024 bytes");
        }
        if id == "." || id == ".." {
            return refuse("it is a relative directory name");
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.')) {
            return refuse("only letters, digits and _ + - . are allowed");
        }
        Ok(ContainerId(id.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContainerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the runtime records about a container between invocations.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The spec version of the config.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Init's pid in the runtime's pid namespace.
    pub init_pid: i32,
    /// Init's start time (clock ticks), to tell it from a process that reused the pid.
    pub init_start_time: u64,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Uid of the user who created the container.
    pub owner_uid: u32,
    /// The config's annotations.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub annotations: HashMap<String, String>,
    /// Whether init has its own pid namespace (`kill --all` and `delete` depend on it).
    pub own_pid_namespace: bool,
    /// Whether the container has a mount namespace of its own; without one, `delete` takes
    /// down the mounts setup made in the runtime's.
    #[serde(default = "crate::state::yes", skip_serializing_if = "Clone::clone")]
    pub own_mount_namespace: bool,
    /// The container's cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<crate::cgroups::ContainerCgroup>,
    /// The config's hooks (poststart and poststop run from `start` and `delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The container's `linux.seccomp`, applied to exec'd processes too (the bundle's
    /// config.json may have changed since create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<oci_spec::runtime::LinuxSeccomp>,
    /// The container's `linux.memoryPolicy`, set for exec'd processes too (as runc does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_policy: Option<oci_spec::runtime::LinuxMemoryPolicy>,
    /// The container's `linux.personality`, set for exec'd processes too (as runc does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<oci_spec::runtime::LinuxPersonality>,
    /// The container's Intel RDT group (`linux.intelRdt`), for exec, update and delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resctrl: Option<crate::resctrl::RdtGroup>,
}

/// The part of a state that `list` shows. Everything else (the cgroup, hooks, the seccomp
/// profile) is skipped unparsed: a list of many stopped containers needs no more than this.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StateSummary {
    /// The spec version of the config.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Init's pid in the runtime's pid namespace.
    pub init_pid: i32,
    /// Init's start time (clock ticks).
    pub init_start_time: u64,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// Uid of the user who created the container.
    pub owner_uid: u32,
    /// The config's annotations.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
}

/// The directory tree under `--root`.
#[derive(Debug, Clone)]
pub struct StateStore {
    root: PathBuf,
}

/// A claimed container directory: removed on drop unless [`Claim::keep`] is called, so a
/// failed create leaves nothing behind.
#[derive(Debug)]
pub struct Claim {
    dir: PathBuf,
    keep: std::cell::Cell<bool>,
}

impl Claim {
    /// The claimed directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The container is created: keep the directory.
    pub fn keep(self) {
        self.keep.set(true);
    }

    /// Keep the directory even though creation failed: it records something (a cgroup) that
    /// could not be removed, for `delete --force` to find.
    pub fn retain_for_cleanup(&self) {
        self.keep.set(true);
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Best effort: on failure the next `delete --force` removes it (never through a mount
        // still in place).
        if !self.keep.get() && detach_transient_mounts(&self.dir).is_ok() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The directory `restore` binds the container's rootfs at, inside the container's
/// directory, while CRIU runs.
pub const CRIU_ROOT_DIR: &str = "criu-root";

/// Detach the mounts a command makes inside a container's directory for a while
/// ([`CRIU_ROOT_DIR`]), left there if that command was killed: removing the directory must
/// never descend into one, or it would delete the container's rootfs.
fn detach_transient_mounts(dir: &Path) -> Result<(), StateError> {
    let path = dir.join(CRIU_ROOT_DIR);
    if !path.exists() {
        return Ok(());
    }
    match nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (any more).
        Ok(()) | Err(nix::errno::Errno::EINVAL) => Ok(()),
        Err(errno) => Err(StateError::Io { op: "detach the mount left at", path, source: std::io::Error::from_raw_os_error(errno as i32) }),
    }
}

/// An flock held on a container directory.
#[derive(Debug)]
pub struct DirLock {
    _file: fs::File,
}

impl DirLock {
    /// The fd holding the lock: a cloned child must close its copy, or the lock would live
    /// as long as the child.
    pub fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self._file)
    }
}

impl StateStore {
    /// A store rooted at `root` (created on first use).
    pub fn new(root: impl Into<PathBuf>) -> StateStore {
        StateStore { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of container `id`.
    pub fn container_dir(&self, id: &ContainerId) -> PathBuf {
        self.root.join(id.as_str())
    }

    /// Claim `id`: an atomic mkdir, so of two parallel creates exactly one wins.
    pub fn claim(&self, id: &ContainerId) -> Result<Claim, StateError> {
        self.ensure_root()?;
        let dir = self.container_dir(id);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => Ok(Claim { dir, keep: std::cell::Cell::new(false) }),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(StateError::Exists(id.to_string())),
            Err(source) => Err(StateError::Io { op: "create container directory", path: dir, source }),
        }
    }

    fn ensure_root(&self) -> Result<(), StateError> {
        match fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.root) {
            Ok(()) => self.check_root(),
            Err(source) => Err(StateError::Io { op: "create state root", path: self.root.clone(), source }),
        }
    }

    /// The state root must be ours and writable only by us: anyone else who can write there
    /// can plant a state.json that names any process for `kill` and `delete` to act on.
    fn check_root(&self) -> Result<(), StateError> {
        let metadata = match fs::metadata(&self.root) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(StateError::Io { op: "stat state root", path: self.root.clone(), source }),
        };
        match private_dir_problem(&metadata) {
            Some(reason) => Err(StateError::UnsafeRoot { path: self.root.clone(), reason }),
            None => Ok(()),
        }
    }

    /// Write `state` to its container's directory: a temporary file, fsync'd, then renamed
    /// over state.json, so readers see the old or the new state, never a torn one.
    pub fn save(&self, dir: &Path, state: &State) -> Result<(), StateError> {
        let path = dir.join(STATE_FILE);
        let bytes = serde_json::to_vec(state).map_err(|e| StateError::Encode { path: path.clone(), reason: e.to_string() })?;
        write_atomically(&path, &bytes, 0o600)
    }

    /// Load the state of `id`.
    pub fn load(&self, id: &ContainerId) -> Result<State, StateError> {
        self.check_root()?;
        let path = self.container_dir(id).join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(StateError::NotFound(id.to_string())),
            Err(source) => return Err(StateError::Io { op: "read", path, source }),
        };
        serde_json::from_slice(&bytes).map_err(|e| StateError::Decode { path, reason: e.to_string() })
    }

    /// The summary of every container under the root, by id, sorted; the root is checked once
    /// and each state read into one reused buffer. A directory without a readable state is
    /// left out (a create in progress, say).
    pub fn summaries(&self) -> Result<Vec<(ContainerId, StateSummary)>, StateError> {
        let ids = self.list_ids()?;
        let mut buffer = Vec::new();
        let mut summaries = Vec::with_capacity(ids.len());
        for id in ids {
            let Ok(file) = fs::File::open(self.container_dir(&id).join(STATE_FILE)) else { continue };
            let Ok(length) = read_whole(file, &mut buffer) else { continue };
            if let Ok(summary) = serde_json::from_slice(&buffer[..length]) {
                summaries.push((id, summary));
            }
        }
        Ok(summaries)
    }

    /// Remove the directory of `id` and everything in it.
    pub fn remove(&self, id: &ContainerId) -> Result<(), StateError> {
        let dir = self.container_dir(id);
        detach_transient_mounts(&dir)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StateError::Io { op: "remove container directory", path: dir, source }),
        }
    }

    /// Take an exclusive lock on the directory of `id` for one operation (start, kill,
    /// delete), released when the returned guard drops.
    pub fn lock(&self, id: &ContainerId) -> Result<DirLock, StateError> {
        let dir = self.container_dir(id);
        let file = match fs::File::open(&dir) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(StateError::NotFound(id.to_string())),
            Err(source) => return Err(StateError::Io { op: "open", path: dir, source }),
        };
        match crate::sys::flock_exclusive(&file) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(source) => Err(StateError::Io { op: "lock", path: dir, source }),
        }
    }

    /// The ids of all containers with a directory, sorted.
    pub fn list_ids(&self) -> Result<Vec<ContainerId>, StateError> {
        self.check_root()?;
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(StateError::Io { op: "list", path: self.root.clone(), source }),
        };
        let mut ids: Vec<ContainerId> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| ContainerId::parse(e.file_name().to_str()?).ok())
            .collect();
        ids.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(ids)
    }
}

/// Read all of `file` into `buffer`, returning how many bytes it holds. The buffer is
/// zeroed once and reused as it is (it only grows), and a read that does not fill it is the
/// end of a regular file, so a state file takes one read, not a second to meet the end.
fn read_whole(mut file: fs::File, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
    use std::io::Read;
    let mut used = 0;
    loop {
        if used == buffer.len() {
            buffer.resize((buffer.len() * 2).max(16 * 1024), 0);
        }
        match file.read(&mut buffer[used..]) {
            Ok(0) => return Ok(used),
            Ok(read) => {
                used += read;
                if used < buffer.len() {
                    return Ok(used);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Write `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // One left by a crashed process that had our pid would make create_new fail forever.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(io_error("create", &tmp))?;
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(io_error("chmod", &tmp))?;
        file.write_all(bytes).map_err(io_error("write", &tmp))?;
        file.sync_all().map_err(io_error("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(io_error("rename into place", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// What makes a directory unfit for what only its owner may write (the state root, CRIU's
/// image and work directories), if anything: not a directory, not the caller's, or writable
/// by others.
pub fn private_dir_problem(metadata: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let euid = nix::unistd::geteuid().as_raw();
    if !metadata.is_dir() {
        Some("not a directory".to_string())
    } else if metadata.uid() != euid {
        Some(format!("owned by uid {}, not {euid}", metadata.uid()))
    } else if metadata.mode() & 0o022 != 0 {
        Some(format!("writable by others (mode {:o})", metadata.mode() & 0o7777))
    } else {
        None
    }
}

/// `true`, for serde's defaults.
pub(crate) fn yes() -> bool {
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["a", "abc-DEF_1.2+3", &"x".repeat(1024)] {
            assert!(ContainerId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "a b", "é", &"x".repeat(1025), "a\0b"] {
            assert!(ContainerId::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// A state of container `id` for tests (init pid 42).
    pub(crate) fn sample(id: &str) -> State {
        State {
            oci_version: "1.2.0".into(),
            id: id.into(),
            init_pid: 42,
            init_start_time: 7,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: "2026-11-28T00:00:00Z".into(),
            owner_uid: 0,
            annotations: HashMap::new(),
            own_pid_namespace: true,
            own_mount_namespace: true,
            cgroup: None,
            hooks: None,
            seccomp: None,
            memory_policy: None,
            personality: None,
            resctrl: None,
        }
    }

    #[test]
    fn summaries_read_every_state_whole_and_skip_the_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        let mut big = sample("big");
        // Larger than the reused buffer's first size: read in several reads.
        big.annotations = (0..2000).map(|i| (format!("key-{i}"), "v".repeat(20))).collect();
        for state in [sample("a"), big.clone(), sample("c")] {
            let claim = store.claim(&ContainerId::parse(&state.id).unwrap()).unwrap();
            store.save(claim.dir(), &state).unwrap();
            claim.keep();
        }
        // A directory without a state (a create in progress) is left out.
        fs::create_dir(tmp.path().join("root/half")).unwrap();
        let summaries = store.summaries().unwrap();
        let ids: Vec<&str> = summaries.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "big", "c"]);
        assert_eq!(summaries[1].1.annotations, big.annotations);
        assert_eq!((summaries[0].1.init_pid, summaries[0].1.owner_uid), (42, 0));
    }

    #[test]
    fn claim_save_load_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path().join("root"));
        let id = ContainerId::parse("c1").unwrap();
        let claim = store.claim(&id).unwrap();
        assert!(matches!(store.claim(&id), Err(StateError::Exists(_))));
        assert!(matches!(store.load(&id), Err(StateError::NotFound(_))));
        store.save(claim.dir(), &sample("c1")).unwrap();
        claim.keep();
        assert_eq!(store.load(&id).unwrap(), sample("c1"));
        assert_eq!(store.list_ids().unwrap(), vec![id.clone()]);
        let mode = fs::metadata(store.root()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        store.remove(&id).unwrap();
        assert!(store.list_ids().unwrap().is_empty());
    }

    #[test]
    fn dropped_claim_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = StateStore::new(tmp.path());
        let id = ContainerId::parse("c2").unwrap();
        drop(store.claim(&id).unwrap());
        assert!(!store.container_dir(&id).exists());
    }
}
