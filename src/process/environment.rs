//! The process's environment as runc builds it: each variable once, the last occurrence
//! winning (at its place), and `HOME` from the user's passwd entry when the config leaves
//! it unset or empty.

/// `env` deduplicated (the last `KEY=` wins, where it stands) with `HOME` supplied by
/// `home` when missing or empty. Entries without `=` are kept as they are.
pub fn process_environment(env: &[String], home: impl FnOnce() -> String) -> Vec<String> {
    let key = |entry: &str| entry.split_once('=').map(|(key, _)| key.to_string());
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<String> = Vec::with_capacity(env.len() + 1);
    let mut home_is_set = false;
    for entry in env.iter().rev() {
        match key(entry) {
            Some(name) if !seen.insert(name.clone()) => continue,
            // An empty HOME is replaced below, as if unset.
            Some(name) if name == "HOME" && entry.len() == "HOME=".len() => continue,
            Some(name) if name == "HOME" => home_is_set = true,
            _ => {}
        }
        kept.push(entry.clone());
    }
    kept.reverse();
    if !home_is_set {
        kept.push(format!("HOME={}", home()));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(entries: &[&str]) -> Vec<String> {
        process_environment(&entries.iter().map(|e| e.to_string()).collect::<Vec<_>>(), || "/root".into())
    }

    #[test]
    fn the_last_occurrence_wins_once_and_an_empty_home_is_the_users() {
        assert_eq!(env(&["HOME=/override", "PATH=/bin"]), ["HOME=/override", "PATH=/bin"]);
        assert_eq!(env(&["HOME=", "PATH=/bin"]), ["PATH=/bin", "HOME=/root"]);
        assert_eq!(env(&["HOME=/override", "HOME=", "PATH=/bin"]), ["PATH=/bin", "HOME=/root"]);
        assert_eq!(env(&["ONE=two", "ONE=", "PATH=/usr/bin:/bin"]), ["ONE=", "PATH=/usr/bin:/bin", "HOME=/root"]);
        assert_eq!(env(&["ONE=two", "PATH=/bin", "ONE=three"]), ["PATH=/bin", "ONE=three", "HOME=/root"]);
        assert_eq!(env(&["NEW_LINE=\n", "odd"]), ["NEW_LINE=\n", "odd", "HOME=/root"]);
    }
}
