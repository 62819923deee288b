//! The container's root filesystem, set up by init inside its new mount namespace: the
//! executor of `plan.rs`'s operations (propagation, the rootfs bind, the config's
//! mounts in order, `/dev`), then `pivot_root` (or `MS_MOVE` + `chroot` with `--no-pivot`),
//! masked and read-only paths, read-only root.
//!
//! `plan.rs` decides (pure: the config to a list of mount operations); this module executes
//! the list with the kernel; `devices.rs`, `console.rs` and `copy_up.rs` are the steps with
//! more to them than a mount. The system calls themselves are `crate::sys`'s.

pub mod console;
pub mod copy_up;
pub mod devices;
pub mod mount_options;
pub mod plan;

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{FsFlags, statvfs};

use self::devices::{create_dev_symlinks, create_device};
pub use self::plan::RootfsConfig;
use self::plan::{MountExecutor, MountOp, PlanError, execute_all, plan_finish, plan_mounts};
use crate::sys::fs_in_root::{NodeKind, RootDir, fd_path};
use crate::sys::mount_fd::{self, NewMountWitness};
use crate::sys::mountinfo::{V1CgroupDir, parse_mountinfo, parse_proc_cgroup, v1_cgroup_dirs};
use crate::sys::{MountFields, SysContext, SysError};

/// Mount everything into the rootfs, as [`plan_mounts`] decided (the switch into it is
/// [`enter_rootfs`], after the createRuntime and createContainer hooks). Runs in init, in
/// its own mount namespace.
/// `bind_sources` are sources the runtime opened for init, by index into `mounts`.
/// `late_idmap` gets the idmapped tree of a mount the runtime did not prepare beforehand (its
/// source is in the rootfs), by index.
pub fn setup_rootfs(
    config: &RootfsConfig,
    idmapped: &[(usize, OwnedFd)],
    bind_sources: &[(usize, OwnedFd)],
    late_idmap: &mut dyn FnMut(usize) -> Result<OwnedFd, SysError>,
) -> Result<ReadonlyLater, SetupError> {
    let ops = plan_mounts(config)?;
    let mut kernel =
        KernelMounts { root: None, config, idmapped, bind_sources, late_idmap: Some(late_idmap), made: None, read_only_later: Vec::new(), mask_tmpfs: None };
    execute_all(&mut kernel, &ops)?;
    Ok(ReadonlyLater(kernel.read_only_later))
}

/// The read-only tmpfs mounts (and `/dev`) setup left writable, by fd, for [`finish_rootfs`].
pub struct ReadonlyLater(Vec<(PathBuf, OwnedFd)>);

/// A rootfs that could not be set up: a config the plan refuses, or a failed operation.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The config asks for something that cannot be mounted.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// An operation failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// Switch into the prepared rootfs: `pivot_root`, or `MS_MOVE` + chroot with `--no-pivot`,
/// or, in the runtime's mount namespace, chroot alone (nothing of the host's is moved or
/// unmounted: runc's rule).
pub fn enter_rootfs(config: &RootfsConfig) -> Result<(), SysError> {
    if config.host_mount_namespace {
        nix::unistd::chdir(config.rootfs).on("chdir", config.rootfs.display())?;
        nix::unistd::chroot(".").on("chroot", config.rootfs.display())?;
        return nix::unistd::chdir("/").on("chdir", "/");
    }
    if config.no_pivot { move_root(config.rootfs) } else { pivot_root(config.rootfs) }
}

/// Take down what setup mounted for a container without a mount namespace of its own: the
/// rootfs's bind onto itself and everything under it, in the runtime's mount namespace
/// (runc leaves them). Only when that bind is found there; nothing else is touched.
pub fn unmount_host_rootfs(rootfs: &Path) -> Result<(), SysError> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| SysError::io("read", "/proc/self/mountinfo", &e))?;
    let point = rootfs.to_string_lossy();
    let at_rootfs: Vec<_> = parse_mountinfo(&text).into_iter().filter(|m| m.mount_point == point).collect();
    // The bind is the second mount there (over an engine's own, say an overlay), or the one
    // mount there, of a directory that is not its filesystem's root.
    let ours = at_rootfs.len() >= 2 || at_rootfs.first().is_some_and(|m| m.root != "/");
    if !ours {
        return Ok(());
    }
    match umount2(rootfs, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::EINVAL | Errno::ENOENT) => Ok(()),
        Err(errno) => Err(SysError::new("unmount", rootfs.display(), errno)),
    }
}

/// The steps after the switch and after the sysctls: read-only paths, masked paths,
/// read-only `/`, the deferred propagation ([`plan_finish`]).
pub fn finish_rootfs(config: &RootfsConfig, later: ReadonlyLater) -> Result<(), SysError> {
    let mut kernel = KernelMounts {
        root: Some(RootDir::open(Path::new("/"))?),
        config,
        idmapped: &[],
        bind_sources: &[],
        late_idmap: None,
        made: None,
        read_only_later: later.0,
        mask_tmpfs: None,
    };
    execute_all(&mut kernel, &plan_finish(config))
}

/// The executor that asks the kernel: every path inside the rootfs is reached through
/// [`RootDir`] (no symlink out of it), every mount made on an fd, and every change to a
/// mount made through the mount's own fd (`mount_fd.rs`), never by its path again.
struct KernelMounts<'a> {
    /// The rootfs, opened once it is bind-mounted (or `/` after the switch).
    root: Option<RootDir>,
    config: &'a RootfsConfig<'a>,
    /// Detached idmapped trees prepared by the runtime, by index into `mounts`.
    idmapped: &'a [(usize, OwnedFd)],
    /// Bind sources the runtime opened (O_PATH, in our mount namespace), by index.
    bind_sources: &'a [(usize, OwnedFd)],
    /// Asks the runtime for an idmapped tree it could not prepare beforehand.
    late_idmap: Option<&'a mut dyn FnMut(usize) -> Result<OwnedFd, SysError>>,
    /// The mount last made for `mounts[index]`, for the operations on it that follow.
    made: Option<(usize, OwnedFd)>,
    /// Mounts to make read-only once everything under them is made: where, and the mount.
    read_only_later: Vec<(PathBuf, OwnedFd)>,
    /// The read-only tmpfs over the first masked directory: the others get copies of it.
    mask_tmpfs: Option<OwnedFd>,
}

impl KernelMounts<'_> {
    fn root(&mut self) -> Result<&RootDir, SysError> {
        let root = match self.root.take() {
            Some(root) => root,
            None => RootDir::open(self.config.rootfs)?,
        };
        Ok(self.root.insert(root))
    }

    /// The mount made for `mounts[index]`.
    fn made_for(&self, index: usize, destination: &Path) -> Result<&OwnedFd, SysError> {
        match &self.made {
            Some((made, fd)) if *made == index => Ok(fd),
            _ => Err(SysError::refused("change the mount at", destination.display(), "no mount was made there")),
        }
    }
}

impl MountExecutor for KernelMounts<'_> {
    fn execute(&mut self, op: &MountOp) -> Result<(), SysError> {
        let config = self.config;
        match op {
            MountOp::RootPropagation(flags) => mount(None::<&str>, "/", None::<&str>, *flags, None::<&str>).on("set propagation of", "/"),
            MountOp::RootfsParentPrivate => make_parent_mount_private(config.rootfs),
            MountOp::BindRootfs => mount(Some(config.rootfs), config.rootfs, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                .on("bind mount rootfs", config.rootfs.display()),
            MountOp::Filesystem { index, destination, fs_type, source, flags, data, no_symlinks, changed_after, copy_up, read_only_later } => {
                let root = self.root()?;
                // runc: a tmpfs over a directory of the image starts with that directory's
                // mode; over one made for it, with the kernel's default (1777).
                let covered_mode = if fs_type == "tmpfs" {
                    root.resolve(destination).ok().and_then(|fd| nix::sys::stat::fstat(fd.as_raw_fd()).ok()).map(|st| st.st_mode & 0o7777)
                } else {
                    None
                };
                let data = self::plan::tmpfs_data(covered_mode, data.as_deref());
                let target = if *no_symlinks {
                    // runc's words, which callers look for, before ours.
                    root.ensure_no_symlinks(destination, NodeKind::Dir).map_err(|error| match error.errno {
                        Errno::ELOOP | Errno::ENOTDIR | Errno::EEXIST => {
                            error.within(format_args!("filesystem {fs_type:?} must be mounted on ordinary directory"))
                        }
                        _ => error,
                    })?
                } else {
                    root.ensure(destination, NodeKind::Dir)?
                };
                let witness = if *changed_after { Some(NewMountWitness::before(&target)?) } else { None };
                // The directory the tmpfs will hide, opened now: the fd keeps reaching it.
                let hidden = if *copy_up {
                    Some(
                        crate::sys::openat2(&target, Path::new("."), libc::O_RDONLY | libc::O_DIRECTORY, 0)
                            .on("open for tmpcopyup", root.display(destination))?,
                    )
                } else {
                    None
                };
                // A read-only tmpfs (to copy into, or to make mount points in) is mounted
                // writable and made read-only through its fd at the end.
                let mount_flags = if *read_only_later { *flags - MsFlags::MS_RDONLY } else { *flags };
                let made = match mount(Some(source.as_path()), fd_path(&target).as_str(), Some(fs_type.as_str()), mount_flags, data.as_deref()) {
                    // sysfs belongs to the network namespace: in a user namespace without a
                    // network namespace of its own (rootless) it cannot be mounted; bind the
                    // host's /sys with the options asked for instead, as crun does.
                    Err(Errno::EPERM) if fs_type == "sysfs" => Some(bind_instead(root, &target, destination, Path::new("/sys"), *flags)?),
                    Err(errno) => return Err(mount_error(root, destination, fs_type, Some(source), *flags, data.as_deref(), errno)),
                    // Operations on the new mount follow: find it again, and prove it is ours.
                    Ok(()) => match witness {
                        Some(witness) => Some(witness.prove(root.resolve(destination)?, root.display(destination))?),
                        None => None,
                    },
                };
                if let (Some(hidden), Some(mounted)) = (&hidden, &made) {
                    self::copy_up::copy_directory(hidden, mounted, &root.path().join(destination.strip_prefix("/").unwrap_or(destination)))?;
                }
                if let (true, Some(mounted)) = (*read_only_later, &made) {
                    let kept = mounted
                        .try_clone()
                        .map_err(|e| SysError::new("keep the mount at", root.display(destination), Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))))?;
                    self.read_only_later.push((destination.clone(), kept));
                }
                self.made = made.map(|fd| (*index, fd));
                Ok(())
            }
            MountOp::Bind { index, destination, source, recursive, idmapped, flags, cleared } => {
                let prepared = self.idmapped.iter().find(|(i, _)| i == index).map(|(_, fd)| fd).filter(|_| *idmapped);
                let late = match (prepared, *idmapped, self.late_idmap.as_mut()) {
                    (None, true, Some(ask)) => Some(ask(*index)?),
                    _ => None,
                };
                let tree = prepared.or(late.as_ref());
                let opened = self.bind_sources.iter().find(|(i, _)| i == index).map(|(_, fd)| fd);
                let root = self.root()?;
                let mounted = bind_mount(root, destination, source, *recursive, (*flags, *cleared), tree, opened)?;
                self.made = Some((*index, mounted));
                Ok(())
            }
            MountOp::RecursiveAttributes { index, destination, set, clear } => {
                let mounted = self.made_for(*index, destination)?;
                mount_fd::set_recursive_attributes(mounted, *set, *clear, destination.display())
            }
            MountOp::MountPropagation { index, destination, flag } => {
                let mounted = self.made_for(*index, destination)?;
                mount_fd::set_propagation(mounted, *flag, destination.display())
            }
            MountOp::Cgroup { destination, flags, unified, .. } => {
                let root = self.root()?;
                mount_cgroup(root, destination, *flags, *unified, config.cgroup_namespace, config.cgroup_dir)
            }
            MountOp::Devices { nodes, bind } => {
                let root = self.root()?;
                let old_umask = nix::sys::stat::umask(Mode::empty());
                let made = nodes.iter().try_for_each(|node| create_device(root, node, *bind));
                nix::sys::stat::umask(old_umask);
                made
            }
            MountOp::DevSymlinks => create_dev_symlinks(self.root()?),
            // A missing cwd is created, as runc does; the exec would otherwise fail later with less context.
            MountOp::Cwd(cwd) => self
                .root()?
                .ensure(cwd, NodeKind::Dir)
                .map(drop)
                .map_err(|e| SysError::new("create process.cwd in the container", format!("{}: {}", cwd.display(), e), e.errno)),
            MountOp::SealReadonly => self
                .read_only_later
                .drain(..)
                .try_for_each(|(destination, mounted)| crate::sys::mount_fd::set_flags(&mounted, MsFlags::MS_RDONLY, destination.display())),
            MountOp::ReadonlyPath(path) => make_readonly(self.root()?, path),
            MountOp::MaskPath(path) => {
                let mut shared = self.mask_tmpfs.take();
                let masked = mask_path(self.root()?, path, &mut shared);
                self.mask_tmpfs = shared;
                masked
            }
            MountOp::ReadonlyRoot => {
                let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked_flags(Path::new("/"))?;
                mount(None::<&str>, "/", None::<&str>, flags, None::<&str>).on("remount read-only", "/")
            }
            MountOp::NewRootPropagation(flags) => mount(None::<&str>, "/", None::<&str>, *flags, None::<&str>).on("set propagation of new", "/"),
        }
    }
}

/// Make the mount holding `path` private: the rootfs's parent mount, or the rootfs itself
/// when it is a mount point.
fn make_parent_mount_private(path: &Path) -> Result<(), SysError> {
    let mounts = parse_mountinfo(&read_proc("/proc/self/mountinfo")?);
    // The rootfs itself when it is a mount point (an engine's overlay), as runc picks it:
    // shared, it would make the bind of the rootfs a peer, which pivot_root refuses.
    let holder = mounts
        .iter()
        .map(|m| Path::new(&m.mount_point))
        .filter(|point| path.starts_with(point))
        .max_by_key(|point| point.as_os_str().len())
        .unwrap_or(Path::new("/"));
    mount(None::<&str>, holder, None::<&str>, MsFlags::MS_PRIVATE, None::<&str>).on("make private", holder.display())
}

/// Bind `source` at `destination` with the per-mount `flags` (set, cleared by name), or
/// attach the runtime's idmapped `tree` there: a detached tree whose flags are set before it
/// is attached onto the destination's fd. Returns the mount.
fn bind_mount(
    root: &RootDir,
    destination: &Path,
    source: &Path,
    recursive: bool,
    (flags, cleared): (MsFlags, MsFlags),
    tree: Option<&OwnedFd>,
    opened: Option<&OwnedFd>,
) -> Result<OwnedFd, SysError> {
    let is_dir = match opened {
        Some(fd) => nix::sys::stat::fstat(fd.as_raw_fd()).on("stat bind source", source.display())?.st_mode & libc::S_IFMT == libc::S_IFDIR,
        None => fs::metadata(source).map_err(|e| SysError::io("stat bind source", source.display(), &e))?.is_dir(),
    };
    let kind = if is_dir { NodeKind::Dir } else { NodeKind::File };
    let target = root.ensure(destination, kind)?;
    let display = root.display(destination);
    let tree = match tree {
        Some(idmapped) => idmapped.try_clone().map_err(|e| SysError::io("duplicate the idmapped tree of", &display, &e))?,
        None => match opened {
            Some(fd) => crate::sys::open_tree_clone_of(fd, source, recursive)?,
            None => crate::sys::open_tree_clone(source, recursive)?,
        },
    };
    mount_fd::set_bind_flags(&tree, flags, cleared, &display)?;
    mount_fd::attach(&tree, &target, &display)?;
    Ok(tree)
}

/// Where a user namespace may not mount a filesystem (sysfs, cgroup2), bind `source` from
/// the host at `target` instead, recursively, with the mount's read-only, nosuid, nodev and
/// noexec flags. Returns the mount.
fn bind_instead(root: &RootDir, target: &OwnedFd, destination: &Path, source: &Path, flags: MsFlags) -> Result<OwnedFd, SysError> {
    let kept = flags & (MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC);
    let display = format!("{} on {}", source.display(), root.display(destination));
    let tree = mount_fd::detached_bind(source, true, kept).map_err(|error| error.within("bind (the filesystem is refused in this user namespace)"))?;
    mount_fd::attach(&tree, target, display)?;
    Ok(tree)
}

/// `type: cgroup` as runc does it: on a cgroup2 host the cgroup2 filesystem itself; on v1
/// and hybrid hosts a tmpfs holding a bind mount of the process's own cgroup from each
/// hierarchy (so the container sees its cgroup, not the host's tree).
fn mount_cgroup(root: &RootDir, destination: &Path, flags: MsFlags, unified: bool, cgroup_namespace: bool, cgroup_dir: Option<&Path>) -> Result<(), SysError> {
    let target = root.ensure(destination, NodeKind::Dir)?;
    if unified {
        return match mount(Some("cgroup2"), fd_path(&target).as_str(), Some("cgroup2"), flags, None::<&str>) {
            // A user namespace may be refused a cgroup2 mount (rootless without a cgroup
            // namespace of its own, say): bind the container's cgroup (with a cgroup
            // namespace) or the hierarchy instead, as runc does.
            Err(Errno::EPERM | Errno::EBUSY) => {
                let source = cgroup_dir.filter(|_| cgroup_namespace).unwrap_or(Path::new(crate::cgroups::CGROUP_ROOT));
                bind_instead(root, &target, destination, source, flags).map(drop)
            }
            result => result.on("mount cgroup2 on", root.display(destination)),
        };
    }
    // The tmpfs is made detached and attached by fd; everything below happens inside it,
    // through its fd. It is new and in this mount namespace alone, so nobody else can rename
    // a name in it, and looking one up in it again is safe.
    let tmpfs_flags = flags - MsFlags::MS_RDONLY;
    let tmpfs = mount_fd::detached_tmpfs("755", tmpfs_flags)?;
    mount_fd::attach(&tmpfs, &target, root.display(destination))?;
    let own = parse_proc_cgroup(&read_proc("/proc/self/cgroup")?);
    // Only the host's own mounts of each hierarchy: an earlier rbind of /sys into the rootfs
    // (rootless specs bind /sys) shows them again below the rootfs.
    for V1CgroupDir { hierarchy, name, dir: source } in v1_cgroup_dirs(&read_proc("/proc/self/mountinfo")?, &own) {
        let sub = root.display(&destination.join(&name));
        match nix::sys::stat::mkdirat(Some(tmpfs.as_raw_fd()), name.as_str(), Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(errno) => return Err(SysError::new("mkdir", &sub, errno)),
        }
        let open_sub = || crate::sys::openat2(&tmpfs, Path::new(&name), libc::O_PATH | libc::O_DIRECTORY, libc::RESOLVE_NO_SYMLINKS).on("open", &sub);
        let sub_fd = open_sub()?;
        if cgroup_namespace {
            // In its own cgroup namespace a fresh mount of the hierarchy shows the container's
            // cgroup as its root (/proc/self/cgroup paths are relative to it: a bind of
            // "<mount>/<path>" would show the host's root instead).
            let named = hierarchy.controllers.iter().all(|c| c.starts_with("name="));
            let data = if named { format!("none,{}", hierarchy.controllers.join(",")) } else { hierarchy.controllers.join(",") };
            mount(Some("cgroup"), fd_path(&sub_fd).as_str(), Some("cgroup"), flags - MsFlags::MS_RDONLY, Some(data.as_str()))
                .on("mount cgroup", format!("{data} on {sub}"))?;
            // The name now leads to the new mount (inside our own tmpfs, see above).
            let mounted = open_sub()?;
            mount(None::<&str>, fd_path(&mounted).as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags, None::<&str>)
                .on("remount cgroup", &sub)?;
        } else {
            let tree = mount_fd::detached_bind(&source, true, flags)?;
            mount_fd::attach(&tree, &sub_fd, &sub)?;
        }
        // A co-mounted hierarchy (`cpu,cpuacct`) is also reachable by each controller's name.
        if name.contains(',') {
            for part in name.split(',') {
                match nix::unistd::symlinkat(name.as_str(), Some(tmpfs.as_raw_fd()), part) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(errno) => return Err(SysError::new("symlink", root.display(&destination.join(part)), errno)),
                }
            }
        }
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        mount(None::<&str>, fd_path(&tmpfs).as_str(), None::<&str>, MsFlags::MS_REMOUNT | tmpfs_flags | MsFlags::MS_RDONLY, Some("mode=755"))
            .on("remount read-only", root.display(destination))?;
    }
    Ok(())
}

fn read_proc(path: &str) -> Result<String, SysError> {
    fs::read_to_string(path).map_err(|e| SysError::io("read", path, &e))
}

fn mount_error(root: &RootDir, destination: &Path, fs_type: &str, source: Option<&Path>, flags: MsFlags, data: Option<&str>, errno: Errno) -> SysError {
    let fields = MountFields { source: source.map(|s| s.display().to_string()), fs_type: Some(fs_type.to_string()), flags, data: data.map(String::from) };
    SysError::mount("mount", root.display(destination), fields, errno)
}

/// `pivot_root(".", ".")`: the old root ends up stacked on the new one and is detached, so no
/// temporary directory is needed inside the image.
fn pivot_root(rootfs: &Path) -> Result<(), SysError> {
    let old_root = crate::sys::openat_owned(None, Path::new("/"), OFlag::O_DIRECTORY | OFlag::O_RDONLY, Mode::empty()).on("open", "/")?;
    nix::unistd::chdir(rootfs).on("chdir", rootfs.display())?;
    nix::unistd::pivot_root(".", ".").on("pivot_root", rootfs.display())?;
    nix::unistd::fchdir(old_root.as_raw_fd()).on("fchdir", "old root")?;
    // Make the old root a slave so detaching it does not unmount anything on the host.
    mount(None::<&str>, ".", None::<&str>, MsFlags::MS_SLAVE | MsFlags::MS_REC, None::<&str>).on("make old root rslave", ".")?;
    umount2(".", MntFlags::MNT_DETACH).on("unmount old root", ".")?;
    nix::unistd::chdir("/").on("chdir", "/")
}

/// `--no-pivot`: move the rootfs over `/` and chroot into it (for ramfs roots).
fn move_root(rootfs: &Path) -> Result<(), SysError> {
    hide_full_proc_and_sys(rootfs)?;
    nix::unistd::chdir(rootfs).on("chdir", rootfs.display())?;
    mount(Some(rootfs), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>).on("move mount to /", rootfs.display())?;
    nix::unistd::chroot(".").on("chroot", rootfs.display())?;
    nix::unistd::chdir("/").on("chdir", "/")
}

/// Before a chroot, take away this mount namespace's whole procfs and sysfs mounts outside
/// the rootfs (runc's rule). The kernel lets a user namespace mount a new proc or sysfs
/// only where a fully visible one exists in the mount namespace: after a chroot the host's
/// `/proc` is still there, behind the root, and would let the container mount a bare
/// `/proc` without its masked paths. Each is made a slave first, so that the unmount does not
/// reach the host. Where it cannot be unmounted, it is covered with an empty tmpfs.
fn hide_full_proc_and_sys(rootfs: &Path) -> Result<(), SysError> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| SysError::io("read", "/proc/self/mountinfo", &e))?;
    let mut exposed: Vec<_> = crate::sys::mountinfo::parse_mountinfo(&text)
        .into_iter()
        .filter(|entry| entry.root == "/" && matches!(entry.fs_type.as_str(), "proc" | "sysfs") && !Path::new(&entry.mount_point).starts_with(rootfs))
        .map(|entry| entry.mount_point)
        .collect();
    // Deepest first: /proc/sys/fs/binfmt_misc's proc parent must not go before it is handled.
    exposed.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in &exposed {
        match mount(None::<&str>, point.as_str(), None::<&str>, MsFlags::MS_SLAVE | MsFlags::MS_REC, None::<&str>) {
            // A parent unmounted already took it along.
            Err(Errno::ENOENT | Errno::EINVAL) => continue,
            other => other.on("make rslave before hiding", point)?,
        }
        match umount2(point.as_str(), MntFlags::MNT_DETACH) {
            Ok(()) => {}
            Err(Errno::EINVAL | Errno::EPERM) => {
                mount(Some("tmpfs"), point.as_str(), Some("tmpfs"), MsFlags::empty(), None::<&str>).on("cover with tmpfs", point)?
            }
            Err(errno) => return Err(SysError::new("unmount", point, errno)),
        }
    }
    Ok(())
}

/// Bind `path` onto itself read-only; missing paths are skipped, as the spec allows.
fn make_readonly(root: &RootDir, path: &Path) -> Result<(), SysError> {
    let target = match root.resolve(path) {
        Ok(fd) => fd,
        Err(e) if e.errno == Errno::ENOENT => return Ok(()),
        Err(e) => return Err(e),
    };
    // A read-only copy of the path's tree, attached onto the very object resolved.
    let tree = mount_fd::detached_bind(Path::new(&fd_path(&target)), true, MsFlags::MS_RDONLY).map_err(|error| error.within(path.display()))?;
    mount_fd::attach(&tree, &target, path.display())
}

/// Hide `path`: a directory under an empty read-only tmpfs, a file under `/dev/null`.
/// Hide `path`: a directory under a read-only empty tmpfs, one filesystem shared by every
/// masked directory (`shared`, as runc 1.5 does: one superblock, not one per path), a file
/// under /dev/null.
fn mask_path(root: &RootDir, path: &Path, shared: &mut Option<OwnedFd>) -> Result<(), SysError> {
    let target = match root.resolve(path) {
        Ok(fd) => fd,
        Err(e) if matches!(e.errno, Errno::ENOENT | Errno::ENOTDIR) => return Ok(()),
        Err(e) => return Err(e),
    };
    let target_path = fd_path(&target);
    let is_dir = nix::sys::stat::fstat(target.as_raw_fd()).on("stat", path.display()).map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)?;
    if is_dir {
        let tree = match shared {
            Some(first) => crate::sys::open_tree_clone_of(first, path, false)?,
            None => mount_fd::detached_tmpfs("1777", MsFlags::MS_RDONLY).map_err(|e| e.within(format_args!("mask directory {}", path.display())))?,
        };
        mount_fd::attach(&tree, &target, path.display())?;
        if shared.is_none() {
            *shared = Some(tree);
        }
        Ok(())
    } else {
        let null = null_device(root)?;
        mount(Some(fd_path(&null).as_str()), target_path.as_str(), None::<&str>, MsFlags::MS_BIND, None::<&str>).on("mask file", path.display())
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
        return Err(SysError::refused("mask with", "/dev/null", "it is not the null device (1:3)"));
    }
    Ok(null)
}

/// The flags of an existing mount that a remount must repeat (the kernel refuses to drop
/// nosuid/nodev/noexec/atime flags locked by a less privileged mount namespace).
fn locked_flags(path: &Path) -> Result<MsFlags, SysError> {
    let stat = statvfs(path).on("statvfs", path.display())?;
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

/// The rootfs path as the spec gives it, made absolute against the bundle.
pub fn absolute_rootfs(bundle: &Path, root_path: &Path) -> PathBuf {
    if root_path.is_absolute() { root_path.to_path_buf() } else { bundle.join(root_path) }
}
