//! RFC 3339 UTC timestamps, as Go's time package prints them (state `created`, log `time`).

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-11-28T00:15:13.123456789Z` (nanoseconds, trailing zeros trimmed like Go's RFC3339Nano).
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let (secs, nanos) = split(time);
    let mut fraction = format!("{nanos:09}");
    while fraction.ends_with('0') {
        fraction.pop();
    }
    let dot = if fraction.is_empty() { "" } else { "." };
    format!("{}{dot}{fraction}Z", date_time(secs))
}

/// `2026-11-28T00:15:13Z` (whole seconds, like logrus's default).
pub fn rfc3339_seconds(time: SystemTime) -> String {
    format!("{}Z", date_time(split(time).0))
}

fn split(time: SystemTime) -> (i64, u32) {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => (0, 0),
    }
}

fn date_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_go() {
        let t = UNIX_EPOCH + Duration::new(1_795_825_113, 418_409_380);
        assert_eq!(rfc3339_nanos(t), "2026-11-28T00:18:33.41840938Z");
        assert_eq!(rfc3339_seconds(t), "2026-11-28T00:18:33Z");
        assert_eq!(rfc3339_nanos(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // a leap day
        assert_eq!(rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }
}
