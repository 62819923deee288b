//! The same bundles under Debian's runc and under skiff: the state keys and what the process
//! sees from inside must agree (after normalizing pids, times and device numbers).

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

const RUNC: &str = "/usr/sbin/runc";

fn require_runc() {
    assert!(Path::new(RUNC).is_file(), "Debian's runc is missing ({RUNC}): install package runc (make deps does)");
}

/// Run `bundle` under `runtime` with its own state root and return stdout.
fn run_under(runtime: &str, bundle: &TestBundle, id: &str) -> String {
    let root = bundle.dir.path().join(format!("root-{}", Path::new(runtime).file_name().unwrap().to_str().unwrap()));
    let out = run_program(runtime, &["--root", root.to_str().unwrap(), "run", "--bundle", bundle.path().to_str().unwrap(), id], None);
    assert_eq!(out.code, 0, "{runtime} run failed: {}", out.stderr);
    out.stdout
}

/// What the process reports about itself, one fact per line.
const PROBE: &str = r#"
echo "id: $(id)"; echo "hostname: $(hostname)"; echo "pid: $$"; echo "cwd: $(pwd)"
grep -E '^(Cap|NoNewPrivs|Seccomp:|Uid|Gid|Groups)' /proc/self/status
tr '\0' '\n' < /proc/1/environ | sort | sed 's/^/env: /'
ls -1 /dev | sed 's/^/dev: /'
for d in null zero full random urandom tty; do stat -c 'node: %n %F %t:%T %a %u:%g' /dev/$d; done
for l in fd stdin stdout stderr ptmx; do echo "link: $l -> $(readlink /dev/$l)"; done
awk '{ split($0, parts, " - "); split(parts[2], tail, " "); print "mount:", $5, $6, tail[1] }' /proc/self/mountinfo | grep -v ' /sys/fs/cgroup' | sort
grep -E '^Max (open files|processes|stack size|core)' /proc/self/limits | sed 's/^/limit: /'
ls -1 /proc/self/fd | sed 's/^/fd: /'
umask | sed 's/^/umask: /'
touch /rootfs-write-test 2>/dev/null && echo 'root: writable' || echo 'root: read-only'
"#;

fn compare(adjust: impl Fn(&mut Value)) {
    require_runc();
    let mut bundle = TestBundle::new(&["sh", "-c", PROBE]);
    adjust(&mut bundle.config);
    bundle.write_config();
    let theirs = run_under(RUNC, &bundle, &unique_id("diff-runc"));
    let ours = run_under(SKIFF, &bundle, &unique_id("diff-skiff"));
    let (theirs, ours): (Vec<&str>, Vec<&str>) = (theirs.lines().collect(), ours.lines().collect());
    assert_eq!(ours, theirs, "skiff (left) and runc (right) disagree");
}

#[test]
fn default_spec_agrees_with_runc() {
    compare(|_| {});
}

#[test]
fn user_env_and_rlimits_agree_with_runc() {
    compare(|c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5, 7]});
        c["process"]["env"] = json!(["PATH=/bin:/usr/bin", "A=1", "B=two words"]);
        c["process"]["cwd"] = json!("/tmp");
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 300, "hard": 400}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]);
        c["root"]["readonly"] = json!(false);
        c["hostname"] = json!("differential");
    });
}

#[test]
fn capabilities_agree_with_runc() {
    compare(|c| {
        c["process"]["noNewPrivileges"] = json!(false);
        let set = json!(["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_NET_RAW", "CAP_SYS_CHROOT"]);
        c["process"]["capabilities"] = json!({"bounding": set, "permitted": set, "effective": set, "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]});
    });
}

#[test]
fn bind_mounts_agree_with_runc() {
    let host = tempfile::tempdir().unwrap();
    let source = host.path().to_str().unwrap().to_string();
    compare(move |c| {
        let mounts = c["mounts"].as_array_mut().unwrap();
        mounts.push(json!({"destination": "/mnt/ro", "type": "bind", "source": source, "options": ["rbind", "ro", "nosuid", "nodev"]}));
        mounts.push(json!({"destination": "/mnt/rw", "type": "bind", "source": source, "options": ["bind", "noexec"]}));
        mounts.push(json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755", "size=1m"]}));
    });
}

#[test]
fn state_has_the_same_keys_as_runc() {
    require_runc();
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let mut shapes = Vec::new();
    for runtime in [RUNC, SKIFF] {
        let root = bundle.dir.path().join(format!("state-{}", Path::new(runtime).file_name().unwrap().to_str().unwrap()));
        let root = root.to_str().unwrap();
        let id = unique_id("diff-state");
        let call = |args: &[&str]| {
            let mut all = vec!["--root", root];
            all.extend_from_slice(args);
            run_program(runtime, &all, None)
        };
        assert_eq!(call(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
        let mut seen = Vec::new();
        for step in ["created", "start", "running", "kill", "stopped"] {
            match step {
                "start" => assert_eq!(call(&["start", &id]).code, 0),
                "kill" => {
                    assert_eq!(call(&["kill", &id, "9"]).code, 0);
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                _ => {
                    let state: Value = serde_json::from_str(&call(&["state", &id]).stdout).unwrap();
                    let keys: Vec<String> = state.as_object().unwrap().keys().cloned().collect();
                    seen.push((keys, state["status"].clone(), state["pid"].as_i64() == Some(0)));
                }
            }
        }
        let list: Value = serde_json::from_str(&call(&["list", "-f", "json"]).stdout).unwrap();
        let list_keys: Vec<String> = list[0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(call(&["delete", &id]).code, 0);
        shapes.push((seen, list_keys));
    }
    assert_eq!(shapes[1], shapes[0], "skiff (left) and runc (right) state shapes differ");
}
