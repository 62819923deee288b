//! `create`: claim the id, clone init into its namespaces, record the state.

use crate::cgroups::Manager;
use crate::trace::Trace;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::bundle::Bundle;
use crate::cgroups::{ContainerCgroup, Driver, HostCgroups};
use crate::process::{InitRequest, spawn_init};
use crate::state::{ContainerId, State, StateStore, write_atomically};
use crate::sys::SysError;
use crate::sys::namespaces::NamespacePlan;
use crate::sys::proc_stat;
use crate::timestamp::rfc3339_nanos;
use oci_spec::runtime::LinuxNamespaceType;

use super::ContainerError;
use super::console_route::ConsoleRoute;
use super::creation::Creation;

/// The options of `create` (and the create half of `run`).
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: PathBuf,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// `--console-socket`: where the pty master goes when `process.terminal` is set.
    pub console_socket: Option<PathBuf>,
    /// With `process.terminal` set and no console socket, the pty master is returned to the
    /// caller, who relays it (`run` and `restore` in the foreground), instead of refused.
    pub relay_terminal: bool,
    /// `--pidfd-socket`: where a pidfd of init goes once it is created.
    pub pidfd_socket: Option<PathBuf>,
    /// `--systemd-cgroup`: the cgroup is a systemd unit.
    pub systemd_cgroup: bool,
    /// Rootless: no device cgroup, and no cgroup at all where none may be made and no
    /// resources were asked for.
    pub rootless: bool,
    /// Socket-activation fds handed to the runtime (`LISTEN_FDS` for this pid): passed on
    /// as fds 3.. ahead of the preserved ones, with `LISTEN_FDS`/`LISTEN_PID=1` set.
    pub listen_fds: u32,
    /// Where a WebAssembly container's handler is looked for.
    pub wasm_handler: crate::wasm::HandlerSearch,
    /// What keeps the running binary from a container's writes (`main`'s re-exec decides).
    pub binary: crate::sys::exe_seal::BinarySeal,
}

/// A created (or restored) container: init's pid and, when the caller relays the
/// terminal, its master.
#[derive(Debug)]
pub struct Created {
    /// Init's pid (parked at the start gate).
    pub pid: i32,
    /// The pty master, with [`CreateOptions::relay_terminal`] and a terminal.
    pub master: Option<OwnedFd>,
    /// Warnings to log (skipped capabilities, ambient ones the kernel will not raise).
    pub warnings: Vec<String>,
}

/// Create the container; init is left parked at the start gate.
///
/// On any failure everything claimed so far (state directory, cgroup, init process) is
/// released. `trace` gets `--debug`'s lines (seccomp rules skipped) and phase laps.
pub fn create(store: &StateStore, options: &CreateOptions, trace: &dyn Trace) -> Result<Created, ContainerError> {
    let id = ContainerId::parse(&options.id)?;
    let bundle = Bundle::load(&options.bundle)?;
    super::binary_seal::check(options.binary, bundle.process(), bundle.namespaces().has(oci_spec::runtime::LinuxNamespaceType::User))?;
    if let (Some(label), None) = (bundle.configured_mount_label(), bundle.mount_label()) {
        trace.debug(format_args!("linux.mountLabel {label:?}: SELinux is not enabled on this host, so mounts are not labelled"));
    }
    let pid_file = options.pid_file.as_deref().map(absolute).transpose()?;
    let console = ConsoleRoute::new(bundle.process().terminal() == Some(true), options.console_socket.as_deref(), options.relay_terminal)?;
    let linux = bundle.spec().linux().as_ref();
    let PlannedCgroup { host: host_cgroups, cgroup, plan: cgroup_plan } = plan_cgroup(&bundle, &id, options, trace)?;
    let moves = bundle.net_device_moves();
    if !moves.is_empty() {
        if options.rootless {
            return Err(crate::bundle::BundleError::Invalid {
                field: "linux.netDevices",
                reason: "moving host network devices needs root; rootless containers cannot".into(),
            }
            .into());
        }
        crate::sys::net_devices::check_present(moves)?;
    }
    // Intel RDT: planned, and resctrl found, before anything exists.
    let rdt = plan_rdt(&bundle, &id)?;
    // A WebAssembly entrypoint: the handler found and the module validated, before anything exists.
    let wasm = match bundle.spec().annotations() {
        Some(annotations) => crate::wasm::prepare_for_create(annotations, &options.wasm_handler, bundle.rootfs(), bundle.process(), options.binary)?,
        None => None,
    };
    trace.lap("parse and validate");
    let seccomp_profile = linux.and_then(|l| l.seccomp().clone());
    // The cache's program, or a compilation that runs beside the setup once init is cloned
    // (what libseccomp alone could refuse then fails create there, and nothing is left).
    // (A hit is a profile of the same bytes that compiled before: nothing to check.)
    let cache = crate::seccomp::cache::default_dir();
    let (seccomp, to_compile, seccomp_notify) = match &seccomp_profile {
        Some(profile) => match crate::seccomp::cache::lookup(cache.as_deref(), profile, trace) {
            crate::seccomp::cache::Lookup::Hit(program) => {
                let notify = program.notify;
                (Some(program), None, notify)
            }
            crate::seccomp::cache::Lookup::Miss(miss) => {
                let notify = crate::seccomp::check(profile)?;
                (None, Some((miss, profile.clone())), notify)
            }
        },
        None => (None, None, false),
    };
    trace.lap("seccomp compile");

    let state = initial_state(&bundle, &id, cgroup.clone(), seccomp_profile.clone());
    let mut creation = Creation::begin(store, &id, state)?;
    trace.lap("state write");
    creation.prepare_cgroup(&cgroup_plan)?;
    creation.prepare_rdt(rdt)?;
    trace.lap("cgroup");
    // Without a mount namespace of its own, a failed setup must not leave its mounts in the
    // runtime's.
    if !creation.state.own_mount_namespace {
        creation.mounts_in_runtime_namespace(bundle.rootfs());
    }
    trace.debug(format_args!(
        "create: container {id} from bundle {}, cgroup {}",
        bundle.dir().display(),
        cgroup.as_ref().map(|c| c.location().display().to_string()).unwrap_or_else(|| "none".into())
    ));
    let request = InitRequest {
        id: id.as_str(),
        bundle: &bundle,
        state_dir: creation.dir(),
        no_pivot: options.no_pivot,
        no_new_keyring: options.no_new_keyring,
        preserve_fds: options.listen_fds + options.preserve_fds,
        extra_env: listen_env(options.listen_fds),
        cgroup: cgroup.as_ref().map(|cgroup| (cgroup, &cgroup_plan)),
        resctrl: creation.state.resctrl.as_ref(),
        close_in_init: [creation.lock_fd(), console.caller_end()].into_iter().flatten().chain(crate::sys::fds::stray_fds().iter().copied()).collect(),
        console_socket: console.init_end(),
        seccomp: seccomp.as_ref(),
        seccomp_notify,
        rootless: options.rootless,
        timing: trace.timing(),
        cgroup_unified: host_cgroups.layout == crate::cgroups::Layout::Unified,
        wasm: wasm.as_ref(),
    };
    let init = spawn_init(&request, to_compile, trace)?;
    // Init sent the master before it parked at the gate; taken now, while a failure still
    // kills init and releases everything.
    let master = console.relayed_master()?;
    let stat = proc_stat::read_stat(init.pid()).ok_or_else(|| SysError::new("read stat of init", init.pid(), nix::errno::Errno::ESRCH))?;
    creation.state.init_pid = init.pid();
    creation.state.init_start_time = stat.start_time;
    creation.save()?;
    if let Some(path) = &pid_file {
        write_atomically(path, init.pid().to_string().as_bytes(), 0o644)?;
    }
    trace.lap("state write");
    let pid = match init.commit() {
        Ok(pid) => pid,
        Err(error) => {
            // Do not leave a pid file naming a dead (and reusable) pid.
            if let Some(path) = &pid_file {
                let _ = std::fs::remove_file(path);
            }
            return Err(error.into());
        }
    };
    trace.lap("commit");
    trace.debug(format_args!("create: init pid {pid} of container {id} waits at the start gate"));
    let start_time = creation.state.init_start_time;
    // Held until create returns.
    let _lock = creation.commit();
    if let Some(socket) = &options.pidfd_socket
        && let Some(pidfd) = crate::sys::pidfd::PidFd::open_verified(pid, start_time)?
    {
        pidfd.send_to(socket)?;
    }
    Ok(Created { pid, master, warnings: bundle.warnings().to_vec() })
}

/// The container's cgroup and what is applied to it, checked before anything exists.
pub(super) struct PlannedCgroup {
    /// The host's cgroup facts.
    pub host: HostCgroups,
    /// The cgroup (none for a rootless container that may not have one).
    pub cgroup: Option<ContainerCgroup>,
    /// The limits and device rules.
    pub plan: crate::cgroups::CgroupPlan,
}

/// Locate the container's cgroup under the driver asked for and plan its resources: every
/// value and device rule is refused here, before anything exists.
pub(super) fn plan_cgroup(bundle: &Bundle, id: &ContainerId, options: &CreateOptions, trace: &dyn Trace) -> Result<PlannedCgroup, ContainerError> {
    let linux = bundle.spec().linux().as_ref();
    let resources = linux.and_then(|l| l.resources().clone()).unwrap_or_default();
    let driver = if options.systemd_cgroup { Driver::Systemd } else { Driver::Cgroupfs };
    let host = HostCgroups::read()?;
    let cgroup = ContainerCgroup::for_container(&host, driver, linux.and_then(|l| l.cgroups_path().as_deref()), id.as_str(), options.rootless)?;
    let mut plan = cgroup.plan(&resources, bundle.spec())?;
    if options.rootless {
        plan = plan.without_devices();
    }
    let cgroup = rootless_cgroup(cgroup, &plan, options.rootless, trace)?;
    Ok(PlannedCgroup { host, cgroup, plan })
}

/// `linux.intelRdt`: the group planned and resctrl found, before anything exists.
pub(super) fn plan_rdt(bundle: &Bundle, id: &ContainerId) -> Result<Option<(crate::resctrl::RdtPlan, crate::resctrl::ResctrlRoot)>, ContainerError> {
    let rdt = bundle.spec().linux().as_ref().and_then(|l| l.intel_rdt().as_ref());
    Ok(rdt.map(|rdt| Ok::<_, crate::resctrl::ResctrlError>((crate::resctrl::plan(rdt, id.as_str())?, crate::resctrl::ResctrlRoot::find()?))).transpose()?)
}

/// The state a new container starts from: no init yet (pid 0 reads as stopped).
pub(super) fn initial_state(bundle: &Bundle, id: &ContainerId, cgroup: Option<ContainerCgroup>, seccomp: Option<oci_spec::runtime::LinuxSeccomp>) -> State {
    let linux = bundle.spec().linux().as_ref();
    State {
        oci_version: bundle.spec().version().clone(),
        id: id.to_string(),
        init_pid: 0,
        init_start_time: 0,
        bundle: bundle.dir().to_path_buf(),
        rootfs: bundle.rootfs().to_path_buf(),
        created: rfc3339_nanos(SystemTime::now()),
        owner_uid: nix::unistd::geteuid().as_raw(),
        annotations: bundle.annotations(),
        own_pid_namespace: own_pid_namespace(bundle.namespaces()),
        own_mount_namespace: bundle.namespaces().has(LinuxNamespaceType::Mount),
        cgroup,
        hooks: bundle.spec().hooks().clone(),
        seccomp,
        memory_policy: linux.and_then(|l| l.memory_policy().clone()),
        personality: linux.and_then(|l| l.personality().clone()),
        resctrl: None,
    }
}

/// A rootless runtime outside a cgroup subtree delegated to its user runs the container
/// without a cgroup, as runc does, unless resources were asked for: those are an error that
/// says why they cannot be applied.
fn rootless_cgroup(
    cgroup: ContainerCgroup,
    plan: &crate::cgroups::CgroupPlan,
    rootless: bool,
    trace: &dyn Trace,
) -> Result<Option<ContainerCgroup>, ContainerError> {
    if !rootless || cgroup.may_create() {
        return Ok(Some(cgroup));
    }
    let uid = nix::unistd::geteuid();
    if !plan.writes.is_empty() {
        return Err(crate::cgroups::CgroupError::Invalid {
            field: "linux.resources",
            reason: format!(
                "rootless: uid {uid} may not create the cgroup {}, so the resources asked for cannot be applied; use a cgroup delegated to this user (--systemd-cgroup with a user session, or a writable cgroupfs subtree), or no resources",
                cgroup.location().display()
            ),
        }
        .into());
    }
    trace.debug(format_args!(
        "rootless: uid {uid} may not create the cgroup {}; the container runs without one (no resources were asked for)",
        cgroup.location().display()
    ));
    Ok(None)
}

/// The environment socket activation needs inside: the fds start at 3 and init is pid 1.
fn listen_env(listen_fds: u32) -> Vec<String> {
    if listen_fds == 0 {
        return Vec::new();
    }
    vec![format!("LISTEN_FDS={listen_fds}"), "LISTEN_PID=1".to_string()]
}

fn own_pid_namespace(namespaces: &NamespacePlan) -> bool {
    namespaces.creates(LinuxNamespaceType::Pid)
}

/// `--pid-file` relative to the caller's directory, fixed before anything else runs.
pub(super) fn absolute(path: &Path) -> Result<PathBuf, ContainerError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|source| ContainerError::OptionUnusable {
        option: "--pid-file",
        what: format!("resolve {} against the current directory", path.display()),
        source,
    })?;
    Ok(cwd.join(path))
}
