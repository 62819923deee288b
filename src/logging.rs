//! runc's log lines: logrus text (`time="..." level=error msg="..."`) or JSON
//! (`{"level":"error","msg":"...","time":"..."}`), to `--log` or stderr.
//!
//! containerd's shim reads the last `"level":"error"` JSON line of its log file as the
//! runtime's error message, so a failure is logged as exactly one line holding the whole chain.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::SystemTime;

use crate::timestamp::rfc3339_seconds;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// logrus's text formatter.
    Text,
    /// logrus's JSON formatter.
    Json,
}

/// Log levels, named as logrus names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `--debug` only.
    Debug,
    /// Informational.
    Info,
    /// Something odd that did not stop the operation.
    Warning,
    /// The operation failed.
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// Where log lines go.
#[derive(Debug)]
pub struct Logger {
    format: LogFormat,
    file: Option<File>,
    debug: bool,
}

impl Logger {
    /// Open the log: `path` appended to (created 0644), or stderr.
    pub fn open(path: Option<&Path>, format: LogFormat, debug: bool) -> std::io::Result<Logger> {
        let file = match path {
            Some(path) => Some(OpenOptions::new().append(true).create(true).mode(0o644).open(path)?),
            None => None,
        };
        Ok(Logger { format, file, debug })
    }

    /// Whether lines go to stderr (then an error need not be printed twice).
    pub fn is_stderr(&self) -> bool {
        self.file.is_none()
    }

    /// Whether debug lines are written (`--debug`).
    pub fn is_debug(&self) -> bool {
        self.debug
    }

    /// Write `message` at `level` (debug lines only with `--debug`).
    pub fn log(&self, level: Level, message: &str) {
        if level == Level::Debug && !self.debug {
            return;
        }
        let line = format_line(self.format, level, message, SystemTime::now());
        // A log that cannot be written has nowhere to report to; the exit status still tells.
        let _ = match &self.file {
            Some(file) => (&*file).write_all(line.as_bytes()),
            None => std::io::stderr().write_all(line.as_bytes()),
        };
    }
}

/// One log line, newline-terminated.
pub fn format_line(format: LogFormat, level: Level, message: &str, time: SystemTime) -> String {
    let time = rfc3339_seconds(time);
    match format {
        LogFormat::Json => {
            // Keys in logrus's (sorted) order; serde_json keeps insertion order here.
            let value = serde_json::json!({"level": level.name(), "msg": message, "time": time});
            format!("{value}\n")
        }
        LogFormat::Text => format!("time=\"{time}\" level={} msg={}\n", level.name(), logrus_quote(message)),
    }
}

/// logrus quotes a value unless it is made only of `[A-Za-z0-9-._/@^+]`.
fn logrus_quote(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | '@' | '^' | '+'));
    if plain {
        return value.to_string();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_825_194)
    }

    #[test]
    fn json_line_is_logrus_shaped() {
        let line = format_line(LogFormat::Json, Level::Error, "container \"x\" failed", at());
        assert_eq!(line, "{\"level\":\"error\",\"msg\":\"container \\\"x\\\" failed\",\"time\":\"2026-11-28T00:19:54Z\"}\n");
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["level"], "error");
    }

    #[test]
    fn text_line_is_logrus_shaped() {
        let line = format_line(LogFormat::Text, Level::Error, "cannot delete container t1 that is not stopped: running", at());
        assert_eq!(line, "time=\"2026-11-28T00:19:54Z\" level=error msg=\"cannot delete container t1 that is not stopped: running\"\n");
        assert_eq!(format_line(LogFormat::Text, Level::Debug, "plain", at()), "time=\"2026-11-28T00:19:54Z\" level=debug msg=plain\n");
    }
}
