//! Per-key request budgets, one for reads and one for writes, so a dashboard left open (which
//! polls and re-renders at up to ~127 reads a second per tab) can never spend the budget that
//! publishing scripts draw on for their writes.
//!
//! * Reads — GET and HEAD, and routes that need only the `read` scope — draw on a token
//!   bucket of `RATE_LIMIT_READ_BURST` tokens (600) refilled at
//!   `RATE_LIMIT_READS_PER_SECOND` (300).
//! * Writes — everything else — draw on a bucket holding a minute's allowance,
//!   `RATE_LIMIT_PER_MINUTE` (3,000), refilled continuously.
//!
//! Answers carry the IETF `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`
//! (seconds until the bucket is full again) and `RateLimit-Policy` (`600;w=2`) headers for
//! the budget the request drew on, and the same figures as `X-RateLimit-*` for older
//! clients. An empty bucket answers 429 with `Retry-After`, naming the budget.

use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue};
use halcytone_store::KeyLimits;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Which budget a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Read,
    Write,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Write => "write",
        }
    }
}

/// One budget: a bucket of `capacity` tokens refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub capacity: u32,
    pub per_second: f64,
}

impl Budget {
    /// `RATE_LIMIT_PER_MINUTE`: a minute's allowance, refilled continuously.
    pub fn per_minute(n: u32) -> Option<Budget> {
        (n > 0).then(|| Budget {
            capacity: n,
            per_second: f64::from(n) / 60.0,
        })
    }

    /// `RATE_LIMIT_READS_PER_SECOND` with bursts of `burst`.
    pub fn per_second(n: u32, burst: u32) -> Option<Budget> {
        (n > 0).then(|| Budget {
            capacity: burst.max(1),
            per_second: f64::from(n),
        })
    }

    /// Seconds the bucket takes to fill from empty.
    fn window_secs(&self) -> u64 {
        (f64::from(self.capacity) / self.per_second).ceil().max(1.0) as u64
    }

    fn describe(&self) -> String {
        if self.per_second >= 1.0 {
            format!(
                "{} requests per second, bursts of {}",
                self.per_second.round() as u64,
                self.capacity
            )
        } else {
            format!(
                "{} requests per minute",
                (self.per_second * 60.0).round() as u64
            )
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    reads: Option<Budget>,
    writes: Option<Budget>,
    buckets: Mutex<HashMap<(String, Kind), Bucket>>,
}

/// What a request used of its allowance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
    pub window_secs: u64,
}

impl Allowance {
    pub fn write(&self, headers: &mut HeaderMap) {
        for (name, value) in [
            ("ratelimit-limit", self.limit.into()),
            ("ratelimit-remaining", self.remaining.into()),
            ("ratelimit-reset", self.reset_secs),
            ("x-ratelimit-limit", self.limit.into()),
            ("x-ratelimit-remaining", self.remaining.into()),
            ("x-ratelimit-reset", self.reset_secs),
        ] {
            headers.insert(name, HeaderValue::from(value));
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{};w={}", self.limit, self.window_secs)) {
            headers.insert("ratelimit-policy", v);
        }
    }
}

impl RateLimiter {
    pub fn new(reads: Option<Budget>, writes: Option<Budget>) -> Self {
        RateLimiter {
            reads,
            writes,
            buckets: Mutex::default(),
        }
    }

    /// The budget of `kind` for a key with `limits`: its own where it has one (0 = off),
    /// else the service's.
    pub fn budget_for(&self, kind: Kind, limits: &KeyLimits) -> Option<Budget> {
        match kind {
            Kind::Read => match limits.reads_per_second {
                Some(n) => {
                    let burst = limits
                        .read_burst
                        .or(self.reads.map(|b| b.capacity))
                        .unwrap_or(n.saturating_mul(2));
                    Budget::per_second(n, burst.max(n))
                }
                None => match (self.reads, limits.read_burst) {
                    (Some(b), Some(burst)) => Some(Budget {
                        capacity: burst.max(1),
                        ..b
                    }),
                    (reads, _) => reads,
                },
            },
            Kind::Write => match limits.writes_per_minute {
                Some(n) => Budget::per_minute(n),
                None => self.writes,
            },
        }
    }

    /// Takes one token of `kind` for `key` at `now` from `budget` (see [`Self::budget_for`]);
    /// `Ok(None)` when there is no budget (the limit is off).
    pub fn check(
        &self,
        key: &str,
        kind: Kind,
        budget: Option<Budget>,
        now: Instant,
    ) -> Result<Option<Allowance>, ApiError> {
        let Some(budget) = budget else {
            return Ok(None);
        };
        let cap = f64::from(budget.capacity);
        let rate = budget.per_second;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget full buckets so a flood of distinct keys cannot grow memory without
            // bound (keys are authenticated first, so this takes many real keys).
            let (reads, writes) = (self.reads, self.writes);
            buckets.retain(|(_, k), b| {
                let b_rate = match k {
                    Kind::Read => reads,
                    Kind::Write => writes,
                }
                .map_or(rate, |x| x.per_second);
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * b_rate < cap
            });
        }
        let b = buckets.entry((key.to_string(), kind)).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(cap);
        b.at = now;
        if b.tokens < 1.0 {
            let retry_after = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
            return Err(ApiError::RateLimited {
                budget: kind.as_str(),
                limit: budget.describe(),
                retry_after,
                capacity: budget.capacity,
                window_secs: budget.window_secs(),
            });
        }
        b.tokens -= 1.0;
        Ok(Some(Allowance {
            limit: budget.capacity,
            remaining: b.tokens.floor() as u32,
            reset_secs: ((cap - b.tokens) / rate).ceil() as u64,
            window_secs: budget.window_secs(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn none() -> KeyLimits {
        KeyLimits::default()
    }

    fn limiter(writes_per_minute: u32, reads_per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(
            Budget::per_second(reads_per_second, burst),
            Budget::per_minute(writes_per_minute),
        )
    }

    #[test]
    fn a_minute_allowance_then_429_then_refill() {
        let rl = limiter(3, 0, 0);
        let t = Instant::now();
        let w = Kind::Write;
        assert_eq!(
            rl.check("k", w, rl.budget_for(w, &none()), t)
                .unwrap()
                .unwrap()
                .remaining,
            2
        );
        rl.check("k", w, rl.budget_for(w, &none()), t).unwrap();
        rl.check("k", w, rl.budget_for(w, &none()), t).unwrap();
        match rl.check("k", w, rl.budget_for(w, &none()), t) {
            Err(ApiError::RateLimited {
                retry_after,
                budget,
                ..
            }) => {
                assert_eq!(retry_after, 20);
                assert_eq!(budget, "write");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // Other keys are not affected.
        assert!(rl.check("other", w, rl.budget_for(w, &none()), t).is_ok());
        // One token back after 20 s.
        assert!(
            rl.check(
                "k",
                w,
                rl.budget_for(w, &none()),
                t + Duration::from_secs(20)
            )
            .is_ok()
        );
        // Budgets that are off let everything through.
        assert!(
            rl.check("k", Kind::Read, rl.budget_for(Kind::Read, &none()), t)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn reads_and_writes_are_separate_budgets() {
        let rl = limiter(2, 10, 20);
        let t = Instant::now();
        for _ in 0..2 {
            rl.check("k", Kind::Write, rl.budget_for(Kind::Write, &none()), t)
                .unwrap();
        }
        assert!(
            rl.check("k", Kind::Write, rl.budget_for(Kind::Write, &none()), t)
                .is_err()
        );
        // The write budget is spent; reads still pass, up to their burst.
        for _ in 0..20 {
            rl.check("k", Kind::Read, rl.budget_for(Kind::Read, &none()), t)
                .unwrap();
        }
        match rl.check("k", Kind::Read, rl.budget_for(Kind::Read, &none()), t) {
            Err(ApiError::RateLimited {
                budget,
                retry_after,
                limit,
                ..
            }) => {
                assert_eq!(budget, "read");
                assert_eq!(retry_after, 1);
                assert_eq!(limit, "10 requests per second, bursts of 20");
            }
            other => panic!("expected 429, got {other:?}"),
        }
        // A tenth of a second refills one read.
        assert!(
            rl.check(
                "k",
                Kind::Read,
                rl.budget_for(Kind::Read, &none()),
                t + Duration::from_millis(100)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_dashboard_polling_150_reads_a_second_never_waits_with_the_defaults() {
        let rl = limiter(3000, 300, 600);
        let t = Instant::now();
        for i in 0..(150 * 60) {
            let at = t + Duration::from_micros(i * 1_000_000 / 150);
            assert!(
                rl.check("k", Kind::Read, rl.budget_for(Kind::Read, &none()), at)
                    .is_ok(),
                "read {i}"
            );
        }
    }

    #[test]
    fn a_key_may_carry_its_own_budget() {
        let rl = limiter(3000, 300, 600);
        let t = Instant::now();
        let own = KeyLimits {
            writes_per_minute: Some(1),
            reads_per_second: Some(0),
            read_burst: None,
        };
        let w = rl.budget_for(Kind::Write, &own);
        rl.check("k", Kind::Write, w, t).unwrap();
        assert!(rl.check("k", Kind::Write, w, t).is_err());
        // Reads are off for this key: no budget, never refused.
        assert_eq!(rl.budget_for(Kind::Read, &own), None);
        // A burst alone keeps the service's rate.
        let burst = KeyLimits {
            read_burst: Some(10),
            ..KeyLimits::default()
        };
        assert_eq!(
            rl.budget_for(Kind::Read, &burst),
            Some(Budget {
                capacity: 10,
                per_second: 300.0
            })
        );
    }

    #[test]
    fn headers_name_the_budget() {
        let a = Allowance {
            limit: 600,
            remaining: 599,
            reset_secs: 1,
            window_secs: 2,
        };
        let mut h = HeaderMap::new();
        a.write(&mut h);
        assert_eq!(h["ratelimit-limit"], "600");
        assert_eq!(h["ratelimit-remaining"], "599");
        assert_eq!(h["ratelimit-reset"], "1");
        assert_eq!(h["ratelimit-policy"], "600;w=2");
        assert_eq!(h["x-ratelimit-limit"], "600");
    }
}
