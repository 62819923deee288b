//! runc's published vulnerabilities, each attacked against skiff the way its advisory
//! describes. docs/security.md maps each test to the defence it proves.

mod common;

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// The config's mounts without the /dev tmpfs, so that /dev comes from the image (what an
/// attacker controls in these advisories).
fn without_dev_tmpfs(config: &mut Value) {
    let mounts = config["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| !m["destination"].as_str().unwrap().starts_with("/dev"));
}

fn wait_for(path: &Path, within: Duration) -> String {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(text) = fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} never appeared", path.display());
}

/// What the CVE-2019-5736 attack below found.
struct Attack {
    /// The background child's report: `WROTE`, or `REFUSED` and the shell's error.
    result: String,
    /// What init's /proc/PID/exe named while it waited at the start gate.
    init_exe: String,
    /// `chattr -i` of the held fd, in the hook: its output and `exit N`.
    unlock: String,
    /// The binary's bytes were left as they were.
    unchanged: bool,
}

/// CVE-2019-5736. A process of the container takes an fd of the runtime's binary while a
/// runtime process is in the container (here: a createContainer hook, which runs in the
/// container with init, still the runtime, as its parent), keeps it after every runtime
/// process has gone, and reopens it for writing through /proc/self/fd. Before that the hook
/// tries to clear the file's immutable attribute through the fd (`chattr -i`, run behind
/// `attacker_prefix`: with fewer capabilities, say). `binary` is the copy of skiff that runs
/// the container.
fn attack_the_runtime_binary(bundle: &mut TestBundle, binary: &Path, attacker_prefix: &str, id: &str) -> Attack {
    let before = fs::read(binary).unwrap();
    let rootfs = bundle.rootfs();
    // The fd is taken by the hook itself, before pivot_root (its paths are the host's); the
    // background child keeps it and writes once `go` appears (its paths the container's).
    let unlock = bundle.dir.path().join("chattr");
    // `chattr -i` through the fd (e2fsprogs' chattr refuses /proc/self/fd's links).
    let chattr = bundle.dir.path().join("chattr.py");
    fs::write(
        &chattr,
        "import fcntl, struct\n\
         flags = struct.unpack('i', fcntl.ioctl(3, 0x80086601, bytes(8))[:4])[0]  # FS_IOC_GETFLAGS\n\
         fcntl.ioctl(3, 0x40086602, struct.pack('i', flags & ~0x10) + bytes(4))  # FS_IOC_SETFLAGS without FS_IMMUTABLE_FL\n",
    )
    .unwrap();
    let attacker = format!(
        "pid=$(sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/'); exec 3</proc/$pid/exe; \
         {attacker_prefix} python3 {chattr} >{unlock} 2>&1; echo \"exit $?\" >>{unlock}; \
         (while [ ! -e /go ] && [ ! -e {rootfs}/go ]; do sleep 0.05; done; \
          if {{ echo pwned >>/proc/self/fd/3; }} 2>/err; then echo WROTE; else echo REFUSED $(cat /err); fi >/result) \
         </dev/null >/dev/null 2>&1 &",
        rootfs = rootfs.display(),
        unlock = unlock.display(),
        chattr = chattr.display()
    );
    bundle.config["root"]["readonly"] = json!(false);
    bundle.config["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", attacker]}]});
    bundle.write_config();
    let root = bundle.state_root();
    let skiff = |args: &[&str]| {
        let mut all = vec!["--root", root.to_str().unwrap()];
        all.extend_from_slice(args);
        run_program(binary.to_str().unwrap(), &all, Some(&bundle.path()))
    };
    let out = skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let init = bundle.state(id)["pid"].as_i64().unwrap();
    let init_exe = fs::read_link(format!("/proc/{init}/exe")).unwrap().display().to_string();
    assert_eq!(skiff(&["start", id]).code, 0);
    // No skiff process is left running the binary now: the write is not refused as busy.
    fs::write(rootfs.join("go"), "").unwrap();
    let result = wait_for(&rootfs.join("result"), Duration::from_secs(10));
    assert_eq!(skiff(&["delete", "-f", id]).code, 0);
    bundle.assert_nothing_left(id);
    let unlock = fs::read_to_string(&unlock).unwrap_or_default();
    Attack { result, init_exe, unlock, unchanged: fs::read(binary).unwrap() == before }
}

/// A copy of skiff in the bundle's directory, so that a regression corrupts the copy and
/// not the build.
fn copy_of_skiff(bundle: &TestBundle) -> std::path::PathBuf {
    let copy = bundle.dir.path().join("skiff-copy");
    fs::copy(SKIFF, &copy).unwrap();
    fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

#[test]
fn cve_2019_5736_the_runtime_binary_cannot_be_overwritten_from_a_container() {
    let mut bundle = TestBundle::new(&["sleep", "30"]);
    let copy = copy_of_skiff(&bundle);
    let attack = attack_the_runtime_binary(&mut bundle, &copy, "", &unique_id("cve-5736"));
    assert!(attack.result.starts_with("REFUSED") && attack.result.contains("Read-only file system"), "the binary was writable: {}", attack.result);
    assert!(attack.unchanged, "the runtime binary changed");
    // Init ran from the detached read-only mount, not from the file's path.
    assert_ne!(attack.init_exe, copy.display().to_string());
}

/// An immutable binary (as make install and the .deb leave it) is not re-executed from a
/// mount: init runs the file itself. A container's process without CAP_LINUX_IMMUTABLE (the
/// attacker here runs with it dropped from its bounding set) can neither clear the attribute
/// nor write the file.
#[test]
fn cve_2019_5736_an_immutable_binary_runs_as_it_is_and_stays_unwritable() {
    assert!(Path::new("/usr/bin/setpriv").exists(), "prerequisite: setpriv (util-linux) is missing");
    assert!(Path::new("/usr/bin/python3").exists(), "prerequisite: python3 is missing");
    let mut bundle = TestBundle::new(&["sleep", "30"]);
    let copy = copy_of_skiff(&bundle);
    let _immutable = Immutable::set(&copy);
    let attack = attack_the_runtime_binary(&mut bundle, &copy, "setpriv --bounding-set=-linux_immutable", &unique_id("cve-5736-i"));
    assert_eq!(attack.init_exe, copy.display().to_string(), "init was re-executed from a mount, though the binary is immutable");
    assert!(attack.unlock.contains("Operation not permitted") && !attack.unlock.contains("exit 0"), "chattr -i: {}", attack.unlock);
    assert!(attack.result.starts_with("REFUSED") && attack.result.contains("Operation not permitted"), "the binary was writable: {}", attack.result);
    assert!(attack.unchanged, "the runtime binary changed");
}

/// An immutable binary with a container whose process may hold CAP_LINUX_IMMUTABLE: create
/// re-executes from the read-only mount after all, where clearing the attribute fails too
/// (the attacker here holds every capability).
#[test]
fn cve_2019_5736_an_immutable_binary_is_still_sealed_for_a_process_that_could_clear_it() {
    let mut bundle = TestBundle::new(&["sleep", "30"]);
    for set in ["bounding", "effective", "permitted"] {
        bundle.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_LINUX_IMMUTABLE"));
    }
    let copy = copy_of_skiff(&bundle);
    let _immutable = Immutable::set(&copy);
    let attack = attack_the_runtime_binary(&mut bundle, &copy, "", &unique_id("cve-5736-ic"));
    assert_ne!(attack.init_exe, copy.display().to_string(), "init ran the immutable file, which its process could unlock");
    assert!(attack.unlock.contains("Read-only file system") && !attack.unlock.contains("exit 0"), "chattr -i: {}", attack.unlock);
    assert!(attack.result.starts_with("REFUSED"), "the binary was writable: {}", attack.result);
    assert!(attack.unchanged, "the runtime binary changed");
    let attributes = Command::new("lsattr").arg(&copy).output().unwrap();
    assert!(String::from_utf8_lossy(&attributes.stdout).split_whitespace().next().unwrap_or_default().contains('i'), "the attribute was cleared");
}

/// The same choice for `exec`: an immutable binary runs a process as it is, and re-executes
/// from the read-only mount for `exec --cap CAP_LINUX_IMMUTABLE` (its debug line says so).
#[test]
fn exec_with_cap_linux_immutable_re_executes_an_immutable_binary() {
    let bundle = TestBundle::new(&["sleep", "30"]);
    let copy = copy_of_skiff(&bundle);
    let _immutable = Immutable::set(&copy);
    let id = unique_id("exec-immutable");
    let root = bundle.state_root();
    let skiff = |args: &[&str]| {
        let mut all = vec!["--root", root.to_str().unwrap(), "--debug"];
        all.extend_from_slice(args);
        run_program(copy.to_str().unwrap(), &all, Some(&bundle.path()))
    };
    assert_eq!(skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    const REEXEC: &str = "re-executing from a read-only mount";
    let plain = skiff(&["exec", &id, "true"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(plain.stderr.contains("binary is immutable") && !plain.stderr.contains(REEXEC), "{}", plain.stderr);
    let holder = skiff(&["exec", "--cap", "CAP_LINUX_IMMUTABLE", &id, "sh", "-c", "grep CapBnd /proc/self/status"]);
    assert_eq!(holder.code, 0, "{}", holder.stderr);
    assert!(holder.stderr.contains(REEXEC), "{}", holder.stderr);
    assert_eq!(skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// An fd of a host directory that the runtime still holds, named as the cwd.
fn cwd_through_fd(fd: i32) -> String {
    format!("/proc/self/fd/{fd}")
}

/// CVE-2024-21626. A host directory fd reaches the runtime (runc leaked its own; here the
/// caller leaks one), and `process.cwd` (or `exec --cwd`) names it as /proc/self/fd/N: the
/// process would start with its cwd on the host.
#[test]
fn cve_2024_21626_a_cwd_through_a_leaked_fd_is_refused() {
    let mut bundle = TestBundle::new(&["sh", "-c", "ls ..; pwd"]);
    let host_dir = fs::File::open(bundle.dir.path()).unwrap();
    let leaked = nix::unistd::dup(host_dir.as_raw_fd()).unwrap(); // no CLOEXEC: inherited
    bundle.config["process"]["cwd"] = json!(cwd_through_fd(leaked));
    bundle.write_config();
    let id = unique_id("cve-21626");
    // Children inherit the leaked fd: it is open without CLOEXEC in this process.
    let spawn = |bundle: &TestBundle, args: &[&str]| {
        let out = bundle.skiff(args);
        (out.code, out.stdout, out.stderr)
    };
    let (code, stdout, stderr) = spawn(&bundle, &["run", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(code, 0, "ran with a cwd outside the container: {stdout}");
    assert!(stderr.contains("process.cwd"), "{stderr}");
    assert!(!stdout.contains("skiff-test-"), "the host directory was listed: {stdout}");
    bundle.assert_nothing_left(&id);
    // The same through exec --cwd.
    bundle.config["process"]["cwd"] = json!("/");
    bundle.config["process"]["args"] = json!(["sleep", "30"]);
    bundle.write_config();
    assert_eq!(spawn(&bundle, &["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).0, 0);
    let (code, stdout, stderr) = spawn(&bundle, &["exec", "--cwd", &cwd_through_fd(leaked), &id, "ls", ".."]);
    assert_ne!(code, 0, "exec ran with a cwd outside the container: {stdout}");
    assert!(stderr.contains("process.cwd"), "{stderr}");
    nix::unistd::close(leaked).unwrap();
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// CVE-2024-21626's other half: an fd the caller leaks (here a host directory, without
/// close-on-exec) never reaches the container's init, not even while it waits at the start
/// gate, where a process joining the container could use it (runc 1.5's "detect fd leak").
/// What init holds past stdio is the gate and its sockets to the runtime.
#[test]
fn a_created_container_holds_none_of_the_callers_fds() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let host_dir = fs::File::open(bundle.dir.path()).unwrap();
    let leaked = nix::unistd::dup(host_dir.as_raw_fd()).unwrap(); // no CLOEXEC: inherited
    let id = unique_id("fdleak");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    nix::unistd::close(leaked).unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let init = bundle.state(&id)["pid"].as_i64().unwrap();
    let mut held = Vec::new();
    for entry in fs::read_dir(format!("/proc/{init}/fd")).unwrap().flatten() {
        let fd: i32 = entry.file_name().to_str().unwrap().parse().unwrap();
        let target = fs::read_link(entry.path()).map(|t| t.display().to_string()).unwrap_or_default();
        if fd > 2 {
            held.push(format!("{fd} -> {target}"));
        }
    }
    assert!(
        held.iter().all(|h| h.ends_with("/exec.fifo") || h.contains("socket:[")),
        "init holds fds beyond stdio, the gate and its sockets: {held:?} (leaked fd {leaked})"
    );
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// CVE-2021-30465. While mounts are made, a path component of a mount destination is
/// swapped (renameat2 RENAME_EXCHANGE) between a directory and a symlink to a host
/// directory. Every mount must land inside the rootfs: a createContainer hook, in the
/// container's mount namespace before pivot_root, looks for the mount on the host path.
#[test]
fn cve_2021_30465_swapping_a_destination_for_a_symlink_never_mounts_outside() {
    let mut bundle = TestBundle::new(&["true"]);
    let outside = bundle.dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let rootfs = bundle.rootfs();
    fs::create_dir_all(rootfs.join("mnt/dir")).unwrap();
    symlink(&outside, rootfs.join("mnt/link")).unwrap();
    let source = bundle.dir.path().join("volume");
    fs::create_dir(&source).unwrap();
    fs::write(source.join("marker"), "").unwrap();
    let mounts = bundle.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/mnt/dir", "type": "bind", "source": source, "options": ["bind"]}));
    let report = bundle.dir.path().join("escaped");
    let check = format!("if [ -e {}/marker ]; then echo escaped >> {}; fi", outside.display(), report.display());
    bundle.config["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", check]}]});
    bundle.write_config();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (rootfs.join("mnt/dir"), rootfs.join("mnt/link"));
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                nix::fcntl::renameat2(None, &a, None, &b, nix::fcntl::RenameFlags::RENAME_EXCHANGE).unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let mut outcomes = (0, 0);
    for round in 0..30 {
        let id = unique_id(&format!("cve-30465-{round}"));
        let out = bundle.run(&id);
        if out.code == 0 {
            outcomes.0 += 1
        } else {
            outcomes.1 += 1
        }
        bundle.assert_nothing_left(&id);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 100, "the race ran ({swaps} swaps)");
    assert!(!report.exists(), "a bind mount landed on the host directory ({outcomes:?} runs ok/refused)");
    assert!(fs::read_dir(&outside).unwrap().next().is_none(), "the host directory was written");
}

/// CVE-2019-16884 (a fake /proc from the image or a volume absorbing the runtime's procfs
/// writes) and CVE-2025-52881 (a mount raced over a /proc file the runtime writes): the
/// runtime's writes into the container's /proc (sysctls here; LSM labels take the same
/// path) must reach the real procfs file or fail.
#[test]
fn cve_2019_16884_and_2025_52881_procfs_writes_cannot_be_redirected() {
    let fake = tempfile::tempdir().unwrap();
    fs::create_dir_all(fake.path().join("sys/kernel")).unwrap();
    fs::write(fake.path().join("sys/kernel/domainname"), "").unwrap();
    let sysctl = json!({"kernel.domainname": "redirected"});
    // A directory of the attacker's over /proc.
    assert_create_refused(
        &json!({"linux": {"sysctl": sysctl}, "mounts": default_mounts_plus(json!({"destination": "/proc", "type": "bind", "source": fake.path(), "options": ["rbind"]}))}),
        "is not a procfs mount",
    );
    // A filesystem mounted over part of the real /proc.
    assert_create_refused(
        &json!({"linux": {"sysctl": sysctl}, "mounts": default_mounts_plus(json!({"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}))}),
        "/proc/sys/kernel/domainname",
    );
    assert_eq!(fs::read_to_string(fake.path().join("sys/kernel/domainname")).unwrap(), "", "the fake file was written");
}

/// The default mounts with `extra` after them.
fn default_mounts_plus(extra: Value) -> Value {
    let mut mounts = skiff::default_spec::default_spec()["mounts"].clone();
    mounts.as_array_mut().unwrap().push(extra);
    mounts
}

/// CVE-2022-29162: the process's inheritable capabilities must be only what the config
/// asks for (none by default), in init and in exec'd processes.
#[test]
fn cve_2022_29162_no_inheritable_capabilities_unless_asked() {
    let mut bundle = TestBundle::new(&["sh", "-c", "grep CapInh /proc/self/status; sleep 30"]);
    bundle.config["process"]["capabilities"].as_object_mut().unwrap().remove("inheritable");
    bundle.write_config();
    let id = unique_id("cve-29162");
    let log = bundle.dir.path().join("out");
    let out = Command::new(SKIFF)
        .args(["--root", bundle.state_root().to_str().unwrap(), "run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id])
        .stdin(Stdio::null())
        .stdout(fs::File::create(&log).unwrap())
        .status()
        .unwrap();
    assert!(out.success());
    assert_eq!(wait_for(&log, Duration::from_secs(5)), "CapInh:\t0000000000000000\n");
    let exec = bundle.skiff(&["exec", &id, "grep", "CapInh", "/proc/self/status"]);
    assert_eq!(exec.stdout, "CapInh:\t0000000000000000\n", "{}", exec.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// CVE-2023-27561 (and CVE-2019-19921 before it): /proc in the image is a symlink, so the
/// procfs mount and every later write through /proc would follow the image's choice.
#[test]
fn cve_2023_27561_a_symlinked_proc_is_refused() {
    let bundle = TestBundle::new(&["true"]);
    let rootfs = bundle.rootfs();
    fs::remove_dir(rootfs.join("proc")).unwrap();
    fs::create_dir(rootfs.join("elsewhere")).unwrap();
    symlink("elsewhere", rootfs.join("proc")).unwrap();
    bundle.write_config();
    let id = unique_id("cve-27561");
    let out = bundle.run(&id);
    assert_ne!(out.code, 0, "ran with /proc mounted through a symlink");
    assert!(out.stderr.contains("refuse a symlink at") && out.stderr.contains("/proc"), "{}", out.stderr);
    // runc's words too (its mask.bats "[prohibit symlink /proc]")
    assert!(out.stderr.contains("proc\\\" must be mounted on ordinary directory"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// CVE-2025-31133: masking binds /dev/null over the masked files; an image whose /dev/null
/// is a symlink (here to a procfs file) would have that file bound there instead, writable.
#[test]
fn cve_2025_31133_masking_only_uses_the_real_null_device() {
    for planted in ["symlink", "regular file"] {
        let mut bundle = TestBundle::new(&["true"]);
        without_dev_tmpfs(&mut bundle.config);
        bundle.config["root"]["readonly"] = json!(false);
        bundle.write_config();
        let null = bundle.rootfs().join("dev/null");
        match planted {
            "symlink" => symlink("/proc/sys/kernel/core_pattern", &null).unwrap(),
            _ => fs::write(&null, "").unwrap(),
        }
        let id = unique_id("cve-31133");
        let out = bundle.run(&id);
        assert_ne!(out.code, 0, "{planted}: masked with a /dev/null that is not the null device");
        assert!(out.stderr.contains("/dev/null"), "{planted}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

/// CVE-2025-52565: the pty is bound over /dev/console; an image whose /dev/console is a
/// symlink (to a procfs file) would get the bind there instead.
#[test]
fn cve_2025_52565_dev_console_cannot_redirect_the_pty_bind() {
    let mut bundle = TestBundle::new(&["true"]);
    without_dev_tmpfs(&mut bundle.config);
    bundle.config["mounts"].as_array_mut().unwrap().push(
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}),
    );
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    symlink("/proc/sysrq-trigger", bundle.rootfs().join("dev/console")).unwrap();
    let socket = bundle.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let id = unique_id("cve-52565");
    let out = bundle.skiff(&["create", "--console-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "the pty was bound through a symlinked /dev/console");
    assert!(out.stderr.contains("refuse a symlink at") && out.stderr.contains("/dev/console"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// Swap `a` and `b` (renameat2 RENAME_EXCHANGE) in a loop on another thread until the
/// returned guard is finished; `finish` gives the number of swaps made.
struct Swapper {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl Swapper {
    fn start(a: std::path::PathBuf, b: std::path::PathBuf) -> Swapper {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                nix::fcntl::renameat2(None, &a, None, &b, nix::fcntl::RenameFlags::RENAME_EXCHANGE).unwrap();
                swaps += 1;
            }
            swaps
        });
        Swapper { stop, thread }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// Issue 22, hole 1 (the CVE-2021-30465 class, on the remount): `/data` is a shared rw
/// volume and `/data/ro` a read-only bind nested in it. A co-tenant swaps the volume's `ro`
/// with a symlink to `/data` while the runtime mounts: a remount that looks `/data/ro` up
/// again by path lands on `/data`, and the "read-only" source stays writable. The container
/// tries to write through both names; the source must never be written.
#[test]
fn a_read_only_bind_stays_read_only_while_its_destination_is_swapped() {
    const ATTEMPTS: usize = 400;
    let mut bundle = TestBundle::new(&["sh", "-c", "for d in /data/ro /data/link; do [ -d $d ] && touch $d/written 2>/dev/null; done; true"]);
    let shared = bundle.dir.path().join("shared");
    let read_only = bundle.dir.path().join("read-only-source");
    fs::create_dir_all(shared.join("ro")).unwrap();
    fs::create_dir(&read_only).unwrap();
    symlink("/data", shared.join("link")).unwrap();
    let mounts = bundle.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/data", "type": "bind", "source": shared, "options": ["rbind"]}));
    mounts.push(json!({"destination": "/data/ro", "type": "bind", "source": read_only, "options": ["bind", "ro"]}));
    bundle.write_config();
    let swapper = Swapper::start(shared.join("ro"), shared.join("link"));
    let (mut ran, mut refused, mut written) = (0, 0, 0);
    for round in 0..ATTEMPTS {
        let id = unique_id(&format!("ro-swap-{round}"));
        if bundle.run(&id).code == 0 {
            ran += 1
        } else {
            refused += 1
        }
        bundle.assert_nothing_left(&id);
        if fs::remove_file(read_only.join("written")).is_ok() {
            written += 1;
        }
    }
    let swaps = swapper.finish();
    eprintln!("{ATTEMPTS} attempts: {ran} ran, {refused} refused, {written} wrote the read-only source; {swaps} swaps");
    assert!(swaps > 1000, "the race ran ({swaps} swaps)");
    assert_eq!(written, 0, "the read-only source was written in {written} of {ATTEMPTS} attempts ({ran} ran)");
}

/// Issue 22, hole 2: the mode of a new device node is set through its name, following a
/// symlink renamed over the node after mknod. `/dev` comes from the image (no tmpfs), and
/// strace's fault injection holds each mknodat for 300 ms while the host renames a symlink
/// to a host file (0600) over the new `/dev/null`. The host file must keep its mode.
#[test]
fn a_device_node_swapped_for_a_symlink_never_changes_a_host_file() {
    const ATTEMPTS: usize = 4;
    assert!(Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let mut bundle = TestBundle::new(&["true"]);
    without_dev_tmpfs(&mut bundle.config);
    bundle.config["root"]["readonly"] = json!(false);
    bundle.write_config();
    let rootfs = bundle.rootfs();
    // The link is relative: from <rootfs>/dev it leads to the bundle's directory on the host,
    // and resolved inside the root (clamped at /) to <rootfs>/victim, which also exists.
    let victim = bundle.path().join("victim");
    fs::write(rootfs.join("victim"), "").unwrap();
    let mut changed = 0;
    for round in 0..ATTEMPTS {
        fs::write(&victim, "host file").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        for entry in fs::read_dir(rootfs.join("dev")).unwrap().flatten() {
            fs::remove_file(entry.path()).unwrap();
        }
        let null = rootfs.join("dev/null");
        let attacker = {
            let null = null.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    if fs::symlink_metadata(&null).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_char_device(&m.file_type())) {
                        let planted = null.with_file_name(".planted");
                        symlink("../../victim", &planted).unwrap();
                        fs::rename(&planted, &null).unwrap();
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                false
            })
        };
        let id = unique_id(&format!("mknod-swap-{round}"));
        let root = bundle.state_root();
        let out = run_program(
            "/usr/bin/strace",
            &[
                "-f",
                "-qq",
                "-o",
                "/dev/null",
                "-e",
                "trace=mknodat",
                "-e",
                "inject=mknodat:delay_exit=300000",
                SKIFF,
                "--root",
                root.to_str().unwrap(),
                "run",
                "--bundle",
                bundle.path().to_str().unwrap(),
                &id,
            ],
            Some(&bundle.path()),
        );
        assert!(attacker.join().unwrap(), "round {round}: /dev/null never appeared ({})", out.stderr);
        bundle.assert_nothing_left(&id);
        let mode = fs::metadata(&victim).unwrap().permissions().mode() & 0o7777;
        eprintln!("round {round}: run exited {}, the host file is {mode:o}: {}", out.code, out.stderr.trim());
        if mode != 0o600 {
            changed += 1;
        }
    }
    assert_eq!(changed, 0, "a host file's mode was changed through the device node in {changed} of {ATTEMPTS} attempts");
}

/// Issue 22, hole 3 (CVE-2025-52565 on the source side): devpts is mounted elsewhere and
/// `/dev/pts` is a volume whose `ptmx` and `0` are the attacker's symlinks; `0` flips between
/// the real slave and `/proc/sys/kernel/hostname`. A runtime that opens the pty by name and
/// binds `/dev/pts/0` over `/dev/console` by name binds the procfs file there, writable. The
/// container reports the filesystem behind its `/dev/console`: it must never be procfs.
#[test]
fn dev_console_is_bound_from_the_pty_itself_never_from_a_name() {
    const ATTEMPTS: usize = 80;
    let report = "grep ' /dev/console ' /proc/self/mountinfo | sed 's/.* - \\([^ ]*\\) .*/\\1/' > /results/$(hostname).tmp; mv /results/$(hostname).tmp /results/$(hostname)";
    let mut bundle = TestBundle::new(&["sh", "-c", report]);
    let volume = bundle.dir.path().join("pts-volume");
    let results = bundle.dir.path().join("results");
    fs::create_dir_all(&volume).unwrap();
    fs::create_dir_all(&results).unwrap();
    fs::create_dir_all(bundle.rootfs().join("devpts")).unwrap();
    symlink("/devpts/ptmx", volume.join("ptmx")).unwrap();
    symlink("/devpts/0", volume.join("0")).unwrap();
    symlink("/proc/sys/kernel/hostname", volume.join("flip")).unwrap();
    let mounts = bundle.config["mounts"].as_array_mut().unwrap();
    for mount in mounts.iter_mut() {
        if mount["destination"] == "/dev/pts" {
            mount["destination"] = json!("/devpts");
        }
    }
    mounts.push(json!({"destination": "/dev/pts", "type": "bind", "source": volume, "options": ["rbind"]}));
    mounts.push(json!({"destination": "/results", "type": "bind", "source": results, "options": ["rbind"]}));
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let socket = bundle.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    let swapper = Swapper::start(volume.join("0"), volume.join("flip"));
    let (mut started, mut refused, mut procfs, mut named) = (0, 0, 0, 0);
    for round in 0..ATTEMPTS {
        let id = unique_id(&format!("pts-swap-{round}"));
        bundle.config["hostname"] = json!(format!("pts{round}"));
        bundle.write_config();
        let out = bundle.skiff(&["create", "--console-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
        // The master is held until the container is deleted: closing it would hang up init.
        let connections: Vec<_> = std::iter::from_fn(|| listener.accept().ok()).collect();
        if out.code != 0 {
            refused += 1;
            if out.stderr.contains("/dev/pts/ptmx") {
                named += 1;
            }
            bundle.assert_nothing_left(&id);
            continue;
        }
        started += 1;
        let start = bundle.skiff(&["start", &id]);
        assert_eq!(start.code, 0, "{}", start.stderr);
        let fs_type = wait_for(&results.join(format!("pts{round}")), Duration::from_secs(10));
        if fs_type.trim() == "proc" {
            procfs += 1;
        }
        assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
        bundle.assert_nothing_left(&id);
        drop(connections);
    }
    let swaps = swapper.finish();
    eprintln!("{ATTEMPTS} attempts: {started} started, {refused} refused, {procfs} with /dev/console on procfs; {swaps} swaps");
    assert!(swaps > 1000, "the race ran ({swaps} swaps)");
    assert_eq!(procfs, 0, "/dev/console was a procfs bind in {procfs} of {ATTEMPTS} attempts");
    // A /dev/pts that is not the devpts instance is refused for that reason, not another.
    assert_eq!(named, refused, "{refused} refusals, {named} of them naming /dev/pts/ptmx");
}
