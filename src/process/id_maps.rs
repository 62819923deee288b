//! The runtime's side of user-namespace ids: a new user namespace's maps, and the idmapped
//! bind mounts' trees (made before the clone, or late, in init's mount namespace).

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType};

use super::message::ToInit;
use super::{InitProcess, InitRequest, ProcessError, write_proc_file};
use crate::bundle::Bundle;
use crate::sys::SysError;
use crate::trace::Trace;

/// An idmapped mount of the config (`idmap`, `ridmap`, or mappings on the mount): its
/// source, whether recursive, and the id maps (its own or, as with runc, the container's).
pub(super) struct IdmapRequest<'a> {
    index: usize,
    source: std::path::PathBuf,
    /// `rbind`: the subtree is cloned.
    rbind: bool,
    /// `ridmap`: every mount of the tree is mapped, not only its top.
    ridmap: bool,
    uid: &'a [oci_spec::runtime::LinuxIdMapping],
    gid: &'a [oci_spec::runtime::LinuxIdMapping],
    /// The source lies in the rootfs: under the container's earlier mounts, it exists only in
    /// init's mount namespace once those are made, so the tree is made when init gets there.
    late: bool,
    entry: String,
}

/// The config's idmapped mounts, in order.
pub(super) fn idmap_requests(bundle: &Bundle) -> Result<Vec<IdmapRequest<'_>>, ProcessError> {
    let linux = bundle.spec().linux().as_ref();
    let mut requests = Vec::new();
    for (index, mount) in bundle.spec().mounts().as_deref().unwrap_or_default().iter().enumerate() {
        let options = crate::rootfs::mount_options::parse_mount_options(mount.options().as_deref().unwrap_or_default());
        let own_uid = mount.uid_mappings().as_deref().unwrap_or_default();
        let own_gid = mount.gid_mappings().as_deref().unwrap_or_default();
        if options.idmap.is_none() && own_uid.is_empty() && own_gid.is_empty() {
            continue;
        }
        // Validated by the bundle: a bind mount with mappings, its own or the container's.
        let uid = if own_uid.is_empty() { linux.and_then(|l| l.uid_mappings().as_deref()).unwrap_or_default() } else { own_uid };
        let gid = if own_gid.is_empty() { linux.and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default() } else { own_gid };
        let entry = format!("mounts[{index}] {}", mount.destination().display());
        let Some(source) = crate::rootfs::plan::bind_source(mount, bundle.dir()) else {
            return Err(SysError::refused("prepare", "an idmapped mount", "it has no source").within(entry).into());
        };
        let rbind = options.flags.contains(nix::mount::MsFlags::MS_REC);
        // (mappings on the mount without idmap or ridmap: the top only, as runc)
        let ridmap = options.idmap.unwrap_or(false);
        let late = bundle.in_rootfs(&source);
        requests.push(IdmapRequest { index, source, rbind, ridmap, uid, gid, late, entry });
    }
    Ok(requests)
}

/// The idmapped mounts, prepared before the clone or left for init to ask for.
pub(super) struct IdmappedMounts {
    /// Detached idmapped trees, by mount index: made here, as host root.
    pub trees: Vec<(usize, OwnedFd)>,
    /// The mounts whose source lies in the rootfs, by index ([`IdmapRequest::late`]).
    pub late: Vec<usize>,
}

/// The idmapped mounts' trees, those whose source is outside the rootfs; the others' indexes.
pub(super) fn prepare_idmapped_mounts(bundle: &Bundle) -> Result<IdmappedMounts, ProcessError> {
    let mut prepared = IdmappedMounts { trees: Vec::new(), late: Vec::new() };
    for request in idmap_requests(bundle)? {
        if request.late {
            prepared.late.push(request.index);
            continue;
        }
        let userns = idmap_user_namespace(bundle, &request)?;
        let tree = crate::sys::idmap::idmapped_tree(&request.source, request.rbind, request.ridmap, &userns).map_err(|e| e.within(&request.entry))?;
        prepared.trees.push((request.index, tree));
    }
    Ok(prepared)
}

/// The user namespace whose maps an idmapped mount takes: one made with its maps (the
/// mount's own, or the container's), or, with none given, the user namespace the container
/// joins by path (runc's implied mapping).
pub(super) fn idmap_user_namespace(bundle: &Bundle, idmap: &IdmapRequest) -> Result<OwnedFd, ProcessError> {
    if idmap.uid.is_empty() && idmap.gid.is_empty() {
        let joined = bundle.namespaces().join.iter().find(|(kind, _)| *kind == LinuxNamespaceType::User).map(|(_, path)| path.clone());
        if let Some(path) = joined {
            return Ok(crate::sys::open_fd(&path, nix::fcntl::OFlag::O_RDONLY, "open the joined user namespace for").map_err(|e| e.within(&idmap.entry))?);
        }
    }
    Ok(crate::sys::idmap::user_namespace_with(idmap.uid, idmap.gid).map_err(|e| e.within(&idmap.entry))?)
}

/// `IdmapPlease(index)`: make the idmapped tree of `mounts[index]` in init's mount namespace,
/// where its source now lies under the container's earlier mounts, and pass it to init. A
/// helper process joins that namespace (a detached tree can only be cloned from one's own),
/// makes the tree and sends it back.
pub(super) fn make_late_idmap(init: &InitProcess, request: &InitRequest, index: usize, trace: &dyn Trace) -> Result<(), ProcessError> {
    let requests = idmap_requests(request.bundle)?;
    let Some(idmap) = requests.iter().find(|r| r.index == index && r.late) else {
        return Err(ProcessError::Protocol {
            who: "container init",
            what: format!("asked for an idmapped tree of mounts[{index}], which is not one to make late"),
        });
    };
    let userns = idmap_user_namespace(request.bundle, idmap)?;
    let mount_namespace = crate::sys::open_fd(Path::new(&format!("/proc/{}/ns/mnt", init.pid)), nix::fcntl::OFlag::O_RDONLY, "open init's mount namespace")?;
    let (ours, helpers) = std::os::unix::net::UnixStream::pair().map_err(|e| SysError::io("socketpair", "idmap helper", &e))?;
    match crate::sys::clone::clone_process(nix::sched::CloneFlags::empty(), None)? {
        crate::sys::clone::Forked::Child => {
            drop(ours);
            let made = nix::sched::setns(&mount_namespace, nix::sched::CloneFlags::CLONE_NEWNS)
                .map_err(|errno| SysError::new("setns", "init's mount namespace", errno))
                .and_then(|()| crate::sys::idmap::idmapped_tree(&idmap.source, idmap.rbind, idmap.ridmap, &userns));
            let sent = match made {
                Ok(tree) => crate::sys::fd_passing::send_fd(&helpers, b"tree", tree.as_raw_fd()).is_ok(),
                Err(error) => {
                    let _ = nix::unistd::write(&helpers, format!("{error}: {}", error.errno).as_bytes());
                    false
                }
            };
            crate::sys::exit_now(if sent { 0 } else { 1 })
        }
        crate::sys::clone::Forked::Parent(helper) => {
            drop(helpers);
            // The tree, or the helper's error as text.
            let mut buffer = [0u8; 512];
            let received = crate::sys::fd_passing::receive_packet(&ours, &mut buffer);
            let _ = waitpid(Pid::from_raw(helper), None);
            let tree = match received {
                Ok((_, Some(tree))) => tree,
                Ok((length, None)) => {
                    let text = String::from_utf8_lossy(&buffer[..length.min(buffer.len())]).into_owned();
                    let why = if text.is_empty() { "the helper in init's mount namespace made no tree".to_string() } else { text };
                    return Err(SysError::refused("make the idmapped tree in init's mount namespace", idmap.source.display(), why).within(&idmap.entry).into());
                }
                Err(errno) => return Err(SysError::new("receive the idmapped tree of", &idmap.entry, errno).into()),
            };
            trace.lap("late idmapped mounts");
            init.channel.send_with_fds(&ToInit::Idmapped, &[tree.as_raw_fd()], "idmapped tree")?;
            Ok(())
        }
    }
}

/// Write a new user namespace's maps. Rootless, as runc: a gid map of just the caller's
/// own gid is written after denying `setgroups` (the kernel requires it of an unprivileged
/// writer); a map the kernel refuses us goes through newuidmap/newgidmap.
pub(super) fn write_id_maps(bundle: &Bundle, pid: i32, rootless: bool) -> Result<(), SysError> {
    let linux = bundle.spec().linux().as_ref();
    let uid_mappings = linux.and_then(|l| l.uid_mappings().as_deref()).unwrap_or_default();
    let gid_mappings = linux.and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default();
    write_id_map(pid, "uid_map", uid_mappings, rootless)?;
    if rootless && crate::sys::idmap::is_own_single(gid_mappings, nix::unistd::getegid().as_raw()) {
        write_proc_file(pid, "setgroups", "deny")?;
    }
    write_id_map(pid, "gid_map", gid_mappings, rootless)
}

fn write_id_map(pid: i32, file: &str, mappings: &[LinuxIdMapping], rootless: bool) -> Result<(), SysError> {
    match write_proc_file(pid, file, &crate::sys::idmap::map_text(mappings)) {
        Err(error) if rootless && matches!(error.errno, nix::errno::Errno::EPERM | nix::errno::Errno::EACCES) => {
            crate::sys::idmap::write_map_with_helper(pid, file, mappings)
        }
        other => other,
    }
}
