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

/// Run `bundle` under `runtime` with its own state root.
fn run_under(runtime: &str, bundle: &TestBundle, id: &str) -> Outcome {
    let root = bundle.dir.path().join(format!("root-{}", Path::new(runtime).file_name().unwrap().to_str().unwrap()));
    run_program(runtime, &["--root", root.to_str().unwrap(), "run", "--bundle", bundle.path().to_str().unwrap(), id], None)
}

/// What the process reports about itself, one fact per line.
const PROBE: &str = r#"
echo "id: $(id)"; echo "hostname: $(hostname)"; echo "pid: $$"; echo "cwd: $(pwd)"
grep -E '^(Cap|NoNewPrivs|Seccomp:|Uid|Gid|Groups)' /proc/self/status
cat /proc/1/environ | tr '\0' '\n' | sort | sed 's/^/env: /'
ls -1 /dev | sed 's/^/dev: /'
for d in null zero full random urandom tty mynull fuse sub/fifo; do [ -e /dev/$d ] && stat -c 'node: %n %F %t:%T %a %u:%g' /dev/$d; done
for l in fd stdin stdout stderr ptmx; do echo "link: $l -> $(readlink /dev/$l)"; done
awk '{ split($0, parts, " - "); split(parts[2], tail, " "); print "mount:", $5, $6, tail[1] }' /proc/self/mountinfo | grep -v ' /sys/fs/cgroup' | sort
grep -E '^Max (open files|processes|stack size|core)' /proc/self/limits | sed 's/^/limit: /'
ls -1 /proc/self/fd | sed 's/^/fd: /'
echo "umask: $(umask)"; echo "arch: $(uname -m)"; echo "oom_score_adj: $(cat /proc/self/oom_score_adj)"
echo "domainname: $(cat /proc/sys/kernel/domainname)"
echo "uid_map: $(cat /proc/self/uid_map | tr -s ' ')"; echo "gid_map: $(cat /proc/self/gid_map | tr -s ' ')"
echo "timens_offsets: $(cat /proc/self/timens_offsets 2>/dev/null | tr '\n' ' ')"
for k in net/ipv4/ip_forward net/ipv4/ping_group_range kernel/shmmax fs/mqueue/msg_max; do echo "sysctl: $k $(cat /proc/sys/$k)"; done
for f in memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.shares cpu/cpu.cfs_quota_us; do echo "cgroup: $f $(cat /sys/fs/cgroup/$f 2>&1)"; done
for f in /etc/group /tmp /proc/sys; do [ -w $f ] && echo "writable: $f" || echo "not writable: $f"; done
touch /rootfs-write-test 2>/dev/null && echo 'root: writable' || echo 'root: read-only'
"#;

/// The variants: JSON merge patches over the default spec, in integration/differential/.
/// `x-append-mounts` and `x-append-namespaces` add to the default lists,
/// `x-remove-namespaces` drops types, other `x-` keys are comments.
fn variants() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/differential/variants");
    let mut variants: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let name = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            let value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap_or_else(|err| panic!("{name}: {err}"));
            (name, value)
        })
        .collect();
    variants.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(variants.len() >= 10, "the variants directory is incomplete: {}", dir.display());
    variants
}

fn apply_variant(config: &mut Value, variant: &Value) {
    let mut patch = variant.clone();
    let object = patch.as_object_mut().unwrap();
    let extract = |object: &mut serde_json::Map<String, Value>, key: &str| object.remove(key);
    let mounts = extract(object, "x-append-mounts");
    let add_ns = extract(object, "x-append-namespaces");
    let remove_ns = extract(object, "x-remove-namespaces");
    object.retain(|k, _| !k.starts_with("x-"));
    merge(config, &patch);
    if let Some(Value::Array(mounts)) = mounts {
        config["mounts"].as_array_mut().unwrap().extend(mounts);
    }
    if let Some(Value::Array(remove)) = remove_ns {
        config["linux"]["namespaces"].as_array_mut().unwrap().retain(|ns| !remove.contains(&ns["type"]));
    }
    if let Some(Value::Array(add)) = add_ns {
        config["linux"]["namespaces"].as_array_mut().unwrap().extend(add);
    }
}

#[test]
fn every_variant_agrees_with_runc() {
    require_runc();
    let mut report = String::new();
    for (name, variant) in variants() {
        let mut bundle = TestBundle::new(&["sh", "-c", PROBE]);
        bundle.config["process"]["args"] = json!(["sh", "-c", PROBE]);
        apply_variant(&mut bundle.config, &variant);
        bundle.write_config();
        let theirs = run_under(RUNC, &bundle, &unique_id(&format!("diff-runc-{name}")));
        let ours = run_under(SKIFF, &bundle, &unique_id(&format!("diff-skiff-{name}")));
        // Each exception names its reason in the variant and in docs/compatibility.md.
        if variant.get("x-runc-unsupported").is_some() {
            if theirs.code == 0 {
                report.push_str(&format!("== variant {name}: runc now supports it; drop x-runc-unsupported\n"));
            }
            if ours.code != 0 {
                report.push_str(&format!("== variant {name}: skiff exit {} ({})\n", ours.code, ours.stderr.trim()));
            }
            continue;
        }
        let known: Vec<String> =
            variant["x-known-differences"]["prefixes"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default();
        let normalize = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|line| !known.iter().any(|prefix| line.starts_with(prefix.as_str())))
                // in a shared pid namespace the pid is the host's: only "is it 1" matters
                .map(|line| if line.starts_with("pid: ") && line != "pid: 1" { "pid: (host pid)".to_string() } else { line.to_string() })
                .collect()
        };
        if theirs.code != 0 || ours.code != 0 {
            report.push_str(&format!(
                "== variant {name}: runc exit {} ({}), skiff exit {} ({})\n",
                theirs.code,
                theirs.stderr.trim(),
                ours.code,
                ours.stderr.trim()
            ));
            continue;
        }
        let (ours, theirs) = (normalize(&ours.stdout), normalize(&theirs.stdout));
        if ours != theirs {
            report.push_str(&format!("== variant {name}: skiff (+) differs from runc (-)\n"));
            for line in &theirs {
                if !ours.contains(line) {
                    report.push_str(&format!("- {line}\n"));
                }
            }
            for line in &ours {
                if !theirs.contains(line) {
                    report.push_str(&format!("+ {line}\n"));
                }
            }
        }
    }
    assert!(report.is_empty(), "{report}");
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

/// Every command's exit status, in every state, as runc 1.1.5 gives it: the same sequence of
/// calls under both runtimes (runc's codes: 0, 1, and exec's own status or 255).
#[test]
fn exit_statuses_agree_with_runc() {
    require_runc();
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let b = bundle.path().to_str().unwrap().to_string();
    let steps: Vec<Vec<&str>> = vec![
        vec!["create", "--bundle", &b, "ID"],
        vec!["create", "--bundle", &b, "ID"],
        vec!["exec", "ID", "true"],
        vec!["start", "ID"],
        vec!["start", "ID"],
        vec!["pause", "ID"],
        vec!["pause", "ID"],
        vec!["exec", "ID", "true"],
        vec!["resume", "ID"],
        vec!["resume", "ID"],
        vec!["update", "--pids-limit", "10", "ID"],
        vec!["ps", "ID"],
        vec!["events", "--stats", "ID"],
        vec!["exec", "ID", "sh", "-c", "exit 3"],
        vec!["exec", "ID", "no-such-program"],
        vec!["kill", "ID", "NOSIG"],
        vec!["kill", "ID", "0"],
        vec!["delete", "ID"],
        vec!["kill", "ID", "KILL"],
    ];
    let after_stop: Vec<Vec<&str>> = vec![
        vec!["kill", "ID", "KILL"],
        vec!["kill", "ID", "0"],
        vec!["kill", "--all", "ID", "KILL"],
        vec!["pause", "ID"],
        vec!["resume", "ID"],
        vec!["exec", "ID", "true"],
        vec!["update", "--pids-limit", "10", "ID"],
        vec!["ps", "ID"],
        vec!["events", "--stats", "ID"],
        vec!["start", "ID"],
        vec!["state", "ID"],
        vec!["delete", "ID"],
        vec!["delete", "ID"],
        vec!["delete", "-f", "ID"],
        vec!["state", "ID"],
        vec!["kill", "ID"],
        vec!["create", "--bundle", "/no/such/bundle", "ID2"],
        vec!["run", "--bundle", &b, "../x"],
        vec!["list"],
        vec!["features"],
    ];
    let codes = |runtime: &str| -> Vec<String> {
        let root = bundle.dir.path().join(format!("root-{}", Path::new(runtime).file_name().unwrap().to_string_lossy()));
        let id = unique_id("codes");
        let call = |step: &Vec<&str>| {
            let mut args = vec!["--root", root.to_str().unwrap()];
            args.extend(step.iter().map(|a| if *a == "ID" { id.as_str() } else { a }));
            let code = run_program(runtime, &args, None).code;
            format!("{} => {code}", step.join(" "))
        };
        let mut seen: Vec<String> = steps.iter().map(call).collect();
        // Wait for the kill to land before the calls on a stopped container.
        for _ in 0..500 {
            let out = run_program(runtime, &["--root", root.to_str().unwrap(), "state", &id], None);
            if out.stdout.contains("\"stopped\"") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        seen.extend(after_stop.iter().map(call));
        seen
    };
    let (runc, skiff) = (codes(RUNC), codes(SKIFF));
    for (theirs, ours) in runc.iter().zip(&skiff) {
        assert_eq!(ours, theirs, "skiff's exit status differs from runc's");
    }
    assert_eq!(runc.len(), skiff.len());
}
