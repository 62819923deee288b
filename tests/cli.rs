//! The command line itself: version, spec, runc's flag spellings, logging.

mod common;

use common::*;

fn require_runc() {
    assert!(std::path::Path::new("/usr/sbin/runc").is_file(), "Debian's runc is missing (/usr/sbin/runc): install package runc (make deps does)");
}

#[test]
fn version_has_runc_shape() {
    let out = run_skiff(&["--version"], None);
    assert_eq!(out.code, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert!(lines[0].starts_with("skiff version "));
    assert!(lines[1].starts_with("commit: "));
    assert_eq!(lines[2], format!("spec: {}", skiff::OCI_VERSION));
}

#[test]
fn spec_matches_runc_spec() {
    require_runc();
    for rootless in [false, true] {
        let ours = tempfile::tempdir().unwrap();
        let theirs = tempfile::tempdir().unwrap();
        let mut args = vec!["spec", "--bundle"];
        let mut runc_args = args.clone();
        args.push(ours.path().to_str().unwrap());
        runc_args.push(theirs.path().to_str().unwrap());
        if rootless {
            args.push("--rootless");
            runc_args.push("--rootless");
        }
        assert_eq!(run_skiff(&args, None).code, 0);
        assert_eq!(run_program("/usr/sbin/runc", &runc_args, None).code, 0);
        let read = |dir: &std::path::Path| -> serde_json::Value {
            let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
            v["ociVersion"] = serde_json::json!("normalized");
            // runc 1.2+ left ambient out of its spec (never raised without inheritable, and
            // a warning each run since 1.5); Debian's runc 1.1 still writes it.
            v["process"]["capabilities"].as_object_mut().unwrap().remove("ambient");
            v
        };
        assert_eq!(read(ours.path()), read(theirs.path()), "rootless={rootless}");
        let text = std::fs::read_to_string(ours.path().join("config.json")).unwrap();
        assert!(text.starts_with("{\n\t\"ociVersion\""), "tab-indented like runc");
    }
}

#[test]
fn spec_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let out = run_skiff(&["spec", "-b", dir.path().to_str().unwrap()], None);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("exists"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join("config.json")).unwrap(), "{}");
}

#[test]
fn single_dash_long_flags_like_runc() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_skiff(&["-root", dir.path().to_str().unwrap(), "-log-format", "json", "list", "-format", "json"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "null\n");
}

/// runc 1.5's list.bats: a `--root` given that does not exist is an error (a mistyped root
/// must not look like an empty one); only the default root may be missing.
#[test]
fn list_with_a_missing_root_given_fails() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("non-existent/state");
    let out = run_skiff(&["--root", missing.to_str().unwrap(), "list"], None);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains(&format!("open {}: no such file or directory", missing.display())), "{}", out.stderr);
    assert!(!missing.exists(), "list made no root");
}

#[test]
fn accepted_runc_flags_say_so_with_debug() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_skiff(
        &["--root", dir.path().to_str().unwrap(), "--debug", "--systemd-cgroup", "--rootless", "auto", "--criu", "/usr/sbin/criu", "list", "-q"],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("level=debug msg=\"cgroup driver: systemd"), "{}", out.stderr);
    // As root outside a user namespace, auto is not rootless; true is, and says where state goes.
    assert!(!out.stderr.contains("rootless ("), "{}", out.stderr);
    let forced = run_skiff(&["--root", dir.path().to_str().unwrap(), "--debug", "--rootless", "true", "list", "-q"], None);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(forced.stderr.contains("msg=\"rootless (--rootless true), state root "), "{}", forced.stderr);
    let bad = run_skiff(&["--root", dir.path().to_str().unwrap(), "--rootless", "maybe", "list"], None);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--rootless \\\"maybe\\\": expected true, false or auto"), "{}", bad.stderr);
}

#[test]
fn text_log_line_on_stderr_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_skiff(&["--root", dir.path().to_str().unwrap(), "state", "nope"], None);
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("time=\""), "{}", out.stderr);
    assert!(out.stderr.trim_end().ends_with("level=error msg=\"container does not exist\""), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "printed once: {}", out.stderr);
}

#[test]
fn usage_errors_exit_1_and_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.json");
    let out = run_skiff(&["--log", log.to_str().unwrap(), "--log-format", "json", "--bogus", "list"], None);
    assert_eq!(out.code, 1, "runc exits 1 on an unknown flag");
    let line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&log).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(line["msg"].as_str().unwrap().contains("--bogus"), "{line}");
    let out = run_skiff(&["--help"], None);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Usage"));
}

#[test]
fn single_dash_rewriting_leaves_other_arguments_alone() {
    // `-ef` is an argument for ps(1), not a runc flag
    let dir = tempfile::tempdir().unwrap();
    let out = run_skiff(&["-root", dir.path().to_str().unwrap(), "ps", "nope", "-ef"], None);
    assert!(out.stderr.contains("container does not exist"), "{}", out.stderr);
}

#[test]
fn features_document() {
    let out = run_skiff(&["features"], None);
    assert_eq!(out.code, 0);
    let features: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(features["ociVersionMax"], skiff::OCI_VERSION);
    assert_eq!(features["linux"]["seccomp"]["enabled"], true);
    assert_eq!(features["hooks"].as_array().unwrap().len(), 6);
}

/// Run skiff with `--debug --log LOG` under `root`; it must succeed.
fn skiff_with_debug_log(root: &std::path::Path, log: &std::path::Path, args: &[&str]) {
    let mut full = vec!["--root", root.to_str().unwrap(), "--debug", "--log", log.to_str().unwrap()];
    full.extend_from_slice(args);
    let out = run_skiff(&full, None);
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
}

/// `--debug --log FILE` records what each command does, exec included, in runc's
/// `level=debug` lines (containerd and podman pass both).
#[test]
fn debug_lines_say_what_each_command_does() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("debug");
    let log = bundle.dir.path().join("debug.log");
    let root = bundle.state_root();
    let skiff = |args: &[&str]| skiff_with_debug_log(&root, &log, args);
    skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    skiff(&["start", &id]);
    skiff(&["exec", &id, "true"]);
    skiff(&["state", &id]);
    skiff(&["kill", &id, "KILL"]);
    wait_for_status(&bundle, &id, "stopped");
    skiff(&["delete", &id]);
    let text = std::fs::read_to_string(&log).unwrap();
    for expected in [
        format!("create: container {id} from bundle "),
        "waits at the start gate".to_string(),
        format!("start: opening the start gate of container {id}"),
        format!("exec: [\\\"true\\\"] in container {id}"),
        "exec: process exited pid=".to_string(),
        format!("state: container {id} is running"),
        format!("kill: sending signal KILL to the init of container {id}"),
        format!("delete: container {id} removed"),
    ] {
        assert!(text.lines().any(|l| l.contains("level=debug") && l.contains(&expected)), "{expected:?} in\n{text}");
    }
    bundle.assert_nothing_left(&id);
}

/// `--debug` ends each command with the time its phases took: create's from parsing the
/// config to the commit, init's own (mounts, pivot_root, ...), exec's up to the execve.
#[test]
fn debug_prints_phase_timings() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("phases");
    let log = bundle.dir.path().join("phases.log");
    let root = bundle.state_root();
    let skiff = |args: &[&str]| skiff_with_debug_log(&root, &log, args);
    skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    skiff(&["exec", &id, "true"]);
    skiff(&["state", &id]);
    skiff(&["delete", "-f", &id]);
    let text = std::fs::read_to_string(&log).unwrap();
    let phases = |command: &str| {
        let prefix = format!("{command}: phases: ");
        let line = text.lines().find(|l| l.contains(&prefix)).unwrap_or_else(|| panic!("no {prefix:?} line in\n{text}"));
        line.split(&prefix).nth(1).unwrap().to_string()
    };
    let run = phases("run");
    for phase in [
        "command line",
        "parse and validate",
        "seccomp compile",
        "state write",
        "cgroup",
        "clone",
        "waiting for init",
        "init: namespaces",
        "init: mounts",
        "init: pivot_root",
        "init: masked and read-only paths",
        "init: process attributes",
        "commit",
        "start",
    ] {
        let timed = run.split(", ").any(|p| p.starts_with(&format!("{phase} ")) && p.contains(" ms"));
        assert!(timed, "run's phases name {phase:?} with a time: {run}");
    }
    assert!(run.contains("; total "), "{run}");
    let exec = phases("exec");
    for phase in ["clone", "cgroup", "process: namespaces", "process: process attributes", "commit and execve"] {
        assert!(exec.contains(&format!("{phase} ")), "exec's phases name {phase:?}: {exec}");
    }
    assert!(phases("state").contains("; total "));
    assert!(phases("delete").contains("; total "));
    bundle.assert_nothing_left(&id);
}

/// skiff starts without Rust's runtime start-up (`no_main`): no parse of /proc/self/maps for
/// the main thread's stack and no alternate signal stack, 17 system calls at every
/// invocation. What it keeps of that start-up is done by hand: SIGPIPE ignored.
#[test]
fn starts_without_reading_its_memory_map() {
    assert!(std::path::Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("strace.out");
    let out = run_program("/usr/bin/strace", &["-f", "-qq", "-o", trace.to_str().unwrap(), SKIFF, "--version"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.contains("execve(") && text.contains("skiff version"), "strace saw skiff start and print: {text}");
    assert!(!text.contains("/proc/self/maps"), "skiff read its memory map at start-up:\n{text}");
    assert!(!text.contains("sigaltstack("), "skiff set up a signal stack at start-up:\n{text}");
    assert!(text.lines().any(|l| l.contains("rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN")), "SIGPIPE is ignored:\n{text}");
}

/// Standard fds the caller closed are /dev/null in skiff, as Rust's start-up made them: no
/// file skiff opens takes their place, and the container's process gets /dev/null there.
#[test]
fn closed_standard_fds_reach_the_container_as_dev_null() {
    let mut bundle = TestBundle::new(&["sh", "-c", "readlink /proc/self/fd/0 > /tmp/fds; readlink /proc/self/fd/2 >> /tmp/fds"]);
    bundle.config["root"]["readonly"] = serde_json::json!(false);
    bundle.write_config();
    let id = unique_id("closedfds");
    let root = bundle.state_root();
    let script = format!("exec {SKIFF} --root {} run --bundle {} {id} <&- 2>&-", root.display(), bundle.path().display());
    let out = run_program("/bin/sh", &["-c", &script], None);
    assert_eq!(out.code, 0, "{out:?}");
    let fds = std::fs::read_to_string(bundle.rootfs().join("tmp/fds")).unwrap();
    assert_eq!(fds, "/dev/null\n/dev/null\n", "the container's stdin and stderr");
    bundle.assert_nothing_left(&id);
}
