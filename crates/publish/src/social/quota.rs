//! Posts per hour and per day for one account, counted before sending. The defaults follow
//! the networks' published limits (see settings.rs); both are configurable because they
//! depend on the API tier. The posts counted are the ones the account store remembers, so
//! every process sharing the database sees the same windows.

use std::collections::VecDeque;
use std::time::Duration;

const HOUR_MS: i64 = 3_600_000;
/// The widest window: posts older than this never count.
pub const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone)]
pub struct Quota {
    hourly: u32,
    daily: u32,
    /// When each post of the last 24 hours was sent (ms), oldest first.
    sent: VecDeque<i64>,
}

impl Quota {
    pub fn new(hourly: u32, daily: u32) -> Self {
        Quota {
            hourly,
            daily,
            sent: VecDeque::new(),
        }
    }

    /// A quota whose windows already hold the posts sent at `sent` (ms, any order).
    pub fn with_sent(hourly: u32, daily: u32, sent: impl IntoIterator<Item = i64>) -> Self {
        let mut sent: Vec<i64> = sent.into_iter().collect();
        sent.sort_unstable();
        Quota {
            hourly,
            daily,
            sent: sent.into(),
        }
    }

    fn forget_before(&mut self, now_ms: i64) {
        while self.sent.front().is_some_and(|t| *t <= now_ms - DAY_MS) {
            self.sent.pop_front();
        }
    }

    /// How long to wait before `n` more posts fit both windows (zero when they fit now), and
    /// which window is full. `n` larger than a window never fits.
    pub fn wait_for(&mut self, n: u32, now_ms: i64) -> Result<(), (Duration, String)> {
        self.forget_before(now_ms);
        let n = n as usize;
        let check = |limit: u32, window: i64, name: &str, sent: &VecDeque<i64>| {
            let in_window: Vec<i64> = sent
                .iter()
                .copied()
                .filter(|t| *t > now_ms - window)
                .collect();
            if in_window.len() + n <= limit as usize {
                return Ok(());
            }
            if n > limit as usize {
                return Err((
                    Duration::MAX,
                    format!("{n} posts exceed the {name} quota of {limit}"),
                ));
            }
            // The post that must leave the window before n more fit.
            let leaving = in_window[in_window.len() + n - limit as usize - 1];
            let wait_ms = (leaving + window - now_ms).max(0) as u64;
            Err((
                Duration::from_millis(wait_ms),
                format!("{name} quota of {limit} posts reached"),
            ))
        };
        let hourly = check(self.hourly, HOUR_MS, "hourly", &self.sent);
        let daily = check(self.daily, DAY_MS, "daily", &self.sent);
        match (hourly, daily) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(a), Err(b)) => Err(if b.0 > a.0 { b } else { a }),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    /// Counts `n` posts sent at `now_ms`.
    pub fn record(&mut self, n: u32, now_ms: i64) {
        for _ in 0..n {
            self.sent.push_back(now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hourly_window_fills_then_frees_a_slot_an_hour_after_the_oldest() {
        let mut q = Quota::new(3, 10);
        assert!(q.wait_for(3, 0).is_ok());
        q.record(1, 0);
        q.record(2, 600_000);
        let (wait, why) = q.wait_for(1, 1_200_000).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_millis(2_400_000),
            "the post at 0 leaves at 1 h"
        );
        assert_eq!(why, "hourly quota of 3 posts reached");
        assert!(q.wait_for(1, HOUR_MS + 1).is_ok());
        // A 3-part thread needs all three slots at once.
        let (wait, _) = q.wait_for(3, HOUR_MS + 1).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_millis(599_999),
            "both posts at 10 min must leave"
        );
    }

    #[test]
    fn a_quota_starts_from_the_posts_already_sent() {
        let mut q = Quota::with_sent(2, 10, [HOUR_MS / 2, 0, -DAY_MS]);
        let (wait, why) = q.wait_for(1, HOUR_MS / 2 + 1).unwrap_err();
        assert_eq!(why, "hourly quota of 2 posts reached");
        assert_eq!(wait, Duration::from_millis((HOUR_MS / 2 - 1) as u64));
        assert!(q.wait_for(1, HOUR_MS + 1).is_ok(), "the post at 0 left");
    }

    #[test]
    fn the_daily_window_counts_too_and_a_too_big_batch_never_fits() {
        let mut q = Quota::new(100, 4);
        for h in 0..4 {
            q.record(1, h * HOUR_MS);
        }
        let (wait, why) = q.wait_for(1, 5 * HOUR_MS).unwrap_err();
        assert_eq!(why, "daily quota of 4 posts reached");
        assert_eq!(wait, Duration::from_millis((DAY_MS - 5 * HOUR_MS) as u64));
        assert!(
            q.wait_for(1, DAY_MS + 1).is_ok(),
            "the first post left the window"
        );
        assert_eq!(q.wait_for(5, DAY_MS + 1).unwrap_err().0, Duration::MAX);
    }
}
