//! The exporter: finished spans are queued (bounded; spans are dropped rather than blocking
//! a request when the collector is slow or down) and posted in batches as OTLP/HTTP JSON.

use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::mpsc;

const QUEUE: usize = 4096;
const BATCH: usize = 512;

#[derive(Debug)]
pub struct Exporter {
    tx: mpsc::Sender<Value>,
    flush: mpsc::Sender<tokio::sync::oneshot::Sender<()>>,
}

static EXPORTER: OnceLock<Exporter> = OnceLock::new();

pub(crate) fn get() -> Option<&'static Exporter> {
    EXPORTER.get()
}

impl Exporter {
    pub(crate) fn push(&self, span: Value) {
        if self.tx.try_send(span).is_err() {
            tracing::debug!("trace queue full: span dropped");
        }
    }
}

/// Starts exporting to `endpoint` (e.g. `http://jaeger:4318`; spans go to `{endpoint}/v1/traces`)
/// as `service`. Call once, inside a Tokio runtime; later calls change nothing.
pub fn init(endpoint: &str, service: &str) -> Result<(), String> {
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    reqwest::Url::parse(&url)
        .map_err(|e| format!("OTEL_EXPORTER_OTLP_ENDPOINT={endpoint:?}: {e}"))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::channel::<Value>(QUEUE);
    let (flush, mut flushes) = mpsc::channel::<tokio::sync::oneshot::Sender<()>>(8);
    if EXPORTER.set(Exporter { tx, flush }).is_err() {
        return Ok(());
    }
    let resource = json!({ "attributes": [
        { "key": "service.name", "value": { "stringValue": service } },
        { "key": "service.version", "value": { "stringValue": env!("CARGO_PKG_VERSION") } },
    ] });
    tokio::spawn(async move {
        let mut batch: Vec<Value> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let mut ack = None;
            tokio::select! {
                span = rx.recv() => {
                    if let Some(s) = span {
                        batch.push(s);
                        if batch.len() < BATCH {
                            continue;
                        }
                    }
                }
                _ = tick.tick() => {}
                done = flushes.recv() => {
                    while let Ok(s) = rx.try_recv() {
                        batch.push(s);
                    }
                    ack = done;
                }
            }
            if !batch.is_empty() {
                let body = json!({ "resourceSpans": [{
                    "resource": resource,
                    "scopeSpans": [{ "scope": { "name": "halcytone" }, "spans": std::mem::take(&mut batch) }],
                }] });
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => tracing::debug!(status = r.status().as_u16(), "trace export refused"),
                    Err(e) => tracing::debug!(error = %e, "trace export failed"),
                }
            }
            if let Some(a) = ack {
                let _ = a.send(());
            }
        }
    });
    Ok(())
}

/// Sends every queued span now (at shutdown, and in tests).
pub async fn shutdown() {
    if let Some(e) = get() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if e.flush.send(tx).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
    }
}
