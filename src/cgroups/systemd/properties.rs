//! The properties of a container's transient unit, computed from the config: the unit's own
//! (slice, delegation, accounting), the resources systemd can express, the device allow
//! list, and `org.systemd.property.*` annotations. Pure functions, as runc computes them.

use oci_spec::runtime::LinuxResources;

use super::super::devices::{self, Access, DeviceKind, DeviceRule};
use super::super::path::SystemdUnit;
use super::super::resources::{blkio_weight_to_io_weight, shares_to_weight, v2_swap};
use super::super::{CgroupError, Layout};
use crate::dbus::{Type, Value};

/// A unit property: its name and value.
pub type Property = (String, Value);

fn property(name: &str, value: Value) -> Property {
    (name.to_string(), value)
}

fn invalid(field: &'static str, reason: String) -> CgroupError {
    CgroupError::Invalid { field, reason }
}

/// systemd's "no limit" for sizes, counts and times.
pub const INFINITY: u64 = u64::MAX;

/// The unit's own properties (runc's, in runc's order), without `PIDs`.
pub fn unit_properties(unit: &SystemdUnit, layout: Layout) -> Vec<Property> {
    let mut properties = vec![property("Description", Value::Str(format!("skiff container {}", unit.name)))];
    if unit.is_slice() {
        // A slice's parent comes from a dependency, not from Slice=.
        properties.push(property("Wants", Value::string_array(&[&unit.slice])));
    } else {
        properties.push(property("Slice", Value::Str(unit.slice.clone())));
        properties.push(property("Delegate", Value::Bool(true)));
    }
    let io = if layout == Layout::Unified { "IOAccounting" } else { "BlockIOAccounting" };
    for accounting in ["MemoryAccounting", "CPUAccounting", io, "TasksAccounting"] {
        properties.push(property(accounting, Value::Bool(true)));
    }
    properties.push(property("DefaultDependencies", Value::Bool(false)));
    properties
}

/// `PIDs=`: the processes systemd moves into the new scope.
pub fn pids_property(pid: i32) -> Property {
    // Pids are positive: a negative one would be a bug upstream, sent as 0 and refused by systemd.
    property("PIDs", Value::Array(Type::U32, vec![Value::U32(u32::try_from(pid).unwrap_or(0))]))
}

fn limit(value: i64) -> Value {
    Value::U64(if value < 0 { INFINITY } else { value.unsigned_abs() })
}

/// A CPU quota as systemd takes it: a time per second, in whole 10 ms steps (systemd rounds
/// so; runc rounds up and writes the same quota to cgroupfs so both agree). Returns the
/// per-second value and the quota rewritten to match it.
pub fn cpu_quota_per_second(quota: i64, period: u64) -> (u64, i64) {
    if quota <= 0 {
        return (INFINITY, quota);
    }
    let period = if period == 0 { 100_000 } else { period };
    let mut per_second = quota.unsigned_abs().saturating_mul(1_000_000) / period;
    if !per_second.is_multiple_of(10_000) {
        per_second = (per_second / 10_000 + 1).saturating_mul(10_000);
    }
    let rewritten = i64::try_from(per_second.saturating_mul(period) / 1_000_000).unwrap_or(i64::MAX);
    (per_second, rewritten)
}

/// The resources with the CPU quota rounded as systemd will hold it, for the cgroupfs writes.
pub fn round_cpu_quota(resources: &LinuxResources) -> LinuxResources {
    let mut rounded = resources.clone();
    if let Some(cpu) = resources.cpu()
        && let Some(quota) = cpu.quota().filter(|q| *q > 0)
    {
        let (_, quota) = cpu_quota_per_second(quota, cpu.period().unwrap_or(0));
        let mut cpu = cpu.clone();
        cpu.set_quota(Some(quota));
        rounded.set_cpu(Some(cpu));
    }
    rounded
}

/// A cpu or memory-node list (`0-3,7`) as systemd's byte mask: bit n of byte n/8 is cpu n.
pub fn cpu_mask(list: &str, field: &'static str) -> Result<Vec<u8>, CgroupError> {
    // The kernel's limit on CPUs (NR_CPUS max) is 8192.
    const MAX_CPU: u32 = 8191;
    let bad = |why: &str| invalid(field, format!("{list:?}: {why}"));
    let mut mask = Vec::new();
    for part in list.trim().split(',').map(str::trim) {
        let (low, high) = match part.split_once('-') {
            Some((low, high)) => (low, high),
            None => (part, part),
        };
        let parse = |n: &str| n.trim().parse::<u32>().map_err(|_| bad("not a list of numbers and ranges"));
        let (low, high) = (parse(low)?, parse(high)?);
        if low > high || high > MAX_CPU {
            return Err(bad("a range is reversed or beyond the kernel's 8192"));
        }
        for cpu in low..=high {
            let byte = (cpu / 8) as usize;
            if mask.len() <= byte {
                mask.resize(byte + 1, 0);
            }
            mask[byte] |= 1 << (cpu % 8);
        }
    }
    if mask.is_empty() {
        return Err(bad("empty"));
    }
    Ok(mask)
}

fn bytes(mask: Vec<u8>) -> Value {
    Value::Array(Type::Byte, mask.into_iter().map(Value::Byte).collect())
}

/// The resources systemd can express, for cgroup v2 (`layout` unified) or v1.
pub fn resource_properties(resources: &LinuxResources, layout: Layout) -> Result<Vec<Property>, CgroupError> {
    let v2 = layout == Layout::Unified;
    let mut properties = Vec::new();
    if let Some(memory) = resources.memory() {
        let memory_limit = memory.limit().unwrap_or(0);
        if memory_limit != 0 {
            properties.push(property(if v2 { "MemoryMax" } else { "MemoryLimit" }, limit(memory_limit)));
        }
        if v2 {
            if let Some(reservation) = memory.reservation().filter(|r| *r != 0) {
                properties.push(property("MemoryLow", limit(reservation)));
            }
            let swap = v2_swap(memory.swap().unwrap_or(0), memory_limit)?;
            if swap != 0 {
                properties.push(property("MemorySwapMax", limit(swap)));
            }
        }
    }
    if let Some(cpu) = resources.cpu() {
        if let Some(shares) = cpu.shares().filter(|s| *s != 0) {
            if v2 {
                properties.push(property("CPUWeight", Value::U64(shares_to_weight(shares))));
            } else {
                properties.push(property("CPUShares", Value::U64(shares)));
            }
        }
        let quota = cpu.quota().unwrap_or(0);
        let period = cpu.period().unwrap_or(0);
        if period != 0 {
            properties.push(property("CPUQuotaPeriodUSec", Value::U64(period)));
        }
        if quota != 0 || period != 0 {
            properties.push(property("CPUQuotaPerSecUSec", Value::U64(cpu_quota_per_second(quota, period).0)));
        }
        if let Some(cpus) = cpu.cpus().as_deref().filter(|c| !c.is_empty()) {
            properties.push(property("AllowedCPUs", bytes(cpu_mask(cpus, "linux.resources.cpu.cpus")?)));
        }
        if let Some(mems) = cpu.mems().as_deref().filter(|m| !m.is_empty()) {
            properties.push(property("AllowedMemoryNodes", bytes(cpu_mask(mems, "linux.resources.cpu.mems")?)));
        }
    }
    if let Some(pids) = resources.pids() {
        // As the cgroupfs writes read it (resources::pids_max): negative is no limit, 0 is 1.
        properties.push(property("TasksMax", if pids.limit() >= 0 { limit(pids.limit().max(1)) } else { Value::U64(INFINITY) }));
    }
    if let Some(weight) = resources.block_io().as_ref().and_then(|b| b.weight()).filter(|w| *w != 0) {
        if v2 {
            properties.push(property("IOWeight", Value::U64(blkio_weight_to_io_weight(weight))));
        } else {
            properties.push(property("BlockIOWeight", Value::U64(u64::from(weight))));
        }
    }
    if let Some(unified) = resources.unified().as_ref().filter(|_| v2) {
        let mut entries: Vec<_> = unified.iter().collect();
        entries.sort();
        for (key, value) in entries {
            properties.extend(unified_property(key, value.trim())?);
        }
    }
    Ok(properties)
}

/// A `linux.resources.unified` entry systemd has a property for (runc's list); others are
/// written to the files only.
fn unified_property(key: &str, value: &str) -> Result<Option<Property>, CgroupError> {
    let field = "linux.resources.unified";
    let number = |text: &str| -> Result<Value, CgroupError> {
        if text == "max" {
            return Ok(Value::U64(INFINITY));
        }
        text.parse::<u64>().map(Value::U64).map_err(|_| invalid(field, format!("{key}: {value:?} is not a number or max")))
    };
    Ok(Some(match key {
        "memory.max" => property("MemoryMax", number(value)?),
        "memory.high" => property("MemoryHigh", number(value)?),
        "memory.low" => property("MemoryLow", number(value)?),
        "memory.min" => property("MemoryMin", number(value)?),
        "memory.swap.max" => property("MemorySwapMax", number(value)?),
        "pids.max" => property("TasksMax", number(value)?),
        "cpu.weight" => property("CPUWeight", number(value)?),
        "cpuset.cpus" => property("AllowedCPUs", bytes(cpu_mask(value, field)?)),
        "cpuset.mems" => property("AllowedMemoryNodes", bytes(cpu_mask(value, field)?)),
        "cpu.max" => {
            let mut parts = value.split_whitespace();
            let quota = match parts.next() {
                Some("max") | None => -1,
                Some(q) => q.parse::<i64>().map_err(|_| invalid(field, format!("cpu.max: {value:?}")))?,
            };
            let period = parts.next().map(|p| p.parse::<u64>().map_err(|_| invalid(field, format!("cpu.max: {value:?}")))).transpose()?.unwrap_or(100_000);
            property("CPUQuotaPerSecUSec", Value::U64(cpu_quota_per_second(quota, period).0))
        }
        _ => return Ok(None),
    }))
}

/// The device rules as `DevicePolicy=` and `DeviceAllow=`, and warnings for what systemd
/// cannot express. systemd's filter is only an outer bound: skiff's own (the eBPF program
/// or the v1 lists) still enforces the exact rules, as runc's does.
pub fn device_properties(rules: &[DeviceRule]) -> (Vec<Property>, Vec<String>) {
    let allow_type = Type::Struct(vec![Type::Str, Type::Str]);
    let (default_allow, exceptions) = devices::reduced(rules);
    let mut warnings = Vec::new();
    if default_allow {
        if exceptions.is_empty() {
            return (vec![property("DevicePolicy", Value::Str("auto".into())), property("DeviceAllow", Value::Array(allow_type, vec![]))], warnings);
        }
        warnings.push("systemd cannot express a deny list of devices: its unit allows none, skiff's own filter applies the rules".into());
        return (vec![property("DevicePolicy", Value::Str("strict".into())), property("DeviceAllow", Value::Array(allow_type, vec![]))], warnings);
    }
    let mut allowed = Vec::new();
    for exception in exceptions {
        let class = if exception.kind == DeviceKind::Block { "block" } else { "char" };
        let node = match (exception.major, exception.minor) {
            (None, None) => format!("{class}-*"),
            (Some(major), None) => format!("{class}-{major}"),
            (Some(major), Some(minor)) => format!("/dev/{class}/{major}:{minor}"),
            (None, Some(_)) => {
                warnings.push(format!("systemd cannot express the device rule {class} *:{}: left to skiff's own filter", exception.minor.unwrap_or(0)));
                continue;
            }
        };
        let access = exception.access;
        let text: String =
            [(Access::READ, 'r'), (Access::WRITE, 'w'), (Access::MKNOD, 'm')].iter().filter(|(a, _)| access.contains(*a)).map(|(_, c)| *c).collect();
        allowed.push(Value::Struct(vec![Value::Str(node), Value::Str(text)]));
    }
    (vec![property("DevicePolicy", Value::Str("strict".into())), property("DeviceAllow", Value::Array(allow_type, allowed))], warnings)
}

/// The leading number of systemd's version string (`252` of `252.38-1~deb12u1`, `245` of
/// `v245.4-1.fc32`); 0 when there is none.
pub fn parse_systemd_version(text: &str) -> u32 {
    let digits: String = text.trim_start_matches('v').chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// Leave out the properties `version` of systemd does not know (runc's gates): the cgroup
/// files still get those values. An unknown version (0) keeps everything.
pub fn supported_by(properties: Vec<Property>, version: u32) -> Vec<Property> {
    let since = |name: &str| match name {
        "CPUQuotaPeriodUSec" => 242,
        "AllowedCPUs" | "AllowedMemoryNodes" => 244,
        _ => 0,
    };
    properties.into_iter().filter(|(name, _)| version == 0 || version >= since(name)).collect()
}

/// The annotation prefix whose entries become unit properties (runc's).
pub const ANNOTATION_PREFIX: &str = "org.systemd.property.";

/// `org.systemd.property.NAME=VALUE` annotations as properties, as runc takes them: NAME of
/// at least three ASCII letters; VALUE in GVariant text form (see [`super::gvariant`]); a
/// name ending in a lowercase letter and `Sec` takes seconds and becomes `...USec`.
pub fn annotation_properties<'a>(annotations: impl Iterator<Item = (&'a String, &'a String)>) -> Result<Vec<Property>, CgroupError> {
    let mut properties = Vec::new();
    let mut entries: Vec<_> = annotations.filter(|(k, _)| k.starts_with(ANNOTATION_PREFIX)).collect();
    entries.sort();
    for (key, text) in entries {
        let name = &key[ANNOTATION_PREFIX.len()..];
        let field = "annotations";
        if name.len() < 3 || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(invalid(field, format!("{key}: the property name must be at least three ASCII letters")));
        }
        let value = super::gvariant::parse(text).map_err(|reason| invalid(field, format!("{key}={text:?}: {reason}")))?;
        let seconds = name.strip_suffix("Sec").filter(|stem| stem.bytes().last().is_some_and(|b| b.is_ascii_lowercase()));
        match seconds {
            Some(stem) => {
                let micros = super::gvariant::seconds_to_micros(&value).map_err(|reason| invalid(field, format!("{key}={text:?}: {reason}")))?;
                properties.push(property(&format!("{stem}USec"), Value::U64(micros)));
            }
            None => properties.push(property(name, value)),
        }
    }
    Ok(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(properties: &[Property]) -> Vec<&str> {
        properties.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn unit_properties_of_scopes_and_slices() {
        let scope = SystemdUnit { slice: "system.slice".into(), unit: "skiff-c1.scope".into(), name: "c1".into() };
        let properties = unit_properties(&scope, Layout::Unified);
        assert_eq!(
            names(&properties),
            ["Description", "Slice", "Delegate", "MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting", "DefaultDependencies"]
        );
        assert_eq!(properties[0].1, Value::Str("skiff container c1".into()));
        assert_eq!(properties[7].1, Value::Bool(false));
        let slice = SystemdUnit { slice: "a.slice".into(), unit: "a-b.slice".into(), name: "a-b.slice".into() };
        let properties = unit_properties(&slice, Layout::Hybrid);
        assert_eq!(names(&properties)[1..3], ["Wants", "MemoryAccounting"]);
        assert!(names(&properties).contains(&"BlockIOAccounting"));
        assert_eq!(pids_property(42).1, Value::Array(Type::U32, vec![Value::U32(42)]));
    }

    #[test]
    fn resources_as_runc_converts_them() {
        let resources: LinuxResources = serde_json::from_str(
            r#"{"memory": {"limit": 67108864, "reservation": 33554432, "swap": 134217728},
                "cpu": {"shares": 1024, "quota": 12345, "period": 100000, "cpus": "0-1,9", "mems": "0"},
                "pids": {"limit": 32}, "blockIO": {"weight": 500},
                "unified": {"memory.high": "50000000", "io.max": "ignored"}}"#,
        )
        .unwrap();
        let properties = resource_properties(&resources, Layout::Unified).unwrap();
        let get = |name: &str| properties.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(get("MemoryMax"), Some(Value::U64(67108864)));
        assert_eq!(get("MemoryLow"), Some(Value::U64(33554432)));
        assert_eq!(get("MemorySwapMax"), Some(Value::U64(134217728 - 67108864)));
        assert_eq!(get("CPUWeight"), Some(Value::U64(39)));
        assert_eq!(get("CPUQuotaPeriodUSec"), Some(Value::U64(100000)));
        assert_eq!(get("CPUQuotaPerSecUSec"), Some(Value::U64(130000)));
        assert_eq!(get("AllowedCPUs"), Some(Value::Array(Type::Byte, vec![Value::Byte(3), Value::Byte(2)])));
        assert_eq!(get("AllowedMemoryNodes"), Some(Value::Array(Type::Byte, vec![Value::Byte(1)])));
        assert_eq!(get("TasksMax"), Some(Value::U64(32)));
        assert_eq!(get("IOWeight"), Some(Value::U64(blkio_weight_to_io_weight(500))));
        assert_eq!(get("MemoryHigh"), Some(Value::U64(50000000)));
        assert_eq!(properties.len(), 11);
        let v1 = resource_properties(&resources, Layout::Hybrid).unwrap();
        assert_eq!(
            names(&v1),
            ["MemoryLimit", "CPUShares", "CPUQuotaPeriodUSec", "CPUQuotaPerSecUSec", "AllowedCPUs", "AllowedMemoryNodes", "TasksMax", "BlockIOWeight"]
        );
        let unlimited: LinuxResources = serde_json::from_str(r#"{"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}"#).unwrap();
        let properties = resource_properties(&unlimited, Layout::Unified).unwrap();
        assert!(properties.iter().all(|(_, v)| *v == Value::U64(INFINITY)), "{properties:?}");
        // runc 1.2+: TasksMax=0 does not exist, a limit of 0 is 1
        let zero: LinuxResources = serde_json::from_str(r#"{"pids": {"limit": 0}}"#).unwrap();
        assert_eq!(resource_properties(&zero, Layout::Unified).unwrap(), [("TasksMax".to_string(), Value::U64(1))]);
        let bad: LinuxResources = serde_json::from_str(r#"{"cpu": {"cpus": "3-1"}}"#).unwrap();
        assert!(resource_properties(&bad, Layout::Unified).is_err());
    }

    #[test]
    fn cpu_quota_rounds_up_to_ten_milliseconds_and_rewrites_the_quota() {
        assert_eq!(cpu_quota_per_second(50000, 100000), (500000, 50000));
        assert_eq!(cpu_quota_per_second(12345, 100000), (130000, 13000));
        assert_eq!(cpu_quota_per_second(1000, 0), (10000, 1000));
        assert_eq!(cpu_quota_per_second(-1, 100000).0, INFINITY);
        let resources: LinuxResources = serde_json::from_str(r#"{"cpu": {"quota": 12345, "period": 100000}}"#).unwrap();
        assert_eq!(round_cpu_quota(&resources).cpu().as_ref().unwrap().quota(), Some(13000));
    }

    #[test]
    fn systemd_versions_gate_properties() {
        assert_eq!(parse_systemd_version("252.38-1~deb12u1"), 252);
        assert_eq!(parse_systemd_version("v245.4-1.fc32"), 245);
        assert_eq!(parse_systemd_version("239"), 239);
        assert_eq!(parse_systemd_version(""), 0);
        let all = vec![property("CPUQuotaPeriodUSec", Value::U64(1)), property("AllowedCPUs", bytes(vec![1])), property("MemoryMax", Value::U64(1))];
        assert_eq!(names(&supported_by(all.clone(), 239)), ["MemoryMax"]);
        assert_eq!(names(&supported_by(all.clone(), 243)), ["CPUQuotaPeriodUSec", "MemoryMax"]);
        assert_eq!(supported_by(all.clone(), 252).len(), 3);
        assert_eq!(supported_by(all, 0).len(), 3);
    }

    #[test]
    fn cpu_masks() {
        assert_eq!(cpu_mask("0", "f").unwrap(), vec![1]);
        assert_eq!(cpu_mask("0-7,8", "f").unwrap(), vec![255, 1]);
        assert_eq!(cpu_mask(" 2 , 4-5 ", "f").unwrap(), vec![0b110100]);
        for bad in ["", "a", "1-", "5-2", "9000", "-1"] {
            assert!(cpu_mask(bad, "f").is_err(), "{bad}");
        }
    }

    #[test]
    fn devices_as_allow_lists() {
        let spec: oci_spec::runtime::Spec = serde_json::from_str(
            r#"{"ociVersion": "1.0.2", "linux": {"resources": {"devices": [
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"},
                {"allow": true, "type": "b", "major": 8, "access": "r"},
                {"allow": true, "type": "c", "minor": 5, "access": "r"}]}}}"#,
        )
        .unwrap();
        let (properties, warnings) = device_properties(&devices::effective_rules(&spec).unwrap());
        assert_eq!(properties[0].1, Value::Str("strict".into()));
        let Value::Array(_, allowed) = &properties[1].1 else { panic!("DeviceAllow is an array") };
        let pairs: Vec<(String, String)> = allowed
            .iter()
            .map(|v| match v {
                Value::Struct(f) => (f[0].as_str().unwrap().to_string(), f[1].as_str().unwrap().to_string()),
                _ => panic!("a struct"),
            })
            .collect();
        assert!(pairs.contains(&("/dev/char/10:200".into(), "rwm".into())), "{pairs:?}");
        assert!(pairs.contains(&("block-8".into(), "r".into())), "{pairs:?}");
        assert!(pairs.contains(&("char-*".into(), "m".into())), "runc's default c *:* m: {pairs:?}");
        assert!(pairs.contains(&("/dev/char/1:3".into(), "rwm".into())), "runc's default /dev/null: {pairs:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        let allow_all: oci_spec::runtime::Spec =
            serde_json::from_str(r#"{"ociVersion": "1.0.2", "linux": {"resources": {"devices": [{"allow": true, "access": "rwm"}]}}}"#).unwrap();
        let (properties, _) = device_properties(&devices::effective_rules(&allow_all).unwrap());
        assert_eq!(properties[0].1, Value::Str("auto".into()));
    }

    #[test]
    fn annotations_as_runc_takes_them() {
        let annotations: std::collections::BTreeMap<String, String> = [
            ("org.systemd.property.TimeoutStopSec", "uint64 5"),
            ("org.systemd.property.CollectMode", "'inactive-or-failed'"),
            ("org.systemd.property.CPUQuotaPeriodUSec", "@t 50000"),
            ("other.annotation", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let properties = annotation_properties(annotations.iter()).unwrap();
        assert_eq!(
            properties,
            vec![
                property("CPUQuotaPeriodUSec", Value::U64(50000)),
                property("CollectMode", Value::Str("inactive-or-failed".into())),
                property("TimeoutStopUSec", Value::U64(5_000_000)),
            ]
        );
        for (key, value) in [
            ("org.systemd.property.Ab", "true"),
            ("org.systemd.property.Mem_Max", "1"),
            ("org.systemd.property.MemoryMax", "uint64"),
            ("org.systemd.property.TimeoutStopSec", "'x'"),
        ] {
            let annotations = [(key.to_string(), value.to_string())];
            let error = annotation_properties(annotations.iter().map(|(k, v)| (k, v)));
            assert!(error.is_err(), "{key}={value}");
        }
    }
}
