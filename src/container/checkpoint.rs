//! `checkpoint`: dump a running container's processes into CRIU images, as runc does (then
//! remove the container, unless it is left running or this was a pre-dump).

use crate::cgroups::Manager;
use crate::trace::Trace;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use rust_criu::rust_criu_protobuf::rpc;

use crate::bundle::Bundle;
use crate::criu::{self, CgroupsMode, Criu, CriuError, CriuStdio, ExternalMount, Notifications, Side};
use crate::state::StateStore;

use super::{ContainerError, Loaded, Status};

/// The options checkpoint and restore share (runc's flags of both commands).
#[derive(Debug, Clone)]
pub struct CriuFlags {
    /// `--criu`: the criu binary (default: `criu` on PATH).
    pub criu: Option<PathBuf>,
    /// `--image-path`: the images' directory (absolute).
    pub image_path: PathBuf,
    /// `--work-path`: CRIU's logs and work files (default: the image directory).
    pub work_path: Option<PathBuf>,
    /// `--tcp-established`.
    pub tcp_established: bool,
    /// `--ext-unix-sk`.
    pub ext_unix_sk: bool,
    /// `--shell-job`.
    pub shell_job: bool,
    /// `--file-locks`.
    pub file_locks: bool,
    /// `--manage-cgroups-mode`.
    pub cgroups_mode: CgroupsMode,
    /// `--empty-ns`, as CLONE_NEW* flags.
    pub empty_ns: u32,
    /// `--auto-dedup`.
    pub auto_dedup: bool,
    /// `--lazy-pages`.
    pub lazy_pages: bool,
    /// `--status-fd`: written a NUL when lazy pages are ready.
    pub status_fd: Option<RawFd>,
}

/// The options of `checkpoint`.
#[derive(Debug, Clone)]
pub struct CheckpointOptions {
    /// What restore shares.
    pub flags: CriuFlags,
    /// `--parent-path`: a previous pre-dump's images, relative to the image directory.
    pub parent_path: Option<PathBuf>,
    /// `--leave-running`.
    pub leave_running: bool,
    /// `--tcp-skip-in-flight`.
    pub tcp_skip_in_flight: bool,
    /// `--link-remap`.
    pub link_remap: bool,
    /// `--pre-dump`: dump memory only, and leave the container running.
    pub pre_dump: bool,
    /// `--page-server`: (address, port).
    pub page_server: Option<(String, i32)>,
}

/// The CRIU log of a dump, in the work directory.
const DUMP_LOG: &str = "dump.log";
/// CRIU's verbosity in its log (runc's: 4, everything).
const LOG_LEVEL: i32 = 4;
/// The annotation naming a CRIU configuration file, as runc reads it; without it, runc's
/// file is used, so that a host set up for runc behaves the same under skiff.
const CONFIG_ANNOTATION: &str = "org.criu.config";
const DEFAULT_CONFIG_FILE: &str = "/etc/criu/runc.conf";

/// Checkpoint container `id`. Returns warnings (from the removal that follows a dump).
pub fn checkpoint(store: &StateStore, id: &str, options: &CheckpointOptions, trace: &dyn Trace) -> Result<Vec<String>, ContainerError> {
    let loaded = Loaded::load(store, id)?;
    if !matches!(loaded.status, Status::Running | Status::Paused) {
        return Err(ContainerError::WrongState { message: format!("Container cannot be checkpointed in {} state", loaded.status), status: loaded.status });
    }
    let flags = &options.flags;
    if let Some(parent) = &options.parent_path {
        check_parent(&flags.image_path, parent)?;
    }
    let criu = Criu::new(flags.criu.as_deref());
    let version = criu.require(criu::MINIMUM_VERSION, "checkpoint")?;
    trace.debug(format_args!("checkpoint: CRIU {version}"));
    if options.pre_dump || options.parent_path.is_some() || options.flags.lazy_pages {
        criu.check_features(options.pre_dump || options.parent_path.is_some(), flags.lazy_pages)?;
    }
    let image_dir = prepare_image_dir(&flags.image_path)?;
    let work_dir = flags.work_path.as_deref().map(open_work_dir).transpose()?;
    let bundle = Bundle::load(&loaded.state.bundle)?;
    let spec = bundle.spec();
    let lock = store.lock(&loaded.id)?;

    let mut opts = common_opts(flags, &image_dir, work_dir.as_ref(), DUMP_LOG, &loaded.state.annotations);
    opts.set_pid(loaded.state.init_pid);
    opts.set_root(loaded.state.rootfs.display().to_string());
    opts.set_leave_running(options.leave_running);
    opts.set_tcp_skip_in_flight(options.tcp_skip_in_flight);
    opts.set_link_remap(options.link_remap);
    for kind in [LinuxNamespaceType::Network, LinuxNamespaceType::Pid] {
        let (criu::JoinedNamespace::External { name, minimum }, Some(path)) = (criu::joined_namespace(kind), namespace_path(spec, kind)) else { continue };
        criu.require(minimum, "a container joining an existing network or pid namespace")?;
        let inode = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).map_err(|source| ContainerError::OptionUnusable {
            option: "linux.namespaces",
            what: format!("stat {name} namespace {}", path.display()),
            source,
        })?;
        opts.external.push(format!("{name}[{inode}]:{}", criu::namespace_key(name)));
    }
    if let Some(dir) = loaded.state.cgroup.as_ref().and_then(|c| c.freezer_dir()) {
        // CRIU before 3.14 cannot freeze through cgroup v2 (cgroup.freeze).
        if dir.join("freezer.state").exists() || version >= 31400 {
            opts.set_freeze_cgroup(dir.display().to_string());
        }
    }
    if let Some((address, port)) = &options.page_server {
        let mut server = rpc::Criu_page_server_info::new();
        server.set_address(address.clone());
        server.set_port(*port);
        opts.ps = protobuf::MessageField::some(server);
    }
    if let Some(parent) = &options.parent_path {
        opts.set_parent_img(parent.display().to_string());
        opts.set_track_mem(true);
    }
    let kind = if options.pre_dump { rpc::Criu_req_type::PRE_DUMP } else { rpc::Criu_req_type::DUMP };
    if !options.pre_dump {
        // With a cgroup namespace of its own, its cgroup mounts are real mounts, which CRIU
        // dumps itself; without one they are binds of the host's hierarchies.
        let binds = if bundle.namespaces().creates(LinuxNamespaceType::Cgroup) { Vec::new() } else { v1_cgroup_binds(loaded.state.init_pid) };
        let masked = masked_files(spec, loaded.state.init_pid);
        let root = crate::sys::fs_in_root::RootDir::open(&loaded.state.rootfs)?;
        let resolve = |destination: &Path| resolved_destination(&root, destination);
        add_external_mounts(&mut opts, &criu::external_mounts(spec, bundle.dir(), Side::Dump, &binds, &masked, &resolve));
        write_descriptors(&flags.image_path, loaded.state.init_pid)?;
    }
    let mut request = rpc::Criu_req::new();
    request.set_type(kind);
    request.opts = protobuf::MessageField::some(opts);
    trace.debug(format_args!(
        "checkpoint: {} of container {id} (init pid {}) into {}",
        if options.pre_dump { "pre-dump" } else { "dump" },
        loaded.state.init_pid,
        flags.image_path.display()
    ));
    let mut notifications = DumpNotifications { status_fd: flags.status_fd, trace };
    let started = criu.start(CriuStdio::Null, &[])?;
    let result = criu::session::converse(started, request, &mut notifications);
    if let Err(error) = result {
        return Err(with_log(error, flags.work_path.as_deref().unwrap_or(&flags.image_path), DUMP_LOG).into());
    }
    drop(lock);
    if options.leave_running || options.pre_dump {
        return Ok(Vec::new());
    }
    // CRIU has killed the processes: remove what is left, as runc destroys the container.
    // The images are complete by now: a failed removal is a warning, as with runc.
    match super::delete(store, id, true) {
        Ok(warnings) => Ok(warnings),
        Err(error) => Ok(vec![format!("checkpoint of {id} done, but removing the container failed: {error:#}")]),
    }
}

/// CRIU's notifications during a dump: none needs the runtime but lazy pages' readiness.
struct DumpNotifications<'a> {
    status_fd: Option<RawFd>,
    trace: &'a dyn Trace,
}

impl Notifications for DumpNotifications<'_> {
    fn notify(&mut self, script: &str, _pid: i32, _fd: Option<OwnedFd>) -> Result<(), CriuError> {
        self.trace.debug(format_args!("checkpoint: criu notification {script}"));
        if script == "status-ready" {
            crate::sys::fds::write_status_byte(self.status_fd.take());
        }
        Ok(())
    }
}

/// The options every CRIU request of skiff's carries (runc's set).
pub(super) fn common_opts(
    flags: &CriuFlags,
    image_dir: &OwnedFd,
    work_dir: Option<&OwnedFd>,
    log_file: &str,
    annotations: &std::collections::HashMap<String, String>,
) -> rpc::Criu_opts {
    let mut opts = rpc::Criu_opts::new();
    // CRIU opens these through /proc/<our pid>/fd/N: they stay ours.
    opts.set_images_dir_fd(image_dir.as_raw_fd());
    if let Some(dir) = work_dir {
        opts.set_work_dir_fd(dir.as_raw_fd());
    }
    opts.set_log_level(LOG_LEVEL);
    opts.set_log_file(log_file.to_string());
    // Obsoleted by the mode, still read by old CRIU.
    opts.set_manage_cgroups(true);
    opts.set_manage_cgroups_mode(flags.cgroups_mode.rpc());
    opts.set_notify_scripts(true);
    opts.set_shell_job(flags.shell_job);
    opts.set_tcp_established(flags.tcp_established);
    opts.set_ext_unix_sk(flags.ext_unix_sk);
    opts.set_file_locks(flags.file_locks);
    opts.set_empty_ns(flags.empty_ns);
    opts.set_orphan_pts_master(true);
    opts.set_auto_dedup(flags.auto_dedup);
    opts.set_lazy_pages(flags.lazy_pages);
    match annotations.get(CONFIG_ANNOTATION) {
        Some(file) if file.is_empty() => {}
        Some(file) => opts.set_config_file(file.clone()),
        None => opts.set_config_file(DEFAULT_CONFIG_FILE.to_string()),
    }
    opts
}

/// Describe `mounts` to CRIU as external.
pub(super) fn add_external_mounts(opts: &mut rpc::Criu_opts, mounts: &[ExternalMount]) {
    for mount in mounts {
        let mut entry = rpc::Ext_mount_map::new();
        entry.set_key(mount.key.clone());
        entry.set_val(mount.value.clone());
        opts.ext_mnt.push(entry);
    }
}

/// The path of the namespace of `kind` the config joins, if it joins one.
pub(super) fn namespace_path(spec: &Spec, kind: LinuxNamespaceType) -> Option<PathBuf> {
    spec.linux().as_ref()?.namespaces().as_ref()?.iter().find(|n| n.typ() == kind).and_then(|n| n.path().clone())
}

/// Make the image directory (0700). An empty one, or one holding only an earlier
/// checkpoint's files, is used: podman checkpoints into the same `<bundle>/checkpoint` each
/// time (twice in a row with `--leave-running`), as runc allows, and CRIU rewrites every
/// image it lists. A directory holding anything else is refused: it is not a checkpoint's,
/// and CRIU would scatter images among someone's files.
fn prepare_image_dir(path: &Path) -> Result<OwnedFd, ContainerError> {
    make_dir(path, "--image-path")?;
    let entries = std::fs::read_dir(path).map_err(|source| ContainerError::OptionUnusable {
        option: "--image-path",
        what: format!("read {}", path.display()),
        source,
    })?;
    let names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    if let Some(foreign) = criu::foreign_to_checkpoint(&names) {
        return Err(ContainerError::InvalidOption {
            option: "--image-path",
            reason: format!(
                "{} is not empty and holds {foreign:?}, which is not a checkpoint's: give an empty directory, or one an earlier checkpoint wrote",
                path.display()
            ),
        });
    }
    open_dir(path, "--image-path")
}

/// `--work-path`, made (0700) if missing, opened for CRIU.
pub(super) fn open_work_dir(path: &Path) -> Result<OwnedFd, ContainerError> {
    make_dir(path, "--work-path")?;
    open_dir(path, "--work-path")
}

/// Make `path` and its parents, 0700 (runc's mode for CRIU's directories).
fn make_dir(path: &Path, option: &'static str) -> Result<(), ContainerError> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(|source| ContainerError::OptionUnusable {
        option,
        what: format!("create {}", path.display()),
        source,
    })
}

/// Open a directory CRIU is to use, by fd, and check it as the state root is checked: ours,
/// and writable by nobody else. CRIU runs as root and follows symlinks: in a directory
/// another user can write, a link planted where CRIU writes an image or a log would have
/// root overwrite what it points to. The path itself may be a link (containerd's task
/// directory holds `work` as a link to its state): the directory it names is checked.
pub(super) fn open_dir(path: &Path, option: &'static str) -> Result<OwnedFd, ContainerError> {
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|source| ContainerError::OptionUnusable { option, what: format!("open {}", path.display()), source })?;
    let metadata = dir.metadata().map_err(|source| ContainerError::OptionUnusable { option, what: format!("stat {}", path.display()), source })?;
    if let Some(reason) = crate::state::private_dir_problem(&metadata) {
        return Err(ContainerError::InvalidOption {
            option,
            reason: format!("{} is {reason}: CRIU, running as root, would follow links planted there; give a directory only you can write", path.display()),
        });
    }
    Ok(dir.into())
}

/// runc's rules for `--parent-path`: relative to the image directory, and a directory there.
fn check_parent(image_path: &Path, parent: &Path) -> Result<(), ContainerError> {
    if parent.is_absolute() {
        return Err(ContainerError::InvalidOption { option: "--parent-path", reason: "must be relative (to --image-path)".into() });
    }
    // Joined lexically, as runc's filepath.Join: `../pre` names a sibling of the image
    // directory, which need not exist yet.
    let mut real = image_path.to_path_buf();
    for component in parent.components() {
        match component {
            std::path::Component::ParentDir => {
                real.pop();
            }
            std::path::Component::Normal(part) => real.push(part),
            _ => {}
        }
    }
    match std::fs::metadata(&real) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(ContainerError::InvalidOption { option: "--parent-path", reason: format!("{} is not a directory", real.display()) }),
        Err(source) => Err(ContainerError::OptionUnusable { option: "--parent-path", what: format!("stat {}", real.display()), source }),
    }
}

/// Save what the container's fds 0-2 are (runc's descriptors.json).
fn write_descriptors(image_path: &Path, pid: i32) -> Result<(), ContainerError> {
    let descriptors: Vec<String> =
        (0..3).map(|fd| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).map(|target| target.display().to_string()).unwrap_or_default()).collect();
    let json = serde_json::to_vec(&descriptors)
        .map_err(|e| ContainerError::InvalidOption { option: "--image-path", reason: format!("encode {}: {e}", criu::DESCRIPTORS_FILE) })?;
    crate::state::write_atomically(&image_path.join(criu::DESCRIPTORS_FILE), &json, 0o600)?;
    Ok(())
}

/// Where a mount's destination really is in the rootfs, as CRIU will see the mount point:
/// symlinks in the image followed inside the root (`/var/run` -> `/run`), as the mount was
/// made. A destination that does not resolve is taken as written.
pub(super) fn resolved_destination(root: &crate::sys::fs_in_root::RootDir, destination: &Path) -> String {
    let relative = destination.strip_prefix("/").unwrap_or(destination);
    let written = || criu::clean(destination);
    let Ok(fd) = root.resolve(relative) else { return written() };
    let Ok(target) = std::fs::read_link(crate::sys::fs_in_root::fd_path(&fd)) else { return written() };
    match target.strip_prefix(root.path()) {
        Ok(inside) => criu::clean(&Path::new("/").join(inside)),
        Err(_) => written(),
    }
}

/// The masked paths that are files in the running container (seen through its root).
fn masked_files(spec: &Spec, pid: i32) -> Vec<String> {
    let masked = spec.linux().as_ref().and_then(|l| l.masked_paths().clone()).unwrap_or_default();
    masked.into_iter().filter(|path| std::fs::metadata(format!("/proc/{pid}/root{path}")).is_ok_and(|m| !m.is_dir())).collect()
}

/// On a v1 host, the per-hierarchy cgroup binds in the container (mount points of its `cgroup`
/// filesystems), which CRIU must take as external.
fn v1_cgroup_binds(pid: i32) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")) else {
        return Vec::new();
    };
    crate::sys::mountinfo::parse_mountinfo(&text).into_iter().filter(|m| m.fs_type == "cgroup").map(|m| (m.mount_point.clone(), m.mount_point)).collect()
}

/// Add where CRIU's log is, and the lines of it that say what failed, to the error.
pub(super) fn with_log(error: CriuError, dir: &Path, log: &str) -> CriuError {
    let path = dir.join(log);
    let quoted = std::fs::read_to_string(&path).map(|text| criu::log_errors(&text, 6)).unwrap_or_default();
    let see = if quoted.is_empty() { format!("see {}", path.display()) } else { format!("see {}: {}", path.display(), quoted.join(" | ")) };
    match error {
        CriuError::Failed { request, errno, message } if !quoted.is_empty() => {
            CriuError::Failed { request, errno, message: if message.is_empty() { see } else { format!("{message}; {see}") } }
        }
        // The conversation broke or CRIU died: its log says why.
        CriuError::Protocol(what) => CriuError::Protocol(format!("{what}; {see}")),
        CriuError::Exited(status) => CriuError::Exited(format!("{status}; {see}")),
        other => other,
    }
}
