//! `skiff update`: new resource limits, from `--resources` JSON or runc's flags.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use oci_spec::runtime::LinuxResources;
use serde_json::{Value, json};

use super::Context;

// Arguments of `update`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Path to a JSON file with a linux.resources object, or `-` for stdin.
    #[arg(short, long)]
    pub resources: Option<PathBuf>,
    /// CPU shares (relative weight vs. other containers); runc spells it --cpu-share.
    #[arg(long = "cpu-share", alias = "cpu-shares")]
    pub cpu_shares: Option<u64>,
    /// CPU CFS period in microseconds.
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPU CFS hard limit per period in microseconds.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS burst in microseconds: CPU time a period may borrow from unused earlier ones.
    #[arg(long)]
    pub cpu_burst: Option<u64>,
    /// 1: the cgroup's tasks run as SCHED_IDLE; 0: as usual.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_idle: Option<i64>,
    /// CPU realtime period in microseconds.
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// CPU realtime runtime per period in microseconds.
    #[arg(long)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs to use (0-3, 0,1).
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use (0-3, 0,1).
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Memory limit (in bytes, or with a k/m/g suffix; -1 for unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory reservation (soft limit).
    #[arg(long, allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Total memory usage (memory + swap); -1 for unlimited swap.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Kernel memory limit (deprecated, cgroup v1 only).
    #[arg(long, allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    /// Kernel TCP buffer memory limit (deprecated, cgroup v1 only).
    #[arg(long, allow_hyphen_values = true)]
    pub kernel_memory_tcp: Option<String>,
    /// Maximum number of pids allowed in the container.
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Block IO weight (10-1000).
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// Intel RDT/CAT L3 cache schema (the container's linux.intelRdt group).
    #[arg(long)]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT/MBA memory bandwidth schema (the container's linux.intelRdt group).
    #[arg(long)]
    pub mem_bw_schema: Option<String>,
    /// The container id.
    pub id: String,
}

pub fn run(args: UpdateArgs, context: &Context) -> anyhow::Result<i32> {
    let resources = resources_of(&args)?;
    let schemata: Vec<String> = [&args.l3_cache_schema, &args.mem_bw_schema].into_iter().flatten().cloned().collect();
    context.debug(&format!("update: container {}: {}", args.id, serde_json::to_string(&resources).unwrap_or_default()));
    skiff::container::update(&context.store, &args.id, &resources, &schemata)?;
    Ok(0)
}

fn resources_of(args: &UpdateArgs) -> anyhow::Result<LinuxResources> {
    if let Some(path) = &args.resources {
        let mut text = String::new();
        if path.as_os_str() == "-" {
            std::io::stdin().read_to_string(&mut text).context("read resources from stdin")?;
        } else {
            text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        }
        return serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("decode --resources JSON: {}", skiff::json_path::describe(text.as_bytes(), &e)));
    }
    let bytes = |v: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
        v.as_deref().map(|s| ram_in_bytes(s).with_context(|| format!("--{flag} {s:?}"))).transpose()
    };
    let mut value = json!({});
    let mut set = |path: &[&str], v: Value| {
        if v.is_null() {
            return;
        }
        let mut node = &mut value;
        for key in &path[..path.len() - 1] {
            // Invariant: every node on the path was created just above as a JSON object.
            node = node.as_object_mut().expect("built as objects").entry(*key).or_insert(json!({}));
        }
        node[path[path.len() - 1]] = v;
    };
    set(&["memory", "limit"], json!(bytes(&args.memory, "memory")?));
    set(&["memory", "reservation"], json!(bytes(&args.memory_reservation, "memory-reservation")?));
    set(&["memory", "swap"], json!(bytes(&args.memory_swap, "memory-swap")?));
    set(&["memory", "kernel"], json!(bytes(&args.kernel_memory, "kernel-memory")?));
    set(&["memory", "kernelTCP"], json!(bytes(&args.kernel_memory_tcp, "kernel-memory-tcp")?));
    set(&["cpu", "shares"], json!(args.cpu_shares));
    set(&["cpu", "period"], json!(args.cpu_period));
    set(&["cpu", "quota"], json!(args.cpu_quota));
    set(&["cpu", "burst"], json!(args.cpu_burst));
    set(&["cpu", "idle"], json!(args.cpu_idle));
    set(&["cpu", "realtimePeriod"], json!(args.cpu_rt_period));
    set(&["cpu", "realtimeRuntime"], json!(args.cpu_rt_runtime));
    set(&["cpu", "cpus"], json!(args.cpuset_cpus));
    set(&["cpu", "mems"], json!(args.cpuset_mems));
    set(&["pids", "limit"], json!(args.pids_limit));
    set(&["blockIO", "weight"], json!(args.blkio_weight));
    serde_json::from_value(value).context("build resources from flags")
}

/// Sizes as runc (docker's go-units RAMInBytes) reads them: `1024`, `64k`, `64m`, `1.5g`,
/// `64MiB`, `64mb` (powers of 1024); `-1` is unlimited.
pub fn ram_in_bytes(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    if text == "-1" {
        return Ok(-1);
    }
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| anyhow::anyhow!("invalid size {text:?}"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let multiplier: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => anyhow::bail!("invalid size {text:?}: unknown unit"),
    };
    Ok((number * multiplier) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        assert_eq!(ram_in_bytes("1024").unwrap(), 1024);
        assert_eq!(ram_in_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(ram_in_bytes("64MiB").unwrap(), 64 << 20);
        assert_eq!(ram_in_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(ram_in_bytes("1.5k").unwrap(), 1536);
        assert_eq!(ram_in_bytes("-1").unwrap(), -1);
        assert!(ram_in_bytes("12x").is_err());
        assert!(ram_in_bytes("m").is_err());
    }
}
