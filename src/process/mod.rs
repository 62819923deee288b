//! Starting the container's init: the clone, the channel to it, and the start gate.

pub mod channel;
pub mod environment;
mod error;
pub mod exec;
pub mod gate;
mod id_maps;
mod init;
mod listener;
pub mod message;
pub mod namespace_schedule;
pub mod protocol;
pub mod watch;

use crate::cgroups::Manager;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::LinuxNamespaceType;

use crate::bundle::Bundle;
use crate::sys::SysError;
use crate::sys::clone::{Forked, clone_process};
use crate::sys::namespaces::{ChildrenNamespace, NamespaceFile};
use crate::sys::process_attrs::timens_offsets;
use crate::trace::Trace;
use channel::channel_pair;
use message::{SeccompHeader, ToInit, ToParent};
use namespace_schedule::NamespaceSchedule;
use protocol::{ParentSide, Steps};

use error::reap;
pub use error::{ExitStatus, ProcessError};
use id_maps::{IdmappedMounts, make_late_idmap, prepare_idmapped_mounts, write_id_maps};
pub use init::{DEFAULT_PATH, InitError};
pub use listener::ListenerTarget;
use listener::forward_listener;

/// What init needs, borrowed from the validated bundle and the command line.
#[derive(Debug)]
pub struct InitRequest<'a> {
    /// The container id (names the session keyring).
    pub id: &'a str,
    /// The validated bundle.
    pub bundle: &'a Bundle,
    /// The container's state directory (holds the start gate).
    pub state_dir: &'a Path,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// `--no-new-keyring`.
    pub no_new_keyring: bool,
    /// Fds 3.. passed to the process (`--preserve-fds` plus socket activation's).
    pub preserve_fds: u32,
    /// Variables added to `process.env` (socket activation's).
    pub extra_env: Vec<String>,
    /// The container's cgroup, prepared, and what to apply once init is in it.
    pub cgroup: Option<(&'a crate::cgroups::ContainerCgroup, &'a crate::cgroups::CgroupPlan)>,
    /// The container's Intel RDT group, made by the runtime; init is put in it.
    pub resctrl: Option<&'a crate::resctrl::RdtGroup>,
    /// Fds of the runtime that init closes first: the create lock, the console relay's
    /// caller end, and the caller's stray fds ([`crate::sys::fds::stray_fds`]).
    pub close_in_init: Vec<std::os::fd::RawFd>,
    /// The connected `--console-socket`, when `process.terminal` is set.
    pub console_socket: Option<std::os::fd::RawFd>,
    /// The compiled `linux.seccomp`, when the cache held it (else it is compiled beside the
    /// setup and travels with `Proceed`: see [`spawn_init`]).
    pub seccomp: Option<&'a crate::seccomp::SeccompProgram>,
    /// Some rule of `linux.seccomp` is SCMP_ACT_NOTIFY: init sends a listener.
    pub seccomp_notify: bool,
    /// Rootless: id maps as an unprivileged user may write them.
    pub rootless: bool,
    /// `--debug`: init times its setup phases and reports them.
    pub timing: bool,
    /// The host's cgroups are the unified hierarchy alone (for `type: cgroup` mounts).
    pub cgroup_unified: bool,
    /// The wasm handler, when the entrypoint may be a WASI module.
    pub wasm: Option<&'a crate::wasm::WasmLaunch>,
}

/// A started init, parked or about to be. Until [`InitProcess::commit`], dropping it kills
/// and reaps the process, so a failed `create` leaves nothing running.
#[derive(Debug)]
pub struct InitProcess {
    pid: i32,
    channel: channel::RuntimeEnd,
    armed: bool,
}

impl InitProcess {
    /// Init's pid (in the runtime's pid namespace).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Tell init its state is saved: from here it outlives the runtime.
    pub fn commit(mut self) -> Result<i32, ProcessError> {
        self.channel.send(&ToInit::Committed, "commit")?;
        self.armed = false;
        Ok(self.pid)
    }

    /// Commit, then wait until the process has exec'd: its end of the channel is
    /// close-on-exec, so the exec (or its death) closes the channel. Only `--debug`'s
    /// phase timing waits for this.
    pub fn commit_and_wait_for_exec(mut self) -> Result<i32, ProcessError> {
        self.channel.send(&ToInit::Committed, "commit")?;
        self.armed = false;
        while let Ok(Some(_)) = self.channel.recv() {}
        Ok(self.pid)
    }
}

impl Drop for InitProcess {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the process may already be gone.
            let _ = kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(self.pid), None);
        }
    }
}

/// Clone init into the container's namespaces and wait until it is ready (parked before the
/// start gate) or has failed.
/// `to_compile`: `linux.seccomp` when the cache did not hold it, compiled beside the setup
/// ([`crate::seccomp::background`]) and sent to init with `Proceed`.
pub fn spawn_init(
    request: &InitRequest,
    to_compile: Option<(crate::seccomp::cache::Miss, oci_spec::runtime::LinuxSeccomp)>,
    trace: &dyn Trace,
) -> Result<InitProcess, ProcessError> {
    let namespaces = request.bundle.namespaces();
    let schedule = NamespaceSchedule::of(namespaces, request.rootless);
    let joins = namespaces.join.iter().map(|(kind, path)| NamespaceFile::open(*kind, path)).collect::<Result<Vec<_>, _>>()?;
    let IdmappedMounts { trees: idmapped, late: late_idmaps } = prepare_idmapped_mounts(request.bundle)?;
    let (parent_end, init_end) = channel_pair()?;
    let gate = gate::create_gate(request.state_dir)?;
    // Joining a pid or time namespace only affects children: switch for the clone, then back.
    let children_namespaces = joins
        .iter()
        .filter(|ns| matches!(ns.kind, LinuxNamespaceType::Pid | LinuxNamespaceType::Time))
        .map(ChildrenNamespace::enter)
        .collect::<Result<Vec<_>, _>>()?;
    // On a pure cgroup v2 host the kernel starts init inside its cgroup (CLONE_INTO_CGROUP).
    // On a v1 or hybrid host init moves itself into the v1 hierarchies, cloned into the
    // cgroup2 directory of a hybrid host; elsewhere the runtime (or systemd) moves it.
    let entry = CgroupEntry::plan(request.cgroup.map(|(cgroup, _)| cgroup), init_keeps_host_privileges(request, &schedule), true);
    let enters_cgroup = entry.by_itself;
    let cgroup_dir = clone_into(entry.clone_dir)?;
    // A new time namespace takes offsets only before its first member enters: make it the
    // runtime's namespace for children, write the offsets, and clone init into it.
    let time_flag = crate::sys::namespaces::clone_flag(LinuxNamespaceType::Time);
    let _time_namespace = if schedule.time_by_runtime {
        let saved = ChildrenNamespace::save(LinuxNamespaceType::Time)?;
        nix::sched::unshare(time_flag).map_err(|errno| SysError::new("unshare", "time namespace", errno))?;
        let offsets = request.bundle.spec().linux().as_ref().and_then(|l| l.time_offsets().as_ref());
        if let Some(offsets) = offsets {
            let text = timens_offsets(offsets).map_err(|reason| SysError::refused("check", "linux.timeOffsets", reason))?;
            write_proc_file_at("/proc/self/timens_offsets", &text)?;
        }
        Some(saved)
    } else {
        None
    };
    // A pid namespace made after the clone needs an intermediate process, and the real init
    // is its child: as a child subreaper the runtime inherits it when the intermediate exits,
    // so that a failed setup can still reap it (and the guard kill it).
    let intermediate = schedule.intermediate;
    // (cleared again once the real init is adopted, unless the caller had set it: `run`)
    let was_subreaper = nix::sys::prctl::get_child_subreaper().map_err(|errno| SysError::new("prctl PR_GET_CHILD_SUBREAPER", 0, errno))?;
    let adopting = intermediate && !was_subreaper;
    if adopting {
        nix::sys::prctl::set_child_subreaper(true).map_err(|errno| SysError::new("prctl PR_SET_CHILD_SUBREAPER", 1, errno))?;
    }
    let forked = clone_process(schedule.clone, cgroup_dir.as_ref().map(|fd| fd.as_raw_fd()))?;
    let pid = match forked {
        Forked::Child => {
            drop(parent_end);
            // A host directory's fd must not wait at the start gate with init (CVE-2024-21626).
            drop(cgroup_dir);
            let inherited = init::Inherited {
                channel: &init_end,
                gate: &gate,
                joins: &joins,
                idmapped: &idmapped,
                late_idmaps: &late_idmaps,
                schedule: &schedule,
                enters_cgroup,
            };
            init::run_init(request, &inherited)
        }
        Forked::Parent(pid) => pid,
    };
    trace.lap("clone");
    drop(children_namespaces);
    drop(_time_namespace);
    // Now, not before: init must not be a copy of a process with a second thread, and a
    // thread cannot be made while the pid or time namespace for children is another.
    let compiling = to_compile.map(|(miss, profile)| crate::seccomp::background::Compiling::start(miss, profile)).transpose();
    drop(init_end);
    drop(gate);
    drop(cgroup_dir);
    drop(idmapped);
    let mut init = InitProcess { pid, channel: parent_end, armed: true };
    let set_up = compiling
        .map_err(ProcessError::from)
        .and_then(|compiling| set_up_with_init(&mut init, request, compiling, &schedule, &late_idmaps, enters_cgroup.is_some(), trace));
    if adopting {
        // The real init is our child by now (or the setup failed): orphans of hooks and the
        // like must not be ours to reap for the rest of this command.
        let _ = nix::sys::prctl::set_child_subreaper(false);
    }
    match set_up {
        Ok(()) => Ok(init),
        // A frozen init takes its SIGKILL only once thawed: kill, thaw, then the guard reaps.
        Err(error @ ProcessError::Stuck { why: watch::WaitError::Stuck(watch::Stuck::Frozen), .. }) => {
            let _ = kill(Pid::from_raw(init.pid), Signal::SIGKILL);
            if let Some((cgroup, _)) = request.cgroup {
                let _ = cgroup.set_frozen(false);
            }
            Err(error)
        }
        // Init died without a word (the channel closed under us): say how it ended.
        Err(error) if error.init_is_gone() => {
            // Reaped here, so the guard must not signal the (possibly reused) pid again.
            init.armed = false;
            let limit = request.bundle.spec().linux().as_ref().and_then(|l| l.resources().as_ref()).and_then(|r| r.memory().as_ref()).and_then(|m| m.limit());
            Err(init_died(init.pid, request.cgroup.map(|(cgroup, _)| cgroup), limit))
        }
        Err(error) => Err(error),
    }
}

/// How a new process, init or an exec'd one, gets into its cgroup.
#[derive(Clone, Copy)]
struct CgroupEntry<'a> {
    /// The cgroup2 directory it is cloned into (`CLONE_INTO_CGROUP`).
    clone_dir: Option<&'a Path>,
    /// The v1 cgroup it enters by itself ([`crate::cgroups::v1::V1Cgroup::enter_self`]);
    /// `None`: the runtime (or systemd) puts it in, if anything is left to do.
    by_itself: Option<&'a crate::cgroups::v1::V1Cgroup>,
}

impl<'a> CgroupEntry<'a> {
    /// The entry into `cgroup` of init (`init`) or of an exec'd process. The process enters
    /// the cgroupfs driver's v1 hierarchies by itself when `host_privileges`: it writes the
    /// host's cgroup files as host root, outside any user namespace (whose root may not), and
    /// is the process that execs.
    fn plan(cgroup: Option<&'a crate::cgroups::ContainerCgroup>, host_privileges: bool, init: bool) -> CgroupEntry<'a> {
        let by_itself = cgroup.and_then(crate::cgroups::ContainerCgroup::v1_cgroupfs).filter(|_| host_privileges);
        let clone_dir = match by_itself {
            Some(v1) => v1.unified_dir(),
            None => cgroup.and_then(|cgroup| cgroup.clone_dir(init)),
        };
        CgroupEntry { clone_dir, by_itself }
    }
}

/// Whether init keeps the host's privileges up to its cgroup entry ([`CgroupEntry::plan`]):
/// no user namespace, no rootless runtime, and no intermediate of a late pid namespace.
fn init_keeps_host_privileges(request: &InitRequest, schedule: &NamespaceSchedule) -> bool {
    !request.rootless && !request.bundle.namespaces().has(LinuxNamespaceType::User) && !schedule.intermediate
}

/// The runtime's side of the setup protocol, from the clone until init is parked at the gate.
/// `late_idmaps`: the idmapped mounts init will ask for (`IdmapPlease`), by index.
/// `init_enters_cgroup`: init moves itself into its cgroup (see [`CgroupEntry`]).
fn set_up_with_init(
    init: &mut InitProcess,
    request: &InitRequest,
    compiling: Option<crate::seccomp::background::Compiling>,
    schedule: &NamespaceSchedule,
    late_idmaps: &[usize],
    init_enters_cgroup: bool,
    trace: &dyn Trace,
) -> Result<(), ProcessError> {
    let namespaces = request.bundle.namespaces();
    let pid = init.pid;
    if schedule.maps_after_clone {
        write_id_maps(request.bundle, pid, request.rootless)?;
        trace.lap("user namespace maps");
    }
    if let Some((cgroup, plan)) = request.cgroup
        && !init_enters_cgroup
    {
        cgroup.enter_init(pid, plan)?;
    }
    if let Some(group) = request.resctrl {
        group.add_process(pid)?;
    }
    // The runtime's own affinity must not leak into the container: init may use every CPU of
    // its cpuset (execCPUAffinity is for exec'd processes only, by the spec).
    crate::sys::placement::reset_cpu_affinity(pid)?;
    if let Some(score) = request.bundle.process().oom_score_adj() {
        write_oom_score_adj(pid, score)?;
    }
    trace.lap("cgroup");
    // Before init goes on, so hooks and the container find them in place.
    // A joined network namespace is init's only once init has joined it: use its path.
    let moves = request.bundle.net_device_moves();
    if !moves.is_empty() {
        let joined = namespaces.join.iter().find(|(kind, _)| *kind == LinuxNamespaceType::Network).map(|(_, path)| path.clone());
        let target = joined.unwrap_or_else(|| std::path::PathBuf::from(format!("/proc/{pid}/ns/net")));
        crate::sys::net_devices::move_devices(moves, &target)?;
        trace.lap("network devices");
    }
    let mut protocol = ParentSide::new(Steps {
        late_user: schedule.late_user,
        intermediate: schedule.intermediate,
        late_idmaps: late_idmaps.len(),
        hooks: hook_round_trip(request.bundle),
        listener: request.seccomp_notify,
    });
    // In a user namespace made at the clone, init's uid is the mapped one: a bind source
    // only host root may reach (a 0700 parent) would be refused to it. The runtime opens the
    // sources in init's mount namespace (where init can clone them) and passes the fds.
    let (bind_sources, fds) = if schedule.maps_after_clone && namespaces.creates(LinuxNamespaceType::Mount) {
        bind_sources_for(request.bundle, pid)
    } else {
        (Vec::new(), Vec::new())
    };
    let mut raw: Vec<_> = fds.iter().map(|fd| fd.as_raw_fd()).collect();
    // The program compiled meanwhile: in a memfd, after the bind sources' fds.
    let compiled = match compiling {
        Some(compiling) => {
            let program = compiling.finish(trace)?;
            trace.lap("seccomp compile (beside the setup): the wait");
            Some((program_file(&program)?, SeccompHeader { flags: program.flags, notify: program.notify }))
        }
        None => None,
    };
    if let Some((file, _)) = &compiled {
        raw.push(file.as_raw_fd());
    }
    init.channel.send_with_fds(&ToInit::Proceed { bind_sources, seccomp: compiled.as_ref().map(|(_, header)| *header) }, &raw, "proceed")?;
    drop(fds);
    drop(compiled);
    // Only SeccompListener carries an fd.
    let mut fd = None;
    let mut watch = watch::Watch { pid: init.pid, cgroup: request.cgroup.map(|(cgroup, _)| cgroup) };
    loop {
        let Some(message) = receive(&init.channel, &mut fd, &watch, protocol.awaiting(), "container init")? else { return Err(ProcessError::Gone) };
        protocol.accept(&message).map_err(|error| ProcessError::Protocol { who: "container init", what: error.to_string() })?;
        trace.lap("waiting for init");
        match message {
            ToParent::Failed(wire) => return Err(ProcessError::Init(wire)),
            ToParent::MappingRequest => write_late_maps(init, request, trace)?,
            ToParent::InitPid(real) => {
                adopt_real_init(init, real);
                watch.pid = real;
            }
            ToParent::IdmapPlease(index) => make_late_idmap(init, request, index, trace)?,
            ToParent::HooksPlease => run_runtime_hooks(init, request, trace)?,
            ToParent::SeccompListener => pass_on_listener(init, request, fd.take(), trace)?,
            ToParent::Ready(laps) => {
                trace.add_laps("init", &laps);
                return Ok(());
            }
        }
    }
}

/// `program`'s bytes in a memfd, for init.
fn program_file(program: &crate::seccomp::SeccompProgram) -> Result<OwnedFd, ProcessError> {
    let memfd = nix::sys::memfd::memfd_create(c"skiff-seccomp-program", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC)
        .map_err(|errno| SysError::new("memfd_create", "the seccomp program", errno))?;
    let mut file = std::fs::File::from(memfd);
    std::io::Write::write_all(&mut file, &program.bpf).map_err(|e| SysError::io("write", "the seccomp program", &e))?;
    Ok(file.into())
}

/// Which optional exchanges init's setup has: init runs a hook round trip when any of
/// these hooks is configured (the runtime runs prestart and createRuntime, init the rest).
pub(super) fn hook_round_trip(bundle: &Bundle) -> bool {
    let has = |h: &Option<Vec<oci_spec::runtime::Hook>>| h.as_ref().is_some_and(|h| !h.is_empty());
    bundle.spec().hooks().as_ref().is_some_and(|h| has(h.prestart()) || has(h.create_runtime()) || has(h.create_container()) || has(h.start_container()))
}

/// `MappingRequest`: init has unshared its user namespace late; write its maps.
fn write_late_maps(init: &InitProcess, request: &InitRequest, trace: &dyn Trace) -> Result<(), ProcessError> {
    write_id_maps(request.bundle, init.pid, request.rootless)?;
    trace.lap("user namespace maps");
    init.channel.send(&ToInit::MappingWritten, "mapping written")?;
    Ok(())
}

/// `InitPid`: the intermediate exits right after saying so; the real init, its child, is
/// ours from now on (the runtime is a child subreaper while an intermediate exists).
fn adopt_real_init(init: &mut InitProcess, real: i32) {
    let _ = waitpid(Pid::from_raw(init.pid), None);
    init.pid = real;
}

/// `HooksPlease`: prestart (deprecated) and createRuntime, in the runtime's namespaces, now
/// that the container's exist and before pivot_root.
fn run_runtime_hooks(init: &InitProcess, request: &InitRequest, trace: &dyn Trace) -> Result<(), ProcessError> {
    if let Some(hooks) = request.bundle.spec().hooks() {
        let state = crate::hooks::state_json(
            request.id,
            oci_spec::runtime::ContainerState::Creating,
            Some(init.pid),
            request.bundle.dir(),
            &request.bundle.annotations(),
        )?;
        crate::hooks::run_hooks("prestart", hooks.prestart().as_deref().unwrap_or_default(), &state)?;
        crate::hooks::run_hooks("createRuntime", hooks.create_runtime().as_deref().unwrap_or_default(), &state)?;
    }
    trace.lap("hooks");
    init.channel.send(&ToInit::HooksDone { pid: init.pid }, "hooks done")?;
    Ok(())
}

/// `SeccompListener`: the listener must hold the fd before the container's process can make
/// a NOTIFY call, so before Ready, so before start.
fn pass_on_listener(init: &InitProcess, request: &InitRequest, fd: Option<OwnedFd>, trace: &dyn Trace) -> Result<(), ProcessError> {
    let profile = request.bundle.spec().linux().as_ref().and_then(|l| l.seccomp().as_ref());
    let state = || {
        crate::hooks::state_json(request.id, oci_spec::runtime::ContainerState::Creating, Some(init.pid), request.bundle.dir(), &request.bundle.annotations())
    };
    if let Some(target) = ListenerTarget::of(profile, state)? {
        forward_listener(&target, fd, init.pid)?;
    }
    trace.lap("seccomp listener");
    Ok(())
}

/// Reap init, which died during setup, and say how it ended. Killed by the OOM killer of
/// its own cgroup means the memory limit is below what setting up the container needs: say
/// so with the figures (runc reports the limit and usage when its late limit write fails).
fn init_died(pid: i32, cgroup: Option<&crate::cgroups::ContainerCgroup>, limit: Option<i64>) -> ProcessError {
    let status = reap(pid);
    // Only a limit of the container's own explains it (not a host-wide OOM). The limit is
    // the config's: the cgroup's own is rounded down to pages (0 for a limit of 1000).
    if status == ExitStatus::Signal(Signal::SIGKILL)
        && let (Some(cgroup), Some(limit)) = (cgroup, limit.filter(|limit| *limit >= 0))
        && cgroup.oom_kills() > 0
    {
        let memory = cgroup.stats().map(|stats| stats.memory.usage).unwrap_or_default();
        return ProcessError::OomKilled { limit, kept: memory.limit, usage: memory.usage, peak: memory.max };
    }
    ProcessError::Exited { who: "container init", status }
}

/// Receive the next message from the child `watch` watches (`who`), which is to send
/// `awaiting`; an fd sent with it replaces `fd`.
fn receive(
    channel: &channel::RuntimeEnd,
    fd: &mut Option<OwnedFd>,
    watch: &watch::Watch,
    awaiting: &'static str,
    who: &'static str,
) -> Result<Option<ToParent>, ProcessError> {
    watch.until_readable(channel).map_err(|why| ProcessError::Stuck { who, awaiting, why })?;
    Ok(channel.recv_with_fd()?.map(|(message, received)| {
        *fd = received;
        message
    }))
}

/// O_PATH fds of the bind mounts' sources, opened as the runtime through init's root (so in
/// init's mount namespace, where init may clone them), with their `mounts` indexes. A
/// source the runtime cannot open is left out: init tries its path and reports what fails.
/// At most [`crate::sys::fd_passing::MAX_FDS`]; the rest are bound by path.
fn bind_sources_for(bundle: &Bundle, pid: i32) -> (Vec<usize>, Vec<OwnedFd>) {
    let (mut indexes, mut fds) = (Vec::new(), Vec::new());
    let binds = bundle.spec().mounts().as_deref().unwrap_or_default().iter().enumerate().filter(|(_, mount)| crate::rootfs::plan::is_bind(mount));
    let mut binds = binds.peekable();
    if binds.peek().is_none() {
        return (indexes, fds);
    }
    let Ok(root) = crate::sys::open_fd(Path::new(&format!("/proc/{pid}/root")), nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY, "open init's root")
    else {
        return (indexes, fds);
    };
    for (index, mount) in binds.take(crate::sys::fd_passing::MAX_FDS) {
        let Some(source) = crate::rootfs::plan::bind_source(mount, bundle.dir()) else { continue };
        // A source inside the rootfs may be under an earlier mount of the container's: init
        // opens it itself when it gets there (the rootfs is init's to reach anyway).
        if bundle.in_rootfs(&source) {
            continue;
        }
        let relative = source.strip_prefix("/").unwrap_or(&source);
        // In init's root: an absolute symlink in the source stays in init's mount namespace.
        if let Ok(fd) = crate::sys::openat2(&root, relative, libc::O_PATH, libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS) {
            indexes.push(index);
            fds.push(fd);
        }
    }
    (indexes, fds)
}

/// The directory fd for `CLONE_INTO_CGROUP`, when the manager has a directory to clone
/// into (cgroup v2): the kernel then starts the child inside its cgroup. Otherwise the
/// manager moves the child after the clone, before it is let proceed.
fn clone_into(dir: Option<&Path>) -> Result<Option<OwnedFd>, SysError> {
    dir.map(|dir| crate::sys::open_fd(dir, nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY, "open cgroup")).transpose()
}

/// Write one of init's /proc files from the runtime (the host's procfs).
fn write_proc_file(pid: i32, file: &str, text: &str) -> Result<(), SysError> {
    write_proc_file_at(&format!("/proc/{pid}/{file}"), text)
}

/// `process.oomScoreAdj`: lowering it below the current value needs CAP_SYS_RESOURCE, which a
/// rootless runtime does not have (runc fails then too); say so rather than EACCES.
fn write_oom_score_adj(pid: i32, score: i32) -> Result<(), SysError> {
    write_proc_file(pid, "oom_score_adj", &score.to_string()).map_err(|error| {
        let current = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap_or_default();
        if matches!(error.errno, nix::errno::Errno::EACCES | nix::errno::Errno::EPERM) {
            SysError::new(
                "set process.oomScoreAdj",
                format!("{score} in /proc/{pid}/oom_score_adj: below the current {} only a runtime with CAP_SYS_RESOURCE may go", current.trim()),
                error.errno,
            )
        } else {
            error
        }
    })
}

fn write_proc_file_at(path: &str, text: &str) -> Result<(), SysError> {
    std::fs::write(path, text.as_bytes()).map_err(|e| SysError::io("write", format!("{text:?} to {path}"), &e))
}
