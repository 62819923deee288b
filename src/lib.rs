//! skiff: an OCI container runtime, runc-compatible on the command line.
//!
//! The library is the Linux core: it never reads argv, never prints and never exits. The
//! binary (`main.rs`, `cli/`) parses the command line and turns errors into runc's output.

// Unsafe code is refused everywhere but `sys`, the system-call wrappers: each of its unsafe
// blocks sits under a SAFETY comment (Cargo.toml's lints enforce the comment).
#![deny(unsafe_code)]

/// skiff's version (Cargo.toml's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub mod bundle;
pub mod cgroups;
pub mod container;
pub mod criu;
pub mod dbus;
pub mod default_spec;
pub mod doctor;
pub mod features;
pub mod hooks;
pub mod json_path;
pub mod logging;
pub mod phases;
pub mod process;
pub mod resctrl;
pub mod rootfs;
pub mod rootless;
pub mod seccomp;
pub mod state;
#[allow(unsafe_code)]
pub mod sys;
pub mod timestamp;
pub mod trace;
pub mod wasm;

pub use bundle::OCI_VERSION;
