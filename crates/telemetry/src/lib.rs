//! Distributed tracing for Halcytone: W3C trace context (`traceparent`), spans for requests,
//! job runs, publishes and upstream calls, recorded by the OpenTelemetry SDK and exported by
//! `opentelemetry-otlp` as OTLP/HTTP JSON (`POST {endpoint}/v1/traces`), which Jaeger, Tempo
//! and the OpenTelemetry Collector accept.
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
pub mod route_series;
pub mod upkeep;

pub use context::TraceContext;
pub use export::{Exporter, init, shutdown};

use std::future::Future;

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

impl From<Kind> for opentelemetry::trace::SpanKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Internal => opentelemetry::trace::SpanKind::Internal,
            Kind::Server => opentelemetry::trace::SpanKind::Server,
            Kind::Client => opentelemetry::trace::SpanKind::Client,
        }
    }
}

/// A span being recorded; [`Span::end`] hands it to the exporter.
#[derive(Debug)]
pub struct Span {
    inner: opentelemetry_sdk::trace::Span,
    ctx: TraceContext,
    failed: bool,
}

/// Starts a span, child of `parent` (or of the current context, or a new trace). `None` when
/// tracing is off.
pub fn start(name: impl Into<String>, kind: Kind, parent: Option<TraceContext>) -> Option<Span> {
    use opentelemetry::trace::{Span as _, TraceContextExt, Tracer as _};
    let exporter = export::get()?;
    let parent = parent.or_else(current);
    let cx = match parent {
        Some(p) => opentelemetry::Context::new().with_remote_span_context(p.to_otel()),
        None => opentelemetry::Context::new(),
    };
    let inner = exporter
        .tracer
        .span_builder(name.into())
        .with_kind(kind.into())
        .start_with_context(&exporter.tracer, &cx);
    let ctx = TraceContext::from_otel(inner.span_context());
    Some(Span {
        inner,
        ctx,
        failed: false,
    })
}

impl Span {
    pub fn context(&self) -> TraceContext {
        self.ctx
    }

    pub fn set(&mut self, key: &str, value: impl Into<Attr>) {
        use opentelemetry::trace::Span as _;
        let value = match value.into() {
            Attr::Str(s) => opentelemetry::Value::from(s),
            Attr::Int(i) => opentelemetry::Value::from(i),
            Attr::Bool(b) => opentelemetry::Value::from(b),
        };
        self.inner
            .set_attribute(opentelemetry::KeyValue::new(key.to_string(), value));
    }

    /// Marks the span failed with a message.
    pub fn fail(&mut self, message: impl Into<String>) {
        use opentelemetry::trace::Span as _;
        self.failed = true;
        self.inner
            .set_status(opentelemetry::trace::Status::error(message.into()));
    }

    pub fn end(mut self) {
        use opentelemetry::trace::Span as _;
        if !self.failed {
            self.inner.set_status(opentelemetry::trace::Status::Ok);
        }
        self.inner.end();
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
