//! A profile the cache does not hold, compiled on a thread of its own while the runtime goes
//! on: a large profile takes libseccomp tens of milliseconds (0.05 ms a rule), and the
//! runtime meanwhile writes the state, makes the cgroup, clones init and waits for the
//! kernel to move init into its cgroup (a wait of a whole RCU grace period when no cgroup
//! moved lately). The thread starts after init's clone, so that init is never the copy of
//! a process with a second thread (locks that thread held would stay held in init).

use oci_spec::runtime::LinuxSeccomp;

use super::cache::Miss;
use super::{SeccompError, SeccompProgram};

/// A compilation under way.
pub struct Compiling {
    thread: std::thread::JoinHandle<(Result<SeccompProgram, SeccompError>, Vec<String>)>,
}

impl Compiling {
    /// Start compiling `profile` (what the cache missed) on a thread.
    pub fn start(miss: Miss, profile: LinuxSeccomp) -> Result<Compiling, SeccompError> {
        let thread = std::thread::Builder::new()
            .name("seccomp".into())
            .spawn(move || miss.compile(&profile))
            .map_err(|e| SeccompError::Invalid(format!("start a thread to compile the profile: {e}")))?;
        Ok(Compiling { thread })
    }

    /// The program, once compiled; `trace` gets the debug lines compiling printed.
    pub fn finish(self, trace: &dyn crate::trace::Trace) -> Result<SeccompProgram, SeccompError> {
        let (program, lines) = self.thread.join().map_err(|_| SeccompError::Invalid("the compiling thread panicked".into()))?;
        lines.iter().for_each(|line| trace.debug(format_args!("{line}")));
        program
    }
}
