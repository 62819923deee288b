//! The -ENOSYS prelude: syscalls newer than a profile return ENOSYS instead of its default
//! action.
//!
//! A profile lists the syscalls its author knew. A denying default (ERRNO, KILL, TRAP) also
//! hits syscalls added to the kernel later, and a program that probes a new call (clone3,
//! openat2, close_range) then sees EPERM where it expects ENOSYS, the answer that makes it
//! fall back to the old call. runc therefore prepends a few instructions to libseccomp's
//! program; skiff does the same, with runc's rule: per architecture the profile lists, a
//! syscall number above the largest one the profile names for it returns ENOSYS. On x86-64
//! the x32 ABI (bit 30 of the number) is compared with its own largest number.
//!
//! The prelude only reads `seccomp_data.arch` and `.nr` and jumps into the original program
//! (which starts by loading the architecture again), so libseccomp's program is untouched.

use libseccomp::{ScmpArch, ScmpSyscall};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction};

/// `SECCOMP_RET_ERRNO | ENOSYS`.
const RET_ENOSYS: u32 = 0x0005_0000 | libc::ENOSYS as u32;
/// The x32 ABI's marker in a syscall number on x86-64 (`__X32_SYSCALL_BIT`).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Classic BPF opcodes (linux/bpf_common.h) and seccomp_data offsets (linux/seccomp.h).
const LD_W_ABS: u16 = 0x20;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGT_K: u16 = 0x25;
const JMP_JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// `AUDIT_ARCH_X86_64`, the one architecture with two syscall tables told apart by the number.
const X86_64: u32 = 0xC000_003E;

/// The kernel's `AUDIT_ARCH_*` for the architectures a prelude is made for (linux/audit.h:
/// the ELF machine, `__AUDIT_ARCH_64BIT`, `__AUDIT_ARCH_LE`). x32 shares x86-64's.
fn audit_arch(arch: ScmpArch) -> Option<u32> {
    Some(match arch {
        ScmpArch::X86 => 0x4000_0003,
        ScmpArch::X8664 | ScmpArch::X32 => X86_64,
        ScmpArch::Arm => 0x4000_0028,
        ScmpArch::Aarch64 => 0xC000_00B7,
        ScmpArch::Riscv64 => 0xC000_00F3,
        ScmpArch::Ppc64Le => 0xC000_0015,
        ScmpArch::Ppc64 => 0x8000_0015,
        ScmpArch::Loongarch64 => 0xC000_0102,
        // s390 multiplexes unknown numbers through syscall 0 and the MIPS ABIs share one
        // audit value between several tables: no prelude, the profile's default applies.
        _ => return None,
    })
}

/// The largest syscall numbers the profile names, per kernel architecture: `native` for the
/// architecture's own ABI and `x32` for x86-64's x32 ABI.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Largest {
    native: Option<u32>,
    x32: Option<u32>,
}

/// Whether the profile gets a prelude: not when its default already allows (a future
/// syscall is allowed anyway) or already returns ENOSYS.
fn wanted(profile: &LinuxSeccomp) -> bool {
    match profile.default_action() {
        LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog | LinuxSeccompAction::ScmpActTrace => false,
        LinuxSeccompAction::ScmpActErrno => profile.default_errno_ret() != Some(libc::ENOSYS as u32),
        _ => true,
    }
}

/// Per architecture listed in the profile, the largest number among the syscalls it names.
fn largest_numbers(profile: &LinuxSeccomp) -> Vec<(u32, Largest)> {
    let mut found: Vec<(u32, Largest)> = Vec::new();
    for listed in profile.architectures().as_deref().unwrap_or_default() {
        let Ok(mut arch) = listed.to_string().parse::<ScmpArch>() else { continue };
        if arch == ScmpArch::Native {
            arch = ScmpArch::native();
        }
        let Some(audit) = audit_arch(arch) else { continue };
        let largest = profile
            .syscalls()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .flat_map(|rule| rule.names())
            // Names this architecture does not have resolve to libseccomp's negative
            // pseudo-numbers, or fail: neither is a real number.
            .filter_map(|name| ScmpSyscall::from_name_by_arch(name, arch).ok())
            .filter_map(|syscall| u32::try_from(syscall.as_raw_syscall()).ok())
            .max();
        let Some(largest) = largest else { continue };
        let index = match found.iter().position(|(known, _)| *known == audit) {
            Some(index) => index,
            None => {
                found.push((audit, Largest::default()));
                found.len() - 1
            }
        };
        let entry = &mut found[index].1;
        if arch == ScmpArch::X32 { entry.x32 = Some(largest) } else { entry.native = Some(largest) }
    }
    found
}

/// One instruction whose jumps name absolute targets until [`assemble`] makes them relative.
struct Step {
    code: u16,
    k: u32,
    jump_true: usize,
    jump_false: usize,
}

/// The prelude for `profile`, as `struct sock_filter` bytes to put before libseccomp's
/// program, or nothing when the profile needs none.
pub fn prelude(profile: &LinuxSeccomp) -> Vec<u8> {
    if !wanted(profile) {
        return Vec::new();
    }
    let architectures = largest_numbers(profile);
    if architectures.is_empty() {
        return Vec::new();
    }
    // The layout: `ld arch`, then per architecture `jeq arch` (else the next one), `ld nr`
    // and its comparisons, then `ret ENOSYS`; the original program follows at `filter`.
    let sections: Vec<(u32, Largest, bool)> = architectures.into_iter().map(|(audit, largest)| (audit, largest, audit == X86_64)).collect();
    let lengths: Vec<usize> = sections.iter().map(|(_, largest, x86_64)| 2 + comparisons(largest, *x86_64)).collect();
    let enosys = 1 + lengths.iter().sum::<usize>();
    let filter = enosys + 1;
    let mut steps = vec![Step { code: LD_W_ABS, k: OFFSET_ARCH, jump_true: 0, jump_false: 0 }];
    for ((audit, largest, x86_64), length) in sections.iter().zip(&lengths) {
        let start = steps.len();
        let next = start + length;
        // The last section's "next" is `ret ENOSYS`: an architecture not listed must reach
        // the original program instead.
        let next = if next == enosys { filter } else { next };
        steps.push(Step { code: JMP_JEQ_K, k: *audit, jump_true: start + 1, jump_false: next });
        steps.push(Step { code: LD_W_ABS, k: OFFSET_NR, jump_true: 0, jump_false: 0 });
        if *x86_64 {
            // jset x32 → the x32 comparison (or the program), else the native one.
            let here = steps.len();
            let native_at = here + 1;
            let x32_at = native_at + usize::from(largest.native.is_some());
            steps.push(Step {
                code: JMP_JSET_K,
                k: X32_SYSCALL_BIT,
                jump_true: if largest.x32.is_some() { x32_at } else { filter },
                jump_false: if largest.native.is_some() { native_at } else { filter },
            });
            for largest in [largest.native, largest.x32].into_iter().flatten() {
                steps.push(Step { code: JMP_JGT_K, k: largest, jump_true: enosys, jump_false: filter });
            }
        } else if let Some(largest) = largest.native {
            steps.push(Step { code: JMP_JGT_K, k: largest, jump_true: enosys, jump_false: filter });
        }
        debug_assert_eq!(steps.len(), start + length);
    }
    steps.push(Step { code: RET_K, k: RET_ENOSYS, jump_true: 0, jump_false: 0 });
    assemble(&steps)
}

/// Comparisons after `ld nr` in an architecture's section.
fn comparisons(largest: &Largest, x86_64: bool) -> usize {
    if x86_64 { 1 + usize::from(largest.native.is_some()) + usize::from(largest.x32.is_some()) } else { usize::from(largest.native.is_some()) }
}

/// Relative jumps, 8 bytes per instruction in host byte order. Invariant: the prelude has at
/// most one section of at most five instructions per architecture in [`audit_arch`] (eight),
/// so every forward jump fits the 8-bit offsets.
fn assemble(steps: &[Step]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(steps.len() * 8);
    for (pc, step) in steps.iter().enumerate() {
        let relative = |target: usize| if step.code == LD_W_ABS || step.code == RET_K { 0 } else { (target - pc - 1) as u8 };
        bytes.extend_from_slice(&step.code.to_ne_bytes());
        bytes.push(relative(step.jump_true));
        bytes.push(relative(step.jump_false));
        bytes.extend_from_slice(&step.k.to_ne_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: u32 = 0x4000_0003;
    const AARCH64: u32 = 0xC000_00B7;
    const ALLOW: u32 = 0x7fff_0000;
    const EPERM: u32 = 0x0005_0000 | libc::EPERM as u32;

    /// Runs a classic BPF program over a `seccomp_data` with the given architecture and
    /// number and zero arguments: the subset of instructions libseccomp and the prelude use.
    fn run(program: &[u8], arch: u32, nr: u32) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        let (mut pc, mut accumulator) = (0usize, 0u32);
        loop {
            let insn = &program[pc * 8..pc * 8 + 8];
            let code = u16::from_ne_bytes([insn[0], insn[1]]);
            let (jt, jf) = (insn[2] as usize, insn[3] as usize);
            let k = u32::from_ne_bytes([insn[4], insn[5], insn[6], insn[7]]);
            pc += 1;
            let taken = match code {
                0x20 => {
                    accumulator = u32::from_ne_bytes(data[k as usize..k as usize + 4].try_into().unwrap());
                    continue;
                }
                0x54 => {
                    accumulator &= k;
                    continue;
                }
                0x06 => return k,
                0x05 => {
                    pc += k as usize;
                    continue;
                }
                0x15 => accumulator == k,
                0x25 => accumulator > k,
                0x35 => accumulator >= k,
                0x45 => accumulator & k != 0,
                other => panic!("instruction {other:#x} at {} is not interpreted", pc - 1),
            };
            pc += if taken { jt } else { jf };
        }
    }

    fn profile(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    fn compiled(json: &str) -> (Vec<u8>, Vec<u8>) {
        let profile = profile(json);
        let program = crate::seccomp::compile(&profile, &crate::trace::Silent).unwrap().bpf;
        let prelude = prelude(&profile);
        assert!(program.starts_with(&prelude));
        (program[prelude.len()..].to_vec(), program)
    }

    const PROFILE: &str = r#"{"defaultAction":"SCMP_ACT_ERRNO",
        "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
        "syscalls":[{"names":["read","write","getpid","kcmp"],"action":"SCMP_ACT_ALLOW"},
                    {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#;

    #[test]
    fn numbers_above_the_profiles_largest_return_enosys_per_architecture_and_abi() {
        let (_, program) = compiled(PROFILE);
        // x86-64: kcmp is 312; x32: 0x40000000 | 312; i386: kcmp is 349.
        assert_eq!(run(&program, X86_64, 1), ALLOW);
        assert_eq!(run(&program, X86_64, 83), 0x0005_0000 | 18);
        assert_eq!(run(&program, X86_64, 100), EPERM);
        assert_eq!(run(&program, X86_64, 312), ALLOW);
        assert_eq!(run(&program, X86_64, 313), RET_ENOSYS);
        assert_eq!(run(&program, X86_64, 1000), RET_ENOSYS);
        assert_eq!(run(&program, X86_64, X32_SYSCALL_BIT | 1), ALLOW);
        assert_eq!(run(&program, X86_64, X32_SYSCALL_BIT | 100), EPERM);
        assert_eq!(run(&program, X86_64, X32_SYSCALL_BIT | 1000), RET_ENOSYS);
        assert_eq!(run(&program, X86, 20), ALLOW);
        assert_eq!(run(&program, X86, 340), EPERM);
        assert_eq!(run(&program, X86, 349), ALLOW);
        assert_eq!(run(&program, X86, 350), RET_ENOSYS);
    }

    #[test]
    fn below_the_largest_number_and_for_other_architectures_the_program_decides() {
        for json in [
            PROFILE,
            r#"{"defaultAction":"SCMP_ACT_KILL","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["read","exit"],"action":"SCMP_ACT_ALLOW"}]}"#,
        ] {
            let (original, program) = compiled(json);
            let largest = |arch: u32, nr: u32| match arch {
                // Without SCMP_ARCH_X32 in the profile, x32 numbers go to the program.
                X86_64 if nr & X32_SYSCALL_BIT != 0 && json == PROFILE => 312 | X32_SYSCALL_BIT,
                X86_64 if nr & X32_SYSCALL_BIT != 0 => u32::MAX,
                X86_64 if json == PROFILE => 312,
                X86_64 => 60,
                X86 => 349,
                _ => u32::MAX,
            };
            for arch in [X86_64, X86, AARCH64] {
                for nr in [0, 1, 2, 20, 59, 60, 61, 83, 311, 312, 313, 349, 350, 435, 1000, X32_SYSCALL_BIT | 5, X32_SYSCALL_BIT | 313] {
                    let expected = if nr > largest(arch, nr) && (arch != X86 || json == PROFILE) { RET_ENOSYS } else { run(&original, arch, nr) };
                    assert_eq!(run(&program, arch, nr), expected, "arch {arch:#x} nr {nr}: {json}");
                }
            }
        }
    }

    #[test]
    fn no_prelude_where_the_default_allows_or_already_says_enosys_or_no_architecture_is_listed() {
        for json in [
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
            r#"{"defaultAction":"SCMP_ACT_LOG","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
        ] {
            assert!(prelude(&profile(json)).is_empty(), "{json}");
        }
        // SCMP_ARCH_NATIVE stands for this machine's architecture.
        let native =
            profile(r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_NATIVE"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#);
        assert!(!prelude(&native).is_empty());
    }
}
