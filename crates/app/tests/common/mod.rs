//! What the app's integration tests share: the sample document and queueing a publish job.

#![allow(dead_code, clippy::unwrap_used)]

use halcytone_app::worker::{JobSpec, PublishSpec};
use halcytone_store::{NewJob, Store};

pub const SAMPLE: &str = include_str!("../../../../samples/living-document.md");

pub async fn enqueue(store: &dyn Store, targets: &[&str]) -> String {
    enqueue_text(store, targets, SAMPLE, "corr-worker", 3).await
}

pub async fn enqueue_text(
    store: &dyn Store,
    targets: &[&str],
    text: &str,
    correlation_id: &str,
    max_attempts: i64,
) -> String {
    let spec = PublishSpec::new(
        targets.iter().map(|t| t.to_string()).collect(),
        1_795_500_000_000,
    );
    enqueue_spec(store, spec, text, correlation_id, max_attempts).await
}

/// Queues `spec` over `text` stored as the sample's document.
pub async fn enqueue_spec(
    store: &dyn Store,
    spec: PublishSpec,
    text: &str,
    correlation_id: &str,
    max_attempts: i64,
) -> String {
    let (doc, _) = store
        .put_document("file:samples/living-document.md", "markdown", text, 0)
        .await
        .unwrap();
    let spec = JobSpec::Publish(Box::new(spec));
    let job = NewJob {
        document_id: doc.id,
        channels: spec.targets().to_vec(),
        payload: spec.to_payload(),
        run_at_ms: 0,
        scheduled_ms: None,
        max_attempts,
        correlation_id: correlation_id.into(),
        retry_of: None,
        batch_id: None,
    };
    store.enqueue(job, 0).await.unwrap().id
}
