//! The bpf(2) calls of the cgroup v2 device filter: load a `BPF_PROG_TYPE_CGROUP_DEVICE`
//! program, query, attach (replacing the previous one) and detach it. The program itself is
//! built in `cgroups/devices.rs`.

use std::ffi::c_void;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::check;

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpfInsn {
    code: u8,
    /// Destination register in the low 4 bits, source register in the high 4 bits.
    regs: u8,
    off: i16,
    imm: i32,
}

const _: () = assert!(size_of::<BpfInsn>() == 8);

impl BpfInsn {
    /// An instruction from its fields.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
        BpfInsn { code, regs: (src << 4) | (dst & 0x0f), off, imm }
    }

    /// The opcode.
    pub const fn code(&self) -> u8 {
        self.code
    }

    /// The destination register.
    pub const fn dst(&self) -> u8 {
        self.regs & 0x0f
    }

    /// The source register.
    pub const fn src(&self) -> u8 {
        self.regs >> 4
    }

    /// The offset (jump distance, or memory offset).
    pub const fn off(&self) -> i16 {
        self.off
    }

    /// Set the offset (a forward jump patched once its target is known).
    pub fn set_off(&mut self, off: i16) {
        self.off = off;
    }

    /// The immediate.
    pub const fn imm(&self) -> i32 {
        self.imm
    }
}

/// A failed step of loading or attaching the device filter.
#[derive(Debug, thiserror::Error)]
pub enum DeviceFilterError {
    /// The program has more instructions than `bpf(2)` can take.
    #[error("load device filter bpf program: {insns} instructions are too many")]
    TooLarge {
        /// The instruction count.
        insns: usize,
    },
    /// `BPF_PROG_LOAD` failed; `log` is the verifier's output (may be empty).
    #[error("load device filter bpf program{}", verifier_log_suffix(.log))]
    Load {
        /// The verifier log from a second, logging attempt.
        log: String,
        /// What the first attempt returned.
        #[source]
        errno: Errno,
    },
    /// Opening the cgroup directory failed.
    #[error("open cgroup directory {}", .path.display())]
    Open {
        /// The cgroup directory.
        path: PathBuf,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// `BPF_PROG_QUERY` for the programs already attached failed.
    #[error("query device filter programs attached to {}", .path.display())]
    Query {
        /// The cgroup directory.
        path: PathBuf,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// The attached programs kept changing while they were being listed.
    #[error("query device filter programs attached to {}: list keeps changing", .path.display())]
    QueryUnstable {
        /// The cgroup directory.
        path: PathBuf,
    },
    /// `BPF_PROG_GET_FD_BY_ID` for an attached program failed.
    #[error("open bpf program {id} attached to {}", .path.display())]
    GetProgram {
        /// The cgroup directory.
        path: PathBuf,
        /// The program id.
        id: u32,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// `BPF_PROG_ATTACH` failed.
    #[error("attach device filter program to {}", .path.display())]
    Attach {
        /// The cgroup directory.
        path: PathBuf,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// `BPF_PROG_DETACH` of a program from an earlier run failed.
    #[error("detach old device filter program {id} from {}", .path.display())]
    Detach {
        /// The cgroup directory.
        path: PathBuf,
        /// The program id.
        id: u32,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
}

impl DeviceFilterError {
    /// The errno behind the failure, if a system call failed.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            DeviceFilterError::TooLarge { .. } | DeviceFilterError::QueryUnstable { .. } => None,
            DeviceFilterError::Load { errno, .. }
            | DeviceFilterError::Open { errno, .. }
            | DeviceFilterError::Query { errno, .. }
            | DeviceFilterError::GetProgram { errno, .. }
            | DeviceFilterError::Attach { errno, .. }
            | DeviceFilterError::Detach { errno, .. } => Some(*errno),
        }
    }
}

fn verifier_log_suffix(log: &str) -> String {
    let log = log.trim_end();
    if log.is_empty() { String::new() } else { format!(" (verifier log: {log})") }
}

// bpf(2) commands, program and attach types, flags (linux/bpf.h).
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 1 << 1;
const BPF_F_REPLACE: u32 = 1 << 2;

/// The license the program is loaded under.
const LICENSE: &[u8] = b"GPL\0";
/// Shown by `bpftool prog`; the kernel allows letters, digits, `_` and `.`.
const PROGRAM_NAME: &[u8] = b"skiff_devices";
/// Size of the verifier log buffer for the second, logging load attempt.
const VERIFIER_LOG_SIZE: usize = 64 * 1024;
/// How often to re-list attached programs when their number changes underneath (as runc).
const QUERY_ATTEMPTS: usize = 10;

/// The `BPF_PROG_LOAD` part of `union bpf_attr`, up to `expected_attach_type`. The kernel
/// treats the rest of its (larger) union as zero.
#[repr(C)]
#[derive(Debug, Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The `BPF_PROG_ATTACH`/`BPF_PROG_DETACH` part of `union bpf_attr`.
#[repr(C)]
#[derive(Debug, Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// The `BPF_PROG_QUERY` part of `union bpf_attr`, up to `prog_cnt` (padding made explicit).
#[repr(C)]
#[derive(Debug, Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    pad: u32,
}

/// The `BPF_PROG_GET_FD_BY_ID` part of `union bpf_attr`.
#[repr(C)]
#[derive(Debug, Default)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

// Offsets and sizes checked against linux/bpf.h; no implicit padding the kernel could read.
const _: () = assert!(size_of::<ProgLoadAttr>() == 72);
const _: () = assert!(std::mem::offset_of!(ProgLoadAttr, expected_attach_type) == 68);
const _: () = assert!(size_of::<ProgAttachAttr>() == 20);
const _: () = assert!(size_of::<ProgQueryAttr>() == 32);
const _: () = assert!(std::mem::offset_of!(ProgQueryAttr, prog_cnt) == 24);
const _: () = assert!(size_of::<GetFdByIdAttr>() == 12);

/// Call `bpf(cmd, attr, sizeof attr)`.
///
/// # Safety
/// `attr` must be the attribute struct the kernel expects for `cmd`, and every address stored
/// in it must point to memory valid for the access the kernel makes during the call.
unsafe fn sys_bpf<T>(cmd: libc::c_int, attr: &mut T) -> nix::Result<libc::c_long> {
    let attr_ptr: *mut T = attr;
    // SAFETY: the caller guarantees `attr` matches `cmd` and its addresses are valid; the size
    // passed is that of `*attr`, which the kernel reads (and may write) within.
    check(unsafe { libc::syscall(libc::SYS_bpf, cmd, attr_ptr.cast::<c_void>(), size_of::<T>()) })
}

/// Take ownership of the fd a successful `bpf(2)` call returned.
fn owned_fd(ret: libc::c_long) -> OwnedFd {
    // SAFETY: `ret` is a new fd the kernel just returned to us (fds fit in an int), owned by
    // nobody else.
    unsafe { OwnedFd::from_raw_fd(ret as RawFd) }
}

/// An fd as the `u32` the `bpf_attr` fields take.
fn attr_fd(fd: &OwnedFd) -> u32 {
    u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX)
}

/// One `BPF_PROG_LOAD` attempt, with a verifier log buffer if `log` is given.
fn load_once(program: &[BpfInsn], insn_cnt: u32, log: Option<&mut [u8]>) -> nix::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt,
        insns: program.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        ..ProgLoadAttr::default()
    };
    attr.prog_name[..PROGRAM_NAME.len()].copy_from_slice(PROGRAM_NAME);
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = u32::try_from(log.len()).unwrap_or(u32::MAX);
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    // SAFETY: a BPF_PROG_LOAD attr; `insns` points to `insn_cnt` instructions laid out as
    // struct bpf_insn, `license` to a NUL-terminated string, and `log_buf` (if set) to a
    // writable buffer of `log_size` bytes; all outlive the call.
    let ret = unsafe { sys_bpf(BPF_PROG_LOAD, &mut attr) }?;
    Ok(owned_fd(ret))
}

/// Load `program`. Only if that fails, load it again with a verifier log to report.
pub(crate) fn load_program(program: &[BpfInsn]) -> Result<OwnedFd, DeviceFilterError> {
    let insn_cnt = u32::try_from(program.len()).map_err(|_| DeviceFilterError::TooLarge { insns: program.len() })?;
    let errno = match load_once(program, insn_cnt, None) {
        Ok(fd) => return Ok(fd),
        Err(errno) => errno,
    };
    let mut log = vec![0u8; VERIFIER_LOG_SIZE];
    if let Ok(fd) = load_once(program, insn_cnt, Some(&mut log)) {
        return Ok(fd);
    }
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    Err(DeviceFilterError::Load { log: String::from_utf8_lossy(&log[..end]).into_owned(), errno })
}

/// The ids of the device programs attached directly to `dir`.
pub(crate) fn query_attached(dir: &OwnedFd, path: &Path) -> Result<Vec<u32>, DeviceFilterError> {
    let mut capacity = 64;
    for _ in 0..QUERY_ATTEMPTS {
        let mut ids = vec![0u32; capacity];
        let mut attr = ProgQueryAttr {
            target_fd: attr_fd(dir),
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: u32::try_from(ids.len()).unwrap_or(u32::MAX),
            ..ProgQueryAttr::default()
        };
        // SAFETY: a BPF_PROG_QUERY attr; `prog_ids` points to `prog_cnt` writable u32s that
        // outlive the call.
        let ret = unsafe { sys_bpf(BPF_PROG_QUERY, &mut attr) };
        let count = usize::try_from(attr.prog_cnt).unwrap_or(usize::MAX);
        match ret {
            Ok(_) => {
                ids.truncate(count);
                return Ok(ids);
            }
            // The buffer was too small; the kernel has stored the real count.
            Err(Errno::ENOSPC) => capacity = count,
            Err(errno) => return Err(DeviceFilterError::Query { path: path.to_owned(), errno }),
        }
    }
    Err(DeviceFilterError::QueryUnstable { path: path.to_owned() })
}

/// Open the program with `id`; `None` if it is gone or we may not touch it.
pub(crate) fn open_program(id: u32, path: &Path) -> Result<Option<OwnedFd>, DeviceFilterError> {
    let mut attr = GetFdByIdAttr { prog_id: id, ..GetFdByIdAttr::default() };
    // SAFETY: a BPF_PROG_GET_FD_BY_ID attr; it holds no addresses.
    match unsafe { sys_bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) } {
        Ok(ret) => Ok(Some(owned_fd(ret))),
        // runc skips programs an LSM keeps from it: extra device programs can only restrict
        // further. A program that vanished since the query needs no detaching either.
        Err(Errno::EPERM | Errno::EACCES | Errno::ENOENT) => Ok(None),
        Err(errno) => Err(DeviceFilterError::GetProgram { path: path.to_owned(), id, errno }),
    }
}

/// `BPF_PROG_ATTACH` (or, for `replace`, `BPF_F_REPLACE` of that program) of `program` to `dir`.
pub(crate) fn attach(dir: &OwnedFd, program: &OwnedFd, replace: Option<&OwnedFd>) -> nix::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: attr_fd(dir),
        attach_bpf_fd: attr_fd(program),
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    if let Some(old) = replace {
        attr.attach_flags |= BPF_F_REPLACE;
        attr.replace_bpf_fd = attr_fd(old);
    }
    // SAFETY: a BPF_PROG_ATTACH attr; it holds only fds, no addresses.
    unsafe { sys_bpf(BPF_PROG_ATTACH, &mut attr) }.map(drop)
}

/// `BPF_PROG_DETACH` of `program` from `dir`.
pub(crate) fn detach(dir: &OwnedFd, program: &OwnedFd) -> nix::Result<()> {
    let mut attr = ProgAttachAttr { target_fd: attr_fd(dir), attach_bpf_fd: attr_fd(program), attach_type: BPF_CGROUP_DEVICE, ..ProgAttachAttr::default() };
    // SAFETY: a BPF_PROG_DETACH attr; it holds only fds, no addresses.
    unsafe { sys_bpf(BPF_PROG_DETACH, &mut attr) }.map(drop)
}

/// Load `program` and make it the device filter of the cgroup v2 directory `cgroup_dir`.
///
/// Mirrors runc 1.1's `LoadAttachCgroupDeviceFilter`
/// (`libcontainer/cgroups/ebpf/ebpf_linux.go`): list the device programs already attached
/// (by an earlier `update`, say), load the new one, attach it with `BPF_F_ALLOW_MULTI`, then
/// detach the old ones, so the cgroup is never left without a filter. With exactly one old
/// program the new one replaces it atomically (`BPF_F_REPLACE`), falling back to
/// attach-then-detach on kernels without it (< 5.6, `EINVAL`). Old programs an LSM hides
/// from us are left alone, as runc does.
///
/// Unlike runc, this does not raise `RLIMIT_MEMLOCK` (needed for loading on kernels before
/// 5.11, which charged bpf memory to it); the caller decides about process limits.
pub fn attach_program(cgroup_dir: &Path, program: &[BpfInsn]) -> Result<(), DeviceFilterError> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let dir = nix::fcntl::open(cgroup_dir, flags, Mode::empty()).map_err(|errno| DeviceFilterError::Open { path: cgroup_dir.to_owned(), errno })?;
    // SAFETY: a fresh fd from open, owned by nobody else.
    let dir = unsafe { OwnedFd::from_raw_fd(dir) };

    let mut old = Vec::new();
    for id in query_attached(&dir, cgroup_dir)? {
        if let Some(fd) = open_program(id, cgroup_dir)? {
            old.push((id, fd));
        }
    }

    let new = load_program(program)?;
    let attach_error = |errno| DeviceFilterError::Attach { path: cgroup_dir.to_owned(), errno };
    if let [(_, only)] = old.as_slice() {
        match attach(&dir, &new, Some(only)) {
            Ok(()) => return Ok(()),
            Err(Errno::EINVAL) => {}
            Err(errno) => return Err(attach_error(errno)),
        }
    }
    attach(&dir, &new, None).map_err(attach_error)?;
    for (id, program) in &old {
        detach(&dir, program).map_err(|errno| DeviceFilterError::Detach { path: cgroup_dir.to_owned(), id: *id, errno })?;
    }
    Ok(())
}
