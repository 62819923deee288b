//! cgroups on this host (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified): limits
//! checked from the cgroup files and from inside, pause/resume, update, events, ps, kill --all.
//! cgroup v2 is tested in the virtual machine (integration/vm/).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn v1(controller: &str, id: &str, file: &str) -> String {
    let path = Path::new("/sys/fs/cgroup").join(controller).join(id).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())).trim().to_string()
}

fn detached(bundle: &TestBundle, id: &str) {
    let out = bundle.skiff(&["run", "--detach", "--bundle", bundle.path().to_str().unwrap(), id]);
    assert_eq!(out.code, 0, "run -d {id}: {}", out.stderr);
    wait_for_status(bundle, id, "running");
}

fn with_resources(args: &[&str], resources: Value) -> TestBundle {
    let mut bundle = TestBundle::new(args);
    bundle.config["linux"]["resources"] = resources;
    bundle.write_config();
    bundle
}

#[test]
fn limits_are_written_and_seen_inside() {
    let bundle = with_resources(
        &[
            "sh",
            "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset/cpuset.cpus; sleep 1000",
        ],
        json!({
            "devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 67108864, "reservation": 33554432},
            "pids": {"limit": 32},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
        }),
    );
    let id = unique_id("limits");
    detached(&bundle, &id);
    assert_eq!(v1("memory", &id, "memory.limit_in_bytes"), "67108864");
    assert_eq!(v1("memory", &id, "memory.soft_limit_in_bytes"), "33554432");
    assert_eq!(v1("pids", &id, "pids.max"), "32");
    assert_eq!(v1("cpu", &id, "cpu.shares"), "512");
    assert_eq!(v1("cpu", &id, "cpu.cfs_quota_us"), "50000");
    assert_eq!(v1("cpu", &id, "cpu.cfs_period_us"), "100000");
    assert_eq!(v1("cpuset", &id, "cpuset.cpus"), "0");
    let pid = bundle.state(&id)["pid"].as_i64().unwrap();
    for controller in ["memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd", "unified"] {
        let procs = std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(controller).join(&id).join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|l| l == pid.to_string()), "init is in the {controller} cgroup");
    }
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn hugetlb_lives_in_the_unified_tree_of_this_hybrid_host() {
    // This host's hugetlb controller is on cgroup2 (/sys/fs/cgroup/unified), not on v1.
    let bundle = with_resources(&["sleep", "1000"], json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}));
    let id = unique_id("hugetlb");
    detached(&bundle, &id);
    assert_eq!(v1("unified", &id, "hugetlb.2MB.max"), "4194304");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn limits_seen_from_inside() {
    let bundle = with_resources(
        &["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpuset/cpuset.cpus"],
        json!({"memory": {"limit": 67108864}, "pids": {"limit": 32}, "cpu": {"cpus": "0"}}),
    );
    let id = unique_id("inside-limits");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["67108864", "32", "0"]);
    bundle.assert_nothing_left(&id);
}

#[test]
fn fork_past_pids_max_fails() {
    // The forking happens in a subshell (a failed fork ends it); `read` and `echo` are
    // builtins, so reporting needs no fork.
    let bundle = with_resources(
        &[
            "sh",
            "-c",
            "(for i in $(seq 1 20); do sleep 30 & done) 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; echo $n; read e < /sys/fs/cgroup/pids/pids.events; echo $e",
        ],
        json!({"pids": {"limit": 8}}),
    );
    let id = unique_id("pids");
    let out = bundle.run(&id);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let running: u32 = lines.first().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out:?}"));
    assert!((2..=8).contains(&running), "the shell and some sleeps, never more than 8: {out:?}");
    let refused: u32 = lines[1].strip_prefix("max ").and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{out:?}"));
    assert!(refused >= 1, "the kernel refused a fork past pids.max: {out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn memory_past_the_limit_is_oom_killed() {
    // no swap either: the memsw limit equals the memory limit
    let bundle =
        with_resources(&["sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"], json!({"memory": {"limit": 16777216, "swap": 16777216}}));
    let id = unique_id("oom");
    let out = bundle.run(&id);
    assert_eq!(out.code, 128 + 9, "the container's shell is OOM-killed: {out:?}");
    assert!(!out.stdout.contains("survived"));
    bundle.assert_nothing_left(&id);
}

#[test]
fn pause_and_resume() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("pause");
    detached(&bundle, &id);
    assert_eq!(bundle.skiff(&["pause", &id]).code, 0);
    assert_eq!(bundle.state(&id)["status"], "paused");
    assert_eq!(v1("freezer", &id, "freezer.state"), "FROZEN");
    let out = bundle.skiff(&["pause", &id]);
    assert_ne!(out.code, 0, "pausing a paused container fails");
    assert_eq!(bundle.skiff(&["resume", &id]).code, 0);
    assert_eq!(bundle.state(&id)["status"], "running");
    assert_eq!(v1("freezer", &id, "freezer.state"), "THAWED");
    let out = bundle.skiff(&["resume", &id]);
    assert!(out.stderr.contains("container not paused"), "{}", out.stderr);
    // a paused container can be force-deleted
    assert_eq!(bundle.skiff(&["pause", &id]).code, 0);
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn update_with_flags_and_resources_json() {
    let bundle = with_resources(&["sleep", "1000"], json!({"memory": {"limit": 67108864}, "pids": {"limit": 32}}));
    let id = unique_id("update");
    detached(&bundle, &id);
    let out = bundle.skiff(&[
        "update",
        "--memory",
        "128m",
        "--memory-swap",
        "256m",
        "--pids-limit",
        "20",
        "--cpu-shares",
        "256",
        "--cpu-quota",
        "20000",
        "--cpu-period",
        "100000",
        "--cpuset-cpus",
        "0",
        &id,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(v1("memory", &id, "memory.limit_in_bytes"), (128 << 20).to_string());
    assert_eq!(v1("memory", &id, "memory.memsw.limit_in_bytes"), (256 << 20).to_string());
    assert_eq!(v1("pids", &id, "pids.max"), "20");
    assert_eq!(v1("cpu", &id, "cpu.shares"), "256");
    assert_eq!(v1("cpu", &id, "cpu.cfs_quota_us"), "20000");
    let resources = bundle.dir.path().join("resources.json");
    std::fs::write(&resources, r#"{"pids": {"limit": 50}, "memory": {"limit": 100000000, "swap": 200000000}}"#).unwrap();
    let out = bundle.skiff(&["update", "--resources", resources.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(v1("pids", &id, "pids.max"), "50");
    // --memory -1 lifts the memory+swap limit too (runc's "update common limits")
    let out = bundle.skiff(&["update", "--memory", "-1", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let unlimited = v1("memory", &id, "memory.limit_in_bytes");
    assert!(unlimited.parse::<u64>().unwrap() > 1 << 60, "{unlimited}");
    assert_eq!(v1("memory", &id, "memory.memsw.limit_in_bytes"), unlimited);
    // stdin, as containerd's shim passes it
    let root = bundle.state_root();
    let mut child = std::process::Command::new(SKIFF)
        .args(["--root", root.to_str().unwrap(), "update", "--resources", "-", &id])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"pids": {"limit": 60}}"#).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(v1("pids", &id, "pids.max"), "60");
    // runc 1.2+: --pids-limit 0 is 1 (systemd has no TasksMax=0), -1 no limit
    assert_eq!(bundle.skiff(&["update", "--pids-limit", "0", &id]).code, 0);
    assert_eq!(v1("pids", &id, "pids.max"), "1");
    assert_eq!(bundle.skiff(&["update", "--pids-limit", "-1", &id]).code, 0);
    assert_eq!(v1("pids", &id, "pids.max"), "max");
    let out = bundle.skiff(&["update", "--resources", "-", &id]);
    assert_ne!(out.code, 0, "empty stdin is not a resources object");
    // Per-device limits through --resources (runc 1.4's update has no flags for them): each
    // device given is set, others keep theirs (loop devices 7:0 and 7:1 are on every host here).
    std::fs::write(&resources, r#"{"blockIO": {"throttleReadBpsDevice": [{"major": 7, "minor": 0, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 7, "minor": 1, "rate": 100}]}}"#).unwrap();
    let out = bundle.skiff(&["update", "--resources", resources.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::write(&resources, r#"{"blockIO": {"throttleReadBpsDevice": [{"major": 7, "minor": 1, "rate": 2097152}]}}"#).unwrap();
    let out = bundle.skiff(&["update", "--resources", resources.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut read_bps: Vec<String> = v1("blkio", &id, "blkio.throttle.read_bps_device").lines().map(String::from).collect();
    read_bps.sort();
    assert_eq!(read_bps, ["7:0 1048576", "7:1 2097152"]);
    assert_eq!(v1("blkio", &id, "blkio.throttle.write_iops_device"), "7:1 100");
    // Intel RDT schemata need the container's RDT group.
    let out = bundle.skiff(&["update", "--l3-cache-schema", "L3:0=f", &id]);
    assert!(out.code == 1 && out.stderr.contains("the container has no Intel RDT group"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn events_stats_and_stream() {
    let bundle = with_resources(&["sleep", "1000"], json!({"memory": {"limit": 67108864}, "pids": {"limit": 32}}));
    let id = unique_id("events");
    detached(&bundle, &id);
    let out = bundle.skiff(&["events", "--stats", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let event: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(event["type"], "stats");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["data"]["memory"]["usage"]["limit"], 67108864);
    assert_eq!(event["data"]["pids"]["current"], 1);
    assert_eq!(event["data"]["pids"]["limit"], 32);
    assert!(event["data"]["cpu"]["usage"]["total"].as_u64().unwrap() > 0);
    // a stream with a Go duration; it ends when the container stops
    let root = bundle.state_root();
    let log = bundle.dir.path().join("events.out");
    let mut child = std::process::Command::new(SKIFF)
        .args(["--root", root.to_str().unwrap(), "events", "--interval", "100ms", &id])
        .stdout(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(bundle.skiff(&["kill", &id, "KILL"]).code, 0);
    let status = child.wait().unwrap();
    assert!(status.success());
    let lines = std::fs::read_to_string(&log).unwrap();
    assert!(lines.lines().count() >= 3, "stats every 100ms: {lines}");
    for line in lines.lines() {
        assert_eq!(serde_json::from_str::<Value>(line).unwrap()["type"], "stats");
    }
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn ps_lists_the_container_processes() {
    let bundle = TestBundle::new(&["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
    let id = unique_id("ps");
    detached(&bundle, &id);
    std::thread::sleep(Duration::from_millis(200));
    let out = bundle.skiff(&["ps", "--format", "json", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pids: Vec<i32> = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(pids.len(), 3, "{pids:?}");
    let init = bundle.state(&id)["pid"].as_i64().unwrap() as i32;
    assert!(pids.contains(&init));
    let out = bundle.skiff(&["ps", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].contains("PID"), "{}", out.stdout);
    assert_eq!(lines.len(), 4, "header and three processes: {}", out.stdout);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn kill_all_reaches_every_process_of_a_shared_pid_namespace() {
    // without its own pid namespace, killing init would leave the others running
    let mut bundle = TestBundle::new(&["sh", "-c", "sleep 1000 & sleep 1000 & wait"]);
    bundle.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|ns| ns["type"] != "pid");
    bundle.write_config();
    let id = unique_id("killall");
    detached(&bundle, &id);
    std::thread::sleep(Duration::from_millis(200));
    let pids: Vec<i32> = serde_json::from_str(bundle.skiff(&["ps", "-f", "json", &id]).stdout.trim()).unwrap();
    assert_eq!(pids.len(), 3);
    assert_eq!(bundle.skiff(&["kill", "--all", &id, "KILL"]).code, 0);
    wait_for_status(&bundle, &id, "stopped");
    assert_all_gone(&pids, "kill --all");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// Without a pid namespace of its own, `kill KILL` (no `--all`) kills every process of the
/// container, and still does once init is gone (runc 1.5's kill.bats "[host pidns]" and
/// "[host pidns + init gone]"): init's death takes nothing with it there.
#[test]
fn kill_sigkill_reaches_every_process_without_a_pid_namespace_even_after_init() {
    for kill_init_first in [false, true] {
        let mut bundle = TestBundle::new(&["sleep", "1000"]);
        bundle.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|ns| ns["type"] != "pid");
        bundle.write_config();
        let id = unique_id("hostpidkill");
        detached(&bundle, &id);
        for _ in 0..3 {
            assert_eq!(bundle.skiff(&["exec", "-d", &id, "sleep", "1000"]).code, 0);
        }
        let pids: Vec<i32> = serde_json::from_str(bundle.skiff(&["ps", "-f", "json", &id]).stdout.trim()).unwrap();
        assert_eq!(pids.len(), 4, "{pids:?}");
        if kill_init_first {
            let init = bundle.state(&id)["pid"].as_i64().unwrap() as i32;
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(init), nix::sys::signal::Signal::SIGKILL).unwrap();
            wait_for_status(&bundle, &id, "stopped");
        }
        let out = bundle.skiff(&["kill", &id, "KILL"]);
        assert_eq!(out.code, 0, "init killed first: {kill_init_first}: {}", out.stderr);
        assert_all_gone(&pids, &format!("kill KILL (init killed first: {kill_init_first})"));
        wait_for_status(&bundle, &id, "stopped");
        assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
        bundle.assert_nothing_left(&id);
    }
}

/// Wait up to 2 s for every one of `pids` to be gone (or a zombie), then assert it: `after`
/// says what should have ended them.
fn assert_all_gone(pids: &[i32], after: &str) {
    for _ in 0..100 {
        if pids.iter().all(|p| !Path::new(&format!("/proc/{p}")).exists() || is_zombie(*p)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids {
        assert!(!Path::new(&format!("/proc/{pid}")).exists() || is_zombie(*pid), "process {pid} survived {after}");
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z')).unwrap_or(true)
}

#[test]
fn cgroups_path_absolute_and_relative() {
    let id = unique_id("cgpath");
    let absolute = format!("/skiff-test-{id}");
    let mut bundle = TestBundle::new(&["cat", "/proc/self/cgroup"]);
    bundle.config["linux"]["cgroupsPath"] = json!(absolute);
    bundle.write_config();
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.lines().any(|l| l == format!("8:pids:{absolute}")), "{}", out.stdout);
    assert!(!Path::new("/sys/fs/cgroup/pids").join(&absolute[1..]).exists(), "removed on delete");

    // relative: under skiff's own cgroup in each hierarchy (memory is not at the root here)
    let own_memory = std::fs::read_to_string("/proc/self/cgroup").unwrap().lines().find_map(|l| l.strip_prefix("4:memory:").map(str::to_string)).unwrap();
    let relative = format!("rel-{id}");
    bundle.config["linux"]["cgroupsPath"] = json!(relative);
    bundle.write_config();
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = PathBuf::from(&own_memory).join(&relative);
    assert!(out.stdout.lines().any(|l| l == format!("4:memory:{}", expected.display())), "{}", out.stdout);
    bundle.assert_nothing_left(&id);

    // Parents made for a nested path go too, after a run and after a failed create.
    let memory_root = Path::new("/sys/fs/cgroup/memory").join(own_memory.trim_start_matches('/'));
    let nested = format!("nest-{id}/inner/leaf");
    bundle.config["linux"]["cgroupsPath"] = json!(nested);
    bundle.write_config();
    assert_eq!(bundle.run(&id).code, 0);
    assert!(!memory_root.join(format!("nest-{id}")).exists(), "parents made for the container are removed with it");
    bundle.config["process"]["args"] = json!(["/no/such/program"]);
    bundle.write_config();
    assert_ne!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    assert!(!memory_root.join(format!("nest-{id}")).exists(), "a failed create leaves no parent cgroup");
    bundle.assert_nothing_left(&id);
}

#[test]
fn device_rules_deny_and_allow() {
    // /dev/loop-control (c 10:237) opens for root without extra capabilities and is outside
    // the default allow list, so only the device cgroup decides. (Block devices cannot be
    // used here: this sandbox refuses raw block reads even on the host.)
    let script = "mknod /tmp/ctl c 10 237 && ( (exec 3</tmp/ctl) 2>/dev/null && echo ctl-open || echo ctl-denied); head -c1 /dev/zero | wc -c";
    assert!(Path::new("/dev/loop-control").exists(), "/dev/loop-control is missing on this host (loop module)");
    for allow in [false, true] {
        let mut bundle = TestBundle::new(&["sh", "-c", script]);
        for set in ["bounding", "effective", "permitted"] {
            bundle.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_MKNOD"));
        }
        bundle.config["root"]["readonly"] = json!(false);
        if allow {
            bundle.config["linux"]["resources"]["devices"]
                .as_array_mut()
                .unwrap()
                .push(json!({"allow": true, "type": "c", "major": 10, "minor": 237, "access": "r"}));
        }
        bundle.write_config();
        let id = unique_id("devices");
        let out = bundle.run(&id);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let expected = if allow { "ctl-open" } else { "ctl-denied" };
        assert_eq!(out.stdout.lines().collect::<Vec<_>>(), [expected, "1"], "allow={allow}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn refused_resources_leave_nothing() {
    for (resources, cgroups_path, expected) in [
        (json!({"unified": {"memory.high": "1"}}), None, "linux.resources.unified"),
        (json!({"memory": {"limit": 100, "swap": 50}}), None, "linux.resources.memory.swap"),
        (json!({}), Some("system.slice:skiff:x"), "systemd"),
        (json!({"cpu": {"cpus": "9999"}}), None, "cpuset.cpus"),
        // cgroups that hold other processes are never adopted (delete would kill them)
        (json!({}), Some("/"), "container's cgroup is not empty"),
        (json!({}), Some("."), "container's cgroup is not empty"),
    ] {
        let mut bundle = with_resources(&["true"], resources);
        if let Some(path) = cgroups_path {
            bundle.config["linux"]["cgroupsPath"] = json!(path);
            bundle.write_config();
        }
        let id = unique_id("badres");
        let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(expected), "expected {expected:?}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn delete_force_cleans_up_after_a_runtime_killed_mid_create() {
    // What a create killed after it made the cgroup but before init was recorded leaves:
    // state.json with init pid 0 and the cgroup (create saves it first for this reason).
    let bundle = with_resources(&["sleep", "1000"], json!({"pids": {"limit": 16}}));
    let id = unique_id("midcreate");
    assert_eq!(bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let state_file = bundle.state_root().join(&id).join("state.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    let pid = saved["initPid"].as_i64().unwrap() as i32;
    saved["initPid"] = json!(0);
    saved["initStartTime"] = json!(0);
    std::fs::write(&state_file, serde_json::to_vec(&saved).unwrap()).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    assert!(Path::new("/sys/fs/cgroup/pids").join(&id).exists());
    assert_eq!(bundle.state(&id)["status"], "stopped");
    let out = bundle.skiff(&["delete", "--force", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn events_stream_reports_oom_kills() {
    // A subshell is OOM-killed; the container's shell lives on, and `events` says "oom".
    let bundle = with_resources(
        // The subshell makes itself the OOM killer's choice: otherwise the kernel may pick the
        // container's own shell, the container ends at once, and `events` misses the event.
        &["sh", "-c", "sleep 0.5; (echo 1000 > /proc/self/oom_score_adj; x=$(head -c 100000000 /dev/zero | tr '\\0' a)); sleep 1.5"],
        json!({"memory": {"limit": 16777216, "swap": 16777216}}),
    );
    let id = unique_id("oomevents");
    detached(&bundle, &id);
    let root = bundle.state_root();
    let out = run_skiff(&["--root", root.to_str().unwrap(), "events", "--interval", "10s", &id], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let types: Vec<String> = out.stdout.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].as_str().unwrap().to_string()).collect();
    assert!(types.contains(&"oom".to_string()), "no oom event in {:?}", out.stdout);
    assert_eq!(types[0], "stats", "stats come first, then at each interval");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn kill_all_of_a_stopped_container_succeeds_like_runc() {
    // containerd's shim sends `kill --all ID 9` while deleting a container that already ended
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("killallstopped");
    assert_eq!(bundle.skiff(&["run", "--keep", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    assert_eq!(bundle.state(&id)["status"], "stopped");
    let out = bundle.skiff(&["kill", "--all", &id, "9"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = bundle.skiff(&["kill", &id, "9"]);
    assert!(out.stderr.contains("container not running"), "without --all it is an error: {}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// systemd removes a scope's cgroup as soon as its last process is gone; containerd's CRI
/// plugin then sends `kill --all ID 9` and retries for minutes while it fails (the systemd VM
/// found it). Here the same situation with cgroupfs: the stopped container's cgroup
/// directories removed behind its back; `kill --all` and `delete` still succeed, as runc's do.
#[test]
fn kill_all_and_delete_succeed_when_the_cgroup_is_already_gone() {
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("cgroupgone");
    assert_eq!(bundle.skiff(&["run", "--keep", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(bundle.state_root().join(&id).join("state.json")).unwrap()).unwrap();
    let dirs = saved["cgroup"]["v1"]["dirs"].as_array().expect("a v1 cgroup on this host").clone();
    for dir in &dirs {
        let path = dir["path"].as_str().unwrap();
        std::fs::remove_dir(path).unwrap_or_else(|e| panic!("rmdir {path}: {e}"));
    }
    let out = bundle.skiff(&["kill", "--all", &id, "9"]);
    assert_eq!(out.code, 0, "kill --all with the cgroup gone: {}", out.stderr);
    let out = bundle.skiff(&["delete", &id]);
    assert_eq!(out.code, 0, "delete with the cgroup gone: {}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// `--systemd-cgroup`: a malformed `slice:prefix:name` is refused wherever skiff runs; on a
/// host whose PID 1 is not systemd (this one: the systemd driver itself is tested in the
/// systemd VM tier) the driver is a clear error. Nothing is left either way.
#[test]
fn systemd_driver_refusals() {
    assert!(!std::path::Path::new("/run/systemd/system").exists(), "this test needs a host where systemd is not PID 1 (/run/systemd/system exists here)");
    for (cgroups_path, expected) in [
        (None, "systemd is not running on this host"),
        (Some("system.slice:skiff:ok"), "systemd is not running on this host"),
        (Some("a:b"), "expects slice:prefix:name"),
        (Some("a:b:c:d"), "expects slice:prefix:name"),
        (Some("notaslice:skiff:x"), "notaslice\\\": it must end in .slice"),
        (Some("a--b.slice:skiff:x"), "invalid slice name"),
        (Some("system.slice:skiff:x/y"), "unit name characters"),
    ] {
        let mut bundle = with_resources(&["true"], json!({"pids": {"limit": 16}}));
        if let Some(path) = cgroups_path {
            bundle.config["linux"]["cgroupsPath"] = json!(path);
            bundle.write_config();
        }
        let id = unique_id("systemd");
        let out = bundle.skiff(&["--systemd-cgroup", "create", "--bundle", bundle.path().to_str().unwrap(), &id]);
        assert_ne!(out.code, 0, "{cgroups_path:?} was accepted");
        assert!(out.stderr.contains(expected), "{cgroups_path:?}: expected {expected:?}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

/// `create` under `timeout`: a hang is a failure of the test, never of the test run.
fn create_within(bundle: &TestBundle, id: &str, seconds: u32) -> (Outcome, Duration) {
    let (root, path) = (bundle.state_root(), bundle.path());
    let started = std::time::Instant::now();
    let out = run_program(
        "timeout",
        &["-s", "KILL", &seconds.to_string(), SKIFF, "--root", root.to_str().unwrap(), "create", "--bundle", path.to_str().unwrap(), id],
        Some(&path),
    );
    (out, started.elapsed())
}

#[test]
fn a_frozen_cgroup_is_refused_up_front() {
    // runc's check ("refuse pre-existing frozen cgroup"): init put into it would never run.
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("frozen");
    let freezer = Path::new("/sys/fs/cgroup/freezer").join(&id);
    std::fs::create_dir(&freezer).unwrap();
    std::fs::write(freezer.join("freezer.state"), "FROZEN").unwrap();
    let (out, took) = create_within(&bundle, &id, 60);
    let _ = std::fs::write(freezer.join("freezer.state"), "THAWED");
    let _ = std::fs::remove_dir(&freezer);
    assert_eq!(out.code, 1, "create in a frozen cgroup (took {took:?}): {}", out.stderr);
    assert!(out.stderr.contains("container's cgroup unexpectedly frozen") && out.stderr.contains(freezer.to_str().unwrap()), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_second_container_in_a_cgroup_in_use_is_refused_in_runcs_words() {
    // runc 1.1 warned ("won't be supported in runc 1.2") and runc 1.2 refuses: deleting
    // either container would kill the other's processes.
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    let first = unique_id("shared-cg1");
    bundle.config["linux"]["cgroupsPath"] = json!(format!("/{first}"));
    bundle.write_config();
    let path = bundle.path();
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", path.to_str().unwrap(), &first]).code, 0);
    for command in ["run", "create"] {
        let second = unique_id("shared-cg2");
        let out = bundle
            .skiff(&[command, "-d", "--bundle", path.to_str().unwrap(), &second].into_iter().filter(|a| command == "run" || *a != "-d").collect::<Vec<_>>());
        assert_eq!(out.code, 1, "{command}: {}", out.stderr);
        assert!(out.stderr.contains("container's cgroup is not empty: 1 process(es) found"), "{command}: {}", out.stderr);
        assert!(bundle.skiff(&["state", &second]).code != 0, "{command} left state behind");
    }
    assert_eq!(bundle.state(&first)["status"], "running");
    let procs = std::fs::read_to_string(format!("/sys/fs/cgroup/pids/{first}/cgroup.procs")).unwrap();
    assert_eq!(procs.lines().count(), 1, "the first container's cgroup: {procs}");
    assert_eq!(bundle.skiff(&["delete", "--force", &first]).code, 0);
    bundle.assert_nothing_left(&first);
}

/// A createRuntime hook that leaves init unable to answer: the runtime waits for init's
/// Ready next, and must give up with an error naming that, not hang.
fn init_made_stuck_by_a_hook(name: &str, hook: &str) -> (Outcome, Duration, TestBundle, String) {
    let mut bundle = TestBundle::new(&["true"]);
    let id = unique_id(name);
    bundle.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", hook.replace("ID", &id)]}]});
    bundle.write_config();
    let (out, took) = create_within(&bundle, &id, 60);
    (out, took, bundle, id)
}

#[test]
fn init_frozen_during_setup_is_an_error_not_a_hang() {
    let (out, took, bundle, id) = init_made_stuck_by_a_hook("frozen-setup", "echo FROZEN > /sys/fs/cgroup/freezer/ID/freezer.state");
    assert_eq!(out.code, 1, "took {took:?}: {}", out.stderr);
    assert!(took < Duration::from_secs(20), "gave up only after {took:?}");
    assert!(
        out.stderr.contains("container's cgroup unexpectedly frozen while the runtime waited for container init to send Ready; it was killed"),
        "{}",
        out.stderr
    );
    bundle.assert_nothing_left(&id);
}

#[test]
fn init_stopped_during_setup_is_an_error_not_a_hang() {
    // The hook reads the state on stdin: {"ociVersion":..., "pid": N, ...}.
    let (out, took, bundle, id) = init_made_stuck_by_a_hook("stopped-setup", r#"kill -STOP $(sed 's/.*"pid":\([0-9]*\).*/\1/')"#);
    assert_eq!(out.code, 1, "took {took:?}: {}", out.stderr);
    assert!(took < Duration::from_secs(20), "gave up only after {took:?}");
    assert!(out.stderr.contains("stopped by a signal (SIGSTOP) while the runtime waited for container init to send Ready"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn unified_resources_on_this_v1_host_are_an_invalid_configuration() {
    // runc's words ("cgroup v1 + unified resources should fail"), which callers grep for.
    let bundle = with_resources(&["true"], json!({"unified": {"memory.min": "131072"}}));
    let id = unique_id("unified-v1");
    let out = bundle.run(&id);
    assert!(out.code != 0 && out.stderr.contains("invalid configuration"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_shorter_period_under_a_pods_quota_is_written_after_the_new_quota() {
    // runc's "update cpu period in a pod cgroup with pod limit set": the pod may use 50%;
    // 3000/10000 (30%) is fine, but period 10000 first, with the container's old quota,
    // exceeds the pod's and the kernel refuses it until the quota is in.
    let pod = unique_id("quota-pod");
    let cpu = Path::new("/sys/fs/cgroup/cpu").join(&pod);
    std::fs::create_dir(&cpu).unwrap();
    std::fs::write(cpu.join("cpu.cfs_quota_us"), "50000").unwrap();
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("in-quota-pod");
    bundle.config["linux"]["cgroupsPath"] = json!(format!("/{pod}/{id}"));
    bundle.config["linux"]["resources"] = json!({"cpu": {"quota": 40000, "period": 100000}});
    bundle.write_config();
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let over = bundle.skiff(&["update", "--cpu-quota", "60000", &id]);
    let update = bundle.skiff(&["update", "--cpu-period", "10000", "--cpu-quota", "3000", &id]);
    let read = |file: &str| std::fs::read_to_string(cpu.join(&id).join(file)).unwrap_or_default();
    let (period, quota) = (read("cpu.cfs_period_us"), read("cpu.cfs_quota_us"));
    bundle.skiff(&["delete", "--force", &id]);
    for controller in
        ["cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio", "net_cls", "net_prio", "perf_event", "hugetlb", "systemd", "unified"]
    {
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(controller).join(&pod));
    }
    assert_eq!(over.code, 1, "60% under a 50% pod: {}", over.stderr);
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert_eq!((period.trim(), quota.trim()), ("10000", "3000"));
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_pod_cgroup_made_by_someone_else_gets_its_cpuset_filled() {
    // runc's "cpu period in a pod cgroup": the pod's parent exists, made with mkdir, its
    // cpuset empty; the container's cpuset (and the pod's) take the cpus and mems above.
    let pod = unique_id("pod");
    let cpuset = Path::new("/sys/fs/cgroup/cpuset").join(&pod);
    std::fs::create_dir(&cpuset).unwrap();
    let mut bundle = TestBundle::new(&["cat", "/sys/fs/cgroup/cpuset/cpuset.cpus"]);
    let id = unique_id("in-pod");
    bundle.config["linux"]["cgroupsPath"] = json!(format!("/{pod}/{id}"));
    bundle.config["linux"]["resources"] = json!({"cpu": {"quota": 30000, "period": 100000}});
    bundle.write_config();
    let out = bundle.run(&id);
    let pod_cpus = std::fs::read_to_string(cpuset.join("cpuset.cpus")).unwrap();
    let _ = std::fs::remove_dir(&cpuset);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let host_cpus = std::fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.cpus").unwrap();
    assert_eq!(pod_cpus, host_cpus, "the pod's cpuset was filled");
    assert_eq!(out.stdout, host_cpus, "the container's cpuset");
    for controller in ["memory", "pids", "cpu", "cpuacct", "devices", "freezer", "blkio", "systemd", "unified"] {
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(controller).join(&pod));
    }
    bundle.assert_nothing_left(&id);
}

/// runc 1.5's update flags `--cpu-burst` and `--cpu-idle`, and a realtime period made
/// shorter than the old runtime: the kernel refuses that period until the new runtime is in,
/// so the period is written again after it (runc's "update rt period and runtime").
#[test]
fn update_cpu_burst_idle_and_a_shorter_realtime_period() {
    let id = unique_id("rt");
    // Realtime time is handed down: the parent gets the root's budget, the container part of it.
    let parent = format!("skiff-rt-{id}");
    let parent_dir = Path::new("/sys/fs/cgroup/cpu").join(&parent);
    assert!(Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists(), "the cpu controller has no cpu.rt_runtime_us (a kernel without CONFIG_RT_GROUP_SCHED)");
    std::fs::create_dir(&parent_dir).unwrap();
    std::fs::write(parent_dir.join("cpu.rt_runtime_us"), "950000").unwrap();
    let mut bundle = with_resources(&["sleep", "1000"], json!({"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 500001}}));
    bundle.config["linux"]["cgroupsPath"] = json!(format!("/{parent}/{id}"));
    bundle.write_config();
    let cgroup = format!("{parent}/{id}");
    detached(&bundle, &id);
    let update = |args: &[&str]| {
        let mut all = vec!["update"];
        all.extend_from_slice(args);
        all.push(&id);
        bundle.skiff(&all)
    };
    let out = update(&["--cpu-rt-period", "900001", "--cpu-rt-runtime", "600001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!((v1("cpu", &cgroup, "cpu.rt_period_us"), v1("cpu", &cgroup, "cpu.rt_runtime_us")), ("900001".into(), "600001".into()));
    // 10000 alone is below the runtime 600001: refused, then accepted after runtime 3000
    let out = update(&["--cpu-rt-period", "10000", "--cpu-rt-runtime", "3000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!((v1("cpu", &cgroup, "cpu.rt_period_us"), v1("cpu", &cgroup, "cpu.rt_runtime_us")), ("10000".into(), "3000".into()));
    // burst
    let out = update(&["--cpu-period", "900000", "--cpu-burst", "500000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(v1("cpu", &cgroup, "cpu.cfs_burst_us"), "500000");
    assert_eq!(update(&["--memory", "100M"]).code, 0);
    assert_eq!(v1("cpu", &cgroup, "cpu.cfs_burst_us"), "500000", "an update of other limits leaves the burst");
    assert_eq!(update(&["--cpu-period", "900000", "--cpu-burst", "0"]).code, 0);
    assert_eq!(v1("cpu", &cgroup, "cpu.cfs_burst_us"), "0");
    // idle: 0 or 1; the kernel refuses anything else and the value stays
    for value in ["1", "0", "1"] {
        assert_eq!(update(&["--cpu-idle", value]).code, 0);
        assert_eq!(v1("cpu", &cgroup, "cpu.idle"), value);
    }
    for value in ["-1", "2"] {
        assert_ne!(update(&["--cpu-idle", value]).code, 0, "cpu.idle {value} is refused");
        assert_eq!(v1("cpu", &cgroup, "cpu.idle"), "1");
    }
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    // (the container's parent, made in every controller, is left as runc leaves it)
    for controller in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = controller.path().join(&parent);
        if dir.is_dir() {
            std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("rmdir {}: {e}", dir.display()));
        }
    }
}

/// skiff with `--root` of `bundle` and `args`, under `strace -f` tracing `syscalls`; it must
/// succeed. Returns what skiff printed and strace's log.
fn skiff_under_strace(bundle: &TestBundle, syscalls: &str, args: &[&str]) -> (Outcome, String) {
    assert!(Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let trace = bundle.dir.path().join("strace.out");
    let root = bundle.state_root();
    let mut all = vec!["-f", "-qq", "-e", syscalls, "-o", trace.to_str().unwrap(), SKIFF, "--root", root.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run_program("/usr/bin/strace", &all, Some(&bundle.path()));
    assert_eq!(out.code, 0, "{out:?}");
    (out, std::fs::read_to_string(&trace).unwrap())
}

/// The lines of an strace log that open `file` of container `id`'s cgroups for writing.
fn cgroup_writes<'t>(trace: &'t str, id: &str, file: &str) -> Vec<&'t str> {
    trace.lines().filter(|l| l.contains("openat(") && l.contains("O_WRONLY") && l.contains(&format!("/{id}/{file}\""))).collect()
}

/// Whether an strace log shows a process cloned into a cgroup2 directory.
fn cloned_into_a_cgroup(trace: &str) -> bool {
    trace.lines().any(|l| l.contains("clone3(") && l.contains("CLONE_INTO_CGROUP"))
}

/// The path-based cgroupfs calls of one `run` of a new container, as strace saw them: every
/// one walks kernfs under locks that the other runtimes' mkdir and rmdir contend on.
#[test]
fn a_new_cgroup_is_set_up_and_removed_without_needless_path_walks() {
    assert!(Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let mut bundle = TestBundle::new(&["true"]);
    // Devices the default spec allows: eleven `devices.allow` rules after the deny.
    bundle.config["linux"]["resources"] = json!({"devices": [{"allow": false, "access": "rwm"}], "cpu": {"cpus": "0"}});
    bundle.write_config();
    let id = unique_id("walks");
    let path = bundle.path();
    let (_, text) = skiff_under_strace(&bundle, "trace=openat,statx,newfstatat,rmdir", &["run", "--bundle", path.to_str().unwrap(), &id]);
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("\"/sys/fs/cgroup/") && l.contains(&format!("/{id}"))).collect();
    assert!(ours.iter().any(|l| l.contains("rmdir(")), "strace saw the container's cgroups: {ours:#?}");
    // A directory missing when the cgroup was located holds no process and is not frozen:
    // nothing in it is read before it exists.
    let missing: Vec<&&str> = ours.iter().filter(|l| l.contains("openat(") && l.contains("ENOENT")).collect();
    assert!(missing.is_empty(), "files of a cgroup that did not exist yet were opened: {missing:#?}");
    // The device rules go through one open of each list.
    for list in ["devices.allow", "devices.deny"] {
        let opens = ours.iter().filter(|l| l.contains("openat(") && l.contains(&format!("/{list}\""))).count();
        assert_eq!(opens, 1, "{list} opened {opens} times: {ours:#?}");
    }
    // A cpuset inherits its parent's cpus and mems: each parent file is read once.
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let parent = format!("\"/sys/fs/cgroup/cpuset/{file}\"");
        let reads = text.lines().filter(|l| l.contains("openat(") && l.contains(&parent)).count();
        assert!(reads <= 1, "{parent} read {reads} times");
    }
    // A cgroup without sub-cgroups is removed by its rmdir alone, its directory never listed.
    // (O_PATH: the cgroup2 directory init is cloned into)
    let listed: Vec<&&str> = ours.iter().filter(|l| l.contains("O_DIRECTORY") && !l.contains("O_PATH") && !l.contains("pids")).collect();
    assert!(listed.is_empty(), "cgroup directories listed before their rmdir: {listed:#?}");
    bundle.assert_nothing_left(&id);
}

/// On this hybrid host init moves itself into the v1 hierarchies (`0` to each `tasks` file,
/// which spares the kernel's global threadgroup lock and its RCU grace period) and is cloned
/// into the cgroup2 directory: the runtime writes no pid into any `cgroup.procs`.
#[test]
fn init_enters_its_v1_cgroups_by_itself() {
    assert!(Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let mut bundle = TestBundle::new(&["sh", "-c", "cat /proc/self/cgroup"]);
    bundle.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "cgroup"}));
    bundle.write_config();
    let id = unique_id("self-entry");
    let path = bundle.path();
    let (out, text) = skiff_under_strace(&bundle, "trace=openat,clone3", &["run", "--bundle", path.to_str().unwrap(), &id]);
    // Inside, every hierarchy is the container's own (the cgroup namespace's root).
    for line in out.stdout.lines() {
        assert!(line.ends_with(":/"), "init is not at the root of its cgroup namespace: {}", out.stdout);
    }
    let ours = |file: &str| cgroup_writes(&text, &id, file);
    for controller in ["memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio", "systemd"] {
        let tasks = format!("/sys/fs/cgroup/{controller}/{id}/tasks\"");
        assert!(ours("tasks").iter().any(|l| l.contains(&tasks)), "init did not enter {controller} by its tasks file: {:#?}", ours("tasks"));
    }
    assert!(ours("cgroup.procs").is_empty(), "the runtime moved init by cgroup.procs: {:#?}", ours("cgroup.procs"));
    assert!(cloned_into_a_cgroup(&text), "init was not cloned into the cgroup2 directory");
    bundle.assert_nothing_left(&id);
}

/// An exec'd process enters the container's v1 cgroups by itself too, and lands in the same
/// ones as init (the cgroup2 directory by the clone).
#[test]
fn an_exec_process_enters_its_v1_cgroups_by_itself() {
    assert!(Path::new("/usr/bin/strace").is_file(), "/usr/bin/strace is missing: install Debian's strace (make deps does)");
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("exec-entry");
    detached(&bundle, &id);
    let (out, text) = skiff_under_strace(&bundle, "trace=openat,clone3", &["exec", &id, "cat", "/proc/self/cgroup"]);
    let pid = bundle.state(&id)["pid"].as_i64().unwrap();
    let init_cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    let mut expected: Vec<&str> = init_cgroups.lines().collect();
    lines.sort_unstable();
    expected.sort_unstable();
    assert_eq!(lines, expected, "the exec'd process is in init's cgroups");
    let writes = |file: &str| cgroup_writes(&text, &id, file).len();
    assert_eq!(writes("tasks"), 9, "the exec'd process entered the nine v1 hierarchies by their tasks files");
    assert_eq!(writes("cgroup.procs"), 0, "the runtime moved the exec'd process by cgroup.procs");
    assert!(cloned_into_a_cgroup(&text), "not cloned into the cgroup2 directory");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}
