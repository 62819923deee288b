//! `linux.netDevices` (runtime-spec 1.3) with a veth pair made by the test: the host end is
//! moved into the container renamed, keeps its permanent address, is up; after delete no
//! interface is left. The peer stays down and the address is from TEST-NET-1 (192.0.2.0/24,
//! RFC 5737): nothing is sent anywhere.

mod common;

use common::*;
use serde_json::json;

fn ip(args: &[&str]) -> Outcome {
    run_program("ip", args, None)
}

/// A veth pair `<prefix>a<pid>` / `<prefix>b<pid>`, deleted on drop if still there.
struct Veth {
    host: String,
    peer: String,
}

impl Veth {
    fn new(prefix: &str) -> Veth {
        let id = std::process::id() % 100_000;
        let veth = Veth { host: format!("{prefix}a{id}"), peer: format!("{prefix}b{id}") };
        let out = ip(&["link", "add", &veth.host, "type", "veth", "peer", "name", &veth.peer]);
        assert_eq!(out.code, 0, "ip link add veth (iproute2 and the veth module are needed): {}", out.stderr);
        let out = ip(&["addr", "add", "192.0.2.1/24", "dev", &veth.host]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        veth
    }

    fn exists(name: &str) -> bool {
        ip(&["link", "show", name]).code == 0
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        if Veth::exists(&self.host) {
            ip(&["link", "del", &self.host]);
        }
    }
}

#[test]
fn a_host_device_moves_in_renamed_with_its_address() {
    let veth = Veth::new("skn");
    // The container writes what it sees to a file the test reads, whole: renamed into place
    // only when both commands are done, or the test could read the first line alone.
    let mut bundle = TestBundle::new(&["sh", "-c", "(ip -o link show eth1; ip -o addr show eth1) > /run/out.part 2>&1; mv /run/out.part /run/out; sleep 1000"]);
    bundle.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "eth1"} });
    let shared = bundle.dir.path().to_str().unwrap().to_string();
    bundle.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/run", "type": "bind", "source": shared, "options": ["rbind", "rw"]}));
    bundle.write_config();
    let id = unique_id("netdev");
    let log = bundle.dir.path().join("out");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let seen = wait_for_file(&log);
    assert!(!Veth::exists(&veth.host), "the device left the host's namespace");
    let link = seen.lines().find(|l| l.contains("link/ether")).unwrap_or_default();
    assert!(link.contains(",UP") || link.contains("<UP"), "the device is up in the container: {seen}");
    assert!(seen.contains("inet 192.0.2.1/24"), "its permanent address came along: {seen}");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    // The container's namespace is gone, and the kernel destroyed the virtual device with it.
    for _ in 0..100 {
        if !Veth::exists(&veth.peer) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!Veth::exists(&veth.host) && !Veth::exists(&veth.peer), "no interface is left behind");
}

#[test]
fn net_device_refusals() {
    let veth = Veth::new("skr");
    // Not on the host: refused before anything exists.
    assert_create_refused(&json!({"linux": {"netDevices": {"nosuchdev0": {}}}}), "linux.netDevices: find network device nosuchdev0");
    // A name the kernel would refuse, or two devices with one name.
    assert_create_refused(&json!({"linux": {"netDevices": {veth.host.clone(): {"name": "a/b"}}}}), "linux.netDevices: ");
    // No network namespace to move it to.
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["linux"]["netDevices"] = json!({ veth.host.clone(): {} });
    let namespaces: Vec<serde_json::Value> =
        bundle.config["linux"]["namespaces"].as_array().unwrap().iter().filter(|n| n["type"] != "network").cloned().collect();
    bundle.config["linux"]["namespaces"] = json!(namespaces);
    bundle.write_config();
    let id = unique_id("netdev-nonet");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert!(out.code != 0 && out.stderr.contains("linux.netDevices: moving network devices needs a network namespace"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    assert!(Veth::exists(&veth.host), "a refused create leaves the device where it was");
}

/// A network namespace joined by path gets the device (init joins it only after the clone).
#[test]
fn a_joined_network_namespace_gets_the_device() {
    let veth = Veth::new("skj");
    let netns = format!("skiff-test-{}", std::process::id());
    let out = ip(&["netns", "add", &netns]);
    assert_eq!(out.code, 0, "ip netns add: {}", out.stderr);
    struct Netns(String);
    impl Drop for Netns {
        fn drop(&mut self) {
            ip(&["netns", "del", &self.0]);
        }
    }
    let _netns = Netns(netns.clone());
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "joined0"} });
    let mut namespaces: Vec<serde_json::Value> =
        bundle.config["linux"]["namespaces"].as_array().unwrap().iter().filter(|n| n["type"] != "network").cloned().collect();
    namespaces.push(json!({"type": "network", "path": format!("/run/netns/{netns}")}));
    bundle.config["linux"]["namespaces"] = json!(namespaces);
    bundle.write_config();
    let id = unique_id("netdev-join");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inside = ip(&["-n", &netns, "-o", "addr", "show", "joined0"]);
    assert!(inside.code == 0 && inside.stdout.contains("inet 192.0.2.1/24"), "the device is in the joined namespace: {} {}", inside.stdout, inside.stderr);
    assert!(!Veth::exists(&veth.host), "and no longer on the host");
    bundle.assert_nothing_left(&id);
}

/// A name ending in `%d` is completed by the kernel, as the spec allows.
#[test]
fn a_percent_d_name_is_completed_by_the_kernel() {
    let veth = Veth::new("skp");
    let mut bundle = TestBundle::new(&["sh", "-c", "ip -o addr show"]);
    bundle.config["linux"]["netDevices"] = json!({ veth.host.clone(): {"name": "moved%d"} });
    bundle.write_config();
    let id = unique_id("netdev-pct");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.lines().any(|l| l.contains("moved0") && l.contains("inet 192.0.2.1/24")), "{}", out.stdout);
    bundle.assert_nothing_left(&id);
}
