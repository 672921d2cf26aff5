//! Retry policy: which failures are worth another attempt, and how long to wait —
//! exponential backoff with jitter, or the server's `Retry-After` when it gives one.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// 5xx, 408 and 429 may succeed later; every other status will not.
pub fn is_transient_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1). "Full jitter" between half
    /// and all of the exponential step, drawn from `salt` so a run is reproducible.
    pub fn backoff(&self, attempt: u32, salt: u64) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let step = step.min(self.max_delay);
        let mut z = salt ^ u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^= z >> 31;
        let fraction = 0.5 + (z % 1000) as f64 / 2000.0;
        step.mul_f64(fraction)
    }

    /// The server's `Retry-After` in seconds, capped at `max_delay`.
    pub fn retry_after(&self, header: Option<&str>) -> Option<Duration> {
        let secs: f64 = header?.trim().parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs).min(self.max_delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_statuses_retry() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!is_transient_status(s), "{s}");
        }
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        let d1 = p.backoff(1, 7);
        let d3 = p.backoff(3, 7);
        assert!(
            d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
            "{d1:?}"
        );
        assert!(
            d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
            "{d3:?}"
        );
        assert!(p.backoff(10, 7) <= Duration::from_millis(500));
        assert_eq!(p.backoff(2, 7), p.backoff(2, 7));
        assert_eq!(
            p.retry_after(Some("2")),
            Some(Duration::from_millis(500)),
            "capped"
        );
        assert_eq!(p.retry_after(Some("soon")), None);
    }
}
