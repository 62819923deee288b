//! `skiff doctor` reports what this host really has: each fact is computed from the host
//! itself (this machine: hybrid cgroups, no systemd as PID 1); the systemd VM checks the
//! layout and systemd there.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn report() -> (Value, i32) {
    let out = run_skiff(&["doctor", "--format", "json"], None);
    (serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("doctor --format json: {e}: {}", out.stdout)), out.code)
}

fn ok(report: &Value, name: &str) -> bool {
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name} in {report}"));
    check["ok"].as_bool().unwrap()
}

#[test]
fn doctor_reports_what_the_host_has() {
    let (report, code) = report();
    assert_eq!(code, 0, "skiff runs containers here: {report}");
    assert_eq!(report["can_run_containers"], true);
    let cgroup_fs = nix::sys::statfs::statfs("/sys/fs/cgroup").unwrap().filesystem_type();
    let unified = nix::sys::statfs::statfs("/sys/fs/cgroup/unified").map(|s| s.filesystem_type());
    let layout = if cgroup_fs == nix::sys::statfs::CGROUP2_SUPER_MAGIC {
        "v2"
    } else if unified == Ok(nix::sys::statfs::CGROUP2_SUPER_MAGIC) {
        "hybrid"
    } else {
        "v1"
    };
    assert_eq!(report["cgroup_layout"], layout);
    assert!(ok(&report, "cgroups"));
    assert_eq!(ok(&report, "systemd"), Path::new("/run/systemd/system").is_dir(), "systemd as PID 1: {report}");
    let max_userns: u64 = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap().trim().parse().unwrap();
    assert_eq!(ok(&report, "user-namespaces"), max_userns > 0);
    assert_eq!(ok(&report, "newuidmap"), Path::new("/usr/bin/newuidmap").exists());
    assert_eq!(ok(&report, "time-namespace"), Path::new("/proc/self/ns/time").exists());
    assert_eq!(ok(&report, "apparmor"), std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|v| v.trim() == "Y"));
    assert_eq!(ok(&report, "selinux"), Path::new("/sys/fs/selinux/enforce").exists());
    // CRIU is usable where it is installed and `criu check` passes (not on this host's kernel)
    let criu = run_program("sh", &["-c", "criu check"], None).code == 0;
    assert_eq!(ok(&report, "criu"), criu, "{report}");
    // This host's kernel (6.x) has every syscall skiff probes for.
    for name in ["openat2", "clone3", "pidfd", "idmapped-mounts", "seccomp"] {
        assert!(ok(&report, name), "{name}: {report}");
    }
    // This kernel has the seccomp user notification and every filter flag skiff passes.
    let seccomp = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "seccomp").unwrap()["detail"].as_str().unwrap().to_string();
    for fact in ["user notification (SCMP_ACT_NOTIFY, listenerPath): yes", "flag new_listener: yes", "flag wait_killable_recv: yes", "flag spec_allow: yes"] {
        assert!(seccomp.contains(fact), "{fact} in {seccomp}");
    }
    // A missing piece says what it means and how to get it; a present one does not.
    for check in report["checks"].as_array().unwrap() {
        let missing = check["ok"] == false;
        assert_eq!(check.get("impact").is_some(), missing, "{check}");
        assert_eq!(check.get("fix").is_some(), missing, "{check}");
    }
    // The text form names every check.
    let text = run_skiff(&["doctor"], None);
    assert_eq!(text.code, 0);
    for check in report["checks"].as_array().unwrap() {
        assert!(text.stdout.contains(check["name"].as_str().unwrap()), "{}", text.stdout);
    }
    assert!(text.stdout.contains("skiff can run containers on this host"));
}

/// `binary-seal`: the build's binary (a writable file) is re-executed from a read-only mount
/// for each create, run and exec; an immutable copy (as installed) is not.
#[test]
fn doctor_says_whether_skiff_re_executes_itself() {
    let (report, _) = report();
    assert!(!ok(&report, "binary-seal"), "the build's binary is writable: {report}");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("skiff");
    std::fs::copy(SKIFF, &copy).unwrap();
    let _immutable = Immutable::set(&copy);
    let out = run_program(copy.to_str().unwrap(), &["doctor", "--format", "json"], None);
    let installed: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("doctor --format json: {e}: {}", out.stdout));
    assert!(ok(&installed, "binary-seal"), "{installed}");
    let check = installed["checks"].as_array().unwrap().iter().find(|c| c["name"] == "binary-seal").unwrap();
    assert!(check["detail"].as_str().unwrap().contains("is immutable"), "{check}");
}
