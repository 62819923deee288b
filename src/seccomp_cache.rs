//! Compiled seccomp programs kept by profile, so that libseccomp runs once per profile and
//! not at every `create` and `exec`: an engine's default profile (300-odd rules) takes
//! libseccomp 1.7-2 ms to compile, as much as the rest of an `exec`.
//!
//! An entry holds its key's exact bytes: the compiler (skiff's version and commit,
//! libseccomp's version, the architecture) and the profile's canonical JSON; then the
//! program, its flags and the debug lines compilation printed. It is used only if the key
//! equals the one being asked for, so the file name (a hash) only finds the entry: a
//! collision is a miss, never another profile's program, and an upgraded skiff or
//! libseccomp never loads what the old one compiled. The directory is the caller's own, mode 0700, on
//! /run (tmpfs: emptied at boot); an entry is used only if it is a regular file owned by
//! the caller and writable by nobody else, and it is written to a temporary file and
//! renamed into place. Anything amiss is a miss: the profile is compiled as before.

#![forbid(unsafe_code)]

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxSeccomp;

use crate::seccomp::{SeccompError, SeccompProgram};

/// The first bytes of an entry (and its format's version).
const MAGIC: &[u8; 8] = b"skiffsc1";
/// Entries beyond this many are not added: a host with that many distinct profiles
/// compiles the rest each time.
const MAX_ENTRIES: usize = 256;
/// No entry is larger: a BPF program holds at most 4096 instructions of 8 bytes, and the
/// profile and debug lines are far smaller than the rest of this.
const MAX_ENTRY_BYTES: u64 = 4 << 20;

/// Where this user's compiled programs are kept: `/run/skiff-seccomp` for root, under
/// `$XDG_RUNTIME_DIR` otherwise (none without it).
pub fn default_dir() -> Option<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return Some(PathBuf::from("/run/skiff-seccomp"));
    }
    std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()).map(|d| Path::new(&d).join("skiff-seccomp"))
}

/// Compile `profile`, or take its program from the cache in `dir`. `debug` receives the
/// lines compiling printed, on a hit too.
pub fn compile(dir: Option<&Path>, profile: &LinuxSeccomp, debug: &mut dyn FnMut(String)) -> Result<SeccompProgram, SeccompError> {
    let Some(dir) = dir else { return crate::seccomp::compile(profile, debug) };
    let Ok(profile_bytes) = serde_json::to_vec(profile) else { return crate::seccomp::compile(profile, debug) };
    let mut key = compiler().into_bytes();
    key.extend_from_slice(&profile_bytes);
    let path = dir.join(entry_name(&key));
    if let Some((program, lines)) = read_entry(dir, &path, &key) {
        lines.into_iter().for_each(&mut *debug);
        return Ok(program);
    }
    let mut lines = Vec::new();
    let program = crate::seccomp::compile(profile, &mut |line| {
        lines.push(line.clone());
        debug(line);
    })?;
    // Best effort: a cache that cannot be written costs the next caller a compile.
    let _ = write_entry(dir, &path, &key, &program, &lines);
    Ok(program)
}

/// What compiles the programs: an entry made by another one is a miss.
fn compiler() -> String {
    let library = libseccomp::ScmpVersion::current().map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro)).unwrap_or_default();
    format!("skiff {} {} libseccomp {library} {}\n", env!("CARGO_PKG_VERSION"), option_env!("SKIFF_COMMIT").unwrap_or("unknown"), std::env::consts::ARCH)
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

/// An entry: MAGIC, flags (u32), notify (u8), the number of debug lines (u32) and each as
/// length (u32) + text, the profile's length (u64) and bytes, then the program.
fn encode(key: &[u8], program: &SeccompProgram, lines: &[String]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + 32 + key.len() + program.bpf.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&program.flags.to_le_bytes());
    bytes.push(u8::from(program.notify));
    bytes.extend_from_slice(&(lines.len() as u32).to_le_bytes());
    for line in lines {
        bytes.extend_from_slice(&(line.len() as u32).to_le_bytes());
        bytes.extend_from_slice(line.as_bytes());
    }
    bytes.extend_from_slice(&(key.len() as u64).to_le_bytes());
    bytes.extend_from_slice(key);
    bytes.extend_from_slice(&program.bpf);
    bytes
}

fn decode(bytes: &[u8], key: &[u8]) -> Option<(SeccompProgram, Vec<String>)> {
    let mut rest = bytes.strip_prefix(MAGIC.as_slice())?;
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
    let bpf = rest.to_vec();
    if bpf.is_empty() || bpf.len() % 8 != 0 {
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
        let mut first = Vec::new();
        let compiled = compile(Some(&cache), &profile, &mut |line| first.push(line)).unwrap();
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1, "one entry, no temporary file left");
        let mut second = Vec::new();
        let cached = compile(Some(&cache), &profile, &mut |line| second.push(line)).unwrap();
        assert_eq!(cached, compiled);
        assert_eq!(second, first);
        assert!(first.iter().any(|l| l.contains("no_such_call")), "{first:?}");
        // A directory others may write to is not trusted: compiled again, nothing read.
        std::fs::set_permissions(&cache, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let entry = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
        std::fs::write(&entry, b"skiffsc1 tampered").unwrap();
        assert_eq!(compile(Some(&cache), &profile, &mut |_| {}).unwrap(), compiled);
    }
}
