//! checkpoint and restore on this host: the flags, the refusals, and CRIU failing on a kernel
//! it cannot work with (this host's: CRIU 3.17 cannot initialise its kernel feature detection
//! here). Each failure is a clear error that leaves the container as it was, and a failed
//! restore leaves nothing. The working checkpoint/restore runs in the systemd VM
//! (integration/vm-systemd/criu.sh), on Debian's kernel.

mod common;

use std::fs;
use std::path::Path;

use common::{TestBundle, run_skiff, unique_id, wait_for_file};

const CRIU: &str = "/usr/sbin/criu";

fn require_criu() {
    assert!(Path::new(CRIU).is_file(), "{CRIU} is missing: install Debian's criu (make deps does)");
}

/// A detached container that writes a counter to /count in its rootfs.
fn counting(id: &str) -> TestBundle {
    let mut bundle = TestBundle::new(&["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /c.tmp; mv /c.tmp /count; sleep 0.1; done"]);
    bundle.config["root"]["readonly"] = serde_json::json!(false);
    bundle.write_config();
    let path = bundle.path();
    let out = bundle.skiff(&["run", "-d", "--bundle", path.to_str().unwrap(), id]);
    assert_eq!(out.code, 0, "run -d: {}", out.stderr);
    wait_for_file(&bundle.rootfs().join("count"));
    bundle
}

fn count(bundle: &TestBundle) -> u64 {
    fs::read_to_string(bundle.rootfs().join("count")).unwrap_or_default().trim().parse().unwrap_or(0)
}

/// The container still runs and counts.
fn assert_still_counting(bundle: &TestBundle, id: &str) {
    assert_eq!(bundle.state(id)["status"], "running");
    let before = count(bundle);
    for _ in 0..50 {
        if count(bundle) > before {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("container {id} stopped counting at {before}");
}

#[test]
fn the_probes_engines_make_succeed() {
    // podman runs `checkpoint --help` to learn whether the runtime can checkpoint
    let out = run_skiff(&["checkpoint", "--help"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for flag in [
        "--image-path",
        "--work-path",
        "--parent-path",
        "--leave-running",
        "--tcp-established",
        "--tcp-skip-in-flight",
        "--link-remap",
        "--ext-unix-sk",
        "--shell-job",
        "--file-locks",
        "--pre-dump",
        "--manage-cgroups-mode",
        "--empty-ns",
        "--auto-dedup",
        "--lazy-pages",
        "--status-fd",
        "--page-server",
    ] {
        assert!(out.stdout.contains(flag), "checkpoint --help lacks {flag}:\n{}", out.stdout);
    }
    let out = run_skiff(&["restore", "--help"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for flag in [
        "--bundle",
        "--detach",
        "--pid-file",
        "--console-socket",
        "--no-subreaper",
        "--no-pivot",
        "--lsm-profile",
        "--lsm-mount-context",
        "--image-path",
        "--manage-cgroups-mode",
    ] {
        assert!(out.stdout.contains(flag), "restore --help lacks {flag}:\n{}", out.stdout);
    }
    // podman's probe for restoring into a pod: runc's (Go's) wording for a flag without its
    // value, which it greps for; the same wording for any flag
    let out = run_skiff(&["restore", "--lsm-mount-context"], None);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("flag needs an argument: -lsm-mount-context"), "{}", out.stderr);
    let out = run_skiff(&["create", "-b"], None);
    assert!(out.stderr.contains("flag needs an argument: -bundle"), "{}", out.stderr);
    // runc's features document announces checkpoint support by an annotation
    let out = run_skiff(&["features"], None);
    let features: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(features["annotations"]["org.opencontainers.runc.checkpoint.enabled"], "true", "{}", out.stdout);
}

#[test]
fn checkpoint_refuses_bad_options_and_leaves_the_container_running() {
    require_criu();
    let id = unique_id("ck-opts");
    let bundle = counting(&id);
    let images = bundle.dir.path().join("images");
    let images = images.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--manage-cgroups-mode", "props"], "--manage-cgroups-mode: invalid value \\\"props\\\": use soft, full, strict or ignore"),
        (&["--page-server", "nohost"], "--page-server: \\\"nohost\\\": no port; use ADDRESS:PORT"),
        (&["--page-server", "host:99999"], "the port is not a number"),
        (&["--empty-ns", "pid"], "--empty-ns: namespace \\\"pid\\\" is not supported: only network"),
        (&["--status-fd", "99"], "invalid --status-fd argument 99"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["checkpoint", "--image-path", images];
        args.extend_from_slice(flags);
        args.push(&id);
        let out = bundle.skiff(&args);
        assert_eq!(out.code, 1, "{flags:?}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{flags:?}: expected {expected:?} in {}", out.stderr);
        assert!(!Path::new(images).exists(), "{flags:?}: the image directory was made before the options were checked");
    }
    // --parent-path: relative to the image path, and an existing directory there
    let out = bundle.skiff(&["checkpoint", "--image-path", images, "--parent-path", "/abs", &id]);
    assert!(out.stderr.contains("--parent-path: must be relative"), "{}", out.stderr);
    let out = bundle.skiff(&["checkpoint", "--image-path", images, "--parent-path", "../none", &id]);
    assert!(out.stderr.contains("--parent-path: stat") && out.stderr.contains("No such file"), "{}", out.stderr);
    // CRIU missing
    let out = bundle.skiff(&["--criu", "/nonexistent/criu", "checkpoint", "--image-path", images, &id]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("criu binary \\\"/nonexistent/criu\\\" not found") && out.stderr.contains("apt-get install criu"), "{}", out.stderr);
    // an image directory holding files no checkpoint writes is refused and left as it was;
    // one holding an earlier checkpoint is used again (podman does that)
    let foreign = bundle.dir.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("notes.txt"), b"mine").unwrap();
    let out = bundle.skiff(&["checkpoint", "--image-path", foreign.to_str().unwrap(), &id]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is not empty and holds") && out.stderr.contains("notes.txt") && out.stderr.contains("give an empty directory"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_dir(&foreign).unwrap().count(), 1, "the refused directory was written to");
    let earlier = bundle.dir.path().join("earlier");
    fs::create_dir(&earlier).unwrap();
    for name in ["inventory.img", "core-1.img", "descriptors.json", "dump.log"] {
        fs::write(earlier.join(name), b"").unwrap();
    }
    let out = bundle.skiff(&["checkpoint", "--image-path", earlier.to_str().unwrap(), &id]);
    assert!(!out.stderr.contains("is not empty"), "an earlier checkpoint's directory was refused: {}", out.stderr);
    assert_still_counting(&bundle, &id);
    // an image or work directory another user can write is refused and left empty: CRIU
    // runs as root and would follow a link planted there
    let open = bundle.dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = bundle.skiff(&["checkpoint", "--image-path", open.to_str().unwrap(), &id]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--image-path") && out.stderr.contains("writable by others (mode 777)"), "{}", out.stderr);
    assert_eq!(fs::read_dir(&open).unwrap().count(), 0, "the refused directory was written to");
    let theirs = bundle.dir.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let fresh = bundle.dir.path().join("fresh-images");
    let out = bundle.skiff(&["checkpoint", "--image-path", fresh.to_str().unwrap(), "--work-path", theirs.to_str().unwrap(), &id]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--work-path") && out.stderr.contains("owned by uid 65534"), "{}", out.stderr);
    assert_eq!(fs::read_dir(&theirs).unwrap().count(), 0, "the refused directory was written to");
    assert_still_counting(&bundle, &id);
    // the wrong states: created, stopped
    let created = unique_id("ck-created");
    let path = bundle.path();
    assert_eq!(bundle.skiff(&["create", "--bundle", path.to_str().unwrap(), &created]).code, 0);
    let out = bundle.skiff(&["checkpoint", "--image-path", images, &created]);
    assert!(out.stderr.contains("Container cannot be checkpointed in created state"), "{}", out.stderr);
    assert_eq!(bundle.state(&created)["status"], "created");
    assert_eq!(bundle.skiff(&["delete", "--force", &created]).code, 0);
    let out = bundle.skiff(&["checkpoint", "--image-path", images, "no-such-container"]);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn criu_failing_on_this_kernel_is_a_clear_error_and_the_container_runs_on() {
    require_criu();
    let id = unique_id("ck-kernel");
    let bundle = counting(&id);
    let images = bundle.dir.path().join("images");
    let out = bundle.skiff(&["checkpoint", "--image-path", images.to_str().unwrap(), &id]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    // CRIU's own words from its log, with where the log is
    let log = images.join("dump.log");
    assert!(
        out.stderr.contains("criu dump failed") && out.stderr.contains(&format!("see {}", log.display())) && out.stderr.contains("Error ("),
        "{}",
        out.stderr
    );
    assert_still_counting(&bundle, &id);
    // a --work-path that is a link to a private directory is used, as containerd's task
    // directory gives it (`work` links to containerd's state)
    let real_work = bundle.dir.path().join("real-work");
    fs::create_dir(&real_work).unwrap();
    let work_link = bundle.dir.path().join("work");
    std::os::unix::fs::symlink(&real_work, &work_link).unwrap();
    let more = bundle.dir.path().join("more-images");
    let out = bundle.skiff(&["checkpoint", "--image-path", more.to_str().unwrap(), "--work-path", work_link.to_str().unwrap(), &id]);
    assert!(out.stderr.contains("criu dump failed") && !out.stderr.contains("--work-path"), "a linked --work-path was refused: {}", out.stderr);
    assert!(real_work.join("dump.log").exists(), "CRIU's log is not in the linked work directory: {}", out.stderr);
    assert_still_counting(&bundle, &id);
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_failed_restore_leaves_nothing() {
    require_criu();
    let bundle = TestBundle::new(&["sleep", "60"]);
    let path = bundle.path();
    let path = path.to_str().unwrap();
    // no images
    let id = unique_id("rs-none");
    let out = bundle.skiff(&["restore", "-d", "--bundle", path, "--image-path", "/nonexistent/images", &id]);
    assert!(out.stderr.contains("--image-path: /nonexistent/images holds no checkpoint (no inventory.img)"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    // images CRIU cannot restore on this kernel: its error, then nothing left (state, cgroup,
    // the rootfs bound for CRIU, processes)
    let images = bundle.dir.path().join("images");
    fs::create_dir(&images).unwrap();
    fs::write(images.join("inventory.img"), b"").unwrap();
    fs::write(images.join("descriptors.json"), br#"["/dev/null","/dev/null","/dev/null"]"#).unwrap();
    let mut config = bundle.config.clone();
    config["linux"]["cgroupsPath"] = serde_json::json!(format!("/{id}"));
    fs::write(bundle.path().join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    let pid_file = bundle.dir.path().join("pid");
    let out = bundle.skiff(&["restore", "-d", "--bundle", path, "--image-path", images.to_str().unwrap(), "--pid-file", pid_file.to_str().unwrap(), &id]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("criu restore failed") && out.stderr.contains("restore.log"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    assert!(!pid_file.exists(), "a pid file of a failed restore is left");
    // descriptors missing beside the images
    fs::remove_file(images.join("descriptors.json")).unwrap();
    let out = bundle.skiff(&["restore", "-d", "--bundle", path, "--image-path", images.to_str().unwrap(), &id]);
    assert!(out.stderr.contains("descriptors.json") && out.stderr.contains("No such file"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    // a duplicate id: refused, and the container holding it is untouched
    fs::write(images.join("descriptors.json"), br#"["/dev/null","/dev/null","/dev/null"]"#).unwrap();
    let taken = unique_id("rs-taken");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", path, &taken]).code, 0);
    let out = bundle.skiff(&["restore", "-d", "--bundle", path, "--image-path", images.to_str().unwrap(), &taken]);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(bundle.state(&taken)["status"], "running");
    assert_eq!(bundle.skiff(&["delete", "--force", &taken]).code, 0);
    // a terminal, detached, without a console socket
    config["process"]["terminal"] = serde_json::json!(true);
    fs::write(bundle.path().join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    let out = bundle.skiff(&["restore", "-d", "--bundle", path, "--image-path", images.to_str().unwrap(), &id]);
    assert!(out.stderr.contains("a console socket is needed"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn delete_never_descends_into_a_rootfs_a_killed_restore_left_bound() {
    // restore binds the rootfs at <state dir>/criu-root while CRIU runs; if skiff is killed
    // then, the bind stays, and delete --force must detach it, not delete through it
    let bundle = TestBundle::new(&["sleep", "60"]);
    let id = unique_id("rs-killed");
    let path = bundle.path();
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", path.to_str().unwrap(), &id]).code, 0);
    let bound = bundle.state_root().join(&id).join("criu-root");
    fs::create_dir(&bound).unwrap();
    let rootfs = bundle.rootfs();
    let out = common::run_program("mount", &["--bind", rootfs.to_str().unwrap(), bound.to_str().unwrap()], None);
    assert_eq!(out.code, 0, "mount --bind: {}", out.stderr);
    let out = bundle.skiff(&["delete", "--force", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(rootfs.join("bin/busybox").exists(), "delete --force removed the rootfs through the criu-root bind");
    assert!(!fs::read_to_string("/proc/self/mountinfo").unwrap().contains(bound.to_str().unwrap()), "the bind is left");
    bundle.assert_nothing_left(&id);
}
