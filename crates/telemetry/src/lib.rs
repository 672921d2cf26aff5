//! Distributed tracing for Halcytone, small and dependency-light: W3C trace context
//! (`traceparent`), spans for requests, job runs, publishes and upstream calls, and an exporter
//! that posts finished spans as OTLP/HTTP JSON (`POST {endpoint}/v1/traces`), which Jaeger,
//! Tempo and the OpenTelemetry Collector accept.
//!
//! Off and free unless [`init`] is called (the binary does so when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set): [`start`] then returns `None` and nothing is
//! allocated, propagated or sent.
#![forbid(unsafe_code)]

mod context;
pub mod correlation;
mod export;
pub mod exposition;
pub mod process;
pub mod upkeep;

pub use context::TraceContext;
pub use export::{Exporter, init, shutdown};

use serde_json::{Value, json};
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// The trace context of the code running now, if it runs inside a span.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|c| *c).ok()
}

/// Runs `work` with `ctx` as the current context (child spans and outgoing calls use it).
pub async fn scope<F: Future>(ctx: TraceContext, work: F) -> F::Output {
    CURRENT.scope(ctx, work).await
}

/// What a span stands for (OTLP's SpanKind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Internal = 1,
    Server = 2,
    Client = 3,
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A span being recorded; [`Span::end`] sends it to the exporter.
#[derive(Debug)]
pub struct Span {
    ctx: TraceContext,
    parent: Option<[u8; 8]>,
    name: String,
    kind: Kind,
    start: u128,
    attributes: Vec<Value>,
    error: Option<String>,
    exporter: &'static Exporter,
}

/// Starts a span, child of `parent` (or of the current context, or a new trace). `None` when
/// tracing is off.
pub fn start(name: impl Into<String>, kind: Kind, parent: Option<TraceContext>) -> Option<Span> {
    let exporter = export::get()?;
    let parent = parent.or_else(current);
    let ctx = match parent {
        Some(p) => p.child(),
        None => TraceContext::root(),
    };
    Some(Span {
        ctx,
        parent: parent.map(|p| p.span_id),
        name: name.into(),
        kind,
        start: now_ns(),
        attributes: Vec::new(),
        error: None,
        exporter,
    })
}

impl Span {
    pub fn context(&self) -> TraceContext {
        self.ctx
    }

    pub fn set(&mut self, key: &str, value: impl Into<Attr>) {
        let v = match value.into() {
            Attr::Str(s) => json!({ "stringValue": s }),
            Attr::Int(i) => json!({ "intValue": i.to_string() }),
            Attr::Bool(b) => json!({ "boolValue": b }),
        };
        self.attributes.push(json!({ "key": key, "value": v }));
    }

    /// Marks the span failed with a message.
    pub fn fail(&mut self, message: impl Into<String>) {
        self.error = Some(message.into());
    }

    pub fn end(self) {
        let status = match &self.error {
            Some(m) => json!({ "code": 2, "message": m }),
            None => json!({ "code": 1 }),
        };
        let mut span = json!({
            "traceId": self.ctx.trace_id_hex(),
            "spanId": self.ctx.span_id_hex(),
            "name": self.name,
            "kind": self.kind as u8,
            "startTimeUnixNano": self.start.to_string(),
            "endTimeUnixNano": now_ns().to_string(),
            "attributes": self.attributes,
            "status": status,
        });
        if let Some(p) = self.parent {
            span["parentSpanId"] = json!(context::hex(&p));
        }
        self.exporter.push(span);
    }
}

/// An attribute value.
#[derive(Debug, Clone)]
pub enum Attr {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Attr {
    fn from(s: &str) -> Self {
        Attr::Str(s.to_string())
    }
}
impl From<String> for Attr {
    fn from(s: String) -> Self {
        Attr::Str(s)
    }
}
impl From<i64> for Attr {
    fn from(i: i64) -> Self {
        Attr::Int(i)
    }
}
impl From<u16> for Attr {
    fn from(i: u16) -> Self {
        Attr::Int(i64::from(i))
    }
}
impl From<u32> for Attr {
    fn from(i: u32) -> Self {
        Attr::Int(i64::from(i))
    }
}
impl From<bool> for Attr {
    fn from(b: bool) -> Self {
        Attr::Bool(b)
    }
}

/// Runs `work` inside a new span named `name` (ended when `work` completes).
pub async fn in_span<F: Future>(
    name: impl Into<String>,
    kind: Kind,
    attrs: &[(&str, Attr)],
    work: F,
) -> F::Output {
    match start(name, kind, None) {
        None => work.await,
        Some(mut span) => {
            for (k, v) in attrs {
                span.set(k, v.clone());
            }
            let out = scope(span.context(), work).await;
            span.end();
            out
        }
    }
}
