//! Reading `/proc/<pid>/stat`: whether a process is alive and when it started.
//!
//! The start time (field 22, clock ticks since boot) tells a pid apart from a later process
//! that reused it, so status is never derived from the pid alone.

use std::fs;

/// What the runtime needs to know about a process from its stat line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// The one-letter state (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
}

impl ProcStat {
    /// Whether the process has exited but not been reaped (or is dead).
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parse a stat line. The command name may hold spaces and parentheses, so fields are
/// counted after the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let after = &line[line.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    // after ")": field 3 is the state, field 22 the start time.
    let state = fields.next()?.chars().next()?;
    let start_time = fields.nth(22 - 4)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// Read the stat of `pid`; `None` when the process does not exist.
pub fn read_stat(pid: i32) -> Option<ProcStat> {
    let line = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&line)
}

/// Whether `pid` is a live (not zombie) process that started at `start_time`.
pub fn is_alive(pid: i32, start_time: u64) -> bool {
    match read_stat(pid) {
        Some(stat) => !stat.is_dead() && stat.start_time == start_time,
        None => false,
    }
}

/// Every process in the pid namespace of `pid` (itself included), sorted: the processes
/// whose `/proc/N/ns/pid` is the same namespace.
pub fn pids_in_pid_namespace_of(pid: i32) -> Vec<i32> {
    let namespace = |p: &str| fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(wanted) = namespace(&pid.to_string()) else { return Vec::new() };
    let mut pids: Vec<i32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()))
        .filter(|p| namespace(&p.to_string()).as_ref() == Some(&wanted))
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_with_spaces_and_parens() {
        let line = "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat, ProcStat { state: 'S', start_time: 98765 });
        assert!(!stat.is_dead());
    }

    #[test]
    fn zombie_is_dead() {
        let line = "7 (sh) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0";
        assert!(parse_stat(line).unwrap().is_dead());
    }

    #[test]
    fn truncated_line_is_none() {
        assert_eq!(parse_stat("7 (sh) S 1 2"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn own_process_is_alive() {
        let me = std::process::id() as i32;
        let stat = read_stat(me).unwrap();
        assert!(is_alive(me, stat.start_time));
        assert!(!is_alive(me, stat.start_time + 1));
    }
}
