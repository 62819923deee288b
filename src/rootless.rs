//! Whether skiff runs rootless, as runc decides it for `--rootless auto|true|false`, and where
//! a rootless runtime keeps its state.

use std::path::PathBuf;

/// The `--rootless` value is not one runc accepts.
#[derive(Debug, thiserror::Error)]
#[error("--rootless {0:?}: expected true, false or auto")]
pub struct RootlessFlagError(pub String);

/// Rootless when the flag says so; with `auto` (or no flag) when the effective uid is not 0,
/// or when skiff runs in a user namespace that does not map the whole id range (rootless
/// podman runs its runtime as root of such a namespace).
pub fn is_rootless(flag: Option<&str>) -> Result<bool, RootlessFlagError> {
    match flag.unwrap_or("auto") {
        "true" => Ok(true),
        "false" => Ok(false),
        "auto" => Ok(!nix::unistd::geteuid().is_root() || in_user_namespace()),
        other => Err(RootlessFlagError(other.to_string())),
    }
}

/// Whether this process runs in a user namespace that does not map the whole id range (the
/// runtime of rootless podman, say). Read once per process; init, a clone of the runtime,
/// inherits the answer when the runtime asked first.
pub fn in_user_namespace() -> bool {
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| !maps_whole_range(&std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default()))
}

/// Whether a `uid_map` is the initial namespace's identity map of every id.
pub fn maps_whole_range(uid_map: &str) -> bool {
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    // An unreadable map reads empty: take it as the host's, as runc does.
    fields.is_empty() || fields == ["0", "0", "4294967295"]
}

/// The state root a rootless runtime uses when `--root` is not given: `$XDG_RUNTIME_DIR/skiff`
/// (runc: `$XDG_RUNTIME_DIR/runc`); without the variable, the default root.
pub fn default_state_root(xdg_runtime_dir: Option<&str>, default: PathBuf) -> PathBuf {
    match xdg_runtime_dir.filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("skiff"),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_range_and_flags() {
        assert!(maps_whole_range("         0          0 4294967295\n"));
        assert!(!maps_whole_range("         0       1000          1\n"));
        assert!(!maps_whole_range("0 1000 1\n1 100000 65536\n"));
        assert!(maps_whole_range(""));
        assert!(is_rootless(Some("true")).unwrap());
        assert!(!is_rootless(Some("false")).unwrap());
        assert!(is_rootless(Some("maybe")).is_err());
        assert_eq!(default_state_root(Some("/run/user/1000"), "/run/skiff".into()), PathBuf::from("/run/user/1000/skiff"));
        assert_eq!(default_state_root(Some(""), "/run/skiff".into()), PathBuf::from("/run/skiff"));
        assert_eq!(default_state_root(None, "/run/skiff".into()), PathBuf::from("/run/skiff"));
    }
}
