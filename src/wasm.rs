//! WebAssembly containers, selected by crun's annotations: the entrypoint runs as a WASI
//! module under skiff's wasm handler, the companion executable `skiff-wasm` (built from
//! wasm-handler/ in this workspace, wasmtime inside).
//!
//! The container is set up exactly as for a native process. Only the last step differs:
//! where init (or `exec`) would execve the entrypoint, it executes the handler instead, by
//! an fd the runtime opened, with the module's path and the process's arguments. skiff's
//! own binary links none of wasmtime, so a native container pays nothing for this
//! (docs/architecture.md, WebAssembly).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::sys::SysError;
use crate::sys::exe_seal::BinarySeal;

/// The handler annotation, as a Kubernetes RuntimeClass's pods carry it (crun's).
pub const HANDLER_ANNOTATION: &str = "run.oci.handler";
/// The image variant annotation, as podman users pass it (crun's).
pub const VARIANT_ANNOTATION: &str = "module.wasm.image/variant";
/// The companion executable's file name.
pub const HANDLER_NAME: &str = "skiff-wasm";
/// The annotations by which containerd's CRI plugin and CRI-O mark a pod's sandbox container.
const SANDBOX_MARKERS: [&str; 2] = ["io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"];
/// The first four bytes of every WebAssembly binary.
const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// When the entrypoint runs as WASI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmMode {
    /// `wasm`, `compat`: always (a `.wasm` binary or `.wat` text).
    Always,
    /// `wasm-smart`, `compat-smart`: only when the file is a WebAssembly binary; anything
    /// else is executed as usual (a pod's native sidecars).
    Smart,
}

impl WasmMode {
    /// The mode the annotations ask for, and the annotation that asked; `None` without one.
    /// Other values of these keys are other runtimes' business and are ignored, as runc
    /// ignores them all.
    ///
    /// A Kubernetes pod's sandbox (its pause container) is never a module: containerd's
    /// `pod_annotations` hand a pod's `run.oci.handler: wasm` to the sandbox as well as to the
    /// containers, and the pause program is native.
    pub fn of(annotations: &HashMap<String, String>) -> Option<(WasmMode, &'static str, &str)> {
        let sandbox = SANDBOX_MARKERS.iter().any(|key| annotations.get(*key).is_some_and(|v| v == "sandbox"));
        if sandbox {
            return None;
        }
        let asked = |key: &'static str, always: &str, smart: &str| {
            let value = annotations.get(key)?;
            let mode = match value.as_str() {
                v if v == always => WasmMode::Always,
                v if v == smart => WasmMode::Smart,
                _ => return None,
            };
            Some((mode, key, value.as_str()))
        };
        asked(HANDLER_ANNOTATION, "wasm", "wasm-smart").or_else(|| asked(VARIANT_ANNOTATION, "compat", "compat-smart"))
    }
}

/// Whether `head` (a file's first bytes) starts a WebAssembly binary.
pub fn is_wasm_binary(head: &[u8]) -> bool {
    head.starts_with(WASM_MAGIC)
}

/// What init (or `exec`) needs to run the entrypoint as WASI: the handler, opened by the
/// runtime in a form no container process can write (sealed, as skiff's own binary is
/// against CVE-2019-5736), and when to use it.
#[derive(Debug)]
pub struct WasmLaunch {
    /// The handler, for `execveat(fd, "", AT_EMPTY_PATH)`.
    pub handler: OwnedFd,
    /// When the entrypoint is a module.
    pub mode: WasmMode,
}

/// Why a WebAssembly container cannot be made.
#[derive(Debug, Error)]
pub enum WasmError {
    /// A wasm annotation, and no handler installed.
    #[error(
        "the annotation {annotation}={value} asks for WebAssembly, but skiff's wasm handler ({HANDLER_NAME}) is not installed: looked in {looked} (make install, or the skiff .deb, ships it)"
    )]
    NoHandler {
        /// The annotation's key.
        annotation: &'static str,
        /// Its value.
        value: String,
        /// The directories searched.
        looked: String,
    },
    /// The module is not one wasmtime will run.
    #[error("wasm module {module}: {reason}")]
    Invalid {
        /// The module's path in the container.
        module: String,
        /// The handler's verdict.
        reason: String,
    },
    /// The handler could not be run to check the module.
    #[error("run the wasm handler {} to check the module {module}: {source}", handler.display())]
    Check {
        /// The handler's path.
        handler: PathBuf,
        /// The module's path in the container.
        module: String,
        /// Why.
        source: std::io::Error,
    },
    /// A system call failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// Where the handler is looked for: beside the skiff that runs, then in `PATH`. The binary
/// fills it in (the core never reads argv): skiff runs from a detached mount of itself whose
/// /proc/self/exe names no directory, so "beside" is where it was invoked from.
#[derive(Debug, Clone, Default)]
pub struct HandlerSearch {
    /// The skiff binary as invoked (argv[0]): a path, or a name found in `PATH`.
    pub invoked: Option<PathBuf>,
    /// The `PATH` to search.
    pub path: Option<OsString>,
}

impl HandlerSearch {
    /// The directories searched, in order.
    fn dirs(&self) -> Vec<PathBuf> {
        let path_dirs: Vec<PathBuf> =
            self.path.as_deref().map(|p| std::env::split_paths(p).filter(|d| !d.as_os_str().is_empty()).collect()).unwrap_or_default();
        let program = match &self.invoked {
            Some(invoked) if invoked.components().count() > 1 => Some(invoked.clone()),
            Some(name) => path_dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()),
            None => None,
        };
        let beside = program.as_deref().and_then(Path::parent).map(|dir| if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_path_buf() });
        beside.into_iter().chain(path_dirs).collect()
    }

    /// The handler's path, if one is installed where this search looks.
    pub fn find(&self) -> Option<PathBuf> {
        self.dirs().into_iter().map(|dir| dir.join(HANDLER_NAME)).find(|candidate| is_executable_file(candidate))
    }

    /// The directories searched, for an error.
    fn looked(&self) -> String {
        self.dirs().iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    }
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The handler for a container whose annotations ask for one, opened sealed: an error names
/// the annotation when none is installed. `binary` is how skiff's own binary is sealed; when
/// it is immutable (and so the process holds no CAP_LINUX_IMMUTABLE), so may the handler be.
fn open_handler(annotations: &HashMap<String, String>, search: &HandlerSearch, binary: BinarySeal) -> Result<Option<(WasmLaunch, PathBuf)>, WasmError> {
    let Some((mode, annotation, value)) = WasmMode::of(annotations) else { return Ok(None) };
    let Some(path) = search.find() else {
        return Err(WasmError::NoHandler { annotation, value: value.to_string(), looked: search.looked() });
    };
    let handler = crate::sys::exe_seal::sealed_executable(&path, binary == BinarySeal::Immutable)?;
    Ok(Some((WasmLaunch { handler, mode }, path)))
}

/// For `create`: the launch, when the config's annotations ask for WebAssembly, after the
/// module was checked. The module is looked up in the bundle's root filesystem (as init
/// will, by `process.cwd` and the process's `PATH`) and validated by the handler, so that a
/// module that does not validate is refused before anything exists. One that is not in the
/// root filesystem (on a volume, say) is left to init, which reports it missing at create.
pub fn prepare_for_create(
    annotations: &HashMap<String, String>,
    search: &HandlerSearch,
    rootfs: &Path,
    process: &oci_spec::runtime::Process,
    binary: BinarySeal,
) -> Result<Option<WasmLaunch>, WasmError> {
    let Some((launch, handler)) = open_handler(annotations, search, binary)? else { return Ok(None) };
    let args = process.args().as_deref().unwrap_or_default();
    let Some(name) = args.first() else { return Ok(Some(launch)) };
    let env = process.env().as_deref().unwrap_or_default();
    let path = env.iter().find_map(|e| e.strip_prefix("PATH="));
    let root = crate::sys::fs_in_root::RootDir::open(rootfs)?;
    // Found by O_PATH, and opened for reading only once it is a regular file: the host's root
    // must not open a device node or a FIFO of the image.
    let found = module_candidates(name, process.cwd(), path).into_iter().find_map(|candidate| {
        let fd = root.open_in(&candidate, libc::O_PATH | libc::O_CLOEXEC).ok()?;
        let regular = nix::sys::stat::fstat(fd.as_raw_fd()).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG);
        regular.then_some((candidate, fd))
    });
    let Some((module, fd)) = found else { return Ok(Some(launch)) };
    let reopen = crate::sys::fs_in_root::fd_path(&fd);
    let mut file = std::fs::File::open(&reopen).map_err(|e| SysError::io("open", root.display(&module), &e))?;
    let mut head = [0u8; 4];
    let read = file.read(&mut head).map_err(|e| SysError::io("read", root.display(&module), &e))?;
    if launch.mode == WasmMode::Smart && !is_wasm_binary(&head[..read]) {
        return Ok(Some(launch));
    }
    check_module(&handler, &module, file)?;
    Ok(Some(launch))
}

/// For `exec`: the launch when the container's annotations ask for WebAssembly. A process
/// exec'd into such a container runs as WASI only when its program is a WebAssembly binary:
/// a shell or any native tool runs as usual.
pub fn prepare_for_exec(annotations: &HashMap<String, String>, search: &HandlerSearch, binary: BinarySeal) -> Result<Option<WasmLaunch>, WasmError> {
    Ok(open_handler(annotations, search, binary)?.map(|(launch, _)| WasmLaunch { mode: WasmMode::Smart, ..launch }))
}

/// Where `name` may be, as exec(3p) looks for a program: a path relative to `cwd` when it has
/// a slash, else in each directory of `path` (the process's PATH, or init's default).
pub fn module_candidates(name: &str, cwd: &Path, path: Option<&str>) -> Vec<PathBuf> {
    if name.contains('/') {
        return vec![cwd.join(name)];
    }
    let path = path.unwrap_or(crate::process::DEFAULT_PATH);
    path.split(':').map(|dir| Path::new(if dir.is_empty() { "." } else { dir })).map(|dir| cwd.join(dir).join(name)).collect()
}

/// Run `handler check` on `module` (its file as stdin): an error carries the handler's message.
fn check_module(handler: &Path, module: &Path, mut file: std::fs::File) -> Result<(), WasmError> {
    use std::io::Seek;
    let shown = module.display().to_string();
    let io_error = |source| WasmError::Check { handler: handler.to_path_buf(), module: shown.clone(), source };
    file.rewind().map_err(io_error)?;
    let output = std::process::Command::new(handler)
        .arg("check")
        .stdin(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(io_error)?;
    if output.status.success() {
        return Ok(());
    }
    let message = String::from_utf8_lossy(&output.stderr);
    let reason = match message.trim() {
        "" => format!("the handler refused it ({})", output.status),
        text => format!("does not validate: {}", text.lines().next().unwrap_or(text)),
    };
    Err(WasmError::Invalid { module: shown, reason })
}

/// The handler's argv for running `module` with the process's `args` (its WASI args).
pub fn handler_argv(module: OsString, args: &[String]) -> Vec<OsString> {
    let mut argv = vec![OsString::from(HANDLER_NAME), OsString::from("run"), module];
    argv.extend(args.iter().map(OsString::from));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn crun_annotations_select_the_mode_and_anything_else_does_not() {
        let mode = |pairs: &[(&str, &str)]| WasmMode::of(&annotations(pairs)).map(|(mode, key, _)| (mode, key));
        assert_eq!(mode(&[("run.oci.handler", "wasm")]), Some((WasmMode::Always, HANDLER_ANNOTATION)));
        assert_eq!(mode(&[("run.oci.handler", "wasm-smart")]), Some((WasmMode::Smart, HANDLER_ANNOTATION)));
        assert_eq!(mode(&[("module.wasm.image/variant", "compat")]), Some((WasmMode::Always, VARIANT_ANNOTATION)));
        assert_eq!(mode(&[("module.wasm.image/variant", "compat-smart")]), Some((WasmMode::Smart, VARIANT_ANNOTATION)));
        assert_eq!(mode(&[]), None);
        assert_eq!(mode(&[("run.oci.handler", "krun")]), None);
        assert_eq!(mode(&[("module.wasm.image/variant", "WASM")]), None);
        assert_eq!(mode(&[("io.kubernetes.cri.container-type", "container")]), None);
        // a pod's containers follow the pod's annotation; its sandbox (pause) never does
        let pod = ("run.oci.handler", "wasm");
        assert_eq!(mode(&[pod, ("io.kubernetes.cri.container-type", "container")]), Some((WasmMode::Always, HANDLER_ANNOTATION)));
        assert_eq!(mode(&[pod, ("io.kubernetes.cri.container-type", "sandbox")]), None);
        assert_eq!(mode(&[pod, ("io.kubernetes.cri-o.ContainerType", "sandbox")]), None);
    }

    #[test]
    fn only_the_magic_bytes_make_a_webassembly_binary() {
        assert!(is_wasm_binary(b"\0asm\x01\0\0\0"));
        assert!(!is_wasm_binary(b"\x7fELF\x02\x01"));
        assert!(!is_wasm_binary(b"(module)"));
        assert!(!is_wasm_binary(b"\0as"));
        assert!(!is_wasm_binary(b""));
    }

    #[test]
    fn a_module_is_looked_up_as_exec_looks_up_a_program() {
        let cwd = Path::new("/work");
        assert_eq!(module_candidates("/m/hello.wasm", cwd, None), vec![PathBuf::from("/m/hello.wasm")]);
        assert_eq!(module_candidates("./hello.wasm", cwd, None), vec![PathBuf::from("/work/./hello.wasm")]);
        assert_eq!(
            module_candidates("hello.wasm", cwd, Some("/bin::rel")),
            vec![PathBuf::from("/bin/hello.wasm"), PathBuf::from("/work/./hello.wasm"), PathBuf::from("/work/rel/hello.wasm")]
        );
        assert_eq!(module_candidates("hello.wasm", cwd, None).len(), crate::process::DEFAULT_PATH.split(':').count());
    }

    #[test]
    fn the_handler_is_found_beside_skiff_then_in_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (bin, other, empty) = (dir.path().join("bin"), dir.path().join("other"), dir.path().join("empty"));
        for d in [&bin, &other, &empty] {
            std::fs::create_dir(d).unwrap();
        }
        let install = |d: &Path, mode: u32| {
            std::fs::write(d.join(HANDLER_NAME), "").unwrap();
            std::fs::set_permissions(d.join(HANDLER_NAME), std::fs::Permissions::from_mode(mode)).unwrap();
        };
        install(&bin, 0o755);
        install(&other, 0o755);
        std::fs::write(bin.join("skiff"), "").unwrap();
        let path = std::env::join_paths([&empty, &other, &bin]).unwrap();
        let search = |invoked: Option<&Path>| HandlerSearch { invoked: invoked.map(Path::to_path_buf), path: Some(path.clone()) };
        // beside the binary invoked by its path, before PATH
        assert_eq!(search(Some(&bin.join("skiff"))).find(), Some(bin.join(HANDLER_NAME)));
        // invoked by name: where PATH found skiff (bin), still before the PATH order (other)
        assert_eq!(search(Some(Path::new("skiff"))).find(), Some(bin.join(HANDLER_NAME)));
        // with nothing beside it, PATH's first
        assert_eq!(search(Some(&empty.join("skiff"))).find(), Some(other.join(HANDLER_NAME)));
        assert_eq!(search(None).find(), Some(other.join(HANDLER_NAME)));
        // a file that is not executable is no handler; none at all is None, and says where it looked
        install(&other, 0o644);
        install(&bin, 0o644);
        let none = search(Some(&empty.join("skiff")));
        assert_eq!(none.find(), None);
        assert_eq!(none.looked(), format!("{}, {}, {}, {}", empty.display(), empty.display(), other.display(), bin.display()));
    }

    #[test]
    fn the_handler_runs_the_module_with_the_process_args() {
        let argv = handler_argv(OsString::from("/hello.wasm"), &["hello.wasm".to_string(), "--x".to_string()]);
        assert_eq!(argv, ["skiff-wasm", "run", "/hello.wasm", "hello.wasm", "--x"].map(OsString::from));
    }
}
