//! Rootless: an unprivileged user (made by the test, with subordinate id ranges) runs
//! containers with skiff, side by side with runc where runc can; and what a rootless
//! container must not be able to do.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

const USER: &str = "skiff-rootless";

/// The test user: made once (useradd), with a subordinate id range for newuidmap.
#[derive(Debug, Clone, Copy)]
struct User {
    uid: u32,
    gid: u32,
    /// The first id of its subordinate uid and gid ranges (65536 ids each).
    subuid: u32,
    subgid: u32,
}

fn user() -> User {
    require_prerequisites();
    static USER_MADE: std::sync::OnceLock<User> = std::sync::OnceLock::new();
    *USER_MADE.get_or_init(make_user)
}

fn make_user() -> User {
    for tool in ["/usr/bin/newuidmap", "/usr/bin/newgidmap"] {
        assert!(Path::new(tool).exists(), "{tool} is missing: install Debian's uidmap (make deps does)");
    }
    if Command::new("id").arg(USER).stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| !s.success()).unwrap_or(true) {
        let status = Command::new("useradd").args(["-m", "-s", "/bin/sh", USER]).status().expect("useradd");
        assert!(status.success(), "useradd {USER}");
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, USER]).output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("useradd {USER} failed"))
    };
    for (file, flag) in [("/etc/subuid", "--add-subuids"), ("/etc/subgid", "--add-subgids")] {
        if !fs::read_to_string(file).unwrap_or_default().lines().any(|l| l.starts_with(&format!("{USER}:"))) {
            let status = Command::new("usermod").args([flag, "300000-365535", USER]).status().expect("usermod");
            assert!(status.success(), "usermod {flag} for {USER}");
        }
    }
    let first = |file: &str| -> u32 {
        let text = fs::read_to_string(file).unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with(&format!("{USER}:"))).unwrap_or_else(|| panic!("{USER} has no range in {file}"));
        line.split(':').nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{file}: {line}"))
    };
    User { uid: id("-u"), gid: id("-g"), subuid: first("/etc/subuid"), subgid: first("/etc/subgid") }
}

/// A bundle, a copy of skiff and a runtime directory, all where the user can reach them.
struct RootlessBundle {
    dir: tempfile::TempDir,
    user: User,
    skiff: PathBuf,
}

impl RootlessBundle {
    /// `skiff spec --rootless` as the user, with `args` and no terminal; `skiff_owned_by_user`
    /// puts a copy of skiff the user can write (then skiff re-executes from a sealed memfd).
    fn new(args: &[&str], skiff_owned_by_user: bool) -> RootlessBundle {
        let user = user();
        let dir = tempfile::Builder::new().prefix("skiff-rootless-").tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let skiff = dir.path().join("skiff");
        fs::copy(SKIFF, &skiff).unwrap();
        make_busybox_rootfs(&dir.path().join("bundle/rootfs"));
        fs::create_dir_all(dir.path().join("run")).unwrap();
        chown_tree(&dir.path().join("bundle"), &user);
        chown_tree(&dir.path().join("run"), &user);
        if skiff_owned_by_user {
            chown_tree(&skiff, &user);
        }
        fs::set_permissions(dir.path().join("run"), fs::Permissions::from_mode(0o700)).unwrap();
        let bundle = RootlessBundle { dir, user, skiff };
        let out = bundle.skiff(&["spec", "--rootless"]);
        assert_eq!(out.code, 0, "spec --rootless: {}", out.stderr);
        let mut config = bundle.config();
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(args);
        config["root"]["readonly"] = json!(false);
        bundle.write_config(&config);
        bundle
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    fn config(&self) -> Value {
        serde_json::from_slice(&fs::read(self.path().join("config.json")).unwrap()).unwrap()
    }

    fn write_config(&self, config: &Value) {
        fs::write(self.path().join("config.json"), serde_json::to_vec_pretty(config).unwrap()).unwrap();
    }

    /// Run `program args` as the user, in the bundle, with XDG_RUNTIME_DIR set.
    fn as_user(&self, program: &Path, args: &[&str]) -> Outcome {
        let xdg = format!("XDG_RUNTIME_DIR={}", self.runtime_dir().display());
        let mut all = vec!["-u", USER, "--", "env", xdg.as_str(), program.to_str().unwrap()];
        all.extend_from_slice(args);
        run_program("runuser", &all, Some(&self.path()))
    }

    fn skiff(&self, args: &[&str]) -> Outcome {
        self.as_user(&self.skiff, args)
    }

    /// No state left, and no process left in this bundle's rootfs (other tests of this file
    /// run containers of the same user at the same time) or naming the container.
    fn assert_nothing_left(&self, id: &str) {
        let state = self.runtime_dir().join("skiff").join(id);
        assert!(!state.exists(), "{} left behind", state.display());
        let rootfs = fs::canonicalize(self.path().join("rootfs")).unwrap();
        let inside: Vec<String> = fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
            .filter(|e| fs::read_link(e.path().join("root")).is_ok_and(|root| root.starts_with(&rootfs)))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(inside.is_empty(), "processes left in {}: {inside:?}", rootfs.display());
        assert_no_process_mentions(id);
    }
}

fn chown_tree(path: &Path, user: &User) {
    let status = Command::new("chown").args(["-R", "-h", &format!("{}:{}", user.uid, user.gid)]).arg(path).status().unwrap();
    assert!(status.success(), "chown {}", path.display());
}

fn wide_mappings(config: &mut Value, user: &User) {
    config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": user.uid, "size": 1}, {"containerID": 1, "hostID": user.subuid, "size": 65536}]);
    config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": user.gid, "size": 1}, {"containerID": 1, "hostID": user.subgid, "size": 65536}]);
}

#[test]
fn a_user_runs_a_spec_rootless_bundle_like_runc() {
    let bundle = RootlessBundle::new(&["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups; hostname"], false);
    let id = unique_id("rl-run");
    let out = bundle.skiff(&["run", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<String> = out.stdout.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let uid = bundle.user.uid;
    let gid = bundle.user.gid;
    assert_eq!(lines, ["0", "0", &format!("0 {uid} 1"), &format!("0 {gid} 1"), "deny", "runc"], "{}", out.stdout);
    // The state root is the user's $XDG_RUNTIME_DIR/skiff.
    let root = bundle.runtime_dir().join("skiff");
    assert!(root.is_dir(), "{} was not made", root.display());
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&fs::metadata(&root).unwrap()), uid);
    bundle.assert_nothing_left(&id);
    // runc, as the same user, on the same bundle, sees the same.
    let runc = bundle.as_user(Path::new("/usr/sbin/runc"), &["run", &unique_id("rl-runc")]);
    assert_eq!(runc.code, 0, "runc: {}", runc.stderr);
    assert_eq!(runc.stdout, out.stdout, "skiff and runc differ");
}

#[test]
fn rootless_lifecycle_with_subordinate_ids() {
    let bundle = RootlessBundle::new(&["sleep", "300"], false);
    let mut config = bundle.config();
    wide_mappings(&mut config, &bundle.user);
    bundle.write_config(&config);
    let id = unique_id("rl-life");
    let out = bundle.skiff(&["create", &id]);
    assert_eq!(out.code, 0, "create: {}", out.stderr);
    assert_eq!(bundle.skiff(&["start", &id]).code, 0);
    let state: Value = serde_json::from_str(&bundle.skiff(&["state", &id]).stdout).unwrap();
    assert_eq!(state["status"], "running");
    // exec joins the user namespace first, then the pid namespace (one more fork).
    let exec = bundle.skiff(&["exec", &id, "sh", "-c", "id -u; cat /proc/self/uid_map; echo $$"]);
    assert_eq!(exec.code, 0, "exec: {}", exec.stderr);
    let lines: Vec<String> = exec.stdout.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let uid = bundle.user.uid;
    let subuid = bundle.user.subuid;
    assert_eq!(lines[..3], ["0".to_string(), format!("0 {uid} 1"), format!("1 {subuid} 65536")], "{}", exec.stdout);
    assert_ne!(lines[3], "1", "the exec'd shell is not the container's init");
    // An id from the subordinate range is mapped: the process can become it.
    let other = bundle.skiff(&["exec", "--user", "1000:1000", &id, "id", "-u"]);
    assert_eq!((other.code, other.stdout.trim()), (0, "1000"), "exec --user 1000: {}", other.stderr);
    // Without a cgroup (this host delegates none), ps lists the container's pid namespace.
    let ps = bundle.skiff(&["ps", "--format", "json", &id]);
    assert_eq!(ps.code, 0, "ps: {}", ps.stderr);
    let pids: Vec<i32> = serde_json::from_str(&ps.stdout).unwrap();
    assert_eq!(pids, vec![state["pid"].as_i64().unwrap() as i32], "ps: {}", ps.stdout);
    assert_eq!(bundle.skiff(&["kill", "--all", &id, "KILL"]).code, 0);
    for _ in 0..100 {
        if bundle.skiff(&["state", &id]).stdout.contains("\"stopped\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let delete = bundle.skiff(&["delete", &id]);
    assert_eq!(delete.code, 0, "delete: {}", delete.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn rootless_refusals_are_clear_and_leave_nothing() {
    let bundle = RootlessBundle::new(&["true"], false);
    let base = bundle.config();
    let cases: Vec<(Value, &str)> = vec![
        // ids the user does not own: newuidmap refuses, and says so
        (json!({"linux": {"uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}}), "newuidmap failed"),
        // resources without a delegated cgroup
        (json!({"linux": {"resources": {"pids": {"limit": 10}}}}), "resources asked for cannot be applied"),
        // only a privileged runtime may lower the OOM score
        (json!({"process": {"oomScoreAdj": -500}}), "only a runtime with CAP_SYS_RESOURCE"),
        // no rlimit above the user's hard limit (raising it needs CAP_SYS_RESOURCE on the host)
        (json!({"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 4194304, "hard": 4194304}]}}), "setrlimit RlimitNofile soft 4194304 hard 4194304"),
        // no supplementary groups where setgroups is denied
        (json!({"process": {"user": {"uid": 0, "gid": 0, "additionalGids": [0]}}}), "setgroups [0]: denied in this rootless user namespace"),
    ];
    for (patch, expected) in cases {
        let mut config = base.clone();
        merge(&mut config, &patch);
        bundle.write_config(&config);
        let id = unique_id("rl-bad");
        let out = bundle.skiff(&["run", &id]);
        assert_ne!(out.code, 0, "{patch} was accepted");
        assert!(out.stderr.contains(expected), "{patch}: expected {expected:?}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn a_rootless_container_gets_nothing_the_user_lacks() {
    // A directory of the host's root, bound read-write into the container.
    let host_dir = tempfile::Builder::new().prefix("skiff-rootless-host-").tempdir().unwrap();
    fs::set_permissions(host_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(host_dir.path().join("file"), "host\n").unwrap();
    let script = "echo x > /host/file; echo x > /host/new; mknod /tmp/null c 1 3; touch /sys/fs/cgroup/skiff-probe; readlink /proc/self/ns/user; grep CapEff /proc/self/status";
    let bundle = RootlessBundle::new(&["sh", "-c", script], false);
    let mut config = bundle.config();
    config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/host", "type": "bind", "source": host_dir.path(), "options": ["rbind", "rw"]}));
    bundle.write_config(&config);
    let id = unique_id("rl-sec");
    let out = bundle.skiff(&["run", &id]);
    // The writes and the mknod fail: the container's root is the user on the host.
    assert_eq!(out.stderr.matches("Permission denied").count(), 2, "host files: {}", out.stderr);
    assert!(out.stderr.contains("mknod: /tmp/null: Operation not permitted"), "mknod: {}", out.stderr);
    // CVE-2023-25809: the host's cgroup tree, bound because sysfs cannot be mounted here,
    // is read-only.
    assert!(out.stderr.contains("/sys/fs/cgroup/skiff-probe: Read-only file system"), "cgroups: {}", out.stderr);
    assert_eq!(fs::read_to_string(host_dir.path().join("file")).unwrap(), "host\n");
    assert!(!host_dir.path().join("new").exists());
    // Its capabilities are those of root in its own user namespace, not the host's.
    let host_userns = fs::read_link("/proc/self/ns/user").unwrap();
    let container_userns = out.stdout.lines().next().unwrap_or_default().to_string();
    assert!(container_userns.starts_with("user:["), "{}", out.stdout);
    assert_ne!(container_userns, host_userns.to_string_lossy(), "the container is in the host's user namespace");
    bundle.assert_nothing_left(&id);
}

#[test]
fn cve_2019_5736_rootless_a_binary_the_user_can_write_is_run_from_a_sealed_copy() {
    // createRuntime hooks run as children of the runtime: they see what it runs from.
    let bundle = RootlessBundle::new(&["true"], true);
    let report = bundle.path().join("exe");
    let mut config = bundle.config();
    config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", format!("readlink /proc/$PPID/exe > {}; echo x >> /proc/$PPID/exe; echo $? >> {}", report.display(), report.display())]}]});
    bundle.write_config(&config);
    let id = unique_id("rl-5736");
    let out = bundle.skiff(&["run", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let seen = fs::read_to_string(&report).unwrap();
    assert!(seen.starts_with("/memfd:skiff"), "the runtime runs from {seen}");
    assert!(!seen.ends_with("0\n"), "the sealed copy took a write: {seen}");
    assert_eq!(fs::read(&bundle.skiff).unwrap(), fs::read(SKIFF).unwrap(), "the user's binary changed");
    // A binary the user cannot write is run as it is: nothing under its credentials can.
    let bundle = RootlessBundle::new(&["true"], false);
    let report = bundle.path().join("exe");
    let mut config = bundle.config();
    config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", format!("readlink /proc/$PPID/exe > {}", report.display())]}]});
    bundle.write_config(&config);
    assert_eq!(bundle.skiff(&["run", &unique_id("rl-5736b")]).code, 0);
    assert_eq!(fs::read_to_string(&report).unwrap().trim(), bundle.skiff.to_string_lossy());
}

/// An immutable binary run rootless: no process of its containers can hold
/// CAP_LINUX_IMMUTABLE in the initial user namespace, whatever their sets say, so nothing
/// is refused and nothing is re-executed, `exec --cap CAP_LINUX_IMMUTABLE` included.
#[test]
fn rootless_an_immutable_binary_serves_every_process() {
    let bundle = RootlessBundle::new(&["sleep", "30"], false);
    let _immutable = Immutable::set(&bundle.skiff);
    let id = unique_id("rl-immutable");
    let out = bundle.skiff(&["run", "-d", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = bundle.skiff(&["--debug", "exec", "--cap", "CAP_LINUX_IMMUTABLE", &id, "true"]);
    assert_eq!(out.code, 0, "exec --cap CAP_LINUX_IMMUTABLE: {}", out.stderr);
    assert!(!out.stderr.contains("re-executing"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn rootless_podman_runs_containers_with_skiff_like_runc() {
    assert!(Path::new("/usr/bin/podman").exists(), "/usr/bin/podman is missing: install Debian's podman (make deps does)");
    let bundle = RootlessBundle::new(&["true"], false);
    let pd = bundle.dir.path().join("podman");
    fs::create_dir_all(&pd).unwrap();
    fs::write(
        pd.join("containers.conf"),
        format!(
            "[containers]\nnetns = \"none\"\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"{0}/events.log\"\n",
            pd.display()
        ),
    )
    .unwrap();
    // vfs: no overlay mounts to leave behind; the run root in the user's runtime dir.
    fs::write(
        pd.join("storage.conf"),
        format!("[storage]\ndriver = \"vfs\"\ngraphroot = \"{}/root\"\nrunroot = \"{}/podman-run\"\n", pd.display(), bundle.runtime_dir().display()),
    )
    .unwrap();
    chown_tree(&pd, &bundle.user);
    let script = |body: &str| -> Outcome {
        let env = format!(
            "export CONTAINERS_CONF={0}/containers.conf CONTAINERS_STORAGE_CONF={0}/storage.conf XDG_CONFIG_HOME={0}/config XDG_DATA_HOME={0}/data; {body}",
            pd.display()
        );
        bundle.as_user(Path::new("/bin/sh"), &["-c", &env])
    };
    let import = script(&format!("tar -C {} -c . | podman import - localhost/bb:rootless", bundle.path().join("rootfs").display()));
    assert_eq!(import.code, 0, "podman import: {}", import.stderr);
    let skiff = bundle.skiff.display().to_string();
    let mut seen = Vec::new();
    for runtime in [skiff.as_str(), "/usr/sbin/runc"] {
        let out = script(&format!("podman --runtime {runtime} run --rm localhost/bb:rootless sh -c 'id -u; cat /proc/self/uid_map | wc -l'"));
        assert_eq!(out.code, 0, "podman --runtime {runtime} run: {}", out.stderr);
        seen.push(out.stdout);
    }
    assert_eq!(seen[0], seen[1], "skiff and runc under rootless podman");
    assert!(seen[0].starts_with("0\n"), "{}", seen[0]);
    let lifecycle = script(&format!(
        "set -e; p='podman --runtime {skiff}'; $p run -d --name rl1 localhost/bb:rootless sleep 300 >/dev/null; \
         $p exec rl1 sh -c 'echo in; id -u'; $p top rl1 args | tail -n 1; $p stop -t 1 rl1 >/dev/null; \
         $p ps -a --format '{{{{.Names}}}} {{{{.Status}}}}'; $p rm rl1 >/dev/null; $p ps -a --format '{{{{.Names}}}}' | wc -l"
    ));
    assert_eq!(lifecycle.code, 0, "podman lifecycle: {}", lifecycle.stderr);
    let lines: Vec<&str> = lifecycle.stdout.lines().map(str::trim).collect();
    assert_eq!(lines.len(), 5, "{}", lifecycle.stdout);
    assert_eq!(lines[..3], ["in", "0", "sleep 300"], "{}", lifecycle.stdout);
    assert!(lines[3].starts_with("rl1 Exited (137)"), "stop: {}", lifecycle.stdout);
    assert_eq!(lines[4], "0", "rm: {}", lifecycle.stdout);
    // skiff's state root under rootless podman: the user's $XDG_RUNTIME_DIR/skiff, empty now.
    let states: Vec<_> = fs::read_dir(bundle.runtime_dir().join("skiff")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(states.is_empty(), "state left: {states:?}");
    // podman keeps a pause process per user namespace; it is ours to end.
    if let Ok(pid) = fs::read_to_string(bundle.runtime_dir().join("libpod/tmp/pause.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

#[test]
fn rootless_resources_in_a_cgroup_subtree_delegated_to_the_user() {
    // Root delegates a subtree of every v1 hierarchy (and the cgroup2 tree of this hybrid
    // host) to the user, as an administrator would: the user's container gets its cgroup
    // and limits there.
    let bundle = RootlessBundle::new(&["sh", "-c", "grep pids /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max"], false);
    let delegated = format!("skiff-delegated-{}", std::process::id());
    let hierarchies: Vec<PathBuf> = fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split_whitespace().nth(4).map(PathBuf::from))
        .filter(|p| p.starts_with("/sys/fs/cgroup"))
        .collect();
    assert!(!hierarchies.is_empty(), "no cgroup hierarchies mounted");
    for hierarchy in &hierarchies {
        let dir = hierarchy.join(&delegated);
        fs::create_dir(&dir).unwrap();
        if hierarchy.ends_with("cpuset") {
            for file in ["cpuset.cpus", "cpuset.mems"] {
                fs::write(dir.join(file), fs::read_to_string(hierarchy.join(file)).unwrap().trim()).unwrap();
            }
        }
        let status = Command::new("chown").arg(format!("{}:{}", bundle.user.uid, bundle.user.gid)).arg(&dir).arg(dir.join("cgroup.procs")).status().unwrap();
        assert!(status.success());
    }
    let mut config = bundle.config();
    config["linux"]["cgroupsPath"] = json!(format!("/{delegated}/c1"));
    config["linux"]["resources"] = json!({"pids": {"limit": 20}});
    bundle.write_config(&config);
    let id = unique_id("rl-deleg");
    // On cgroup2 a process may only be moved by someone who may write the common ancestor's
    // cgroup.procs: the user's runtime starts inside the delegated subtree, as a systemd
    // delegation puts a user's session there.
    let unified = hierarchies.iter().find(|h| h.ends_with("unified")).map(|h| h.join(&delegated));
    let enter = unified.map(|dir| format!("echo $$ > {}/cgroup.procs && ", dir.display())).unwrap_or_default();
    let run = format!("{enter}exec runuser -u {USER} -- env XDG_RUNTIME_DIR={} {} run {id}", bundle.runtime_dir().display(), bundle.skiff.display());
    let out = run_program("/bin/sh", &["-c", &run], Some(&bundle.path()));
    let cleanup = || {
        for hierarchy in &hierarchies {
            let _ = fs::remove_dir(hierarchy.join(&delegated).join("c1"));
            let _ = fs::remove_dir(hierarchy.join(&delegated));
        }
    };
    let pids_max = fs::read_to_string(format!("/sys/fs/cgroup/pids/{delegated}/c1/pids.max")).ok();
    cleanup();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.first().is_some_and(|l| l.ends_with(&format!("pids:/{delegated}/c1"))), "{}", out.stdout);
    assert_eq!(lines.get(1), Some(&"20"), "the limit, seen inside: {}", out.stdout);
    // run removed the container's cgroup: the limit was there while it ran (read above only
    // if delete left it, which must not happen).
    assert_eq!(pids_max, None, "the container's cgroup was left behind");
    bundle.assert_nothing_left(&id);
}
