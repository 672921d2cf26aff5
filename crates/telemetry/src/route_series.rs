//! The request series of one route, registered once and kept: a counter per (method, status)
//! and a latency histogram per method. A request then only finds and bumps its handles, so
//! the recorder's key hashing and label allocation happen once per series, not per request.

use metrics::{Counter, Histogram};
use std::collections::HashMap;

/// One route's handles; methods and statuses per route are few, so vectors beat maps.
#[derive(Default)]
pub struct RouteSeries {
    requests: Vec<(String, u16, Counter)>,
    latency: Vec<(String, Histogram)>,
}

impl std::fmt::Debug for RouteSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteSeries")
            .field("series", &(self.requests.len() + self.latency.len()))
            .finish()
    }
}

/// How a service registers a new series of a route (its names and labels are its own).
pub trait Register {
    fn requests(&self, method: &str, route: &str, status: u16) -> Counter;
    fn latency(&self, method: &str, route: &str) -> Histogram;
}

/// Every route's series, by route template.
#[derive(Debug, Default)]
pub struct Routes(HashMap<String, RouteSeries>);

impl Routes {
    /// Counts one answered request to `route` and records how long it took.
    pub fn observe(
        &mut self,
        register: &impl Register,
        method: &str,
        route: &str,
        status: u16,
        seconds: f64,
    ) {
        if !self.0.contains_key(route) {
            self.0.insert(route.to_string(), RouteSeries::default());
        }
        let Some(r) = self.0.get_mut(route) else {
            return;
        };
        match r
            .requests
            .iter()
            .find(|(m, s, _)| m == method && *s == status)
        {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = register.requests(method, route, status);
                c.increment(1);
                r.requests.push((method.to_string(), status, c));
            }
        }
        match r.latency.iter().find(|(m, _)| m == method) {
            Some((_, h)) => h.record(seconds),
            None => {
                let h = register.latency(method, route);
                h.record(seconds);
                r.latency.push((method.to_string(), h));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Default)]
    struct Counting {
        registered: Cell<u32>,
        ok: Arc<AtomicU64>,
    }

    impl Register for Counting {
        fn requests(&self, _: &str, _: &str, status: u16) -> Counter {
            self.registered.set(self.registered.get() + 1);
            if status == 200 {
                Counter::from_arc(self.ok.clone())
            } else {
                Counter::noop()
            }
        }
        fn latency(&self, _: &str, _: &str) -> Histogram {
            self.registered.set(self.registered.get() + 1);
            Histogram::noop()
        }
    }

    #[test]
    fn a_series_is_registered_once_and_then_only_counted() {
        let reg = Counting::default();
        let mut routes = Routes::default();
        for _ in 0..3 {
            routes.observe(&reg, "GET", "/health", 200, 0.001);
        }
        // One counter and one histogram so far.
        assert_eq!(reg.registered.get(), 2);
        assert_eq!(reg.ok.load(Ordering::Relaxed), 3);
        routes.observe(&reg, "GET", "/health", 503, 0.001);
        routes.observe(&reg, "POST", "/health", 200, 0.001);
        // A new status needs a counter; a new method a counter and a histogram.
        assert_eq!(reg.registered.get(), 5);
    }
}
