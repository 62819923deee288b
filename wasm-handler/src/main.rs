//! skiff-wasm: skiff's WebAssembly handler. It runs a container's WASI (preview 1) module
//! under wasmtime.
//!
//! skiff's init executes this binary by fd, as the container's process, once the container
//! is set up as for any process: namespaces, cgroup, mounts, user, capabilities and seccomp
//! all apply to it. It is a companion executable rather than code in skiff so that skiff's
//! own binary, and the hot path of every native container, carries none of wasmtime (see
//! docs/architecture.md, WebAssembly).
//!
//! ```text
//! skiff-wasm run MODULE [ARG0 ARG...]   run MODULE's `_start`; ARG0.. are its WASI args
//! skiff-wasm check                      validate the module (binary or text) on stdin
//! skiff-wasm --version
//! ```
//!
//! `run` gives the module this process's environment, stdio (a terminal included) and two
//! preopened directories, `/` and `.` (the container's root and `process.cwd`). The exit
//! status is the module's `proc_exit` code, 0 when `_start` returns, and 134 after a trap
//! (128 + SIGABRT, as the wasmtime CLI exits), with the trap's message on stderr.

use std::io::Read;
use std::process::ExitCode;

use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime_wasi::p1::{self, WasiP1Ctx};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// The exit status after a trap: 128 + SIGABRT, as `wasmtime run` exits.
const TRAP_STATUS: u8 = 134;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The module's environment is the process's, taken before the line below changes it.
    let env: Vec<(String, String)> = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
    // WASI's host calls run on tokio's multi-threaded runtime, with a worker per CPU by
    // default: 64 idle threads, each a task of the container's pids limit, on a 64-CPU node.
    // File I/O runs on the calling thread here (allow_blocking_current_thread), so one
    // worker serves. SAFETY: no other thread exists yet to read the environment.
    unsafe { std::env::set_var("TOKIO_WORKER_THREADS", "1") };
    match args.first().map(String::as_str) {
        Some("run") if args.len() >= 2 => run(&args[1], &args[2..], &env),
        Some("check") if args.len() == 1 => check(),
        Some("--version") => {
            println!("skiff-wasm {} (wasmtime, WASI preview 1)", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: skiff-wasm run MODULE [ARG0 ARG...] | skiff-wasm check < MODULE | skiff-wasm --version");
            ExitCode::from(2)
        }
    }
}

/// One engine per process: Cranelift, no compile threads (the container's pids limit and
/// its CPU share are the module's, not a compile pool's).
fn engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    Engine::new(&config)
}

/// `skiff-wasm check`: whether the module on stdin (binary, or text) validates. skiff runs
/// this at `create`, so that a bad module is refused before the container exists.
fn check() -> ExitCode {
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("read the module: {error}");
        return ExitCode::FAILURE;
    }
    if !bytes.starts_with(b"\0asm") && std::str::from_utf8(&bytes).is_err() {
        eprintln!("not a WebAssembly module: neither the binary format nor text");
        return ExitCode::FAILURE;
    }
    let result = wat::parse_bytes(&bytes).map_err(wasmtime::Error::from).and_then(|binary| Module::validate(&engine()?, &binary));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `skiff-wasm run`: instantiate `module` with WASI preview 1 and call its `_start`.
fn run(module: &str, wasi_args: &[String], env: &[(String, String)]) -> ExitCode {
    match instantiate_and_start(module, wasi_args, env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(exit) = error.downcast_ref::<I32Exit>() {
                // A status beyond 0..=255 is truncated as the kernel does with exit(2).
                return ExitCode::from(exit.0 as u8);
            }
            eprintln!("skiff-wasm: {module}: {error:?}");
            if error.downcast_ref::<wasmtime::Trap>().is_some() { ExitCode::from(TRAP_STATUS) } else { ExitCode::FAILURE }
        }
    }
}

fn instantiate_and_start(module: &str, wasi_args: &[String], env: &[(String, String)]) -> wasmtime::Result<()> {
    let engine = engine()?;
    let bytes = std::fs::read(module).map_err(|error| wasmtime::format_err!("read the module: {error}"))?;
    let module = Module::new(&engine, bytes)?;
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |ctx| ctx)?;
    let mut wasi = WasiCtxBuilder::new();
    wasi.inherit_stdio().allow_blocking_current_thread(true);
    let args: Vec<&str> = if wasi_args.is_empty() { vec![module_name(&module)] } else { wasi_args.iter().map(String::as_str).collect() };
    wasi.args(&args);
    // The environment init built for the process (process.env, HOME): non-UTF-8 entries
    // cannot be WASI strings and are left out.
    wasi.envs(env);
    wasi.preopened_dir("/", "/", FsPerms::ReadWrite)?;
    wasi.preopened_dir(".", ".", FsPerms::ReadWrite)?;
    let mut store = Store::new(&engine, wasi.build_p1());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    start.call(&mut store, ())
}

/// The module's own name for args[0] when the caller gives none.
fn module_name(module: &Module) -> &str {
    module.name().unwrap_or("module")
}
