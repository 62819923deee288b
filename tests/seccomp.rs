//! `linux.seccomp`: filters loaded into the container's process (and exec'd ones), errnos
//! seen from inside, argument conditions, the notification listener, and refusals.

mod common;

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// Debian's podman default profile (package golang-github-containers-common).
const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";
const RUNC: &str = "/usr/sbin/runc";

fn deny_mkdir(errno: Option<u32>) -> Value {
    let mut rule = json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"});
    if let Some(errno) = errno {
        rule["errnoRet"] = json!(errno);
    }
    json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
}

#[test]
fn a_denied_mkdir_gets_eperm_inside() {
    let out = inside(
        |c| {
            c["root"]["readonly"] = json!(false);
            c["linux"]["seccomp"] = deny_mkdir(None);
        },
        "grep -E '^Seccomp(_filters)?:' /proc/self/status; mkdir /tmp/x 2>&1; echo status=$?; touch /tmp/file && echo other calls work",
    );
    let fields = status_fields(&out);
    assert_eq!(fields["Seccomp"], "2", "filter mode: {out}");
    assert_eq!(fields["Seccomp_filters"], "1", "{out}");
    assert!(out.contains("mkdir: can't create directory '/tmp/x': Operation not permitted"), "{out}");
    assert!(out.contains("status=1"), "{out}");
    assert!(out.contains("other calls work"), "{out}");
}

#[test]
fn errno_ret_and_default_errno_ret_are_the_errnos_returned() {
    // EXDEV from the rule; ENOSYS for everything else denied by the default action.
    let profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO"},
            {"names": every_syscall_busybox_sh_needs(), "action": "SCMP_ACT_ALLOW"}
        ]
    });
    let out = inside(|c| c["linux"]["seccomp"] = profile, "mkdir /tmp/x 2>&1; chroot / /bin/true 2>&1; rmdir /tmp 2>&1; echo end");
    assert!(out.contains("can't create directory '/tmp/x': Invalid cross-device link"), "{out}");
    assert!(out.contains("chroot: can't change root directory to '/': Operation not permitted"), "{out}");
    assert!(out.contains("rmdir: '/tmp': Function not implemented"), "{out}");
    assert!(out.ends_with("end\n"), "{out}");
}

/// What busybox's sh, its applets and the runtime's last steps before the exec call (the
/// channel to the runtime, the start gate).
fn every_syscall_busybox_sh_needs() -> Vec<&'static str> {
    vec![
        "read",
        "write",
        "open",
        "openat",
        "close",
        "stat",
        "fstat",
        "lstat",
        "newfstatat",
        "statx",
        "poll",
        "lseek",
        "mmap",
        "mprotect",
        "munmap",
        "brk",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "ioctl",
        "pread64",
        "access",
        "faccessat",
        "faccessat2",
        "pipe",
        "pipe2",
        "dup",
        "dup2",
        "dup3",
        "getpid",
        "getppid",
        "clone",
        "clone3",
        "fork",
        "vfork",
        "execve",
        "execveat",
        "exit",
        "exit_group",
        "wait4",
        "waitid",
        "kill",
        "uname",
        "fcntl",
        "getcwd",
        "chdir",
        "fchdir",
        "getuid",
        "getgid",
        "geteuid",
        "getegid",
        "getgroups",
        "setpgid",
        "getpgrp",
        "setsid",
        "getrlimit",
        "prlimit64",
        "arch_prctl",
        "set_tid_address",
        "set_robust_list",
        "rseq",
        "futex",
        "getdents64",
        "readlink",
        "readlinkat",
        "umask",
        "sendmsg",
        "sendto",
        "recvmsg",
        "recvfrom",
        "getrandom",
        "close_range",
        "capget",
        "capset",
        "prctl",
        "setresuid",
        "setresgid",
        "setgroups",
        "sched_getaffinity",
        "clock_gettime",
        "gettid",
        "tgkill",
        "sigaltstack",
        "nanosleep",
        "clock_nanosleep",
        "madvise",
    ]
}

#[test]
fn repeated_conditions_on_one_argument_are_alternatives() {
    // kill(pid, 0) and kill(pid, SIGWINCH) denied; kill(pid, SIGCHLD) allowed.
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 1, "value": 0, "op": "SCMP_CMP_EQ"},
            {"index": 1, "value": 28, "op": "SCMP_CMP_EQ"}]},
        {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "args": [
            {"index": 0, "value": 0o7000, "valueTwo": 0o2000, "op": "SCMP_CMP_MASKED_EQ"}]}]
    });
    let out = inside(
        |c| c["linux"]["seccomp"] = profile,
        "kill -0 $$ 2>/dev/null; echo zero=$?; kill -WINCH $$ 2>/dev/null; echo winch=$?; kill -CHLD $$; echo chld=$?; \
         umask 2022 2>/dev/null; umask; umask 0027; umask",
    );
    assert!(out.contains("zero=1\n"), "{out}");
    assert!(out.contains("winch=1\n"), "{out}");
    assert!(out.contains("chld=0\n"), "{out}");
    // busybox ignores umask's result: the masked comparison shows as the value kept.
    assert!(out.contains("0022\n0027\n"), "umask with the setgid bit denied, plain allowed: {out}");
}

#[test]
fn exec_gets_the_containers_filter() {
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    bundle.config["linux"]["seccomp"] = deny_mkdir(Some(13));
    bundle.write_config();
    let id = unique_id("seccomp-exec");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    wait_for_status(&bundle, &id, "running");
    // A changed config.json must not change the filter of later execs.
    bundle.config["linux"]["seccomp"] = json!(null);
    bundle.write_config();
    let out = bundle.skiff(&["exec", &id, "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/y 2>&1; true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Seccomp:\t2"), "{}", out.stdout);
    assert!(out.stdout.contains("Permission denied"), "{}", out.stdout);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn without_no_new_privileges_the_filter_is_loaded_with_cap_sys_admin_and_applies() {
    let out = inside(
        |c| {
            c["process"]["noNewPrivileges"] = json!(false);
            c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            c["linux"]["seccomp"] = deny_mkdir(None);
        },
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; id -u; mkdir /tmp/z 2>&1; true",
    );
    let fields = status_fields(&out);
    assert_eq!(fields["NoNewPrivs"], "0", "{out}");
    assert_eq!(fields["Seccomp"], "2", "{out}");
    assert!(out.contains("1000\n"), "{out}");
    assert!(out.contains("Operation not permitted"), "{out}");
}

/// Debian podman's default profile in the spec's form, for x86_64 and `capabilities`
/// (the conversion podman itself makes: includes/excludes by arch and capability).
fn podman_default_profile(capabilities: &[String]) -> Value {
    let text = std::fs::read_to_string(PODMAN_PROFILE)
        .unwrap_or_else(|e| panic!("{PODMAN_PROFILE}: {e}: install Debian's golang-github-containers-common (make deps does)"));
    let docker: Value = serde_json::from_str(&text).unwrap();
    let arch = docker["archMap"].as_array().unwrap().iter().find(|a| a["architecture"] == "SCMP_ARCH_X86_64").unwrap();
    let mut architectures = vec![arch["architecture"].clone()];
    architectures.extend(arch["subArchitectures"].as_array().unwrap().iter().cloned());
    let has_all = |list: &Value| list.as_array().is_none_or(|caps| caps.iter().all(|c| capabilities.iter().any(|have| have == c.as_str().unwrap())));
    let has_any = |list: &Value| list.as_array().is_some_and(|caps| caps.iter().any(|c| capabilities.iter().any(|have| have == c.as_str().unwrap())));
    let for_us = |list: &Value| list.as_array().is_none_or(|arches| arches.iter().any(|a| a == "amd64"));
    let excluded_arch = |list: &Value| list.as_array().is_some_and(|arches| arches.iter().any(|a| a == "amd64"));
    let mut syscalls = Vec::new();
    for rule in docker["syscalls"].as_array().unwrap() {
        let (inc, exc) = (&rule["includes"], &rule["excludes"]);
        if !has_all(&inc["caps"]) || !for_us(&inc["arches"]) || has_any(&exc["caps"]) || excluded_arch(&exc["arches"]) {
            continue;
        }
        let mut converted = json!({"names": rule["names"], "action": rule["action"]});
        if let Some(args) = rule["args"].as_array().filter(|a| !a.is_empty()) {
            converted["args"] = json!(args);
        }
        if rule.get("errnoRet").is_some() {
            converted["errnoRet"] = rule["errnoRet"].clone();
        }
        syscalls.push(converted);
    }
    json!({"defaultAction": docker["defaultAction"], "defaultErrnoRet": docker["defaultErrnoRet"], "architectures": architectures, "syscalls": syscalls})
}

#[test]
fn podmans_default_profile_runs_and_matches_runc() {
    assert!(Path::new(RUNC).is_file(), "Debian's runc is missing ({RUNC}): install package runc");
    let script = "grep -E '^Seccomp(_filters)?:' /proc/self/status; chroot / /bin/true 2>&1; echo chroot=$?; \
                  rmdir /tmp/d 2>/dev/null; mkdir /tmp/d && echo mkdir ok; ls / >/dev/null && echo ls ok";
    let mut bundle = TestBundle::new(&["sh", "-c", script]);
    bundle.config["root"]["readonly"] = json!(false);
    let capabilities: Vec<String> = serde_json::from_value(bundle.config["process"]["capabilities"]["bounding"].clone()).unwrap();
    bundle.config["linux"]["seccomp"] = podman_default_profile(&capabilities);
    bundle.write_config();
    let id = unique_id("seccomp-podman");
    let ours = bundle.run(&id);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    bundle.assert_nothing_left(&id);
    // No CAP_SYS_CHROOT: the profile's rule for that case answers EPERM.
    assert!(ours.stdout.contains("chroot: can't change root directory to '/': Operation not permitted"), "{}", ours.stdout);
    assert!(ours.stdout.contains("mkdir ok\nls ok\n"), "{}", ours.stdout);
    let runc_root = bundle.dir.path().join("runc-root");
    let theirs = run_program(RUNC, &["--root", runc_root.to_str().unwrap(), "run", "--bundle", bundle.path().to_str().unwrap(), &id], None);
    assert_eq!(theirs.code, 0, "runc: {}", theirs.stderr);
    assert_eq!(ours.stdout, theirs.stdout, "skiff and runc disagree under the same profile");
}

#[test]
fn the_listener_receives_the_notify_fd_and_answers_for_the_container() {
    let mut bundle = TestBundle::new(&["sh", "-c", "mkdir /tmp/n 2>&1; echo status=$?"]);
    let socket = bundle.dir.path().join("listener.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    bundle.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": socket, "listenerMetadata": "from-the-test",
        "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    });
    bundle.write_config();
    let id = unique_id("seccomp-notify");
    let agent = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let (fd, data) = skiff::sys::fd_passing::receive_fd(&stream).unwrap();
        let state: Value = serde_json::from_str(&data).unwrap();
        // Answer one notification: the mkdir fails with EXDEV.
        let request = libseccomp::ScmpNotifReq::receive(fd.as_raw_fd()).unwrap();
        let name = libseccomp::ScmpSyscall::get_name(request.data.syscall).unwrap();
        libseccomp::ScmpNotifResp::new_error(request.id, -libc::EXDEV, libseccomp::ScmpNotifRespFlags::empty()).respond(fd.as_raw_fd()).unwrap();
        (state, name)
    });
    let out = bundle.run(&id);
    let (state, name) = agent.join().unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Invalid cross-device link"), "{}", out.stdout);
    assert!(name.starts_with("mkdir"), "{name}");
    assert_eq!(state["fds"], json!(["seccompFd"]));
    assert_eq!(state["metadata"], "from-the-test");
    assert_eq!(state["state"]["id"], json!(id));
    assert_eq!(state["state"]["status"], "creating");
    assert!(state["pid"].as_i64().unwrap() > 1, "{state}");
    assert_eq!(state["pid"], state["state"]["pid"]);
    bundle.assert_nothing_left(&id);
}

#[test]
fn notify_on_syscalls_init_still_makes_is_answered_not_a_hang() {
    // runc's "important syscalls": without no_new_privs the filter is loaded before the
    // user switch and the exec, whose syscalls then wait on the agent: it must have the fd
    // by then.
    for no_new_privileges in [false, true] {
        let mut bundle = TestBundle::new(&["/bin/true"]);
        let socket = bundle.dir.path().join("listener.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        bundle.config["process"]["noNewPrivileges"] = json!(no_new_privileges);
        bundle.config["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": socket,
            // (runc 1.5's list: fcntl too, which the runtime made right after the load)
            "syscalls": [{"names": ["execve", "openat", "open", "read", "close", "fcntl"], "action": "SCMP_ACT_NOTIFY"}]
        });
        bundle.write_config();
        let id = unique_id("seccomp-important");
        let agent = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let (fd, _) = skiff::sys::fd_passing::receive_fd(&stream).unwrap();
            // Let every notified call go on until the container is gone (receive fails).
            let mut answered = 0;
            while let Ok(request) = libseccomp::ScmpNotifReq::receive(fd.as_raw_fd()) {
                let _ = libseccomp::ScmpNotifResp::new_continue(request.id, libseccomp::ScmpNotifRespFlags::empty()).respond(fd.as_raw_fd());
                answered += 1;
            }
            answered
        });
        let root = bundle.state_root();
        let path = bundle.path();
        let out =
            run_program("timeout", &["-s", "KILL", "30", SKIFF, "--root", root.to_str().unwrap(), "run", "--bundle", path.to_str().unwrap(), &id], Some(&path));
        assert_eq!(out.code, 0, "noNewPrivileges {no_new_privileges}: {}", out.stderr);
        let answered = agent.join().unwrap();
        assert!(answered > 0, "noNewPrivileges {no_new_privileges}: the agent answered nothing");
        bundle.assert_nothing_left(&id);
    }
}

#[test]
fn runcs_words_for_a_missing_agent_and_a_hook_the_filter_kills() {
    let mut bundle = TestBundle::new(&["true"]);
    let socket = bundle.dir.path().join("nobody-listens.sock");
    bundle.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": socket,
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
    });
    bundle.write_config();
    let id = unique_id("seccomp-no-agent");
    let out = bundle.run(&id);
    assert!(out.code != 0 && out.stderr.contains("failed to connect with seccomp agent"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    // A startContainer hook runs in the container under its filter (runc's "error running
    // hook" test): killed by SIGSYS, said in Go's words.
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]});
    bundle.config["hooks"] = json!({"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "mkdir /tmp/foo"]}]});
    bundle.write_config();
    let id = unique_id("seccomp-hook");
    let out = bundle.run(&id);
    assert!(out.code != 0 && out.stderr.contains("error running hook") && out.stderr.contains("bad system call"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn bad_profiles_are_refused_before_anything_exists() {
    let cases = [
        (json!({"defaultAction": "SCMP_ACT_NOTIFY"}), "SCMP_ACT_NOTIFY cannot be used as default action"),
        // what the runtime's own last steps need (runc's words for write)
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}),
            "SCMP_ACT_NOTIFY cannot be used for the write syscall",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x", "syscalls": [{"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"}]}),
            "SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall",
        ),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}), "listenerPath"),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]}),
            "index 7",
        ),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}), "errnoRet"),
        (json!({"defaultAction": "SCMP_ACT_BOGUS"}), "SCMP_ACT_BOGUS"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]}), "SCMP_ARCH_VAX"),
        (json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}), "SECCOMP_FILTER_FLAG_BOGUS"),
    ];
    for (profile, expected) in cases {
        assert_create_refused(&json!({"linux": {"seccomp": profile}}), expected);
    }
}

#[test]
fn unknown_syscall_names_are_skipped_with_a_debug_line() {
    let mut bundle = TestBundle::new(&["sh", "-c", "mkdir /tmp/q 2>&1; true"]);
    bundle.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["no_such_syscall", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]});
    bundle.write_config();
    let id = unique_id("seccomp-unknown");
    let out = bundle.skiff(&["--debug", "run", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Operation not permitted"), "{}", out.stdout);
    assert!(out.stderr.contains("no_such_syscall"), "a debug line names the skipped syscall: {}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_profile_older_than_openat2_still_starts_the_container() {
    // Profiles written before openat2 (docker's of 2019, runtime-tools' default) deny it;
    // without no_new_privs the filter is loaded before the runtime's last steps.
    for no_new_privileges in [false, true] {
        let out = inside(
            |c| {
                c["process"]["noNewPrivileges"] = json!(no_new_privileges);
                c["process"]["cwd"] = json!("/tmp");
                c["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                    {"names": ["openat2", "close_range", "statx"], "action": "SCMP_ACT_ERRNO"}]});
            },
            "pwd",
        );
        assert_eq!(out, "/tmp\n", "no_new_privileges {no_new_privileges}");
    }
}

#[test]
fn every_action_does_what_it_says() {
    // The container's process is mkdir itself; its exit status shows the action's effect.
    let sigsys = 128 + libc::SIGSYS;
    for (action, expected) in [
        ("SCMP_ACT_KILL", sigsys),
        ("SCMP_ACT_KILL_THREAD", sigsys),
        ("SCMP_ACT_KILL_PROCESS", sigsys),
        ("SCMP_ACT_TRAP", sigsys),
        ("SCMP_ACT_ERRNO", 1),
        // No tracer attached: the kernel fails the call with ENOSYS.
        ("SCMP_ACT_TRACE", 1),
        ("SCMP_ACT_LOG", 0),
    ] {
        let mut bundle = TestBundle::new(&["mkdir", "/tmp/made"]);
        bundle.config["root"]["readonly"] = json!(false);
        bundle.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": action}]});
        bundle.write_config();
        let id = unique_id("seccomp-action");
        let out = bundle.run(&id);
        assert_eq!(out.code, expected, "{action}: {}", out.stderr);
        assert_eq!(bundle.rootfs().join("tmp/made").exists(), expected == 0, "{action}");
        bundle.assert_nothing_left(&id);
    }
}

/// A static program, built with the host's C compiler, that prints the result of raw syscalls:
/// `number=errno` (0 for success). busybox cannot make a syscall by number.
fn raw_syscall_probe(rootfs: &Path, numbers: &[i64]) {
    let source = rootfs.join("probe.c");
    let calls: String = numbers.iter().map(|n| format!("report({n});")).collect();
    std::fs::write(
        &source,
        format!(
            "#include <errno.h>\n#include <stdio.h>\n#include <unistd.h>\n\
             static void report(long n) {{ errno = 0; long r = syscall(n, 0, 0, 0); printf(\"%ld=%d\\n\", n, r < 0 ? errno : 0); }}\n\
             int main(void) {{ {calls} return 0; }}\n"
        ),
    )
    .unwrap();
    let out = run_program("cc", &["-static", "-O1", "-o", rootfs.join("probe").to_str().unwrap(), source.to_str().unwrap()], None);
    assert_eq!(out.code, 0, "cc -static failed (install Debian's gcc and libc6-dev; make deps does): {}", out.stderr);
}

#[test]
fn syscalls_newer_than_the_profile_return_enosys_not_the_default_errno() {
    // runc's -ENOSYS rule: above the largest number the profile names for an architecture
    // (faccessat2, 439, in this list), a program probing a new syscall must see ENOSYS to
    // fall back; below it the default action (EPERM) still applies.
    let mut bundle = TestBundle::new(&["/probe"]);
    let acct = libc::SYS_acct;
    raw_syscall_probe(&bundle.rootfs(), &[1000, 440, acct, libc::SYS_getppid]);
    bundle.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": every_syscall_busybox_sh_needs(), "action": "SCMP_ACT_ALLOW"}]
    });
    bundle.write_config();
    let id = unique_id("enosys");
    let out = bundle.run(&id);
    assert_eq!(out.code, 0, "{out:?}");
    let (enosys, eperm) = (libc::ENOSYS, libc::EPERM);
    assert_eq!(out.stdout, format!("1000={enosys}\n440={enosys}\n{acct}={eperm}\n{}=0\n", libc::SYS_getppid));
    bundle.assert_nothing_left(&id);
}

/// A profile the cache does not hold is compiled on a thread beside the setup and reaches
/// init with `Proceed`: its filter applies as a cached one does (the second run).
#[test]
fn a_profile_compiled_beside_the_setup_applies_as_the_cached_one() {
    // A rule nobody else's profile has (an argument value of this run's own), so the first
    // run misses the cache.
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut profile = deny_mkdir(Some(18)); // EXDEV
    profile["syscalls"].as_array_mut().unwrap().push(json!({"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": unique, "op": "SCMP_CMP_EQ"}]}));
    let mut bundle = TestBundle::new(&["sh", "-c", "mkdir /tmp/x 2>&1; grep -E '^Seccomp_filters:' /proc/self/status"]);
    bundle.config["root"]["readonly"] = json!(false);
    bundle.config["linux"]["seccomp"] = profile;
    bundle.write_config();
    for (round, compiled_beside) in [(1, true), (2, false)] {
        let id = unique_id(&format!("seccomp-beside-{round}"));
        let out = bundle.skiff(&["--debug", "run", "--bundle", bundle.path().to_str().unwrap(), &id]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("Invalid cross-device link"), "round {round}: {}", out.stdout);
        assert!(out.stdout.contains("Seccomp_filters:\t1"), "round {round}: {}", out.stdout);
        assert!(out.stderr.contains("seccomp filter flags:"), "round {round}: the compile's debug line: {}", out.stderr);
        assert_eq!(out.stderr.contains("seccomp compile (beside the setup)"), compiled_beside, "round {round}: {}", out.stderr);
        bundle.assert_nothing_left(&id);
    }
}
