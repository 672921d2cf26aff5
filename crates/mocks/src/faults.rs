//! Runtime fault injection, per route: an error status with a probability, an added
//! latency, and a seed so the same run of requests fails the same way every time.

use crate::body::Params;
use crate::error::{MockError, MockResult};
use crate::seeded;
use crate::state::MockState;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// One route's fault settings, as sent to `PUT /api/v1/faults`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// "METHOD /route/template", e.g. "POST /api/v1/email/send".
    pub route: String,
    /// Status answered when the fault fires (400–599); default 503.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Chance, 0.0–1.0, that a request fails; default 1.0.
    #[serde(default = "default_probability")]
    pub probability: f64,
    /// Delay added to every request on the route, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Seed of the failure sequence.
    #[serde(default)]
    pub seed: u64,
}

fn default_status() -> u16 {
    503
}
fn default_probability() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize)]
struct Active {
    #[serde(flatten)]
    rule: FaultRule,
    requests: u64,
    injected: u64,
}

/// The fault table of one mock.
#[derive(Debug)]
pub struct Faults {
    routes: Vec<String>,
    rules: Mutex<BTreeMap<String, Active>>,
}

/// What a request on a route must suffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub latency: Duration,
    pub fail_with: Option<u16>,
}

impl Faults {
    pub fn new(routes: Vec<String>) -> Faults {
        Faults {
            routes,
            rules: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Active>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set(&self, rule: FaultRule) -> MockResult<()> {
        if !self.routes.contains(&rule.route) {
            return Err(MockError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no route '{}'; routes that accept faults: {}",
                    rule.route,
                    self.routes.join(", ")
                ),
            ));
        }
        if !(400..=599).contains(&rule.status) {
            return Err(MockError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status: must be an HTTP error status, 400–599",
            ));
        }
        if !(0.0..=1.0).contains(&rule.probability) || rule.probability.is_nan() {
            return Err(MockError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "probability: must be between 0.0 and 1.0",
            ));
        }
        if rule.latency_ms > 60_000 {
            return Err(MockError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "latency_ms: must be at most 60000",
            ));
        }
        self.lock().insert(
            rule.route.clone(),
            Active {
                rule,
                requests: 0,
                injected: 0,
            },
        );
        Ok(())
    }

    pub fn remove(&self, route: &str) -> MockResult<()> {
        match self.lock().remove(route) {
            Some(_) => Ok(()),
            None => Err(MockError::new(
                StatusCode::NOT_FOUND,
                format!("no fault is set on '{route}'"),
            )),
        }
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The n-th request on a route fails when the seeded draw for n is below the probability.
    pub fn decide(&self, route: &str) -> Option<Decision> {
        let mut rules = self.lock();
        let active = rules.get_mut(route)?;
        active.requests += 1;
        let draw = seeded::unit(active.rule.seed, &[route, &active.requests.to_string()]);
        let fail = draw < active.rule.probability;
        if fail {
            active.injected += 1;
        }
        Some(Decision {
            latency: Duration::from_millis(active.rule.latency_ms),
            fail_with: fail.then_some(active.rule.status),
        })
    }

    pub fn describe(&self) -> Value {
        let rules: Vec<Active> = self.lock().values().cloned().collect();
        json!({ "faults": rules, "routes": self.routes })
    }
}

/// Middleware: applies the route's fault, if any, before the handler runs.
pub async fn inject(State(state): State<MockState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| format!("{} {}", req.method(), p.as_str()));
    if let Some(decision) = route.as_deref().and_then(|r| state.faults.decide(r)) {
        if !decision.latency.is_zero() {
            tokio::time::sleep(decision.latency).await;
        }
        if let Some(status) = decision.fail_with {
            state
                .counters
                .faults_injected
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let detail = format!("injected fault on {}", route.unwrap_or_default());
            let mut resp = (status, Json(json!({ "detail": detail }))).into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS
            {
                resp.headers_mut()
                    .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            }
            return resp;
        }
    }
    next.run(req).await
}

#[derive(Debug, Deserialize)]
pub struct RouteQuery {
    route: Option<String>,
}

pub async fn list(State(state): State<MockState>) -> Json<Value> {
    Json(state.faults.describe())
}

pub async fn put(
    State(state): State<MockState>,
    crate::body::Body(rule): crate::body::Body<FaultRule>,
) -> MockResult<Json<Value>> {
    state.faults.set(rule)?;
    Ok(Json(state.faults.describe()))
}

pub async fn delete(
    State(state): State<MockState>,
    Params(q): Params<RouteQuery>,
) -> MockResult<Json<Value>> {
    match q.route {
        Some(route) => state.faults.remove(&route)?,
        None => state.faults.clear(),
    }
    Ok(Json(state.faults.describe()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Faults {
        Faults::new(vec!["POST /x".into()])
    }

    #[test]
    fn same_seed_same_failures() {
        let run = || {
            let f = table();
            f.set(FaultRule {
                route: "POST /x".into(),
                status: 500,
                probability: 0.3,
                latency_ms: 0,
                seed: 42,
            })
            .unwrap();
            (0..200)
                .map(|_| f.decide("POST /x").and_then(|d| d.fail_with).is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let failures = a.iter().filter(|x| **x).count();
        assert!((30..=90).contains(&failures), "{failures} of 200 at 30%");
    }

    #[test]
    fn unknown_routes_and_bad_values_are_refused() {
        let f = table();
        let err = f
            .set(FaultRule {
                route: "GET /nope".into(),
                status: 500,
                probability: 1.0,
                latency_ms: 0,
                seed: 0,
            })
            .unwrap_err();
        assert!(err.to_string().contains("POST /x"));
        assert!(
            f.set(FaultRule {
                route: "POST /x".into(),
                status: 200,
                probability: 1.0,
                latency_ms: 0,
                seed: 0
            })
            .is_err()
        );
        assert!(
            f.set(FaultRule {
                route: "POST /x".into(),
                status: 500,
                probability: 1.5,
                latency_ms: 0,
                seed: 0
            })
            .is_err()
        );
    }
}
