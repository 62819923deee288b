//! What the container's process sees from inside: credentials, capabilities, namespaces,
//! mounts, devices, limits, environment.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::json;

#[test]
fn capabilities_and_no_new_privs_follow_the_config() {
    let out = inside(|_| {}, "cat /proc/self/status");
    let status = status_fields(&out);
    // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10)
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(status[set], "0000000020000420", "{set}");
    }
    assert_eq!(status["CapInh"], "0000000000000000");
    // ambient caps need inheritable ones; runc skips them and so do we
    assert_eq!(status["CapAmb"], "0000000000000000");
    assert_eq!(status["NoNewPrivs"], "1");

    let out = inside(
        |c| {
            c["process"]["noNewPrivileges"] = json!(false);
            c["process"]["capabilities"] = json!({
                "bounding": ["CAP_CHOWN", "CAP_SETUID"], "permitted": ["CAP_CHOWN", "CAP_SETUID"],
                "effective": ["CAP_CHOWN"], "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]
            });
        },
        "cat /proc/self/status",
    );
    let status = status_fields(&out);
    assert_eq!(status["CapBnd"], "0000000000000081");
    assert_eq!(status["CapPrm"], "0000000000000081");
    assert_eq!(status["CapInh"], "0000000000000001");
    assert_eq!(status["CapAmb"], "0000000000000001");
    assert_eq!(status["NoNewPrivs"], "0");
}

#[test]
fn capabilities_as_runc_1_5_treats_them() {
    // capabilities.bats of runc 1.5: names no kernel knows are skipped with a warning; an
    // ambient capability that is not inheritable is a warning, not an error.
    let mut bundle = TestBundle::new(&["sh", "-c", "grep -E '^Cap(Inh|Amb)' /proc/self/status; sleep 1000"]);
    bundle.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_UNKNOWN", "UNKNOWN_CAP", "CAP_KILL", "CAP_CHOWN", "CAP_SYSLOG"],
        "permitted": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"],
        "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL", "CAP_CHOWN"]
    });
    bundle.write_config();
    let id = unique_id("caps15");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("ignoring unknown or unavailable capabilities: [CAP_UNKNOWN UNKNOWN_CAP]"), "{}", out.stderr);
    assert!(out.stderr.contains("can't raise ambient capability CAP_CHOWN: "), "{}", out.stderr);
    let status = |out: &Outcome| status_fields(&out.stdout);
    let plain = bundle.skiff(&["exec", &id, "cat", "/proc/self/status"]);
    assert_eq!((status(&plain)["CapInh"].as_str(), status(&plain)["CapAmb"].as_str()), ("0000000000000020", "0000000000000020"), "{}", plain.stderr);
    // exec --cap: bounding, permitted and effective; never inheritable; ambient only where
    // the config made it inheritable (CAP_SYSLOG is not: bit 34 stays out of CapAmb).
    let added = bundle.skiff(&["exec", "--cap", "CAP_SYSLOG", "--cap", "CAP_AUDIT_WRITE", &id, "cat", "/proc/self/status"]);
    let fields = status(&added);
    assert_eq!(fields["CapInh"], "0000000000000020", "{}", added.stderr);
    assert_eq!(fields["CapPrm"], "0000000420000021");
    assert_eq!(fields["CapEff"], "0000000420000021");
    assert_eq!(fields["CapAmb"], "0000000000000020");
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn masked_directories_share_one_read_only_tmpfs_and_each_path_is_masked_once() {
    // runc 1.5's mask.bats: "[duplicate paths]" and "[directories share tmpfs]".
    let mut bundle = TestBundle::new(&[
        "sh",
        "-c",
        "grep -c ' /testdir ' /proc/self/mountinfo; grep -c ' /testfile ' /proc/self/mountinfo; \
        stat -c %d /testdir /testdir2 /testdir3 | uniq | wc -l; touch /testdir2/x 2>&1; cat /testfile; ls /testdir | wc -l",
    ]);
    for dir in ["testdir", "testdir2", "testdir3"] {
        std::fs::create_dir(bundle.rootfs().join(dir)).unwrap();
        std::fs::write(bundle.rootfs().join(dir).join("secret"), "s").unwrap();
    }
    std::fs::write(bundle.rootfs().join("testfile"), "secret").unwrap();
    let masked = bundle.config["linux"]["maskedPaths"].as_array_mut().unwrap();
    masked.extend(["/testdir", "/testfile", "/testdir", "/testfile", "/testdir2", "/testdir3"].map(|p| json!(p)));
    bundle.write_config();
    let id = unique_id("mask");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "1\n1\n1\ntouch: /testdir2/x: Read-only file system\n0\n");
    bundle.assert_nothing_left(&id);
}

#[test]
fn user_group_and_supplementary_groups() {
    let out = inside(|c| c["process"]["user"] = json!({"uid": 1000, "gid": 1001, "additionalGids": [10, 20]}), "cat /proc/self/status");
    let status = status_fields(&out);
    assert_eq!(status["Uid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
    assert_eq!(status["Gid"].split_whitespace().collect::<Vec<_>>(), ["1001"; 4]);
    assert_eq!(status["Groups"], "10 20");
    // exec as a non-root user keeps only ambient capabilities (none here, as with runc);
    // the bounding set still limits what it could ever gain
    assert_eq!(status["CapEff"], "0000000000000000");
    assert_eq!(status["CapPrm"], "0000000000000000");
    assert_eq!(status["CapBnd"], "0000000020000420");
}

#[test]
fn hostname_cwd_env_and_pid_one() {
    let out = inside(
        |c| {
            c["hostname"] = json!("skiff-test");
            c["process"]["cwd"] = json!("/work/dir");
            c["process"]["env"] = json!(["PATH=/bin", "FOO=bar baz"]);
        },
        "hostname; pwd; echo $$; tr '\\0' '\\n' < /proc/1/environ || echo tr failed $?",
    );
    let lines: Vec<&str> = out.lines().collect();
    // HOME comes from the rootfs's /etc/passwd when the config has none, as with runc
    assert_eq!(lines, ["skiff-test", "/work/dir", "1", "PATH=/bin", "FOO=bar baz", "HOME=/root"]);
}

#[test]
fn only_stdio_crosses_into_the_container() {
    let out = inside(|_| {}, "exec ls -1 /proc/self/fd");
    // 3 is ls's own handle on the directory it lists
    assert_eq!(out.lines().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
}

#[test]
fn namespaces_are_new() {
    let script = "for ns in pid net ipc uts mnt cgroup user; do readlink /proc/self/ns/$ns; done";
    let out = inside(|_| {}, script);
    let inside: Vec<&str> = out.lines().collect();
    for (index, ns) in ["pid", "net", "ipc", "uts", "mnt", "cgroup", "user"].iter().enumerate() {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        let same = inside[index] == host.to_str().unwrap();
        // the default spec creates pid, network, ipc, uts and mount namespaces only
        assert_eq!(same, matches!(*ns, "cgroup" | "user"), "{ns}: inside {} host {}", inside[index], host.display());
    }
}

#[test]
fn cgroup_namespace_when_asked() {
    let out = inside(|c| c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "cgroup"})), "readlink /proc/self/ns/cgroup");
    let host = std::fs::read_link("/proc/self/ns/cgroup").unwrap();
    assert!(out.starts_with("cgroup:["), "{out}");
    assert_ne!(out.trim(), host.to_str().unwrap());
}

#[test]
fn joins_namespaces_by_path() {
    let first = TestBundle::new(&["sleep", "1000"]);
    let first_id = unique_id("ns-owner");
    assert_eq!(first.skiff(&["run", "-d", "--bundle", first.path().to_str().unwrap(), &first_id]).code, 0);
    let pid = first.state(&first_id)["pid"].as_i64().unwrap();
    let owner_ns = |ns: &str| std::fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap().to_str().unwrap().to_string();
    let out = inside(
        |c| {
            c["linux"]["namespaces"] = json!([
                {"type": "pid", "path": format!("/proc/{pid}/ns/pid")},
                {"type": "network", "path": format!("/proc/{pid}/ns/net")},
                {"type": "ipc", "path": format!("/proc/{pid}/ns/ipc")},
                {"type": "uts", "path": format!("/proc/{pid}/ns/uts")},
                {"type": "mount"}
            ]);
            c["hostname"] = json!(null);
        },
        "readlink /proc/self/ns/pid; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; echo $$",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..4], [owner_ns("pid"), owner_ns("net"), owner_ns("ipc"), owner_ns("uts")]);
    assert_ne!(lines[4], "1", "a joined pid namespace already has its init");
    assert_eq!(first.skiff(&["delete", "-f", &first_id]).code, 0);
    first.assert_nothing_left(&first_id);
}

#[test]
fn mounts_follow_the_config() {
    let out = inside(|_| {}, "cat /proc/self/mountinfo");
    let mounts: BTreeMap<&str, (&str, &str)> = out
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let fs_type = after.split(' ').next()?;
            Some((fields[4], (fields[5], fs_type)))
        })
        .collect();
    let expect = [
        ("/", "ro", None),
        ("/proc", "rw", Some("proc")),
        ("/dev", "rw,nosuid", Some("tmpfs")),
        ("/dev/pts", "rw,nosuid,noexec", Some("devpts")),
        ("/dev/shm", "rw,nosuid,nodev,noexec", Some("tmpfs")),
        ("/dev/mqueue", "rw,nosuid,nodev,noexec", Some("mqueue")),
        ("/sys", "ro,nosuid,nodev,noexec", Some("sysfs")),
        ("/sys/fs/cgroup", "ro,nosuid,nodev,noexec", Some("tmpfs")),
        ("/proc/sys", "ro", Some("proc")),
        ("/proc/keys", "rw,nosuid", Some("tmpfs")),
        ("/sys/firmware", "ro", Some("tmpfs")),
    ];
    for (point, flags, fs_type) in expect {
        let (options, found_type) = mounts.get(point).unwrap_or_else(|| panic!("{point} is not mounted:\n{out}"));
        assert!(options.starts_with(flags), "{point}: options {options}, expected {flags}");
        if let Some(fs_type) = fs_type {
            assert_eq!(found_type, &fs_type, "{point}");
        }
    }
    assert!(mounts.keys().any(|p| p.starts_with("/sys/fs/cgroup/")), "cgroup hierarchies are bound in");
}

#[test]
fn bind_mounts_with_options() {
    let host_dir = tempfile::tempdir().unwrap();
    std::fs::write(host_dir.path().join("hello"), "from the host\n").unwrap();
    let source = host_dir.path().to_str().unwrap().to_string();
    let out = inside(
        |c| {
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/data/ro", "type": "bind", "source": source, "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]
            }));
            c["mounts"].as_array_mut().unwrap().push(json!({
                "destination": "/data/rw", "type": "bind", "source": source, "options": ["bind"]
            }));
        },
        "cat /data/ro/hello; touch /data/ro/x 2>/dev/null && echo ro-writable; touch /data/rw/y && echo rw-ok; grep ' /data/ro ' /proc/self/mountinfo | cut -d' ' -f6",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["from the host", "rw-ok", "ro,nosuid,nodev,noexec,relatime"]);
    assert!(host_dir.path().join("y").exists());
}

#[test]
fn read_only_root_can_be_turned_off() {
    let out = inside(|_| {}, "touch /x 2>/dev/null && echo writable || echo read-only");
    assert_eq!(out, "read-only\n");
    let out = inside(|c| c["root"]["readonly"] = json!(false), "touch /x && echo writable");
    assert_eq!(out, "writable\n");
}

#[test]
fn default_devices_and_links() {
    let out = inside(|_| {}, "for d in null zero full random urandom tty; do stat -c '%F %t:%T %a %u:%g %n' /dev/$d; done");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "character special file 1:3 666 0:0 /dev/null",
            "character special file 1:5 666 0:0 /dev/zero",
            "character special file 1:7 666 0:0 /dev/full",
            "character special file 1:8 666 0:0 /dev/random",
            "character special file 1:9 666 0:0 /dev/urandom",
            "character special file 5:0 666 0:0 /dev/tty",
        ]
    );
    let out = inside(|_| {}, "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2", "pts/ptmx"]);
}

#[test]
fn rlimits_are_applied() {
    let out = inside(
        |c| {
            c["process"]["rlimits"] = json!([
                {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024},
                {"type": "RLIMIT_NPROC", "soft": 100, "hard": 200}
            ]);
        },
        "grep -E 'open files|processes' /proc/self/limits | awk '{print $(NF-2), $(NF-1)}'",
    );
    // /proc/self/limits lists "Max processes" before "Max open files"
    assert_eq!(out.lines().collect::<Vec<_>>(), ["100 200", "512 1024"], "{out}");
}

#[test]
fn no_pivot_moves_the_root() {
    let bundle = TestBundle::new(&["sh", "-c", "ls /bin/busybox && cat /proc/self/mountinfo | head -1"]);
    let id = unique_id("nopivot");
    let out = bundle.skiff(&["run", "--no-pivot", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("/bin/busybox\n"), "{}", out.stdout);
    bundle.assert_nothing_left(&id);
}

#[test]
fn no_pivot_does_not_expose_a_bare_proc() {
    // runc's "must not expose bare /proc": after a chroot the host's /proc would still be
    // in the mount namespace, and the kernel would let a user namespace mount a proc of its
    // own, without the masked paths.
    let mut bundle = TestBundle::new(&["unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo mounted"]);
    for set in ["bounding", "permitted", "effective"] {
        bundle.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_SETFCAP"));
    }
    bundle.write_config();
    let id = unique_id("nopivot-proc");
    let out = bundle.skiff(&["run", "--no-pivot", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "proc was mounted: {} {}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("mounted") && out.stderr.contains("mount: permission denied"), "{} {}", out.stdout, out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn preserved_fds_reach_the_container() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let bundle = TestBundle::new(&["sh", "-c", "cat <&3; ls /proc/self/fd | grep -c ."]);
    let id = unique_id("fds");
    let passed = bundle.dir.path().join("passed");
    std::fs::write(&passed, "through fd 3\n").unwrap();
    let file = std::fs::File::open(&passed).unwrap();
    let raw = file.as_raw_fd();
    let out_path = bundle.dir.path().join("out");
    let root = bundle.state_root();
    let mut command = std::process::Command::new(SKIFF);
    command
        .args(["--root", root.to_str().unwrap(), "run", "--preserve-fds", "1", "--bundle", bundle.path().to_str().unwrap(), &id])
        .stdout(std::fs::File::create(&out_path).unwrap());
    // SAFETY: dup and dup2 are async-signal-safe; they only place the file at fd 3 of the
    // child without close-on-exec (a plain dup2(3, 3) would keep the flag).
    unsafe {
        command.pre_exec(move || {
            let copy = libc::dup(raw);
            if copy < 0 || (copy != 3 && libc::dup2(copy, 3) < 0) {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = command.status().unwrap();
    assert_eq!(status.code(), Some(0));
    let out = std::fs::read_to_string(&out_path).unwrap();
    // cat read fd 3; ls saw 0, 1, 2, 3 and its own directory handle
    assert_eq!(out, "through fd 3\n5\n");
    bundle.assert_nothing_left(&id);
}
