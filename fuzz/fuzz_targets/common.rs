//! Checks shared by the targets: the pure cgroup planning that both `create` (from
//! config.json) and `update --resources` (from JSON on stdin) run on untrusted input, with
//! the properties their callers rely on asserted, so a violation is a crash like a panic.

use oci_spec::runtime::{Linux, LinuxResources, Spec};
use skiff::cgroups::devices::{self, BpfInsn};
use skiff::cgroups::resources::{self, Write};

/// A planned write is joined to the container's cgroup directory (`dir.join(file)`) and
/// opened: it must name a file of that directory, never a path out of it.
fn check_writes(writes: &[Write], layout: &str) {
    for w in writes {
        assert!(
            !w.file.is_empty() && !w.file.contains('/') && w.file != "." && w.file != "..",
            "{layout}: planned write to {:?} (controller {:?}, value {:?}) is not a file name inside the cgroup directory",
            w.file,
            w.controller,
            w.value
        );
    }
}

/// What `update --resources -` does with its JSON text: decode it, plan its writes, and run
/// its device rules as a spec's would be (update does not apply them, as with runc).
#[allow(dead_code)] // the config target shares this module without using it
pub fn update_document(text: &str) {
    let Ok(resources) = serde_json::from_str::<LinuxResources>(text) else { return };
    self::resources(&resources);
    if resources.devices().is_some() {
        let mut linux = Linux::default();
        linux.set_resources(Some(resources));
        let mut spec = Spec::default();
        spec.set_linux(Some(linux));
        device_rules(&spec);
    }
}

/// `linux.resources` mapped to cgroup v2 (with and without BFQ) and v1 writes, and the v1
/// memory ordering for a few current limits.
pub fn resources(r: &LinuxResources) {
    for has_bfq in [false, true] {
        if let Ok(writes) = resources::v2_writes(r, has_bfq) {
            check_writes(&writes, "cgroup v2");
        }
    }
    if let Ok(writes) = resources::v1_writes(r) {
        check_writes(&writes, "cgroup v1");
        for current in [0, 1 << 20, i64::MAX as u64, u64::MAX] {
            let mut ordered = writes.clone();
            resources::order_v1_memory(&mut ordered, current);
            assert_eq!(ordered.len(), writes.len());
        }
    }
}

// Opcodes build_program emits (linux/bpf.h), for the structural checks.
const ALU32_MOV_K: u8 = 0xb4;
const JMP_JNE_K: u8 = 0x55;
const JMP_JNE_X: u8 = 0x5d;
const JMP_EXIT: u8 = 0x95;

/// The structure the kernel verifier needs: forward jumps that land inside the program,
/// each exit preceded by `r0 = 0|1`, an exit last.
fn check_program(program: &[BpfInsn]) {
    let last = program.last().expect("device filter program is empty");
    assert_eq!(last.code(), JMP_EXIT, "device filter program does not end with exit");
    for (at, insn) in program.iter().enumerate() {
        if insn.code() == JMP_JNE_K || insn.code() == JMP_JNE_X {
            assert!(insn.off() >= 0, "device filter jump at {at} goes backwards");
            let dest = at + 1 + insn.off() as usize;
            assert!(dest < program.len(), "device filter jump at {at} lands outside the program ({} insns)", program.len());
        }
        if insn.code() == JMP_EXIT {
            assert!(at > 0, "device filter program starts with exit");
            let prev = program[at - 1];
            assert_eq!((prev.code(), prev.dst()), (ALU32_MOV_K, 0), "r0 not set right before exit at {at}");
            assert!(prev.imm() == 0 || prev.imm() == 1, "exit at {at} returns {}", prev.imm());
        }
    }
}

/// The device cgroup rules of `spec` (runc's conversion and emulator), as v1 writes and as
/// the v2 eBPF program.
pub fn device_rules(spec: &Spec) {
    let Ok(rules) = devices::effective_rules(spec) else { return };
    let writes = devices::v1_writes(&rules);
    assert!(writes.first().is_some_and(|(_, value)| value == "a *:* rwm"), "v1 device writes do not start with a reset: {writes:?}");
    check_program(&devices::build_program(&rules));
}
