//! Shared helpers for the container tests: busybox bundles, running the built binary, and
//! checks that nothing is left behind. Every test runs real containers and needs root and
//! Debian's busybox-static; a missing prerequisite fails the test and says what is missing.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tempfile::TempDir;

/// The skiff binary cargo built for these tests.
pub const SKIFF: &str = env!("CARGO_BIN_EXE_skiff");

/// Where Debian's busybox-static installs busybox.
pub const BUSYBOX: &str = "/bin/busybox";

/// Fail loudly when the tests cannot run here.
pub fn require_prerequisites() {
    assert!(nix::unistd::geteuid().is_root(), "these tests create real containers and must run as root (make test does)");
    assert!(Path::new(BUSYBOX).is_file(), "{BUSYBOX} is missing: install Debian's busybox-static (make deps does)");
}

/// A unique container id for this test process.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A bundle with a busybox rootfs in a temporary directory, and its own state root.
pub struct TestBundle {
    /// Holds everything; removed on drop.
    pub dir: TempDir,
    /// The config, written by [`TestBundle::write_config`].
    pub config: Value,
}

impl TestBundle {
    /// A bundle whose config is skiff's default spec with `terminal: false` and `args`.
    pub fn new(args: &[&str]) -> TestBundle {
        require_prerequisites();
        let bundle = TestBundle::unprivileged(args);
        make_busybox_rootfs(&bundle.rootfs());
        bundle
    }

    /// A bundle for tests that need neither root nor busybox (the config is refused before
    /// anything runs): skiff's default spec with `args`, over an empty rootfs directory.
    pub fn unprivileged(args: &[&str]) -> TestBundle {
        let dir = tempfile::Builder::new().prefix("skiff-test-").tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("bundle/rootfs")).unwrap();
        fs::create_dir_all(dir.path().join("root")).unwrap();
        let mut config = skiff::default_spec::default_spec();
        config["process"]["terminal"] = json!(false);
        config["process"]["args"] = json!(args);
        let bundle = TestBundle { dir, config };
        bundle.write_config();
        bundle
    }

    /// The bundle directory.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// The rootfs.
    pub fn rootfs(&self) -> PathBuf {
        self.path().join("rootfs")
    }

    /// The `--root` state directory for this test.
    pub fn state_root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Write `self.config` to config.json.
    pub fn write_config(&self) {
        fs::write(self.path().join("config.json"), serde_json::to_vec_pretty(&self.config).unwrap()).unwrap();
    }

    /// Run skiff with `--root <state root>` and `args`.
    pub fn skiff(&self, args: &[&str]) -> Outcome {
        let root = self.state_root();
        let mut all = vec!["--root", root.to_str().unwrap()];
        all.extend_from_slice(args);
        run_skiff(&all, Some(&self.path()))
    }

    /// `run` the bundle as container `id`, returning what it printed.
    pub fn run(&self, id: &str) -> Outcome {
        let bundle = self.path();
        self.skiff(&["run", "--bundle", bundle.to_str().unwrap(), id])
    }

    /// Parsed `state` of `id`.
    pub fn state(&self, id: &str) -> Value {
        let out = self.skiff(&["state", id]);
        assert_eq!(out.code, 0, "state {id} failed: {}", out.stderr);
        serde_json::from_str(&out.stdout).expect("state is JSON")
    }

    /// Assert that container `id` left nothing behind: no state directory, no process, no mount.
    pub fn assert_nothing_left(&self, id: &str) {
        let dir = self.state_root().join(id);
        assert!(!dir.exists(), "state directory {} is left behind", dir.display());
        assert_no_process_mentions(id);
        assert_no_process_in(&self.rootfs());
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap();
        let rootfs = self.rootfs();
        assert!(!mountinfo.contains(rootfs.to_str().unwrap()), "a mount of {} is left on the host", rootfs.display());
        for controller in ["memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd", "unified"] {
            let cgroup = Path::new("/sys/fs/cgroup").join(controller).join(id);
            assert!(!cgroup.exists(), "cgroup {} is left behind", cgroup.display());
        }
    }
}

/// A test that fails half-way must not leave containers behind (a parked init, a cgroup):
/// force-delete whatever is still in this bundle's state root.
impl Drop for TestBundle {
    fn drop(&mut self) {
        let root = self.state_root();
        let Ok(entries) = fs::read_dir(&root) else { return };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let _ = Command::new(SKIFF)
                .args(["--root", root.to_str().unwrap_or_default(), "delete", "--force", &id])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// What a skiff invocation did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status (-1 if killed).
    pub code: i32,
    /// Its stdout (and the container's, for `run`).
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Run skiff with `args`. Output goes through files, not pipes: a created container's init
/// inherits skiff's stdio, and a pipe would keep the caller waiting until the container ends.
pub fn run_skiff(args: &[&str], cwd: Option<&Path>) -> Outcome {
    run_program(SKIFF, args, cwd)
}

/// Run any program the same way (used for runc in the differential tests).
pub fn run_program(program: &str, args: &[&str], cwd: Option<&Path>) -> Outcome {
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(err.try_clone().unwrap());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    let status = command.status().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    Outcome { code: status.code().unwrap_or(-1), stdout: read_back(out), stderr: read_back(err) }
}

fn read_back(mut file: fs::File) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_string(&mut text).unwrap();
    text
}

/// A busybox rootfs like the one `make bundle` builds: busybox and its applet links.
pub fn make_busybox_rootfs(rootfs: &Path) {
    for dir in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "usr"] {
        fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    fs::copy(BUSYBOX, rootfs.join("bin/busybox")).unwrap();
    let applets = Command::new(BUSYBOX).arg("--list").output().expect("busybox --list");
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        let link = rootfs.join("bin").join(applet);
        if !link.exists() {
            symlink("busybox", link).unwrap();
        }
    }
    symlink("bin", rootfs.join("sbin")).unwrap();
    symlink("../bin", rootfs.join("usr/bin")).unwrap();
    fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n").unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\nnobody:x:65534:\n").unwrap();
}

/// No process may still carry `id` on its command line (init is a clone of skiff, so its
/// argv holds the id until it execs).
pub fn assert_no_process_mentions(id: &str) {
    for (pid, cmdline) in processes() {
        assert!(!cmdline.contains(id), "process {pid} ({cmdline:?}) of container {id} is left behind");
    }
}

/// No process may have its root inside `rootfs`.
pub fn assert_no_process_in(rootfs: &Path) {
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if let Ok(root) = fs::read_link(format!("/proc/{pid}/root")) {
            assert!(!root.starts_with(rootfs), "process {pid} still runs in {}", rootfs.display());
        }
    }
}

fn processes() -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // Zombies are reaped by their parent, not leaked by us.
            if stat.rsplit(')').next()?.trim_start().starts_with('Z') {
                return None;
            }
            Some((pid, String::from_utf8_lossy(&raw).replace('\0', " ")))
        })
        .collect()
}

/// The text of `path` once it exists and is not empty, up to five seconds. A writer that
/// writes in steps must rename a finished file into place.
pub fn wait_for_file(path: &Path) -> String {
    for _ in 0..500 {
        if let Ok(text) = fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} did not appear", path.display());
}

/// Wait until container `id` reports `status`, up to five seconds.
pub fn wait_for_status(bundle: &TestBundle, id: &str, status: &str) {
    for _ in 0..500 {
        if bundle.state(id)["status"] == status {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("container {id} never reached status {status}: {}", bundle.state(id));
}

/// Run `script` with `sh -c` in a busybox container whose config `adjust` changed, and
/// return its stdout (asserting exit status 0).
pub fn inside(adjust: impl FnOnce(&mut Value), script: &str) -> String {
    let mut bundle = TestBundle::new(&["sh", "-c", script]);
    adjust(&mut bundle.config);
    bundle.write_config();
    let id = unique_id("inside");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "container failed: stdout {:?} stderr {:?}", out.stdout, out.stderr);
    bundle.assert_nothing_left(&id);
    out.stdout
}

/// `Key:\tvalue` lines of /proc/self/status as a map.
pub fn status_fields(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// Merge `patch` into `target` (objects key by key, everything else replaced).
pub fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (key, value) in p {
                merge(t.entry(key.clone()).or_insert(serde_json::Value::Null), value);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Create a container from the default busybox bundle with `patch` merged into its config:
/// it must fail, say `expected` on stderr, and leave nothing behind.
pub fn assert_create_refused(patch: &Value, expected: &str) {
    let mut bundle = TestBundle::new(&["true"]);
    merge(&mut bundle.config, patch);
    bundle.write_config();
    let id = unique_id("refused");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "{patch}: create should have failed");
    assert!(out.stderr.contains(expected), "{patch}: expected {expected:?} in {}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// `chattr +i` on a file (a copy of skiff, say), undone when dropped (a temporary directory with an
/// immutable file in it could not be removed).
pub struct Immutable(std::path::PathBuf);

impl Immutable {
    /// Sets the attribute; a missing chattr fails the test and says so.
    pub fn set(path: &Path) -> Immutable {
        let out = Command::new("chattr").arg("+i").arg(path).output().expect("prerequisite: chattr (e2fsprogs) is missing");
        assert!(out.status.success(), "chattr +i {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        Immutable(path.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}
