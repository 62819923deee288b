//! Attributes of the container's process from the spec: OOM score, personality, scheduler,
//! I/O priority, umask, time namespace offsets.

use std::collections::HashMap;

use nix::errno::Errno;
use oci_spec::runtime::{
    IOPriorityClass, LinuxIOPriority, LinuxPersonality, LinuxPersonalityDomain, LinuxSchedulerFlag, LinuxSchedulerPolicy, LinuxTimeOffset, Scheduler,
};

use super::{SysError, check};

/// `personality(2)` for `linux.personality` (flags are not supported by runc either).
pub fn set_personality(personality: &LinuxPersonality) -> Result<(), SysError> {
    let persona: libc::c_ulong = match personality.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    };
    // SAFETY: personality takes a plain integer.
    if unsafe { libc::personality(persona) } == -1 {
        return Err(SysError::new("personality", format!("{:?}", personality.domain()), Errno::last()));
    }
    Ok(())
}

/// `struct sched_attr` of sched_setattr(2).
#[repr(C)]
#[derive(Default)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

fn policy_number(policy: LinuxSchedulerPolicy) -> u32 {
    match policy {
        LinuxSchedulerPolicy::SchedOther => 0,
        LinuxSchedulerPolicy::SchedFifo => 1,
        LinuxSchedulerPolicy::SchedRr => 2,
        LinuxSchedulerPolicy::SchedBatch => 3,
        LinuxSchedulerPolicy::SchedIso => 4,
        LinuxSchedulerPolicy::SchedIdle => 5,
        LinuxSchedulerPolicy::SchedDeadline => 6,
    }
}

fn flag_bits(flag: LinuxSchedulerFlag) -> u64 {
    match flag {
        LinuxSchedulerFlag::SchedResetOnFork => 0x01,
        LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
        LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
        LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
        LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
        LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
        LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
    }
}

/// `sched_setattr(2)` for `process.scheduler`.
pub fn set_scheduler(scheduler: &Scheduler) -> Result<(), SysError> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: policy_number(*scheduler.policy()),
        flags: scheduler.flags().as_deref().unwrap_or_default().iter().map(|f| flag_bits(*f)).fold(0, |a, b| a | b),
        nice: scheduler.nice().unwrap_or(0),
        priority: scheduler.priority().unwrap_or(0).max(0) as u32,
        runtime: scheduler.runtime().unwrap_or(0),
        deadline: scheduler.deadline().unwrap_or(0),
        period: scheduler.period().unwrap_or(0),
    };
    // SAFETY: pid 0 (this thread), a valid sched_attr of the size it declares, no flags.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) }).map(drop).map_err(|errno| {
        // The kernel refuses SCHED_DEADLINE to a task that may not run on every CPU: say so
        // in runc's words when the container's cpuset is what restricts it.
        if errno == Errno::EPERM && restricted_to_some_cpus() {
            return SysError::refused(
                "sched_setattr",
                format!("{:?}", scheduler.policy()),
                "process scheduler can't be used together with AllowedCPUs (linux.resources.cpu.cpus): the kernel requires every CPU in the affinity mask",
            );
        }
        SysError::new("sched_setattr", format!("{:?}", scheduler.policy()), errno)
    })
}

/// Whether this thread's CPU affinity leaves out some of the online CPUs.
fn restricted_to_some_cpus() -> bool {
    // SAFETY: sysconf takes a plain name.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let allowed: u32 = super::placement::own_cpu_mask().map(|mask| mask.iter().map(|w| w.count_ones()).sum()).unwrap_or(0);
    online > 0 && i64::from(allowed) < online as i64
}

/// `ioprio_set(2)` for `process.ioPriority`.
pub fn set_io_priority(priority: &LinuxIOPriority) -> Result<(), SysError> {
    let class: i64 = match priority.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    let value = (class << 13) | (priority.priority() & 0x1fff);
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: plain integers: who, which (0 = this process), the priority value.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) })
        .map(drop)
        .map_err(|errno| SysError::new("ioprio_set", format!("{:?} {}", priority.class(), priority.priority()), errno))
}

/// The content of `/proc/<pid>/timens_offsets` for `linux.timeOffsets`; unknown clocks refused.
pub fn timens_offsets(offsets: &HashMap<String, LinuxTimeOffset>) -> Result<String, String> {
    let mut clocks: Vec<&String> = offsets.keys().collect();
    clocks.sort();
    let mut text = String::new();
    for clock in clocks {
        if clock != "monotonic" && clock != "boottime" {
            return Err(format!("unknown clock {clock:?} (monotonic or boottime)"));
        }
        let offset = &offsets[clock];
        text.push_str(&format!("{clock} {} {}\n", offset.secs().unwrap_or(0), offset.nanosecs().unwrap_or(0)));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_text() {
        let offsets: HashMap<String, LinuxTimeOffset> =
            serde_json::from_str(r#"{"monotonic": {"secs": 86400}, "boottime": {"secs": 1, "nanosecs": 5}}"#).unwrap();
        assert_eq!(timens_offsets(&offsets).unwrap(), "boottime 1 5\nmonotonic 86400 0\n");
        let bad: HashMap<String, LinuxTimeOffset> = serde_json::from_str(r#"{"realtime": {"secs": 1}}"#).unwrap();
        assert!(timens_offsets(&bad).is_err());
    }
}
