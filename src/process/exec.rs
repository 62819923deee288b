//! `exec`: a new process in a running container's namespaces and cgroup.
//!
//! The runtime clones the child into the container's pid namespace (setns on its own
//! `pid_for_children` through the init's pidfd, then back) and, on cgroup v2, into the
//! container's cgroup; the child joins the other namespaces through the same pidfd, becomes
//! the configured process, and execs once the runtime has recorded it.
//!
//! A rootless runtime may not switch its own `pid_for_children` into a pid namespace its
//! container's user namespace owns. Then the child joins every namespace itself, the user
//! namespace first (one `setns` through the pidfd), and forks once more so that the process
//! is in the pid namespace; the intermediate reports its pid (`InitPid`) and exits, and the
//! runtime, a subreaper, can still wait for it.

use crate::cgroups::Manager;
use std::convert::Infallible;
use std::os::fd::AsRawFd;

use nix::sched::CloneFlags;
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use oci_spec::runtime::{LinuxNamespaceType, Process};

use super::channel::{ChildEnd, channel_pair};
use super::init::{InitError, await_runtime, become_process, commit_with_runtime, exec_prepared, label_next_exec, send_listener};
use super::message::{ToInit, ToParent, WireError};
use super::protocol::{ChildSide, FromRuntime, ParentSide, Steps};
use super::{InitProcess, ProcessError};
use crate::cgroups::ContainerCgroup;
use crate::sys::clone::{Forked, clone_process};
use crate::sys::namespaces::ChildrenNamespace;
use crate::sys::pidfd::{PidFd, namespaces_differing};
use crate::sys::{SysContext, exit_now};

/// What an exec needs.
#[derive(Debug)]
pub struct ExecRequest<'a> {
    /// The container's init, verified.
    pub init: &'a PidFd,
    /// The process to run (from the container's config, with the exec's overrides).
    pub process: &'a Process,
    /// The container's cgroup.
    pub cgroup: Option<&'a ContainerCgroup>,
    /// `--preserve-fds`.
    pub preserve_fds: u32,
    /// The connected `--console-socket`, for `--tty`.
    pub console_socket: Option<std::os::fd::RawFd>,
    /// The container's compiled `linux.seccomp`.
    pub seccomp: Option<&'a crate::seccomp::SeccompProgram>,
    /// Where the filter's notification listener goes, for NOTIFY rules.
    pub listener: Option<super::ListenerTarget<'a>>,
    /// The container's Intel RDT group.
    pub resctrl: Option<&'a crate::resctrl::RdtGroup>,
    /// The container's `linux.memoryPolicy`.
    pub memory_policy: Option<&'a oci_spec::runtime::LinuxMemoryPolicy>,
    /// The container's `linux.personality`.
    pub personality: Option<&'a oci_spec::runtime::LinuxPersonality>,
    /// `--debug`: the process times its setup phases and reports them.
    pub timing: bool,
    /// The wasm handler, when the container's annotations ask for one.
    pub wasm: Option<&'a crate::wasm::WasmLaunch>,
}

/// Start the exec'd process, parked until [`InitProcess::commit`].
pub fn spawn_exec(request: &ExecRequest, trace: &dyn crate::trace::Trace) -> Result<InitProcess, ProcessError> {
    let namespaces = namespaces_differing(request.init.pid());
    let (parent_end, child_end) = channel_pair()?;
    // As init does: the process moves itself into the v1 hierarchies, cloned into the
    // cgroup2 directory of a hybrid host, while it is host root outside any user namespace.
    let host_privileges = !namespaces.contains(CloneFlags::CLONE_NEWUSER) && nix::unistd::geteuid().is_root();
    let entry = super::CgroupEntry::plan(request.cgroup, host_privileges, false);
    let cgroup_dir = super::clone_into(entry.clone_dir)?;
    // The pid namespace only applies to children: switch ours for the clone, then back.
    let mut late_pid = false;
    let saved_pid_namespace = if namespaces.contains(CloneFlags::CLONE_NEWPID) {
        let saved = ChildrenNamespace::save(LinuxNamespaceType::Pid)?;
        match request.init.join_namespaces(CloneFlags::CLONE_NEWPID) {
            Ok(()) => Some(saved),
            Err(error) if error.errno == nix::errno::Errno::EPERM && namespaces.contains(CloneFlags::CLONE_NEWUSER) => {
                late_pid = true;
                nix::sys::prctl::set_child_subreaper(true).on("prctl PR_SET_CHILD_SUBREAPER", 1)?;
                None
            }
            Err(error) => return Err(error.into()),
        }
    } else {
        None
    };
    let child_namespaces = if late_pid { namespaces } else { namespaces - CloneFlags::CLONE_NEWPID };
    // execCPUAffinity.initial: the runtime runs there, and the child inherits it until it is
    // in the container's cgroup.
    let affinity = request.process.exec_cpu_affinity().as_ref();
    let nonempty = |list: &Option<String>| list.clone().filter(|l| !l.trim().is_empty());
    let (initial, last) = (affinity.and_then(|a| nonempty(a.initial())), affinity.and_then(|a| nonempty(a.cpu_affinity_final())));
    // (the runtime's own mask is put back once the child exists: it only inherits `initial`)
    let own_mask = initial.as_ref().map(|_| crate::sys::placement::own_cpu_mask()).transpose()?;
    if let Some(cpus) = &initial {
        crate::sys::placement::set_cpu_affinity(0, cpus)?;
    }
    // Moving into a cgroup needs write access to the common ancestor of ours and it: a
    // rootless runtime outside its systemd instance lacks it; then the manager places the
    // process after the clone.
    let (forked, cloned_into) = match clone_process(CloneFlags::empty(), cgroup_dir.as_ref().map(|fd| fd.as_raw_fd())) {
        Err(error) if cgroup_dir.is_some() && matches!(error.errno, nix::errno::Errno::EACCES | nix::errno::Errno::EPERM) => {
            (clone_process(CloneFlags::empty(), None)?, false)
        }
        result => (result?, cgroup_dir.is_some()),
    };
    // (the fallback above left the cgroup2 directory to the runtime: then all of it is)
    let enters_cgroup = entry.by_itself.filter(|v1| cloned_into || v1.unified_dir().is_none());
    let affinity = ExecAffinity { initial: initial.as_deref(), last: last.as_deref() };
    let pid = match forked {
        Forked::Child => {
            drop(parent_end);
            drop(cgroup_dir);
            let error = match exec_main(request, &child_end, child_namespaces, enters_cgroup, &affinity) {
                Ok(never) => match never {},
                Err(error) => error,
            };
            // With its errno, as init's failures carry theirs.
            let _ = child_end.send(&ToParent::Failed(WireError::capture(&error, error.errno())), "failure");
            exit_now(1)
        }
        Forked::Parent(pid) => pid,
    };
    trace.lap("clone");
    if let Some(mask) = &own_mask {
        crate::sys::placement::restore_own_cpu_mask(mask)?;
    }
    drop(saved_pid_namespace);
    drop(child_end);
    drop(cgroup_dir);
    let mut process = InitProcess { pid, channel: parent_end, armed: true };
    if let Some(group) = request.resctrl {
        group.add_exec(pid)?;
    }
    // (a process that enters its cgroup by itself sets its affinity after, itself)
    if enters_cgroup.is_none() {
        if let Some(cgroup) = request.cgroup {
            cgroup.enter_exec(pid, cloned_into)?;
        }
        affinity.apply(pid)?;
    }
    trace.lap("cgroup");
    let mut protocol = ParentSide::new(Steps { intermediate: late_pid, listener: request.seccomp.is_some_and(|s| s.notify), ..Steps::default() });
    process.channel.send(&ToInit::Proceed { bind_sources: Vec::new(), seccomp: None }, "proceed")?;
    let mut fd = None;
    let mut watch = super::watch::Watch { pid: process.pid, cgroup: None };
    loop {
        let Some(message) = super::receive(&process.channel, &mut fd, &watch, protocol.awaiting(), "the exec'd process")? else {
            // (after InitPid, the process is ours to reap: the runtime is a subreaper then)
            process.armed = false;
            return Err(ProcessError::Exited { who: "the exec'd process", status: super::reap(process.pid) });
        };
        protocol.accept(&message).map_err(|error| ProcessError::Protocol { who: "the exec'd process", what: error.to_string() })?;
        match message {
            ToParent::InitPid(real) => {
                // The intermediate exits right after saying so; the process is its child.
                let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(process.pid), None);
                process.pid = real;
                watch.pid = real;
            }
            ToParent::SeccompListener => {
                if let Some(target) = &request.listener {
                    super::forward_listener(target, fd.take(), process.pid)?;
                }
            }
            ToParent::Ready(laps) => {
                trace.lap("waiting for the process");
                trace.add_laps("process", &laps);
                return Ok(process);
            }
            ToParent::Failed(wire) => return Err(ProcessError::ExecSetup(wire)),
            // Refused by the protocol above: no exec has these steps.
            ToParent::MappingRequest | ToParent::HooksPlease | ToParent::IdmapPlease(_) => {}
        }
    }
}

/// `execCPUAffinity` of an exec'd process, applied once it is in the container's cgroup.
struct ExecAffinity<'a> {
    initial: Option<&'a str>,
    last: Option<&'a str>,
}

impl ExecAffinity<'_> {
    /// `final`, or, when neither list is given, every CPU of the cpuset, so the runtime's own
    /// affinity does not leak in (runc's rule). `pid` 0: the calling process.
    fn apply(&self, pid: i32) -> Result<(), crate::sys::SysError> {
        match (self.initial, self.last) {
            (_, Some(cpus)) => crate::sys::placement::set_cpu_affinity(pid, cpus),
            (None, None) => crate::sys::placement::reset_cpu_affinity(pid),
            (Some(_), None) => Ok(()),
        }
    }
}

fn exec_main(
    request: &ExecRequest,
    channel: &ChildEnd,
    namespaces: CloneFlags,
    enters_cgroup: Option<&crate::cgroups::v1::V1Cgroup>,
    affinity: &ExecAffinity,
) -> Result<Infallible, InitError> {
    nix::sys::prctl::set_dumpable(false).on("prctl PR_SET_DUMPABLE", 0)?;
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).on("sigprocmask", "unblock all")?;
    let mut protocol = ChildSide::new(Steps::default());
    await_runtime(channel, &mut protocol, FromRuntime::Proceed)?;
    // Before the namespaces are joined (the host's cgroupfs is reached through ours), after
    // Proceed, so that a refusal reaches a runtime that is listening.
    if let Some(cgroup) = enters_cgroup {
        cgroup.enter_self()?;
        affinity.apply(0)?;
    }
    // --debug: the process times its own phases and reports them with Ready.
    let mut clock = crate::phases::PhaseClock::new(request.timing);
    if !namespaces.is_empty() {
        // Joining the mount namespace also moves us to its root (the container's rootfs).
        request.init.join_namespaces(namespaces)?;
    }
    if namespaces.contains(CloneFlags::CLONE_NEWPID) {
        // Joined here (rootless): only a child is in the pid namespace. The child waits
        // until its pid is on the channel, so that the runtime reads it before anything
        // the child sends.
        let (reported, report) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).on("pipe", "exec pid report")?;
        match clone_process(CloneFlags::empty(), None)? {
            Forked::Parent(process) => {
                if channel.send(&ToParent::InitPid(process), "exec pid").is_ok() {
                    let _ = nix::unistd::write(&report, b"1");
                }
                exit_now(0)
            }
            Forked::Child => {
                drop(report);
                let mut byte = [0u8; 1];
                if !matches!(nix::unistd::read(reported.as_raw_fd(), &mut byte), Ok(1)) {
                    // The intermediate could not report us: nobody would wait for us.
                    exit_now(1)
                }
            }
        }
    }
    nix::unistd::setsid().on("setsid", "exec")?;
    clock.lap("namespaces");
    if let Some(socket) = request.console_socket {
        let size = request.process.console_size().map(|b| (b.height() as u16, b.width() as u16));
        let slave = crate::rootfs::console::create_console(socket, size, false)?;
        crate::rootfs::console::attach_console(&slave)?;
    }
    if let Some(policy) = request.memory_policy {
        crate::sys::placement::set_memory_policy(policy)?;
    }
    if let Some(personality) = request.personality {
        crate::sys::process_attrs::set_personality(personality)?;
    }
    label_next_exec(request.process)?;
    // Before the filter (see init.rs): nothing but the listener's sendmsg between the load
    // and the hand-over.
    channel.close_on_exec()?;
    let prepared = become_process(request.process, request.preserve_fds, &[], request.seccomp, request.wasm, channel, &mut clock)?;
    send_listener(channel, prepared.listener.as_ref())?;
    commit_with_runtime(channel, &mut protocol, &clock)?;
    exec_prepared(prepared)
}
