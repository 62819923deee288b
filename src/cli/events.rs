//! `skiff events`: container statistics and OOM notices as JSON lines.

use std::time::Duration;

use clap::Args;

use super::Context;

// Arguments of `events`. (A plain comment: clap would show a doc comment as the
// command's description, over the one the command list gives it.)
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Set the stats collection interval (a Go duration such as 5s or 500ms).
    #[arg(long, default_value = "5s", value_parser = parse_go_duration)]
    pub interval: Duration,
    /// Display the container's stats then exit.
    #[arg(long)]
    pub stats: bool,
    /// The container id.
    pub id: String,
}

pub fn run(args: EventsArgs, context: &Context) -> anyhow::Result<i32> {
    if args.stats {
        let event = skiff::container::events_stats(&context.store, &args.id)?;
        println!("{}", serde_json::to_string(&event)?);
        return Ok(0);
    }
    skiff::container::watch_events(&context.store, &args.id, args.interval, |event| {
        // A closed stdout ends the stream at the next write; nothing to report then.
        if let Ok(line) = serde_json::to_string(event) {
            println!("{line}");
        }
    })?;
    Ok(0)
}

/// Parse a Go duration: a sequence of decimal numbers with units ns, us (µs), ms, s, m, h.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += number * seconds;
        rest = &rest[unit_end..];
    }
    if total <= 0.0 {
        return Err(format!("duration {text:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_go_duration("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_go_duration("250us").unwrap(), Duration::from_micros(250));
        for bad in ["", "5", "5x", "s", "-1s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }
}
