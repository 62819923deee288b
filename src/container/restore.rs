//! `restore`: a new container (any id) from a bundle and CRIU images, as runc does it. The
//! container's cgroup is made and CRIU put in it, so the processes it restores are created
//! there; CRIU restores them as the runtime's children (`rst_sibling`), and its notifications
//! run the hooks, record init's pid and hand a terminal's master to the console socket.

use crate::cgroups::Manager;
use crate::trace::Trace;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use oci_spec::runtime::{ContainerState, LinuxNamespaceType};
use rust_criu::rust_criu_protobuf::rpc;

use crate::bundle::Bundle;
use crate::cgroups::{HostCgroups, Layout};
use crate::criu::{self, Criu, CriuError, CriuStdio, JoinedNamespace, Notifications, Side};
use crate::state::{ContainerId, StateStore, write_atomically};
use crate::sys::fs_in_root::{NodeKind, RootDir};
use crate::sys::mountinfo::ProcessCgroup;
use crate::sys::{SysContext, SysError, proc_stat};

use super::ContainerError;
use super::checkpoint::{CriuFlags, add_external_mounts, common_opts, namespace_path, open_dir, open_work_dir, resolved_destination, with_log};
use super::console_route::{connect_console, relays_terminal};
use super::create::{CreateOptions, Created, PlannedCgroup, absolute, initial_state, plan_cgroup, plan_rdt};
use super::creation::Creation;

/// The options of `restore`.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The new container: id, bundle, pid file, console socket, cgroup driver.
    pub create: CreateOptions,
    /// What checkpoint shares.
    pub flags: CriuFlags,
    /// `--lsm-profile TYPE:NAME`.
    pub lsm_profile: Option<String>,
    /// `--lsm-mount-context`.
    pub lsm_mount_context: Option<String>,
}

/// The CRIU log of a restore, in the work directory.
const RESTORE_LOG: &str = "restore.log";

/// Restore a container from `options.flags.image_path`. The restored init is a child of this
/// process; with [`CreateOptions::relay_terminal`], the terminal's master is returned too.
/// On failure nothing is left: no state, cgroup, mount or process.
pub fn restore(store: &StateStore, options: &RestoreOptions, trace: &dyn Trace) -> Result<Created, ContainerError> {
    let create = &options.create;
    let flags = &options.flags;
    let id = ContainerId::parse(&create.id)?;
    let bundle = Bundle::load(&create.bundle)?;
    let pid_file = create.pid_file.as_deref().map(absolute).transpose()?;
    let terminal = bundle.process().terminal() == Some(true);
    // A relayed terminal's master comes from CRIU (orphan-pts-master), not from a socket.
    let relay = relays_terminal(terminal, create.console_socket.as_deref(), create.relay_terminal);
    let console = if relay { None } else { connect_console(terminal, create.console_socket.as_deref())? };
    let descriptors = read_descriptors(&flags.image_path)?;
    let criu = Criu::new(flags.criu.as_deref());
    let version = criu.require(criu::MINIMUM_VERSION, "restore")?;
    if options.lsm_profile.is_some() || options.lsm_mount_context.is_some() {
        criu.require(31600, "--lsm-profile and --lsm-mount-context")?;
    }
    if flags.lazy_pages {
        criu.check_features(false, true)?;
    }
    let PlannedCgroup { host, cgroup, plan } = plan_cgroup(&bundle, &id, create, trace)?;
    let rdt = plan_rdt(&bundle, &id)?;
    let image_dir = open_dir(&flags.image_path, "--image-path")?;
    let work_dir = flags.work_path.as_deref().map(open_work_dir).transpose()?;
    let namespaces = RestoredNamespaces::open(&bundle, &criu)?;

    // As in create: the state saved before anything exists, for `delete --force` after a kill.
    let state = initial_state(&bundle, &id, cgroup.clone(), bundle.spec().linux().as_ref().and_then(|l| l.seccomp().clone()));
    let mut creation = Creation::begin(store, &id, state)?;
    creation.prepare_cgroup(&plan)?;
    creation.prepare_rdt(rdt)?;
    let root = CriuRoot::mount(creation.dir(), bundle.rootfs())?;
    let rootfs = RootDir::open(bundle.rootfs())?;
    make_mount_points(&bundle, &rootfs)?;

    let mut opts = common_opts(flags, &image_dir, work_dir.as_ref(), RESTORE_LOG, &creation.state.annotations);
    opts.set_evasive_devices(true);
    opts.set_rst_sibling(true);
    opts.set_root(root.path.display().to_string());
    if let Some(profile) = &options.lsm_profile {
        opts.set_lsm_profile(profile.clone());
    }
    if let Some(context) = &options.lsm_mount_context {
        opts.set_lsm_mount_context(context.clone());
    }
    for (key, fd) in criu::inherited_pipes(&descriptors) {
        let mut entry = rpc::Inherit_fd::new();
        entry.set_key(key);
        entry.set_fd(fd);
        opts.inherit_fd.push(entry);
    }
    namespaces.describe(&mut opts);

    let started = criu.start(CriuStdio::Inherit, &namespaces.files())?;
    let criu_pid = started.pid();
    // The restored processes are CRIU's children: they are born in its cgroup and RDT group.
    let placed = match &cgroup {
        Some(cgroup) => cgroup.enter_criu(criu_pid, &plan).map_err(ContainerError::from).and_then(|()| cgroups_of(criu_pid)),
        None => Ok(Vec::new()),
    };
    let placed = placed.and_then(|cgroups| match &creation.state.resctrl {
        Some(group) => group.add_process(criu_pid).map(|()| cgroups).map_err(ContainerError::from),
        None => Ok(cgroups),
    });
    let cgroups = match placed {
        Ok(cgroups) => cgroups,
        Err(error) => {
            started.abort();
            return Err(error);
        }
    };
    let masked = bundle.spec().linux().as_ref().and_then(|l| l.masked_paths().clone()).unwrap_or_default();
    let resolve = |destination: &Path| resolved_destination(&rootfs, destination);
    add_external_mounts(
        &mut opts,
        &criu::external_mounts(bundle.spec(), bundle.dir(), Side::Restore, &v1_cgroup_binds(&bundle, &host, &cgroups), &masked, &resolve),
    );
    for cgroup in cgroups {
        let mut entry = rpc::Cgroup_root::new();
        entry.set_ctrl(cgroup.controllers.join(","));
        entry.set_path(cgroup.path);
        opts.cg_root.push(entry);
    }
    let mut request = rpc::Criu_req::new();
    request.set_type(rpc::Criu_req_type::RESTORE);
    request.opts = protobuf::MessageField::some(opts);
    trace.debug(format_args!("restore: container {id} from {} (CRIU {version}, criu pid {criu_pid})", flags.image_path.display()));

    let mut notifications = RestoreNotifications {
        creation: &mut creation,
        bundle: &bundle,
        console: console.as_ref(),
        master: None,
        pid_file: pid_file.as_deref(),
        status_fd: flags.status_fd,
        pid: None,
        trace,
    };
    let result = criu::session::converse(started, request, &mut notifications);
    let restored = notifications.pid;
    let master = notifications.master.take();
    let pid = match result {
        Ok(response) => response.restore.as_ref().map(|r| r.pid()).or(restored),
        Err(error) => {
            abandon(restored, pid_file.as_deref());
            return Err(with_log(error, flags.work_path.as_deref().unwrap_or(&flags.image_path), RESTORE_LOG).into());
        }
    };
    let Some(pid) = pid.filter(|&pid| pid > 0) else {
        abandon(restored, pid_file.as_deref());
        return Err(CriuError::Protocol("the restore answer names no process".into()).into());
    };
    if restored != Some(pid) {
        // CRIU skipped post-restore (an old CRIU): record the pid from its answer.
        if let Err(error) = record_init(&mut creation, pid, pid_file.as_deref()) {
            kill_restored(Some(pid));
            return Err(error);
        }
    }
    drop(root);
    let _lock = creation.commit();
    Ok(Created { pid, master, warnings: bundle.warnings().to_vec() })
}

/// A restore failed after CRIU restored `restored` (post-restore named it and the pid file was
/// written then): kill it, and remove the pid file that names it. Nothing else is touched:
/// without `restored`, no pid file was written.
fn abandon(restored: Option<i32>, pid_file: Option<&Path>) {
    if let (Some(_), Some(path)) = (restored, pid_file) {
        let _ = std::fs::remove_file(path);
    }
    kill_restored(restored);
}

/// Kill what CRIU restored before the restore failed.
fn kill_restored(pid: Option<i32>) {
    if let Some(pid) = pid {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    }
}

/// Save the restored init's pid and start time, and write `--pid-file`.
fn record_init(creation: &mut Creation, pid: i32, pid_file: Option<&Path>) -> Result<(), ContainerError> {
    let stat = proc_stat::read_stat(pid).ok_or_else(|| SysError::new("read stat of restored init", pid, nix::errno::Errno::ESRCH))?;
    creation.state.init_pid = pid;
    creation.state.init_start_time = stat.start_time;
    creation.save()?;
    if let Some(path) = pid_file {
        write_atomically(path, pid.to_string().as_bytes(), 0o644)?;
    }
    Ok(())
}

/// What CRIU's notifications during a restore act on.
struct RestoreNotifications<'a, 's> {
    creation: &'a mut Creation<'s>,
    bundle: &'a Bundle,
    console: Option<&'a UnixStream>,
    master: Option<OwnedFd>,
    pid_file: Option<&'a Path>,
    status_fd: Option<RawFd>,
    pid: Option<i32>,
    trace: &'a dyn Trace,
}

impl Notifications for RestoreNotifications<'_, '_> {
    fn notify(&mut self, script: &str, pid: i32, fd: Option<OwnedFd>) -> Result<(), CriuError> {
        self.trace.debug(format_args!("restore: criu notification {script} (pid {pid})"));
        let failed = |reason: String| CriuError::Notification { script: script.to_string(), reason };
        match script {
            // The namespaces exist, nothing runs yet: the hooks that run at create's point.
            "setup-namespaces" => {
                let hooks = self.bundle.spec().hooks().clone().unwrap_or_default();
                let state =
                    crate::hooks::state_json(&self.creation.state.id, ContainerState::Creating, Some(pid), self.bundle.dir(), &self.creation.state.annotations)
                        .map_err(|e| failed(e.to_string()))?;
                crate::hooks::run_hooks("prestart", hooks.prestart().as_deref().unwrap_or_default(), &state).map_err(|e| failed(e.to_string()))?;
                crate::hooks::run_hooks("createRuntime", hooks.create_runtime().as_deref().unwrap_or_default(), &state).map_err(|e| failed(e.to_string()))?;
            }
            "post-restore" => {
                self.pid = Some(pid);
                record_init(self.creation, pid, self.pid_file).map_err(|e| failed(format!("{e:#}")))?;
            }
            // The restored terminal's master, which only the console socket's owner keeps.
            "orphan-pts-master" => {
                let Some(master) = fd else {
                    return Err(failed("CRIU sent no pty master".into()));
                };
                match self.console {
                    Some(console) => crate::sys::fd_passing::send_fd(console, b"/dev/ptmx", master.as_raw_fd())
                        .map_err(|e| failed(format!("send the pty master to the console socket: {e}")))?,
                    None => self.master = Some(master),
                }
            }
            "status-ready" => crate::sys::fds::write_status_byte(self.status_fd.take()),
            // network-lock and network-unlock: skiff, like runc for an OCI config, configures
            // no network of its own to detach; CRIU locks the namespace itself.
            _ => {}
        }
        Ok(())
    }
}

/// The namespaces the config joins: the network and pid ones are handed to CRIU as open
/// files (`inherit_fd`); the others are joined by CRIU by path.
struct RestoredNamespaces {
    inherited: Vec<(String, OwnedFd)>,
    joined: Vec<(String, PathBuf)>,
}

impl RestoredNamespaces {
    fn open(bundle: &Bundle, criu: &Criu) -> Result<RestoredNamespaces, ContainerError> {
        let mut namespaces = RestoredNamespaces { inherited: Vec::new(), joined: Vec::new() };
        let spec = bundle.spec();
        let listed = spec.linux().as_ref().and_then(|l| l.namespaces().clone()).unwrap_or_default();
        for namespace in listed {
            let Some(path) = namespace_path(spec, namespace.typ()) else { continue };
            match criu::joined_namespace(namespace.typ()) {
                JoinedNamespace::External { name, minimum } => {
                    criu.require(minimum, "a container joining an existing network or pid namespace")?;
                    let file = std::fs::File::open(&path).map_err(|source| ContainerError::OptionUnusable {
                        option: "linux.namespaces",
                        what: format!("open {name} namespace {}", path.display()),
                        source,
                    })?;
                    namespaces.inherited.push((criu::namespace_key(name), OwnedFd::from(file)));
                }
                JoinedNamespace::Joined { name } => namespaces.joined.push((name.to_string(), path)),
                JoinedNamespace::Unsupported => {
                    return Err(ContainerError::InvalidOption {
                        option: "linux.namespaces",
                        reason: "a container joining an existing cgroup namespace cannot be restored (CRIU has no way to join it); create a new one".into(),
                    });
                }
            }
        }
        Ok(namespaces)
    }

    fn files(&self) -> Vec<&OwnedFd> {
        self.inherited.iter().map(|(_, fd)| fd).collect()
    }

    fn describe(&self, opts: &mut rpc::Criu_opts) {
        for (key, fd) in &self.inherited {
            let mut entry = rpc::Inherit_fd::new();
            entry.set_key(key.clone());
            entry.set_fd(fd.as_raw_fd());
            opts.inherit_fd.push(entry);
        }
        for (name, path) in &self.joined {
            let mut entry = rpc::Join_namespace::new();
            entry.set_ns(name.clone());
            entry.set_ns_file(path.display().to_string());
            opts.join_ns.push(entry);
        }
    }
}

/// The rootfs bound at `<state dir>/criu-root`: CRIU restores the mount namespace under a
/// mount point. Unmounted and removed when dropped; if this process is killed first, the
/// state store detaches it before removing the directory.
struct CriuRoot {
    path: PathBuf,
}

impl CriuRoot {
    fn mount(state_dir: &Path, rootfs: &Path) -> Result<CriuRoot, SysError> {
        let path = state_dir.join(crate::state::CRIU_ROOT_DIR);
        std::fs::create_dir(&path).map_err(|e| SysError::io("mkdir", path.display(), &e))?;
        if let Err(error) =
            mount(Some(rootfs), &path, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>).on("bind the rootfs for CRIU onto", path.display())
        {
            let _ = std::fs::remove_dir(&path);
            return Err(error);
        }
        Ok(CriuRoot { path })
    }
}

impl Drop for CriuRoot {
    fn drop(&mut self) {
        let _ = umount2(&self.path, MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// Bind mounts' mount points that a fresh rootfs may lack (a restore into another bundle):
/// CRIU mounts onto them. Those under a tmpfs of the config are CRIU's to make.
fn make_mount_points(bundle: &Bundle, root: &RootDir) -> Result<(), SysError> {
    let mounts = bundle.spec().mounts().clone().unwrap_or_default();
    let tmpfs: Vec<&Path> = mounts.iter().filter(|m| m.typ().as_deref() == Some("tmpfs")).map(|m| m.destination().as_path()).collect();
    for mount in mounts.iter().filter(|m| crate::rootfs::plan::is_bind(m)) {
        let destination = mount.destination();
        if tmpfs.iter().any(|t| destination.starts_with(t) && destination != *t) {
            continue;
        }
        let kind = match crate::rootfs::plan::bind_source(mount, bundle.dir()) {
            Some(source) if !source.is_dir() => NodeKind::File,
            _ => NodeKind::Dir,
        };
        let relative = destination.strip_prefix("/").unwrap_or(destination);
        root.ensure(relative, kind)?;
    }
    Ok(())
}

/// The cgroup CRIU is in now, per hierarchy, from `/proc/<pid>/cgroup`.
fn cgroups_of(pid: i32) -> Result<Vec<ProcessCgroup>, ContainerError> {
    let path = format!("/proc/{pid}/cgroup");
    let text = std::fs::read_to_string(&path).map_err(|e| SysError::io("read", &path, &e))?;
    Ok(crate::sys::mountinfo::parse_proc_cgroup(&text))
}

/// On a v1 host, a `cgroup` mount in the container is a bind of each hierarchy's container
/// cgroup, as create made it: (mount point in the container, host directory), for CRIU's
/// external mounts.
fn v1_cgroup_binds(bundle: &Bundle, host: &HostCgroups, cgroups: &[ProcessCgroup]) -> Vec<(String, String)> {
    if host.layout == Layout::Unified || bundle.namespaces().creates(LinuxNamespaceType::Cgroup) {
        return Vec::new();
    }
    let Some(destination) = bundle.spec().mounts().iter().flatten().find(|m| m.typ().as_deref() == Some("cgroup")).map(|m| m.destination().clone()) else {
        return Vec::new();
    };
    crate::sys::mountinfo::v1_cgroup_dirs(&host.mountinfo, cgroups)
        .into_iter()
        .map(|d| (destination.join(&d.name).display().to_string(), d.dir.display().to_string()))
        .collect()
}

/// The container's fds 0-2 as they were at the dump.
fn read_descriptors(image_path: &Path) -> Result<Vec<String>, ContainerError> {
    if !image_path.join("inventory.img").exists() {
        return Err(ContainerError::InvalidOption {
            option: "--image-path",
            reason: format!("{} holds no checkpoint (no inventory.img): give the directory `checkpoint --image-path` wrote", image_path.display()),
        });
    }
    let path = image_path.join(criu::DESCRIPTORS_FILE);
    let text =
        std::fs::read(&path).map_err(|source| ContainerError::OptionUnusable { option: "--image-path", what: format!("read {}", path.display()), source })?;
    serde_json::from_slice(&text).map_err(|e| ContainerError::InvalidOption { option: "--image-path", reason: format!("{}: {e}", path.display()) })
}
