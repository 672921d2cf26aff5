//! A request to stop composing, set by the caller (from a timer, when a request's time
//! budget runs out) and checked by [`crate::compose`] between channels and posts. The
//! content engine keeps no clock: it only reads the flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared stop flag; clones see the same flag.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn new() -> Self {
        Stop::default()
    }

    /// Asks the work holding a clone of this flag to stop at its next check.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Stop::new();
        let b = a.clone();
        assert!(!b.is_stopped());
        a.stop();
        assert!(b.is_stopped());
    }
}
