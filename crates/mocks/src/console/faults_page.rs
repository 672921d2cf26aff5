//! `/faults`: the mock's fault rules, changed with plain forms (the same `Faults` table the
//! JSON `PUT /api/v1/faults` uses), and `POST /reset`, which does what
//! `DELETE /api/v1/test-data` does. Forms answer 303 back to their page with a flash message.
//!
//! The mocks have no authentication, but a form post needs no CORS preflight, so any web page
//! could post to a local mock: posts from another origin are refused.

use super::page::{self, ConsoleError, encode};
use super::params::{Params, flash};
use crate::faults::FaultRule;
use crate::state::MockState;
use axum::extract::{Form, FromRequest, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde_json::Value;

/// Pages a form may send the browser back to.
const BACK: &[&str] = &["/", "/faults", "/posts/web", "/posts/social"];

/// `GET /faults`.
pub async fn view(
    State(state): State<MockState>,
    params: Params,
) -> Result<Response, ConsoleError> {
    let table = state.faults.describe();
    let rules: Vec<Value> = table["faults"].as_array().cloned().unwrap_or_default();
    let routes: Vec<Value> = table["routes"].as_array().cloned().unwrap_or_default();
    let selected = params.get("route").map(str::to_string);
    let ctx = context! {
        rules => Serde(&rules),
        routes => Serde(&routes),
        selected,
        flash => Serde(flash(&params)),
    };
    page::html(&state, "faults.html", "faults", "Fault injection", ctx)
}

/// The fields of a form posted from this console's own pages (the last of a repeated name
/// wins); a post from another site is refused (see `halcytone_webpage::same_origin`).
pub struct SameSiteForm(Params);

impl<S: Send + Sync> FromRequest<S> for SameSiteForm {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ConsoleError> {
        halcytone_webpage::same_origin(req.headers()).map_err(|_| {
            ConsoleError::forbidden(
                "This form was posted from another site. Use the console's own page to change the mock.",
            )
        })?;
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| {
                ConsoleError::bad_request(format!("the form cannot be read: {}", e.body_text()))
            })?;
        Ok(SameSiteForm(Params::new(pairs)))
    }
}

fn back_to(path: &str, outcome: Result<&str, String>) -> Response {
    let target = match outcome {
        Ok(code) => format!("{path}?ok={code}"),
        Err(message) => format!("{path}?error={}", encode(&message)),
    };
    Redirect::to(&target).into_response()
}

fn number<T: std::str::FromStr>(
    f: &Params,
    name: &str,
    default: T,
    what: &str,
) -> Result<T, String> {
    match f.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name}: '{v}' is not {what}")),
    }
}

/// The rule a "set" form describes.
fn rule(f: &Params) -> Result<FaultRule, String> {
    Ok(FaultRule {
        route: f
            .get("route")
            .ok_or("route: choose the route the fault applies to")?
            .to_string(),
        status: number(f, "status", 503, "an HTTP status (400–599)")?,
        probability: number(f, "probability", 1.0, "a number between 0.0 and 1.0")?,
        latency_ms: number(f, "latency_ms", 0, "a whole number of milliseconds")?,
        seed: number(f, "seed", 0, "a whole number ≥ 0")?,
    })
}

/// `POST /faults` with `action` = `set` (route, status, probability, latency_ms, seed),
/// `remove` (route) or `clear`.
pub async fn change(
    State(state): State<MockState>,
    SameSiteForm(f): SameSiteForm,
) -> Result<Response, ConsoleError> {
    let outcome = match f.get("action") {
        Some("set") => rule(&f).and_then(|r| {
            state
                .faults
                .set(r)
                .map(|()| "fault-set")
                .map_err(|e| e.to_string())
        }),
        Some("remove") => match f.get("route") {
            Some(route) => state
                .faults
                .remove(route)
                .map(|()| "fault-removed")
                .map_err(|e| e.to_string()),
            None => Err("route: say which rule to remove".to_string()),
        },
        Some("clear") => {
            state.faults.clear();
            Ok("faults-cleared")
        }
        other => Err(format!(
            "action: '{}' is not set, remove or clear",
            other.unwrap_or_default()
        )),
    };
    Ok(back_to("/faults", outcome))
}

/// `POST /reset`: clears captures, idempotency keys, fault rules and the journal
/// (`crm::reset`, which both mocks serve as `DELETE /api/v1/test-data`), then goes `back`.
pub async fn reset(
    State(state): State<MockState>,
    SameSiteForm(f): SameSiteForm,
) -> Result<Response, ConsoleError> {
    let back = f
        .get("back")
        .and_then(|b| BACK.iter().find(|p| **p == b))
        .copied()
        .unwrap_or("/");
    let _cleared = crate::crm::reset(State(state)).await?;
    Ok(back_to(back, Ok("reset")))
}
