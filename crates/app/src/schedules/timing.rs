//! When a schedule runs: parsing and checking its cron expression, time zone or one-off
//! time, and finding the next occurrence after an instant.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: String) -> Invalid {
    Invalid { field, message }
}

/// A checked timing.
#[derive(Debug, Clone)]
pub struct Timing {
    cron: Option<Cron>,
    tz: Tz,
    once: Option<DateTime<Utc>>,
}

/// Reads a time zone name from the IANA database (`America/New_York`, `UTC`).
pub fn zone(name: &str) -> Result<Tz, Invalid> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(
            "timezone",
            format!("timezone: '{name}' is not an IANA time zone (for example America/New_York, Europe/Berlin, UTC)"),
        )
    })
}

/// Parses a five-field cron expression (minute hour day-of-month month day-of-week).
pub fn cron(expr: &str) -> Result<Cron, Invalid> {
    let fields = expr.split_whitespace().count();
    if fields != 5 {
        return Err(invalid(
            "cron",
            format!(
                "cron: '{expr}' has {fields} fields; use five: minute hour day-of-month month day-of-week (0 10 * * TUE is Tuesdays at 10:00)"
            ),
        ));
    }
    expr.parse::<Cron>().map_err(|e| {
        invalid(
            "cron",
            format!("cron: '{expr}' is not a cron expression: {e}"),
        )
    })
}

impl Timing {
    /// A recurring timing, or a one-off at `once`; exactly one of the two.
    pub fn new(
        cron_expr: Option<&str>,
        timezone: &str,
        once: Option<DateTime<Utc>>,
    ) -> Result<Timing, Invalid> {
        let tz = zone(timezone)?;
        match (cron_expr.map(str::trim).filter(|c| !c.is_empty()), once) {
            (Some(_), Some(_)) => Err(invalid(
                "cron",
                "give either cron (recurring) or scheduled_for (one run), not both".into(),
            )),
            (None, None) => Err(invalid(
                "cron",
                "give cron (recurring, e.g. \"0 10 * * TUE\") or scheduled_for (one run)".into(),
            )),
            (Some(c), None) => Ok(Timing {
                cron: Some(cron(c)?),
                tz,
                once: None,
            }),
            (None, Some(t)) => Ok(Timing {
                cron: None,
                tz,
                once: Some(t),
            }),
        }
    }

    /// The first run strictly after `after` (a one-off: its time, if still ahead).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (&self.cron, self.once) {
            (Some(c), _) => c
                .find_next_occurrence(&after.with_timezone(&self.tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            (None, Some(t)) => (t > after).then_some(t),
            (None, None) => None,
        }
    }

    pub fn is_recurring(&self) -> bool {
        self.cron.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn tuesdays_at_ten_in_new_york_follow_daylight_saving() {
        let t = Timing::new(Some("0 10 * * TUE"), "America/New_York", None)
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        // Sunday 2026-11-29: the next Tuesday is 2026-12-01, 10:00 EST = 15:00 UTC.
        assert_eq!(
            t.next_after(utc(2026, 11, 29, 12, 0)),
            Some(utc(2026, 12, 1, 15, 0))
        );
        // In summer, 10:00 EDT = 14:00 UTC.
        assert_eq!(
            t.next_after(utc(2026, 7, 5, 12, 0)),
            Some(utc(2026, 7, 7, 14, 0))
        );
        // Strictly after: at the run time itself, the next one is a week later.
        assert_eq!(
            t.next_after(utc(2026, 12, 1, 15, 0)),
            Some(utc(2026, 12, 8, 15, 0))
        );
        assert!(t.is_recurring());
    }

    #[test]
    fn one_off_runs_happen_once() {
        let at = utc(2026, 12, 24, 9, 0);
        let t = Timing::new(None, "UTC", Some(at)).unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(t.next_after(utc(2026, 12, 1, 0, 0)), Some(at));
        assert_eq!(t.next_after(at), None);
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = |r: Result<Timing, Invalid>| r.err().map(|e| e.field);
        assert_eq!(e(Timing::new(Some("0 10 * *"), "UTC", None)), Some("cron"));
        assert_eq!(
            e(Timing::new(Some("0 25 * * *"), "UTC", None)),
            Some("cron")
        );
        assert_eq!(
            e(Timing::new(Some("0 10 * * TUE"), "Mars/Olympus", None)),
            Some("timezone")
        );
        assert_eq!(e(Timing::new(None, "UTC", None)), Some("cron"));
        assert_eq!(
            e(Timing::new(
                Some("0 10 * * TUE"),
                "UTC",
                Some(utc(2027, 1, 1, 0, 0))
            )),
            Some("cron")
        );
        assert_eq!(
            e(Timing::new(Some("0 0 10 * * TUE"), "UTC", None)),
            Some("cron")
        );
    }
}
