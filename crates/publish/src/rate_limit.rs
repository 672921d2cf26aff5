//! Per-channel pacing: at most `per_second` requests a second, spaced evenly within this
//! process — and, once a [`SharedRate`] is attached, taken from a bucket every replica shares,
//! so N processes together keep to the rate instead of N times it.

use async_trait::async_trait;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A token bucket shared by every process (the application backs it with the database).
#[async_trait]
pub trait SharedRate: Send + Sync + std::fmt::Debug {
    /// Takes up to `want` tokens of bucket `name` refilled at `rate` a second up to `burst`;
    /// answers how many were granted (0 when it is dry) and the tokens left.
    async fn take(
        &self,
        name: &str,
        want: u32,
        rate: f64,
        burst: f64,
    ) -> Result<(u32, f64), String>;
}

/// The shortest wait worth a sleep (the timer's resolution).
const MIN_SLEEP: Duration = Duration::from_millis(1);

#[derive(Debug)]
struct Shared {
    bucket: Arc<dyn SharedRate>,
    name: String,
    /// Tokens granted to this process and not yet spent.
    stash: Mutex<u32>,
}

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    rate: f64,
    next: Mutex<Option<Instant>>,
    shared: OnceLock<Shared>,
}

impl RateLimiter {
    pub fn per_second(rate: f64) -> Self {
        let interval = if rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        RateLimiter {
            interval,
            rate,
            next: Mutex::new(None),
            shared: OnceLock::new(),
        }
    }

    /// Paces this limiter also by bucket `name` of `bucket`, shared with other processes
    /// (once; a second call is ignored). A rate of 0 (unpaced) stays unpaced.
    pub fn share(&self, bucket: Arc<dyn SharedRate>, name: &str) {
        if self.rate > 0.0 {
            let _ = self.shared.set(Shared {
                bucket,
                name: name.to_string(),
                stash: Mutex::new(0),
            });
        }
    }

    /// Waits until the next slot (this process's spacing, then a token of the shared bucket
    /// when one is attached); returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let local = self.pace().await;
        match self.shared.get() {
            Some(shared) => local + self.take_shared(shared).await,
            None => local,
        }
    }

    /// One token of the shared bucket: from this process's stash, else taken from the bucket
    /// in chunks of about 50 ms of sending, waiting while it is dry. A bucket that cannot be
    /// reached is logged and not waited for (this process's own pacing still holds).
    async fn take_shared(&self, shared: &Shared) -> Duration {
        let started = Instant::now();
        let mut stash = shared.stash.lock().await;
        if *stash > 0 {
            *stash -= 1;
            return Duration::ZERO;
        }
        let chunk = (self.rate / 20.0).ceil().clamp(1.0, 1_000.0) as u32;
        let burst = (self.rate / 10.0).max(f64::from(chunk));
        loop {
            match shared
                .bucket
                .take(&shared.name, chunk, self.rate, burst)
                .await
            {
                Ok((granted, _)) if granted > 0 => {
                    *stash = granted - 1;
                    return started.elapsed();
                }
                Ok((_, left)) => {
                    // Until one whole token is back.
                    let missing = (1.0 - left).clamp(0.0, 1.0);
                    let wait = Duration::from_secs_f64((missing / self.rate).max(0.001));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    tracing::warn!(bucket = %shared.name, error = %e, "shared send rate unavailable; pacing this process alone");
                    return started.elapsed();
                }
            }
        }
    }

    /// This process's even spacing.
    async fn pace(&self) -> Duration {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        let slot = next.map_or(now, |n| n.max(now));
        *next = Some(slot + self.interval);
        drop(next);
        let wait = slot.saturating_duration_since(now);
        // The timer's resolution is a millisecond: a shorter sleep would last a whole one and
        // hold a fast sender far below its rate. Slots keep their spacing, so a wait skipped
        // now is made up when the debt reaches a millisecond.
        if wait >= MIN_SLEEP {
            tokio::time::sleep(wait).await;
            return wait;
        }
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket in memory, as the store keeps it.
    #[derive(Debug, Default)]
    struct Bucket(std::sync::Mutex<Option<(f64, Instant)>>);

    #[async_trait]
    impl SharedRate for Bucket {
        async fn take(
            &self,
            _: &str,
            want: u32,
            rate: f64,
            burst: f64,
        ) -> Result<(u32, f64), String> {
            let mut b = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let (tokens, at) = b.unwrap_or((burst, now));
            let avail = (tokens + now.duration_since(at).as_secs_f64() * rate).min(burst);
            let granted = avail.floor().min(f64::from(want));
            *b = Some((avail - granted, now));
            Ok((granted as u32, avail - granted))
        }
    }

    #[tokio::test]
    async fn three_limiters_on_one_shared_bucket_keep_one_rate() {
        let bucket: Arc<dyn SharedRate> = Arc::new(Bucket::default());
        let limiters: Vec<Arc<RateLimiter>> = (0..3)
            .map(|_| {
                let l = RateLimiter::per_second(200.0);
                l.share(bucket.clone(), "email");
                Arc::new(l)
            })
            .collect();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for l in &limiters {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..100 {
                    l.acquire().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 300 acquisitions at 200 a second together, less the bucket's first 20: ≥ 1.4 s.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1_350), "{took:?}");
    }

    #[tokio::test]
    async fn spaces_requests() {
        let r = RateLimiter::per_second(50.0);
        let start = Instant::now();
        for _ in 0..4 {
            r.acquire().await;
        }
        assert!(
            start.elapsed() >= Duration::from_millis(55),
            "{:?}",
            start.elapsed()
        );
    }
}
