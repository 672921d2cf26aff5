//! Calendar buckets for analytics over time: each bucket starts at a local midnight (or the
//! start of a local hour) in the configured time zone (`ANALYTICS_TIME_ZONE`, else `TZ`,
//! else UTC), so a "day" is the day a reader in that zone means — 23 or 25 hours long across
//! a daylight-saving change — not a rolling 24-hour window.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// How long one bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

/// The starts of the buckets covering `[start, end)`: the first is the calendar day (or
/// hour) holding `start`, each next one the next local midnight (or hour).
pub fn bucket_starts(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tz: Tz,
    granularity: Granularity,
    max: usize,
) -> Vec<DateTime<Utc>> {
    let local = start.with_timezone(&tz).naive_local();
    let mut naive = match granularity {
        Granularity::Day => local.date().and_time(chrono::NaiveTime::MIN),
        Granularity::Hour => local
            .date()
            .and_hms_opt(local.hour(), 0, 0)
            .unwrap_or(local),
    };
    let step = match granularity {
        Granularity::Day => Duration::days(1),
        Granularity::Hour => Duration::hours(1),
    };
    let mut out: Vec<DateTime<Utc>> = Vec::new();
    while out.len() < max {
        let Some(t) = resolve(tz, naive) else { break };
        if t >= end {
            break;
        }
        if out.last().is_none_or(|last| t > *last) {
            out.push(t);
        }
        naive += step;
    }
    out
}

/// Local midnight `days` calendar days before the day holding `at`.
pub fn days_before(at: DateTime<Utc>, tz: Tz, days: u32) -> DateTime<Utc> {
    let day = at.with_timezone(&tz).date_naive() - Duration::days(i64::from(days));
    resolve(tz, day.and_time(chrono::NaiveTime::MIN))
        .unwrap_or(at - Duration::days(i64::from(days)))
}

/// A local time as an instant; a time skipped by a daylight-saving change moves forward to
/// the first instant that exists.
fn resolve(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    (0..4).find_map(|h| {
        tz.from_local_datetime(&(naive + Duration::minutes(30 * h)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The bucket (index into `starts`) holding `at`, if any.
pub fn bucket_of(starts: &[DateTime<Utc>], at: DateTime<Utc>) -> Option<usize> {
    starts.partition_point(|s| *s <= at).checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    /// The starts of the calendar days in Berlin from `from` to `to` (at most 100).
    fn berlin_days(from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let tz: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        bucket_starts(utc(from), utc(to), tz, Granularity::Day, 100)
    }

    #[test]
    fn days_start_at_local_midnight() {
        let starts = berlin_days("2026-12-01T15:00:00Z", "2026-12-03T12:00:00Z");
        assert_eq!(
            starts,
            vec![
                utc("2026-11-30T23:00:00Z"),
                utc("2026-12-01T23:00:00Z"),
                utc("2026-12-02T23:00:00Z"),
            ]
        );
        // 23:30 UTC on 1 December is already 2 December in Berlin.
        assert_eq!(bucket_of(&starts, utc("2026-12-01T23:30:00Z")), Some(1));
        assert_eq!(bucket_of(&starts, utc("2026-11-30T22:00:00Z")), None);
    }

    #[test]
    fn a_daylight_saving_day_is_23_hours_long() {
        let starts = berlin_days("2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z");
        assert_eq!(starts[1] - starts[0], Duration::hours(24));
        assert_eq!(starts[2] - starts[1], Duration::hours(23), "{starts:?}");
    }

    #[test]
    fn utc_days_and_hours() {
        let starts = bucket_starts(
            utc("2026-12-01T15:20:00Z"),
            utc("2026-12-01T18:00:00Z"),
            Tz::UTC,
            Granularity::Hour,
            100,
        );
        assert_eq!(starts.len(), 3);
        assert_eq!(starts[0], utc("2026-12-01T15:00:00Z"));
        let few = bucket_starts(
            utc("2026-12-01T00:00:00Z"),
            utc("2027-12-01T00:00:00Z"),
            Tz::UTC,
            Granularity::Day,
            10,
        );
        assert_eq!(few.len(), 10, "capped");
    }
}
