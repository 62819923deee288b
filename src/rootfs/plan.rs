//! The container's mounts decided before any is made: `plan_mounts` turns the config into
//! the list of operations init performs in its mount namespace, and `plan_finish` the ones
//! after pivot_root. Pure: no syscalls, so every mount kind is unit-tested without root.
//! `rootfs.rs` is the executor that makes them ([`MountExecutor`]); the tests here use a
//! recording fake.

use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use oci_spec::runtime::{LinuxDevice, Mount};

use super::devices::{DeviceNode, devices_to_create};
use super::mount_options::parse_mount_options;

/// Everything rootfs setup needs from the spec, the command line and the runtime.
#[derive(Debug)]
pub struct RootfsConfig<'a> {
    /// Absolute host path of the root filesystem.
    pub rootfs: &'a Path,
    /// Absolute bundle path: relative bind sources are resolved against it.
    pub bundle: &'a Path,
    /// `mounts`, in order.
    pub mounts: &'a [Mount],
    /// `linux.devices`.
    pub devices: &'a [LinuxDevice],
    /// `linux.rootfsPropagation` (default `rslave`, as runc).
    pub propagation: MsFlags,
    /// `root.readonly`.
    pub readonly: bool,
    /// `--no-pivot`.
    pub no_pivot: bool,
    /// No mount namespace of its own: the rootfs is set up in the runtime's, whose `/` keeps
    /// its propagation, and entered with chroot.
    pub host_mount_namespace: bool,
    /// Init is in a new user namespace: devices are bound from the host, not made.
    pub in_user_namespace: bool,
    /// `linux.maskedPaths`.
    pub masked_paths: &'a [String],
    /// `linux.readonlyPaths`.
    pub readonly_paths: &'a [String],
    /// `process.cwd`, created if missing (as runc does).
    pub cwd: &'a Path,
    /// Init is in a cgroup namespace of its own (rooted at the container's cgroup).
    pub cgroup_namespace: bool,
    /// The host's cgroups are the unified hierarchy alone (as the runtime found them: the
    /// layout is not detected a second time).
    pub cgroup_unified: bool,
    /// The container's cgroup directory on the host (for a bind where cgroup2 cannot be
    /// mounted), if it has a cgroup.
    pub cgroup_dir: Option<&'a Path>,
    /// The `mounts` indexes that have a detached idmapped tree prepared by the runtime.
    pub idmapped: &'a [usize],
    /// `linux.mountLabel`: the SELinux context of new filesystems.
    pub mount_label: Option<&'a str>,
}

/// One operation on the container's mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOp {
    /// Set the propagation of `/` (the runtime's view, recursively) before anything else.
    RootPropagation(MsFlags),
    /// Make the mount holding the rootfs's parent private (for a shared rootfs propagation).
    RootfsParentPrivate,
    /// Bind the rootfs onto itself: pivot_root needs a mount point.
    BindRootfs,
    /// Mount a filesystem (`mounts[index]`).
    Filesystem {
        /// Index into `mounts`.
        index: usize,
        /// Where, inside the rootfs.
        destination: PathBuf,
        /// The filesystem type.
        fs_type: String,
        /// The source (the type when the config has none).
        source: PathBuf,
        /// Mount flags.
        flags: MsFlags,
        /// The data string, the mount label included.
        data: Option<String>,
        /// proc and sysfs: the mount point must be a real directory, reached without a
        /// symlink (CVE-2023-27561, CVE-2019-19921).
        no_symlinks: bool,
        /// Operations on the new mount follow (recursive attributes, propagation, a copy
        /// up): the executor proves which mount it made, so that they reach that one.
        changed_after: bool,
        /// `tmpcopyup` on a tmpfs: copy what the mount point holds into it.
        copy_up: bool,
        /// `ro` on a tmpfs or on `/dev`: mounted writable and made read-only by
        /// [`plan_finish`]'s first step, as runc does, so that the mount points, device nodes
        /// and console made under it afterwards can still be made.
        read_only_later: bool,
    },
    /// Bind `source` (`mounts[index]`), or attach its prepared idmapped tree.
    Bind {
        /// Index into `mounts`.
        index: usize,
        /// Where, inside the rootfs.
        destination: PathBuf,
        /// The absolute source on the host.
        source: PathBuf,
        /// `rbind`.
        recursive: bool,
        /// The runtime prepared an idmapped tree for it.
        idmapped: bool,
        /// The flags beyond bind, rec and remount (`ro`, `nosuid`, ...): mount(2) ignores
        /// them on a bind, so they are set on the detached tree before it is attached.
        flags: MsFlags,
        /// The flags the options clear by name (`rw`, `dev`, ...): with any flag named, the
        /// bind gets exactly what is named ([`crate::sys::mount_fd::bind_attributes`]).
        cleared: MsFlags,
    },
    /// `rro`, `rnosuid`, ...: mount_setattr(AT_RECURSIVE).
    RecursiveAttributes {
        /// Index into `mounts`.
        index: usize,
        /// The mount.
        destination: PathBuf,
        /// Attributes to set.
        set: u64,
        /// Attributes to clear.
        clear: u64,
    },
    /// A propagation change on the new mount.
    MountPropagation {
        /// Index into `mounts`.
        index: usize,
        /// The mount.
        destination: PathBuf,
        /// The one propagation flag.
        flag: MsFlags,
    },
    /// `type: cgroup`: cgroup2 on a unified host; elsewhere a tmpfs with each v1 hierarchy's
    /// own cgroup under it.
    Cgroup {
        /// Index into `mounts`.
        index: usize,
        /// Where, inside the rootfs.
        destination: PathBuf,
        /// The mount's flags (no bind, rec or remount).
        flags: MsFlags,
        /// The host is cgroup v2 only.
        unified: bool,
    },
    /// Make (or, in a user namespace, bind from the host) the device nodes.
    Devices {
        /// The nodes, the default ones and `linux.devices`.
        nodes: Vec<DeviceNode>,
        /// Bind them from the host instead of mknod.
        bind: bool,
    },
    /// `/dev/fd`, `/dev/stdin`, ... symlinks.
    DevSymlinks,
    /// Create `process.cwd` if missing.
    Cwd(PathBuf),
    /// After pivot_root: make the mounts planned `read_only_later` read-only, through the fds
    /// setup kept.
    SealReadonly,
    /// After pivot_root: bind a path onto itself read-only (skipped when missing).
    ReadonlyPath(PathBuf),
    /// After pivot_root: hide a path (an empty read-only tmpfs, or `/dev/null`).
    MaskPath(PathBuf),
    /// After pivot_root: remount `/` read-only.
    ReadonlyRoot,
    /// After pivot_root, last: the shared or unbindable propagation asked for.
    NewRootPropagation(MsFlags),
}

impl MountOp {
    /// The source of the `mounts` entry this operation comes from, as runc names it in
    /// errors: the bind source, or the filesystem's source (its type when it has none).
    pub fn source_name(&self) -> Option<String> {
        match self {
            MountOp::Filesystem { source, .. } | MountOp::Bind { source, .. } => Some(source.display().to_string()),
            MountOp::Cgroup { .. } => Some("cgroup".to_string()),
            _ => None,
        }
    }

    /// The `mounts` entry this operation comes from, for error messages.
    pub fn entry(&self) -> Option<(usize, &Path)> {
        match self {
            MountOp::Filesystem { index, destination, .. }
            | MountOp::Bind { index, destination, .. }
            | MountOp::RecursiveAttributes { index, destination, .. }
            | MountOp::MountPropagation { index, destination, .. }
            | MountOp::Cgroup { index, destination, .. } => Some((*index, destination)),
            _ => None,
        }
    }
}

/// A config that cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mounts[{index}] {destination}: {reason}")]
pub struct PlanError {
    /// Index into `mounts`.
    pub index: usize,
    /// Its destination.
    pub destination: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// What performs the operations: the kernel in init (`rootfs.rs`), a recording fake in tests.
pub trait MountExecutor {
    /// Perform one operation.
    fn execute(&mut self, op: &MountOp) -> Result<(), crate::sys::SysError>;
}

/// The data of a tmpfs mounted over a directory whose mode is `covered_mode` (None: the
/// directory was made for the mount): that mode first, so that a `mode=` the config gives,
/// later in the string, wins (the kernel takes the last one), as runc does.
pub fn tmpfs_data(covered_mode: Option<u32>, data: Option<&str>) -> Option<String> {
    match (covered_mode, data) {
        (Some(mode), Some(data)) if !data.is_empty() => Some(format!("mode={mode:04o},{data}")),
        (Some(mode), _) => Some(format!("mode={mode:04o}")),
        (None, data) => data.map(str::to_string),
    }
}

/// Propagation types set again on the new root once it is in place (runc's order): a
/// shared root, as the one `/` was before the mounts, and an unbindable one, which could not
/// be set before, since an unbindable tree cannot be bind-mounted from.
pub fn deferred_propagation(propagation: MsFlags) -> bool {
    propagation.intersects(MsFlags::MS_SHARED | MsFlags::MS_UNBINDABLE)
}

/// Whether the config binds the host's `/dev` (then the runtime makes no device nodes).
pub fn dev_is_bound(mounts: &[Mount]) -> bool {
    mounts.iter().any(|m| m.destination() == Path::new("/dev") && is_bind(m))
}

/// Whether `mount` is a bind mount (its options say `bind` or `rbind`).
pub fn is_bind(mount: &Mount) -> bool {
    parse_mount_options(mount.options().as_deref().unwrap_or_default()).is_bind()
}

/// A bind mount's source on the host: a relative one is the bundle's.
pub fn bind_source(mount: &Mount, bundle: &Path) -> Option<PathBuf> {
    mount.source().as_ref().map(|source| if source.is_absolute() { source.clone() } else { bundle.join(source) })
}

/// Whether `mount` is mounted writable and made read-only at the end (runc's rule: a
/// read-only tmpfs, or a read-only `/dev` of any type, but never a bind).
fn read_only_later(mount: &Mount) -> bool {
    let options = parse_mount_options(mount.options().as_deref().unwrap_or_default());
    let fs_type = mount.typ().as_deref().unwrap_or("");
    !options.is_bind() && fs_type != "cgroup" && filesystem_read_only_later(options.flags, fs_type, mount.destination())
}

/// [`read_only_later`] for a filesystem mount (no bind, no cgroup) whose options are parsed.
fn filesystem_read_only_later(flags: MsFlags, fs_type: &str, destination: &Path) -> bool {
    flags.contains(MsFlags::MS_RDONLY) && (fs_type == "tmpfs" || destination == Path::new("/dev"))
}

/// The operations before pivot_root, in order.
pub fn plan_mounts(config: &RootfsConfig) -> Result<Vec<MountOp>, PlanError> {
    let mut ops = Vec::with_capacity(config.mounts.len() * 2 + 6);
    // rootfsPropagation applies to `/` before the mounts, as runc applies it: with rshared,
    // the copies of the host's mounts stay peers of the host's, so a bind of a shared host
    // path is a peer too, and what the container mounts under it reaches the host
    // (Kubernetes' Bidirectional volumes, CSI plugins). The rootfs itself is kept from
    // propagating by its private parent (RootfsParentPrivate). Only unbindable must wait
    // (nothing could be bound from it): rslave until then.
    let now = if config.propagation.contains(MsFlags::MS_UNBINDABLE) { MsFlags::MS_SLAVE } else { config.propagation };
    // (in the host's mount namespace its `/` is not the container's to change)
    if !config.host_mount_namespace {
        ops.push(MountOp::RootPropagation(now | MsFlags::MS_REC));
        if config.propagation.contains(MsFlags::MS_SHARED) {
            ops.push(MountOp::RootfsParentPrivate);
        }
    }
    ops.push(MountOp::BindRootfs);
    for (index, mount) in config.mounts.iter().enumerate() {
        plan_entry(config, index, mount, &mut ops)?;
    }
    if !dev_is_bound(config.mounts) {
        ops.push(MountOp::Devices { nodes: devices_to_create(config.devices), bind: config.in_user_namespace });
        ops.push(MountOp::DevSymlinks);
    }
    ops.push(MountOp::Cwd(config.cwd.to_path_buf()));
    Ok(ops)
}

fn plan_entry(config: &RootfsConfig, index: usize, mount: &Mount, ops: &mut Vec<MountOp>) -> Result<(), PlanError> {
    let options = parse_mount_options(mount.options().as_deref().unwrap_or_default());
    let fs_type = mount.typ().as_deref().unwrap_or("");
    let destination = mount.destination().to_path_buf();
    if fs_type == "cgroup" {
        let flags = options.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
        ops.push(MountOp::Cgroup { index, destination, flags, unified: config.cgroup_unified });
        return Ok(());
    }
    let idmapped = config.idmapped.contains(&index);
    if options.is_bind() || idmapped {
        let Some(source) = bind_source(mount, config.bundle) else {
            return Err(PlanError { index, destination: destination.display().to_string(), reason: "a bind mount needs a source" });
        };
        let recursive = options.flags.contains(MsFlags::MS_REC);
        let flags = options.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
        ops.push(MountOp::Bind { index, destination: destination.clone(), source, recursive, idmapped, flags, cleared: options.cleared });
    } else {
        let source = mount.source().clone().unwrap_or_else(|| PathBuf::from(fs_type));
        let data = match config.mount_label {
            Some(label) if crate::sys::lsm::takes_mount_label(fs_type, false) => {
                Some(crate::sys::lsm::with_mount_label(options.data_string().as_deref(), label))
            }
            _ => options.data_string(),
        };
        // MS_REMOUNT is meaningless on a fresh mount.
        let flags = options.flags - MsFlags::MS_REMOUNT;
        let no_symlinks = matches!(fs_type, "proc" | "sysfs");
        // runc copies up into a tmpfs only; other filesystems ignore the option, as there.
        let copy_up = options.copy_up && fs_type == "tmpfs";
        // (the options are parsed already: not again through read_only_later)
        let read_only_later = filesystem_read_only_later(flags, fs_type, &destination);
        let changed_after = copy_up || read_only_later || !options.propagation.is_empty() || options.recursive_set != 0 || options.recursive_clear != 0;
        ops.push(MountOp::Filesystem {
            index,
            destination: destination.clone(),
            fs_type: fs_type.to_string(),
            source,
            flags,
            data,
            no_symlinks,
            changed_after,
            copy_up,
            read_only_later,
        });
    }
    if options.recursive_set != 0 || options.recursive_clear != 0 {
        ops.push(MountOp::RecursiveAttributes { index, destination: destination.clone(), set: options.recursive_set, clear: options.recursive_clear });
    }
    for flag in &options.propagation {
        ops.push(MountOp::MountPropagation { index, destination: destination.clone(), flag: *flag });
    }
    Ok(())
}

/// The operations after pivot_root and the sysctls (as runc orders them: the read-only
/// `/proc/sys` would refuse the sysctls), in order.
pub fn plan_finish(config: &RootfsConfig) -> Vec<MountOp> {
    // First: the read-only tmpfs mounts (and `/dev`) that setup left writable for what it
    // made under them and the console.
    let mut ops = Vec::new();
    if config.mounts.iter().any(read_only_later) {
        ops.push(MountOp::SealReadonly);
    }
    ops.extend(config.readonly_paths.iter().map(|p| MountOp::ReadonlyPath(PathBuf::from(p))));
    // A path listed twice is masked once (runc 1.5), not stacked.
    let mut masked = std::collections::HashSet::new();
    ops.extend(config.masked_paths.iter().filter(|p| masked.insert(p.as_str())).map(|p| MountOp::MaskPath(PathBuf::from(p))));
    if config.readonly {
        ops.push(MountOp::ReadonlyRoot);
    }
    // Last: no more bind mounts are made from `/` after this.
    if deferred_propagation(config.propagation) && !config.host_mount_namespace {
        ops.push(MountOp::NewRootPropagation(config.propagation));
    }
    ops
}

/// Perform `ops` in order; a failure names the `mounts` entry it came from.
pub fn execute_all(executor: &mut dyn MountExecutor, ops: &[MountOp]) -> Result<(), crate::sys::SysError> {
    for op in ops {
        executor.execute(op).map_err(|error| match op.entry() {
            // runc's words, which callers match, then the entry
            Some((index, destination)) => match op.source_name() {
                Some(source) => error.within(format_args!("error mounting {source:?} to rootfs at {destination:?} (mounts[{index}])")),
                None => error.within(format_args!("error mounting to rootfs at {destination:?} (mounts[{index}])")),
            },
            None => error,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(json: &str) -> Vec<Mount> {
        serde_json::from_str(json).unwrap()
    }

    fn config<'a>(mounts: &'a [Mount], idmapped: &'a [usize]) -> RootfsConfig<'a> {
        RootfsConfig {
            rootfs: Path::new("/b/rootfs"),
            bundle: Path::new("/b"),
            mounts,
            devices: &[],
            propagation: MsFlags::MS_SLAVE,
            readonly: false,
            no_pivot: false,
            host_mount_namespace: false,
            in_user_namespace: false,
            masked_paths: &[],
            readonly_paths: &[],
            cwd: Path::new("/"),
            cgroup_namespace: false,
            cgroup_unified: false,
            cgroup_dir: None,
            idmapped,
            mount_label: None,
        }
    }

    /// The operations of the `mounts` entries alone.
    fn entry_ops(config: &RootfsConfig) -> Vec<MountOp> {
        plan_mounts(config).unwrap().into_iter().filter(|op| op.entry().is_some()).collect()
    }

    /// The recording fake: what an executor was asked, in order.
    #[derive(Default)]
    struct Recording(Vec<MountOp>);

    impl MountExecutor for Recording {
        fn execute(&mut self, op: &MountOp) -> Result<(), crate::sys::SysError> {
            if let MountOp::Bind { source, .. } = op
                && source == Path::new("/refused")
            {
                return Err(crate::sys::SysError::new("mount", "bind", nix::errno::Errno::EACCES));
            }
            self.0.push(op.clone());
            Ok(())
        }
    }

    #[test]
    fn the_frame_around_the_mounts() {
        let none = mounts("[]");
        let ops = plan_mounts(&config(&none, &[])).unwrap();
        assert_eq!(ops[..2], [MountOp::RootPropagation(MsFlags::MS_SLAVE | MsFlags::MS_REC), MountOp::BindRootfs]);
        assert!(matches!(&ops[2], MountOp::Devices { bind: false, nodes } if nodes.iter().any(|n| n.path == Path::new("/dev/null"))));
        assert_eq!(ops[3..], [MountOp::DevSymlinks, MountOp::Cwd(PathBuf::from("/"))]);
        // A shared rootfs: shared now (binds of shared host paths stay the host's peers),
        // the parent made private, shared again after pivot_root.
        let mut shared = config(&none, &[]);
        shared.propagation = MsFlags::MS_SHARED;
        let ops = plan_mounts(&shared).unwrap();
        assert_eq!(ops[..3], [MountOp::RootPropagation(MsFlags::MS_SHARED | MsFlags::MS_REC), MountOp::RootfsParentPrivate, MountOp::BindRootfs]);
        assert_eq!(plan_finish(&shared), [MountOp::NewRootPropagation(MsFlags::MS_SHARED)]);
        // unbindable: slave until the new root is in place
        let mut unbindable = config(&none, &[]);
        unbindable.propagation = MsFlags::MS_UNBINDABLE | MsFlags::MS_REC;
        let ops = plan_mounts(&unbindable).unwrap();
        assert_eq!(ops[0], MountOp::RootPropagation(MsFlags::MS_SLAVE | MsFlags::MS_REC));
        assert_eq!(plan_finish(&unbindable), [MountOp::NewRootPropagation(MsFlags::MS_UNBINDABLE | MsFlags::MS_REC)]);
    }

    #[test]
    fn filesystems_proc_sysfs_and_labels() {
        let list = mounts(
            r#"[{"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/sys", "type": "sysfs", "options": ["nosuid", "ro"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "mode=1777", "size=65536k", "remount"]}]"#,
        );
        let mut labelled = config(&list, &[]);
        labelled.mount_label = Some("system_u:object_r:container_file_t:s0");
        let ops = entry_ops(&labelled);
        assert_eq!(ops.len(), 3);
        assert!(matches!(&ops[0], MountOp::Filesystem { fs_type, no_symlinks: true, source, .. } if fs_type == "proc" && source == Path::new("proc")));
        assert!(
            matches!(&ops[1], MountOp::Filesystem { no_symlinks: true, source, flags, .. } if source == Path::new("sysfs") && flags.contains(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID))
        );
        assert!(matches!(&ops[0], MountOp::Filesystem { changed_after: false, .. }), "nothing follows: no proof of the mount is needed");
        let MountOp::Filesystem { flags, data, no_symlinks: false, copy_up: false, .. } = &ops[2] else { panic!("{:?}", ops[2]) };
        assert!(!flags.contains(MsFlags::MS_REMOUNT), "no remount on a fresh mount");
        assert_eq!(data.as_deref(), Some("mode=1777,size=65536k,context=\"system_u:object_r:container_file_t:s0\""));
    }

    #[test]
    fn binds_remounts_recursive_attributes_and_propagation() {
        let list = mounts(
            r#"[{"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro", "nosuid", "rslave"]},
                {"destination": "/etc/hosts", "source": "/etc/hosts", "options": ["bind", "rro"]},
                {"destination": "/ids", "source": "/srv/ids", "options": ["idmap"]}]"#,
        );
        let ops = entry_ops(&config(&list, &[2]));
        let data = PathBuf::from("/data");
        // The bind's options travel with it: they are set on the detached tree, not by a
        // remount that looks the destination up again.
        let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID;
        assert_eq!(
            ops[0],
            MountOp::Bind {
                index: 0,
                destination: data.clone(),
                source: PathBuf::from("/b/data"),
                recursive: true,
                idmapped: false,
                flags,
                cleared: MsFlags::empty()
            }
        );
        assert_eq!(ops[1], MountOp::MountPropagation { index: 0, destination: data, flag: MsFlags::MS_SLAVE | MsFlags::MS_REC });
        assert!(matches!(&ops[2], MountOp::Bind { index: 1, recursive: false, idmapped: false, .. }));
        assert!(matches!(&ops[3], MountOp::RecursiveAttributes { index: 1, set, .. } if *set != 0));
        assert!(matches!(&ops[4], MountOp::Bind { index: 2, idmapped: true, .. }), "an idmapped mount is attached, not bound: {:?}", ops[4]);
        assert_eq!(ops.len(), 5);
    }

    #[test]
    fn a_tmpfs_starts_with_the_covered_directorys_mode_unless_the_config_says() {
        assert_eq!(tmpfs_data(Some(0o2775), None).as_deref(), Some("mode=2775"));
        assert_eq!(tmpfs_data(Some(0o755), Some("size=1m,mode=1777")).as_deref(), Some("mode=0755,size=1m,mode=1777"));
        assert_eq!(tmpfs_data(Some(0o700), Some("")).as_deref(), Some("mode=0700"));
        assert_eq!(tmpfs_data(None, Some("size=1m")).as_deref(), Some("size=1m"));
        assert_eq!(tmpfs_data(None, None), None);
    }

    #[test]
    fn tmpcopyup_is_runcs_not_the_kernels() {
        let list = mounts(
            r#"[{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "tmpcopyup", "mode=1777"]},
                {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "notmpcopyup"]},
                {"destination": "/x", "type": "proc", "source": "proc", "options": ["tmpcopyup"]}]"#,
        );
        let ops = entry_ops(&config(&list, &[]));
        let MountOp::Filesystem { data, copy_up: true, changed_after: true, .. } = &ops[0] else { panic!("{:?}", ops[0]) };
        assert_eq!(data.as_deref(), Some("mode=1777"), "the option never reaches the kernel");
        assert!(matches!(&ops[1], MountOp::Filesystem { copy_up: false, changed_after: false, data: None, .. }), "the last one wins: {:?}", ops[1]);
        assert!(matches!(&ops[2], MountOp::Filesystem { copy_up: false, data: None, .. }), "only a tmpfs is copied into: {:?}", ops[2]);
    }

    #[test]
    fn a_read_only_tmpfs_or_dev_is_made_read_only_after_everything_under_it() {
        let list = mounts(
            r#"[{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "ro"]},
                {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]},
                {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
                {"destination": "/ro", "source": "/x", "options": ["rbind", "ro"]}]"#,
        );
        let c = config(&list, &[]);
        let ops = entry_ops(&c);
        let later = |op: &MountOp| matches!(op, MountOp::Filesystem { read_only_later: true, changed_after: true, .. });
        assert_eq!(ops.iter().map(later).collect::<Vec<_>>(), [true, true, false, false, false], "{ops:?}");
        assert_eq!(plan_finish(&c).first(), Some(&MountOp::SealReadonly));
        assert!(!plan_finish(&config(&list[2..], &[])).contains(&MountOp::SealReadonly));
    }

    #[test]
    fn a_bound_dev_skips_the_device_nodes() {
        let list = mounts(r#"[{"destination": "/dev", "source": "/dev", "options": ["rbind"]}]"#);
        let ops = plan_mounts(&config(&list, &[])).unwrap();
        assert!(!ops.iter().any(|op| matches!(op, MountOp::Devices { .. } | MountOp::DevSymlinks)));
        let mut in_userns = config(&[], &[]);
        in_userns.in_user_namespace = true;
        assert!(plan_mounts(&in_userns).unwrap().iter().any(|op| matches!(op, MountOp::Devices { bind: true, .. })));
    }

    #[test]
    fn cgroup_mounts_take_the_layout_the_runtime_found() {
        let list =
            mounts(r#"[{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]"#);
        let mut unified = config(&list, &[]);
        unified.cgroup_unified = true;
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV | MsFlags::MS_RELATIME | MsFlags::MS_RDONLY;
        assert_eq!(entry_ops(&unified), [MountOp::Cgroup { index: 0, destination: PathBuf::from("/sys/fs/cgroup"), flags, unified: true }]);
        assert!(matches!(entry_ops(&config(&list, &[]))[0], MountOp::Cgroup { unified: false, .. }));
    }

    #[test]
    fn without_a_mount_namespace_the_hosts_root_keeps_its_propagation() {
        let mut c = config(&[], &[]);
        c.host_mount_namespace = true;
        c.propagation = MsFlags::MS_SHARED | MsFlags::MS_REC;
        let ops = plan_mounts(&c).unwrap();
        assert_eq!(ops[0], MountOp::BindRootfs, "no RootPropagation, no RootfsParentPrivate: {ops:?}");
        assert!(!plan_finish(&c).iter().any(|op| matches!(op, MountOp::NewRootPropagation(_))));
    }

    #[test]
    fn paths_after_pivot_root() {
        let masked = ["/proc/kcore".to_string(), "/proc/kcore".to_string()];
        let readonly = ["/proc/sys".to_string()];
        let mut c = config(&[], &[]);
        c.masked_paths = &masked;
        c.readonly_paths = &readonly;
        c.readonly = true;
        assert_eq!(plan_finish(&c), [MountOp::ReadonlyPath("/proc/sys".into()), MountOp::MaskPath("/proc/kcore".into()), MountOp::ReadonlyRoot]);
    }

    #[test]
    fn refusals_and_failures_name_the_mount() {
        let list = mounts(r#"[{"destination": "/x", "options": ["bind"]}]"#);
        let error = plan_mounts(&config(&list, &[])).unwrap_err();
        assert_eq!(error.to_string(), "mounts[0] /x: a bind mount needs a source");
        let list = mounts(r#"[{"destination": "/tmp", "type": "tmpfs"}, {"destination": "/y", "source": "/refused", "options": ["bind"]}]"#);
        let mut recording = Recording::default();
        let error = execute_all(&mut recording, &plan_mounts(&config(&list, &[])).unwrap()).unwrap_err();
        // runc's words, then the entry
        assert!(error.to_string().starts_with("error mounting \"/refused\" to rootfs at \"/y\" (mounts[1]): "), "{error}");
        assert!(recording.0.iter().any(|op| matches!(op, MountOp::Filesystem { index: 0, .. })), "the first mount was made before");
    }
}
