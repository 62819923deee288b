//! `process.terminal` with `--console-socket`: the pty master arrives over the socket, the
//! process has the slave as its controlling terminal, with the configured size.

mod common;

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// A recvtty-like receiver: accept one connection and take the fd it carries.
fn receive_master(listener: &UnixListener) -> (OwnedFd, String) {
    let (stream, _) = listener.accept().expect("the runtime connects to the console socket");
    skiff::sys::fd_passing::receive_fd(&stream).expect("an fd arrives with SCM_RIGHTS")
}

/// Read from `source` until `marker` has been seen, it ends, or `within` passes.
fn read_until(source: &mut impl Read, marker: &str, within: Duration) -> String {
    let mut seen = String::new();
    let mut buffer = [0u8; 1024];
    let deadline = Instant::now() + within;
    while !seen.contains(marker) && Instant::now() < deadline {
        match source.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
    seen
}

#[test]
fn terminal_through_the_console_socket() {
    let mut bundle = TestBundle::new(&["sh", "-c", "tty; stty size; read line; echo got:$line"]);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.config["process"]["consoleSize"] = json!({"height": 30, "width": 100});
    bundle.write_config();
    let socket = bundle.dir.path().join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let id = unique_id("tty");
    let out = bundle.skiff(&["create", "--console-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (master, name) = receive_master(&listener);
    assert!(name.starts_with("/dev/pts/"), "the pty's name is sent as data: {name:?}");
    assert_eq!(bundle.skiff(&["start", &id]).code, 0);
    let mut master = std::fs::File::from(master);
    master.write_all(b"hello\n").unwrap();
    let seen = read_until(&mut master, "got:hello", Duration::from_secs(5));
    assert!(seen.contains("/dev/pts/0"), "tty names the container's pty: {seen:?}");
    assert!(seen.contains("30 100"), "consoleSize applied: {seen:?}");
    assert!(seen.contains("got:hello"), "typing reaches the process: {seen:?}");
    wait_for_status(&bundle, &id, "stopped");
    assert_eq!(bundle.skiff(&["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn terminal_needs_a_console_socket_and_the_socket_needs_a_terminal() {
    assert_create_refused(&json!({"process": {"terminal": true}}), "a console socket is needed");
    let bundle = TestBundle::new(&["true"]);
    let id = unique_id("nosocketuse");
    let out = bundle.skiff(&["create", "--console-socket", "/nonexistent.sock", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert!(out.stderr.contains("process.terminal is not set"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
    // detached, nothing relays the terminal
    let mut bundle = TestBundle::new(&["true"]);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let id = unique_id("ttydetach");
    let out = bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("a console socket is needed"), "{}", out.stderr);
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_with_a_tty() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("exectty");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let socket = bundle.dir.path().join("exec-console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let root = bundle.state_root();
    let mut child = std::process::Command::new(SKIFF)
        .args(["--root", root.to_str().unwrap(), "exec", "--tty", "--console-socket", socket.to_str().unwrap(), &id, "sh", "-c", "tty; echo done"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (master, _) = receive_master(&listener);
    let mut master = std::fs::File::from(master);
    let seen = read_until(&mut master, "done", Duration::from_secs(5));
    assert!(child.wait().unwrap().success());
    assert!(seen.contains("/dev/pts/"), "the exec'd process has a pty: {seen:?}");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn exec_with_a_tty_and_no_socket_relays_it() {
    // runc's `exec -t` without a console socket: the terminal is relayed to skiff's stdio
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let id = unique_id("exectty-relay");
    assert_eq!(bundle.skiff(&["run", "-d", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    let out = bundle.skiff(&["exec", "-t", &id, "sh", "-c", "tty; echo relayed; exit 3"]);
    assert_eq!(out.code, 3, "the exit status passes through: {}", out.stderr);
    assert!(out.stdout.contains("/dev/pts/") && out.stdout.contains("relayed"), "{:?}", out.stdout);
    // detached, nothing relays it
    let out = bundle.skiff(&["exec", "-d", "-t", &id, "true"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("a console socket is needed"), "{}", out.stderr);
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn pidfd_socket_receives_a_pidfd_of_init() {
    let bundle = TestBundle::new(&["sleep", "1000"]);
    let socket = bundle.dir.path().join("pidfd.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let id = unique_id("pidfd");
    let out = bundle.skiff(&["create", "--pidfd-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (pidfd, name) = receive_master(&listener);
    assert_eq!(name, "pidfd");
    let init = bundle.state(&id)["pid"].as_i64().unwrap();
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", std::os::fd::AsRawFd::as_raw_fd(&pidfd))).unwrap();
    assert!(fdinfo.lines().any(|l| l == format!("Pid:\t{init}")), "a pidfd of init: {fdinfo}");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn run_with_a_terminal_relays_it() {
    // no console socket of the caller's: skiff takes the master and relays it
    let mut bundle = TestBundle::new(&["sh", "-c", "tty; echo relayed; exit 4"]);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let id = unique_id("runtty");
    let out = bundle.run(&id);
    assert_eq!(out.code, 4, "the exit status passes through: {}", out.stderr);
    // runc's foreground terminal: the output as the process wrote it, no "\r" added (ONLCR
    // off), so that a script comparing lines of `run`'s output matches them.
    assert_eq!(out.stdout, "/dev/pts/0\nrelayed\n");
    bundle.assert_nothing_left(&id);
}

#[test]
fn run_with_a_terminal_and_no_socket_relays_skiffs_own_terminal() {
    // `script` gives skiff a terminal of 30x100; typing goes in through it.
    assert!(std::path::Path::new("/usr/bin/script").is_file(), "/usr/bin/script is missing: install Debian's bsdutils");
    let mut bundle = TestBundle::new(&["sh", "-c", "tty; stty size; read line; echo got:$line; exit 7"]);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let id = unique_id("ttyrun");
    let command =
        format!("stty rows 30 cols 100; {SKIFF} --root {} run --bundle {} {id}; echo exit=$?", bundle.state_root().display(), bundle.path().display());
    let mut child = std::process::Command::new("/usr/bin/script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stdin.write_all(b"typed\n").unwrap();
    // Keep stdin open until the container answered: EOF would end script's input early.
    let output = read_until(&mut child.stdout.take().unwrap(), "exit=", Duration::from_secs(10));
    drop(stdin);
    let _ = child.wait();
    assert!(output.contains("/dev/pts/0\n"), "the process has the container's pty: {output:?}");
    assert!(output.contains("30 100\n"), "skiff's window size reached the pty: {output:?}");
    assert!(output.contains("got:typed\n"), "typing reaches the process: {output:?}");
    assert!(output.contains("exit=7"), "the exit status comes back: {output:?}");
    // (what the shell prints after skiff restored its terminal has "\r\n" again)
    let relayed = output.split("exit=").next().unwrap_or_default();
    assert!(!relayed.contains('\r'), "neither pty adds \\r (the container's ONLCR is off, skiff's terminal raw): {output:?}");
    bundle.assert_nothing_left(&id);
}

/// runc's "tty owner" cases: the pty is the process's user's, for the container's process and
/// for `exec -t -u`, so that `tty` names it and the user can reopen it.
#[test]
fn the_terminal_belongs_to_the_process_user() {
    let mut bundle = TestBundle::new(&["sh", "-c", "tty; stat -c owner:%u $(tty); echo hi > $(tty) && echo reopened; sleep 1000"]);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    bundle.write_config();
    let socket = bundle.dir.path().join("console.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    let id = unique_id("ttyowner");
    let out = bundle.skiff(&["create", "--console-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (master, _) = receive_master(&listener);
    assert_eq!(bundle.skiff(&["start", &id]).code, 0);
    let mut master = std::fs::File::from(master);
    let seen = read_until(&mut master, "reopened", Duration::from_secs(5));
    assert!(!seen.contains("not a tty"), "{seen:?}");
    assert!(seen.contains("owner:1000") && seen.contains("reopened"), "init's pty: {seen:?}");
    let exec_socket = bundle.dir.path().join("exec-console.sock");
    let exec_listener = UnixListener::bind(&exec_socket).unwrap();
    let root = bundle.state_root();
    let mut child = std::process::Command::new(SKIFF)
        .args([
            "--root",
            root.to_str().unwrap(),
            "exec",
            "--tty",
            "--user",
            "2000:2000",
            "--console-socket",
            exec_socket.to_str().unwrap(),
            &id,
            "sh",
            "-c",
            "tty; stat -c owner:%u $(tty); echo done",
        ])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (exec_master, _) = receive_master(&exec_listener);
    let mut exec_master = std::fs::File::from(exec_master);
    let seen = read_until(&mut exec_master, "done", Duration::from_secs(5));
    assert!(child.wait().unwrap().success());
    assert!(!seen.contains("not a tty") && seen.contains("owner:2000"), "exec's pty: {seen:?}");
    assert_eq!(bundle.skiff(&["delete", "-f", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}
