//! The container's init, from the clone to the exec of the user's process. Runs in the child:
//! it never returns; failures go to the runtime as data, then `_exit`.

use super::protocol::{ChildSide, FromRuntime, Steps};
use crate::cgroups::Manager;
use crate::phases::PhaseClock;
use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
use nix::unistd::AccessFlags;
use oci_spec::runtime::{LinuxNamespaceType, Process};

use super::InitRequest;
use super::channel::{ChannelError, ChildEnd};
use super::gate::wait_at_gate;
use super::message::{SeccompHeader, ToInit, ToParent, WireError};
use crate::rootfs::{RootfsConfig, enter_rootfs, finish_rootfs, setup_rootfs};
use crate::seccomp::SeccompProgram;
use crate::seccomp::load_filter;
use crate::sys::capabilities::{CapabilityError, apply_bounding, apply_process_sets, plan_capabilities, supported_capabilities};
use crate::sys::namespaces::NamespaceFile;
use crate::sys::procfs::ProcFs;
use crate::sys::{SysContext, SysError, fds, keyring, process_attrs, rlimits, sysctl, user};
use crate::wasm::{WasmLaunch, WasmMode};

/// PATH used to find the executable when the process environment has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What can go wrong in init.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
    /// Applying capabilities failed.
    #[error(transparent)]
    Capability(#[from] CapabilityError),
    /// Talking to the runtime failed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// `process.args[0]` is not in the container.
    #[error("exec: {0:?}: executable file not found in $PATH")]
    NotFound(String),
    /// `process.args[0]` is a path that cannot be executed (runc's wording).
    #[error("exec: {path:?}: stat {path}: {reason}")]
    NotExecutable {
        /// The path given.
        path: String,
        /// Why: missing, not a file, not executable.
        reason: &'static str,
    },
    /// The runtime sent something out of order.
    #[error("unexpected message from the runtime: {0}")]
    Unexpected(String),
    /// The runtime exited before it saved the container's state.
    #[error("the runtime exited before committing the container")]
    Abandoned,
    /// A createContainer hook failed.
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    /// The config's mounts cannot be planned.
    #[error(transparent)]
    MountPlan(#[from] crate::rootfs::plan::PlanError),
    /// Init could not move itself into its v1 cgroups.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
}

impl From<crate::rootfs::SetupError> for InitError {
    fn from(error: crate::rootfs::SetupError) -> InitError {
        match error {
            crate::rootfs::SetupError::Plan(plan) => InitError::MountPlan(plan),
            crate::rootfs::SetupError::Sys(sys) => InitError::Sys(sys),
        }
    }
}

impl InitError {
    pub(super) fn errno(&self) -> Option<i32> {
        match self {
            InitError::Sys(e) => e.reported_errno(),
            InitError::Channel(ChannelError::Send { errno, .. } | ChannelError::Receive { errno, .. }) => Some(*errno as i32),
            InitError::NotFound(_) | InitError::NotExecutable { .. } => Some(libc::ENOENT),
            _ => None,
        }
    }
}

/// What init inherits from the runtime besides the request, all prepared before the clone.
pub(super) struct Inherited<'a> {
    /// Init's end of the channel.
    pub channel: &'a ChildEnd,
    /// The read end of the start gate.
    pub gate: &'a OwnedFd,
    /// Namespace files to join.
    pub joins: &'a [NamespaceFile],
    /// Detached idmapped trees, by mount index.
    pub idmapped: &'a [(usize, OwnedFd)],
    /// The idmapped mounts whose trees init asks for when it gets there (`IdmapPlease`).
    pub late_idmaps: &'a [usize],
    /// Who makes each namespace, and when.
    pub schedule: &'a super::namespace_schedule::NamespaceSchedule,
    /// The v1 cgroup init moves itself into (see [`super::CgroupEntry`]).
    pub enters_cgroup: Option<&'a crate::cgroups::v1::V1Cgroup>,
}

/// Run init to the exec. Never returns.
pub(super) fn run_init(request: &InitRequest, inherited: &Inherited) -> ! {
    let channel = inherited.channel;
    let error = match init_main(request, inherited) {
        Ok(never) => match never {},
        Err(error) => error,
    };
    let wire = WireError::capture(&error, error.errno());
    // If the runtime is already gone there is nobody to tell; the exit status says it.
    let _ = channel.send(&ToParent::Failed(wire), "failure");
    crate::sys::exit_now(1)
}

fn init_main(request: &InitRequest, inherited: &Inherited) -> Result<Infallible, InitError> {
    let Inherited { channel, gate, joins, idmapped, late_idmaps, schedule, enters_cgroup } = *inherited;
    let late_user = schedule.late_user;
    for fd in &request.close_in_init {
        // The runtime's lock on the container directory must not outlive the runtime; the
        // caller's stray fds must not reach the container.
        let _ = nix::unistd::close(*fd);
    }
    let spec = request.bundle.spec();
    let process = request.bundle.process();
    // Not dumpable until the exec (which resets it): nothing else with our uid may open
    // /proc/<init>/exe (the host's skiff binary) or our memory meanwhile. A rootless runtime
    // writes our id maps and setgroups through /proc/<init>/, which only a dumpable process
    // lets its (unprivileged) owner open: then not before the maps are written (runc too).
    let maps_by_rootless_runtime = schedule.dumpable_until_maps;
    if !maps_by_rootless_runtime {
        nix::sys::prctl::set_dumpable(false).on("prctl PR_SET_DUMPABLE", 0)?;
    }
    // From the start, so that a SIGTERM arriving before the user's program runs is not
    // discarded by the kernel (a namespace init with default dispositions ignores it).
    end_on_termination_signals()?;
    // `run` blocks signals to forward them; the container's process starts with none blocked.
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).on("sigprocmask", "unblock all")?;
    let namespaces = request.bundle.namespaces();
    let hooks_round_trip = super::hook_round_trip(request.bundle);
    let mut protocol = ChildSide::new(Steps { late_user, hooks: hooks_round_trip, late_idmaps: late_idmaps.len(), ..Steps::default() });
    let (bind_sources, compiled) = match await_runtime_with_fds(channel, &mut protocol, FromRuntime::Proceed)? {
        (ToInit::Proceed { bind_sources, seccomp }, mut fds) => {
            // The program compiled beside the setup comes last.
            let compiled = match seccomp {
                Some(header) => Some(received_program(fds.pop(), header)?),
                None => None,
            };
            (bind_sources.into_iter().zip(fds).collect(), compiled)
        }
        _ => (Vec::new(), None),
    };
    // Before anything that counts against the cgroup or reads it (the cgroup namespace
    // included), and after Proceed, so that a refusal reaches a runtime that is listening.
    if let Some(cgroup) = enters_cgroup {
        cgroup.enter_self()?;
    }
    // --debug: init times its own phases and reports them with Ready.
    let mut clock = PhaseClock::new(request.timing);
    if maps_by_rootless_runtime && !late_user {
        nix::sys::prctl::set_dumpable(false).on("prctl PR_SET_DUMPABLE", 0)?;
    }
    // Joining a user namespace: first the other namespaces our privilege may join now (the
    // user namespace need not own them, and inside it we could not), then the user
    // namespace, then the namespaces deferred until it was joined, then the joins that
    // needed its privilege (a rootless runtime's), as runc's nsexec orders them. pid and
    // time namespaces were entered by the runtime for its children before the clone.
    let (user_joins, mut other_joins): (Vec<&NamespaceFile>, Vec<&NamespaceFile>) =
        joins.iter().filter(|ns| !matches!(ns.kind, LinuxNamespaceType::Pid | LinuxNamespaceType::Time)).partition(|ns| ns.kind == LinuxNamespaceType::User);
    if !user_joins.is_empty() {
        other_joins = join_where_permitted(other_joins)?;
    }
    for ns in user_joins {
        ns.join()?;
    }
    if late_user {
        // Host-owned namespaces are joined while we still have the host's privileges.
        for ns in &other_joins {
            ns.join()?;
        }
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).on("unshare", "user namespace")?;
        channel.send(&ToParent::MappingRequest, "mapping request")?;
        await_runtime(channel, &mut protocol, FromRuntime::MappingWritten)?;
        if maps_by_rootless_runtime {
            nix::sys::prctl::set_dumpable(false).on("prctl PR_SET_DUMPABLE", 0)?;
        }
    }
    // (a new ipc namespace is made after setresuid below)
    let deferred = schedule.deferred;
    if !deferred.is_empty() {
        nix::sched::unshare(deferred).on("unshare", format!("{deferred:?} in the container's user namespace"))?;
        if schedule.intermediate {
            // A new pid namespace takes effect for children: continue in one, as its pid 1.
            // The real init waits until its pid is on the channel, so that the runtime reads
            // InitPid before anything the real init sends (the protocol's order).
            let (reported, report) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).on("pipe", "init pid report")?;
            match crate::sys::clone::clone_process(nix::sched::CloneFlags::empty(), None)? {
                crate::sys::clone::Forked::Child => {
                    drop(report);
                    let mut byte = [0u8; 1];
                    if !matches!(nix::unistd::read(reported.as_raw_fd(), &mut byte), Ok(1)) {
                        // The intermediate could not report us: the runtime would not know us.
                        crate::sys::exit_now(1)
                    }
                }
                crate::sys::clone::Forked::Parent(real_init) => {
                    if channel.send(&ToParent::InitPid(real_init), "init pid").is_ok() {
                        let _ = nix::unistd::write(&report, b"1");
                    }
                    crate::sys::exit_now(0)
                }
            }
        }
    }
    // In a user namespace our host uid (0) has no mapping; become the namespace's root so
    // that files we create are owned by the mapped root.
    if schedule.become_userns_root {
        let root_gid = nix::unistd::Gid::from_raw(0);
        let root_uid = nix::unistd::Uid::from_raw(0);
        nix::unistd::setresgid(root_gid, root_gid, root_gid).on("setresgid in user namespace", 0)?;
        nix::unistd::setresuid(root_uid, root_uid, root_uid).on("setresuid in user namespace", 0)?;
    }
    // As root of the user namespace: its mqueue filesystem is then root's (see spawn_init).
    if schedule.ipc_by_init {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWIPC).on("unshare", "ipc namespace")?;
    }
    // Created only now, after the runtime moved us into the container's cgroup, so that
    // the namespace is rooted there (the clone left it out of its flags).
    if schedule.cgroup_by_init {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP).on("unshare", "cgroup namespace")?;
    }
    if !late_user {
        for ns in other_joins {
            ns.join()?;
        }
    }
    nix::unistd::setsid().on("setsid", "init")?;
    if !request.no_new_keyring {
        keyring::join_new_session_keyring(&format!("_ses.{}", request.id))?;
    }
    // A network namespace made for the container gets its loopback up, as runc does; one
    // joined by path is its owner's to configure.
    if namespaces.creates(LinuxNamespaceType::Network) {
        crate::sys::netlink::bring_loopback_up()?;
    }
    clock.lap("namespaces");
    let linux = spec.linux().as_ref();
    let empty = Vec::new();
    let idmapped_indexes: Vec<usize> = idmapped.iter().map(|(index, _)| *index).chain(late_idmaps.iter().copied()).collect();
    let plan = RootfsConfig {
        rootfs: request.bundle.rootfs(),
        bundle: request.bundle.dir(),
        mounts: spec.mounts().as_deref().unwrap_or_default(),
        devices: linux.and_then(|l| l.devices().as_deref()).unwrap_or_default(),
        propagation: request.bundle.rootfs_propagation(),
        readonly: spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false),
        no_pivot: request.no_pivot,
        host_mount_namespace: !namespaces.has(LinuxNamespaceType::Mount),
        // Also when the runtime itself runs in a user namespace (rootless podman runs it as
        // root of one): mknod is refused there too (runc's rule).
        in_user_namespace: namespaces.has(LinuxNamespaceType::User) || crate::rootless::in_user_namespace(),
        masked_paths: linux.and_then(|l| l.masked_paths().as_ref()).unwrap_or(&empty),
        readonly_paths: linux.and_then(|l| l.readonly_paths().as_ref()).unwrap_or(&empty),
        cwd: process.cwd(),
        cgroup_namespace: namespaces.creates(LinuxNamespaceType::Cgroup),
        cgroup_dir: request.cgroup.map(|(cgroup, _)| cgroup.location()),
        idmapped: &idmapped_indexes,
        cgroup_unified: request.cgroup_unified,
        mount_label: request.bundle.mount_label(),
    };
    // An idmapped tree of a source in the rootfs is the runtime's to make, now that the
    // mounts before it are in place.
    let mut late_idmap = |index: usize| -> Result<OwnedFd, SysError> {
        channel
            .send(&ToParent::IdmapPlease(index), "idmap request")
            .map_err(|e| SysError::refused("ask the runtime for", format!("the idmapped tree of mounts[{index}]"), e))?;
        let (_, fds) = await_runtime_with_fds(channel, &mut protocol, FromRuntime::Idmapped)
            .map_err(|e| SysError::refused("receive from the runtime", format!("the idmapped tree of mounts[{index}]"), e))?;
        fds.into_iter()
            .next()
            .ok_or_else(|| SysError::refused("receive from the runtime", format!("the idmapped tree of mounts[{index}]"), "no fd came with it"))
    };
    let read_only_later = setup_rootfs(&plan, idmapped, &bind_sources, &mut late_idmap)?;
    drop(bind_sources);
    clock.lap("mounts");
    let hooks = spec.hooks().as_ref();
    let hook_state =
        |pid| crate::hooks::state_json(request.id, oci_spec::runtime::ContainerState::Creating, Some(pid), request.bundle.dir(), &request.bundle.annotations());
    let mut runtime_pid = None;
    if hooks_round_trip {
        // The runtime runs prestart and createRuntime now, and tells us our pid for ours.
        channel.send(&ToParent::HooksPlease, "hooks please")?;
        if let ToInit::HooksDone { pid } = await_runtime(channel, &mut protocol, FromRuntime::HooksDone)? {
            runtime_pid = Some(pid);
        }
    }
    if let (Some(hooks), Some(pid)) = (hooks, runtime_pid) {
        // In the container's namespaces, before pivot_root: paths resolve on the host, and
        // relative ones from the rootfs, the hooks' working directory (runc's: hooks that
        // copy libraries in write `./lib/...`).
        let state = hook_state(pid)?;
        nix::unistd::chdir(plan.rootfs).on("chdir for the createContainer hooks", plan.rootfs.display())?;
        crate::hooks::run_hooks("createContainer", hooks.create_container().as_deref().unwrap_or_default(), &state)?;
    }
    clock.lap("hooks");
    enter_rootfs(&plan)?;
    if !crate::rootfs::plan::dev_is_bound(plan.mounts) {
        crate::rootfs::devices::reopen_dev_null()?;
    }
    clock.lap("pivot_root");
    if let Some(socket) = request.console_socket {
        let size = process.console_size().map(|b| (b.height() as u16, b.width() as u16));
        let slave = crate::rootfs::console::create_console(socket, size, true)?;
        crate::rootfs::console::attach_console(&slave)?;
    }
    if let Some(hostname) = spec.hostname() {
        nix::unistd::sethostname(hostname).on("sethostname", hostname)?;
    }
    if let Some(domainname) = spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        crate::sys::set_domainname(domainname)?;
    }
    if let Some(sysctls) = linux.and_then(|l| l.sysctl().as_ref()).filter(|s| !s.is_empty()) {
        let proc = ProcFs::open(Path::new("/proc"))?;
        let mut keys: Vec<&String> = sysctls.keys().collect();
        keys.sort();
        for key in keys {
            proc.write(&sysctl::proc_path(key), &sysctls[key])?;
        }
    }
    clock.lap("console/hostname/sysctls");
    finish_rootfs(&plan, read_only_later)?;
    clock.lap("masked and read-only paths");
    if let Some(personality) = linux.and_then(|l| l.personality().as_ref()) {
        process_attrs::set_personality(personality)?;
    }
    // Kept across the exec; set before a seccomp filter could deny set_mempolicy.
    if let Some(policy) = linux.and_then(|l| l.memory_policy().as_ref()) {
        crate::sys::placement::set_memory_policy(policy)?;
    }
    label_next_exec(process)?;
    // Before the filter: under no_new_privs it is loaded last, and a NOTIFY rule on fcntl
    // (runc 1.5's "important syscalls") would wait on an agent that has no fd yet.
    channel.close_on_exec()?;
    let seccomp = compiled.as_ref().or(request.seccomp);
    let prepared = become_process(process, request.preserve_fds, &request.extra_env, seccomp, request.wasm, channel, &mut clock)?;
    send_listener(channel, prepared.listener.as_ref())?;
    commit_with_runtime(channel, &mut protocol, &clock)?;
    wait_at_gate(gate)?;
    if let (Some(hooks), Some(pid)) = (hooks, runtime_pid) {
        // In the container, after start: paths resolve in the container. A failure stops
        // the container (the runtime has exited: stderr says why).
        let state =
            crate::hooks::state_json(request.id, oci_spec::runtime::ContainerState::Created, Some(pid), request.bundle.dir(), &request.bundle.annotations())?;
        // A hook without env of its own gets the process's, as with runc.
        let env: Vec<String> = prepared.env.iter().map(|e| e.to_string_lossy().into_owned()).collect();
        if let Err(error) = crate::hooks::run_hooks_with_default_env("startContainer", hooks.start_container().as_deref().unwrap_or_default(), &state, &env) {
            let _ = nix::unistd::write(std::io::stderr(), format!("skiff: {error}\n").as_bytes());
            crate::sys::exit_now(1);
        }
    }
    exec_prepared(prepared)
}

/// `process.apparmorProfile` and `process.selinuxLabel` for the coming exec, written while
/// init is still root in the container (runc's order). The bundle checked the host has them.
pub(super) fn label_next_exec(process: &Process) -> Result<(), InitError> {
    let label = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
    let (apparmor, selinux) = (label(process.apparmor_profile()), label(process.selinux_label()));
    crate::sys::lsm::label_next_exec(nix::unistd::getpid().as_raw(), apparmor.as_deref(), selinux.as_deref())?;
    Ok(())
}

/// The user's program, ready to exec.
pub(super) struct Prepared {
    /// The program found by `process.args[0]` (a WASI module, with `handler`).
    executable: CString,
    /// The argv to exec with.
    args: Vec<CString>,
    /// The wasm handler to exec instead, with the module's path among `args`.
    handler: Option<RawFd>,
    env: Vec<CString>,
    /// The seccomp notification listener, for the runtime (closed before the exec).
    pub(super) listener: Option<OwnedFd>,
}

/// Hand the seccomp listener, if there is one, to the runtime. Our copy is closed by the
/// caller (dropped, or at the exec): the container's process must not hold the fd that
/// answers for its own syscalls.
pub(super) fn send_listener(channel: &ChildEnd, listener: Option<&OwnedFd>) -> Result<(), InitError> {
    if let Some(listener) = listener {
        channel.send_with_fd(&ToParent::SeccompListener, listener.as_raw_fd(), "seccomp listener")?;
    }
    Ok(())
}

/// Turn the calling process into `process` short of the exec: rlimits, scheduling, bounding
/// set, user and groups, capabilities, cwd, no_new_privs, the executable found, fds closed
/// beyond stdio and the `preserve_fds`, umask, and the seccomp filter. Shared by init and
/// `exec`.
///
/// The filter is loaded as late as it can be: last, under no_new_privs; without
/// no_new_privs, loading needs CAP_SYS_ADMIN, so before the user and capabilities change
/// (runc's order; the profile must then allow what follows, as every engine's does). There
/// the listener goes to the runtime (over `channel`) at once, as runc does: the syscalls
/// still to come may be ones the agent answers, and it must have the fd first.
pub(super) fn become_process(
    process: &Process,
    preserve_fds: u32,
    extra_env: &[String],
    seccomp: Option<&SeccompProgram>,
    wasm: Option<&WasmLaunch>,
    channel: &ChildEnd,
    clock: &mut PhaseClock,
) -> Result<Prepared, InitError> {
    rlimits::apply_rlimits(process.rlimits().as_deref().unwrap_or_default())?;
    if let Some(scheduler) = process.scheduler() {
        process_attrs::set_scheduler(scheduler)?;
    }
    if let Some(priority) = process.io_priority() {
        process_attrs::set_io_priority(priority)?;
    }
    let capabilities = plan_capabilities(process.capabilities().as_ref(), &supported_capabilities());
    let no_new_privileges = process.no_new_privileges() == Some(true);
    // Resolved before any filter exists: an older profile may deny openat2 itself.
    let cwd = resolve_cwd(process.cwd())?;
    if let Some(program) = seccomp.filter(|_| !no_new_privileges) {
        clock.lap("process attributes");
        // sendmsg is the one syscall this needs, refused as a NOTIFY target at compile.
        send_listener(channel, load_filter(program)?.as_ref())?;
        clock.lap("seccomp load");
    }
    // runc's order: the chdir first, with the runtime's access (a cwd the user cannot
    // enter but root can, as runc allows); where that is refused (a rootless runtime, a
    // directory only the user may enter), again as the user.
    let entered_early = match nix::unistd::fchdir(cwd.as_raw_fd()) {
        Ok(()) => true,
        Err(nix::errno::Errno::EACCES) => false,
        Err(errno) => return Err(SysError::new("chdir to process.cwd", process.cwd().display(), errno).into()),
    };
    apply_bounding(&capabilities)?;
    let user = process.user();
    user::give_stdio_to(user.uid())?;
    user::switch_user(user.uid(), user.gid(), user.additional_gids().as_deref().unwrap_or_default())?;
    apply_process_sets(&capabilities)?;
    if !entered_early {
        nix::unistd::fchdir(cwd.as_raw_fd()).on("chdir to process.cwd", process.cwd().display())?;
    }
    drop(cwd);
    if no_new_privileges {
        user::set_no_new_privileges()?;
    }
    let args = process.args().as_deref().unwrap_or_default();
    let mut env = with_home(process.env().as_deref().unwrap_or_default(), user.uid());
    env.extend(extra_env.iter().cloned());
    let name = args.first().map(String::as_str).unwrap_or_default();
    let mut prepared = match wasm.filter(|launch| runs_as_wasm(name, &env, launch.mode)) {
        Some(launch) => {
            let module = find_program(name, &env, AccessFlags::R_OK)?;
            let argv = crate::wasm::handler_argv(std::ffi::OsStr::from_bytes(module.as_bytes()).to_owned(), args);
            let argv = to_cstrings(argv.iter().map(|a| a.as_bytes()))?;
            Prepared {
                executable: module,
                args: argv,
                handler: Some(launch.handler.as_raw_fd()),
                env: to_cstrings(env.iter().map(String::as_bytes))?,
                listener: None,
            }
        }
        None => Prepared {
            executable: find_program(name, &env, AccessFlags::X_OK)?,
            args: to_cstrings(args.iter().map(String::as_bytes))?,
            handler: None,
            env: to_cstrings(env.iter().map(String::as_bytes))?,
            listener: None,
        },
    };
    fds::prepare_fds_for_exec(preserve_fds)?;
    // runc's default umask when the config has none.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(user.umask().unwrap_or(0o022)));
    clock.lap("process attributes");
    if let Some(program) = seccomp.filter(|_| no_new_privileges) {
        prepared.listener = load_filter(program)?;
        clock.lap("seccomp load");
    }
    Ok(prepared)
}

/// Join each of `namespaces` that our privilege allows; return those refused (EPERM), to
/// join once in the user namespace. Any other failure is an error.
fn join_where_permitted(namespaces: Vec<&NamespaceFile>) -> Result<Vec<&NamespaceFile>, SysError> {
    let mut refused = Vec::new();
    for ns in namespaces {
        match ns.join() {
            Ok(()) => {}
            Err(error) if error.errno == nix::errno::Errno::EPERM => refused.push(ns),
            Err(error) => return Err(error),
        }
    }
    Ok(refused)
}

/// `process.cwd` resolved inside the container's root without magic links, for `fchdir`:
/// `/proc/self/fd/N` naming an fd from outside (CVE-2024-21626) is refused rather than
/// followed out of the container.
fn resolve_cwd(cwd: &Path) -> Result<OwnedFd, InitError> {
    let root = crate::sys::fs_in_root::RootDir::open(Path::new("/"))?;
    Ok(root.open_in(cwd, libc::O_PATH | libc::O_DIRECTORY).on("resolve process.cwd in the container's root", cwd.display())?)
}

/// Say `Ready` and wait for the runtime's `Committed` (EOF: the runtime died: give up).
pub(super) fn commit_with_runtime(channel: &ChildEnd, protocol: &mut ChildSide, clock: &PhaseClock) -> Result<(), InitError> {
    channel.send(&ToParent::Ready(clock.to_wire()), "ready")?;
    await_runtime(channel, protocol, FromRuntime::Committed).map(drop)
}

/// Wait for `step` from the runtime: the one message the protocol allows now. EOF: the
/// runtime died, and nobody would take the container over.
pub(super) fn await_runtime(channel: &ChildEnd, protocol: &mut ChildSide, step: FromRuntime) -> Result<ToInit, InitError> {
    Ok(await_runtime_with_fds(channel, protocol, step)?.0)
}

/// The seccomp program the runtime compiled after the clone, read from its memfd.
fn received_program(file: Option<OwnedFd>, header: SeccompHeader) -> Result<SeccompProgram, InitError> {
    let file = file.ok_or_else(|| InitError::Unexpected("Proceed announced a seccomp program but carried no fd".into()))?;
    let mut file = std::fs::File::from(file);
    let mut bpf = Vec::new();
    std::io::Seek::rewind(&mut file)
        .and_then(|_| std::io::Read::read_to_end(&mut file, &mut bpf))
        .map_err(|e| SysError::io("read", "the seccomp program from the runtime", &e))?;
    Ok(SeccompProgram { bpf, flags: header.flags, notify: header.notify })
}

/// [`await_runtime`], keeping the fds that came with the message.
fn await_runtime_with_fds(channel: &ChildEnd, protocol: &mut ChildSide, step: FromRuntime) -> Result<(ToInit, Vec<OwnedFd>), InitError> {
    let (message, fds) = channel.recv_with_fds()?.ok_or(InitError::Abandoned)?;
    protocol.accept(step, &message).map_err(|error| InitError::Unexpected(error.to_string()))?;
    Ok((message, fds))
}

/// Exec the prepared program; on failure say why on stderr (the runtime may be gone) and exit 127.
pub(super) fn exec_prepared(prepared: Prepared) -> ! {
    drop(prepared.listener);
    // Rust ignores SIGPIPE in its own processes; the user's process gets the default.
    let _ = crate::sys::signal::reset_sigpipe();
    let result = match prepared.handler {
        // close_range may have cleared close-on-exec where the fd fell among the preserved
        // ones: the module must not inherit an fd of the handler's file.
        Some(handler) => nix::fcntl::fcntl(handler, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
            .and_then(|_| nix::unistd::execveat(Some(handler), c"", &prepared.args, &prepared.env, nix::fcntl::AtFlags::AT_EMPTY_PATH)),
        None => nix::unistd::execve(&prepared.executable, &prepared.args, &prepared.env),
    };
    let errno = match result {
        Ok(never) => match never {},
        Err(errno) => errno,
    };
    let handler = if prepared.handler.is_some() { format!(" with the wasm handler {}", crate::wasm::HANDLER_NAME) } else { String::new() };
    // runc's line, word for word (Go's lowercase errno texts): callers compare it whole.
    let message = format!("exec {}{handler}: {}\n", prepared.executable.to_string_lossy(), errno.desc().to_lowercase());
    let _ = nix::unistd::write(std::io::stderr(), message.as_bytes());
    crate::sys::exit_now(127)
}

/// The environment as runc 1.5 builds it ([`super::environment::process_environment`]):
/// HOME, when the config leaves it unset or empty, is the user's entry in the container's
/// /etc/passwd, or `/`.
fn with_home(env: &[String], uid: u32) -> Vec<String> {
    super::environment::process_environment(env, || {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        user::home_from_passwd(&passwd, uid).unwrap_or_else(|| "/".to_string())
    })
}

/// While parked at the gate, init is a namespace init with default dispositions, which the
/// kernel would not let SIGTERM and friends kill. runc's init dies on them (Go handles
/// every signal), and engines stop a created container with SIGTERM: exit on them too.
/// The exec resets these handlers to the default.
fn end_on_termination_signals() -> Result<(), SysError> {
    use Signal::*;
    crate::sys::signal::exit_on(&[SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]).on("sigaction", "termination signals")
}

fn to_cstrings<'a>(items: impl Iterator<Item = &'a [u8]>) -> Result<Vec<CString>, InitError> {
    items.map(|bytes| CString::new(bytes).map_err(|_| SysError::refused("pass", String::from_utf8_lossy(bytes), "it contains a NUL byte").into())).collect()
}

/// Whether the entrypoint `name` runs under the wasm handler: always, or (smart) when the
/// file it names is a WebAssembly binary.
fn runs_as_wasm(name: &str, env: &[String], mode: WasmMode) -> bool {
    match mode {
        WasmMode::Always => true,
        WasmMode::Smart => find_program(name, env, AccessFlags::R_OK).is_ok_and(|path| {
            let path = Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
            let mut head = [0u8; 4];
            crate::sys::open_fd(path, nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_NONBLOCK, "open")
                .is_ok_and(|fd| nix::unistd::read(fd.as_raw_fd(), &mut head).is_ok_and(|n| crate::wasm::is_wasm_binary(&head[..n])))
        }),
    }
}

/// Find `name` the way exec(3p) does with the process's PATH, as the container's user:
/// `access` is X_OK for a program, R_OK for a module the wasm handler reads.
///
/// With stat(2) and access(2) only: a seccomp filter may be loaded already, and profiles older
/// than statx deny it (the standard library's metadata would not fall back).
fn find_program(name: &str, env: &[String], access: AccessFlags) -> Result<CString, InitError> {
    use nix::sys::stat::{SFlag, stat};
    let kind = |path: &Path| stat(path).ok().map(|st| SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT));
    // With the effective ids and capabilities, as execve will check (exec.LookPath's
    // eaccess): access(2) drops the capabilities of a non-root real uid, and would refuse a
    // program that CAP_DAC_OVERRIDE lets the user run.
    let executable = |path: &Path| nix::unistd::faccessat(None, path, access, nix::fcntl::AtFlags::AT_EACCESS).is_ok();
    if name.contains('/') {
        let path = Path::new(name);
        let reason = match kind(path) {
            None => "no such file or directory",
            Some(kind) if kind != SFlag::S_IFREG => "is a directory or not a regular file",
            Some(_) if !executable(path) => "permission denied",
            Some(_) => return CString::new(name).map_err(|_| InitError::NotFound(name.to_string())),
        };
        return Err(InitError::NotExecutable { path: name.to_string(), reason });
    }
    let path = env.iter().find_map(|e| e.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH);
    for dir in path.split(':') {
        let candidate = Path::new(if dir.is_empty() { "." } else { dir }).join(name);
        if kind(&candidate) == Some(SFlag::S_IFREG) && executable(&candidate) {
            return CString::new(candidate.as_os_str().as_bytes()).map_err(|_| InitError::NotFound(name.to_string()));
        }
    }
    Err(InitError::NotFound(name.to_string()))
}
