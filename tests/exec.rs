//! `exec`: a process in a running container's namespaces, cgroup and credentials.

mod common;

use common::*;
use serde_json::json;

fn running(args: &[&str]) -> (TestBundle, String) {
    let bundle = TestBundle::new(args);
    let id = unique_id("exec");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    wait_for_status(&bundle, &id, "running");
    (bundle, id)
}

#[test]
fn exec_joins_the_container() {
    let (bundle, id) = running(&["sleep", "1000"]);
    let init = bundle.state(&id)["pid"].as_i64().unwrap();
    let script = "hostname; for ns in pid mnt net; do readlink /proc/self/ns/$ns; done; cat /proc/1/comm; grep CapEff /proc/self/status; pwd; echo $FOO";
    let out = bundle.skiff(&["exec", "--env", "FOO=bar", "--cwd", "/tmp", &id, "sh", "-c", script]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "runc", "the container's hostname");
    for (index, ns) in ["pid", "mnt", "net"].iter().enumerate() {
        let theirs = std::fs::read_link(format!("/proc/{init}/ns/{ns}")).unwrap();
        assert_eq!(lines[1 + index], theirs.to_str().unwrap(), "{ns}");
    }
    assert_eq!(lines[4], "sleep", "pid 1 of the namespace is the container's init");
    assert_eq!(lines[5], "CapEff:\t0000000020000420", "the container's capabilities");
    assert_eq!(lines[6..], ["/tmp", "bar"]);
    // and it was in the container's cgroup
    let out = bundle.skiff(&["exec", &id, "cat", "/proc/self/cgroup"]);
    assert!(out.stdout.lines().any(|l| l == format!("8:pids:/{id}")), "{}", out.stdout);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_exit_status_user_and_detach() {
    let (bundle, id) = running(&["sleep", "1000"]);
    assert_eq!(bundle.skiff(&["exec", &id, "sh", "-c", "exit 5"]).code, 5);
    let out = bundle.skiff(&["exec", "--user", "1000:1001", "--additional-gids", "7", &id, "sh", "-c", "id -u; id -g; id -G"]);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["1000", "1001", "1001 7"], "{}", out.stderr);
    let pid_file = bundle.dir.path().join("exec.pid");
    let out = bundle.skiff(&["exec", "-d", "--pid-file", pid_file.to_str().unwrap(), &id, "sleep", "1000"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    // exec -d returns once the process is recorded; its execve follows right after
    let comm = || std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while comm() != "sleep" && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(comm(), "sleep");
    let pids: Vec<i32> = serde_json::from_str(bundle.skiff(&["ps", "-f", "json", &id]).stdout.trim()).unwrap();
    assert!(pids.contains(&pid), "the detached exec is one of the container's processes");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_with_a_process_file() {
    let (bundle, id) = running(&["sleep", "1000"]);
    let process = bundle.dir.path().join("process.json");
    std::fs::write(
        &process,
        json!({"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from $WHO; grep NoNewPrivs /proc/self/status"],
               "env": ["PATH=/bin", "WHO=process.json"], "cwd": "/", "noNewPrivileges": true})
        .to_string(),
    )
    .unwrap();
    let out = bundle.skiff(&["exec", "--process", process.to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "from process.json\nNoNewPrivs:\t1\n");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_refusals() {
    let (bundle, id) = running(&["sleep", "1000"]);
    // runc's convention: 255 when the runtime fails, so callers tell it from the process's status.
    let out = bundle.skiff(&["exec", &id, "no-such-program"]);
    assert_eq!(out.code, 255, "{}", out.stderr);
    assert!(out.stderr.contains("exec failed: ") && out.stderr.contains("executable file not found"), "{}", out.stderr);
    // (in the foreground skiff relays a terminal itself, as runc does: console.rs)
    let out = bundle.skiff(&["exec", "--detach", "--tty", &id, "true"]);
    assert!(out.stderr.contains("a console socket is needed"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["pause", &id]).code, 0);
    let out = bundle.skiff(&["exec", &id, "true"]);
    assert!(out.stderr.contains("paused"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["resume", &id]).code, 0);
    // runc's Go struct leaves every field optional: no user is uid 0, gid 0 (runc's tty
    // "exec consolesize" test gives such a process)
    let file = bundle.dir.path().join("no-user.json");
    std::fs::write(&file, r#"{"args": ["sh", "-c", "id -u; id -g; pwd"], "consoleSize": {"height": 10, "width": 20}}"#).unwrap();
    let out = bundle.skiff(&["exec", "--process", file.to_str().unwrap(), &id]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "0\n0\n/\n"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["kill", &id, "KILL"]).code, 0);
    wait_for_status(&bundle, &id, "stopped");
    let out = bundle.skiff(&["exec", &id, "true"]);
    assert_eq!(out.code, 255, "{}", out.stderr);
    assert!(out.stderr.contains("cannot exec in a stopped container"), "{}", out.stderr);
    // A --process file with a type error names the field.
    let file = bundle.dir.path().join("bad-process.json");
    std::fs::write(&file, r#"{"args": ["true"], "cwd": "/", "user": {"uid": "root", "gid": 0}}"#).unwrap();
    let out = bundle.skiff(&["exec", "--process", file.to_str().unwrap(), &id, "true"]);
    assert!(out.code == 255 && out.stderr.contains("user.uid: invalid type: string"), "{}", out.stderr);
    let out = bundle.skiff(&["exec", "no-such-container", "true"]);
    assert!(out.code == 255 && out.stderr.contains("exec failed: container does not exist"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    assert_no_process_mentions("no-such-program");
}

#[test]
fn exec_cgroup_joins_an_existing_sub_cgroup() {
    let (bundle, id) = running(&["sleep", "1000"]);
    let pids = std::path::Path::new("/sys/fs/cgroup/pids").join(&id);
    let memory = std::path::Path::new("/sys/fs/cgroup/memory").join(&id);
    assert!(pids.is_dir() && memory.is_dir(), "this test expects the host's v1 pids and memory hierarchies");
    // A plain path must exist in every hierarchy of the container (as with runc).
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let dir = hierarchy.unwrap().path().join(&id);
        if dir.is_dir() {
            std::fs::create_dir(dir.join("sub")).unwrap();
            // v1 cpuset starts a new cgroup with no cpus and mems: give it the parent's.
            for file in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(value) = std::fs::read_to_string(dir.join(file)) {
                    std::fs::write(dir.join("sub").join(file), value).unwrap();
                }
            }
        }
    }
    let lines = |out: &Outcome, controller: &str| out.stdout.lines().find(|l| l.split(':').nth(1) == Some(controller)).map(String::from);
    // A plain path: every hierarchy.
    let out = bundle.skiff(&["exec", "--cgroup", "sub", &id, "cat", "/proc/self/cgroup"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(lines(&out, "pids").unwrap().ends_with(&format!("/{id}/sub")), "{}", out.stdout);
    assert!(lines(&out, "memory").unwrap().ends_with(&format!("/{id}/sub")), "{}", out.stdout);
    // Named controllers: only those; the others stay in the container's cgroup.
    let out = bundle.skiff(&["exec", "--cgroup", "pids:sub", &id, "cat", "/proc/self/cgroup"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(lines(&out, "pids").unwrap().ends_with(&format!("/{id}/sub")), "{}", out.stdout);
    assert!(lines(&out, "memory").unwrap().ends_with(&format!("/{id}")), "{}", out.stdout);
    // Refused: missing, or escaping the container's cgroup.
    // (runc's words, which callers grep for: 1.5's "bad sub cgroup path", 1.1's
    // " .. is not a sub cgroup path", and
    // " adding pid "..."/nosuch/cgroup.procs: no such file ")
    // A leading / starts at the container's cgroup, as with runc: `/` is that cgroup itself.
    for request in ["/", "/sub"] {
        let out = bundle.skiff(&["exec", "--cgroup", request, &id, "cat", "/proc/self/cgroup"]);
        assert_eq!(out.code, 0, "{request}: {}", out.stderr);
        let expected = if request == "/" { format!("/{id}") } else { format!("/{id}/sub") };
        assert!(lines(&out, "pids").unwrap().ends_with(&expected), "{request}: {}", out.stdout);
    }
    for (request, expected) in [
        ("nosuch", "/nosuch/cgroup.procs: no such file "),
        ("pids:nosuch", "/nosuch/cgroup.procs: no such file "),
        ("whaaat:/", "unknown controller whaaat in --cgroup"),
        ("..", "bad sub cgroup path: ..: .. is not a sub cgroup path"),
        ("../other", "stay below the container's cgroup"),
        ("/../x", "stay below"),
    ] {
        let out = bundle.skiff(&["exec", "--cgroup", request, &id, "true"]);
        assert!(out.code != 0 && out.stderr.contains(expected), "{request}: {}", out.stderr);
        assert!(!request.ends_with("nosuch") || out.stderr.contains(" adding pid "), "{}", out.stderr);
    }
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    assert!(!pids.exists() && !memory.exists(), "the container's cgroups, sub-cgroups included, are gone");
}

#[test]
fn a_cwd_only_root_may_enter_is_entered_before_the_user_switch() {
    // runc's cwd tests: the chdir happens with the runtime's access, so a process user who
    // could not enter the directory starts there, and root without CAP_DAC_OVERRIDE (the
    // default capabilities) can exec into a directory only the container's user may enter.
    let mut bundle = TestBundle::new(&["sh", "-c", "pwd; id -u"]);
    std::fs::create_dir(bundle.rootfs().join("secret")).unwrap();
    std::fs::set_permissions(bundle.rootfs().join("secret"), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    bundle.config["process"]["cwd"] = json!("/secret");
    bundle.config["process"]["user"] = json!({"uid": 42, "gid": 42});
    bundle.write_config();
    let id = unique_id("cwd-root-only");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "/secret\n42\n");
    bundle.assert_nothing_left(&id);

    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    let home = bundle.rootfs().join("home42");
    std::fs::create_dir(&home).unwrap();
    std::os::unix::fs::chown(&home, Some(42), Some(42)).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    bundle.config["process"]["cwd"] = json!("/home42");
    bundle.config["process"]["user"] = json!({"uid": 42, "gid": 42});
    bundle.write_config();
    let id = unique_id("cwd-user-only");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    wait_for_status(&bundle, &id, "running");
    let out = bundle.skiff(&["exec", "--user", "0", &id, "sh", "-c", "pwd; id -u; grep CapEff /proc/self/status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "/home42\n0\nCapEff:\t0000000020000420\n", "root without CAP_DAC_OVERRIDE, in the user's directory");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// An exec'd process gets the container's `linux.personality` too, as runc's exec does
/// (runc 1.5's personality.bats "with exec for i686").
#[test]
fn exec_gets_the_containers_personality() {
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["linux"]["personality"] = json!({"domain": "LINUX32"});
    bundle.write_config();
    let id = unique_id("exec-persona");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    wait_for_status(&bundle, &id, "running");
    let out = bundle.skiff(&["exec", &id, "uname", "-m"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "i686\n"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}
