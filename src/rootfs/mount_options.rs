//! The mount options of config.json, split into mount(2) flags, propagation changes and the
//! filesystem data string. Pure: unit-tested without mounting anything.

use nix::mount::MsFlags;

/// What one spec mount's `options` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount itself (and for the remount of a bind mount).
    pub flags: MsFlags,
    /// Flags the options explicitly clear (e.g. `rw`, `suid`): kept so a bind remount can
    /// leave them off rather than inherit them.
    pub cleared: MsFlags,
    /// Propagation changes applied after the mount, in order.
    pub propagation: Vec<MsFlags>,
    /// Options the kernel's filesystem gets as its data string, comma-joined.
    pub data: Vec<String>,
    /// Recursive attributes (`rro`, `rnosuid`, ...) to set with mount_setattr(AT_RECURSIVE).
    pub recursive_set: u64,
    /// Recursive attributes to clear.
    pub recursive_clear: u64,
    /// `idmap` (Some(false)) or `ridmap` (Some(true)).
    pub idmap: Option<bool>,
    /// `tmpcopyup` (runc's, not the kernel's): a tmpfs starts as a copy of the directory it
    /// covers; `notmpcopyup` undoes it (the last one wins).
    pub copy_up: bool,
}

pub use crate::sys::mount_fd::attr;

impl MountOptions {
    /// Whether this is a bind mount (`bind` or `rbind`).
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }

    /// The data string for mount(2), or `None` when empty.
    pub fn data_string(&self) -> Option<String> {
        (!self.data.is_empty()).then(|| self.data.join(","))
    }
}

/// One known option: sets a flag, clears one, or changes propagation.
enum Known {
    Set(MsFlags),
    Clear(MsFlags),
    Propagation(MsFlags),
    /// (bits to set, bits to clear) for mount_setattr.
    Recursive(u64, u64),
    /// An idmapped mount, recursive or not.
    Idmap(bool),
    /// `tmpcopyup` or `notmpcopyup`.
    CopyUp(bool),
}

fn known(option: &str) -> Option<Known> {
    use Known::*;
    Some(match option {
        "ro" => Set(MsFlags::MS_RDONLY),
        "rw" => Clear(MsFlags::MS_RDONLY),
        "nosuid" => Set(MsFlags::MS_NOSUID),
        "suid" => Clear(MsFlags::MS_NOSUID),
        "nodev" => Set(MsFlags::MS_NODEV),
        "dev" => Clear(MsFlags::MS_NODEV),
        "noexec" => Set(MsFlags::MS_NOEXEC),
        "exec" => Clear(MsFlags::MS_NOEXEC),
        "sync" => Set(MsFlags::MS_SYNCHRONOUS),
        "async" => Clear(MsFlags::MS_SYNCHRONOUS),
        "dirsync" => Set(MsFlags::MS_DIRSYNC),
        "remount" => Set(MsFlags::MS_REMOUNT),
        "mand" => Set(MsFlags::MS_MANDLOCK),
        "nomand" => Clear(MsFlags::MS_MANDLOCK),
        "atime" => Clear(MsFlags::MS_NOATIME),
        "noatime" => Set(MsFlags::MS_NOATIME),
        "diratime" => Clear(MsFlags::MS_NODIRATIME),
        "nodiratime" => Set(MsFlags::MS_NODIRATIME),
        "relatime" => Set(MsFlags::MS_RELATIME),
        "norelatime" => Clear(MsFlags::MS_RELATIME),
        "strictatime" => Set(MsFlags::MS_STRICTATIME),
        "nostrictatime" => Clear(MsFlags::MS_STRICTATIME),
        "lazytime" => Set(MsFlags::MS_LAZYTIME),
        "nolazytime" => Clear(MsFlags::MS_LAZYTIME),
        "idmap" => Idmap(false),
        "tmpcopyup" => CopyUp(true),
        "notmpcopyup" => CopyUp(false),
        "ridmap" => Idmap(true),
        "nosymfollow" => Set(MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        "symfollow" => Clear(MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW)),
        "rro" => Recursive(attr::RDONLY, 0),
        "rrw" => Recursive(0, attr::RDONLY),
        "rnosuid" => Recursive(attr::NOSUID, 0),
        "rsuid" => Recursive(0, attr::NOSUID),
        "rnodev" => Recursive(attr::NODEV, 0),
        "rdev" => Recursive(0, attr::NODEV),
        "rnoexec" => Recursive(attr::NOEXEC, 0),
        "rexec" => Recursive(0, attr::NOEXEC),
        "rnodiratime" => Recursive(attr::NODIRATIME, 0),
        "rdiratime" => Recursive(0, attr::NODIRATIME),
        "rnoatime" => Recursive(attr::NOATIME, attr::ATIME_MASK),
        "ratime" => Recursive(0, attr::NOATIME),
        "rrelatime" => Recursive(0, attr::ATIME_MASK),
        "rnorelatime" => Recursive(attr::STRICTATIME, attr::ATIME_MASK),
        "rstrictatime" => Recursive(attr::STRICTATIME, attr::ATIME_MASK),
        "rnosymfollow" => Recursive(attr::NOSYMFOLLOW, 0),
        "rsymfollow" => Recursive(0, attr::NOSYMFOLLOW),
        "bind" => Set(MsFlags::MS_BIND),
        "rbind" => Set(MsFlags::MS_BIND.union(MsFlags::MS_REC)),
        "private" => Propagation(MsFlags::MS_PRIVATE),
        "rprivate" => Propagation(MsFlags::MS_PRIVATE.union(MsFlags::MS_REC)),
        "shared" => Propagation(MsFlags::MS_SHARED),
        "rshared" => Propagation(MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
        "slave" => Propagation(MsFlags::MS_SLAVE),
        "rslave" => Propagation(MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
        "unbindable" => Propagation(MsFlags::MS_UNBINDABLE),
        "runbindable" => Propagation(MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC)),
        _ => return None,
    })
}

/// Split `options` the way runc does: later options override earlier ones, unknown options
/// are passed to the filesystem as data.
pub fn parse_mount_options<S: AsRef<str>>(options: &[S]) -> MountOptions {
    let mut parsed = MountOptions {
        flags: MsFlags::empty(),
        cleared: MsFlags::empty(),
        propagation: Vec::new(),
        data: Vec::new(),
        recursive_set: 0,
        recursive_clear: 0,
        idmap: None,
        copy_up: false,
    };
    for option in options {
        let option = option.as_ref();
        match known(option) {
            Some(Known::Set(flag)) => {
                parsed.flags.insert(flag);
                parsed.cleared.remove(flag);
            }
            Some(Known::Clear(flag)) => {
                parsed.flags.remove(flag);
                parsed.cleared.insert(flag);
            }
            Some(Known::Propagation(flag)) => parsed.propagation.push(flag),
            Some(Known::Idmap(recursive)) => parsed.idmap = Some(recursive),
            Some(Known::CopyUp(copy_up)) => parsed.copy_up = copy_up,
            Some(Known::Recursive(set, clear)) => {
                parsed.recursive_set = (parsed.recursive_set & !clear & !set) | set;
                parsed.recursive_clear = (parsed.recursive_clear & !set) | clear;
            }
            None => parsed.data.push(option.to_string()),
        }
    }
    parsed
}

/// Every option name skiff understands (the `features` list); kept in step with `known` by a test.
pub const KNOWN_OPTIONS: &[&str] = &[
    "async",
    "atime",
    "bind",
    "dev",
    "diratime",
    "dirsync",
    "exec",
    "idmap",
    "lazytime",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "nolazytime",
    "nomand",
    "norelatime",
    "nostrictatime",
    "nosuid",
    "nosymfollow",
    "notmpcopyup",
    "private",
    "ratime",
    "rbind",
    "rdev",
    "rdiratime",
    "relatime",
    "remount",
    "rexec",
    "ridmap",
    "rnoatime",
    "rnodev",
    "rnodiratime",
    "rnoexec",
    "rnorelatime",
    "rnosuid",
    "rnosymfollow",
    "ro",
    "rprivate",
    "rrelatime",
    "rro",
    "rrw",
    "rshared",
    "rslave",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
    "runbindable",
    "rw",
    "shared",
    "slave",
    "strictatime",
    "suid",
    "symfollow",
    "sync",
    "tmpcopyup",
    "unbindable",
];

/// Parse a propagation name as used by `linux.rootfsPropagation`.
pub fn parse_propagation(name: &str) -> Option<MsFlags> {
    match known(name) {
        Some(Known::Propagation(flag)) => Some(flag),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_flags_propagation_and_data() {
        let parsed = parse_mount_options(&["nosuid", "rbind", "ro", "rslave", "mode=755", "size=64k"]);
        assert_eq!(parsed.flags, MsFlags::MS_NOSUID | MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_RDONLY);
        assert_eq!(parsed.propagation, vec![MsFlags::MS_SLAVE | MsFlags::MS_REC]);
        assert_eq!(parsed.data_string().as_deref(), Some("mode=755,size=64k"));
        assert!(parsed.is_bind());
    }

    #[test]
    fn later_options_win() {
        let parsed = parse_mount_options(&["ro", "rw", "noexec", "exec", "nodev"]);
        assert_eq!(parsed.flags, MsFlags::MS_NODEV);
        assert!(parsed.cleared.contains(MsFlags::MS_RDONLY | MsFlags::MS_NOEXEC));
        assert_eq!(parsed.data_string(), None);
    }

    #[test]
    fn known_options_list_matches_the_parser() {
        for name in KNOWN_OPTIONS {
            assert!(known(name).is_some(), "{name} is listed but not parsed");
        }
    }

    #[test]
    fn recursive_attributes() {
        let parsed = parse_mount_options(&["rbind", "rro", "rnosuid", "rnoatime", "nosymfollow"]);
        assert_eq!(parsed.recursive_set, attr::RDONLY | attr::NOSUID | attr::NOATIME);
        assert_eq!(parsed.recursive_clear, attr::ATIME_MASK);
        assert!(parsed.flags.contains(MsFlags::from_bits_retain(libc::MS_NOSYMFOLLOW)));
        let parsed = parse_mount_options(&["rro", "rrw"]);
        assert_eq!((parsed.recursive_set, parsed.recursive_clear), (0, attr::RDONLY));
    }

    #[test]
    fn rootfs_propagation_names() {
        assert_eq!(parse_propagation("rslave"), Some(MsFlags::MS_SLAVE | MsFlags::MS_REC));
        assert_eq!(parse_propagation("ro"), None);
        assert_eq!(parse_propagation("bogus"), None);
    }
}
