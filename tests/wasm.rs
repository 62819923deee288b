//! WebAssembly containers (crun's annotations): a `.wasm` entrypoint runs as WASI under
//! skiff's wasm handler, inside the container set up as for any process.
//!
//! The modules are WebAssembly text in integration/wasm/, compiled here with the `wat`
//! crate. The handler is the workspace's `skiff-wasm`, built by `make wasm-handler` (which
//! `make test` runs first) into target/x86_64-unknown-linux-gnu/wasm-handler/, or where
//! `SKIFF_WASM_HANDLER_DIR` says; skiff finds it through `PATH`, as an installed one is found.

mod common;

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

/// The directory holding the built handler; a missing one fails the test and says how to build it.
fn handler_dir() -> PathBuf {
    let dir = std::env::var_os("SKIFF_WASM_HANDLER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/x86_64-unknown-linux-gnu/wasm-handler"));
    assert!(dir.join("skiff-wasm").is_file(), "{}/skiff-wasm is missing: build the wasm handler with `make wasm-handler` (make test does)", dir.display());
    dir
}

/// `module` (a file of integration/wasm) compiled to a WebAssembly binary.
fn module(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("integration/wasm").join(name);
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Run skiff on `bundle` with `path` as its PATH (where it looks for the handler).
fn skiff_with_path(bundle: &TestBundle, path: &str, args: &[&str]) -> Outcome {
    let root = bundle.state_root();
    let out = tempfile::tempfile().unwrap();
    let err = tempfile::tempfile().unwrap();
    let status = Command::new(SKIFF)
        .args(["--root", root.to_str().unwrap()])
        .args(args)
        .current_dir(bundle.path())
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(err.try_clone().unwrap())
        .status()
        .unwrap();
    let read = |mut file: fs::File| {
        use std::io::{Read, Seek};
        let mut text = String::new();
        file.rewind().unwrap();
        file.read_to_string(&mut text).unwrap();
        text
    };
    Outcome { code: status.code().unwrap_or(-1), stdout: read(out), stderr: read(err) }
}

/// Run skiff with the handler installed (on its PATH).
fn skiff(bundle: &TestBundle, args: &[&str]) -> Outcome {
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", handler_dir().display());
    skiff_with_path(bundle, &path, args)
}

fn run(bundle: &TestBundle, id: &str) -> Outcome {
    skiff(bundle, &["run", "--bundle", bundle.path().to_str().unwrap(), id])
}

/// A bundle whose root filesystem holds nothing but the module at /`name` (as an image of a
/// WebAssembly module does), its process that module with `args` after it, and `annotation`.
fn module_bundle(file: &str, name: &str, args: &[&str], annotation: (&str, &str)) -> TestBundle {
    require_prerequisites();
    let path = format!("/{name}");
    let mut all = vec![path.as_str()];
    all.extend_from_slice(args);
    let mut bundle = TestBundle::unprivileged(&all);
    fs::write(bundle.rootfs().join(name), module(file)).unwrap();
    bundle.config["annotations"] = json!({annotation.0: annotation.1});
    bundle.write_config();
    bundle
}

const COMPAT: (&str, &str) = ("module.wasm.image/variant", "compat");
const HANDLER: (&str, &str) = ("run.oci.handler", "wasm");

#[test]
fn hello_world_runs_in_a_rootfs_holding_only_the_module() {
    let bundle = module_bundle("hello.wat", "hello.wasm", &[], COMPAT);
    let id = unique_id("wasm-hello");
    let out = run(&bundle, &id);
    assert_eq!((out.code, out.stdout.as_str()), (0, "hello from wasm\n"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn the_module_gets_the_process_args_and_env() {
    let mut bundle = module_bundle("args_env.wat", "args.wasm", &["one", "two words"], HANDLER);
    bundle.config["process"]["env"] = json!(["PATH=/bin", "GREETING=hello wasm"]);
    bundle.write_config();
    let id = unique_id("wasm-args");
    let out = run(&bundle, &id);
    assert_eq!(out.code, 0, "{out:?}");
    let (args, env) = out.stdout.split_once("--\n").unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(args, "/args.wasm\none\ntwo words\n");
    let env: Vec<&str> = env.lines().collect();
    // exactly process.env, and HOME as init adds it for every process (runc's rule)
    assert_eq!(env, ["PATH=/bin", "GREETING=hello wasm", "HOME=/"], "{out:?}");
}

#[test]
fn the_module_reads_the_rootfs_and_writes_a_volume() {
    let mut bundle = module_bundle("files.wat", "files.wasm", &[], COMPAT);
    fs::create_dir_all(bundle.rootfs().join("data")).unwrap();
    fs::write(bundle.rootfs().join("data/in.txt"), "from the image\n").unwrap();
    let volume = bundle.dir.path().join("volume");
    fs::create_dir_all(&volume).unwrap();
    bundle.config["mounts"].as_array_mut().unwrap().push(json!({"destination": "/vol", "type": "bind", "source": volume, "options": ["rbind", "rw"]}));
    bundle.write_config();
    let id = unique_id("wasm-files");
    let out = run(&bundle, &id);
    assert_eq!((out.code, out.stdout.as_str()), (0, "from the image\n"), "{out:?}");
    assert_eq!(fs::read_to_string(volume.join("out.txt")).unwrap(), "from the image\n");
    bundle.assert_nothing_left(&id);
}

/// `process.terminal`: the module's stdio is the container's pty (the master through
/// `--console-socket`, as an engine takes it).
#[test]
fn the_module_runs_on_the_terminal() {
    let mut bundle = module_bundle("echo.wat", "echo.wasm", &[], COMPAT);
    bundle.config["process"]["terminal"] = json!(true);
    bundle.write_config();
    let socket = bundle.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let id = unique_id("wasm-tty");
    let created = skiff(&bundle, &["create", "--console-socket", socket.to_str().unwrap(), "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(created.code, 0, "{created:?}");
    let (stream, _) = listener.accept().unwrap();
    let (master, _) = skiff::sys::fd_passing::receive_fd(&stream).expect("the pty master arrives");
    assert_eq!(skiff(&bundle, &["start", &id]).code, 0);
    let mut master = fs::File::from(master);
    std::io::Write::write_all(&mut master, b"hello\n").unwrap();
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut buffer = [0u8; 256];
    while !seen.contains("got:hello") && std::time::Instant::now() < deadline {
        match std::io::Read::read(&mut master, &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buffer[..n])),
        }
    }
    assert!(seen.contains("tty") && !seen.contains("no tty"), "stdout is the terminal: {seen:?}");
    assert!(seen.contains("got:hello"), "what is typed reaches the module: {seen:?}");
    wait_for_status(&bundle, &id, "stopped");
    assert_eq!(skiff(&bundle, &["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// `process.cwd` is the module's preopened "." (and the root its "/").
#[test]
fn the_module_sees_process_cwd_as_its_current_directory() {
    let mut bundle = module_bundle("cwd.wat", "cwd.wasm", &[], COMPAT);
    fs::create_dir_all(bundle.rootfs().join("work/here")).unwrap();
    fs::write(bundle.rootfs().join("work/here/in.txt"), "from process.cwd\n").unwrap();
    bundle.config["process"]["cwd"] = json!("/work/here");
    bundle.write_config();
    let id = unique_id("wasm-cwd");
    let out = run(&bundle, &id);
    assert_eq!((out.code, out.stdout.as_str()), (0, "from process.cwd\n"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn proc_exit_is_the_container_exit_status() {
    let bundle = module_bundle("exit3.wat", "exit3.wasm", &[], COMPAT);
    let id = unique_id("wasm-exit");
    let out = run(&bundle, &id);
    assert_eq!(out.code, 3, "{out:?}");
    let start = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(start.code, 0, "{start:?}");
    assert_eq!(skiff(&bundle, &["start", &id]).code, 0);
    wait_for_status(&bundle, &id, "stopped");
    assert_eq!(skiff(&bundle, &["delete", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_trap_is_a_failure_with_its_message() {
    let bundle = module_bundle("trap.wat", "trap.wasm", &[], COMPAT);
    let id = unique_id("wasm-trap");
    let out = run(&bundle, &id);
    assert_eq!(out.code, 134, "a trap exits 128 + SIGABRT, as wasmtime's CLI: {out:?}");
    assert!(out.stderr.contains("unreachable"), "the trap's message: {out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_module_past_the_memory_limit_is_oom_killed() {
    let mut bundle = module_bundle("grow.wat", "grow.wasm", &[], COMPAT);
    // no swap either: the memsw limit equals the memory limit
    bundle.config["linux"]["resources"] = json!({"memory": {"limit": 33554432, "swap": 33554432}});
    bundle.write_config();
    let id = unique_id("wasm-oom");
    let out = run(&bundle, &id);
    assert_eq!(out.code, 128 + 9, "the module is killed by the OOM killer, as any process: {out:?}");
    bundle.assert_nothing_left(&id);
}

/// A busybox container annotated `smart`: its native init runs as usual, and `exec` runs a
/// module as WASI and anything else natively.
#[test]
fn smart_runs_only_webassembly_binaries_as_wasi() {
    let mut bundle = TestBundle::new(&["sh", "-c", "echo native; sleep 1000"]);
    fs::write(bundle.rootfs().join("hello.wasm"), module("hello.wat")).unwrap();
    // text is no WebAssembly binary: smart execs it, and a shell script it is
    fs::write(bundle.rootfs().join("script.wat"), "#!/bin/sh\necho a script\n").unwrap();
    fs::set_permissions(bundle.rootfs().join("script.wat"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    bundle.config["annotations"] = json!({"run.oci.handler": "wasm-smart"});
    bundle.write_config();
    let id = unique_id("wasm-smart");
    let created = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(skiff(&bundle, &["start", &id]).code, 0);
    let wasm = skiff(&bundle, &["exec", &id, "/hello.wasm"]);
    assert_eq!((wasm.code, wasm.stdout.as_str()), (0, "hello from wasm\n"), "{wasm:?}");
    let script = skiff(&bundle, &["exec", &id, "/script.wat"]);
    assert_eq!((script.code, script.stdout.as_str()), (0, "a script\n"), "{script:?}");
    let comm = skiff(&bundle, &["exec", &id, "cat", "/proc/1/comm"]);
    assert_eq!(comm.stdout, "sleep\n", "init is the native shell, which became sleep: {comm:?}");
    assert_eq!(skiff(&bundle, &["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// A module as init, set up like any process (its user, its capabilities), with native and
/// WASI processes exec'd beside it.
#[test]
fn exec_into_a_wasm_container() {
    let mut bundle = TestBundle::new(&["/sleep.wasm"]);
    fs::write(bundle.rootfs().join("sleep.wasm"), module("sleep.wat")).unwrap();
    fs::write(bundle.rootfs().join("hello.wasm"), module("hello.wat")).unwrap();
    bundle.config["annotations"] = json!({"module.wasm.image/variant": "compat"});
    bundle.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    bundle.config["process"]["capabilities"] = json!({"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]});
    bundle.write_config();
    let id = unique_id("wasm-exec");
    let created = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(skiff(&bundle, &["start", &id]).code, 0);
    let status = skiff(&bundle, &["exec", "--user", "0", &id, "cat", "/proc/1/status", "/proc/1/cmdline"]);
    assert_eq!(status.code, 0, "a native binary exec'd into a wasm container: {status:?}");
    let fields = status_fields(&status.stdout);
    assert_eq!(fields["Uid"], "1000\t1000\t1000\t1000", "the module runs as process.user: {status:?}");
    // the handler's thread and one runtime worker, not one per CPU (each counts in pids.max)
    assert_eq!(fields["Threads"], "2", "{status:?}");
    assert_eq!(fields["CapBnd"], "0000000000000020", "with process.capabilities (CAP_KILL alone): {status:?}");
    assert!(status.stdout.contains("skiff-wasm\0run\0/sleep.wasm\0"), "pid 1 is the handler running the module: {status:?}");
    let wasm = skiff(&bundle, &["exec", &id, "/hello.wasm"]);
    assert_eq!((wasm.code, wasm.stdout.as_str()), (0, "hello from wasm\n"), "a module exec'd runs as WASI: {wasm:?}");
    assert_eq!(skiff(&bundle, &["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
}

/// The handler is executed from a read-only detached mount of itself (CVE-2019-5736, as
/// skiff's own binary is): root in the container takes an fd of a running handler's binary,
/// keeps it past the handler's end (retrying while its threads still hold the file busy), and
/// cannot reopen it for writing.
#[test]
fn cve_2019_5736_the_handler_cannot_be_overwritten_from_the_container() {
    let mut bundle = TestBundle::new(&["sleep", "1000"]);
    fs::write(bundle.rootfs().join("sleep.wasm"), module("sleep.wat")).unwrap();
    bundle.config["annotations"] = json!({"run.oci.handler": "wasm-smart"});
    bundle.config["root"]["readonly"] = json!(false);
    bundle.write_config();
    // A copy, so that a regression corrupts the copy and not the build.
    let copy = bundle.dir.path().join("handler");
    fs::create_dir(&copy).unwrap();
    fs::copy(handler_dir().join("skiff-wasm"), copy.join("skiff-wasm")).unwrap();
    let before = fs::read(copy.join("skiff-wasm")).unwrap();
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", copy.display());
    let skiff = |bundle: &TestBundle, args: &[&str]| skiff_with_path(bundle, &path, args);
    let id = unique_id("wasm-cve");
    assert_eq!(skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]).code, 0);
    assert_eq!(skiff(&bundle, &["start", &id]).code, 0);
    let detached = skiff(&bundle, &["exec", "--detach", &id, "/sleep.wasm"]);
    assert_eq!(detached.code, 0, "{detached:?}");
    let attack = "for i in $(seq 100); do for p in /proc/[0-9]*; do tr '\\0' ' ' <$p/cmdline 2>/dev/null | grep -q '^skiff-wasm run' && pid=${p#/proc/}; done; \
                  [ -n \"$pid\" ] && break; sleep 0.05; done; \
                  exec 3</proc/$pid/exe; kill -9 $pid; \
                  result=; for i in $(seq 100); do if { echo pwned >>/proc/self/fd/3; } 2>/tmp/err; then result=WROTE; break; fi; \
                  result=\"REFUSED $(cat /tmp/err)\"; grep -q busy /tmp/err || break; sleep 0.05; done; echo $result";
    let result = skiff(&bundle, &["exec", &id, "sh", "-c", attack]);
    assert_eq!(skiff(&bundle, &["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    assert!(result.stdout.starts_with("REFUSED") && result.stdout.contains("Read-only file system"), "the handler was writable: {result:?}");
    assert!(fs::read(copy.join("skiff-wasm")).unwrap() == before, "the handler's binary changed");
}

/// Installed immutable (make install, the .deb), skiff and its handler both run as they are:
/// the module's process is the handler's own file, not a detached mount of it, and no write
/// open of it succeeds, root's included.
#[test]
fn an_immutable_handler_beside_an_immutable_skiff_runs_as_it_is() {
    let bundle = module_bundle("sleep.wat", "sleep.wasm", &[], COMPAT);
    let installed = bundle.dir.path().join("bin");
    fs::create_dir(&installed).unwrap();
    let (skiff, handler) = (installed.join("skiff"), installed.join("skiff-wasm"));
    fs::copy(SKIFF, &skiff).unwrap();
    fs::copy(handler_dir().join("skiff-wasm"), &handler).unwrap();
    let _sealed = (Immutable::set(&skiff), Immutable::set(&handler));
    let root = bundle.state_root();
    let run = |args: &[&str]| {
        let mut all = vec!["--root", root.to_str().unwrap()];
        all.extend_from_slice(args);
        run_program(skiff.to_str().unwrap(), &all, Some(&bundle.path()))
    };
    let id = unique_id("wasm-immutable");
    let created = run(&["run", "--detach", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_eq!(created.code, 0, "{created:?}");
    let pid = bundle.state(&id)["pid"].as_i64().unwrap();
    let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    let write = fs::OpenOptions::new().append(true).open(format!("/proc/{pid}/exe"));
    assert_eq!(run(&["delete", "--force", &id]).code, 0);
    bundle.assert_nothing_left(&id);
    assert_eq!(exe, handler, "the module's process is not the installed handler itself");
    assert_eq!(write.map_err(|e| e.raw_os_error()).err(), Some(Some(libc::EPERM)), "the immutable handler could be opened for writing");
}

#[test]
fn a_missing_module_is_refused_at_create() {
    let mut bundle = TestBundle::unprivileged(&["/absent.wasm"]);
    require_prerequisites();
    bundle.config["annotations"] = json!({"run.oci.handler": "wasm"});
    bundle.write_config();
    let id = unique_id("wasm-missing");
    let out = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("/absent.wasm") && out.stderr.contains("no such file"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

/// The runtime looks at the module from the host, as root: it must not open what is no
/// regular file (a FIFO here, whose blocked writer an open would release; a device node's
/// open could do worse). init then refuses the entrypoint, at create.
#[test]
fn a_module_that_is_no_regular_file_is_never_opened_by_the_runtime() {
    let mut bundle = TestBundle::unprivileged(&["/pipe.wasm"]);
    require_prerequisites();
    bundle.config["annotations"] = json!({"run.oci.handler": "wasm"});
    bundle.write_config();
    let fifo = bundle.rootfs().join("pipe.wasm");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    // A writer that blocks in open(2) until some reader opens the FIFO.
    let (opened_tx, opened_rx) = std::sync::mpsc::channel();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let _file = fs::OpenOptions::new().write(true).open(&writer_path);
        let _ = opened_tx.send(());
    });
    let id = unique_id("wasm-fifo");
    let out = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    let released = opened_rx.recv_timeout(std::time::Duration::from_millis(300)).is_ok();
    // Release the writer ourselves, then judge.
    let _reader = fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).unwrap();
    writer.join().unwrap();
    assert!(!released, "the runtime opened the FIFO: {out:?}");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("/pipe.wasm") && out.stderr.contains("not a regular file"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_module_that_does_not_validate_is_refused_at_create() {
    let bundle = module_bundle("hello.wat", "bad.wasm", &[], COMPAT);
    // the magic and version, then a section that claims more bytes than there are
    fs::write(bundle.rootfs().join("bad.wasm"), b"\0asm\x01\0\0\0\x01\x7f").unwrap();
    let id = unique_id("wasm-invalid");
    let out = skiff(&bundle, &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("wasm module /bad.wasm: does not validate"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn a_wasm_annotation_without_the_handler_is_refused_at_create() {
    let bundle = module_bundle("hello.wat", "hello.wasm", &[], HANDLER);
    let id = unique_id("wasm-nohandler");
    let out = skiff_with_path(&bundle, "/usr/sbin:/usr/bin:/sbin:/bin", &["create", "--bundle", bundle.path().to_str().unwrap(), &id]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("run.oci.handler=wasm") && out.stderr.contains("skiff-wasm") && out.stderr.contains("not installed"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn without_the_annotations_a_module_is_not_run() {
    let bundle = module_bundle("hello.wat", "hello.wasm", &[], ("io.example.other", "compat"));
    let id = unique_id("wasm-none");
    let out = run(&bundle, &id);
    // runc's failure for a file the kernel cannot execute
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("hello from wasm"), "{out:?}");
    bundle.assert_nothing_left(&id);
}

#[test]
fn features_and_doctor_report_the_handler() {
    let bundle = TestBundle::unprivileged(&["true"]);
    let features = skiff(&bundle, &["features"]);
    let features: serde_json::Value = serde_json::from_str(&features.stdout).unwrap();
    assert_eq!(features["annotations"]["run.oci.handler"], "wasm,wasm-smart");
    assert_eq!(features["annotations"]["module.wasm.image/variant"], "compat,compat-smart");
    let doctor = skiff(&bundle, &["doctor"]);
    let line = doctor.stdout.lines().find(|l| l.contains("wasm")).unwrap_or_else(|| panic!("{doctor:?}"));
    assert!(line.contains("skiff-wasm") && line.contains("wasmtime"), "{line}");
    let without = skiff_with_path(&bundle, "/usr/bin:/bin", &["doctor"]);
    let line = without.stdout.lines().find(|l| l.contains("wasm")).unwrap_or_else(|| panic!("{without:?}"));
    assert!(line.contains("not found"), "{line}");
}
