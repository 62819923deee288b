//! `exec`: run another process in a running container.

use crate::cgroups::Manager;
use crate::trace::Trace;
use std::collections::HashSet;
use std::path::PathBuf;

use oci_spec::runtime::{Capability, Process};

use crate::bundle::{BundleError, CONFIG_FILE, parse_config_skipping_unknown_capabilities};
use crate::process::ListenerTarget;
use crate::process::exec::{ExecRequest, spawn_exec};
use crate::state::{StateStore, write_atomically};
use crate::sys::pidfd::PidFd;

use super::console_route::ConsoleRoute;
use super::wait::{RunOutcome, block_signals, wait_for_process};
use super::{ContainerError, Loaded, Status};

/// What `exec` was asked for.
#[derive(Debug, Default, Clone)]
pub struct ExecOptions {
    /// `--process`: a whole process object; the other fields are then ignored, as with runc.
    pub process: Option<Process>,
    /// The command and its arguments.
    pub args: Vec<String>,
    /// `--env` additions (`K=V`, replacing a variable of the same name).
    pub env: Vec<String>,
    /// `--cwd`.
    pub cwd: Option<PathBuf>,
    /// `--user uid[:gid]`.
    pub user: Option<(u32, Option<u32>)>,
    /// `--additional-gids`.
    pub additional_gids: Vec<u32>,
    /// `--cap` additions, by name (`CAP_NET_ADMIN`).
    pub caps: Vec<String>,
    /// `--no-new-privs`.
    pub no_new_privs: bool,
    /// `--detach`.
    pub detach: bool,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// `--ignore-paused`.
    pub ignore_paused: bool,
    /// `--tty`.
    pub tty: bool,
    /// `--console-socket`.
    pub console_socket: Option<PathBuf>,
    /// `--pidfd-socket`.
    pub pidfd_socket: Option<PathBuf>,
    /// `--process-label`: the SELinux label.
    pub process_label: Option<String>,
    /// `--apparmor`: the AppArmor profile.
    pub apparmor: Option<String>,
    /// `--cgroup`: sub-cgroups of the container's to run in.
    pub cgroup: Vec<String>,
    /// Where a WebAssembly container's handler is looked for.
    pub wasm_handler: crate::wasm::HandlerSearch,
    /// What keeps the running binary from a container's writes (`main`'s re-exec decides).
    pub binary: crate::sys::exe_seal::BinarySeal,
}

/// How an exec ended (or did not wait to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOutcome {
    /// `--detach`: the process's pid.
    Detached(i32),
    /// The process ended.
    Finished(RunOutcome),
}

/// Run a process in container `id`.
/// `debug` receives lines for `--debug` (seccomp rules skipped).
pub fn exec(store: &StateStore, id: &str, options: &ExecOptions, trace: &dyn Trace) -> Result<ExecOutcome, ContainerError> {
    let container = Loaded::load(store, id)?;
    let allowed: &[Status] = if options.ignore_paused { &[Status::Created, Status::Running, Status::Paused] } else { &[Status::Created, Status::Running] };
    if container.status == Status::Paused && !options.ignore_paused {
        return Err(ContainerError::WrongState { message: "cannot exec in a paused container (use --ignore-paused)".into(), status: container.status });
    }
    container.require(allowed, "cannot exec in a stopped container")?;
    let mut process = exec_process(&container, options)?;
    // (Whether the container has a user namespace of its own is not in its state: counted as
    // not, the careful answer.)
    super::binary_seal::check(options.binary, &process, false)?;
    if options.tty {
        process.set_terminal(Some(true));
    }
    if let Some(label) = &options.process_label {
        process.set_selinux_label(Some(label.clone()));
    }
    if let Some(profile) = &options.apparmor {
        process.set_apparmor_profile(Some(profile.clone()));
    }
    let asked = |value: &Option<String>| value.as_ref().is_some_and(|v| !v.is_empty());
    crate::bundle::check_lsm(asked(process.apparmor_profile()), crate::sys::lsm::Lsm::AppArmor, "process.apparmorProfile")?;
    crate::bundle::check_lsm(asked(process.selinux_label()), crate::sys::lsm::Lsm::SELinux, "process.selinuxLabel")?;
    crate::bundle::validate_cpu_affinity(&process)?;
    // In the foreground without a console socket, a terminal is relayed to skiff's stdio,
    // as runc does for `exec -t`.
    let console = ConsoleRoute::new(process.terminal() == Some(true), options.console_socket.as_deref(), !options.detach)?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(ContainerError::InvalidOption { option: "exec", reason: "no command to run".into() });
    }
    let state = &container.state;
    let Some(init) = PidFd::open_verified(state.init_pid, state.init_start_time)? else {
        return Err(ContainerError::WrongState { message: "cannot exec in a stopped container".into(), status: Status::Stopped });
    };
    // The container's filter applies to every process in it (from the state: the bundle's
    // config.json may have changed since create).
    trace.lap("load state and validate");
    let cache = crate::seccomp::cache::default_dir();
    let seccomp = state.seccomp.as_ref().map(|profile| crate::seccomp::cache::compile(cache.as_deref(), profile, trace)).transpose()?;
    trace.lap("seccomp compile");
    let listener = ListenerTarget::of(state.seccomp.as_ref(), || {
        crate::hooks::state_json(&state.id, oci_spec::runtime::ContainerState::Running, Some(state.init_pid), &state.bundle, &state.annotations)
    })?;
    if !options.detach {
        block_signals()?;
    }
    let cgroup = match (&state.cgroup, options.cgroup.is_empty()) {
        (Some(cgroup), false) => Some(cgroup.sub_cgroup(&crate::cgroups::ExecCgroups::parse(&options.cgroup)?)?),
        (cgroup, _) => cgroup.clone(),
    };
    let wasm = crate::wasm::prepare_for_exec(&state.annotations, &options.wasm_handler, options.binary)?;
    let request = ExecRequest {
        init: &init,
        process: &process,
        cgroup: cgroup.as_ref(),
        preserve_fds: options.preserve_fds,
        console_socket: console.init_end(),
        seccomp: seccomp.as_ref(),
        listener,
        memory_policy: state.memory_policy.as_ref(),
        personality: state.personality.as_ref(),
        resctrl: state.resctrl.as_ref(),
        timing: trace.timing(),
        wasm: wasm.as_ref(),
    };
    trace.debug(format_args!("exec: {:?} in container {id} (init pid {})", process.args().as_deref().unwrap_or_default(), state.init_pid));
    let child = spawn_exec(&request, trace)?;
    // Sent before the process reported ready; a failure here kills it.
    let master = console.relayed_master()?;
    if let Some(path) = &options.pid_file {
        write_atomically(path, child.pid().to_string().as_bytes(), 0o644)?;
        trace.lap("pid file");
    }
    // (with --debug, up to the process's execve: the phase timing's last step)
    let pid = if trace.timing() { child.commit_and_wait_for_exec()? } else { child.commit()? };
    trace.lap("commit and execve");
    if let Some(socket) = &options.pidfd_socket
        && let Some(start) = crate::sys::proc_stat::read_stat(pid)
        && let Some(pidfd) = PidFd::open_verified(pid, start.start_time)?
    {
        pidfd.send_to(socket)?;
    }
    trace.debug(format_args!("exec: process pid {pid} started"));
    if options.detach {
        return Ok(ExecOutcome::Detached(pid));
    }
    let outcome = wait_for_process(pid, master)?;
    trace.lap("the process runs");
    trace.debug(format_args!("exec: process exited pid={pid} status={}", outcome.exit_code()));
    Ok(ExecOutcome::Finished(outcome))
}

/// The process to run: `--process` as given, or the container's own process with the
/// command line's changes (runc's rules).
fn exec_process(container: &Loaded, options: &ExecOptions) -> Result<Process, ContainerError> {
    if let Some(process) = &options.process {
        return Ok(process.clone());
    }
    let config_path = container.state.bundle.join(CONFIG_FILE);
    let bytes = std::fs::read(&config_path).map_err(|source| BundleError::Read { path: config_path.clone(), source })?;
    // (create warned about skipped capability names already)
    let (spec, _) = parse_config_skipping_unknown_capabilities(&bytes).map_err(|reason| BundleError::Parse { path: config_path, reason })?;
    let mut process = spec.process().clone().unwrap_or_default();
    process.set_terminal(Some(false));
    process.set_args(Some(options.args.clone()));
    let mut env = process.env().clone().unwrap_or_default();
    for addition in &options.env {
        let name = addition.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(name));
        env.push(addition.clone());
    }
    process.set_env(Some(env));
    if let Some(cwd) = &options.cwd {
        process.set_cwd(cwd.clone());
    }
    if let Some((uid, gid)) = options.user {
        let user = process.user_mut();
        user.set_uid(uid);
        if let Some(gid) = gid {
            user.set_gid(gid);
        }
    }
    if !options.additional_gids.is_empty() {
        process.user_mut().set_additional_gids(Some(options.additional_gids.clone()));
    }
    if options.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    if !options.caps.is_empty() {
        let mut caps = process.capabilities().clone().unwrap_or_default();
        let added: HashSet<Capability> = options
            .caps
            .iter()
            .map(|name| {
                let bare = name.strip_prefix("CAP_").unwrap_or(name);
                bare.parse::<Capability>().map_err(|_| ContainerError::InvalidOption { option: "--cap", reason: format!("unknown capability {name:?}") })
            })
            .collect::<Result<_, _>>()?;
        let extend = |set: &Option<HashSet<Capability>>| -> HashSet<Capability> { set.clone().unwrap_or_default().union(&added).copied().collect() };
        caps.set_bounding(Some(extend(caps.bounding())));
        caps.set_effective(Some(extend(caps.effective())));
        caps.set_permitted(Some(extend(caps.permitted())));
        // As runc 1.2+: never inheritable (a program the process execs must not inherit
        // them); ambient only where the config already made the capability inheritable.
        caps.set_ambient(Some(extend(caps.ambient())));
        process.set_capabilities(Some(caps));
    }
    Ok(process)
}
