//! Per-key rate limit (`RATE_LIMIT_PER_MINUTE`): a token bucket per key that holds a
//! minute's allowance and refills continuously. Answers carry `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds until the bucket is full); an
//! empty bucket answers 429 with `Retry-After`.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// What a request used of its allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
}

impl Allowance {
    pub fn write(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset_secs));
    }
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::default(),
        }
    }

    /// Takes one token for `key` at `now`; `Ok(None)` when the limit is off.
    pub fn check(&self, key: &str, now: Instant) -> Result<Option<Allowance>, ApiError> {
        if self.per_minute == 0 {
            return Ok(None);
        }
        let cap = f64::from(self.per_minute);
        let per_sec = cap / 60.0;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget full buckets so a flood of distinct keys cannot grow memory without bound.
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < cap);
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens =
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec).min(cap);
        b.at = now;
        if b.tokens < 1.0 {
            let retry_after = ((1.0 - b.tokens) / per_sec).ceil().max(1.0) as u64;
            return Err(ApiError::RateLimited {
                limit: self.per_minute,
                retry_after,
            });
        }
        b.tokens -= 1.0;
        Ok(Some(Allowance {
            limit: self.per_minute,
            remaining: b.tokens.floor() as u32,
            reset_secs: ((cap - b.tokens) / per_sec).ceil() as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_minute_allowance_then_429_then_refill() {
        let rl = RateLimiter::new(3);
        let t = Instant::now();
        assert_eq!(rl.check("k", t).unwrap().unwrap().remaining, 2);
        rl.check("k", t).unwrap();
        rl.check("k", t).unwrap();
        match rl.check("k", t) {
            Err(ApiError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, 20),
            other => panic!("expected 429, got {other:?}"),
        }
        // Other keys are not affected.
        assert!(rl.check("other", t).is_ok());
        // One token back after 20 s.
        assert!(rl.check("k", t + Duration::from_secs(20)).is_ok());
        assert!(RateLimiter::new(0).check("k", t).unwrap().is_none());
    }
}
