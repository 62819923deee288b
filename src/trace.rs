//! What a core operation reports while it works: `--debug` lines, warnings, and the phase
//! clock's laps. One handle, passed as `&dyn Trace`, in place of a debug callback and a clock
//! threaded side by side; the binary's context implements it, tests use [`Silent`].

use std::cell::RefCell;
use std::fmt;

/// The reporting side of a command.
pub trait Trace {
    /// A `--debug` line. `format_args!` keeps it lazy: formatted only when debug lines are kept.
    fn debug(&self, line: fmt::Arguments<'_>);
    /// A warning: logged, the command goes on.
    fn warn(&self, line: &str);
    /// End the current phase of `--debug`'s timing as `phase`.
    fn lap(&self, phase: &str);
    /// Whether phases are timed (then init and an exec'd process time theirs too).
    fn timing(&self) -> bool;
    /// Phases another process timed (`who`: "init", "process"), as (name, nanoseconds).
    fn add_laps(&self, who: &str, laps: &[(String, u64)]);
}

/// A trace that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Trace for Silent {
    fn debug(&self, _: fmt::Arguments<'_>) {}
    fn warn(&self, _: &str) {}
    fn lap(&self, _: &str) {}
    fn timing(&self) -> bool {
        false
    }
    fn add_laps(&self, _: &str, _: &[(String, u64)]) {}
}

/// A trace that keeps its debug lines and warnings, in order (the seccomp cache stores a
/// compilation's lines; tests read them), and passes everything on to `inner`.
pub struct Recorder<'a> {
    inner: &'a dyn Trace,
    /// Debug lines, as written.
    pub lines: RefCell<Vec<String>>,
}

impl<'a> Recorder<'a> {
    /// A recorder in front of `inner`.
    pub fn new(inner: &'a dyn Trace) -> Recorder<'a> {
        Recorder { inner, lines: RefCell::new(Vec::new()) }
    }

    /// The debug lines recorded.
    pub fn into_lines(self) -> Vec<String> {
        self.lines.into_inner()
    }
}

impl Trace for Recorder<'_> {
    fn debug(&self, line: fmt::Arguments<'_>) {
        let line = line.to_string();
        self.inner.debug(format_args!("{line}"));
        self.lines.borrow_mut().push(line);
    }
    fn warn(&self, line: &str) {
        self.inner.warn(line);
    }
    fn lap(&self, phase: &str) {
        self.inner.lap(phase);
    }
    fn timing(&self) -> bool {
        self.inner.timing()
    }
    fn add_laps(&self, who: &str, laps: &[(String, u64)]) {
        self.inner.add_laps(who, laps);
    }
}
