//! What the content benchmarks share.

use chrono::{DateTime, TimeZone, Utc};

/// The time the benchmarks compose at (2026-11-24 09:00 UTC), so every run composes the same.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap_or_default()
}
