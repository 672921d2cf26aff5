//! Periodic upkeep of an owned telemetry structure (a metrics registry folding its samples),
//! for as long as its owner keeps it alive.

use std::sync::{Arc, Weak};
use std::time::Duration;

/// Calls `work` on `target` every `every`, from a Tokio task that ends once the last `Arc`
/// of `target` is dropped. Outside a Tokio runtime it does nothing.
pub fn while_alive<T: Send + Sync + 'static>(target: &Arc<T>, every: Duration, work: fn(&T)) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<T> = Arc::downgrade(target);
    rt.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match weak.upgrade() {
                Some(t) => work(&t),
                None => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn runs_until_the_target_is_dropped() {
        let n = Arc::new(AtomicU32::new(0));
        while_alive(&n, Duration::from_millis(10), |n| {
            n.fetch_add(1, Ordering::Relaxed);
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(n.load(Ordering::Relaxed) >= 2);
        // Only the task's weak reference is left once this one goes.
        assert_eq!(Arc::strong_count(&n), 1);
        let weak = Arc::downgrade(&n);
        drop(n);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(weak.upgrade().is_none());
    }
}
