//! Record the git commit for `skiff --version`, and lay the hot functions out together.
use std::path::Path;

fn main() {
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=SKIFF_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
    order_hot_symbols();
}

/// The functions a container's life runs, measured by `integration/hot-symbols.sh`, are
/// placed first and together: the kernel maps the cached binary in 64 KiB windows around
/// each page fault, so fewer windows touched is a smaller resident set (docs/performance.md).
/// Names the build no longer has are skipped silently. Only with lld, the linker of this
/// target since Rust 1.90 (GNU ld has no such option).
fn order_hot_symbols() {
    let list = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link/hot-symbols.txt");
    println!("cargo:rerun-if-changed={}", list.display());
    println!("cargo:rerun-if-env-changed=SKIFF_NO_SYMBOL_ORDER");
    let lld_default = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu") && rustc_minor().is_some_and(|minor| minor >= 90);
    // A linker chosen by flags (-C linker=, -fuse-ld=, linker features) may not be lld.
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let linker_chosen = ["linker", "fuse-ld", "link-self-contained"].iter().any(|f| flags.contains(f))
        || std::env::vars().any(|(k, _)| k.starts_with("CARGO_TARGET_") && k.ends_with("_LINKER"));
    if lld_default && !linker_chosen && list.is_file() && std::env::var_os("SKIFF_NO_SYMBOL_ORDER").is_none() {
        // -Xlinker pairs: a comma in the path would split a -Wl, argument.
        for arg in [format!("--symbol-ordering-file={}", list.display()), "--no-warn-symbol-ordering".into()] {
            println!("cargo:rustc-link-arg-bins=-Xlinker");
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}

/// The minor version of the rustc building us (`1.95.0` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace().nth(1)?.split('.').nth(1)?.parse().ok()
}
