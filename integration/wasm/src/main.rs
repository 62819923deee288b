//! Compile every WebAssembly text module of integration/wasm to DIR/NAME.wasm, for the
//! images of the engine tiers (podman, containerd's CRI). tests/wasm.rs compiles the same
//! files itself.
//!
//! usage: skiff-wasm-modules DIR

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: skiff-wasm-modules DIR");
        return ExitCode::from(2);
    };
    match compile_all(Path::new(env!("CARGO_MANIFEST_DIR")), &out) {
        Ok(count) => {
            println!("{count} modules in {}", out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("skiff-wasm-modules: {error}");
            ExitCode::FAILURE
        }
    }
}

fn compile_all(sources: &Path, out: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("create {}: {e}", out.display()))?;
    let entries = std::fs::read_dir(sources).map_err(|e| format!("read {}: {e}", sources.display()))?;
    let mut count = 0;
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "wat")) {
        let binary = wat::parse_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let target = out.join(path.with_extension("wasm").file_name().unwrap_or_default());
        std::fs::write(&target, binary).map_err(|e| format!("write {}: {e}", target.display()))?;
        count += 1;
    }
    Ok(count)
}
