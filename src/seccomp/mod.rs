//! `linux.seccomp` compiled to a BPF program, in the runtime.
//!
//! libseccomp builds and exports the program here, in the runtime, where a bad profile is an
//! ordinary error ([`check`] refuses what it can before anything has been created). A profile
//! the cache does not hold is compiled on a thread of its own ([`background`]) while the
//! runtime sets up the cgroup and waits for the kernel to move init into it. The container's
//! init (or an exec'd process) receives the bytes and only makes the one `seccomp(2)` call
//! that loads them
//! ([`load_filter`]), with the spec's flags: no allocation and no
//! libseccomp state in the child, and flags libseccomp 2.5 does not know
//! (`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`) still reach the kernel.
//!
//! Conversions follow runc: `SCMP_ACT_KILL` is KILL_THREAD; ERRNO and TRACE return EPERM
//! unless `errnoRet` says otherwise; rules whose action is the default are skipped (the
//! kernel would do the same); unknown syscall names are skipped with a debug line; several
//! conditions on the same argument become one rule per condition (libseccomp cannot AND
//! them), otherwise the conditions of a rule are ANDed. Syscalls newer than the profile get
//! ENOSYS from a prelude ([`enosys`]), as runc's patched filter gives them.

pub mod background;
pub mod cache;
mod enosys;

use std::io::{Read, Seek};

use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall};

/// `SECCOMP_FILTER_FLAG_*` values from linux/seccomp.h.
pub mod flag {
    /// Return a notification listener fd.
    pub const NEW_LISTENER: u32 = 1 << 3;
    /// Log every action but ALLOW.
    pub const LOG: u32 = 1 << 1;
    /// Leave speculative store bypass mitigation off.
    pub const SPEC_ALLOW: u32 = 1 << 2;
    /// Wait killably for the listener's answer.
    pub const WAIT_KILLABLE_RECV: u32 = 1 << 5;
}

/// The highest syscall argument index.
const MAX_ARGUMENT: usize = 5;

/// A profile that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The profile asks for something that has no meaning.
    #[error("linux.seccomp: {0}")]
    Invalid(String),
    /// libseccomp refused a step.
    #[error("linux.seccomp: {step}: {source}")]
    Library {
        /// What was being done.
        step: String,
        /// libseccomp's error.
        #[source]
        source: libseccomp::error::SeccompError,
    },
    /// Reading the exported program back failed.
    #[error("linux.seccomp: export the program: {0}")]
    Export(#[source] std::io::Error),
}

/// A compiled filter: what the child loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompProgram {
    /// `struct sock_filter` array, 8 bytes per instruction, in host byte order.
    pub bpf: Vec<u8>,
    /// `SECCOMP_FILTER_FLAG_*` for `seccomp(SECCOMP_SET_MODE_FILTER)`.
    pub flags: u32,
    /// Some rule uses SCMP_ACT_NOTIFY: the load returns a listener fd for `listenerPath`.
    pub notify: bool,
}

/// What [`compile`] would refuse short of libseccomp's own steps: the actions, errnos,
/// argument conditions, architectures, and the SCMP_ACT_NOTIFY rules, cheaply, before anything
/// exists. Returns whether some rule notifies (the load then returns a listener).
pub fn check(profile: &LinuxSeccomp) -> Result<bool, SeccompError> {
    action(profile.default_action(), profile.default_errno_ret(), "defaultAction")?;
    if profile.default_action() == LinuxSeccompAction::ScmpActNotify {
        // Every syscall, the runtime's own up to the exec included, would wait on a listener
        // that has not received the fd yet.
        return Err(SeccompError::Invalid("SCMP_ACT_NOTIFY cannot be used as default action".into()));
    }
    for arch in profile.architectures().as_deref().unwrap_or_default() {
        let name = arch.to_string();
        name.parse::<ScmpArch>().map_err(|source| SeccompError::Library { step: format!("architecture {name}"), source })?;
    }
    let mut notify = false;
    for (index, rule) in profile.syscalls().as_deref().unwrap_or_default().iter().enumerate() {
        conditions(rule, index)?;
        action(rule.action(), rule.errno_ret(), &format!("syscalls[{index}].action"))?;
        if rule.action() == LinuxSeccompAction::ScmpActNotify {
            notify = true;
            // The runtime's own syscalls once the filter is loaded: the listener travels to the
            // runtime by sendmsg (and runc's by write, whose refusal callers know). Waiting on
            // an agent that has no fd yet would never end.
            if let Some(name) = rule.names().iter().find(|name| matches!(name.as_str(), "write" | "sendmsg")) {
                return Err(SeccompError::Invalid(format!("SCMP_ACT_NOTIFY cannot be used for the {name} syscall")));
            }
        }
    }
    if notify && profile.listener_path().as_ref().is_none_or(|p| p.as_os_str().is_empty()) {
        return Err(SeccompError::Invalid("SCMP_ACT_NOTIFY needs listenerPath".into()));
    }
    Ok(notify)
}

/// Compile `profile`; `trace` gets a debug line per skipped rule (runc logs these at debug).
pub fn compile(profile: &LinuxSeccomp, trace: &dyn crate::trace::Trace) -> Result<SeccompProgram, SeccompError> {
    // What needs no libseccomp is refused by check(), before a filter context exists.
    let notify = check(profile)?;
    let default = action(profile.default_action(), profile.default_errno_ret(), "defaultAction")?;
    let library = |step: String| move |source| SeccompError::Library { step, source };
    let mut context = ScmpFilterContext::new(default).map_err(library("create the filter".into()))?;
    for arch in profile.architectures().as_deref().unwrap_or_default() {
        let name = arch.to_string();
        let scmp: ScmpArch = name.parse().map_err(library(format!("architecture {name}")))?;
        // The native architecture is in every new context: adding it again is an error.
        if !context.is_arch_present(scmp).map_err(library(format!("architecture {name}")))? {
            context.add_arch(scmp).map_err(library(format!("add architecture {name}")))?;
        }
    }
    for (index, rule) in profile.syscalls().as_deref().unwrap_or_default().iter().enumerate() {
        let conditions = conditions(rule, index)?;
        let rule_action = action(rule.action(), rule.errno_ret(), &format!("syscalls[{index}].action"))?;
        if rule.action() == profile.default_action()
            && rule.errno_ret().unwrap_or(libc::EPERM as u32) == profile.default_errno_ret().unwrap_or(libc::EPERM as u32)
        {
            trace.debug(format_args!("seccomp: syscalls[{index}] {:?}: the default action already, skipped", rule.names()));
            continue;
        }
        for name in rule.names() {
            let syscall = match ScmpSyscall::from_name(name) {
                Ok(syscall) => syscall,
                Err(_) => {
                    trace.debug(format_args!("seccomp: unknown syscall {name:?} skipped"));
                    continue;
                }
            };
            for group in &conditions {
                context.add_rule_conditional(rule_action, syscall, group).map_err(library(format!("syscalls[{index}] {name}")))?;
            }
        }
    }
    let mut flags = if notify { flag::NEW_LISTENER } else { 0 };
    // No `flags` at all (not an empty list): SPEC_ALLOW, as runc (and docker before it)
    // defaults to, so that a container under seccomp keeps the host's speculative store
    // bypass setting rather than having the mitigation forced on.
    if profile.flags().is_none() {
        flags |= flag::SPEC_ALLOW;
    }
    for requested in profile.flags().as_deref().unwrap_or_default() {
        flags |= match requested {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => flag::LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => flag::SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => flag::WAIT_KILLABLE_RECV,
            // Init is single-threaded when it loads the filter: nothing to synchronise.
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => 0,
        };
    }
    // runc's debug line, which callers check the flags by (runc 1.5's seccomp.bats).
    trace.debug(format_args!("seccomp filter flags: {flags}"));
    let mut bpf = enosys::prelude(profile);
    bpf.extend(export(&context)?);
    Ok(SeccompProgram { bpf, flags, notify })
}

/// The spec's action with its errno, as libseccomp's.
fn action(action: LinuxSeccompAction, errno: Option<u32>, field: &str) -> Result<ScmpAction, SeccompError> {
    let returned =
        || i32::try_from(errno.unwrap_or(libc::EPERM as u32)).map_err(|_| SeccompError::Invalid(format!("{field}: errnoRet {errno:?} is out of range")));
    Ok(match action {
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(returned()?),
        LinuxSeccompAction::ScmpActTrace => {
            let value = returned()?;
            ScmpAction::Trace(u16::try_from(value).map_err(|_| SeccompError::Invalid(format!("{field}: errnoRet {value} is out of range for TRACE")))?)
        }
        other if errno.is_some() => {
            return Err(SeccompError::Invalid(format!("{field}: errnoRet is only meaningful with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {other}")));
        }
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => ScmpAction::KillThread,
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
    })
}

/// The condition groups of one rule: each group becomes one libseccomp rule. One group with
/// every condition, unless an argument is compared twice: then one group per condition.
fn conditions(rule: &LinuxSyscall, index: usize) -> Result<Vec<Vec<ScmpArgCompare>>, SeccompError> {
    let args = rule.args().as_deref().unwrap_or_default();
    let mut converted = Vec::with_capacity(args.len());
    let mut seen = [0usize; MAX_ARGUMENT + 1];
    for arg in args {
        if arg.index() > MAX_ARGUMENT {
            return Err(SeccompError::Invalid(format!("syscalls[{index}].args: index {} is beyond the last argument ({MAX_ARGUMENT})", arg.index())));
        }
        seen[arg.index()] += 1;
        let (op, datum) = match arg.op() {
            LinuxSeccompOperator::ScmpCmpNe => (ScmpCompareOp::NotEqual, arg.value()),
            LinuxSeccompOperator::ScmpCmpLt => (ScmpCompareOp::Less, arg.value()),
            LinuxSeccompOperator::ScmpCmpLe => (ScmpCompareOp::LessOrEqual, arg.value()),
            LinuxSeccompOperator::ScmpCmpEq => (ScmpCompareOp::Equal, arg.value()),
            LinuxSeccompOperator::ScmpCmpGe => (ScmpCompareOp::GreaterEqual, arg.value()),
            LinuxSeccompOperator::ScmpCmpGt => (ScmpCompareOp::Greater, arg.value()),
            // value is the mask, valueTwo the value the masked argument must equal.
            LinuxSeccompOperator::ScmpCmpMaskedEq => (ScmpCompareOp::MaskedEqual(arg.value()), arg.value_two().unwrap_or(0)),
        };
        converted.push(ScmpArgCompare::new(arg.index() as u32, op, datum));
    }
    if seen.iter().any(|&count| count > 1) { Ok(converted.into_iter().map(|c| vec![c]).collect()) } else { Ok(vec![converted]) }
}

/// The program libseccomp generates, read back through a memfd (libseccomp 2.5 exports to
/// an fd only).
fn export(context: &ScmpFilterContext) -> Result<Vec<u8>, SeccompError> {
    let memfd =
        nix::sys::memfd::memfd_create(c"skiff-seccomp", nix::sys::memfd::MemFdCreateFlag::MFD_CLOEXEC).map_err(|errno| SeccompError::Export(errno.into()))?;
    let mut file = std::fs::File::from(memfd);
    context.export_bpf(&file).map_err(|source| SeccompError::Library { step: "export the program".into(), source })?;
    file.rewind().map_err(SeccompError::Export)?;
    let mut bpf = Vec::new();
    file.read_to_end(&mut bpf).map_err(SeccompError::Export)?;
    if bpf.is_empty() || bpf.len() % 8 != 0 {
        return Err(SeccompError::Export(std::io::Error::other(format!("{} bytes is not a BPF program", bpf.len()))));
    }
    Ok(bpf)
}

/// What `listenerPath` receives with the notify fd: the spec's container process state.
pub fn listener_message(state: &serde_json::Value, pid: i32, metadata: Option<&str>) -> String {
    serde_json::json!({
        "ociVersion": crate::bundle::OCI_VERSION,
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": metadata.unwrap_or_default(),
        "state": state,
    })
    .to_string()
}

/// Load `program` into the calling thread (no_new_privs or CAP_SYS_ADMIN needed). Returns the
/// notification listener when the program was compiled with NOTIFY rules.
pub fn load_filter(program: &SeccompProgram) -> Result<Option<std::os::fd::OwnedFd>, crate::sys::SysError> {
    crate::sys::seccomp::set_mode_filter(&program.bpf, program.flags, program.notify)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    fn compiles(json: &str) -> (SeccompProgram, Vec<String>) {
        let recorder = crate::trace::Recorder::new(&crate::trace::Silent);
        let program = compile(&profile(json), &recorder).unwrap();
        (program, recorder.into_lines())
    }

    #[test]
    fn unknown_names_and_default_rules_are_skipped_with_a_debug_line() {
        let (program, lines) = compiles(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","no_such_call"],"action":"SCMP_ACT_ERRNO"},
            {"names":["getpid"],"action":"SCMP_ACT_ALLOW"}]}"#,
        );
        assert!(!program.bpf.is_empty());
        // no `flags`: SPEC_ALLOW, as runc
        assert_eq!(program.flags, flag::SPEC_ALLOW);
        assert!(lines.contains(&"seccomp filter flags: 4".to_string()), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("no_such_call")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("getpid")), "{lines:?}");
    }

    #[test]
    fn flags_and_notify_map_to_kernel_bits() {
        let (program, _) = compiles(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock",
            "flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
        );
        assert!(program.notify);
        assert_eq!(program.flags, flag::NEW_LISTENER | flag::LOG | flag::SPEC_ALLOW);
        // an empty list is no flags (runc: only a missing one defaults to SPEC_ALLOW)
        let (program, lines) = compiles(r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":[],"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#);
        assert_eq!(program.flags, 0);
        assert!(lines.contains(&"seccomp filter flags: 0".to_string()), "{lines:?}");
    }

    #[test]
    fn refusals_name_the_field() {
        let cases = [
            (r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#, "SCMP_ACT_NOTIFY cannot be used as default action"),
            (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#, "listenerPath"),
            (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_KILL","errnoRet":1}]}"#, "errnoRet"),
            (
                r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
                "index 6",
            ),
            (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_TRACE","errnoRet":70000}]}"#, "TRACE"),
        ];
        for (json, expected) in cases {
            let error = compile(&profile(json), &crate::trace::Silent).unwrap_err().to_string();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }

    #[test]
    fn repeated_argument_conditions_become_separate_rules() {
        let rule: LinuxSyscall = serde_json::from_str(
            r#"{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}"#,
        )
        .unwrap();
        assert_eq!(conditions(&rule, 0).unwrap().len(), 2);
        let rule: LinuxSyscall = serde_json::from_str(
            r#"{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ","valueTwo":0},{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]}"#,
        )
        .unwrap();
        let groups = conditions(&rule, 0).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), 2);
    }

    #[test]
    fn architectures_are_added_once() {
        let (program, _) = compiles(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
            "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}"#,
        );
        assert!(program.bpf.len() >= 8 * 10);
    }
}
