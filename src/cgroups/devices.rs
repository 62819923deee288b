//! The device controller: which device nodes a container may open or create.
//!
//! Three steps, kept apart so the first two are pure:
//! 1. [`effective_rules`] turns a spec into the ordered rule list runc 1.1 would apply (the
//!    spec's `linux.resources.devices` followed by runc's built-in allowed devices).
//! 2. The rules are rendered for the hierarchy in use: [`v1_writes`] gives the
//!    `devices.allow`/`devices.deny` writes for cgroup v1, [`build_program`] an eBPF program of
//!    type `BPF_PROG_TYPE_CGROUP_DEVICE` for cgroup v2.
//! 3. [`attach_program`] loads that program and attaches it to a cgroup v2 directory.
//!
//! Both renderers share runc's semantics, which are those of the cgroup v1 kernel controller:
//! a rule of type `a` resets the cgroup to allow-all or deny-all; any other rule adds an
//! exception to that default or takes access away from an exception with exactly the same
//! type, major and minor. An access request is granted by the default unless one exception
//! covers its device and all of its access bits. runc 1.1 computes this state with an
//! "emulator" (`libcontainer/cgroups/devices/devices_emulator.go`) before rendering it, for
//! both v1 and v2; our `Emulator` is the equivalent.

use std::collections::BTreeMap;
use std::fmt;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType, Spec};

pub use crate::sys::bpf::{BpfInsn, DeviceFilterError, attach_program};

/// The device types a cgroup rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// `a`: every device. A rule of this kind ignores its numbers and access and resets the
    /// cgroup to allow-all (`allow: true`) or deny-all (`allow: false`).
    All,
    /// `c`: character devices.
    Char,
    /// `b`: block devices.
    Block,
}

impl DeviceKind {
    /// The letter the cgroup v1 interface uses.
    pub fn letter(self) -> char {
        match self {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }
}

/// A set of device access modes, in the spec's `rwm` terms.
///
/// The bit values are ours (`READ=1 WRITE=2 MKNOD=4`); the kernel's eBPF context uses a
/// different order, converted in [`build_program`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Access(u8);

impl Access {
    /// No access.
    pub const NONE: Access = Access(0);
    /// `r`: open for reading.
    pub const READ: Access = Access(1);
    /// `w`: open for writing.
    pub const WRITE: Access = Access(2);
    /// `m`: mknod.
    pub const MKNOD: Access = Access(4);
    /// `rwm`.
    pub const ALL: Access = Access(7);

    /// Parse a spec `access` string. Like runc, letters other than `r`, `w` and `m` are ignored.
    pub fn parse(access: &str) -> Access {
        access.chars().fold(Access::NONE, |set, c| match c {
            'r' => set.union(Access::READ),
            'w' => set.union(Access::WRITE),
            'm' => set.union(Access::MKNOD),
            _ => set,
        })
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Modes in either set.
    pub const fn union(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    /// Modes in `self` but not in `other`.
    pub const fn difference(self, other: Access) -> Access {
        Access(self.0 & !other.0)
    }

    /// Modes in both sets.
    pub const fn intersection(self, other: Access) -> Access {
        Access(self.0 & other.0)
    }

    /// Whether every mode of `other` is in `self`.
    pub const fn contains(self, other: Access) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Access {
    /// Always in `rwm` order, as the kernel prints `devices.list`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (mode, letter) in [(Access::READ, "r"), (Access::WRITE, "w"), (Access::MKNOD, "m")] {
            if self.contains(mode) {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// One device cgroup rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    /// Allow (`true`) or deny the access.
    pub allow: bool,
    /// Which devices.
    pub kind: DeviceKind,
    /// Major number; `None` matches any.
    pub major: Option<i64>,
    /// Minor number; `None` matches any.
    pub minor: Option<i64>,
    /// The access modes the rule is about.
    pub access: Access,
}

impl DeviceRule {
    const fn allow_char(major: Option<i64>, minor: Option<i64>, access: Access) -> DeviceRule {
        DeviceRule { allow: true, kind: DeviceKind::Char, major, minor, access }
    }
}

impl fmt::Display for DeviceRule {
    /// `allow c 1:3 rwm`: the action, then the rule in cgroup v1 syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = if self.allow { "allow" } else { "deny" };
        write!(f, "{action} {} {}", self.kind.letter(), v1_numbers(self.major, self.minor))?;
        write!(f, " {}", self.access)
    }
}

/// A spec rule list the device controller cannot apply.
#[derive(Debug, thiserror::Error)]
pub enum DeviceRuleError {
    /// `access` missing or empty (runc: "device access at N field cannot be empty").
    #[error("invalid linux.resources.devices[{index}]: empty access")]
    EmptyAccess {
        /// Position in `linux.resources.devices`.
        index: usize,
    },
    /// A type that is not `a`, `b` or `c`.
    #[error("invalid linux.resources.devices[{index}]: cgroup device type {kind:?} is not a, b or c")]
    InvalidType {
        /// Position in `linux.resources.devices`.
        index: usize,
        /// The type given.
        kind: &'static str,
    },
    /// A major or minor outside `0..u32::MAX` (and not the `-1` wildcard).
    #[error("invalid linux.resources.devices[{index}]: {field} {value} is out of range")]
    InvalidNumber {
        /// Position in `linux.resources.devices`.
        index: usize,
        /// `major` or `minor`.
        field: &'static str,
        /// The number given.
        value: i64,
    },
    /// A rule that would take access away from part of a wildcard exception. The v1 kernel
    /// controller silently ignores such a request; runc 1.1 refuses it ("cannot punch hole in
    /// existing wildcard rule") and so do we.
    #[error("apply device rule {index} ({rule}): cannot punch a hole in wildcard rule {wildcard}")]
    WildcardHole {
        /// Position in the effective rule list.
        index: usize,
        /// The offending rule.
        rule: String,
        /// The wildcard exception it overlaps, in cgroup v1 syntax.
        wildcard: String,
    },
}

/// The devices runc always allows, in runc's order, with the path of the node each one is
/// for (`None`: not tied to a node). Mirrors `AllowedDevices` in runc 1.1's
/// `libcontainer/specconv/spec_linux.go`.
const RUNC_ALLOWED_DEVICES: [(Option<&str>, DeviceRule); 11] = [
    // mknod of any character or block device
    (None, DeviceRule::allow_char(None, None, Access::MKNOD)),
    (None, DeviceRule { allow: true, kind: DeviceKind::Block, major: None, minor: None, access: Access::MKNOD }),
    (Some("/dev/null"), DeviceRule::allow_char(Some(1), Some(3), Access::ALL)),
    (Some("/dev/random"), DeviceRule::allow_char(Some(1), Some(8), Access::ALL)),
    (Some("/dev/full"), DeviceRule::allow_char(Some(1), Some(7), Access::ALL)),
    (Some("/dev/tty"), DeviceRule::allow_char(Some(5), Some(0), Access::ALL)),
    (Some("/dev/zero"), DeviceRule::allow_char(Some(1), Some(5), Access::ALL)),
    (Some("/dev/urandom"), DeviceRule::allow_char(Some(1), Some(9), Access::ALL)),
    // /dev/pts/*
    (None, DeviceRule::allow_char(Some(136), None, Access::ALL)),
    // /dev/ptmx
    (None, DeviceRule::allow_char(Some(5), Some(2), Access::ALL)),
    // /dev/net/tun
    (None, DeviceRule::allow_char(Some(10), Some(200), Access::ALL)),
];

/// The ordered rule list runc 1.1 gives a container's device cgroup.
///
/// Mirrors `CreateCgroupConfig` and `createDevices` in runc 1.1's
/// `libcontainer/specconv/spec_linux.go`:
/// 1. `linux.resources.devices` in spec order; a missing type means `a`, a missing (or `-1`)
///    major or minor means any;
/// 2. then runc's built-in allowed devices (`RUNC_ALLOWED_DEVICES`), except that an entry
///    tied to a node path is dropped when `linux.devices` lists the same path (runc lets the
///    spec's node replace its default node, and with it the default cgroup rule).
///
/// Entries of `linux.devices` add no cgroup rule of their own, as in runc: a config must
/// allow them in `linux.resources.devices`.
///
/// Pure, so it can run with the other spec checks before anything is created. Fails where
/// runc does: an empty access or a type other than `a`/`b`/`c` (runc's `CreateCgroupConfig`),
/// a major or minor outside `0..u32::MAX` other than the `-1` wildcard (refused by the v1
/// kernel and by runc's eBPF generator), or a rule that punches a hole into a wildcard
/// exception (runc's devices emulator); see [`DeviceRuleError`].
pub fn effective_rules(spec: &Spec) -> Result<Vec<DeviceRule>, DeviceRuleError> {
    let linux = spec.linux().as_ref();
    let spec_rules = linux.and_then(|l| l.resources().as_ref()).and_then(|r| r.devices().as_ref());
    let mut rules = Vec::new();
    for (index, rule) in spec_rules.into_iter().flatten().enumerate() {
        rules.push(convert_spec_rule(index, rule)?);
    }

    let spec_nodes = linux.and_then(|l| l.devices().as_ref());
    let replaced = |path: &str| spec_nodes.into_iter().flatten().any(|d| d.path().as_os_str() == path);
    rules.extend(RUNC_ALLOWED_DEVICES.iter().filter(|(path, _)| !path.is_some_and(replaced)).map(|(_, rule)| rule.clone()));

    let mut emulator = Emulator::new();
    for (index, rule) in rules.iter().enumerate() {
        emulator.apply(rule).map_err(|hole| DeviceRuleError::WildcardHole { index, rule: rule.to_string(), wildcard: hole.to_string() })?;
    }
    Ok(rules)
}

/// Convert one `linux.resources.devices` entry the way runc's `CreateCgroupConfig` does.
fn convert_spec_rule(index: usize, rule: &LinuxDeviceCgroup) -> Result<DeviceRule, DeviceRuleError> {
    let kind = match rule.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => DeviceKind::All,
        LinuxDeviceType::B => DeviceKind::Block,
        LinuxDeviceType::C => DeviceKind::Char,
        LinuxDeviceType::U => return Err(DeviceRuleError::InvalidType { index, kind: "u" }),
        LinuxDeviceType::P => return Err(DeviceRuleError::InvalidType { index, kind: "p" }),
    };
    let access = match rule.access().as_deref() {
        None | Some("") => return Err(DeviceRuleError::EmptyAccess { index }),
        Some(access) => Access::parse(access),
    };
    let number = |field: &'static str, value: Option<i64>| match value {
        // runc stores "absent" as -1, so an explicit -1 is a wildcard too.
        None | Some(-1) => Ok(None),
        // u32::MAX itself is the v1 kernel's wildcard (`~0`): it would grant every device.
        Some(n) if (0..i64::from(u32::MAX)).contains(&n) => Ok(Some(n)),
        Some(value) => Err(DeviceRuleError::InvalidNumber { index, field, value }),
    };
    Ok(DeviceRule { allow: rule.allow(), kind, major: number("major", rule.major())?, minor: number("minor", rule.minor())?, access })
}

/// The device a concrete (non-`a`) exception is about. Field order gives runc's sort order:
/// major, then minor (wildcards first), then type (`b` before `c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    major: Option<i64>,
    minor: Option<i64>,
    kind: NodeKind,
}

/// `b` or `c`; ordered as runc sorts the type letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NodeKind {
    Block,
    Char,
}

impl NodeKind {
    fn letter(self) -> char {
        match self {
            NodeKind::Block => 'b',
            NodeKind::Char => 'c',
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.letter(), v1_numbers(self.major, self.minor))
    }
}

/// A wildcard exception that a rule tried to take access away from in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hole {
    wildcard: Target,
    access: Access,
}

impl fmt::Display for Hole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.wildcard, self.access)
    }
}

/// The state of a device cgroup after a sequence of rules, as the v1 kernel controller keeps
/// it: a default and exceptions to it. Our counterpart of runc 1.1's `devices.Emulator`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Emulator {
    /// Allow-all with deny exceptions (`true`), or deny-all with allow exceptions.
    default_allow: bool,
    /// Exceptions, iterated in runc's sort order.
    exceptions: BTreeMap<Target, Access>,
}

impl Emulator {
    /// runc builds its target state from an empty deny-all cgroup.
    fn new() -> Emulator {
        Emulator { default_allow: false, exceptions: BTreeMap::new() }
    }

    /// The state after `rules`. A rule that punches a hole into a wildcard exception is applied
    /// as the v1 kernel would (only an exception with the very same device loses access);
    /// [`effective_rules`] refuses such rule lists.
    fn from_rules(rules: &[DeviceRule]) -> Emulator {
        let mut emulator = Emulator::new();
        for rule in rules {
            // A hole only matters to effective_rules, which refuses it; the state is updated
            // either way.
            let _ = emulator.apply(rule);
        }
        emulator
    }

    /// Apply one rule. `Err` means it tried to punch a hole into a wildcard exception; the
    /// exception with exactly its device has still lost the access, as in the kernel.
    fn apply(&mut self, rule: &DeviceRule) -> Result<(), Hole> {
        let kind = match rule.kind {
            DeviceKind::All => {
                self.default_allow = rule.allow;
                self.exceptions.clear();
                return Ok(());
            }
            DeviceKind::Block => NodeKind::Block,
            DeviceKind::Char => NodeKind::Char,
        };
        let target = Target { major: rule.major, minor: rule.minor, kind };
        if rule.allow == self.default_allow {
            self.remove_access(target, rule.access)
        } else {
            if !rule.access.is_empty() {
                let access = self.exceptions.entry(target).or_default();
                *access = access.union(rule.access);
            }
            Ok(())
        }
    }

    /// Take `access` away from the exception for `target` (the kernel matches exactly), and
    /// report if a broader wildcard exception still grants part of it.
    fn remove_access(&mut self, target: Target, access: Access) -> Result<(), Hole> {
        let hole = [Target { major: None, ..target }, Target { minor: None, ..target }, Target { major: None, minor: None, ..target }]
            .into_iter()
            .filter(|wildcard| *wildcard != target)
            .find_map(|wildcard| {
                let granted = self.exceptions.get(&wildcard).copied().unwrap_or_default();
                (!granted.intersection(access).is_empty()).then_some(Hole { wildcard, access: granted })
            });

        if let Some(existing) = self.exceptions.get_mut(&target) {
            *existing = existing.difference(access);
            if existing.is_empty() {
                self.exceptions.remove(&target);
            }
        }
        hole.map_or(Ok(()), Err)
    }
}

/// `1:3`, `136:*`, `*:*`.
fn v1_numbers(major: Option<i64>, minor: Option<i64>) -> String {
    let number = |n: Option<i64>| n.map_or_else(|| "*".to_owned(), |n| n.to_string());
    format!("{}:{}", number(major), number(minor))
}

/// The cgroup v1 file that adds allow exceptions (or, in allow-all mode, removes deny ones).
pub const V1_ALLOW_FILE: &str = "devices.allow";
/// The cgroup v1 file that adds deny exceptions (or, in deny-all mode, removes allow ones).
pub const V1_DENY_FILE: &str = "devices.deny";

/// An exception to the default of a reduced rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceException {
    /// [`DeviceKind::Char`] or [`DeviceKind::Block`].
    pub kind: DeviceKind,
    /// Major number; `None` for any.
    pub major: Option<i64>,
    /// Minor number; `None` for any.
    pub minor: Option<i64>,
    /// The access the exception grants (or takes away).
    pub access: Access,
}

/// The rules reduced as the kernel would hold them: whether the default is allow-all, and
/// the exceptions in runc's order (for drivers that take an allow list, such as systemd's
/// `DeviceAllow=`).
pub fn reduced(rules: &[DeviceRule]) -> (bool, Vec<DeviceException>) {
    let emulator = Emulator::from_rules(rules);
    let exceptions = emulator
        .exceptions
        .iter()
        .map(|(target, access)| DeviceException {
            kind: match target.kind {
                NodeKind::Block => DeviceKind::Block,
                NodeKind::Char => DeviceKind::Char,
            },
            major: target.major,
            minor: target.minor,
            access: *access,
        })
        .collect();
    (emulator.default_allow, exceptions)
}

/// The writes that put a cgroup v1 devices directory into the state `rules` describe, in
/// order, as `(file, value)` pairs such as `("devices.allow", "c 1:3 rwm")`.
///
/// The spec applies the entries in order, so they are written in order: first a reset to
/// deny-all (`a *:* rwm` to `devices.deny`; a new cgroup starts from its parent's allow-all,
/// and runc's emulator, like ours, starts from deny-all), then each rule to `devices.allow` or
/// `devices.deny`. The kernel appends a new exception at the end of `devices.list`, so the
/// list shows the devices in the order the config names them. The end state is the one the
/// emulator computes: the kernel merges and subtracts access per device as it does, and the
/// one case where they differ, a deny inside a wildcard exception, is refused by
/// [`effective_rules`] before anything is written. (runc 1.1+ writes the same state, but only
/// the difference from the current one, sorted by device.)
pub fn v1_writes(rules: &[DeviceRule]) -> Vec<(&'static str, String)> {
    // A leading `a` rule is a reset of its own.
    let starts_with_reset = rules.first().is_some_and(|rule| rule.kind == DeviceKind::All);
    let mut writes = if starts_with_reset { Vec::new() } else { vec![(V1_DENY_FILE, "a *:* rwm".to_owned())] };
    // An `a` rule resets whatever its access says (in the kernel as in the emulator), so it
    // is written as the full reset; other rules without access change nothing.
    writes.extend(rules.iter().filter(|rule| rule.kind == DeviceKind::All || !rule.access.is_empty()).map(|rule| {
        let file = if rule.allow { V1_ALLOW_FILE } else { V1_DENY_FILE };
        let value = match rule.kind {
            DeviceKind::All => "a *:* rwm".to_owned(),
            _ => format!("{} {} {}", rule.kind.letter(), v1_numbers(rule.major, rule.minor), rule.access),
        };
        (file, value)
    }));
    writes
}

// Opcodes (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K: u8 = 0x54; // w_dst &= imm
const ALU32_RSH_K: u8 = 0x74; // w_dst >>= imm
const ALU32_MOV_K: u8 = 0xb4; // w_dst = imm
const ALU32_MOV_X: u8 = 0xbc; // w_dst = w_src
const JMP_JNE_K: u8 = 0x55; // if dst != imm goto +off
const JMP_JNE_X: u8 = 0x5d; // if dst != src goto +off
const JMP_EXIT: u8 = 0x95;

// Registers.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

// struct bpf_cgroup_dev_ctx (linux/bpf.h): access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*.
const BPF_DEVCG_ACC_MKNOD: i32 = 1;
const BPF_DEVCG_ACC_READ: i32 = 2;
const BPF_DEVCG_ACC_WRITE: i32 = 4;
const BPF_DEVCG_DEV_BLOCK: i32 = 1;
const BPF_DEVCG_DEV_CHAR: i32 = 2;

/// Our access set in the kernel's `BPF_DEVCG_ACC_*` bits.
fn devcg_access(access: Access) -> i32 {
    [(Access::READ, BPF_DEVCG_ACC_READ), (Access::WRITE, BPF_DEVCG_ACC_WRITE), (Access::MKNOD, BPF_DEVCG_ACC_MKNOD)]
        .into_iter()
        .filter(|(mode, _)| access.contains(*mode))
        .fold(0, |bits, (_, bit)| bits | bit)
}

/// How a rule number is compared: `Some(None)` for a wildcard (no check), `Some(Some(imm))`
/// for a number, `None` for a number no device can have (the rule never matches).
///
/// Like runc, the comparison is a 64-bit one against the zero-extended context field, so a
/// number above `i32::MAX` (which no real device has, majors being 12 bits and minors 20)
/// never matches either.
fn number_imm(n: Option<i64>) -> Option<Option<i32>> {
    match n {
        None => Some(None),
        Some(n) => u32::try_from(n).ok().map(|n| Some(i32::from_ne_bytes(n.to_ne_bytes()))),
    }
}

/// The `BPF_PROG_TYPE_CGROUP_DEVICE` program enforcing `rules` on cgroup v2.
///
/// Mirrors runc 1.1's `libcontainer/cgroups/ebpf/devicefilter/devicefilter.go`: the rules are
/// first reduced to a default plus exceptions (as on cgroup v1), then compiled to one block
/// per exception, each returning the opposite of the default when the request's type,
/// access, major and minor all match; the last block returns the default. Registers hold:
/// r2 = type, r3 = access, r4 = major, r5 = minor; r1 is scratch once they are loaded.
/// A request matches an exception only if all its access bits are in it, as on cgroup v1.
pub fn build_program(rules: &[DeviceRule]) -> Vec<BpfInsn> {
    let emulator = Emulator::from_rules(rules);
    let mut insns = vec![
        BpfInsn::new(LDX_MEM_W, R2, R1, 0, 0),
        BpfInsn::new(ALU32_AND_K, R2, 0, 0, 0xffff),
        BpfInsn::new(LDX_MEM_W, R3, R1, 0, 0),
        BpfInsn::new(ALU32_RSH_K, R3, 0, 0, 16),
        BpfInsn::new(LDX_MEM_W, R4, R1, 4, 0),
        BpfInsn::new(LDX_MEM_W, R5, R1, 8, 0),
    ];
    let verdict = |allow: bool| [BpfInsn::new(ALU32_MOV_K, R0, 0, 0, i32::from(allow)), BpfInsn::new(JMP_EXIT, 0, 0, 0, 0)];

    for (target, access) in &emulator.exceptions {
        // An exception for numbers no device can have never matches, so it needs no block.
        let (Some(major), Some(minor)) = (number_imm(target.major), number_imm(target.minor)) else { continue };
        let kind = match target.kind {
            NodeKind::Block => BPF_DEVCG_DEV_BLOCK,
            NodeKind::Char => BPF_DEVCG_DEV_CHAR,
        };

        // Conditional jumps to the next block; their offsets are patched once its start is known.
        let mut skips = vec![insns.len()];
        insns.push(BpfInsn::new(JMP_JNE_K, R2, 0, 0, kind));
        if *access != Access::ALL {
            // if ((r3 & access) != r3) the request wants a mode the exception lacks
            insns.push(BpfInsn::new(ALU32_MOV_X, R1, R3, 0, 0));
            insns.push(BpfInsn::new(ALU32_AND_K, R1, 0, 0, devcg_access(*access)));
            skips.push(insns.len());
            insns.push(BpfInsn::new(JMP_JNE_X, R1, R3, 0, 0));
        }
        for (reg, imm) in [(R4, major), (R5, minor)] {
            if let Some(imm) = imm {
                skips.push(insns.len());
                insns.push(BpfInsn::new(JMP_JNE_K, reg, 0, 0, imm));
            }
        }
        insns.extend(verdict(!emulator.default_allow));

        let next = insns.len();
        for at in skips {
            // A block is at most 9 instructions, so the distance always fits.
            insns[at].set_off(i16::try_from(next - at - 1).unwrap_or(i16::MAX));
        }
    }
    insns.extend(verdict(emulator.default_allow));
    insns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::bpf::{attach, load_program, query_attached};
    use nix::errno::Errno;
    use nix::fcntl::OFlag;
    use std::path::PathBuf;

    fn spec_from(value: serde_json::Value) -> Spec {
        serde_json::from_value(value).expect("test spec parses")
    }

    fn default_spec() -> Spec {
        spec_from(crate::default_spec::default_spec())
    }

    fn rule(allow: bool, kind: DeviceKind, major: Option<i64>, minor: Option<i64>, access: &str) -> DeviceRule {
        DeviceRule { allow, kind, major, minor, access: Access::parse(access) }
    }

    fn deny_all() -> DeviceRule {
        rule(false, DeviceKind::All, None, None, "rwm")
    }

    fn allow_all() -> DeviceRule {
        rule(true, DeviceKind::All, None, None, "rwm")
    }

    fn with_devices(resources: serde_json::Value, nodes: serde_json::Value) -> Spec {
        let mut spec = crate::default_spec::default_spec();
        spec["linux"]["resources"]["devices"] = resources;
        spec["linux"]["devices"] = nodes;
        spec_from(spec)
    }

    #[test]
    fn access_parses_and_prints_in_rwm_order() {
        assert_eq!(Access::parse("mwr"), Access::ALL);
        assert_eq!(Access::parse("mr").to_string(), "rm");
        assert_eq!(Access::parse("xyz"), Access::NONE);
        assert_eq!(Access::parse("w"), Access::WRITE);
    }

    #[test]
    fn runc_spec_default_gives_deny_all_then_runc_defaults() {
        let rules = effective_rules(&default_spec()).expect("default spec is valid");
        let text: Vec<String> = rules.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "deny a *:* rwm",
                "allow c *:* m",
                "allow b *:* m",
                "allow c 1:3 rwm",
                "allow c 1:8 rwm",
                "allow c 1:7 rwm",
                "allow c 5:0 rwm",
                "allow c 1:5 rwm",
                "allow c 1:9 rwm",
                "allow c 136:* rwm",
                "allow c 5:2 rwm",
                "allow c 10:200 rwm",
            ]
        );
    }

    #[test]
    fn spec_without_linux_gets_only_runc_defaults() {
        let mut spec = crate::default_spec::default_spec();
        spec.as_object_mut().expect("object").remove("linux");
        let rules = effective_rules(&spec_from(spec)).expect("valid");
        assert_eq!(rules.len(), RUNC_ALLOWED_DEVICES.len());
        assert!(rules.iter().all(|r| r.allow));
    }

    #[test]
    fn spec_node_with_default_path_drops_only_that_default_and_adds_nothing() {
        let spec = with_devices(
            serde_json::json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "b", "major": 8, "access": "r"}
            ]),
            serde_json::json!([
                {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
                {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}
            ]),
        );
        let rules = effective_rules(&spec).expect("valid");
        assert_eq!(rules[1], rule(true, DeviceKind::Block, Some(8), None, "r"));
        assert!(!rules.iter().any(|r| r.major == Some(1) && r.minor == Some(3)));
        assert!(!rules.iter().any(|r| r.major == Some(8) && r.minor == Some(0)));
        assert_eq!(rules.len(), 2 + RUNC_ALLOWED_DEVICES.len() - 1);
    }

    #[test]
    fn spec_rule_conversion_follows_runc() {
        let spec = with_devices(serde_json::json!([{"allow": true, "type": "c", "major": -1, "minor": 7, "access": "rw"}]), serde_json::json!([]));
        assert_eq!(effective_rules(&spec).expect("valid")[0], rule(true, DeviceKind::Char, None, Some(7), "rw"));

        let bad = |resources| effective_rules(&with_devices(resources, serde_json::json!([]))).unwrap_err();
        assert!(matches!(bad(serde_json::json!([{"allow": false}])), DeviceRuleError::EmptyAccess { index: 0 }));
        assert!(matches!(
            bad(serde_json::json!([{"allow": false, "access": "rwm"}, {"allow": true, "type": "p", "access": "r"}])),
            DeviceRuleError::InvalidType { index: 1, kind: "p" }
        ));
        assert!(matches!(
            bad(serde_json::json!([{"allow": true, "type": "c", "major": -4, "access": "r"}])),
            DeviceRuleError::InvalidNumber { index: 0, field: "major", value: -4 }
        ));
        // u32::MAX is the v1 kernel's own wildcard: refused, not silently widened.
        assert!(matches!(
            bad(serde_json::json!([{"allow": true, "type": "c", "major": 4294967295u64, "minor": 1, "access": "r"}])),
            DeviceRuleError::InvalidNumber { index: 0, field: "major", value: 4294967295 }
        ));
    }

    #[test]
    fn wildcard_hole_is_refused_like_runc() {
        // Allow-all, deny reads on every char device, then runc's default "allow c 1:3 rwm"
        // would have to punch a hole in the wildcard deny.
        let spec = with_devices(serde_json::json!([{"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "access": "r"}]), serde_json::json!([]));
        let err = effective_rules(&spec).unwrap_err();
        assert_eq!(err.to_string(), "apply device rule 4 (allow c 1:3 rwm): cannot punch a hole in wildcard rule c *:* r");
    }

    #[test]
    fn v1_writes_for_runc_spec_default() {
        let rules = effective_rules(&default_spec()).expect("valid");
        let writes = v1_writes(&rules);
        let writes: Vec<(&str, &str)> = writes.iter().map(|(f, v)| (*f, v.as_str())).collect();
        assert_eq!(
            writes,
            [
                ("devices.deny", "a *:* rwm"),
                ("devices.allow", "c *:* m"),
                ("devices.allow", "b *:* m"),
                ("devices.allow", "c 1:3 rwm"),
                ("devices.allow", "c 1:8 rwm"),
                ("devices.allow", "c 1:7 rwm"),
                ("devices.allow", "c 5:0 rwm"),
                ("devices.allow", "c 1:5 rwm"),
                ("devices.allow", "c 1:9 rwm"),
                ("devices.allow", "c 136:* rwm"),
                ("devices.allow", "c 5:2 rwm"),
                ("devices.allow", "c 10:200 rwm"),
            ]
        );
    }

    /// Rules the kernel must merge (4:1), subtract from (4:2) and empty (4:3) per device.
    fn merging_rules() -> Vec<DeviceRule> {
        let char_rule = |allow, minor, access| rule(allow, DeviceKind::Char, Some(4), Some(minor), access);
        vec![
            deny_all(),
            char_rule(true, 1, "r"),
            char_rule(true, 2, "rwm"),
            char_rule(true, 1, "w"),
            char_rule(false, 2, "m"),
            char_rule(true, 3, "r"),
            char_rule(false, 3, "r"),
        ]
    }

    #[test]
    fn v1_writes_merge_subtract_and_reset() {
        let char_rule = |allow, major, minor, access| rule(allow, DeviceKind::Char, major, minor, access);
        // Written as listed (the kernel merges and subtracts per device as the emulator does).
        assert_eq!(
            v1_writes(&merging_rules()),
            [
                ("devices.deny", "a *:* rwm".to_owned()),
                ("devices.allow", "c 4:1 r".to_owned()),
                ("devices.allow", "c 4:2 rwm".to_owned()),
                ("devices.allow", "c 4:1 w".to_owned()),
                ("devices.deny", "c 4:2 m".to_owned()),
                ("devices.allow", "c 4:3 r".to_owned()),
                ("devices.deny", "c 4:3 r".to_owned()),
            ]
        );
        // Allow-all mode: exceptions go to devices.deny; a later "a" rule resets everything.
        let rules = [allow_all(), char_rule(false, Some(4), None, "w")];
        assert_eq!(v1_writes(&rules), [("devices.allow", "a *:* rwm".to_owned()), ("devices.deny", "c 4:* w".to_owned())]);
        let rules = [allow_all(), char_rule(false, Some(4), None, "w"), deny_all()];
        assert_eq!(
            v1_writes(&rules),
            [("devices.allow", "a *:* rwm".to_owned()), ("devices.deny", "c 4:* w".to_owned()), ("devices.deny", "a *:* rwm".to_owned())]
        );
        // An `a` rule is a full reset whatever access it names.
        let partial_reset = [rule(true, DeviceKind::All, None, None, "r"), char_rule(false, Some(4), None, "w")];
        assert_eq!(v1_writes(&partial_reset), [("devices.allow", "a *:* rwm".to_owned()), ("devices.deny", "c 4:* w".to_owned())]);
        // Rules that do not start with a reset get one: the emulator starts from deny-all.
        assert_eq!(v1_writes(&[char_rule(true, Some(4), Some(1), "r")]), [("devices.deny", "a *:* rwm".to_owned()), ("devices.allow", "c 4:1 r".to_owned())]);
        // No rules at all: runc's emulator starts from deny-all.
        assert_eq!(v1_writes(&[]), [("devices.deny", "a *:* rwm".to_owned())]);
    }

    /// Structural checks every generated program must pass.
    fn assert_well_formed(program: &[BpfInsn]) {
        let last = program.last().expect("non-empty program");
        assert_eq!(last.code(), JMP_EXIT, "program ends with exit");
        for (at, insn) in program.iter().enumerate() {
            if insn.code() == JMP_JNE_K || insn.code() == JMP_JNE_X {
                assert!(insn.off() >= 0, "jump at {at} goes backwards");
                let dest = at + 1 + usize::try_from(insn.off()).expect("non-negative");
                assert!(dest < program.len(), "jump at {at} lands outside the program");
            }
            if insn.code() == JMP_EXIT {
                let prev = program[at.checked_sub(1).expect("exit is not first")];
                assert_eq!((prev.code(), prev.dst()), (ALU32_MOV_K, R0), "r0 set right before exit at {at}");
                assert!(prev.imm() == 0 || prev.imm() == 1);
            }
        }
    }

    #[test]
    fn program_for_deny_all_plus_null() {
        let rules = [deny_all(), rule(true, DeviceKind::Char, Some(1), Some(3), "rwm")];
        let program = build_program(&rules);
        assert_well_formed(&program);
        let expected = [
            BpfInsn::new(LDX_MEM_W, R2, R1, 0, 0),
            BpfInsn::new(ALU32_AND_K, R2, 0, 0, 0xffff),
            BpfInsn::new(LDX_MEM_W, R3, R1, 0, 0),
            BpfInsn::new(ALU32_RSH_K, R3, 0, 0, 16),
            BpfInsn::new(LDX_MEM_W, R4, R1, 4, 0),
            BpfInsn::new(LDX_MEM_W, R5, R1, 8, 0),
            // c 1:3 rwm: no access check needed
            BpfInsn::new(JMP_JNE_K, R2, 0, 4, BPF_DEVCG_DEV_CHAR),
            BpfInsn::new(JMP_JNE_K, R4, 0, 3, 1),
            BpfInsn::new(JMP_JNE_K, R5, 0, 2, 3),
            BpfInsn::new(ALU32_MOV_K, R0, 0, 0, 1),
            BpfInsn::new(JMP_EXIT, 0, 0, 0, 0),
            // default: deny
            BpfInsn::new(ALU32_MOV_K, R0, 0, 0, 0),
            BpfInsn::new(JMP_EXIT, 0, 0, 0, 0),
        ];
        assert_eq!(program, expected);
        assert_eq!((expected[7].dst(), expected[7].src()), (R4, 0));
        assert_eq!((expected[0].dst(), expected[0].src()), (R2, R1));
    }

    #[test]
    fn program_checks_access_in_kernel_bit_order() {
        let program = build_program(&[deny_all(), rule(true, DeviceKind::Block, Some(8), None, "rm")]);
        assert_well_formed(&program);
        let block = &program[6..];
        assert_eq!(block[0], BpfInsn::new(JMP_JNE_K, R2, 0, 6, BPF_DEVCG_DEV_BLOCK));
        assert_eq!(block[1], BpfInsn::new(ALU32_MOV_X, R1, R3, 0, 0));
        assert_eq!(block[2], BpfInsn::new(ALU32_AND_K, R1, 0, 0, BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_MKNOD));
        assert_eq!(block[3], BpfInsn::new(JMP_JNE_X, R1, R3, 3, 0));
        assert_eq!(block[4], BpfInsn::new(JMP_JNE_K, R4, 0, 2, 8));
        assert_eq!(devcg_access(Access::WRITE), 4);
        assert_eq!(devcg_access(Access::MKNOD), 1);
    }

    #[test]
    fn allow_all_program_denies_exceptions_and_allows_by_default() {
        let program = build_program(&[allow_all(), rule(false, DeviceKind::Char, Some(10), Some(200), "rwm")]);
        assert_well_formed(&program);
        assert_eq!(program[program.len() - 2], BpfInsn::new(ALU32_MOV_K, R0, 0, 0, 1));
        assert_eq!(program[program.len() - 4], BpfInsn::new(ALU32_MOV_K, R0, 0, 0, 0));
    }

    /// Run `program` on a device request, with just the instructions `build_program` emits.
    fn run(program: &[BpfInsn], kind: i32, access: i32, major: u32, minor: u32) -> u64 {
        let ctx = [u32::try_from((access << 16) | kind).expect("fits"), major, minor];
        let mut regs = [0u64; 11];
        let mut pc = 0;
        loop {
            let insn = program[pc];
            let (dst, src) = (usize::from(insn.dst()), usize::from(insn.src()));
            let imm64 = i64::from(insn.imm()) as u64;
            pc += 1;
            match insn.code() {
                LDX_MEM_W => {
                    assert_eq!(src, 1, "loads only from the context");
                    regs[dst] = u64::from(ctx[usize::try_from(insn.off()).expect("offset") / 4]);
                }
                ALU32_AND_K => regs[dst] = (regs[dst] as u32 & insn.imm() as u32).into(),
                ALU32_RSH_K => regs[dst] = (regs[dst] as u32 >> insn.imm()).into(),
                ALU32_MOV_K => regs[dst] = u64::from(insn.imm() as u32),
                ALU32_MOV_X => regs[dst] = u64::from(regs[src] as u32),
                JMP_JNE_K if regs[dst] != imm64 => pc += usize::try_from(insn.off()).expect("forward"),
                JMP_JNE_X if regs[dst] != regs[src] => pc += usize::try_from(insn.off()).expect("forward"),
                JMP_JNE_K | JMP_JNE_X => {}
                JMP_EXIT => return regs[0],
                code => panic!("unexpected opcode {code:#x}"),
            }
        }
    }

    /// What the emulated v1 state says about a request.
    fn expected(emulator: &Emulator, kind: NodeKind, access: Access, major: i64, minor: i64) -> bool {
        let covered = emulator
            .exceptions
            .iter()
            .any(|(t, granted)| t.kind == kind && t.major.is_none_or(|m| m == major) && t.minor.is_none_or(|m| m == minor) && granted.contains(access));
        covered != emulator.default_allow
    }

    #[test]
    fn program_agrees_with_emulated_v1_state() {
        let char_rule = |allow, major, minor, access| rule(allow, DeviceKind::Char, major, minor, access);
        let mut rule_sets = vec![effective_rules(&default_spec()).expect("valid")];
        rule_sets.push(vec![
            allow_all(),
            char_rule(false, Some(1), Some(3), "w"),
            char_rule(false, Some(5), None, "rwm"),
            rule(false, DeviceKind::Block, None, None, "m"),
        ]);
        rule_sets.push(vec![
            deny_all(),
            char_rule(true, Some(1), None, "r"),
            char_rule(true, Some(1), Some(3), "w"),
            rule(true, DeviceKind::Block, Some(8), Some(0), "rw"),
            char_rule(true, Some(7), Some(7), "rwm"),
            char_rule(false, Some(7), Some(7), "w"),
        ]);
        let accesses = [Access::READ, Access::WRITE, Access::MKNOD, Access::parse("rw"), Access::ALL];
        for rules in rule_sets {
            let program = build_program(&rules);
            assert_well_formed(&program);
            let emulator = Emulator::from_rules(&rules);
            for (kind, bpf_kind) in [(NodeKind::Char, BPF_DEVCG_DEV_CHAR), (NodeKind::Block, BPF_DEVCG_DEV_BLOCK)] {
                for access in accesses {
                    for major in [0u32, 1, 5, 7, 8, 10, 136, 4095] {
                        for minor in [0u32, 2, 3, 5, 7, 200, 1 << 19] {
                            let want = expected(&emulator, kind, access, major.into(), minor.into());
                            let got = run(&program, bpf_kind, devcg_access(access), major, minor);
                            assert_eq!(got, u64::from(want), "{kind:?} {major}:{minor} {access} under {rules:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn runc_defaults_grant_what_runc_grants() {
        let program = build_program(&effective_rules(&default_spec()).expect("valid"));
        let rw = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
        assert_eq!(run(&program, BPF_DEVCG_DEV_CHAR, rw, 1, 3), 1, "/dev/null");
        assert_eq!(run(&program, BPF_DEVCG_DEV_CHAR, rw, 136, 12), 1, "/dev/pts/12");
        assert_eq!(run(&program, BPF_DEVCG_DEV_CHAR, BPF_DEVCG_ACC_READ, 1, 11), 0, "/dev/kmsg");
        assert_eq!(run(&program, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_MKNOD, 8, 0), 1, "mknod sda");
        assert_eq!(run(&program, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_ACC_READ, 8, 0), 0, "read sda");
    }

    #[test]
    fn emulator_matches_the_kernel_on_exact_removal() {
        // Denying 1:* does not touch the narrower 1:3 exception (v1 removes exact matches only).
        let char_rule = |allow, major, minor, access| rule(allow, DeviceKind::Char, major, minor, access);
        let rules = [deny_all(), char_rule(true, Some(1), Some(3), "r"), char_rule(false, Some(1), None, "r")];
        let emulator = Emulator::from_rules(&rules);
        assert_eq!(emulator.exceptions.len(), 1);
        // The reverse order punches a hole: refused by apply, exact exception still reduced.
        let mut emulator = Emulator::new();
        emulator.apply(&char_rule(true, Some(1), None, "r")).expect("add");
        emulator.apply(&char_rule(true, Some(1), Some(3), "rw")).expect("add");
        let hole = emulator.apply(&char_rule(false, Some(1), Some(3), "r")).unwrap_err();
        assert_eq!(hole.to_string(), "c 1:* r");
        assert_eq!(emulator.exceptions.get(&Target { major: Some(1), minor: Some(3), kind: NodeKind::Char }), Some(&Access::WRITE));
    }

    #[test]
    fn load_error_names_the_step_and_keeps_the_log() {
        let err = DeviceFilterError::Load { log: "0: (95) exit\nR0 !read_ok\n".to_owned(), errno: Errno::EACCES };
        assert_eq!(err.to_string(), "load device filter bpf program (verifier log: 0: (95) exit\nR0 !read_ok)");
        assert_eq!(err.errno(), Some(Errno::EACCES));
        let err = DeviceFilterError::Open { path: PathBuf::from("/sys/fs/cgroup/x"), errno: Errno::ENOENT };
        assert_eq!(err.to_string(), "open cgroup directory /sys/fs/cgroup/x");
    }

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    #[test]
    fn as_root_the_verifier_accepts_generated_programs() {
        assert!(is_root(), "loading bpf programs needs root: run the tests as root (make test does)");
        let programs = [
            build_program(&effective_rules(&default_spec()).expect("valid")),
            build_program(&[deny_all()]),
            build_program(&[allow_all(), rule(false, DeviceKind::Block, Some(8), None, "w")]),
        ];
        for program in programs {
            if let Err(err) = load_program(&program) {
                panic!("{err}: {:?}", err.errno());
            }
        }
    }

    #[test]
    fn as_root_a_verifier_rejection_is_reported_with_its_log() {
        assert!(is_root(), "loading bpf programs needs root: run the tests as root (make test does)");
        // Exit without setting r0.
        let err = load_program(&[BpfInsn::new(JMP_EXIT, 0, 0, 0, 0)]).unwrap_err();
        assert!(matches!(err, DeviceFilterError::Load { errno: Errno::EACCES, .. }), "{err:?}");
        assert!(err.to_string().contains("R0"), "{err}");
    }

    /// The cgroup v2 mount point, if any.
    fn cgroup2_mount() -> Option<PathBuf> {
        let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
        mounts.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            (fields.get(2) == Some(&"cgroup2")).then(|| PathBuf::from(fields[1]))
        })
    }

    /// A scratch cgroup v2 directory, removed on drop.
    struct ScratchCgroup(PathBuf);

    impl Drop for ScratchCgroup {
        fn drop(&mut self) {
            if let Err(err) = std::fs::remove_dir(&self.0) {
                eprintln!("remove {}: {err}", self.0.display());
            }
        }
    }

    /// Needs root and a cgroup2 mount (hybrid here, unified in the VM): makes a scratch cgroup.
    #[test]
    fn as_root_attach_replaces_the_old_filter_and_enforces_the_rules() {
        assert!(nix::unistd::geteuid().is_root(), "this test attaches BPF programs and must run as root (make test does)");
        let root = cgroup2_mount().expect("a cgroup2 mount is needed for the BPF device filter test");
        let dir = root.join(format!("skiff-devices-test-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("create scratch cgroup");
        let scratch = ScratchCgroup(dir);
        let dir_fd = crate::sys::open_fd(&scratch.0, OFlag::O_DIRECTORY | OFlag::O_RDONLY, "open scratch cgroup").expect("open scratch cgroup");

        // First an allow-all filter, then the runc default: one replaces the other.
        attach_program(&scratch.0, &build_program(&[allow_all()])).expect("attach allow-all");
        let first = query_attached(&dir_fd, &scratch.0).expect("query");
        assert_eq!(first.len(), 1);
        let program = build_program(&effective_rules(&default_spec()).expect("valid"));
        attach_program(&scratch.0, &program).expect("attach default");
        let second = query_attached(&dir_fd, &scratch.0).expect("query");
        assert_eq!(second.len(), 1);
        assert_ne!(first, second);

        // And two old filters (attached by hand) are both detached.
        let extra = load_program(&program).expect("load");
        attach(&dir_fd, &extra, None).expect("attach extra");
        assert_eq!(query_attached(&dir_fd, &scratch.0).expect("query").len(), 2);
        attach_program(&scratch.0, &program).expect("attach over two");
        assert_eq!(query_attached(&dir_fd, &scratch.0).expect("query").len(), 1);

        // A shell in the cgroup may open /dev/null but not /dev/kmsg (c 1:11).
        let procs = scratch.0.join("cgroup.procs");
        let script = format!("echo $$ > {} || exit 9; head -c0 /dev/null || exit 10; head -c0 /dev/kmsg 2>&- && exit 11; exit 0", procs.display());
        let status = std::process::Command::new("/bin/sh").arg("-c").arg(script).status().expect("run sh");
        assert_eq!(status.code(), Some(0), "10: /dev/null denied, 11: /dev/kmsg allowed");
    }

    /// The cgroup v1 devices mount point, if any.
    fn devices_v1_mount() -> Option<PathBuf> {
        let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
        mounts.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let options = fields.get(3)?;
            (fields.get(2) == Some(&"cgroup") && options.split(',').any(|o| o == "devices")).then(|| PathBuf::from(fields[1]))
        })
    }

    /// Needs root and the v1 devices hierarchy (this host; not in the cgroup v2 VM, where the
    /// v2 test above covers the rules): makes a scratch cgroup.
    #[test]
    fn as_root_v1_writes_give_the_expected_devices_list() {
        assert!(nix::unistd::geteuid().is_root(), "this test writes cgroup files and must run as root (make test does)");
        let root = devices_v1_mount().expect("the cgroup v1 devices hierarchy is needed for this test");
        let dir = root.join(format!("skiff-devices-test-{}", std::process::id()));
        std::fs::create_dir(&dir).expect("create scratch cgroup");
        let scratch = ScratchCgroup(dir);
        let writes = v1_writes(&effective_rules(&default_spec()).expect("valid"));
        for (file, value) in &writes {
            std::fs::write(scratch.0.join(file), value).unwrap_or_else(|e| panic!("write {value} to {file}: {e}"));
        }
        // In the config's order, as a runtime applying the entries in order leaves it.
        let list = std::fs::read_to_string(scratch.0.join("devices.list")).expect("read devices.list");
        let listed: Vec<&str> = list.lines().collect();
        let wanted: Vec<&str> = writes[1..].iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(listed, wanted);
        // Merged and subtracted per device by the kernel, as the emulator computes.
        for (file, value) in &v1_writes(&merging_rules()) {
            std::fs::write(scratch.0.join(file), value).unwrap_or_else(|e| panic!("write {value} to {file}: {e}"));
        }
        let list = std::fs::read_to_string(scratch.0.join("devices.list")).expect("read devices.list");
        assert_eq!(list.lines().collect::<Vec<_>>(), ["c 4:1 rw", "c 4:2 rw"]);
    }
}
