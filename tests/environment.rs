//! The container environment beyond the basics: mount attributes, devices, user and time
//! namespaces, sysctl, OOM score, personality, scheduler, I/O priority, umask, domain name,
//! keyrings, socket activation, users without a passwd entry.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// Unmounts (lazily) the mount at its path when dropped: a host mount a test made.
struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A running container with a user namespace of its own (0 -> host 100000, 65536 ids), for
/// others to join by path: the bundle, its id and its init's pid.
fn user_namespace_owner(prefix: &str) -> (TestBundle, String, i64) {
    let mut owner = TestBundle::new(&["sleep", "1000"]);
    owner.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    owner.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    owner.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    owner.write_config();
    let owner_id = unique_id(prefix);
    assert_eq!(owner.skiff(&["run", "-d", "--bundle", owner.path().to_str().unwrap(), &owner_id]).code, 0);
    let pid = owner.state(&owner_id)["pid"].as_i64().unwrap();
    (owner, owner_id, pid)
}

/// sysfs belongs to the network namespace: in one the container's user namespace does not
/// own, bind the host's `/sys` instead (as rootless configs do), and leave out the cgroup mount.
fn bind_host_sys(c: &mut Value) {
    for mount in c["mounts"].as_array_mut().unwrap() {
        if mount["destination"] == "/sys" {
            *mount = json!({"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]});
        }
    }
    c["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/sys/fs/cgroup");
}

fn push_mount(config: &mut Value, mount: Value) {
    config["mounts"].as_array_mut().unwrap().push(mount);
}

#[test]
fn recursive_read_only_and_nosymfollow() {
    // a host directory with a submount: `rro` must reach the submount too, `ro` does not
    let host = tempfile::tempdir().unwrap();
    let sub = host.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    nix::mount::mount(Some("tmpfs"), &sub, Some("tmpfs"), nix::mount::MsFlags::empty(), Some("size=1m")).unwrap();
    let _unmount = Unmount(&sub);
    let source = host.path().to_str().unwrap().to_string();
    let out = inside(
        |c| {
            push_mount(c, json!({"destination": "/rro", "type": "bind", "source": source, "options": ["rbind", "rro"]}));
            push_mount(c, json!({"destination": "/ro", "type": "bind", "source": source, "options": ["rbind", "ro"]}));
            push_mount(c, json!({"destination": "/nosym", "type": "tmpfs", "source": "tmpfs", "options": ["nosymfollow"]}));
        },
        "for d in /rro/sub /ro/sub; do touch $d/x 2>/dev/null && echo $d writable || echo $d read-only; done; grep ' /nosym ' /proc/self/mountinfo | cut -d' ' -f6",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["/rro/sub read-only", "/ro/sub writable", "rw,relatime,nosymfollow"]);
}

/// A filesystem whose options change it after the mount (`rro`, a propagation) gets them on
/// the mount just made (found again and proven, not merely looked up), and a bind's options
/// are set on it before it is attached: `ro,nosuid,noexec` on a bind; a bind naming flags
/// gets just those, one naming none keeps the source's.
#[test]
fn options_after_a_mount_reach_that_mount() {
    let host = tempfile::tempdir().unwrap();
    let source = host.path().to_str().unwrap().to_string();
    let read_only = tempfile::tempdir().unwrap();
    nix::mount::mount(Some("tmpfs"), read_only.path(), Some("tmpfs"), nix::mount::MsFlags::MS_RDONLY | nix::mount::MsFlags::MS_NOSUID, Some("size=1m"))
        .unwrap();
    let _unmount = Unmount(read_only.path());
    let read_only_source = read_only.path().to_str().unwrap().to_string();
    let out = inside(
        |c| {
            push_mount(c, json!({"destination": "/t-shared", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]}));
            push_mount(c, json!({"destination": "/t-rro", "type": "tmpfs", "source": "tmpfs", "options": ["rro", "rprivate"]}));
            push_mount(c, json!({"destination": "/b", "type": "bind", "source": source, "options": ["rbind", "ro", "nosuid", "noexec", "rshared"]}));
            push_mount(c, json!({"destination": "/b-again", "type": "bind", "source": read_only_source, "options": ["bind", "nodev"]}));
            push_mount(c, json!({"destination": "/b-plain", "type": "bind", "source": read_only_source, "options": ["bind"]}));
        },
        "for d in /t-shared /t-rro /b /b-again /b-plain; do awk -v d=$d '$5 == d { for (i = 6; $i != \"-\"; i++) printf \"%s \", $i; print \"\" }' /proc/self/mountinfo; done; \
         touch /t-rro/x 2>/dev/null || echo t-rro read-only",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].starts_with("rw,") && lines[0].contains("shared:"), "rshared on a tmpfs: {}", lines[0]);
    assert!(lines[1].starts_with("ro,") && !lines[1].contains("shared:"), "rro on a tmpfs: {}", lines[1]);
    assert!(lines[2].starts_with("ro,nosuid,") && lines[2].contains("noexec") && lines[2].contains("shared:"), "a bind's options: {}", lines[2]);
    // runc 1.5: a bind that names a flag gets exactly what it names (rw, suid here), one
    // that names none keeps the source's (mounts_sshfs.bats)
    assert!(lines[3].starts_with("rw,nodev,") && !lines[3].contains("nosuid"), "a bind with options gets just those: {}", lines[3]);
    assert!(lines[4].starts_with("ro,nosuid,"), "a plain bind keeps the source's flags: {}", lines[4]);
    assert_eq!(lines[5], "t-rro read-only");
}

/// runc brings `lo` up in a network namespace it makes: a pod's sidecar reaches its
/// neighbour over 127.0.0.1 with `--network none`.
#[test]
fn loopback_is_up_in_a_new_network_namespace() {
    let out = inside(|_| {}, "cat /sys/class/net/lo/flags; ip -o -4 addr show lo | grep -o 'inet [0-9./]*'");
    assert_eq!(out, "0x9\ninet 127.0.0.1/8\n", "lo must be UP|LOOPBACK, with its address");
}

/// runc gives stdio to the process's user (not /dev/null): a non-root process can reopen
/// `/dev/stdout` and `/dev/stderr`, as images that log there expect.
#[test]
fn stdio_belongs_to_the_process_user() {
    let out = inside(
        |c| c["process"]["user"] = json!({"uid": 1000, "gid": 1000}),
        // Every write reopens the file (appending), as a program logging to /dev/stdout does.
        "stat -L -c %u:%g /proc/self/fd/1 >> /dev/stdout && echo err >> /dev/stderr && stat -L -c %u /proc/self/fd/2 >> /dev/stdout",
    );
    assert_eq!(out, "1000:0\n1000\n", "only the owner changes");
}

/// `tmpcopyup` (podman puts it on every tmpfs: `--tmpfs`, `--read-only`'s /run, /tmp and
/// /var/tmp, systemd containers) is runc's, not the kernel's: the tmpfs starts as a copy of
/// the directory it covers, owners, modes, links and nodes included.
#[test]
fn tmpcopyup_copies_what_the_tmpfs_covers() {
    let mut bundle = TestBundle::new(&[
        "sh",
        "-c",
        "cd /data && find . | sort | while read p; do stat -c '%n %F %a %u:%g' \"$p\"; done; readlink link; cat sub/file; echo new > new && echo writable; ls /empty | wc -l; cat /rocopy/f; touch /rocopy/x 2>/dev/null && echo wrote || echo read-only; stat -c '%n %a' /kept /fresh /given",
    ]);
    let data = bundle.rootfs().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("sub/file"), "image content\n").unwrap();
    std::fs::set_permissions(data.join("sub/file"), std::os::unix::fs::PermissionsExt::from_mode(0o604)).unwrap();
    std::os::unix::fs::chown(data.join("sub/file"), Some(1000), Some(1001)).unwrap();
    // The container's root has no CAP_DAC_OVERRIDE: what it lists must be readable by others.
    std::fs::set_permissions(data.join("sub"), std::os::unix::fs::PermissionsExt::from_mode(0o2755)).unwrap();
    std::os::unix::fs::chown(data.join("sub"), Some(1000), Some(1001)).unwrap();
    std::os::unix::fs::symlink("sub/file", data.join("link")).unwrap();
    nix::unistd::mkfifo(&data.join("fifo"), nix::sys::stat::Mode::empty()).unwrap();
    std::fs::set_permissions(data.join("fifo"), std::os::unix::fs::PermissionsExt::from_mode(0o620)).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    std::fs::create_dir_all(bundle.rootfs().join("empty")).unwrap();
    std::fs::write(bundle.rootfs().join("empty/hidden"), "").unwrap();
    std::fs::create_dir_all(bundle.rootfs().join("rocopy")).unwrap();
    std::fs::write(bundle.rootfs().join("rocopy/f"), "copied before ro\n").unwrap();
    // any tmpfs over a directory of the image starts with its mode, unless the config gives
    // one; over a directory made for it, the kernel's 1777 (runc)
    for dir in ["kept", "given"] {
        std::fs::create_dir_all(bundle.rootfs().join(dir)).unwrap();
        std::fs::set_permissions(bundle.rootfs().join(dir), std::os::unix::fs::PermissionsExt::from_mode(0o2750)).unwrap();
    }
    bundle.config["root"]["readonly"] = json!(true);
    push_mount(&mut bundle.config, json!({"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "nosuid", "nodev", "tmpcopyup"]}));
    push_mount(&mut bundle.config, json!({"destination": "/empty", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "notmpcopyup"]}));
    // read-only: copied into first, then made read-only
    push_mount(&mut bundle.config, json!({"destination": "/rocopy", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "tmpcopyup"]}));
    push_mount(&mut bundle.config, json!({"destination": "/kept", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}));
    push_mount(&mut bundle.config, json!({"destination": "/fresh", "type": "tmpfs", "source": "tmpfs"}));
    push_mount(&mut bundle.config, json!({"destination": "/given", "type": "tmpfs", "source": "tmpfs", "options": ["mode=700"]}));
    bundle.write_config();
    let id = unique_id("copyup");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            ". directory 1777 0:0",
            "./fifo fifo 620 0:0",
            "./link symbolic link 777 0:0",
            "./sub directory 2755 1000:1001",
            "./sub/file regular file 604 1000:1001",
            "sub/file",
            "image content",
            "writable",
            "0",
            "copied before ro",
            "read-only",
            "/kept 2750",
            "/fresh 1777",
            "/given 700",
        ]
    );
    assert!(!data.join("new").exists(), "the write went to the image, not the tmpfs");
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_read_only_dev_and_tmpfs_still_get_what_is_mounted_under_them() {
    // runc's "[ro /dev mount]": /dev/pts, /dev/shm and /dev/mqueue, the device nodes and a
    // bind under a read-only /run are made first; the tmpfs mounts turn read-only after.
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "bound\n").unwrap();
    let out = inside(
        |c| {
            for mount in c["mounts"].as_array_mut().unwrap() {
                if mount["destination"] == "/dev" {
                    mount["options"].as_array_mut().unwrap().push(json!("ro"));
                }
            }
            push_mount(c, json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nosuid"]}));
            push_mount(c, json!({"destination": "/run/data", "source": host.path(), "options": ["bind"]}));
        },
        "grep -E ' /(dev|run)( |/)' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; cat /run/data/file; \
         echo x > /dev/null && echo null-works; touch /dev/new 2>&1; touch /run/new 2>&1; true",
    );
    let lines: Vec<&str> = out.lines().collect();
    for expected in ["/dev ro", "/dev/pts rw", "/dev/shm rw", "/dev/mqueue rw", "/run ro", "/run/data rw", "bound", "null-works"] {
        assert!(lines.contains(&expected), "{expected:?} missing: {out}");
    }
    assert!(out.contains("touch: /dev/new: Read-only file system") && out.contains("touch: /run/new: Read-only file system"), "{out}");
}

#[test]
fn linux_devices_are_created_as_asked() {
    let out = inside(
        |c| {
            c["linux"]["devices"] = json!([
                {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 384, "uid": 1000, "gid": 1001},
                {"path": "/dev/sub/fifo", "type": "p", "fileMode": 432}
            ]);
        },
        "stat -c '%F %t:%T %a %u:%g' /dev/mynull /dev/sub/fifo",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["character special file 1:3 600 1000:1001", "fifo 0:0 660 0:0"]);
}

#[test]
fn user_namespace_maps_root() {
    let out = inside(
        |c| {
            c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        },
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %F /dev/null; stat -c %u:%g /dev/mqueue",
    );
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["0", "100000", "65536"]);
    assert_eq!(lines[1], ["0", "100000", "65536"]);
    assert_eq!(lines[2], ["0"]);
    assert_eq!(lines[3], ["character", "special", "file"], "devices are bound from the host in a user namespace");
    // As under runc: the ipc namespace is made by the container's root, so its mqueue is
    // root's, not the overflow id's.
    assert_eq!(lines[4], ["0:0"], "/dev/mqueue owner");
}

#[test]
fn bind_sources_only_host_root_may_reach_are_bound_in_a_user_namespace() {
    // runc's "userns with 2 inaccessible mounts" (and + exec): the sources sit in 0700
    // directories of host root's; the container's root is host uid 100000. One source is
    // bundle-relative, one absolute, one behind an absolute symlink.
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    let private = tempfile::tempdir().unwrap();
    for (parent, name) in [(bundle.path(), "inaccessible-1"), (private.path().to_path_buf(), "inaccessible-2")] {
        std::fs::create_dir_all(parent.join(name).join("dir")).unwrap();
        std::fs::write(parent.join(name).join("dir/foo.txt"), format!("{name}\n")).unwrap();
        std::fs::set_permissions(parent.join(name), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    }
    std::os::unix::fs::symlink(private.path().join("inaccessible-2/dir"), private.path().join("link")).unwrap();
    // (the image's mount points: the container's root may not write the host-owned /tmp)
    for n in 1..=3 {
        std::fs::create_dir_all(bundle.rootfs().join(format!("tmp/mount-{n}"))).unwrap();
    }
    let c = &mut bundle.config;
    c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    push_mount(c, json!({"destination": "/tmp/mount-1", "source": "inaccessible-1/dir", "options": ["bind"]}));
    push_mount(c, json!({"destination": "/tmp/mount-2", "source": private.path().join("inaccessible-2/dir"), "options": ["rbind", "ro"]}));
    push_mount(c, json!({"destination": "/tmp/mount-3", "source": private.path().join("link"), "options": ["bind"]}));
    bundle.write_config();
    let id = unique_id("userns-private");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = bundle.skiff(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cat /tmp/mount-1/foo.txt /tmp/mount-2/foo.txt /tmp/mount-3/foo.txt; grep -E ' /tmp/mount-[0-9] ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "inaccessible-1\ninaccessible-2\ninaccessible-2\n/tmp/mount-1 rw\n/tmp/mount-2 ro\n/tmp/mount-3 rw\n");
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn time_namespace_offsets() {
    let out = inside(
        |c| {
            c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
            c["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 864000}, "boottime": {"secs": 864000, "nanosecs": 0}});
        },
        "cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["monotonic", "864000", "0"]);
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["boottime", "864000", "0"]);
    let uptime: u64 = lines[2].parse().unwrap();
    assert!(uptime >= 864000, "uptime {uptime} includes the boottime offset");
}

#[test]
fn sysctl_oom_score_personality_umask_domainname() {
    let out = inside(
        |c| {
            c["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"});
            c["process"]["oomScoreAdj"] = json!(500);
            c["linux"]["personality"] = json!({"domain": "LINUX32"});
            c["process"]["user"]["umask"] = json!(0o077);
            c["domainname"] = json!("example.org");
        },
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/self/oom_score_adj; uname -m; umask; cat /proc/sys/kernel/domainname",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["1", "123456789", "500", "i686", "0077", "example.org"]);
    // the default umask is runc's 0022
    assert_eq!(inside(|_| {}, "umask"), "0022\n");
}

#[test]
fn scheduler_and_io_priority() {
    let out = inside(
        |c| {
            c["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 5});
            c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0});
        },
        // stat fields 19 (nice) and 41 (policy; SCHED_BATCH is 3)
        "cut -d')' -f2 /proc/self/stat | awk '{print $17, $39}'; ionice -p $$",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "5 3");
    assert!(lines[1].starts_with("idle"), "{out}");
}

#[test]
fn session_keyring_per_container_unless_no_new_keyring() {
    for no_new_keyring in [false, true] {
        let mut bundle = TestBundle::new(&["cat", "/proc/keys"]);
        // /proc/keys is masked by the default spec; unmask it to look
        bundle.config["linux"]["maskedPaths"] = json!([]);
        bundle.write_config();
        let id = unique_id("keyring");
        let mut args = vec!["run"];
        if no_new_keyring {
            args.push("--no-new-keyring");
        }
        let bundle_path = bundle.path();
        args.extend(["--bundle", bundle_path.to_str().unwrap(), &id]);
        let out = bundle.skiff(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let has_own = out.stdout.contains(&format!("_ses.{id}"));
        assert_eq!(has_own, !no_new_keyring, "--no-new-keyring={no_new_keyring}: {}", out.stdout);
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn socket_activation_fds_and_environment() {
    let bundle = TestBundle::new(&["sh", "-c", "cat <&3; echo $LISTEN_FDS $LISTEN_PID"]);
    let id = unique_id("listen");
    let passed = bundle.dir.path().join("socket-stand-in");
    std::fs::write(&passed, "activated\n").unwrap();
    let root = bundle.state_root();
    // LISTEN_PID must be skiff's own pid: the shell's $$ before it execs skiff
    let script =
        format!("LISTEN_PID=$$ LISTEN_FDS=1 exec {} --root {} run --bundle {} {} 3<{}", SKIFF, root.display(), bundle.path().display(), id, passed.display());
    let out = run_program("/bin/sh", &["-c", &script], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "activated\n1 1\n");
    bundle.assert_nothing_left(&id);
}

#[test]
fn user_without_passwd_entry() {
    let out = inside(|c| c["process"]["user"] = json!({"uid": 4242, "gid": 4242}), "id -u; id -g; echo $HOME");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["4242", "4242", "/"]);
}

#[test]
fn each_variable_once_and_an_empty_home_is_the_users() {
    // runc 1.5's env.bats: the last occurrence of a variable wins, once; an empty HOME is
    // replaced by the user's home from the image's /etc/passwd; exec gets the same.
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["process"]["env"] = json!(["ONE=two", "HOME=/override", "ONE=three", "HOME=", "PATH=/bin", "TWO="]);
    bundle.write_config();
    let id = unique_id("env-once");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let init = bundle.skiff(&["exec", &id, "sh", "-c", "tr '\\0' '\\n' < /proc/1/environ"]);
    let exec = bundle.skiff(&["exec", "--env", "TWO=2", &id, "env"]);
    assert_eq!(bundle.skiff(&["delete", "--force", &id]).code, 0);
    assert_eq!(init.stdout.lines().collect::<Vec<_>>(), ["ONE=three", "PATH=/bin", "TWO=", "HOME=/root"], "{}", init.stderr);
    let mut exec_env: Vec<&str> = exec.stdout.lines().collect();
    exec_env.sort();
    assert_eq!(exec_env, ["HOME=/root", "ONE=three", "PATH=/bin", "TWO=2"], "{}", exec.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn host_environment_is_not_inherited() {
    // (`tr < /proc/1/environ` alone would let sh exec tr after opening the file, and the
    // environment of the pre-exec process reads empty)
    let bundle = TestBundle::new(&["sh", "-c", "cat /proc/1/environ | tr '\\0' '\\n'"]);
    let id = unique_id("env");
    let root = bundle.state_root();
    let out = run_program(
        "/usr/bin/env",
        &["SKIFF_SECRET=leak", SKIFF, "--root", root.to_str().unwrap(), "run", "--bundle", bundle.path().to_str().unwrap(), &id],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("SKIFF_SECRET"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "HOME=/root"]);
    bundle.assert_nothing_left(&id);
}

#[test]
fn refused_environment_settings() {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"linux": {"sysctl": {"kernel.pid_max": "100000"}}}), "linux.sysctl: kernel.pid_max is not in a separate kernel namespace"),
        (
            json!({"linux": {"sysctl": {"kernel.domainname": "x"}, "namespaces": [{"type": "mount"}, {"type": "pid"}]}, "hostname": null}),
            "linux.sysctl: kernel.domainname needs a uts namespace",
        ),
        (json!({"linux": {"timeOffsets": {"monotonic": {"secs": 1}}}}), "linux.timeOffsets: needs a new time namespace: add"),
        (json!({"process": {"oomScoreAdj": 5000}}), "process.oomScoreAdj"),
        (json!({"domainname": "x", "hostname": null, "linux": {"namespaces": [{"type": "mount"}]}}), "domainname: cannot set a domain name"),
    ];
    for (patch, expected) in cases {
        assert_create_refused(&patch, expected);
    }
}

#[test]
fn idmapped_bind_mount() {
    // a root-owned host file seen through a mount whose ids are mapped 0 -> 1000
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "x").unwrap();
    let source = host.path().to_str().unwrap().to_string();
    let out = inside(
        |c| {
            push_mount(
                c,
                json!({"destination": "/mapped", "type": "bind", "source": source, "options": ["bind", "idmap"],
                       "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                       "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 1}]}),
            );
            push_mount(c, json!({"destination": "/plain", "type": "bind", "source": source, "options": ["bind"]}));
        },
        "stat -c '%u:%g' /mapped/file /plain/file",
    );
    assert_eq!(out.lines().collect::<Vec<_>>(), ["1000:2000", "0:0"]);
    assert_eq!(std::fs::metadata(host.path().join("file")).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap(), 0, "the host file is untouched");
}

#[test]
fn idmap_on_a_non_bind_mount_is_refused() {
    let mut bundle = TestBundle::new(&["true"]);
    push_mount(
        &mut bundle.config,
        json!({"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}], "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}),
    );
    bundle.write_config();
    let id = unique_id("idmapbad");
    let out = bundle.skiff(&["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("only bind mounts can be idmapped"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn rootfs_propagation_shared_and_private() {
    for (propagation, expect_shared) in [("rshared", true), ("rprivate", false), ("rslave", false), ("runbindable", false), ("unbindable", false)] {
        let out = inside(
            |c| c["linux"]["rootfsPropagation"] = json!(propagation),
            "awk '$5 == \"/\" { for (i = 7; $i != \"-\"; i++) printf \"%s \", $i; print \"end\" }' /proc/self/mountinfo",
        );
        assert_eq!(out.contains("shared:"), expect_shared, "{propagation}: {out}");
        assert_eq!(out.contains("unbindable"), propagation.contains("unbindable"), "{propagation}: {out}");
    }
}

#[test]
fn what_the_host_cannot_do_is_an_error() {
    let cases: Vec<(Value, &str)> = vec![
        // this host's bounding set lacks CAP_SYS_RESOURCE: the OOM score cannot be lowered
        (json!({"process": {"oomScoreAdj": -500}}), "oom_score_adj"),
        (json!({"linux": {"sysctl": {"net.ipv4.no_such_sysctl": "1"}}}), "/proc/sys/net/ipv4/no_such_sysctl"),
        (json!({"linux": {"sysctl": {"net.ipv4.ip_forward": "not-a-number"}}}), "to /proc/sys/net/ipv4/ip_forward"),
        (json!({"process": {"scheduler": {"policy": "SCHED_DEADLINE", "runtime": 1, "deadline": 1, "period": 1}}}), "sched_setattr"),
    ];
    for (patch, expected) in cases {
        assert_create_refused(&patch, expected);
    }
}

#[test]
fn joined_user_namespace_owns_the_new_namespaces() {
    // A pod-like pair: the first container makes the user namespace, the second joins it by
    // path and creates its own mount, uts, ipc, network and pid namespaces inside it.
    let (owner, owner_id, pid) = user_namespace_owner("userns-owner");
    let owner_userns = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    let out = inside(
        |c| {
            c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user", "path": format!("/proc/{pid}/ns/user")}));
        },
        "readlink /proc/self/ns/user; cat /proc/self/uid_map | tr -s ' '; hostname; ls /dev/null; echo $$",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], owner_userns.to_str().unwrap());
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert_eq!(lines[2..], ["runc", "/dev/null", "1"], "pid 1 of a new pid namespace inside the joined user namespace");
    assert_eq!(owner.skiff(&["delete", "-f", &owner_id]).code, 0);
    owner.assert_nothing_left(&owner_id);
}

/// Joining a user namespace by path and a network namespace it does not own (the host's
/// owns it): the network namespace is joined first, while init still has the host's
/// privilege, as runc's nsexec orders them (runc 1.5's userns.bats "[wrong userns owner]").
#[test]
fn joined_user_namespace_with_a_network_namespace_it_does_not_own() {
    let (owner, owner_id, user_pid) = user_namespace_owner("userns-owner2");
    let peer = TestBundle::new(&["sleep", "1000"]);
    let peer_id = unique_id("netns-peer");
    assert_eq!(peer.skiff(&["run", "-d", "--bundle", peer.path().to_str().unwrap(), &peer_id]).code, 0);
    let net_pid = peer.state(&peer_id)["pid"].as_i64().unwrap();
    let peer_net = std::fs::read_link(format!("/proc/{net_pid}/ns/net")).unwrap();
    let out = inside(
        |c| {
            let namespaces = c["linux"]["namespaces"].as_array_mut().unwrap();
            namespaces.retain(|ns| ns["type"] != "network");
            namespaces.push(json!({"type": "network", "path": format!("/proc/{net_pid}/ns/net")}));
            namespaces.push(json!({"type": "user", "path": format!("/proc/{user_pid}/ns/user")}));
            bind_host_sys(c);
        },
        "readlink /proc/self/ns/net; cat /proc/self/uid_map | tr -s ' '",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], peer_net.to_str().unwrap());
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    for (bundle, id) in [(&owner, &owner_id), (&peer, &peer_id)] {
        assert_eq!(bundle.skiff(&["delete", "-f", id]).code, 0);
        bundle.assert_nothing_left(id);
    }
}

#[test]
fn new_user_namespace_while_joining_a_host_owned_one() {
    // The reverse of the pod case: the container makes its own user namespace but joins
    // another container's network namespace (owned by the host's user namespace).
    let peer = TestBundle::new(&["sleep", "1000"]);
    let peer_id = unique_id("netns-owner");
    assert_eq!(peer.skiff(&["run", "-d", "--bundle", peer.path().to_str().unwrap(), &peer_id]).code, 0);
    let pid = peer.state(&peer_id)["pid"].as_i64().unwrap();
    let peer_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let out = inside(
        |c| {
            let namespaces = c["linux"]["namespaces"].as_array_mut().unwrap();
            namespaces.retain(|ns| ns["type"] != "network");
            namespaces.push(json!({"type": "network", "path": format!("/proc/{pid}/ns/net")}));
            namespaces.push(json!({"type": "user"}));
            c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            bind_host_sys(c);
        },
        "readlink /proc/self/ns/net; cat /proc/self/uid_map | tr -s ' '; echo $$",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], peer_net.to_str().unwrap());
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert_eq!(lines[2], "1");
    assert_eq!(peer.skiff(&["delete", "-f", &peer_id]).code, 0);
    peer.assert_nothing_left(&peer_id);
}

#[test]
fn a_bidirectional_volume_carries_mounts_made_inside_to_the_host() {
    // Kubernetes' mountPropagation: Bidirectional, as containerd's CRI plugin asks for it:
    // rootfsPropagation rshared and an rbind,rshared bind of a shared host path. A mount the
    // container makes under the volume must appear on the host (CSI node plugins need it).
    let mut bundle = TestBundle::new(&["sh", "-c", "mount -t tmpfs made-inside /vol/sub && echo mounted && sleep 1000"]);
    let volume = bundle.dir.path().join("volume");
    std::fs::create_dir_all(volume.join("sub")).unwrap();
    let volume_str = volume.to_str().unwrap().to_string();
    let host_mount = |args: &[&str]| assert!(std::process::Command::new("mount").args(args).status().unwrap().success(), "mount {args:?}");
    host_mount(&["--bind", &volume_str, &volume_str]);
    host_mount(&["--make-shared", &volume_str]);
    bundle.config["linux"]["rootfsPropagation"] = json!("rshared");
    for set in ["bounding", "permitted", "effective"] {
        bundle.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_SYS_ADMIN"));
    }
    push_mount(&mut bundle.config, json!({"destination": "/vol", "type": "bind", "source": volume_str, "options": ["rbind", "rshared"]}));
    bundle.write_config();
    let id = unique_id("bidirectional");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    let sub = volume.join("sub");
    let seen = (0..100).find_map(|_| {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let line = mountinfo.lines().find(|l| l.split(' ').nth(4) == Some(sub.to_str().unwrap()) && l.contains(" made-inside ")).map(str::to_string);
        if line.is_none() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        line
    });
    let _ = bundle.skiff(&["delete", "-f", &id]);
    let _ = std::process::Command::new("umount").args(["-R", &volume_str]).status();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(seen.is_some(), "the tmpfs mounted inside at /vol/sub never appeared at {} on the host", sub.display());
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_shared_rootfs_mount_point_pivots_under_rshared_propagation() {
    // An engine's rootfs is a mount of its own (containerd's overlay), shared on a systemd
    // host. With rootfsPropagation rshared applied first, that mount must be made private
    // before the rootfs is bound onto itself, or pivot_root refuses (EINVAL), as runc does.
    let mut bundle = TestBundle::new(&["true"]);
    let rootfs = bundle.rootfs();
    let rootfs_str = rootfs.to_str().unwrap().to_string();
    let host_mount = |args: &[&str]| assert!(std::process::Command::new("mount").args(args).status().unwrap().success(), "mount {args:?}");
    host_mount(&["--bind", &rootfs_str, &rootfs_str]);
    host_mount(&["--make-shared", &rootfs_str]);
    bundle.config["linux"]["rootfsPropagation"] = json!("rshared");
    bundle.write_config();
    let id = unique_id("shared-rootfs");
    let out = bundle.run(&id);
    let _ = std::process::Command::new("umount").args(["-R", &rootfs_str]).status();
    assert_eq!(out.code, 0, "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// The program is found as execve will judge it, with the effective ids and capabilities:
/// a non-root user with CAP_DAC_OVERRIDE runs a program only its owner (root) may execute,
/// and without it is refused (runc 1.5's start_hello "no exec bit but CAP_DAC_OVERRIDE").
#[test]
fn a_program_only_root_may_execute_runs_for_a_user_with_cap_dac_override() {
    use std::os::unix::fs::PermissionsExt;
    // (named busybox, so that busybox runs its applet "echo")
    let mut bundle = TestBundle::new(&["/opt/busybox", "echo", "ran"]);
    std::fs::create_dir_all(bundle.rootfs().join("opt")).unwrap();
    let program = bundle.rootfs().join("opt/busybox");
    std::fs::copy(BUSYBOX, &program).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o744)).unwrap();
    bundle.config["process"]["user"] = json!({"uid": 1000, "gid": 100});
    bundle.write_config();
    let id = unique_id("dac");
    let out = bundle.run(&id);
    assert_ne!(out.code, 0, "ran without CAP_DAC_OVERRIDE: {}", out.stdout);
    assert!(out.stderr.contains("permission denied"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    for set in ["bounding", "effective", "inheritable", "ambient", "permitted"] {
        bundle.config["process"]["capabilities"][set].as_array_mut().get_or_insert(&mut vec![]).push(json!("CAP_DAC_OVERRIDE"));
    }
    bundle.write_config();
    let out = bundle.run(&id);
    assert_eq!((out.code, out.stdout.as_str()), (0, "ran\n"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// SCHED_DEADLINE with a cpuset of some CPUs only: the kernel refuses it (EPERM), and the
/// error says why in runc's words (runc 1.5's scheduler.bats "scheduler vs cpus").
#[test]
fn a_deadline_scheduler_with_a_cpuset_is_refused_saying_why() {
    let online = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    assert!(online > 1, "needs a machine with 2 CPUs or more to restrict the cpuset to one (this one has {online})");
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["linux"]["resources"] = json!({"cpu": {"cpus": "0"}});
    bundle.config["process"]["scheduler"] = json!({"policy": "SCHED_DEADLINE", "nice": 19, "runtime": 42000, "deadline": 1000000, "period": 1000000});
    bundle.write_config();
    let id = unique_id("deadline");
    let out = bundle.run(&id);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("process scheduler can't be used together with AllowedCPUs"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

/// A bind destination reached through dangling symlinks in the image is made where the links
/// point, inside the rootfs, and mounted there (runc 1.5's mounts.bats "bind mount through a
/// dangling symlink component" and "through a trailing dangling symlink").
#[test]
fn a_bind_through_dangling_symlinks_lands_where_they_point_inside_the_rootfs() {
    use std::os::unix::fs::{MetadataExt, symlink};
    let mut bundle = TestBundle::new(&[
        "sh",
        "-c",
        "stat -c '%d:%i' /tmp/foo/bar/baz/hosts /tmp/hosts; grep -c -e ' /tmp/foo/bar/baz/hosts ' -e ' /tmp/hosts ' /proc/self/mounts",
    ]);
    let rootfs = bundle.rootfs();
    let _ = std::fs::remove_file(rootfs.join("etc/hosts"));
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    symlink("/tmp/foo/bar", rootfs.join("jump")).unwrap();
    symlink("/jump/baz/hosts", rootfs.join("etc/hosts")).unwrap();
    symlink("/tmp/hosts", rootfs.join("etc/hostname-link")).unwrap();
    let _ = std::fs::remove_dir_all(rootfs.join("tmp/foo"));
    let source = bundle.path().join("config.json");
    for destination in ["/etc/hosts", "/etc/hostname-link"] {
        bundle.config["mounts"].as_array_mut().unwrap().push(json!({"source": source, "destination": destination, "options": ["bind"]}));
    }
    bundle.write_config();
    let meta = std::fs::metadata(&source).unwrap();
    let expected = format!("{}:{}", meta.dev(), meta.ino());
    let id = unique_id("dangling");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{expected}\n{expected}\n2\n"), "both binds are of the source, at the links' targets");
    bundle.assert_nothing_left(&id);
}

/// In a user namespace the kernel locks a source's read-only, nosuid, nodev, noexec and
/// atime settings: a bind that does not name them keeps them, one that clears one of them
/// by name fails saying which (runc 1.5's mounts_sshfs.bats, with a host tmpfs in place of
/// sshfs as there).
#[test]
fn a_bind_in_a_user_namespace_keeps_the_sources_locked_flags_and_cannot_clear_them() {
    let read_only = tempfile::tempdir().unwrap();
    nix::mount::mount(Some("tmpfs"), read_only.path(), Some("tmpfs"), nix::mount::MsFlags::empty(), Some("size=1m")).unwrap();
    let _unmount = Unmount(read_only.path());
    // per-mount flags, as the test sets them (a superblock's ro could not be cleared at all)
    let flags = nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REMOUNT | nix::mount::MsFlags::MS_RDONLY | nix::mount::MsFlags::MS_NOEXEC;
    nix::mount::mount(None::<&str>, read_only.path(), None::<&str>, flags, None::<&str>).unwrap();
    let mut bundle = TestBundle::new(&["sh", "-c", "grep ' /mnt ' /proc/self/mounts | cut -d' ' -f4"]);
    std::fs::create_dir_all(bundle.rootfs().join("mnt")).unwrap();
    let c = &mut bundle.config;
    c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let id = unique_id("locked");
    let run_with = |bundle: &mut TestBundle, options: Value| {
        bundle.config["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/mnt");
        push_mount(&mut bundle.config, json!({"destination": "/mnt", "source": read_only.path(), "options": options}));
        bundle.write_config();
        let out = bundle.run(&id);
        bundle.assert_nothing_left(&id);
        out
    };
    // implied rw, new nosuid,nodev: ro and noexec stay (locked), the new ones are set
    let out = run_with(&mut bundle, json!(["bind", "nosuid", "nodev"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let seen: Vec<&str> = out.stdout.trim().split(',').collect();
    assert!(["ro", "nosuid", "nodev", "noexec"].iter().all(|f| seen.contains(f)), "{seen:?}");
    // rw or exec asked for by name: refused, naming the flag
    for (option, name) in [("rw", "ro"), ("exec", "noexec")] {
        let out = run_with(&mut bundle, json!(["bind", option]));
        assert_ne!(out.code, 0, "{option}: {}", out.stdout);
        assert!(out.stderr.contains(&format!("cannot clear locked flags {name}: operation not permitted")), "{option}: {}", out.stderr);
    }
}

/// An idmapped mount whose source lies in the rootfs, under one of the container's earlier
/// mounts: the runtime makes its tree when init gets there, in init's mount namespace, so it
/// holds what the earlier mounts put there (runc 1.5's mounts.bats "mount order, container
/// idmap source", with and without a user namespace).
#[test]
fn an_idmapped_source_in_the_rootfs_is_cloned_after_the_mounts_before_it() {
    for userns in [false, true] {
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("file"), "from the host\n").unwrap();
        std::fs::set_permissions(host.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut bundle = TestBundle::new(&["sh", "-c", "cat /final/file; grep -c ' /final .*idmapped' /proc/self/mountinfo"]);
        for dir in ["mnt", "final"] {
            std::fs::create_dir_all(bundle.rootfs().join(dir)).unwrap();
        }
        let rootfs = bundle.rootfs().canonicalize().unwrap();
        let c = &mut bundle.config;
        if userns {
            c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        }
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        push_mount(c, json!({"destination": "/mnt", "source": host.path(), "options": ["bind"]}));
        // the source and destination as host paths under the rootfs, as runc's test writes them
        push_mount(c, json!({"destination": rootfs.join("final"), "source": rootfs.join("mnt"), "options": ["rbind", "idmap"]}));
        if !userns {
            c["linux"].as_object_mut().unwrap().remove("uidMappings");
            c["linux"].as_object_mut().unwrap().remove("gidMappings");
            let last = c["mounts"].as_array_mut().unwrap().last_mut().unwrap();
            last["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            last["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        }
        bundle.write_config();
        let id = unique_id("idmap-order");
        let out = bundle.run(&id);
        assert_eq!((out.code, out.stdout.as_str()), (0, "from the host\n1\n"), "userns {userns}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}

/// An idmapped mount with no maps of its own in a container that joins a user namespace by
/// path (and has no maps either) takes that namespace's maps (runc 1.5's idmap.bats "idmap
/// flag, implied mapping, userns join").
#[test]
fn an_idmapped_mount_takes_the_maps_of_a_joined_user_namespace() {
    let (owner, owner_id, pid) = user_namespace_owner("userns-idmap");
    let host = tempfile::tempdir().unwrap();
    // owned by host root, which the joined namespace does not map (65534 there without idmap)
    std::fs::write(host.path().join("file"), "").unwrap();
    std::fs::set_permissions(host.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut bundle = TestBundle::new(&["sh", "-c", "stat -c %u:%g /tmp/tree/file; grep -c ' /tmp/tree .*idmapped' /proc/self/mountinfo"]);
    // (the mount point in the image: the container's root may not write the host-owned /tmp)
    std::fs::create_dir_all(bundle.rootfs().join("tmp/tree")).unwrap();
    bundle.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user", "path": format!("/proc/{pid}/ns/user")}));
    push_mount(&mut bundle.config, json!({"destination": "/tmp/tree", "source": host.path(), "options": ["bind", "idmap"]}));
    bundle.write_config();
    let id = unique_id("idmap-implied");
    let run = bundle.run(&id);
    assert_eq!(run.code, 0, "{}", run.stderr);
    bundle.assert_nothing_left(&id);
    let out = run.stdout;
    // the mount takes the joined namespace's maps (0 -> 100000): host root's file is its root's
    assert_eq!(out, "0:0\n1\n");
    assert_eq!(owner.skiff(&["delete", "-f", &owner_id]).code, 0);
    owner.assert_nothing_left(&owner_id);
}
