//! `skiff doctor`: what this host gives a container runtime, read off the host itself, and
//! what each missing piece means for the user, with the fix. Each check has a stable name,
//! so `--format json` gives tools the same facts.

use std::path::Path;

use serde::Serialize;

use crate::sys::probe;

/// One fact about the host.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// A stable name (`cgroups`, `systemd`, `user-namespaces`, ...).
    pub name: &'static str,
    /// Whether the host has it.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What its absence means for the user (only when missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<&'static str>,
    /// How to get it (only when missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'static str>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The cgroup layout: `v2`, `hybrid`, `v1`, or `none`.
    pub cgroup_layout: &'static str,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// Whether skiff can run containers here at all (the exit status says the same).
    pub can_run_containers: bool,
}

fn check(name: &'static str, ok: bool, detail: String, impact: &'static str, fix: &'static str) -> Check {
    Check { name, ok, detail, impact: (!ok).then_some(impact), fix: (!ok).then_some(fix) }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

fn command_in_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|p| p.is_file()))
}

/// Whether CRIU is there and works with this kernel: its version over its RPC, as checkpoint
/// asks it, and `criu check` (root only).
fn criu_report(path: Option<&Path>, root: bool) -> (bool, String) {
    let Some(path) = path else { return (false, "not in PATH".into()) };
    let version = match crate::criu::Criu::new(Some(path)).version() {
        Ok(v) => format!("CRIU {}.{}.{}", v / 10000, v / 100 % 100, v % 100),
        Err(error) => format!("version unknown: {error}"),
    };
    if !root {
        return (true, format!("{} ({version}); `criu check` needs root", path.display()));
    }
    match std::process::Command::new(path).arg("check").stdin(std::process::Stdio::null()).output() {
        Ok(out) if out.status.success() => (true, format!("{} ({version}); criu check: this kernel can be checkpointed", path.display())),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
            let reason = text.lines().rev().find(|l| l.contains("Error")).or_else(|| text.lines().last()).unwrap_or("no output").trim().to_string();
            (false, format!("{} ({version}); criu check fails on this kernel: {reason}", path.display()))
        }
        Err(error) => (false, format!("{} ({version}); criu check did not run: {error}", path.display())),
    }
}

/// Read the host and build the report; `state_root` is the root this skiff would use.
pub fn examine(state_root: &Path, wasm_handler: &crate::wasm::HandlerSearch) -> Report {
    let root = nix::unistd::geteuid().is_root();
    let mut checks = Vec::new();

    let layout = crate::cgroups::detect_layout(Path::new(crate::cgroups::CGROUP_ROOT)).ok();
    let cgroup_layout = match layout {
        Some(crate::cgroups::Layout::Unified) => "v2",
        Some(crate::cgroups::Layout::Hybrid) => "hybrid",
        Some(crate::cgroups::Layout::Legacy) => "v1",
        None => "none",
    };
    let controllers = match layout {
        Some(crate::cgroups::Layout::Unified) => {
            let available = read("/sys/fs/cgroup/cgroup.controllers").unwrap_or_default();
            let delegated = read("/sys/fs/cgroup/cgroup.subtree_control").unwrap_or_default();
            format!("controllers: {available}; enabled for children of the root: {delegated}")
        }
        Some(_) => {
            let mounts = crate::sys::mountinfo::parse_mountinfo(&read("/proc/self/mountinfo").unwrap_or_default());
            let mut v1: Vec<String> =
                crate::sys::mountinfo::cgroup_hierarchies(&mounts).into_iter().filter(|h| !h.unified).flat_map(|h| h.controllers).collect();
            v1.sort();
            v1.dedup();
            format!("v1 controllers: {}", v1.join(" "))
        }
        None => String::new(),
    };
    checks.push(check(
        "cgroups",
        layout.is_some(),
        format!("layout {cgroup_layout}; {controllers}"),
        "no cgroup filesystem: skiff cannot create containers (and without cgroups there are no limits, pause or stats)",
        "mount cgroup2 on /sys/fs/cgroup (or boot with systemd, which does)",
    ));

    let systemd = Path::new(crate::cgroups::SYSTEMD_RUNNING).is_dir();
    let bus = std::env::var_os("DBUS_SYSTEM_BUS_ADDRESS").is_some()
        || Path::new("/run/dbus/system_bus_socket").exists()
        || Path::new("/run/systemd/private").exists();
    checks.push(check(
        "systemd",
        systemd && bus,
        format!("systemd is PID 1: {}; system bus or systemd's private socket: {}", yes(systemd), yes(bus)),
        "--systemd-cgroup (the default of podman, of kubeadm's containerd, of docker on cgroup v2) is refused; use the cgroupfs driver",
        "boot with systemd as PID 1, with dbus, or configure the engine for cgroupfs",
    ));

    let max_userns = read("/proc/sys/user/max_user_namespaces").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let unprivileged = read("/proc/sys/kernel/unprivileged_userns_clone").is_none_or(|v| v == "1")
        && read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").is_none_or(|v| v == "0");
    let userns = Path::new("/proc/self/ns/user").exists() && max_userns > 0;
    checks.push(check(
        "user-namespaces",
        userns,
        format!("max_user_namespaces {max_userns}; unprivileged users may create them: {}", yes(unprivileged)),
        "no user namespaces: no rootless containers and no user-namespaced containers",
        "sysctl user.max_user_namespaces=15000 (and kernel.unprivileged_userns_clone=1 for rootless)",
    ));
    let newuidmap = command_in_path("newuidmap").is_some() && command_in_path("newgidmap").is_some();
    checks.push(check(
        "newuidmap",
        newuidmap,
        format!("newuidmap and newgidmap in PATH: {}", yes(newuidmap)),
        "rootless containers can map only the user's own id (one uid, one gid)",
        "apt-get install uidmap, and give the user ranges in /etc/subuid and /etc/subgid",
    ));

    let idmap = probe::has_open_tree() && probe::has_mount_setattr();
    checks.push(check(
        "idmapped-mounts",
        idmap,
        format!("open_tree: {}, mount_setattr: {}", yes(probe::has_open_tree()), yes(probe::has_mount_setattr())),
        "mounts with the idmap option are refused, and the CVE-2019-5736 defence falls back to a memfd copy",
        "a kernel of 5.12 or later",
    ));
    let openat2 = probe::has_openat2();
    checks.push(check(
        "openat2",
        openat2,
        format!("openat2: {}", yes(openat2)),
        "skiff resolves paths in the container with openat2: containers cannot be created",
        "a kernel of 5.6 or later",
    ));
    let clone3 = probe::has_clone3();
    checks.push(check(
        "clone3",
        clone3,
        format!("clone3: {}", yes(clone3)),
        "init is cloned with the older clone(2); cgroup v2's CLONE_INTO_CGROUP is not used",
        "a kernel of 5.3 or later (5.7 for CLONE_INTO_CGROUP)",
    ));
    let pidfd = probe::has_pidfd();
    checks.push(check(
        "pidfd",
        pidfd,
        format!("pidfd_open: {}", yes(pidfd)),
        "signals cannot be sent race-free: kill, exec and delete are refused",
        "a kernel of 5.3 or later",
    ));
    let timens = Path::new("/proc/self/ns/time").exists();
    checks.push(check(
        "time-namespace",
        timens,
        format!("/proc/self/ns/time: {}", yes(timens)),
        "configs with a time namespace (linux.timeOffsets) are refused",
        "a kernel of 5.6 or later with CONFIG_TIME_NS",
    ));

    // Filters (CONFIG_SECCOMP_FILTER), not only strict mode: the kernel lists its actions.
    let seccomp = Path::new("/proc/sys/kernel/seccomp/actions_avail").exists();
    let notify = probe::has_seccomp_notify();
    const RET_LOG: u32 = 0x7ffc_0000;
    const RET_KILL_PROCESS: u32 = 0x8000_0000;
    let actions = [("log", RET_LOG), ("kill_process", RET_KILL_PROCESS)]
        .iter()
        .map(|(name, action)| format!("action {name}: {}", yes(probe::seccomp_action_available(*action))))
        .collect::<Vec<_>>()
        .join(", ");
    // (wait_killable_recv is only accepted together with new_listener)
    use crate::seccomp::flag;
    let flags = [
        ("tsync", 1),
        ("log", flag::LOG),
        ("spec_allow", flag::SPEC_ALLOW),
        ("new_listener", flag::NEW_LISTENER),
        ("wait_killable_recv", flag::WAIT_KILLABLE_RECV | flag::NEW_LISTENER),
    ]
    .iter()
    .map(|(name, bit)| format!("flag {name}: {}", yes(probe::seccomp_filter_flag_known(*bit))))
    .collect::<Vec<_>>()
    .join(", ");
    checks.push(check(
        "seccomp",
        seccomp,
        format!("filters: {}; user notification (SCMP_ACT_NOTIFY, listenerPath): {}; {actions}; {flags}", yes(seccomp), yes(notify)),
        "linux.seccomp is refused: engines' default profiles cannot be applied",
        "a kernel with CONFIG_SECCOMP_FILTER",
    ));

    let apparmor = read("/sys/module/apparmor/parameters/enabled").is_some_and(|v| v == "Y");
    checks.push(check(
        "apparmor",
        apparmor,
        format!("enabled: {}", yes(apparmor)),
        "process.apparmorProfile is refused with a clear error",
        "boot with AppArmor enabled (apparmor=1 security=apparmor)",
    ));
    let selinux = Path::new("/sys/fs/selinux/enforce").exists();
    checks.push(check(
        "selinux",
        selinux,
        format!("selinuxfs mounted: {}", yes(selinux)),
        "process.selinuxLabel is refused; linux.mountLabel is ignored",
        "boot with SELinux enabled",
    ));

    let (criu_ok, criu_detail) = criu_report(command_in_path("criu").as_deref(), root);
    checks.push(check(
        "criu",
        criu_ok,
        criu_detail,
        "checkpoint and restore fail (runc's commands, podman container checkpoint, ctr c checkpoint)",
        "apt-get install criu, on a kernel `criu check` accepts",
    ));

    let handler = wasm_handler.find();
    let handler_detail = match &handler {
        Some(path) => {
            let version = std::process::Command::new(path).arg("--version").output().ok().filter(|o| o.status.success());
            let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_else(|| "does not say its version".into());
            format!("{}: {version}", path.display())
        }
        None => format!("{} not found beside skiff or in PATH", crate::wasm::HANDLER_NAME),
    };
    checks.push(check(
        "wasm",
        handler.is_some(),
        handler_detail,
        "containers annotated run.oci.handler=wasm or module.wasm.image/variant=compat are refused at create",
        "make install (or the skiff .deb) ships skiff-wasm beside skiff",
    ));

    // CVE-2019-5736: whether create, run and exec re-execute skiff from a read-only mount.
    let exe = std::fs::read_link("/proc/self/exe").map(|p| p.display().to_string()).unwrap_or_else(|_| "skiff".into());
    let (seal_ok, seal_detail) = match crate::sys::exe_seal::running_seal() {
        Ok(Some(crate::sys::exe_seal::BinarySeal::Sealed)) => (true, format!("{exe} is on a read-only mount (or a sealed memfd): no re-exec")),
        Ok(Some(crate::sys::exe_seal::BinarySeal::Immutable)) => {
            (true, format!("{exe} is immutable: no re-exec, unless a container may hold CAP_LINUX_IMMUTABLE"))
        }
        Ok(None) => (false, format!("{exe} is a writable file: create, run and exec re-execute it from a read-only mount")),
        Err(e) => (false, format!("{exe}: {e}")),
    };
    checks.push(check(
        "binary-seal",
        seal_ok,
        seal_detail,
        "each create, run and exec costs a re-exec of skiff (about 1 ms); containers are protected either way",
        "make install or the skiff .deb (they make the binaries immutable), or chattr +i on skiff and skiff-wasm",
    ));

    let (root_ok, root_detail) = state_root_safety(state_root);
    checks.push(check(
        "state-root",
        root_ok,
        root_detail,
        "another user could change the state skiff trusts, or it lives on a disk and survives reboots its containers do not",
        "use a root on /run (tmpfs), owned by you and writable by no one else",
    ));

    let can_run_containers = layout.is_some() && openat2 && pidfd && (root || (userns && unprivileged));
    Report { cgroup_layout, checks, can_run_containers }
}

fn yes(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// The state root's owner, mode and filesystem (or, when it does not exist yet, its parent's).
fn state_root_safety(root: &Path) -> (bool, String) {
    use std::os::unix::fs::MetadataExt;
    let existing = root.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
    let Ok(metadata) = std::fs::metadata(existing) else { return (false, format!("{}: cannot be read", existing.display())) };
    let owner_ok = metadata.uid() == nix::unistd::geteuid().as_raw();
    // A sticky parent (/run/user, /tmp) is fine for a root made below it; the root itself
    // must be writable by no one else.
    let sticky_parent = existing != root && metadata.mode() & 0o1000 != 0;
    let writable_by_others = metadata.mode() & 0o022 != 0 && !sticky_parent;
    let tmpfs = nix::sys::statfs::statfs(existing).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC);
    let what = if existing == root { format!("{}", root.display()) } else { format!("{} (not made yet; {})", root.display(), existing.display()) };
    let ok = (owner_ok || existing != root) && !writable_by_others;
    (ok, format!("{what}: owner uid {}, mode {:o}, on tmpfs: {}", metadata.uid(), metadata.mode() & 0o7777, yes(tmpfs)))
}

impl Report {
    /// The report for a person: a line per check, and for each missing piece what it means
    /// and how to get it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            out.push_str(&format!("{} {:<16} {}\n", if check.ok { "ok  " } else { "MISS" }, check.name, check.detail));
            if let (Some(impact), Some(fix)) = (check.impact, check.fix) {
                out.push_str(&format!("     {:<16} means: {impact}\n     {:<16} fix: {fix}\n", "", ""));
            }
        }
        out.push_str(if self.can_run_containers {
            "skiff can run containers on this host\n"
        } else {
            "skiff cannot run containers on this host (see the misses above)\n"
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_piece_says_what_it_means_and_how_to_fix_it() {
        let missing = check("systemd", false, "no".into(), "impact", "fix");
        assert_eq!((missing.impact, missing.fix), (Some("impact"), Some("fix")));
        let present = check("systemd", true, "yes".into(), "impact", "fix");
        assert_eq!((present.impact, present.fix), (None, None));
        let report = Report { cgroup_layout: "v2", checks: vec![missing, present], can_run_containers: true };
        let text = report.text();
        assert!(text.contains("MISS systemd") && text.contains("means: impact") && text.contains("fix: fix") && text.contains("ok   systemd"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["checks"][1].get("impact"), None, "no impact for a piece that is there");
    }

    #[test]
    fn the_state_root_must_not_be_writable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        assert!(state_root_safety(dir.path()).0);
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        assert!(!state_root_safety(dir.path()).0);
        // Not made yet: its nearest existing ancestor is judged (sticky /tmp is fine).
        assert!(state_root_safety(&dir.path().join("later")).1.contains("not made yet"));
    }
}
