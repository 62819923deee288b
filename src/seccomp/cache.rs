//! Compiled seccomp programs kept by profile, so that libseccomp runs once per profile and
//! not at every `create` and `exec`: an engine's default profile (300-odd rules) takes
//! libseccomp 1.7-2 ms to compile, as much as the rest of an `exec`.
//!
//! An entry holds its key's exact bytes: the compiler (this binary's GNU build id, which
//! hashes everything linked into it, libseccomp's static library included; the kernel
//! release; libseccomp's version; the architecture) and the profile's canonical JSON; then
//! the program, its flags and the debug lines compilation printed, with the body's length and
//! a CRC-32 of it. It is used only if the key equals the one being asked for, so the file
//! name (a hash) only finds the entry: a collision is a miss, never another profile's
//! program, and another build of skiff (a rebuild against a patched libseccomp, a `-dirty`
//! tree, a build without git) never loads what this one compiled. A binary without a build
//! id has no cache. The directory is the caller's own, mode 0700, on /run (tmpfs: emptied at
//! boot); an entry is used only if it is a regular file owned by the caller and writable by
//! nobody else, and it is written to a temporary file and renamed into place. Anything
//! amiss (a torn, corrupt or foreign entry, another owner's file) is a miss: the profile is
//! compiled as before, and the entry is written anew. docs/security.md gives the trust model.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxSeccomp;

use crate::seccomp::{SeccompError, SeccompProgram};

/// The first bytes of an entry (and its format's version).
const MAGIC: &[u8; 8] = b"skiffsc2";
/// Entries beyond this many are not added: a host with that many distinct profiles
/// compiles the rest each time.
const MAX_ENTRIES: usize = 256;
/// No entry is larger: a BPF program holds at most 4096 instructions of 8 bytes, and the
/// profile and debug lines are far smaller than the rest of this.
const MAX_ENTRY_BYTES: u64 = 4 << 20;

/// Where this user's compiled programs are kept: `/run/skiff-seccomp` for the host's root,
/// under `$XDG_RUNTIME_DIR` otherwise (none without it). Root of a user namespace (the
/// runtime of rootless podman) is a rootless user here: it can never write /run.
pub fn default_dir() -> Option<PathBuf> {
    dir_for(nix::unistd::geteuid().is_root() && !crate::rootless::in_user_namespace(), std::env::var_os("XDG_RUNTIME_DIR"))
}

/// [`default_dir`] for the host's root or another user with `xdg_runtime_dir`.
fn dir_for(host_root: bool, xdg_runtime_dir: Option<std::ffi::OsString>) -> Option<PathBuf> {
    if host_root {
        return Some(PathBuf::from("/run/skiff-seccomp"));
    }
    xdg_runtime_dir.filter(|d| !d.is_empty()).map(|d| Path::new(&d).join("skiff-seccomp"))
}

/// Compile `profile`, or take its program from the cache in `dir`. `trace` gets the debug
/// lines compiling printed, on a hit too.
pub fn compile(dir: Option<&Path>, profile: &LinuxSeccomp, trace: &dyn crate::trace::Trace) -> Result<SeccompProgram, SeccompError> {
    match lookup(dir, profile, trace) {
        Lookup::Hit(program) => Ok(program),
        Lookup::Miss(miss) => {
            let (program, lines) = miss.compile(profile);
            lines.iter().for_each(|line| trace.debug(format_args!("{line}")));
            program
        }
    }
}

/// What the cache holds for a profile.
pub enum Lookup {
    /// The program (its debug lines were passed on).
    Hit(SeccompProgram),
    /// Not there: compile it, perhaps on another thread ([`Miss`] is `Send`).
    Miss(Miss),
}

/// Where a compiled program is to be kept (nowhere without a cache).
#[derive(Debug)]
pub struct Miss {
    entry: Option<Entry>,
}

/// A cache entry's place and key.
#[derive(Debug)]
struct Entry {
    dir: PathBuf,
    path: PathBuf,
    key: Vec<u8>,
}

/// The program of `profile` if the cache in `dir` holds it (`trace` then gets the debug lines
/// compiling printed), else what its compilation needs to store it.
pub fn lookup(dir: Option<&Path>, profile: &LinuxSeccomp, trace: &dyn crate::trace::Trace) -> Lookup {
    let (Some(dir), Some(compiler)) = (dir, compiler()) else { return Lookup::Miss(Miss { entry: None }) };
    let Ok(profile_bytes) = serde_json::to_vec(profile) else { return Lookup::Miss(Miss { entry: None }) };
    let mut key = compiler.into_bytes();
    key.extend_from_slice(&profile_bytes);
    let path = dir.join(entry_name(&key));
    if let Some((program, lines)) = read_entry(dir, &path, &key) {
        lines.iter().for_each(|line| trace.debug(format_args!("{line}")));
        return Lookup::Hit(program);
    }
    Lookup::Miss(Miss { entry: Some(Entry { dir: dir.to_path_buf(), path, key }) })
}

impl Miss {
    /// Compile `profile` (the one looked up) and keep the program; the debug lines come
    /// back rather than being written, so that this may run on any thread.
    pub fn compile(self, profile: &LinuxSeccomp) -> (Result<SeccompProgram, SeccompError>, Vec<String>) {
        let recorder = crate::trace::Recorder::new(&crate::trace::Silent);
        let program = crate::seccomp::compile(profile, &recorder);
        let lines = recorder.into_lines();
        if let (Ok(program), Some(entry)) = (&program, &self.entry) {
            // Best effort: a cache that cannot be written costs the next caller a compile.
            let _ = write_entry(&entry.dir, &entry.path, &entry.key, program, &lines);
        }
        (program, lines)
    }
}

/// What compiles the programs, and for which kernel: an entry made by another build or
/// under another kernel is a miss. `None` (no cache) for a binary without a build id.
fn compiler() -> Option<String> {
    let build = crate::sys::build_id::own_build_id()?;
    let library = libseccomp::ScmpVersion::current().map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro)).unwrap_or_default();
    let kernel = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    Some(format!(
        "skiff {} {} build {build} kernel {kernel} libseccomp {library} {}\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("SKIFF_COMMIT").unwrap_or("unknown"),
        std::env::consts::ARCH
    ))
}

/// The entry's file name: a hash of the key's bytes (only to find it; see above).
fn entry_name(key: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    format!("{:016x}.bpf", hasher.finish())
}

/// The directory and the file are the caller's and writable by nobody else.
fn trusted(metadata: &std::fs::Metadata, directory: bool) -> bool {
    let own = metadata.uid() == nix::unistd::geteuid().as_raw();
    let kind = if directory { metadata.is_dir() } else { metadata.is_file() };
    let private = if directory { metadata.mode() & 0o077 == 0 } else { metadata.mode() & 0o022 == 0 };
    own && kind && private
}

fn read_entry(dir: &Path, path: &Path, key: &[u8]) -> Option<(SeccompProgram, Vec<String>)> {
    if !trusted(&std::fs::symlink_metadata(dir).ok()?, true) {
        return None;
    }
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !trusted(&metadata, false) || metadata.len() > MAX_ENTRY_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    decode(&bytes, key)
}

/// An entry: MAGIC, the body's length (u64) and CRC-32 (u32), then the body: flags (u32),
/// notify (u8), the number of debug lines (u32) and each as length (u32) + text, the key's
/// length (u64) and bytes, the program's length (u64) and bytes.
fn encode(key: &[u8], program: &SeccompProgram, lines: &[String]) -> Vec<u8> {
    let mut body = Vec::with_capacity(32 + key.len() + program.bpf.len());
    body.extend_from_slice(&program.flags.to_le_bytes());
    body.push(u8::from(program.notify));
    body.extend_from_slice(&(lines.len() as u32).to_le_bytes());
    for line in lines {
        body.extend_from_slice(&(line.len() as u32).to_le_bytes());
        body.extend_from_slice(line.as_bytes());
    }
    body.extend_from_slice(&(key.len() as u64).to_le_bytes());
    body.extend_from_slice(key);
    body.extend_from_slice(&(program.bpf.len() as u64).to_le_bytes());
    body.extend_from_slice(&program.bpf);
    let mut bytes = Vec::with_capacity(MAGIC.len() + 12 + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// The program and debug lines of an entry for `key`; `None` for anything else: another
/// key, a body whose length or CRC-32 is not the one recorded, a program not whole.
fn decode(bytes: &[u8], key: &[u8]) -> Option<(SeccompProgram, Vec<String>)> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let length = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
    let crc = u32::from_le_bytes(rest.get(8..12)?.try_into().ok()?);
    let mut rest = rest.get(12..)?;
    if rest.len() != length || crc32fast::hash(rest) != crc {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
        rest = tail;
        Some(head)
    };
    let flags = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let notify = match take(1)? {
        [0] => false,
        [1] => true,
        _ => return None,
    };
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let mut lines = Vec::new();
    for _ in 0..count {
        let length = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        lines.push(String::from_utf8(take(length)?.to_vec()).ok()?);
    }
    let length = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
    if take(length)? != key {
        return None;
    }
    let length = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
    let bpf = take(length)?.to_vec();
    if !rest.is_empty() || bpf.is_empty() || bpf.len() % 8 != 0 {
        return None;
    }
    Some((SeccompProgram { bpf, flags, notify }, lines))
}

fn write_entry(dir: &Path, path: &Path, key: &[u8], program: &SeccompProgram, lines: &[String]) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => return Err(error),
        _ => {}
    }
    if !trusted(&std::fs::symlink_metadata(dir)?, true) {
        return Ok(());
    }
    // Entries are counted; a temporary file a killed writer left behind is not, and is
    // removed once it is a minute old.
    let mut entries = 0;
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        if !entry.file_name().to_string_lossy().starts_with('.') {
            entries += 1;
        } else if entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 60)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if entries >= MAX_ENTRIES {
        return Ok(());
    }
    let temporary = dir.join(format!(".{}.{}", std::process::id(), path.file_name().and_then(|n| n.to_str()).unwrap_or("entry")));
    let mut file: File = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(&temporary)?;
    let written = file.write_all(&encode(key, program, lines)).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> SeccompProgram {
        SeccompProgram { bpf: vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f], flags: 2, notify: true }
    }

    #[test]
    fn an_entry_reads_back_only_for_the_same_profile() {
        let bytes = encode(b"{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", &program(), &["skipped x".to_string()]);
        let (read, lines) = decode(&bytes, b"{\"defaultAction\":\"SCMP_ACT_ALLOW\"}").unwrap();
        assert_eq!((read, lines), (program(), vec!["skipped x".to_string()]));
        assert!(decode(&bytes, b"{\"defaultAction\":\"SCMP_ACT_KILL\"}").is_none(), "another profile's bytes: a miss");
        assert!(decode(&bytes[..bytes.len() - 3], b"{\"defaultAction\":\"SCMP_ACT_ALLOW\"}").is_none(), "a torn program: a miss");
        assert!(decode(b"garbage", b"").is_none());
    }

    #[test]
    fn a_cached_program_is_the_compiled_one_and_repeats_its_debug_lines() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let profile: LinuxSeccomp = serde_json::from_str(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]}"#,
        )
        .unwrap();
        let recorder = crate::trace::Recorder::new(&crate::trace::Silent);
        let compiled = compile(Some(&cache), &profile, &recorder).unwrap();
        let first = recorder.into_lines();
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1, "one entry, no temporary file left");
        let recorder = crate::trace::Recorder::new(&crate::trace::Silent);
        let cached = compile(Some(&cache), &profile, &recorder).unwrap();
        let second = recorder.into_lines();
        assert_eq!(cached, compiled);
        assert_eq!(second, first);
        assert!(first.iter().any(|l| l.contains("no_such_call")), "{first:?}");
        // A directory others may write to is not trusted: compiled again, nothing read.
        std::fs::set_permissions(&cache, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let entry = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
        std::fs::write(&entry, b"skiffsc1 tampered").unwrap();
        assert_eq!(compile(Some(&cache), &profile, &crate::trace::Silent).unwrap(), compiled);
    }

    fn profile() -> LinuxSeccomp {
        serde_json::from_str(r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}"#).unwrap()
    }

    /// The key [`compile`] uses for `profile`.
    fn key_of(profile: &LinuxSeccomp) -> Vec<u8> {
        let mut key = compiler().expect("the test binary has a build id").into_bytes();
        key.extend_from_slice(&serde_json::to_vec(profile).unwrap());
        key
    }

    /// A cache holding `profile`'s entry: (its directory guard, the directory, the entry,
    /// the program compiled).
    fn cached() -> (tempfile::TempDir, PathBuf, PathBuf, SeccompProgram) {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let compiled = compile(Some(&cache), &profile(), &crate::trace::Silent).unwrap();
        let entry = cache.join(entry_name(&key_of(&profile())));
        assert!(entry.is_file(), "the entry is where its key's name says");
        (dir, cache, entry, compiled)
    }

    /// `compile` after a tampering: the program compiled (never the entry's), and the entry
    /// written anew, ours and whole.
    fn assert_miss_and_rewrite(cache: &Path, entry: &Path, compiled: &SeccompProgram, case: &str) {
        let again = compile(Some(cache), &profile(), &crate::trace::Silent).unwrap_or_else(|e| panic!("{case}: a bad entry made compile fail: {e}"));
        assert_eq!(&again, compiled, "{case}: a program other than the compiled one was loaded");
        let bytes = std::fs::read(entry).unwrap();
        let (rewritten, _) = decode(&bytes, &key_of(&profile())).unwrap_or_else(|| panic!("{case}: the entry was not written anew"));
        assert_eq!(&rewritten, compiled, "{case}");
        assert_eq!(std::fs::metadata(entry).unwrap().uid(), nix::unistd::geteuid().as_raw(), "{case}: the rewritten entry is ours");
    }

    #[test]
    fn a_corrupt_or_truncated_entry_is_a_miss_and_is_rewritten() {
        let (_guard, cache, entry, compiled) = cached();
        // One bit flipped in the program: the length still fits, the CRC does not.
        let mut bytes = std::fs::read(&entry).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x40;
        std::fs::write(&entry, &bytes).unwrap();
        assert_miss_and_rewrite(&cache, &entry, &compiled, "a flipped bit");
        // One instruction short: still a multiple of 8 bytes, not the length recorded.
        let bytes = std::fs::read(&entry).unwrap();
        std::fs::write(&entry, &bytes[..bytes.len() - 8]).unwrap();
        assert_miss_and_rewrite(&cache, &entry, &compiled, "a truncated entry");
        // Torn in the header, and empty.
        std::fs::write(&entry, &bytes[..MAGIC.len() + 5]).unwrap();
        assert_miss_and_rewrite(&cache, &entry, &compiled, "a torn header");
        std::fs::write(&entry, b"").unwrap();
        assert_miss_and_rewrite(&cache, &entry, &compiled, "an empty file");
    }

    #[test]
    fn an_entry_of_another_build_or_kernel_is_a_miss_and_is_rewritten() {
        let (_guard, cache, entry, compiled) = cached();
        let other = SeccompProgram { bpf: vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f], flags: 0, notify: false };
        for foreign in ["build 0123abcd", "kernel 5.10.0-other"] {
            let mut key = key_of(&profile());
            key.splice(0..0, foreign.bytes());
            std::fs::write(&entry, encode(&key, &other, &[])).unwrap();
            assert_miss_and_rewrite(&cache, &entry, &compiled, foreign);
        }
        assert!(compiler().unwrap().contains(&nix::sys::utsname::uname().unwrap().release().to_string_lossy().into_owned()), "the key names the kernel");
    }

    #[test]
    fn as_root_another_owners_entry_is_never_loaded_and_is_replaced() {
        assert!(nix::unistd::geteuid().is_root(), "this test chowns a file: run it as root (make test does)");
        let (_guard, cache, entry, compiled) = cached();
        let planted = SeccompProgram { bpf: vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f], flags: 0, notify: false };
        std::fs::write(&entry, encode(&key_of(&profile()), &planted, &[])).unwrap();
        nix::unistd::chown(&entry, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        assert_miss_and_rewrite(&cache, &entry, &compiled, "another owner's entry");
    }

    #[test]
    fn root_of_a_user_namespace_uses_the_rootless_location() {
        assert_eq!(dir_for(true, Some("/run/user/1000".into())), Some(PathBuf::from("/run/skiff-seccomp")));
        assert_eq!(dir_for(false, Some("/run/user/1000".into())), Some(PathBuf::from("/run/user/1000/skiff-seccomp")));
        assert_eq!(dir_for(false, Some("".into())), None);
        assert_eq!(dir_for(false, None), None);
    }
}
