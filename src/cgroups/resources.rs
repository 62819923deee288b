//! `linux.resources` mapped to cgroup file writes, as runc maps them: pure functions that
//! compute `(controller, file, value)` lists for cgroup v2 and v1, unit-tested without a
//! cgroup filesystem. The device rules are in `devices.rs`.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice};

use super::CgroupError;

/// One write into a cgroup: for v1 `controller` names the hierarchy, for v2 the controller
/// that must be enabled in the parents' `cgroup.subtree_control` (empty for core files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The controller (`memory`, `cpu`, ...).
    pub controller: &'static str,
    /// The file inside the cgroup directory.
    pub file: String,
    /// The value.
    pub value: String,
}

fn write(controller: &'static str, file: impl Into<String>, value: impl Into<String>) -> Write {
    Write { controller, file: file.into(), value: value.into() }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CgroupError {
    CgroupError::Invalid { field, reason: reason.into() }
}

/// `-1` (or any negative) is "max" on v2.
fn v2_limit(value: i64) -> String {
    if value < 0 { "max".into() } else { value.to_string() }
}

/// runc's conversion of a v1 swap limit (memory+swap) to v2's swap-only `memory.swap.max`.
pub fn v2_swap(swap: i64, limit: i64) -> Result<i64, CgroupError> {
    // Unlimited memory with swap unset means both unlimited, as on v1.
    if limit == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if limit == 0 || limit == -1 {
        return Err(invalid("linux.resources.memory.swap", "a swap limit needs a memory limit: set linux.resources.memory.limit too"));
    }
    if limit < 0 {
        return Err(invalid("linux.resources.memory.limit", format!("invalid memory limit {limit}")));
    }
    if swap < limit {
        return Err(invalid(
            "linux.resources.memory.swap",
            format!(
                "memory+swap limit {swap} is below the memory limit {limit}: swap counts memory and swap together, so give at least the limit, or -1 for no swap limit"
            ),
        ));
    }
    Ok(swap - limit)
}

/// A hugepage size as the kernel names its hugetlb files (`2MB`, `1GB`, `64KB`): it becomes
/// part of a file name, so anything else (a `/`, a `..`) is refused (found by fuzzing).
fn page_size(size: &str) -> Result<&str, CgroupError> {
    let valid =
        size.strip_suffix("B").and_then(|n| n.strip_suffix(['K', 'M', 'G', 'T', 'P'])).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if valid { Ok(size) } else { Err(invalid("linux.resources.hugepageLimits.pageSize", format!("{size:?} is not a page size such as 2MB or 1GB"))) }
}

/// runc's conversion of v1 `cpu.shares` (2..262144) to v2 `cpu.weight` (1..10000). Shares
/// outside that range are taken as the kernel's v1 clamps them (runc's arithmetic would
/// wrap for huge values: found by fuzzing).
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 { 0 } else { 1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142 }
}

/// runc's conversion of a v1 blkio weight (10..1000) to v2 `io.weight` (1..10000).
pub fn blkio_weight_to_io_weight(weight: u16) -> u64 {
    if weight == 0 { 0 } else { 1 + (u64::from(weight).saturating_sub(10) * 9999) / 990 }
}

/// `pids.max` for a `pids.limit`: negative is no limit; 0 is 1, as runc 1.2+ maps it (systemd
/// has no `TasksMax=0`, and both drivers must agree; a pids cgroup at 1 behaves as at 0 for a
/// running container).
pub fn pids_max(limit: i64) -> String {
    match limit {
        ..0 => "max".into(),
        0 => "1".into(),
        limit => limit.to_string(),
    }
}

/// The writes for cgroup v2. `has_bfq` says whether `io.bfq.weight` exists (then weights go
/// there unconverted, as runc does).
pub fn v2_writes(resources: &LinuxResources, has_bfq: bool) -> Result<Vec<Write>, CgroupError> {
    let mut writes = Vec::new();
    if let Some(memory) = resources.memory() {
        v2_memory(memory, &mut writes)?;
    }
    if let Some(cpu) = resources.cpu() {
        v2_cpu(cpu, &mut writes)?;
    }
    if let Some(pids) = resources.pids() {
        writes.push(write("pids", "pids.max", pids_max(pids.limit())));
    }
    if let Some(block_io) = resources.block_io() {
        v2_io(block_io, has_bfq, &mut writes);
    }
    for hugepage in resources.hugepage_limits().as_deref().unwrap_or_default() {
        writes.push(write("hugetlb", format!("hugetlb.{}.max", page_size(hugepage.page_size())?), v2_limit(hugepage.limit())));
    }
    if let Some(rdma) = resources.rdma() {
        let mut devices: Vec<_> = rdma.iter().collect();
        devices.sort_by(|a, b| a.0.cmp(b.0));
        for (device, limit) in devices {
            // One line naming one device: no separators that would smuggle in another.
            if device.is_empty() || device.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid("linux.resources.rdma", format!("{device:?} is not a device name")));
            }
            let mut parts = vec![device.clone()];
            if let Some(handles) = limit.hca_handles() {
                parts.push(format!("hca_handle={handles}"));
            }
            if let Some(objects) = limit.hca_objects() {
                parts.push(format!("hca_object={objects}"));
            }
            if parts.len() > 1 {
                writes.push(write("rdma", "rdma.max", parts.join(" ")));
            }
        }
    }
    if let Some(network) = resources.network()
        && (network.class_id().is_some() || network.priorities().is_some())
    {
        return Err(invalid(
            "linux.resources.network",
            "net_cls and net_prio do not exist on cgroup v2; remove it (classify traffic by cgroup path instead, e.g. an nftables `socket cgroupv2` rule)",
        ));
    }
    if let Some(unified) = resources.unified() {
        let mut entries: Vec<_> = unified.iter().collect();
        entries.sort();
        for (key, value) in entries {
            writes.push(unified_write(key, value)?);
        }
    }
    Ok(writes)
}

/// A `linux.resources.unified` entry: a file name of the cgroup directory whose prefix names
/// its controller. Paths and the files that move processes are refused.
pub fn unified_write(key: &str, value: &str) -> Result<Write, CgroupError> {
    let field = "linux.resources.unified";
    if key.is_empty() || key.contains('/') || key.starts_with('.') {
        return Err(invalid(field, format!("{key:?} is not a cgroup file name")));
    }
    if matches!(key, "cgroup.procs" | "cgroup.threads" | "cgroup.subtree_control" | "cgroup.kill" | "cgroup.freeze") {
        return Err(invalid(field, format!("{key} cannot be set through unified")));
    }
    let controller = match key.split_once('.') {
        Some(("cgroup", _)) => "",
        Some((prefix, _)) => static_controller(prefix).ok_or_else(|| invalid(field, format!("{key}: unknown controller {prefix:?}")))?,
        None => return Err(invalid(field, format!("{key:?} is not a cgroup file name"))),
    };
    Ok(write(controller, key, value))
}

fn static_controller(name: &str) -> Option<&'static str> {
    ["cpu", "cpuset", "io", "memory", "hugetlb", "pids", "rdma", "misc"].into_iter().find(|c| *c == name)
}

fn v2_memory(memory: &LinuxMemory, writes: &mut Vec<Write>) -> Result<(), CgroupError> {
    if memory.disable_oom_killer() == Some(true) {
        return Err(invalid(
            "linux.resources.memory.disableOOMKiller",
            "cannot disable the OOM killer on cgroup v2; remove it (process.oomScoreAdj -1000 protects a process instead)",
        ));
    }
    if memory.swappiness().is_some_and(|s| s <= 100) {
        return Err(invalid(
            "linux.resources.memory.swappiness",
            "cgroup v2 has no per-cgroup swappiness; remove it (linux.resources.memory.swap limits swap use)",
        ));
    }
    let limit = memory.limit().unwrap_or(0);
    let swap = v2_swap(memory.swap().unwrap_or(0), limit)?;
    // Swap first: memory.swap.max does not depend on memory.max, but runc orders it so.
    if swap != 0 {
        writes.push(write("memory", "memory.swap.max", v2_limit(swap)));
    }
    if limit != 0 {
        writes.push(write("memory", "memory.max", v2_limit(limit)));
    }
    if let Some(reservation) = memory.reservation().filter(|r| *r != 0) {
        writes.push(write("memory", "memory.low", v2_limit(reservation)));
    }
    Ok(())
}

fn v2_cpu(cpu: &LinuxCpu, writes: &mut Vec<Write>) -> Result<(), CgroupError> {
    if cpu.realtime_runtime().is_some_and(|r| r != 0) || cpu.realtime_period().is_some_and(|p| p != 0) {
        return Err(invalid(
            "linux.resources.cpu.realtimeRuntime",
            "realtime scheduling limits do not exist on cgroup v2; remove realtimeRuntime and realtimePeriod",
        ));
    }
    if let Some(shares) = cpu.shares().filter(|s| *s != 0) {
        writes.push(write("cpu", "cpu.weight", shares_to_weight(shares).to_string()));
    }
    let quota = cpu.quota().unwrap_or(0);
    let period = cpu.period().unwrap_or(0);
    if quota != 0 || period != 0 {
        let quota = if quota > 0 { quota.to_string() } else { "max".into() };
        let period = if period == 0 { 100_000 } else { period };
        writes.push(write("cpu", "cpu.max", format!("{quota} {period}")));
    }
    if let Some(burst) = cpu.burst() {
        writes.push(write("cpu", "cpu.max.burst", burst.to_string()));
    }
    if let Some(idle) = cpu.idle() {
        writes.push(write("cpu", "cpu.idle", idle.to_string()));
    }
    if let Some(cpus) = cpu.cpus().as_deref().filter(|c| !c.is_empty()) {
        writes.push(write("cpuset", "cpuset.cpus", cpus));
    }
    if let Some(mems) = cpu.mems().as_deref().filter(|m| !m.is_empty()) {
        writes.push(write("cpuset", "cpuset.mems", mems));
    }
    Ok(())
}

fn v2_io(block_io: &LinuxBlockIo, has_bfq: bool, writes: &mut Vec<Write>) {
    if let Some(weight) = block_io.weight().filter(|w| *w != 0) {
        if has_bfq {
            writes.push(write("io", "io.bfq.weight", weight.to_string()));
        } else {
            writes.push(write("io", "io.weight", blkio_weight_to_io_weight(weight).to_string()));
        }
    }
    for device in block_io.weight_device().as_deref().unwrap_or_default() {
        if let Some(weight) = device.weight() {
            let file = if has_bfq { "io.bfq.weight" } else { "io.weight" };
            let value = if has_bfq { u64::from(weight) } else { blkio_weight_to_io_weight(weight) };
            writes.push(write("io", file, format!("{}:{} {value}", device.major(), device.minor())));
        }
    }
    let throttles: [(&Option<Vec<LinuxThrottleDevice>>, &str); 4] = [
        (block_io.throttle_read_bps_device(), "rbps"),
        (block_io.throttle_write_bps_device(), "wbps"),
        (block_io.throttle_read_iops_device(), "riops"),
        (block_io.throttle_write_iops_device(), "wiops"),
    ];
    for (devices, key) in throttles {
        for device in devices.as_deref().unwrap_or_default() {
            let rate = if device.rate() == 0 { "max".to_string() } else { device.rate().to_string() };
            writes.push(write("io", "io.max", format!("{}:{} {key}={rate}", device.major(), device.minor())));
        }
    }
}

/// The writes for cgroup v1, each into the hierarchy of its controller.
pub fn v1_writes(resources: &LinuxResources) -> Result<Vec<Write>, CgroupError> {
    let mut writes = Vec::new();
    if let Some(memory) = resources.memory() {
        v1_memory(memory, &mut writes)?;
    }
    if let Some(cpu) = resources.cpu() {
        let cpu_files: [(&str, Option<String>); 7] = [
            ("cpu.shares", cpu.shares().filter(|s| *s != 0).map(|s| s.to_string())),
            ("cpu.cfs_period_us", cpu.period().filter(|p| *p != 0).map(|p| p.to_string())),
            ("cpu.cfs_quota_us", cpu.quota().filter(|q| *q != 0).map(|q| q.to_string())),
            ("cpu.cfs_burst_us", cpu.burst().map(|b| b.to_string())),
            ("cpu.rt_period_us", cpu.realtime_period().filter(|p| *p != 0).map(|p| p.to_string())),
            ("cpu.rt_runtime_us", cpu.realtime_runtime().filter(|r| *r != 0).map(|r| r.to_string())),
            ("cpu.idle", cpu.idle().map(|i| i.to_string())),
        ];
        for (file, value) in cpu_files {
            if let Some(value) = value {
                writes.push(write("cpu", file, value));
            }
        }
        if let Some(cpus) = cpu.cpus().as_deref().filter(|c| !c.is_empty()) {
            writes.push(write("cpuset", "cpuset.cpus", cpus));
        }
        if let Some(mems) = cpu.mems().as_deref().filter(|m| !m.is_empty()) {
            writes.push(write("cpuset", "cpuset.mems", mems));
        }
    }
    if let Some(pids) = resources.pids() {
        writes.push(write("pids", "pids.max", pids_max(pids.limit())));
    }
    if let Some(block_io) = resources.block_io() {
        if let Some(weight) = block_io.weight().filter(|w| *w != 0) {
            writes.push(write("blkio", "blkio.weight", weight.to_string()));
        }
        if let Some(weight) = block_io.leaf_weight().filter(|w| *w != 0) {
            writes.push(write("blkio", "blkio.leaf_weight", weight.to_string()));
        }
        for device in block_io.weight_device().as_deref().unwrap_or_default() {
            if let Some(weight) = device.weight() {
                writes.push(write("blkio", "blkio.weight_device", format!("{}:{} {weight}", device.major(), device.minor())));
            }
            if let Some(weight) = device.leaf_weight() {
                writes.push(write("blkio", "blkio.leaf_weight_device", format!("{}:{} {weight}", device.major(), device.minor())));
            }
        }
        let throttles: [(&Option<Vec<LinuxThrottleDevice>>, &str); 4] = [
            (block_io.throttle_read_bps_device(), "blkio.throttle.read_bps_device"),
            (block_io.throttle_write_bps_device(), "blkio.throttle.write_bps_device"),
            (block_io.throttle_read_iops_device(), "blkio.throttle.read_iops_device"),
            (block_io.throttle_write_iops_device(), "blkio.throttle.write_iops_device"),
        ];
        for (devices, file) in throttles {
            for device in devices.as_deref().unwrap_or_default() {
                writes.push(write("blkio", file, format!("{}:{} {}", device.major(), device.minor(), device.rate())));
            }
        }
    }
    for hugepage in resources.hugepage_limits().as_deref().unwrap_or_default() {
        writes.push(write("hugetlb", format!("hugetlb.{}.limit_in_bytes", page_size(hugepage.page_size())?), hugepage.limit().to_string()));
    }
    if let Some(network) = resources.network() {
        if let Some(class_id) = network.class_id() {
            writes.push(write("net_cls", "net_cls.classid", class_id.to_string()));
        }
        for priority in network.priorities().as_deref().unwrap_or_default() {
            writes.push(write("net_prio", "net_prio.ifpriomap", format!("{} {}", priority.name(), priority.priority())));
        }
    }
    if resources.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(invalid(
            "linux.resources.unified",
            "invalid configuration: needs cgroup v2; this host's controllers are on cgroup v1: use the v1 fields of linux.resources instead",
        ));
    }
    Ok(writes)
}

fn v1_memory(memory: &LinuxMemory, writes: &mut Vec<Write>) -> Result<(), CgroupError> {
    let limit = memory.limit().unwrap_or(0);
    let swap = memory.swap().unwrap_or(0);
    if swap != 0 && limit != 0 && swap != -1 && limit != -1 && swap < limit {
        return Err(invalid(
            "linux.resources.memory.swap",
            format!(
                "memory+swap limit {swap} is below the memory limit {limit}: swap counts memory and swap together, so give at least the limit, or -1 for no swap limit"
            ),
        ));
    }
    // The order of these two depends on the current limit: see `order_v1_memory`.
    if limit != 0 {
        writes.push(write("memory", "memory.limit_in_bytes", limit.to_string()));
    }
    if swap != 0 {
        writes.push(write("memory", "memory.memsw.limit_in_bytes", swap.to_string()));
    }
    if let Some(reservation) = memory.reservation().filter(|r| *r != 0) {
        writes.push(write("memory", "memory.soft_limit_in_bytes", reservation.to_string()));
    }
    if let Some(kernel) = memory.kernel().filter(|k| *k != 0) {
        writes.push(write("memory", "memory.kmem.limit_in_bytes", kernel.to_string()));
    }
    if let Some(tcp) = memory.kernel_tcp().filter(|k| *k != 0) {
        writes.push(write("memory", "memory.kmem.tcp.limit_in_bytes", tcp.to_string()));
    }
    if let Some(swappiness) = memory.swappiness() {
        if swappiness > 100 && swappiness != u64::MAX {
            return Err(invalid("linux.resources.memory.swappiness", format!("{swappiness} is above 100")));
        }
        if swappiness <= 100 {
            writes.push(write("memory", "memory.swappiness", swappiness.to_string()));
        }
    }
    if memory.disable_oom_killer() == Some(true) {
        writes.push(write("memory", "memory.oom_control", "1"));
    }
    Ok(())
}

/// runc's rule: a memory limit lifted (-1) with no swap limit given lifts the swap limit too,
/// where the kernel accounts swap (`memsw_exists`); otherwise the old memory+swap limit would
/// sit below an unlimited memory limit, which the kernel refuses.
pub fn lift_swap_with_memory(writes: &mut Vec<Write>, memsw_exists: bool) {
    let lifted = writes.iter().any(|w| w.file == "memory.limit_in_bytes" && w.value == "-1");
    if lifted && memsw_exists && !writes.iter().any(|w| w.file == "memory.memsw.limit_in_bytes") {
        writes.push(write("memory", "memory.memsw.limit_in_bytes", "-1"));
    }
}

/// The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every moment.
/// When both change, write memsw first if the new memsw is unlimited or above the current
/// memory limit, else memory first (runc's rule). `current_limit` is the limit in force now.
pub fn order_v1_memory(writes: &mut [Write], current_limit: u64) {
    let position = |file: &str| writes.iter().position(|w| w.file == file);
    let (Some(memory), Some(memsw)) = (position("memory.limit_in_bytes"), position("memory.memsw.limit_in_bytes")) else { return };
    let swap: i64 = writes[memsw].value.parse().unwrap_or(-1);
    let swap_first = swap == -1 || current_limit < swap as u64;
    if swap_first != (memsw < memory) {
        writes.swap(memory, memsw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    fn pairs(writes: &[Write]) -> Vec<(&str, &str)> {
        writes.iter().map(|w| (w.file.as_str(), w.value.as_str())).collect()
    }

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(u64::MAX), 10_000, "clamped as the kernel clamps v1 shares, no overflow");
        for bad in ["a/b", "../2MB", "2", "MB", "2XB", ""] {
            assert!(page_size(bad).is_err(), "{bad:?}");
        }
        for good in ["2MB", "1GB", "64KB"] {
            assert_eq!(page_size(good).unwrap(), good);
        }
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
        assert_eq!(v2_swap(0, -1).unwrap(), -1);
        assert_eq!(v2_swap(200, 100).unwrap(), 100);
        assert_eq!(v2_swap(-1, 100).unwrap(), -1);
        assert!(v2_swap(50, 100).is_err());
        assert!(v2_swap(100, 0).is_err());
    }

    #[test]
    fn v2_maps_every_controller() {
        let r = resources(
            r#"{"memory": {"limit": 67108864, "swap": 134217728, "reservation": 1048576},
                "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0", "burst": 1000, "idle": 0},
                "pids": {"limit": 32},
                "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
                "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
                "rdma": {"mlx5_1": {"hcaHandles": 3}},
                "unified": {"memory.high": "50000000"}}"#,
        );
        let writes = v2_writes(&r, false).unwrap();
        assert_eq!(
            pairs(&writes),
            [
                ("memory.swap.max", "67108864"),
                ("memory.max", "67108864"),
                ("memory.low", "1048576"),
                ("cpu.weight", "39"),
                ("cpu.max", "50000 100000"),
                ("cpu.max.burst", "1000"),
                ("cpu.idle", "0"),
                ("cpuset.cpus", "0"),
                ("cpuset.mems", "0"),
                ("pids.max", "32"),
                ("io.weight", "4950"),
                ("io.max", "8:0 rbps=1048576"),
                ("hugetlb.2MB.max", "0"),
                ("rdma.max", "mlx5_1 hca_handle=3"),
                ("memory.high", "50000000"),
            ]
        );
        assert_eq!(writes[0].controller, "memory");
        assert_eq!(writes[14].controller, "memory");
    }

    #[test]
    fn v2_refusals() {
        for (json, field) in [
            (r#"{"memory": {"disableOOMKiller": true}}"#, "disableOOMKiller"),
            (r#"{"cpu": {"realtimeRuntime": 1000}}"#, "realtimeRuntime"),
            (r#"{"unified": {"cgroup.procs": "1"}}"#, "unified"),
            (r#"{"unified": {"../x": "1"}}"#, "unified"),
            (r#"{"unified": {"bogus.file": "1"}}"#, "unified"),
            (r#"{"network": {"classID": 1}}"#, "network"),
        ] {
            let error = v2_writes(&resources(json), false).unwrap_err().to_string();
            assert!(error.contains(field), "{json}: {error}");
        }
    }

    #[test]
    fn v2_unlimited_values_are_max() {
        let r = resources(r#"{"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}"#);
        assert_eq!(pairs(&v2_writes(&r, false).unwrap()), [("memory.swap.max", "max"), ("memory.max", "max"), ("cpu.max", "max 100000"), ("pids.max", "max")]);
        // runc 1.2+: a limit of 0 is 1 (systemd has no TasksMax=0)
        let r = resources(r#"{"pids": {"limit": 0}}"#);
        assert_eq!(pairs(&v2_writes(&r, false).unwrap()), [("pids.max", "1")]);
        assert_eq!(pairs(&v1_writes(&r).unwrap()), [("pids.max", "1")]);
    }

    #[test]
    fn v1_maps_and_orders_memory() {
        let r = resources(
            r#"{"memory": {"limit": 100, "swap": 200, "disableOOMKiller": true, "swappiness": 10}, "cpu": {"shares": 512, "quota": 20000, "period": 50000}, "pids": {"limit": 10}, "network": {"classID": 7}}"#,
        );
        assert_eq!(
            pairs(&v1_writes(&r).unwrap()),
            [
                ("memory.limit_in_bytes", "100"),
                ("memory.memsw.limit_in_bytes", "200"),
                ("memory.swappiness", "10"),
                ("memory.oom_control", "1"),
                ("cpu.shares", "512"),
                ("cpu.cfs_period_us", "50000"),
                ("cpu.cfs_quota_us", "20000"),
                ("pids.max", "10"),
                ("net_cls.classid", "7"),
            ]
        );
        assert!(v1_writes(&resources(r#"{"unified": {"memory.high": "1"}}"#)).is_err());
    }

    #[test]
    fn v1_memory_order_follows_the_current_limit() {
        let r = resources(r#"{"memory": {"limit": 100, "swap": 200}}"#);
        // a lifted memory limit lifts swap too, first, where swap is accounted
        let mut writes = vec![write("memory", "memory.limit_in_bytes", "-1")];
        lift_swap_with_memory(&mut writes, true);
        order_v1_memory(&mut writes, 10 << 20);
        assert_eq!(pairs(&writes), [("memory.memsw.limit_in_bytes", "-1"), ("memory.limit_in_bytes", "-1")]);
        let mut writes = vec![write("memory", "memory.limit_in_bytes", "-1")];
        lift_swap_with_memory(&mut writes, false);
        assert_eq!(pairs(&writes), [("memory.limit_in_bytes", "-1")]);
        let mut writes = vec![write("memory", "memory.limit_in_bytes", "-1"), write("memory", "memory.memsw.limit_in_bytes", "300")];
        lift_swap_with_memory(&mut writes, true);
        assert_eq!(writes.len(), 2, "a swap limit given is kept");
        // unlimited now (a fresh cgroup): memory first, then memsw
        let mut writes = v1_writes(&r).unwrap();
        order_v1_memory(&mut writes, u64::MAX - 4095);
        assert_eq!(pairs(&writes), [("memory.limit_in_bytes", "100"), ("memory.memsw.limit_in_bytes", "200")]);
        // raising from a lower limit: memsw first
        order_v1_memory(&mut writes, 50);
        assert_eq!(pairs(&writes), [("memory.memsw.limit_in_bytes", "200"), ("memory.limit_in_bytes", "100")]);
    }
}
