//! skiff: an OCI container runtime, runc-compatible on the command line.
//!
//! The library is the Linux core: it never reads argv, never prints and never exits. The
//! binary (`main.rs`, `cli/`) parses the command line and turns errors into runc's output.


// Every module but `linux` forbids unsafe code; that one holds the syscall wrappers, each
// unsafe block under a SAFETY comment.
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
pub mod linux;
pub mod logging;
pub mod phases;
pub mod process;
pub mod resctrl;
pub mod rootless;
pub mod seccomp;
pub mod seccomp_cache;
pub mod state;
pub mod timestamp;
pub mod trace;

/// The runtime-spec version skiff implements.
pub const OCI_VERSION: &str = "1.3.0";
