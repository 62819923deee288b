//! Signal names as `kill` accepts them: a number, or a name with or without `SIG`, any case.

/// The C library's description of `signal` ("Bad system call"), as `strsignal(3)` gives it.
pub fn description(signal: i32) -> String {
    // SAFETY: strsignal returns a string the C library owns (static, or a per-thread buffer
    // for unknown numbers), copied here before any other call could change it.
    let text = unsafe { libc::strsignal(signal) };
    if text.is_null() {
        return format!("signal {signal}");
    }
    // SAFETY: non-null, NUL-terminated (strsignal's contract).
    unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy().into_owned()
}

/// The signals known by name, in number order (x86_64 / generic numbering).
const NAMES: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// The highest signal number the kernel accepts (`SIGRTMAX`).
const SIGNAL_MAX: i32 = 64;

/// Errors from [`parse_signal`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignalError {
    /// Neither a known name nor a number in 0..=64.
    #[error("unknown signal {0:?}")]
    Unknown(String),
}

/// Parse `9`, `KILL`, `SIGKILL`, `sigkill`, `RTMIN+2` or `SIGRTMAX-1` into a signal number.
/// `0` is taken as runc takes it: it delivers nothing and asks whether the process is alive.
pub fn parse_signal(raw: &str) -> Result<i32, SignalError> {
    let unknown = || SignalError::Unknown(raw.to_string());
    if let Ok(number) = raw.parse::<i32>() {
        return if (0..=SIGNAL_MAX).contains(&number) { Ok(number) } else { Err(unknown()) };
    }
    let upper = raw.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, number)) = NAMES.iter().find(|(n, _)| *n == name) {
        return Ok(number);
    }
    realtime_signal(name).ok_or_else(unknown)
}

/// `RTMIN`, `RTMIN+n`, `RTMAX`, `RTMAX-n` in the range the C library leaves to programs.
fn realtime_signal(name: &str) -> Option<i32> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let number = if let Some(rest) = name.strip_prefix("RTMIN") {
        min + if rest.is_empty() { 0 } else { rest.strip_prefix('+')?.parse::<i32>().ok()? }
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        max - if rest.is_empty() { 0 } else { rest.strip_prefix('-')?.parse::<i32>().ok()? }
    } else {
        return None;
    };
    (min..=max).contains(&number).then_some(number)
}

/// The conventional name of a signal number, for messages.
pub fn signal_name(number: i32) -> String {
    match NAMES.iter().find(|(_, n)| *n == number) {
        Some((name, _)) => format!("SIG{name}"),
        None => format!("signal {number}"),
    }
}

/// Wait for one of the (blocked) signals in `set`, real-time ones included (libc's sigwait:
/// nix's has no value for them). EINTR is retried.
pub fn wait_for_signal(set: &nix::sys::signal::SigSet) -> nix::Result<i32> {
    loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: a valid signal set and out pointer.
        match unsafe { libc::sigwait(set.as_ref(), &mut signal) } {
            0 => return Ok(signal),
            libc::EINTR => continue,
            errno => return Err(nix::errno::Errno::from_raw(errno)),
        }
    }
}

/// Give SIGPIPE its default disposition back (Rust ignores it in its own processes).
pub fn reset_sigpipe() -> nix::Result<()> {
    // SAFETY: setting a default disposition has no memory-safety implications.
    unsafe { nix::sys::signal::signal(nix::sys::signal::Signal::SIGPIPE, nix::sys::signal::SigHandler::SigDfl) }.map(drop)
}

/// Make each of `signals` end the process with status 128 + signal.
pub fn exit_on(signals: &[nix::sys::signal::Signal]) -> nix::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet};
    extern "C" fn exit_on_signal(signal: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + signal) }
    }
    let action = SigAction::new(SigHandler::Handler(exit_on_signal), SaFlags::empty(), SigSet::empty());
    for signal in signals {
        // SAFETY: the handler only calls _exit.
        unsafe { nix::sys::signal::sigaction(*signal, &action) }?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_spelling() {
        for raw in ["9", "KILL", "SIGKILL", "kill", "sigkill", "SigKill"] {
            assert_eq!(parse_signal(raw), Ok(9), "{raw}");
        }
        assert_eq!(parse_signal("TERM"), Ok(15));
        assert_eq!(parse_signal("SIGRTMIN+2"), Ok(libc::SIGRTMIN() + 2));
        assert_eq!(parse_signal("RTMAX"), Ok(libc::SIGRTMAX()));
        assert_eq!(parse_signal("0"), Ok(0));
    }

    #[test]
    fn refuses_unknown() {
        for raw in ["65", "-1", "SIGFOO", "", "RTMIN+99", "KILL9"] {
            assert_eq!(parse_signal(raw), Err(SignalError::Unknown(raw.into())), "{raw}");
        }
    }

    #[test]
    fn names_numbers() {
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(40), "signal 40");
    }
}
