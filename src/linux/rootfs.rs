//! The container's root filesystem, set up by init inside its new mount namespace:
//! propagation, the rootfs bind, the config's mounts in order, `/dev`, then `pivot_root`
//! (or `MS_MOVE` + `chroot` with `--no-pivot`), masked and read-only paths, read-only root.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{FsFlags, statvfs};
use oci_spec::runtime::{LinuxDevice, Mount};

use super::devices::{create_dev_symlinks, create_device, devices_to_create};
use super::fs_in_root::{NodeKind, RootDir, fd_path};
use super::mount_options::{MountOptions, parse_mount_options};
use super::mountinfo::{cgroup_hierarchies, cgroup_path_in, parse_mountinfo, parse_proc_cgroup};
use super::{SysContext, SysError};

/// Everything rootfs setup needs from the spec and the command line.
#[derive(Debug)]
pub struct RootfsPlan<'a> {
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
    /// The container's cgroup directory on the host (for a bind where cgroup2 cannot be
    /// mounted), if it has a cgroup.
    pub cgroup_dir: Option<&'a Path>,
    /// Detached idmapped trees prepared by the runtime, by index into `mounts`.
    pub idmapped: &'a [(usize, std::os::fd::OwnedFd)],
    /// `linux.mountLabel`: the SELinux context of new filesystems.
    pub mount_label: Option<&'a str>,
}

/// Mount everything into the rootfs (the switch into it is [`enter_rootfs`], after the
/// createRuntime and createContainer hooks). Runs in init, in its own mount namespace.
pub fn setup_rootfs(plan: &RootfsPlan) -> Result<(), SysError> {
    // Stop our mounts from propagating to the host (and, with rslave, keep receiving its
    // unmounts). Shared and unbindable are applied to the new root after the switch: an
    // unbindable tree cannot be bind-mounted from, and pivot_root refuses a shared parent.
    let applied_later = deferred_propagation(plan.propagation);
    let now = if applied_later { MsFlags::MS_SLAVE } else { plan.propagation };
    mount(None::<&str>, "/", None::<&str>, now | MsFlags::MS_REC, None::<&str>).on("set propagation of", "/")?;
    if plan.propagation.contains(MsFlags::MS_SHARED) {
        make_parent_mount_private(plan.rootfs)?;
    }
    // pivot_root needs the new root to be a mount point.
    mount(Some(plan.rootfs), plan.rootfs, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .on("bind mount rootfs", plan.rootfs.display())?;
    let root = RootDir::open(plan.rootfs)?;
    for (index, spec_mount) in plan.mounts.iter().enumerate() {
        let idmapped = plan.idmapped.iter().find(|(i, _)| *i == index).map(|(_, fd)| fd);
        mount_entry(&root, plan, spec_mount, idmapped)
            .map_err(|e| e.within(format_args!("mounts[{index}] {}", spec_mount.destination().display())))?;
    }
    let dev_is_bound = plan.mounts.iter().any(|m| {
        m.destination() == Path::new("/dev") && parse_mount_options(m.options().as_deref().unwrap_or_default()).is_bind()
    });
    if !dev_is_bound {
        let old_umask = nix::sys::stat::umask(Mode::empty());
        for device in devices_to_create(plan.devices) {
            create_device(&root, &device, plan.in_user_namespace)?;
        }
        nix::sys::stat::umask(old_umask);
        create_dev_symlinks(&root)?;
    }
    // A missing cwd is created, as runc does; the exec would otherwise fail later with less context.
    root.ensure(plan.cwd, NodeKind::Dir)
        .map_err(|e| SysError::new("create process.cwd in the container", format!("{}: {}", plan.cwd.display(), e), e.errno))?;
    Ok(())
}

/// Switch into the prepared rootfs: `pivot_root`, or `MS_MOVE` + chroot with `--no-pivot`.
pub fn enter_rootfs(plan: &RootfsPlan) -> Result<(), SysError> {
    if plan.no_pivot { move_root(plan.rootfs) } else { pivot_root(plan.rootfs) }
}

/// Propagation types that can only be set once the new root is in place.
fn deferred_propagation(propagation: MsFlags) -> bool {
    propagation.intersects(MsFlags::MS_SHARED | MsFlags::MS_UNBINDABLE)
}

/// Make the mount holding `path`'s parent directory private.
fn make_parent_mount_private(path: &Path) -> Result<(), SysError> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    let mounts = parse_mountinfo(&read_proc("/proc/self/mountinfo")?);
    let holder = mounts
        .iter()
        .map(|m| Path::new(&m.mount_point))
        .filter(|point| parent.starts_with(point))
        .max_by_key(|point| point.as_os_str().len())
        .unwrap_or(Path::new("/"));
    mount(None::<&str>, holder, None::<&str>, MsFlags::MS_PRIVATE, None::<&str>).on("make private", holder.display())
}

/// The steps after the switch and after sysctls are written (as runc orders them: the
/// read-only `/proc/sys` would refuse them): read-only paths, masked paths, read-only `/`.
pub fn finish_rootfs(plan: &RootfsPlan) -> Result<(), SysError> {
    let root = RootDir::open(Path::new("/"))?;
    for path in plan.readonly_paths {
        make_readonly(&root, Path::new(path))?;
    }
    for path in plan.masked_paths {
        mask_path(&root, Path::new(path))?;
    }
    if plan.readonly {
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked_flags(Path::new("/"))?;
        mount(None::<&str>, "/", None::<&str>, flags, None::<&str>).on("remount read-only", "/")?;
    }
    // Last: the propagation asked for, now that no more bind mounts are made from `/`.
    if deferred_propagation(plan.propagation) {
        mount(None::<&str>, "/", None::<&str>, plan.propagation, None::<&str>).on("set propagation of new", "/")?;
    }
    Ok(())
}

fn mount_entry(root: &RootDir, plan: &RootfsPlan, spec_mount: &Mount, idmapped: Option<&std::os::fd::OwnedFd>) -> Result<(), SysError> {
    let options = parse_mount_options(spec_mount.options().as_deref().unwrap_or_default());
    let fs_type = spec_mount.typ().as_deref().unwrap_or("");
    let destination = spec_mount.destination();
    if fs_type == "cgroup" {
        return mount_cgroup(root, destination, &options, plan.cgroup_namespace, plan.cgroup_dir);
    }
    if options.is_bind() || idmapped.is_some() {
        return bind_mount(root, plan, spec_mount, &options, idmapped);
    }
    // proc and sysfs carry the files the runtime later writes or masks: their mount points
    // must be real directories (CVE-2023-27561, CVE-2019-19921).
    let target = if matches!(fs_type, "proc" | "sysfs") { root.ensure_no_symlinks(destination, NodeKind::Dir)? } else { root.ensure(destination, NodeKind::Dir)? };
    let source = spec_mount.source().as_ref().map(|s| s.as_os_str()).unwrap_or(fs_type.as_ref());
    let data = match plan.mount_label {
        Some(label) if super::lsm::takes_mount_label(fs_type, false) => Some(super::lsm::with_mount_label(options.data_string().as_deref(), label)),
        _ => options.data_string(),
    };
    // MS_REMOUNT is meaningless on a fresh mount; kernels refuse flags we cannot apply here.
    let flags = options.flags - MsFlags::MS_REMOUNT;
    match mount(Some(source), fd_path(&target).as_str(), Some(fs_type), flags, data.as_deref()) {
        // sysfs belongs to the network namespace: in a user namespace without a network
        // namespace of its own (rootless) it cannot be mounted; bind the host's /sys with
        // the options asked for instead, as crun does.
        Err(Errno::EPERM) if fs_type == "sysfs" => bind_instead(root, &target, destination, Path::new("/sys"), options.flags)?,
        result => result.map_err(|errno| mount_error(root, destination, fs_type, &options, errno))?,
    }
    apply_recursive_attributes(root, destination, &options)?;
    apply_propagation(root, destination, &options)
}

/// `rro`, `rnosuid` and the other recursive options: mount_setattr(AT_RECURSIVE) on the new
/// mount and everything below it.
fn apply_recursive_attributes(root: &RootDir, destination: &Path, options: &MountOptions) -> Result<(), SysError> {
    if options.recursive_set == 0 && options.recursive_clear == 0 {
        return Ok(());
    }
    let mounted = root.resolve(destination)?;
    super::mount_setattr(&mounted, true, options.recursive_set, options.recursive_clear, None::<&OwnedFd>)
        .on("mount_setattr (recursive options) on", root.display(destination))
}

fn bind_mount(root: &RootDir, plan: &RootfsPlan, spec_mount: &Mount, options: &MountOptions, idmapped: Option<&std::os::fd::OwnedFd>) -> Result<(), SysError> {
    let destination = spec_mount.destination();
    let source = match spec_mount.source() {
        Some(source) if source.is_absolute() => source.clone(),
        Some(source) => plan.bundle.join(source),
        None => return Err(SysError::new("bind mount without source to", destination.display(), Errno::EINVAL)),
    };
    let metadata = fs::metadata(&source).map_err(|e| {
        SysError::new("stat bind source", source.display(), Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
    })?;
    let kind = if metadata.is_dir() { NodeKind::Dir } else { NodeKind::File };
    let target = root.ensure(destination, kind)?;
    if let Some(tree) = idmapped {
        super::idmap::attach_tree(tree, &target, &root.path().join(destination.strip_prefix("/").unwrap_or(destination)))?;
    } else {
        let bind_flags = options.flags & (MsFlags::MS_BIND | MsFlags::MS_REC);
        mount(Some(&source), fd_path(&target).as_str(), None::<&str>, bind_flags, None::<&str>)
            .map_err(|errno| mount_error(root, destination, "bind", options, errno))?;
    }
    let extra = options.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if !extra.is_empty() {
        // A bind mount ignores its flags; they take effect on a remount of the new mount.
        let mounted = root.resolve(destination)?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | extra | locked_flags_fd(&mounted)?;
        mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, flags, None::<&str>)
            .map_err(|errno| mount_error(root, destination, "remount bind", options, errno))?;
    }
    apply_recursive_attributes(root, destination, options)?;
    apply_propagation(root, destination, options)
}

fn apply_propagation(root: &RootDir, destination: &Path, options: &MountOptions) -> Result<(), SysError> {
    for flag in &options.propagation {
        let mounted = root.resolve(destination)?;
        mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, *flag, None::<&str>)
            .on("set propagation of", root.display(destination))?;
    }
    Ok(())
}

/// Where a user namespace may not mount a filesystem (sysfs, cgroup2), bind `source` from
/// the host at `target` instead, recursively, with the mount's read-only, nosuid, nodev and
/// noexec flags.
fn bind_instead(root: &RootDir, target: &OwnedFd, destination: &Path, source: &Path, flags: MsFlags) -> Result<(), SysError> {
    mount(Some(source), fd_path(target).as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .on("bind mount (the filesystem is refused in this user namespace)", format!("{} on {}", source.display(), root.display(destination)))?;
    let mounted = root.resolve(destination)?;
    let kept = flags & (MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | kept | locked_flags_fd(&mounted)?, None::<&str>)
        .on("remount bind", root.display(destination))
}

/// `type: cgroup` as runc does it: on a cgroup2 host the cgroup2 filesystem itself; on v1
/// and hybrid hosts a tmpfs holding a bind mount of the process's own cgroup from each
/// hierarchy (so the container sees its cgroup, not the host's tree).
fn mount_cgroup(root: &RootDir, destination: &Path, options: &MountOptions, cgroup_namespace: bool, cgroup_dir: Option<&Path>) -> Result<(), SysError> {
    let target = root.ensure(destination, NodeKind::Dir)?;
    let flags = options.flags - (MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if is_cgroup2_root()? {
        return match mount(Some("cgroup2"), fd_path(&target).as_str(), Some("cgroup2"), flags, None::<&str>) {
            // A user namespace may be refused a cgroup2 mount (rootless without a cgroup
            // namespace of its own, say): bind the container's cgroup (with a cgroup
            // namespace) or the hierarchy instead, as runc does.
            Err(Errno::EPERM | Errno::EBUSY) => {
                let source = cgroup_dir.filter(|_| cgroup_namespace).unwrap_or(Path::new(crate::cgroups::CGROUP_ROOT));
                bind_instead(root, &target, destination, source, flags)
            }
            result => result.on("mount cgroup2 on", root.display(destination)),
        };
    }
    let tmpfs_flags = flags - MsFlags::MS_RDONLY;
    mount(Some("tmpfs"), fd_path(&target).as_str(), Some("tmpfs"), tmpfs_flags, Some("mode=755"))
        .on("mount tmpfs for cgroups on", root.display(destination))?;
    let mountinfo = read_proc("/proc/self/mountinfo")?;
    let own = parse_proc_cgroup(&read_proc("/proc/self/cgroup")?);
    // On a hybrid host the cgroup2 tree is left out, as runc leaves it out.
    // Only the host's own mounts of each hierarchy: an earlier rbind of /sys into the rootfs
    // (rootless specs bind /sys) shows them again below the rootfs.
    let host_mounts = cgroup_hierarchies(&parse_mountinfo(&mountinfo))
        .into_iter()
        .filter(|h| !h.unified && Path::new(&h.mount_point).starts_with(crate::cgroups::CGROUP_ROOT));
    for hierarchy in host_mounts {
        let Some(path) = cgroup_path_in(&hierarchy, &own) else { continue };
        let Some(name) = Path::new(&hierarchy.mount_point).file_name() else { continue };
        // Paths in /proc/self/cgroup are relative to the hierarchy root, the mount may be deeper.
        let relative = Path::new(path).strip_prefix(&hierarchy.root).unwrap_or(Path::new(path));
        let source = Path::new(&hierarchy.mount_point).join(relative.strip_prefix("/").unwrap_or(relative));
        let sub = destination.join(name);
        let sub_fd = root.ensure(&sub, NodeKind::Dir)?;
        if cgroup_namespace {
            // In its own cgroup namespace a fresh mount of the hierarchy shows the container's
            // cgroup as its root (/proc/self/cgroup paths are relative to it: a bind of
            // "<mount>/<path>" would show the host's root instead).
            let named = hierarchy.controllers.iter().all(|c| c.starts_with("name="));
            let data = if named { format!("none,{}", hierarchy.controllers.join(",")) } else { hierarchy.controllers.join(",") };
            mount(Some("cgroup"), fd_path(&sub_fd).as_str(), Some("cgroup"), flags - MsFlags::MS_RDONLY, Some(data.as_str()))
                .on("mount cgroup", format!("{data} on {}", root.display(&sub)))?;
        } else {
            mount(Some(&source), fd_path(&sub_fd).as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                .on("bind mount cgroup", source.display())?;
        }
        let mounted = root.resolve(&sub)?;
        mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags, None::<&str>)
            .on("remount cgroup", root.display(&sub))?;
        // A co-mounted hierarchy (`cpu,cpuacct`) is also reachable by each controller's name.
        let name = name.to_string_lossy();
        if name.contains(',') {
            for part in name.split(',') {
                let link_parent = root.ensure(destination, NodeKind::Dir)?;
                match nix::unistd::symlinkat(name.as_ref(), Some(link_parent.as_raw_fd()), part) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(errno) => return Err(SysError::new("symlink", root.display(&destination.join(part)), errno)),
                }
            }
        }
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        let mounted = root.resolve(destination)?;
        mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, MsFlags::MS_REMOUNT | tmpfs_flags | MsFlags::MS_RDONLY, Some("mode=755"))
            .on("remount read-only", root.display(destination))?;
    }
    Ok(())
}

fn is_cgroup2_root() -> Result<bool, SysError> {
    let stat = nix::sys::statfs::statfs("/sys/fs/cgroup").on("statfs", "/sys/fs/cgroup")?;
    Ok(stat.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

fn read_proc(path: &str) -> Result<String, SysError> {
    fs::read_to_string(path)
        .map_err(|e| SysError::new("read", path, Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))
}

fn mount_error(root: &RootDir, destination: &Path, fs_type: &str, options: &MountOptions, errno: Errno) -> SysError {
    SysError::new(
        "mount",
        format!("{fs_type} on {} (flags {:?}, data {:?})", root.display(destination), options.flags, options.data_string().unwrap_or_default()),
        errno,
    )
}

/// `pivot_root(".", ".")`: the old root ends up stacked on the new one and is detached, so no
/// temporary directory is needed inside the image.
fn pivot_root(rootfs: &Path) -> Result<(), SysError> {
    let old_root = nix::fcntl::open("/", OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .on("open", "/")?;
    let old_root = owned(old_root);
    nix::unistd::chdir(rootfs).on("chdir", rootfs.display())?;
    nix::unistd::pivot_root(".", ".").on("pivot_root", rootfs.display())?;
    nix::unistd::fchdir(old_root.as_raw_fd()).on("fchdir", "old root")?;
    // Make the old root a slave so detaching it does not unmount anything on the host.
    mount(None::<&str>, ".", None::<&str>, MsFlags::MS_SLAVE | MsFlags::MS_REC, None::<&str>)
        .on("make old root rslave", ".")?;
    umount2(".", MntFlags::MNT_DETACH).on("unmount old root", ".")?;
    nix::unistd::chdir("/").on("chdir", "/")
}

/// `--no-pivot`: move the rootfs over `/` and chroot into it (for ramfs roots).
fn move_root(rootfs: &Path) -> Result<(), SysError> {
    nix::unistd::chdir(rootfs).on("chdir", rootfs.display())?;
    mount(Some(rootfs), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>).on("move mount to /", rootfs.display())?;
    nix::unistd::chroot(".").on("chroot", rootfs.display())?;
    nix::unistd::chdir("/").on("chdir", "/")
}

/// Bind `path` onto itself read-only; missing paths are skipped, as the spec allows.
fn make_readonly(root: &RootDir, path: &Path) -> Result<(), SysError> {
    let target = match root.resolve(path) {
        Ok(fd) => fd,
        Err(e) if e.errno == Errno::ENOENT => return Ok(()),
        Err(e) => return Err(e),
    };
    let target_path = fd_path(&target);
    mount(Some(target_path.as_str()), target_path.as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .on("bind mount readonly path", path.display())?;
    let mounted = root.resolve(path)?;
    let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked_flags_fd(&mounted)?;
    mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, flags, None::<&str>)
        .on("remount read-only", path.display())
}

/// Hide `path`: a directory under an empty read-only tmpfs, a file under `/dev/null`.
fn mask_path(root: &RootDir, path: &Path) -> Result<(), SysError> {
    let target = match root.resolve(path) {
        Ok(fd) => fd,
        Err(e) if matches!(e.errno, Errno::ENOENT | Errno::ENOTDIR) => return Ok(()),
        Err(e) => return Err(e),
    };
    let target_path = fd_path(&target);
    let is_dir = nix::sys::stat::fstat(target.as_raw_fd())
        .on("stat", path.display())
        .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)?;
    if is_dir {
        mount(Some("tmpfs"), target_path.as_str(), Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>)
            .on("mask directory", path.display())
    } else {
        let null = null_device(root)?;
        mount(Some(fd_path(&null).as_str()), target_path.as_str(), None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .on("mask file", path.display())
    }
}

/// The container's /dev/null, verified to be the null device (1:3) and reached without a
/// symlink: masking binds it over the masked file, so a planted link or file would bind
/// something writable there instead (CVE-2025-31133).
fn null_device(root: &RootDir) -> Result<OwnedFd, SysError> {
    let null = root.resolve_no_symlinks(Path::new("/dev/null"))?;
    let stat = nix::sys::stat::fstat(null.as_raw_fd()).on("stat", "/dev/null")?;
    let is_null = stat.st_mode & libc::S_IFMT == libc::S_IFCHR && stat.st_rdev == nix::sys::stat::makedev(1, 3);
    if !is_null {
        return Err(SysError::new("mask with /dev/null", "/dev/null is not the null device (1:3)", Errno::EPERM));
    }
    Ok(null)
}

/// The flags of an existing mount that a remount must repeat (the kernel refuses to drop
/// nosuid/nodev/noexec/atime flags locked by a less privileged mount namespace).
fn locked_flags(path: &Path) -> Result<MsFlags, SysError> {
    let stat = statvfs(path).on("statvfs", path.display())?;
    Ok(flags_from_statvfs(stat.flags()))
}

fn locked_flags_fd(fd: &std::os::fd::OwnedFd) -> Result<MsFlags, SysError> {
    let stat = nix::sys::statvfs::fstatvfs(fd).on("statvfs", fd_path(fd))?;
    Ok(flags_from_statvfs(stat.flags()))
}

fn flags_from_statvfs(flags: FsFlags) -> MsFlags {
    let pairs = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    pairs.iter().filter(|(st, _)| flags.contains(*st)).fold(MsFlags::empty(), |acc, (_, ms)| acc | *ms)
}

fn owned(fd: i32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: only called with an fd `open` just returned.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// The rootfs path as the spec gives it, made absolute against the bundle.
pub fn absolute_rootfs(bundle: &Path, root_path: &Path) -> PathBuf {
    if root_path.is_absolute() { root_path.to_path_buf() } else { bundle.join(root_path) }
}
