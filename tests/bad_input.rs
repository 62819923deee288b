//! Bad input gets a clear error, a non-zero exit, and leaves nothing behind.
//!
//! The config and id cases need neither root nor busybox (`TestBundle::unprivileged`): `make
//! test-host` runs them as an unprivileged user too, with the library's unit tests.

mod common;

use common::*;
use serde_json::json;

/// Create container `id` from `bundle`, expect failure, and return stderr.
fn create_fails(bundle: &TestBundle, id: &str) -> String {
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), id]);
    assert_ne!(out.code, 0, "create {id:?} should have failed; stdout {:?}", out.stdout);
    assert!(!out.stderr.is_empty(), "a failure must say why");
    out.stderr
}

#[test]
fn malformed_and_truncated_config() {
    let bundle = TestBundle::unprivileged(&["true"]);
    let config = bundle.path().join("config.json");
    let full = std::fs::read_to_string(&config).unwrap();
    for broken in [&full[..full.len() / 2], "{", "not json", "", "{\"ociVersion\": 1}"] {
        std::fs::write(&config, broken).unwrap();
        let id = unique_id("malformed");
        let stderr = create_fails(&bundle, &id);
        assert!(stderr.contains("config.json"), "error names the file: {stderr}");
        bundle.assert_nothing_left(&id);
    }
    std::fs::remove_file(&config).unwrap();
    let id = unique_id("noconfig");
    let stderr = create_fails(&bundle, &id);
    assert!(stderr.contains("config.json") && stderr.contains("No such file"), "{stderr}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn config_type_errors_name_the_field_path() {
    let cases = [
        (json!({"linux": {"resources": {"memory": {"limit": "1g"}}}}), "linux.resources.memory.limit: invalid type: string"),
        (json!({"process": {"user": {"uid": "0"}}}), "process.user.uid: invalid type: string"),
        (json!({"mounts": [{"destination": "/proc", "type": "proc"}, {"destination": ["/x"]}]}), "mounts[1].destination: invalid type: sequence"),
    ];
    for (patch, expected) in cases {
        let mut bundle = TestBundle::unprivileged(&["true"]);
        merge(&mut bundle.config, &patch);
        bundle.write_config();
        let id = unique_id("typeerr");
        let stderr = create_fails(&bundle, &id);
        assert!(stderr.contains("config.json: ") && stderr.contains(expected), "{expected}: {stderr}");
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn intel_rdt_without_resctrl_is_a_clear_error() {
    assert!(!std::path::Path::new("/sys/fs/resctrl/schemata").exists(), "this test expects a host without resctrl (as the test machines are)");
    assert_create_refused(
        &json!({"linux": {"intelRdt": {"l3CacheSchema": "L3:0=f"}}}),
        "linux.intelRdt: Intel RDT is asked for, but no resctrl filesystem is mounted at /sys/fs/resctrl",
    );
    // A bad closID is refused before resctrl is even looked for.
    assert_create_refused(&json!({"linux": {"intelRdt": {"closID": "../x"}}}), "linux.intelRdt: closID \\\"../x\\\" is not a group name");
}

#[test]
fn missing_rootfs_and_empty_args() {
    let mut bundle = TestBundle::unprivileged(&["true"]);
    bundle.config["root"]["path"] = json!("no-such-rootfs");
    bundle.write_config();
    let id = unique_id("norootfs");
    let stderr = create_fails(&bundle, &id);
    assert!(stderr.contains("root.path") && stderr.contains("no-such-rootfs"), "{stderr}");
    bundle.assert_nothing_left(&id);

    let mut bundle = TestBundle::unprivileged(&["true"]);
    bundle.config["process"]["args"] = json!([]);
    bundle.write_config();
    let id = unique_id("noargs");
    let stderr = create_fails(&bundle, &id);
    assert!(stderr.contains("process.args: must not be empty: give the program to run"), "{stderr}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn bad_container_ids() {
    let bundle = TestBundle::unprivileged(&["true"]);
    let long = "x".repeat(1025);
    for id in ["../x", "a/b", ".", "..", "", long.as_str(), "with space"] {
        let stderr = create_fails(&bundle, id);
        assert!(stderr.contains("invalid container id"), "{id:?}: {stderr}");
    }
    // nothing was created anywhere under the state root, nor next to it
    let entries: Vec<_> = std::fs::read_dir(bundle.state_root()).unwrap().collect();
    assert!(entries.is_empty(), "state root holds {entries:?}");
    assert!(!bundle.dir.path().join("x").exists(), "../x escaped the state root");
    for command in [&["state", "../x"][..], &["start", "a/b"], &["kill", "..", "9"], &["delete", "-f", "../x"]] {
        let out = bundle.skiff(command);
        assert_ne!(out.code, 0, "{command:?}");
        assert!(out.stderr.contains("invalid container id"), "{command:?}: {}", out.stderr);
    }
}

#[test]
fn duplicate_id_is_refused_and_the_first_survives() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("dup");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let stderr = create_fails(&bundle, &id);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(bundle.state(&id)["status"], "created", "the first container is untouched");
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn parallel_creates_of_one_id_exactly_one_wins() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("race");
    let results: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = results.iter().filter(|o| o.code == 0).count();
    assert_eq!(winners, 1, "{results:?}");
    for loser in results.iter().filter(|o| o.code != 0) {
        assert!(loser.stderr.contains("already exists"), "{}", loser.stderr);
    }
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn unknown_signal_is_refused() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("badsig");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    for signal in ["SIGFOO", "65", "SIGRTMAX+1", "KILL9"] {
        let out = bundle.skiff(&["kill", &id, signal]);
        assert_ne!(out.code, 0, "{signal}");
        assert!(out.stderr.contains("unknown signal"), "{signal}: {}", out.stderr);
    }
    assert_eq!(bundle.state(&id)["status"], "created", "a refused kill does nothing");
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn operations_on_a_missing_container() {
    let bundle = TestBundle::new(&["true"]);
    for command in [&["state", "nope"][..], &["start", "nope"], &["kill", "nope"], &["delete", "nope"]] {
        let out = bundle.skiff(command);
        assert_ne!(out.code, 0, "{command:?}");
        assert!(out.stderr.contains("container does not exist"), "{command:?}: {}", out.stderr);
    }
}

#[test]
fn failures_inside_init_are_reported_and_cleaned_up() {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!({"process": {"args": ["/no/such/program"]}}), "exec: \\\"/no/such/program\\\": stat /no/such/program: no such file or directory"),
        (json!({"process": {"args": ["no-such-program"]}}), "no-such-program\\\": executable file not found in $PATH"),
        // A failing mount says so in runc's words ("skiff create failed: unable to start
        // container process: error during container init: error mounting ...") and names its
        // index in `mounts`.
        (
            json!({"mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/x", "type": "bind", "source": "/no/such/source", "options": ["bind"]}]}),
            "create failed: unable to start container process: error during container init: error mounting \\\"/no/such/source\\\" to rootfs at \\\"/x\\\" (mounts[1]): stat bind source /no/such/source",
        ),
        (
            json!({"mounts": [{"destination": "/x", "type": "no-such-fs", "source": "x"}]}),
            "error mounting \\\"x\\\" to rootfs at \\\"/x\\\" (mounts[0]): mount no-such-fs on",
        ),
        // this host's hard RLIMIT_NOFILE is 20000 and CAP_SYS_RESOURCE is not in the bounding set
        (json!({"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576}]}}), "setrlimit RlimitNofile"),
        (json!({"process": {"cwd": "/etc/passwd"}}), "/etc/passwd"),
        // Init dies during setup: say why, not "receive from init: ECONNRESET".
        (
            json!({"linux": {"resources": {"memory": {"limit": 8192}}}}),
            "container init was OOM-killed during setup: linux.resources.memory.limit (8192 bytes, 8192 in whole pages) is below what setting up the container needs",
        ),
        // runc's "memory limit too low": below a page, the kernel keeps 0 (runc's suite).
        (
            json!({"linux": {"resources": {"memory": {"limit": 1000}}}}),
            "linux.resources.memory.limit (1000 bytes, 0 in whole pages) is below what setting up the container needs (current usage: 0, peak usage: 0)",
        ),
    ];
    for (patch, expected) in cases {
        assert_create_refused(&patch, expected);
    }
}

#[test]
fn json_log_holds_one_logrus_error_line() {
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["process"]["args"] = json!([]);
    bundle.write_config();
    let log = bundle.dir.path().join("log.json");
    let id = unique_id("jsonlog");
    let root = bundle.state_root();
    let out = run_skiff(
        &["--root", root.to_str().unwrap(), "--log", log.to_str().unwrap(), "--log-format", "json", "create", "--bundle", bundle.path().to_str().unwrap(), &id],
        None,
    );
    assert_eq!(out.code, 1);
    let text = std::fs::read_to_string(&log).unwrap();
    let last = text.lines().last().expect("a log line");
    let line: serde_json::Value = serde_json::from_str(last).unwrap();
    let keys: Vec<&str> = line.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["level", "msg", "time"]);
    assert_eq!(line["level"], "error");
    assert_eq!(line["msg"], "process.args: must not be empty: give the program to run and its arguments");
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
    // with --log set, the error is also on stderr for a person at a terminal
    assert_eq!(out.stderr, "process.args: must not be empty: give the program to run and its arguments\n");
    bundle.assert_nothing_left(&id);
}

#[test]
fn interrupted_create_leftovers_are_removed_by_delete_force() {
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("leftover");
    // what a runtime killed between claiming the id and saving state leaves behind
    std::fs::create_dir(bundle.state_root().join(&id)).unwrap();
    let out = bundle.skiff(&["list", "-q"]);
    assert_eq!(out.stdout, "", "list skips directories without state");
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn lsm_labels_are_refused_on_a_host_without_the_module() {
    use skiff::sys::lsm::Lsm;
    assert!(
        !Lsm::AppArmor.enabled() && !Lsm::SELinux.enabled(),
        "this test expects a host without AppArmor and SELinux (as the test machines are): here the labels would be applied"
    );
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!({"process": {"apparmorProfile": "docker-default"}}), "process.apparmorProfile: a label is set but AppArmor is not enabled on this host"),
        (
            json!({"process": {"selinuxLabel": "system_u:system_r:container_t:s0"}}),
            "process.selinuxLabel: a label is set but SELinux is not enabled on this host",
        ),
    ];
    for (patch, expected) in cases {
        assert_create_refused(&patch, expected);
    }
    // A mount label alone is not confinement: with nothing to label, the container runs (as
    // under runc and crun), and --debug says the label was not applied.
    let mut labelled = TestBundle::new(&["sh", "-c", "grep -c context= /proc/self/mountinfo || true"]);
    labelled.config["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0");
    labelled.write_config();
    let id = unique_id("mountlabel");
    let out = labelled.skiff(&["--debug", "run", "--bundle", labelled.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "0", "no mount carries a context= option");
    assert!(out.stderr.contains("level=debug") && out.stderr.contains("SELinux is not enabled on this host, so mounts are not labelled"), "{}", out.stderr);
    labelled.assert_nothing_left(&id);
    // exec's flags too, and the container is unharmed.
    let bundle = TestBundle::new(&["sleep", "100"]);
    let id = unique_id("lsm-exec");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    for (flag, expected) in [("--apparmor", "AppArmor is not enabled"), ("--process-label", "SELinux is not enabled")] {
        let out = bundle.skiff(&["exec", flag, "label_t", &id, "true"]);
        assert_ne!(out.code, 0, "{flag}");
        assert!(out.stderr.contains(expected), "{flag}: {}", out.stderr);
    }
    assert_eq!(bundle.skiff(&["exec", &id, "true"]).code, 0);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn preserve_fds_that_are_not_open_are_refused() {
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("nofds");
    let log = bundle.dir.path().join("log");
    let root = bundle.state_root();
    // skiff's own log file would otherwise take fd 3 and reach the container
    let out = run_skiff(
        &["--root", root.to_str().unwrap(), "--log", log.to_str().unwrap(), "create", "--preserve-fds", "2", "--bundle", bundle.path().to_str().unwrap(), &id],
        None,
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("fd 3 is not open"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_state_root_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let bundle = TestBundle::new(&["true"]);
    let root = bundle.state_root();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
    let id = unique_id("openroot");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("writable by others (mode 777)"), "{}", out.stderr);
    let out = bundle.skiff(&["list"]);
    assert!(out.code != 0 && out.stderr.contains("refusing to keep container state there"), "{}", out.stderr);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
    bundle.assert_nothing_left(&id);
    // A fresh root is made 0700.
    let fresh = bundle.dir.path().join("fresh/root");
    let out = run_skiff(&["--root", fresh.to_str().unwrap(), "create", "--bundle", bundle.path().to_str().unwrap(), &id], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o7777, 0o700);
    assert_eq!(run_skiff(&["--root", fresh.to_str().unwrap(), "delete", "-f", &id], None).code, 0);
}

#[test]
fn unusable_pid_file_console_socket_and_log_paths_are_clear_errors() {
    let mut bundle = TestBundle::new(&["true"]);
    let id = unique_id("badpaths");
    let b = bundle.path();
    let missing = bundle.dir.path().join("no/such/dir");
    let out = bundle.skiff(&["create", "--pid-file", missing.join("pid").to_str().unwrap(), "--bundle", b.to_str().unwrap(), &id]);
    assert!(out.code != 0 && out.stderr.contains("no/such/dir/"), "--pid-file: {}", out.stderr);
    bundle.assert_nothing_left(&id);
    let log = missing.join("log.json");
    let out = bundle.skiff(&["--log", log.to_str().unwrap(), "create", "--bundle", b.to_str().unwrap(), &id]);
    assert!(out.code != 0 && out.stderr.contains("open log file") && out.stderr.contains("no/such/dir/log.json"), "--log: {}", out.stderr);
    bundle.assert_nothing_left(&id);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let not_a_socket = bundle.dir.path().join("plain-file");
    std::fs::write(&not_a_socket, "").unwrap();
    let out = bundle.skiff(&["create", "--console-socket", not_a_socket.to_str().unwrap(), "--bundle", b.to_str().unwrap(), &id]);
    assert!(out.code != 0 && out.stderr.contains("plain-file"), "--console-socket: {}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn no_mount_namespace_with_paths_to_restrict_is_refused_in_runcs_words() {
    // Nothing in the runtime's mount namespace could mask or make read-only the paths asked for.
    for namespaces in [json!(null), json!([]), json!([{"type": "pid"}, {"type": "network"}])] {
        assert_create_refused(&json!({"linux": {"namespaces": namespaces}}), "unable to restrict sys entries without a private MNT namespace");
    }
}

#[test]
fn an_execve_failure_after_start_is_runcs_one_line() {
    // runc 1.5's run.bats "[execve error]": the interpreter does not exist; the process's
    // stderr gets exactly runc's line and nothing else is printed.
    let bundle = TestBundle::new(&["/run.sh"]);
    std::fs::write(bundle.rootfs().join("run.sh"), "#!/mmnnttbb foo bar\nsh\n").unwrap();
    std::fs::set_permissions(bundle.rootfs().join("run.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let id = unique_id("execve");
    let out = bundle.run(&id);
    assert_ne!(out.code, 0);
    assert_eq!(out.stderr, "exec /run.sh: no such file or directory\n");
    bundle.assert_nothing_left(&id);
}
