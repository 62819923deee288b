//! The container lifecycle through the CLI: create, start, state, kill, delete, run, list.

mod common;

use common::*;
use serde_json::json;

#[test]
fn create_start_kill_delete() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("life");
    let pid_file = bundle.dir.path().join("init.pid");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), "--pid-file", pid_file.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "create failed: {}", out.stderr);

    let state = bundle.state(&id);
    let keys: Vec<&str> = state.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]);
    assert_eq!(state["status"], "created");
    assert_eq!(state["id"], id.as_str());
    assert_eq!(state["bundle"], bundle.path().to_str().unwrap());
    assert_eq!(state["rootfs"], bundle.rootfs().to_str().unwrap());
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(json!(pid.parse::<i64>().unwrap()), state["pid"], "pid file and state agree");
    // Parked at the gate: init has not exec'd the user's program yet.
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_ne!(comm.trim(), "sleep");

    assert_eq!(bundle.skiff(&["start", &id]).code, 0);
    wait_for_status(&bundle, &id, "running");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sleep");

    let out = bundle.skiff(&["start", &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("cannot start an already running container"), "{}", out.stderr);

    let out = bundle.skiff(&["delete", &id]);
    assert_ne!(out.code, 0, "delete of a running container must fail");
    assert!(out.stderr.contains(&format!("cannot delete container {id} that is not stopped: running")), "{}", out.stderr);

    assert_eq!(bundle.skiff(&["kill", &id, "KILL"]).code, 0);
    wait_for_status(&bundle, &id, "stopped");
    let state = bundle.state(&id);
    assert_eq!(state["pid"], 0, "a stopped container reports pid 0");

    let out = bundle.skiff(&["kill", &id, "TERM"]);
    assert_ne!(out.code, 0, "kill of a stopped container must fail");
    assert!(out.stderr.contains("container not running"), "{}", out.stderr);
    let out = bundle.skiff(&["start", &id]);
    assert!(out.stderr.contains("cannot start a container that has stopped"), "{}", out.stderr);

    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    let out = bundle.skiff(&["state", &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("container does not exist"), "{}", out.stderr);
}

#[test]
fn signals_by_number_name_and_prefix() {
    for signal in ["15", "TERM", "SIGTERM", "sigterm"] {
        let bundle = TestBundle::new(&["sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.1; done"]);
        let id = unique_id("sig");
        assert_eq!(bundle.skiff(&["run", "--detach", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
        wait_for_status(&bundle, &id, "running");
        // give the shell a moment to install its trap
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = bundle.skiff(&["kill", &id, signal]);
        assert_eq!(out.code, 0, "kill {signal}: {}", out.stderr);
        wait_for_status(&bundle, &id, "stopped");
        assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
        bundle.assert_nothing_left(&id);
    }
}

/// runc's kill conventions: `0` asks whether init is alive, real-time signals go by name, and
/// `kill --all` of a stopped container succeeds (containerd's shim sends it while deleting).
#[test]
fn signal_zero_realtime_signals_and_kill_all_when_stopped() {
    // busybox's trap takes numbers only for the real-time signals. As pid 1 the shell ignores
    // any signal it has no handler for, so stopping shows the trap got exactly this one.
    let script = format!("trap 'exit 3' {}; while true; do sleep 0.1; done", libc::SIGRTMIN() + 3);
    let bundle = TestBundle::new(&["sh", "-c", &script]);
    let id = unique_id("sig0");
    assert_eq!(bundle.skiff(&["run", "--detach", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    wait_for_status(&bundle, &id, "running");
    let out = bundle.skiff(&["kill", &id, "0"]);
    assert_eq!(out.code, 0, "kill 0 of a running container: {}", out.stderr);
    assert_eq!(bundle.state(&id)["status"], "running", "signal 0 delivers nothing");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = bundle.skiff(&["kill", &id, "SIGRTMIN+3"]);
    assert_eq!(out.code, 0, "kill SIGRTMIN+3: {}", out.stderr);
    wait_for_status(&bundle, &id, "stopped");
    let out = bundle.skiff(&["kill", &id, "0"]);
    assert!(out.code == 1 && out.stderr.contains("container not running"), "kill 0 of a stopped container: {}", out.stderr);
    let out = bundle.skiff(&["kill", "--all", &id, "KILL"]);
    assert_eq!(out.code, 0, "kill --all of a stopped container: {}", out.stderr);
    let out = bundle.skiff(&["kill", &id, "RTMIN+99"]);
    assert!(out.code == 1 && out.stderr.contains("unknown signal"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn created_container_is_killed_and_removed_by_delete_force() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("force");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    // runtime-spec: deleting a container that is not stopped is an error, `created` included
    let out = bundle.skiff(&["delete", &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("that is not stopped: created"), "{}", out.stderr);
    assert_eq!(bundle.state(&id)["status"], "created");
    let out = bundle.skiff(&["delete", "--force", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    // --force on a container that does not exist succeeds, as with runc
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
}

#[test]
fn run_returns_the_exit_status() {
    let bundle = TestBundle::new(&["sh", "-c", "echo out; echo err >&2; exit 7"]);
    let id = unique_id("exit");
    let out = bundle.run(&id);
    assert_eq!(out.code, 7);
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    bundle.assert_nothing_left(&id);
}

#[test]
fn run_reports_128_plus_signal() {
    // Without a pid namespace of its own the process is not a namespace init, so it can
    // SIGKILL itself (an init ignores that from inside its namespace).
    let mut bundle = TestBundle::new(&["sh", "-c", "kill -9 $$"]);
    bundle.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|ns| ns["type"] != "pid");
    bundle.write_config();
    let id = unique_id("killed");
    assert_eq!(bundle.run(&id).code, 128 + 9);
    bundle.assert_nothing_left(&id);
}

#[test]
fn run_forwards_signals_to_the_container() {
    require_prerequisites();
    let bundle = TestBundle::new(&["sh", "-c", "trap 'exit 3' USR1; echo ready; while true; do sleep 0.1; done"]);
    let id = unique_id("fwd");
    let root = bundle.state_root();
    let log = bundle.dir.path().join("out");
    let mut child = std::process::Command::new(SKIFF)
        .args(["--root", root.to_str().unwrap(), "run", "--bundle", bundle.path().to_str().unwrap(), &id])
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for_file(&log);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGUSR1).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "the container's trap saw SIGUSR1");
    bundle.assert_nothing_left(&id);
}

#[test]
fn run_keep_leaves_a_stopped_container() {
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("keep");
    let out = bundle.skiff(&["run", "--keep", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(bundle.state(&id)["status"], "stopped");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn list_shows_containers_as_runc_does() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let out = bundle.skiff(&["list", "--format", "json"]);
    assert_eq!(out.stdout, "null\n", "an empty list is null, like runc");
    let id = unique_id("list");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let out = bundle.skiff(&["list"]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{}", out.stdout);
    assert!(lines[0].split_whitespace().eq(["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]));
    let fields: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!((fields[0], fields[2], fields[5]), (id.as_str(), "created", "root"));
    let out = bundle.skiff(&["list", "-q"]);
    assert_eq!(out.stdout, format!("{id}\n"));
    let out = bundle.skiff(&["list", "-f", "json"]);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["owner"], "root");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// `list` reads stopped containers from their state's summary and loads live ones whole:
/// every status must come out as `state` reports it.
#[test]
fn list_reports_every_status_as_state_does() {
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["annotations"] = json!({"org.example.key": "value"});
    bundle.write_config();
    let path = bundle.path();
    let path = path.to_str().unwrap();
    let [created, running, paused, stopped] = ["created", "running", "paused", "stopped"].map(|s| unique_id(&format!("ls-{s}")));
    assert_eq!(bundle.skiff(&["create", "--bundle", path, &created]).code, 0);
    for id in [&running, &paused, &stopped] {
        assert_eq!(bundle.skiff(&["run", "--detach", "--bundle", path, id]).code, 0);
    }
    assert_eq!(bundle.skiff(&["pause", &paused]).code, 0);
    assert_eq!(bundle.skiff(&["kill", &stopped, "KILL"]).code, 0);
    wait_for_status(&bundle, &stopped, "stopped");
    let list: serde_json::Value = serde_json::from_str(&bundle.skiff(&["list", "-f", "json"]).stdout).unwrap();
    for (id, status) in [(&created, "created"), (&running, "running"), (&paused, "paused"), (&stopped, "stopped")] {
        let listed = list.as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap_or_else(|| panic!("{id} not listed: {list}"));
        let state = bundle.state(id);
        assert_eq!(listed["status"], status, "{listed}");
        for key in ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations"] {
            assert_eq!(listed[key], state[key], "{id}: {key}");
        }
        assert_eq!(listed["owner"], "root");
    }
    assert_eq!(list.as_array().unwrap().iter().find(|c| c["id"] == stopped.as_str()).unwrap()["pid"], 0);
    assert_eq!(bundle.skiff(&["resume", &paused]).code, 0);
    for id in [&created, &running, &paused, &stopped] {
        assert_eq!(bundle.skiff(&["delete", "-f", id]).code, 0);
        bundle.assert_nothing_left(id);
    }
}

#[test]
fn annotations_appear_in_state() {
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["annotations"] = json!({"org.example.key": "value"});
    bundle.write_config();
    let id = unique_id("annot");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    assert_eq!(bundle.state(&id)["annotations"], json!({"org.example.key": "value"}));
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn status_is_stopped_when_init_dies_before_start() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("died");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let pid = bundle.state(&id)["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_for_status(&bundle, &id, "stopped");
    let out = bundle.skiff(&["start", &id]);
    assert_ne!(out.code, 0, "start of a dead container must fail, not hang");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn sigterm_stops_a_created_container() {
    // runc's parked init dies on SIGTERM; engines rely on it to stop created containers
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("termcreated");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    assert_eq!(bundle.skiff(&["kill", &id]).code, 0, "default signal is SIGTERM");
    wait_for_status(&bundle, &id, "stopped");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn hooks_run_at_their_points_with_the_state() {
    // Each hook appends its name, the status it was given and whether it saw the container's
    // rootfs as / (createContainer runs before pivot_root, startContainer after).
    let mut bundle = TestBundle::new(&["true"]);
    let log = bundle.dir.path().join("hooks.log");
    let script = bundle.dir.path().join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstate=$(cat)\nstatus=$(echo \"$state\" | sed 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/')\necho \"$1 $status $HOOK_ENV\" >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // startContainer runs inside the container: give it the script and the log there
    std::fs::copy(&script, bundle.rootfs().join("hook.sh")).unwrap();
    std::fs::write(bundle.rootfs().join("hook.sh"), "#!/bin/sh\ncat > /dev/null\necho \"$1 in-container\" > /tmp/start-hook\n").unwrap();
    std::fs::set_permissions(bundle.rootfs().join("hook.sh"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let host_hook = |name: &str| json!({"path": script.to_str().unwrap(), "args": ["hook.sh", name], "env": ["HOOK_ENV=set"]});
    bundle.config["root"]["readonly"] = json!(false);
    bundle.config["process"]["args"] = json!(["sh", "-c", "cat /tmp/start-hook"]);
    bundle.config["hooks"] = json!({
        "prestart": [host_hook("prestart")],
        "createRuntime": [host_hook("createRuntime")],
        "createContainer": [host_hook("createContainer")],
        "startContainer": [{"path": "/hook.sh", "args": ["hook.sh", "startContainer"]}],
        "poststart": [host_hook("poststart")],
        "poststop": [host_hook("poststop")]
    });
    bundle.write_config();
    let id = unique_id("hooks");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "startContainer in-container\n", "startContainer ran inside, before the process");
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(String::from).collect();
    assert_eq!(lines, ["prestart creating set", "createRuntime creating set", "createContainer creating set", "poststart running set", "poststop stopped set"]);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_failing_create_hook_fails_create_and_leaves_nothing() {
    for point in ["prestart", "createRuntime", "createContainer"] {
        let mut bundle = TestBundle::new(&["true"]);
        bundle.config["hooks"] = json!({point: [{"path": "/bin/true"}, {"path": "/bin/false"}]});
        bundle.write_config();
        let id = unique_id("hookfail");
        let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
        assert_ne!(out.code, 0, "{point}");
        // runc 1.5's words ("#1": the second, from 0) around runc 1.1's
        let expected = format!("error running {point} hook #1: error running hook /bin/false: exit status 1");
        assert!(out.stderr.contains(&expected), "{point}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
    // a hook past its timeout is killed and fails the create
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]});
    bundle.write_config();
    let id = unique_id("hooktimeout");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert!(out.stderr.contains("timed out after 1 s"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn each_hook_runs_in_the_namespaces_the_spec_gives_with_the_containers_state() {
    // Every hook logs its name, its mount and uts namespaces and the state it was given.
    // prestart, createRuntime, poststart and poststop run in the runtime's namespaces;
    // createContainer and startContainer in the container's.
    let mut bundle = TestBundle::new(&["true"]);
    let log = bundle.dir.path().join("hooks.log");
    let line = "echo \"$1|$(readlink /proc/self/ns/mnt)|$(readlink /proc/self/ns/uts)|$(cat)\"";
    let host_hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("{line} >> {}", log.display()), "sh", name]});
    bundle.config["root"]["readonly"] = json!(false);
    bundle.config["process"]["args"] =
        json!(["sh", "-c", "cat /tmp/start-hook; echo \"process|$(readlink /proc/self/ns/mnt)|$(readlink /proc/self/ns/uts)|\""]);
    bundle.config["hooks"] = json!({
        "prestart": [host_hook("prestart")],
        "createRuntime": [host_hook("createRuntime")],
        "createContainer": [host_hook("createContainer")],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("{line} > /tmp/start-hook"), "sh", "startContainer"]}],
        "poststart": [host_hook("poststart")],
        "poststop": [host_hook("poststop")]
    });
    bundle.write_config();
    let id = unique_id("hookns");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ours = (std::fs::read_link("/proc/self/ns/mnt").unwrap(), std::fs::read_link("/proc/self/ns/uts").unwrap());
    let ours = (ours.0.to_str().unwrap().to_string(), ours.1.to_str().unwrap().to_string());
    let text = std::fs::read_to_string(&log).unwrap() + &out.stdout;
    let mut seen = std::collections::BTreeMap::new();
    for entry in text.lines() {
        let fields: Vec<&str> = entry.splitn(4, '|').collect();
        seen.insert(fields[0].to_string(), (fields[1].to_string(), fields[2].to_string(), fields[3].to_string()));
    }
    let container = seen["process"].clone();
    assert_ne!((container.0.clone(), container.1.clone()), ours, "the container has its own namespaces");
    let mut pids = Vec::new();
    for (hook, status, in_container) in [
        ("prestart", "creating", false),
        ("createRuntime", "creating", false),
        ("createContainer", "creating", true),
        ("startContainer", "created", true),
        ("poststart", "running", false),
        ("poststop", "stopped", false),
    ] {
        let (mnt, uts, state) = seen.get(hook).unwrap_or_else(|| panic!("{hook} did not run: {text}"));
        let expected = if in_container { (&container.0, &container.1) } else { (&ours.0, &ours.1) };
        assert_eq!((mnt, uts), expected, "{hook} ran in the wrong namespaces");
        let state: serde_json::Value = serde_json::from_str(state).unwrap_or_else(|e| panic!("{hook}: state {state:?}: {e}"));
        assert_eq!(state["status"], status, "{hook}");
        assert_eq!(state["id"], json!(id), "{hook}");
        assert_eq!(state["bundle"], json!(bundle.path()), "{hook}");
        if status != "stopped" {
            pids.push(state["pid"].as_i64().unwrap_or_else(|| panic!("{hook}: no pid in {state}")));
        }
    }
    assert!(pids.iter().all(|p| *p == pids[0] && *p > 1), "every hook got init's pid as the runtime sees it: {pids:?}");
    bundle.assert_nothing_left(&id);
}

/// runtime-spec: a failing poststart (of `start`) or poststop hook is a warning, and the
/// remaining hooks and the lifecycle go on (runtime-tools' poststart_fail and poststop_fail).
#[test]
fn a_failing_poststart_or_poststop_hook_does_not_stop_the_next() {
    let mut bundle = TestBundle::new(&["true"]);
    let log = bundle.dir.path().join("hooks.log");
    let logging = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo {name} >> {}", log.display())]});
    let failing = json!({"path": "/bin/false"});
    bundle.config["hooks"] = json!({
        "poststart": [failing.clone(), logging("poststart-second")],
        "poststop": [failing, logging("poststop-second")]
    });
    bundle.write_config();
    let id = unique_id("hookfail");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let out = bundle.skiff(&["start", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("level=warning") && out.stderr.contains("error running poststart hook #0:"), "a warning says so: {}", out.stderr);
    wait_for_status(&bundle, &id, "stopped");
    let out = bundle.skiff(&["delete", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("level=warning") && out.stderr.contains("error running poststop hook #0:"), "a warning says so: {}", out.stderr);
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "poststart-second\npoststop-second\n");
    bundle.assert_nothing_left(&id);
}

/// `run` (runc's command, not a runtime-spec operation) fails at a failing poststart hook
/// and kills the container, as runc 1.1 to 1.5 do (runc 1.5.1's hooks.bats "runc run [hook
/// fails]"); the hooks after it do not run.
#[test]
fn a_failing_poststart_hook_fails_run_and_kills_the_container() {
    let mut bundle = TestBundle::new(&["sleep", "5"]);
    let log = bundle.dir.path().join("hooks.log");
    let logging = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo {name} >> {}", log.display())]});
    bundle.config["hooks"] = json!({"poststart": [{"path": "/bin/true"}, {"path": "/bin/false"}, logging("poststart-third")]});
    bundle.write_config();
    // fails at once (not when the process ends), leaves nothing
    let id = unique_id("poststart-run");
    let out = bundle.run(&id);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("error running poststart hook #1: error running hook /bin/false: exit status 1"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    assert!(!log.exists(), "no hook after the failed one ran");
}

#[test]
fn a_start_container_hook_without_env_gets_the_processs_environment() {
    // runc 1.5's hooks.bats: not in the runtime-spec, but what runc has always done; a hook
    // with env of its own keeps it.
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["process"]["env"] = json!(["ONE=two", "FOO=bar", "PATH=/bin"]);
    bundle.config["hooks"] = json!({"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "test \"$ONE\" = two && test \"$FOO\" = bar && test -n \"$HOME\""]},
        {"path": "/bin/sh", "args": ["sh", "-c", "test -z \"$ONE\" && test \"$OWN\" = yes"], "env": ["OWN=yes"]}
    ]});
    bundle.write_config();
    let id = unique_id("hookenv");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// Without a mount namespace of its own (runc 1.5's host-mntns.bats), the rootfs is set up in
/// the runtime's mount namespace and entered with chroot; the hooks run; `delete` takes the
/// mounts down again (runc leaves them), and the host's `/` keeps its propagation.
#[test]
fn a_container_without_a_mount_namespace_runs_in_a_chroot_and_leaves_no_mount() {
    let propagation_of_root = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .find(|l| l.split(' ').nth(4) == Some("/"))
            .map(|l| l.split(" - ").next().unwrap().split(' ').skip(6).collect::<Vec<_>>().join(" "))
            .unwrap()
    };
    let before = propagation_of_root();
    let mut bundle = TestBundle::new(&["sh", "-c", "ls /bin/busybox && readlink /proc/self/ns/mnt"]);
    let log = bundle.dir.path().join("hook.log");
    bundle.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|ns| ns["type"] != "mount");
    bundle.config["linux"]["maskedPaths"] = json!([]);
    bundle.config["linux"]["readonlyPaths"] = json!([]);
    bundle.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", format!("echo ran >> {}", log.display())]}]});
    bundle.write_config();
    let id = unique_id("hostmnt");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let host_mnt = std::fs::read_link("/proc/self/ns/mnt").unwrap();
    assert_eq!(out.stdout, format!("/bin/busybox\n{}\n", host_mnt.display()), "the host's mount namespace, the rootfs as /");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "ran\n");
    let rootfs = bundle.rootfs().canonicalize().unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.lines().any(|l| l.split(' ').nth(4).is_some_and(|point| std::path::Path::new(point).starts_with(&rootfs))),
        "mounts under the rootfs are gone"
    );
    assert_eq!(propagation_of_root(), before, "the host's / keeps its propagation");
    bundle.assert_nothing_left(&id);
}

/// createContainer hooks run with the rootfs as their working directory, as runc runs them
/// (runc 1.5's hooks_so.bats: a hook copying libraries writes `./lib/...`).
#[test]
fn create_container_hooks_run_in_the_rootfs() {
    let mut bundle = TestBundle::new(&["true"]);
    let seen = bundle.dir.path().join("hook-cwd");
    bundle.config["hooks"] = json!({"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", format!("pwd > {}", seen.display())]}]});
    bundle.write_config();
    let id = unique_id("hookcwd");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), bundle.rootfs().canonicalize().unwrap().to_str().unwrap());
    bundle.assert_nothing_left(&id);
}
