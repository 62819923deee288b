//! Per-phase timing for `--debug`: how long each step of a command took, reported in one
//! debug line (`phases: parse and validate 0.412 ms, cgroup 0.101 ms, ...; total 2.905 ms`).
//!
//! Off (no `--debug`), a clock never reads the time and never allocates: the hot path pays
//! one branch per phase.

use std::time::{Duration, Instant};

/// The phases of one command, in the order they ended.
#[derive(Debug, Default)]
pub struct PhaseClock {
    /// When the current phase began; `None` when the clock is off.
    since: Option<Instant>,
    /// When the clock started.
    started: Option<Instant>,
    /// Each phase and its time; a phase met twice adds up.
    laps: Vec<(String, Duration)>,
}

impl PhaseClock {
    /// A clock started now when `enabled`, else one that records nothing.
    pub fn new(enabled: bool) -> PhaseClock {
        let now = enabled.then(Instant::now);
        PhaseClock { since: now, started: now, laps: Vec::new() }
    }

    /// A clock started at `began` when `enabled` (the process's first instant, say).
    pub fn started_at(enabled: bool, began: Instant) -> PhaseClock {
        let now = enabled.then_some(began);
        PhaseClock { since: now, started: now, laps: Vec::new() }
    }

    /// A clock that records nothing.
    pub fn off() -> PhaseClock {
        PhaseClock::default()
    }

    /// Whether the clock records.
    pub fn is_on(&self) -> bool {
        self.since.is_some()
    }

    /// End the current phase as `phase`: the time since the previous lap (or the start).
    pub fn lap(&mut self, phase: &str) {
        let Some(since) = self.since else { return };
        let now = Instant::now();
        self.add(phase, now - since);
        self.since = Some(now);
    }

    /// Add a phase timed elsewhere (by the container's init, say), without moving the lap.
    pub fn add(&mut self, phase: &str, took: Duration) {
        if self.since.is_none() {
            return;
        }
        match self.laps.iter_mut().find(|(name, _)| name == phase) {
            Some((_, total)) => *total += took,
            None => self.laps.push((phase.to_string(), took)),
        }
    }

    /// The phases as (name, nanoseconds), to send across a channel.
    pub fn to_wire(&self) -> Vec<(String, u64)> {
        self.laps.iter().map(|(name, took)| (name.clone(), u64::try_from(took.as_nanos()).unwrap_or(u64::MAX))).collect()
    }

    /// Add phases received as (name, nanoseconds), each name prefixed with `who`.
    pub fn add_wire(&mut self, who: &str, laps: &[(String, u64)]) {
        for (name, nanos) in laps {
            self.add(&format!("{who}: {name}"), Duration::from_nanos(*nanos));
        }
    }

    /// The debug line: every phase in milliseconds, and the total since the start.
    /// `None` when the clock is off.
    pub fn report(&self, command: &str) -> Option<String> {
        let started = self.started?;
        let phases: Vec<String> = self.laps.iter().map(|(name, took)| format!("{name} {:.3} ms", millis(*took))).collect();
        Some(format!("{command}: phases: {}; total {:.3} ms", phases.join(", "), millis(started.elapsed())))
    }
}

fn millis(took: Duration) -> f64 {
    took.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_off_clock_records_nothing() {
        let mut clock = PhaseClock::off();
        clock.lap("parse");
        clock.add("init: mounts", Duration::from_millis(3));
        assert!(!clock.is_on());
        assert!(clock.to_wire().is_empty());
        assert_eq!(clock.report("create"), None);
    }

    #[test]
    fn laps_add_up_by_name_and_keep_their_order() {
        let mut clock = PhaseClock::new(true);
        clock.lap("parse and validate");
        clock.add("state write", Duration::from_micros(1500));
        clock.add("state write", Duration::from_micros(500));
        clock.add_wire("init", &[("mounts".into(), 2_000_000)]);
        let names: Vec<String> = clock.to_wire().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["parse and validate", "state write", "init: mounts"]);
        let line = clock.report("create").unwrap();
        assert!(line.starts_with("create: phases: parse and validate "), "{line}");
        assert!(line.contains("state write 2.000 ms, init: mounts 2.000 ms; total "), "{line}");
    }
}
