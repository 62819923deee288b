//! Where the container's processes run and allocate (runtime-spec 1.3): `linux.memoryPolicy`
//! seen in `/proc/self/numa_maps`, and `process.execCPUAffinity` seen in `Cpus_allowed_list`,
//! with skiff itself pinned by `taskset` so a leak of its own affinity would show.

mod common;

use common::*;
use serde_json::json;

/// The CPUs this machine has online, as the kernel lists them (`0-1`).
fn online_cpus() -> String {
    std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap().trim().to_string()
}

fn require_two_cpus() {
    assert_ne!(online_cpus(), "0", "these tests need at least two online CPUs to tell affinities apart");
}

/// Run skiff pinned to CPU 0.
fn pinned_skiff(bundle: &TestBundle, args: &[&str]) -> Outcome {
    let root = bundle.state_root();
    let mut full = vec!["-c", "0", SKIFF, "--root", root.to_str().unwrap()];
    full.extend_from_slice(args);
    run_program("taskset", &full, None)
}

fn cpus_allowed(text: &str) -> String {
    text.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).map(|v| v.trim().to_string()).unwrap_or_default()
}

#[test]
fn memory_policy_is_set_for_init_and_exec() {
    assert!(std::path::Path::new("/proc/self/numa_maps").exists(), "this test needs a NUMA kernel (/proc/self/numa_maps)");
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]});
    bundle.write_config();
    let id = unique_id("mempolicy");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // numa_maps shows the policy with its flag: `bind=static:0`.
    let exec = bundle.skiff(&["exec", &id, "grep", "-c", " bind=static:0 ", "/proc/self/numa_maps"]);
    assert_eq!(exec.code, 0, "exec'd processes get the policy too: {}", exec.stderr);
    assert!(exec.stdout.trim().parse::<u32>().unwrap() > 0, "{}", exec.stdout);
    let init = std::fs::read_to_string(format!("/proc/{}/numa_maps", bundle.state(&id)["pid"])).unwrap();
    assert!(init.contains(" bind=static:0 "), "init's mappings are bound to node 0: {init}");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);

    // Checked before anything runs, naming the field.
    for (policy, expected) in [
        // runc 1.5's words lead, ours follow
        (json!({"mode": "MPOL_BIND"}), "linux.memoryPolicy: memory policy mode requires at least one node but got 0: MPOL_BIND needs nodes"),
        (json!({"mode": "MPOL_DEFAULT", "nodes": "0"}), "linux.memoryPolicy: memory policy mode requires 0 nodes but got 1: MPOL_DEFAULT takes none"),
        (json!({"mode": "MPOL_INTERLEAVE", "nodes": "3-1"}), "linux.memoryPolicy: invalid memory policy nodes \\\"3-1\\\": range \\\"3-1\\\" runs backwards"),
        (json!({"mode": "MPOL_NOPE"}), "linux.memoryPolicy: invalid memory policy mode \\\"MPOL_NOPE\\\""),
    ] {
        assert_create_refused(&json!({"linux": {"memoryPolicy": policy}}), expected);
    }
}

#[test]
fn init_does_not_inherit_the_runtimes_affinity() {
    require_two_cpus();
    let bundle = TestBundle::new(&["cat", "/proc/self/status"]);
    let id = unique_id("affinity-init");
    let out = pinned_skiff(&bundle, &["run", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cpus_allowed(&out.stdout), online_cpus(), "init may use every CPU of its cpuset, not skiff's one");
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_cpu_affinity_initial_and_final() {
    require_two_cpus();
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["process"]["execCPUAffinity"] = json!({"initial": "0", "final": "1"});
    bundle.write_config();
    let id = unique_id("affinity-exec");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let init = std::fs::read_to_string(format!("/proc/{}/status", bundle.state(&id)["pid"])).unwrap();
    assert_eq!(cpus_allowed(&init), online_cpus(), "execCPUAffinity is not for init (runtime-spec)");
    // final, from the container's config.
    let out = pinned_skiff(&bundle, &["exec", &id, "grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cpus_allowed(&out.stdout), "1");
    // Neither list (a process.json without them): every CPU, not skiff's pinned one.
    let mut process = bundle.config["process"].clone();
    process.as_object_mut().unwrap().remove("execCPUAffinity");
    process["args"] = json!(["grep", "Cpus_allowed_list", "/proc/self/status"]);
    let file = bundle.dir.path().join("process.json");
    std::fs::write(&file, process.to_string()).unwrap();
    let out = pinned_skiff(&bundle, &["exec", "--process", file.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cpus_allowed(&out.stdout), online_cpus());
    // initial alone: the process keeps it (the kernel decides after the cgroup move).
    process["execCPUAffinity"] = json!({"initial": "1"});
    std::fs::write(&file, process.to_string()).unwrap();
    let out = pinned_skiff(&bundle, &["exec", "--process", file.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cpus_allowed(&out.stdout), "1");
    // A bad list is refused, naming the field; exec's status says the runtime failed.
    process["execCPUAffinity"] = json!({"final": "3-1"});
    std::fs::write(&file, process.to_string()).unwrap();
    let out = bundle.skiff(&["exec", "--process", file.to_str().unwrap(), &id]);
    assert!(out.code == 255 && out.stderr.contains("process.execCPUAffinity.final: range"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}
