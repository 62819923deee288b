//! Statistics for `events`, in runc's JSON shape (`{"type":"stats","id":..,"data":{..}}`),
//! read from the container's cgroup on v2 or v1.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{CgroupError, is_missing, read_file};

fn zero(v: &u64) -> bool {
    *v == 0
}

/// CPU time, in nanoseconds (runc's `cpu.usage`).
#[derive(Debug, Default, Serialize)]
pub struct CpuUsage {
    /// Total CPU time.
    #[serde(skip_serializing_if = "zero")]
    pub total: u64,
    /// Per CPU (v1 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    /// In the kernel.
    pub kernel: u64,
    /// In user space.
    pub user: u64,
}

/// CFS throttling.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    /// Periods elapsed.
    #[serde(skip_serializing_if = "zero")]
    pub periods: u64,
    /// Periods throttled.
    #[serde(skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    /// Time throttled, ns.
    #[serde(skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

/// `cpu` of the stats.
#[derive(Debug, Default, Serialize)]
pub struct Cpu {
    /// Usage.
    pub usage: CpuUsage,
    /// Throttling.
    pub throttling: Throttling,
}

/// A memory counter with its limit.
#[derive(Debug, Default, Serialize)]
pub struct MemoryEntry {
    /// Limit (bytes; the maximum value when unlimited).
    pub limit: u64,
    /// Current usage.
    #[serde(skip_serializing_if = "zero")]
    pub usage: u64,
    /// Peak usage.
    #[serde(skip_serializing_if = "zero")]
    pub max: u64,
    /// Times the limit was hit.
    pub failcnt: u64,
}

/// `memory` of the stats.
#[derive(Debug, Default, Serialize)]
pub struct Memory {
    /// Page cache.
    #[serde(skip_serializing_if = "zero")]
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Swap (v1: memory+swap).
    pub swap: MemoryEntry,
    /// memory.stat as is.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

/// `pids` of the stats.
#[derive(Debug, Default, Serialize)]
pub struct Pids {
    /// Processes now.
    #[serde(skip_serializing_if = "zero")]
    pub current: u64,
    /// The limit (0 when unlimited).
    #[serde(skip_serializing_if = "zero")]
    pub limit: u64,
}

/// The statistics object runc prints under `data`.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// CPU.
    pub cpu: Cpu,
    /// Memory.
    pub memory: Memory,
    /// Processes.
    pub pids: Pids,
}

fn number(text: &str) -> u64 {
    let text = text.trim();
    if text == "max" { u64::MAX } else { text.parse().unwrap_or(0) }
}

/// Read a number file; a missing file (controller not enabled) reads as 0.
fn read_number(path: &Path) -> Result<u64, CgroupError> {
    match read_file(path) {
        Ok(text) => Ok(number(&text)),
        Err(e) if is_missing(&e) => Ok(0),
        Err(e) => Err(e),
    }
}

/// `key value` lines (memory.stat, cpu.stat).
fn read_keyed(path: &Path) -> Result<BTreeMap<String, u64>, CgroupError> {
    let text = match read_file(path) {
        Ok(text) => text,
        Err(e) if is_missing(&e) => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    Ok(text.lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_string(), number(v))).collect())
}

/// The statistics of a v2 cgroup directory.
pub fn v2_stats(dir: &Path) -> Result<Stats, CgroupError> {
    let mut stats = Stats::default();
    let cpu = read_keyed(&dir.join("cpu.stat"))?;
    let get = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    stats.cpu.usage.total = get(&cpu, "usage_usec") * 1000;
    stats.cpu.usage.user = get(&cpu, "user_usec") * 1000;
    stats.cpu.usage.kernel = get(&cpu, "system_usec") * 1000;
    stats.cpu.throttling.periods = get(&cpu, "nr_periods");
    stats.cpu.throttling.throttled_periods = get(&cpu, "nr_throttled");
    stats.cpu.throttling.throttled_time = get(&cpu, "throttled_usec") * 1000;
    stats.memory.raw = read_keyed(&dir.join("memory.stat"))?;
    stats.memory.cache = get(&stats.memory.raw, "file");
    stats.memory.usage.usage = read_number(&dir.join("memory.current"))?;
    stats.memory.usage.limit = read_number(&dir.join("memory.max"))?;
    stats.memory.usage.max = read_number(&dir.join("memory.peak"))?;
    stats.memory.usage.failcnt = get(&read_keyed(&dir.join("memory.events"))?, "max");
    stats.memory.swap.usage = read_number(&dir.join("memory.swap.current"))?;
    stats.memory.swap.limit = read_number(&dir.join("memory.swap.max"))?;
    stats.pids.current = read_number(&dir.join("pids.current"))?;
    stats.pids.limit = unlimited_as_zero(read_number(&dir.join("pids.max"))?);
    Ok(stats)
}

/// The statistics of a v1 cgroup, from each controller's hierarchy (`dir_of`: the cgroup's
/// directory in a controller's hierarchy, if it has one).
pub fn v1_stats<'a>(dir_of: impl Fn(&str) -> Option<&'a Path>) -> Result<Stats, CgroupError> {
    let mut stats = Stats::default();
    if let Some(dir) = dir_of("cpuacct") {
        stats.cpu.usage.total = read_number(&dir.join("cpuacct.usage"))?;
        stats.cpu.usage.percpu = read_file(&dir.join("cpuacct.usage_percpu")).map(|t| t.split_whitespace().map(number).collect()).unwrap_or_default();
        // cpuacct.stat is in clock ticks
        let ticks = read_keyed(&dir.join("cpuacct.stat"))?;
        let hz = 100;
        stats.cpu.usage.user = ticks.get("user").copied().unwrap_or(0) * 1_000_000_000 / hz;
        stats.cpu.usage.kernel = ticks.get("system").copied().unwrap_or(0) * 1_000_000_000 / hz;
    }
    if let Some(dir) = dir_of("cpu") {
        let cpu = read_keyed(&dir.join("cpu.stat"))?;
        stats.cpu.throttling.periods = cpu.get("nr_periods").copied().unwrap_or(0);
        stats.cpu.throttling.throttled_periods = cpu.get("nr_throttled").copied().unwrap_or(0);
        stats.cpu.throttling.throttled_time = cpu.get("throttled_time").copied().unwrap_or(0);
    }
    if let Some(dir) = dir_of("memory") {
        stats.memory.raw = read_keyed(&dir.join("memory.stat"))?;
        stats.memory.cache = stats.memory.raw.get("cache").copied().unwrap_or(0);
        stats.memory.usage = MemoryEntry {
            limit: read_number(&dir.join("memory.limit_in_bytes"))?,
            usage: read_number(&dir.join("memory.usage_in_bytes"))?,
            max: read_number(&dir.join("memory.max_usage_in_bytes"))?,
            failcnt: read_number(&dir.join("memory.failcnt"))?,
        };
        stats.memory.swap = MemoryEntry {
            limit: read_number(&dir.join("memory.memsw.limit_in_bytes"))?,
            usage: read_number(&dir.join("memory.memsw.usage_in_bytes"))?,
            max: read_number(&dir.join("memory.memsw.max_usage_in_bytes"))?,
            failcnt: read_number(&dir.join("memory.memsw.failcnt"))?,
        };
    }
    if let Some(dir) = dir_of("pids") {
        stats.pids.current = read_number(&dir.join("pids.current"))?;
        stats.pids.limit = unlimited_as_zero(read_number(&dir.join("pids.max"))?);
    }
    Ok(stats)
}

fn unlimited_as_zero(value: u64) -> u64 {
    if value == u64::MAX { 0 } else { value }
}

/// The number of OOM kills so far, from v2's `memory.events` or v1's `memory.oom_control`
/// (both have an `oom_kill` line), to notice new ones.
pub fn oom_kills(file: &Path) -> u64 {
    read_keyed(file).ok().and_then(|m| m.get("oom_kill").copied()).unwrap_or(0)
}
