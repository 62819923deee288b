//! `update_resources`, structure-aware: the bytes choose a `linux.resources` document of the
//! right shape (every field of `LinuxResources`, each present or not, of its JSON type),
//! with integers anywhere in their range or at the edges and strings free or from a short
//! list, so planning sees values that byte mutations of JSON text rarely reach (a 20-digit
//! number in place of `512`, a `/` inside a page size). The document is decoded as
//! `update --resources` decodes it, then checked as in `update_resources`.

#![no_main]

mod common;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// The JSON shape of a field.
enum Shape {
    I64,
    U64,
    U16,
    U32,
    Bool,
    Str,
    Access,
    DeviceType,
    Object(&'static [(&'static str, Shape)]),
    List(&'static Shape),
    Map(&'static Shape),
}

use Shape::*;

const DEVICE: Shape = Object(&[("allow", Bool), ("type", DeviceType), ("major", I64), ("minor", I64), ("access", Access)]);
const WEIGHT_DEVICE: Shape = Object(&[("major", I64), ("minor", I64), ("weight", U16), ("leafWeight", U16)]);
const THROTTLE_DEVICE: Shape = Object(&[("major", I64), ("minor", I64), ("rate", U64)]);
const HUGEPAGE: Shape = Object(&[("pageSize", Str), ("limit", I64)]);
const PRIORITY: Shape = Object(&[("name", Str), ("priority", U32)]);
const RDMA: Shape = Object(&[("hcaHandles", U32), ("hcaObjects", U32)]);
const RESOURCES: Shape = Object(&[
    ("devices", List(&DEVICE)),
    (
        "memory",
        Object(&[
            ("limit", I64),
            ("reservation", I64),
            ("swap", I64),
            ("kernel", I64),
            ("kernelTCP", I64),
            ("swappiness", U64),
            ("disableOOMKiller", Bool),
            ("useHierarchy", Bool),
            ("checkBeforeUpdate", Bool),
        ]),
    ),
    (
        "cpu",
        Object(&[
            ("shares", U64),
            ("quota", I64),
            ("idle", I64),
            ("burst", U64),
            ("period", U64),
            ("realtimeRuntime", I64),
            ("realtimePeriod", U64),
            ("cpus", Str),
            ("mems", Str),
        ]),
    ),
    ("pids", Object(&[("limit", I64)])),
    (
        "blockIO",
        Object(&[
            ("weight", U16),
            ("leafWeight", U16),
            ("weightDevice", List(&WEIGHT_DEVICE)),
            ("throttleReadBpsDevice", List(&THROTTLE_DEVICE)),
            ("throttleWriteBpsDevice", List(&THROTTLE_DEVICE)),
            ("throttleReadIOPSDevice", List(&THROTTLE_DEVICE)),
            ("throttleWriteIOPSDevice", List(&THROTTLE_DEVICE)),
        ]),
    ),
    ("hugepageLimits", List(&HUGEPAGE)),
    ("network", Object(&[("classID", U32), ("priorities", List(&PRIORITY))])),
    ("rdma", Map(&RDMA)),
    ("unified", Map(&Str)),
]);

const STRINGS: &[&str] = &[
    "",
    "0",
    "0-1",
    "0,1",
    "2MB",
    "1GB",
    "64KB",
    "max",
    "-1",
    "..",
    "/",
    "a/b",
    "mlx5_1",
    "eth0",
    "memory.high",
    "memory.max",
    "cpu.weight",
    "io.max",
    "pids.max",
    "cgroup.procs",
    "cgroup.type",
    "misc.max",
    "8:0 rbps=1048576",
];

fn signed(u: &mut Unstructured) -> Result<i64> {
    if u.arbitrary()? { u.choose(&[-2, -1, 0, 1, 2, 10, 1000, 1024, 262_144, i64::from(u32::MAX), i64::MAX, i64::MIN]).copied() } else { u.arbitrary() }
}

fn unsigned(u: &mut Unstructured) -> Result<u64> {
    if u.arbitrary()? { u.choose(&[0, 1, 2, 10, 1000, 1024, 262_144, 262_145, u64::from(u32::MAX), i64::MAX as u64, u64::MAX]).copied() } else { u.arbitrary() }
}

fn string(u: &mut Unstructured) -> Result<String> {
    if u.arbitrary()? { u.choose(STRINGS).map(|s| (*s).to_owned()) } else { u.arbitrary() }
}

fn value(u: &mut Unstructured, shape: &Shape) -> Result<Value> {
    Ok(match shape {
        I64 => json!(signed(u)?),
        U64 => json!(unsigned(u)?),
        U16 => json!(u.arbitrary::<u16>()?),
        U32 => json!(u.arbitrary::<u32>()?),
        Bool => json!(u.arbitrary::<bool>()?),
        Str => json!(string(u)?),
        Access => {
            json!(if u.arbitrary()? { u.choose(&["", "r", "w", "m", "rw", "rm", "wm", "rwm", "mwr", "rwmx"])?.to_string() } else { u.arbitrary::<String>()? })
        }
        DeviceType => json!(u.choose(&["a", "b", "c", "u", "p"])?),
        Object(fields) => {
            let mut object = Map::new();
            for (name, field) in *fields {
                if u.arbitrary()? {
                    object.insert((*name).to_owned(), value(u, field)?);
                }
            }
            Value::Object(object)
        }
        List(item) => {
            let n = u.int_in_range(0..=6)?;
            Value::Array((0..n).map(|_| value(u, item)).collect::<Result<_>>()?)
        }
        Map(item) => {
            let n = u.int_in_range(0..=4)?;
            let mut object = Map::new();
            for _ in 0..n {
                object.insert(string(u)?, value(u, item)?);
            }
            Value::Object(object)
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(document) = value(&mut u, &RESOURCES) else { return };
    // As `update --resources` decodes it: the document as text, then `LinuxResources`.
    let text = document.to_string();
    common::update_document(&text);
});
