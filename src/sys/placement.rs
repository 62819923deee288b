//! Where the container's processes run and allocate: CPU affinity (`process.execCPUAffinity`)
//! and the NUMA memory policy (`linux.memoryPolicy`).

use oci_spec::runtime::{LinuxMemoryPolicy, MemoryPolicyFlagType, MemoryPolicyModeType};

use super::{SysError, check};

/// The highest CPU or node number a list may name: far above any machine, small enough that
/// a mask for it stays a few hundred bytes.
const MAX_ID: usize = 8191;

/// Parse a Linux id list (`0-3,7`, as in `cpuset.cpus`) into a bit mask of 64-bit words.
/// An empty list is an empty mask.
pub fn parse_id_list(list: &str) -> Result<Vec<u64>, String> {
    let mut mask: Vec<u64> = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |text: &str| -> Result<usize, String> {
            let value: usize = text.trim().parse().map_err(|_| format!("{part:?} is not a number or a range like 0-3"))?;
            if value > MAX_ID {
                return Err(format!("{value} is above {MAX_ID}"));
            }
            Ok(value)
        };
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if first > last {
            return Err(format!("range {part:?} runs backwards"));
        }
        for id in first..=last {
            let word = id / 64;
            if mask.len() <= word {
                mask.resize(word + 1, 0);
            }
            mask[word] |= 1 << (id % 64);
        }
    }
    Ok(mask)
}

/// `sched_setaffinity(2)` of `pid` (0: the caller) to the CPUs in `list`.
pub fn set_cpu_affinity(pid: i32, list: &str) -> Result<(), SysError> {
    let mask = parse_id_list(list).map_err(|reason| SysError::refused("parse CPU list", format!("{list:?}"), reason))?;
    if mask.iter().all(|w| *w == 0) {
        return Err(SysError::refused("sched_setaffinity", format!("{list:?}"), "it names no CPU"));
    }
    apply_mask(pid, &mask, format_args!("pid {pid} to CPUs {list}"))
}

/// `sched_setaffinity(2)` of `pid` (0: the caller) to `mask`; `target` names it in errors.
fn apply_mask(pid: i32, mask: &[u64], target: impl std::fmt::Display) -> Result<(), SysError> {
    // SAFETY: a buffer of the size passed; the kernel only reads it.
    check(unsafe { libc::syscall(libc::SYS_sched_setaffinity, pid, mask.len() * 8, mask.as_ptr()) })
        .map(drop)
        .map_err(|errno| SysError::new("sched_setaffinity", target, errno))
}

/// The calling thread's CPU mask, to put back after a temporary change.
pub fn own_cpu_mask() -> Result<Vec<u64>, SysError> {
    let mut mask = vec![0u64; (MAX_ID + 1) / 64];
    // SAFETY: a writable buffer of the size passed.
    check(unsafe { libc::syscall(libc::SYS_sched_getaffinity, 0, mask.len() * 8, mask.as_mut_ptr()) })
        .map_err(|errno| SysError::new("sched_getaffinity", "the runtime", errno))?;
    Ok(mask)
}

/// Put back a mask from [`own_cpu_mask`] on the calling thread.
pub fn restore_own_cpu_mask(mask: &[u64]) -> Result<(), SysError> {
    apply_mask(0, mask, "the runtime, back to its own CPUs")
}

/// Let `pid` run on every CPU its cpuset allows: an all-ones mask, which the kernel clamps
/// to the cgroup's CPUs. Since Linux 6.2 joining a cpuset no longer resets a task's mask, so
/// without this the runtime's own affinity (a `taskset` or systemd `CPUAffinity=` around the
/// engine) would leak into the container.
pub fn reset_cpu_affinity(pid: i32) -> Result<(), SysError> {
    apply_mask(pid, &[u64::MAX; (MAX_ID + 1) / 64], format_args!("pid {pid} to every CPU of its cpuset"))
}

/// The `set_mempolicy(2)` arguments for a memory policy: mode with its flags, and the node
/// mask. Checked as the kernel would, so a bad policy is refused before anything runs.
pub fn memory_policy_arguments(policy: &LinuxMemoryPolicy) -> Result<(i32, Vec<u64>), String> {
    let mode = match policy.mode() {
        MemoryPolicyModeType::MpolDefault => 0,
        MemoryPolicyModeType::MpolPreferred => 1,
        MemoryPolicyModeType::MpolBind => 2,
        MemoryPolicyModeType::MpolInterleave => 3,
        MemoryPolicyModeType::MpolLocal => 4,
        MemoryPolicyModeType::MpolPreferredMany => 5,
        MemoryPolicyModeType::MpolWeightedInterleave => 6,
    };
    let flags = policy.flags().as_deref().unwrap_or_default().iter().fold(0, |bits, flag| {
        bits | match flag {
            MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
            MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
            MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
        }
    });
    let node_list = policy.nodes().as_deref().unwrap_or_default();
    // runc 1.5's words lead each refusal, so that callers matching them find them.
    let nodes = parse_id_list(node_list).map_err(|reason| format!("invalid memory policy nodes {node_list:?}: {reason}"))?;
    let node_count: u32 = nodes.iter().map(|w| w.count_ones()).sum();
    match policy.mode() {
        MemoryPolicyModeType::MpolDefault | MemoryPolicyModeType::MpolLocal if node_count != 0 => {
            return Err(format!("memory policy mode requires 0 nodes but got {node_count}: {} takes none", policy.mode()));
        }
        MemoryPolicyModeType::MpolDefault | MemoryPolicyModeType::MpolLocal if flags != 0 => {
            return Err(format!("{} takes no flags", policy.mode()));
        }
        MemoryPolicyModeType::MpolBind
        | MemoryPolicyModeType::MpolInterleave
        | MemoryPolicyModeType::MpolPreferredMany
        | MemoryPolicyModeType::MpolWeightedInterleave
            if node_count == 0 =>
        {
            return Err(format!("memory policy mode requires at least one node but got 0: {} needs nodes (a list such as \"0-1\")", policy.mode()));
        }
        _ => {}
    }
    if flags & (1 << 14) != 0 && flags & (1 << 15) != 0 {
        return Err("MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other".into());
    }
    Ok((mode | flags, nodes))
}

/// `set_mempolicy(2)` for the calling thread; inherited across fork and exec.
pub fn set_memory_policy(policy: &LinuxMemoryPolicy) -> Result<(), SysError> {
    let (mode, nodes) = memory_policy_arguments(policy).map_err(|reason| SysError::refused("check", "linux.memoryPolicy", reason))?;
    // The kernel reads maxnode - 1 bits.
    let max_node = nodes.len() * 64 + 1;
    let mask = if nodes.is_empty() { std::ptr::null() } else { nodes.as_ptr() };
    // SAFETY: a mask of at least (max_node - 1) bits, or null with none.
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, mask, max_node) }).map(drop).map_err(|errno| {
        let nodes = policy.nodes().as_deref().unwrap_or_default();
        SysError::new("set_mempolicy", format!("{} nodes {nodes:?}", policy.mode()), errno)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> LinuxMemoryPolicy {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn id_lists() {
        assert_eq!(parse_id_list("0-3,7").unwrap(), vec![0b1000_1111]);
        assert_eq!(parse_id_list(" 1 , 65").unwrap(), vec![0b10, 0b10]);
        assert_eq!(parse_id_list("").unwrap(), Vec::<u64>::new());
        assert!(parse_id_list("3-1").is_err());
        assert!(parse_id_list("a").is_err());
        assert!(parse_id_list("0-99999999").is_err());
    }

    #[test]
    fn memory_policy_checks() {
        assert_eq!(memory_policy_arguments(&policy(r#"{"mode": "MPOL_BIND", "nodes": "0"}"#)).unwrap(), (2, vec![1]));
        assert_eq!(
            memory_policy_arguments(&policy(r#"{"mode": "MPOL_INTERLEAVE", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]}"#)).unwrap(),
            (3 | 1 << 15, vec![3])
        );
        assert_eq!(memory_policy_arguments(&policy(r#"{"mode": "MPOL_DEFAULT"}"#)).unwrap(), (0, vec![]));
        assert_eq!(memory_policy_arguments(&policy(r#"{"mode": "MPOL_PREFERRED", "nodes": ""}"#)).unwrap(), (1, vec![]));
        assert!(
            memory_policy_arguments(&policy(r#"{"mode": "MPOL_DEFAULT", "nodes": "0"}"#))
                .unwrap_err()
                .contains("memory policy mode requires 0 nodes but got 1")
        );
        assert!(memory_policy_arguments(&policy(r#"{"mode": "MPOL_BIND"}"#)).unwrap_err().contains("requires at least one node but got 0"));
        let default_with_eight = memory_policy_arguments(&policy(r#"{"mode": "MPOL_DEFAULT", "nodes": "0-7"}"#)).unwrap_err();
        assert!(default_with_eight.starts_with("memory policy mode requires 0 nodes but got 8"), "{default_with_eight}");
        let too_large = memory_policy_arguments(&policy(r#"{"mode": "MPOL_BIND", "nodes": "0-9876543210"}"#)).unwrap_err();
        assert!(too_large.starts_with("invalid memory policy nodes \"0-9876543210\": "), "{too_large}");
        let both = r#"{"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}"#;
        assert!(memory_policy_arguments(&policy(both)).unwrap_err().contains("exclude each other"));
    }
}
