//! The exporter: the OpenTelemetry SDK's batch span processor on the Tokio runtime and the
//! official OTLP exporter (`opentelemetry-otlp`, HTTP with JSON bodies, `POST
//! {endpoint}/v1/traces`), sending through this workspace's reqwest client. Spans are queued
//! (bounded: 4,096; dropped rather than blocking a request when the collector is slow or
//! down) and sent in batches of up to 512 every second.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, Sampler, SdkTracer, SdkTracerProvider};
use std::sync::OnceLock;
use std::time::Duration;

/// The tracer every span starts from, and the provider that flushes it.
#[derive(Debug)]
pub struct Exporter {
    pub(crate) tracer: SdkTracer,
    provider: SdkTracerProvider,
}

static EXPORTER: OnceLock<Exporter> = OnceLock::new();

pub(crate) fn get() -> Option<&'static Exporter> {
    EXPORTER.get()
}

/// The OTLP exporter's HTTP client: the workspace's reqwest (rustls), not a second stack.
#[derive(Debug)]
struct Client(reqwest::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for Client {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let (parts, body) = request.into_parts();
        let mut req = self
            .0
            .request(parts.method, parts.uri.to_string())
            .body(body);
        for (name, value) in &parts.headers {
            req = req.header(name, value);
        }
        let resp = req.send().await?.error_for_status()?;
        let status = resp.status();
        let body = resp.bytes().await?;
        Ok(http::Response::builder().status(status).body(body)?)
    }
}

/// Starts exporting to `endpoint` (e.g. `http://jaeger:4318`; spans go to
/// `{endpoint}/v1/traces`) as `service`. Call once, inside a Tokio runtime; later calls
/// change nothing.
pub fn init(endpoint: &str, service: &str) -> Result<(), String> {
    if EXPORTER.get().is_some() {
        return Ok(());
    }
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    reqwest::Url::parse(&url)
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT={endpoint:?}: {e}"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Client(client))
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .with_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT={endpoint:?}: {e}"))?;
    let batches = BatchConfigBuilder::default()
        .with_max_queue_size(4096)
        .with_max_export_batch_size(512)
        .with_scheduled_delay(Duration::from_secs(1))
        .build();
    let processor = BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio)
        .with_batch_config(batches)
        .build();
    let resource = Resource::builder()
        .with_service_name(service.to_string())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("halcytone");
    let _ = EXPORTER.set(Exporter { tracer, provider });
    Ok(())
}

/// Sends every queued span now (at shutdown, and in tests).
pub async fn shutdown() {
    if let Some(e) = get() {
        let provider = e.provider.clone();
        // The flush waits for the processor's task on this runtime: run it off this thread.
        let flushed = tokio::task::spawn_blocking(move || provider.force_flush());
        if let Ok(Err(err)) = tokio::time::timeout(Duration::from_secs(6), flushed)
            .await
            .unwrap_or(Ok(Ok(())))
        {
            tracing::debug!(error = %err, "trace export flush failed");
        }
    }
}
