//! The one HTTP client every publisher uses: egress guard, timeouts, bounded retries of
//! transient failures (honouring `Retry-After`), a circuit breaker per upstream, pacing,
//! and the `Idempotency-Key` and `X-Correlation-ID` headers.

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::egress::{EgressGuard, EgressRefused};
use crate::rate_limit::RateLimiter;
use crate::retry::{RetryPolicy, is_transient_status};
use halcytone_vault::Secret;
pub use reqwest::Method;
use serde_json::Value;
use std::sync::RwLock;
use std::time::Duration;
use url::Url;

/// A service we publish to.
#[derive(Debug)]
pub struct Upstream {
    pub name: &'static str,
    pub base: Url,
    /// Sent as `X-API-Key`; replaced at run time when an operator stores a new key.
    api_key: RwLock<Option<Secret>>,
    pub breaker: CircuitBreaker,
}

impl Upstream {
    pub fn new(name: &'static str, base: Url, api_key: Option<String>) -> Self {
        Upstream {
            name,
            base,
            api_key: RwLock::new(api_key.map(Secret::new)),
            breaker: CircuitBreaker::new(5, Duration::from_secs(30)),
        }
    }

    /// The key sent with every call, if any.
    pub fn api_key(&self) -> Option<Secret> {
        self.api_key
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the key for the calls that follow (`None` sends none).
    pub fn set_api_key(&self, key: Option<Secret>) {
        *self
            .api_key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Egress(#[from] EgressRefused),
    #[error("{upstream} circuit breaker is open after repeated failures; not calling it")]
    CircuitOpen { upstream: &'static str },
    #[error("{upstream} answered {status}: {message}")]
    Status {
        upstream: &'static str,
        status: u16,
        message: String,
    },
    #[error("{upstream} could not be reached: {message}")]
    Transport {
        upstream: &'static str,
        message: String,
    },
    #[error("bad address {0}")]
    Url(String),
}

impl CallError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            CallError::Status { status, .. } => is_transient_status(*status),
            CallError::Transport { .. } | CallError::CircuitOpen { .. } => true,
            CallError::Egress(_) | CallError::Url(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// One request.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<&'a Value>,
    pub idempotency_key: Option<&'a str>,
    pub correlation_id: &'a str,
    pub limiter: Option<&'a RateLimiter>,
    /// A token sent as `Authorization: Bearer` (APIs that take one instead of `X-API-Key`).
    pub bearer: Option<&'a str>,
}

impl<'a> Call<'a> {
    /// A GET with neither body, idempotency key nor pacing.
    pub fn get(path: &'a str, correlation_id: &'a str) -> Self {
        Call {
            method: Method::GET,
            path,
            body: None,
            idempotency_key: None,
            correlation_id,
            limiter: None,
            bearer: None,
        }
    }

    /// A paced POST of `body` under an idempotency key.
    pub fn post(
        path: &'a str,
        body: &'a Value,
        idempotency_key: &'a str,
        correlation_id: &'a str,
        limiter: &'a RateLimiter,
    ) -> Self {
        Call {
            method: Method::POST,
            path,
            body: Some(body),
            idempotency_key: Some(idempotency_key),
            correlation_id,
            limiter: Some(limiter),
            bearer: None,
        }
    }
}

/// How a raw exchange authenticates.
#[derive(Debug)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// HTTP Basic with a user and an optional password (OAuth confidential clients).
    Basic(&'a str, Option<&'a str>),
}

/// A request for [`HttpClient::exchange`].
#[derive(Debug)]
pub struct Exchange<'a> {
    /// Names the service in errors and spans (`x`, `linkedin`, `x-oauth`).
    pub upstream: &'static str,
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub auth: Auth<'a>,
    pub json: Option<&'a Value>,
    pub form: Option<&'a [(&'a str, &'a str)]>,
    pub correlation_id: &'a str,
}

/// Any answer of a raw exchange, with its headers.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The text at a JSON pointer of the body (`/data/id`), if any.
    pub fn text_at(&self, pointer: &str) -> Option<String> {
        self.body
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The platform's own words for an error, or the body.
    pub fn message(&self) -> String {
        // The Graph API nests its words: {"error": {"message": …}}.
        if let Some(m) = self.body.pointer("/error/message").and_then(Value::as_str) {
            return m.to_string();
        }
        for key in ["detail", "message", "error_description", "title", "error"] {
            if let Some(m) = self.body.get(key).and_then(Value::as_str) {
                return m.to_string();
            }
        }
        match &self.body {
            Value::String(s) if s.is_empty() => format!("HTTP {}", self.status),
            Value::String(s) => s.chars().take(300).collect(),
            other => other.to_string().chars().take(300).collect(),
        }
    }
}

#[derive(Debug)]
pub struct HttpClient {
    http: reqwest::Client,
    pub guard: EgressGuard,
    pub retry: RetryPolicy,
}

/// The result of a call and how many attempts it took.
pub type Outcome = (Result<Answer, CallError>, u32);

impl HttpClient {
    pub fn new(
        guard: EgressGuard,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("halcytone/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpClient { http, guard, retry })
    }

    pub fn breaker_state(upstream: &Upstream) -> BreakerState {
        upstream.breaker.state()
    }

    /// One GET of `path` on `upstream` (a health probe): no retries, no breaker, the egress
    /// guard still applies. Returns the status, or why there was none.
    pub async fn probe(
        &self,
        upstream: &Upstream,
        path: &str,
        timeout: Duration,
    ) -> Result<u16, CallError> {
        let url = upstream
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| CallError::Url(format!("{}{path}: {e}", upstream.base)))?;
        self.guard.check(&url)?;
        let resp = self
            .http
            .get(url)
            .timeout(timeout)
            .header("X-Service-Name", "halcytone")
            .send()
            .await
            .map_err(|e| CallError::Transport {
                upstream: upstream.name,
                message: e.to_string(),
            })?;
        Ok(resp.status().as_u16())
    }

    /// One request shaped by the caller — the social networks' APIs need their own headers,
    /// form bodies and response headers — under the egress guard, with a client span and
    /// `traceparent`. No retries and no breaker: posting is not idempotent on those APIs, so
    /// the caller decides what a 401 or a 429 means.
    pub async fn exchange(&self, req: Exchange<'_>) -> Result<RawAnswer, CallError> {
        self.guard.check(&req.url)?;
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .header("X-Correlation-ID", req.correlation_id);
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        builder = match &req.auth {
            Auth::None => builder,
            Auth::Bearer(token) => builder.bearer_auth(token),
            Auth::Basic(user, password) => builder.basic_auth(user, *password),
        };
        if let Some(b) = req.json {
            builder = builder.json(b);
        }
        if let Some(f) = req.form {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(f.iter())
                .finish();
            builder = builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let mut span = halcytone_telemetry::start(
            format!("{} {}", req.method, req.url.path()),
            halcytone_telemetry::Kind::Client,
            None,
        );
        if let Some(s) = &mut span {
            s.set("http.request.method", req.method.as_str());
            s.set("url.full", req.url.as_str());
            s.set("peer.service", req.upstream);
            s.set("correlation_id", req.correlation_id);
            builder = builder.header("traceparent", s.context().traceparent());
        }
        let sent = builder.send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                if let Some(mut s) = span {
                    s.fail(e.to_string());
                    s.end();
                }
                return Err(CallError::Transport {
                    upstream: req.upstream,
                    message: if e.is_timeout() {
                        "timed out".into()
                    } else {
                        e.to_string()
                    },
                });
            }
        };
        let status = resp.status().as_u16();
        if let Some(mut s) = span {
            s.set("http.response.status_code", status);
            if !resp.status().is_success() {
                s.fail(format!("{} answered {status}", req.upstream));
            }
            s.end();
        }
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(RawAnswer {
            status,
            headers,
            body,
        })
    }

    /// Sends `call` to `upstream`, retrying transient failures.
    pub async fn send(&self, upstream: &Upstream, call: &Call<'_>) -> Outcome {
        let url = match upstream.base.join(call.path.trim_start_matches('/')) {
            Ok(u) => u,
            Err(e) => {
                return (
                    Err(CallError::Url(format!(
                        "{}{}: {e}",
                        upstream.base, call.path
                    ))),
                    0,
                );
            }
        };
        if let Err(refused) = self.guard.check(&url) {
            return (Err(refused.into()), 0);
        }
        let salt = call.idempotency_key.map_or(0, |k| {
            k.bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            if !upstream.breaker.allow() {
                return (
                    Err(CallError::CircuitOpen {
                        upstream: upstream.name,
                    }),
                    attempt - 1,
                );
            }
            if let Some(l) = call.limiter {
                l.acquire().await;
            }
            let mut req = self
                .http
                .request(call.method.clone(), url.clone())
                .header("X-Correlation-ID", call.correlation_id)
                .header("X-Service-Name", "halcytone");
            if let Some(k) = call.idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            if let Some(key) = upstream.api_key() {
                req = req.header("X-API-Key", key.expose());
            }
            if let Some(token) = call.bearer {
                req = req.bearer_auth(token);
            }
            if let Some(b) = call.body {
                req = req.json(b);
            }
            // One client span per attempt; its id travels as `traceparent`.
            let mut span = halcytone_telemetry::start(
                format!("{} {}", call.method, call.path.trim_start_matches('/')),
                halcytone_telemetry::Kind::Client,
                None,
            );
            if let Some(s) = &mut span {
                s.set("http.request.method", call.method.as_str());
                s.set("url.full", url.as_str());
                s.set("peer.service", upstream.name);
                s.set("correlation_id", call.correlation_id);
                s.set("attempt", attempt);
                req = req.header("traceparent", s.context().traceparent());
            }
            let sent = req.send().await;
            if let Some(mut s) = span {
                match &sent {
                    Ok(r) => {
                        s.set("http.response.status_code", r.status().as_u16());
                        if !r.status().is_success() {
                            s.fail(format!(
                                "{} answered {}",
                                upstream.name,
                                r.status().as_u16()
                            ));
                        }
                    }
                    Err(e) => s.fail(e.to_string()),
                }
                s.end();
            }
            let (error, retry_after) = match sent {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let text = resp.text().await.unwrap_or_default();
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    if (200..300).contains(&status) {
                        upstream.breaker.on_success();
                        return (Ok(Answer { status, body }), attempt);
                    }
                    let message = body
                        .get("detail")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| body.to_string());
                    let err = CallError::Status {
                        upstream: upstream.name,
                        status,
                        message,
                    };
                    if !is_transient_status(status) {
                        // The upstream is up and answered; the request itself is wrong.
                        upstream.breaker.on_success();
                        return (Err(err), attempt);
                    }
                    upstream.breaker.on_failure();
                    (err, retry_after)
                }
                Err(e) => {
                    upstream.breaker.on_failure();
                    let message = if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        e.to_string()
                    };
                    (
                        CallError::Transport {
                            upstream: upstream.name,
                            message,
                        },
                        None,
                    )
                }
            };
            if attempt >= self.retry.max_attempts {
                return (Err(error), attempt);
            }
            let wait = self
                .retry
                .retry_after(retry_after.as_deref())
                .unwrap_or_else(|| self.retry.backoff(attempt, salt));
            tracing::info!(upstream = upstream.name, attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}
