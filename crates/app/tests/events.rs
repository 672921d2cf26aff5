//! Job events between replicas (PostgreSQL): what one process announces, another's listeners
//! hear, with the status the job moved to even when the job has moved on by the time the
//! notification is read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use halcytone_app::events::JobEvents;
use halcytone_store::{JobStatus, Store};
use halcytone_testkit::pg::ScratchSchema;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{SAMPLE, enqueue_text};

#[tokio::test]
async fn a_replica_hears_each_transition_in_order_with_its_status() {
    let Some(schema) = ScratchSchema::create().await else {
        return;
    };
    let store: Arc<dyn Store> = halcytone_store::open(&schema.url).await.unwrap();
    let (a, b) = (
        Arc::new(JobEvents::default()),
        Arc::new(JobEvents::default()),
    );
    a.relay(store.clone()).await;
    b.relay(store.clone()).await;
    let mut heard = b.subscribe();
    let id = enqueue_text(store.as_ref(), &["web"], SAMPLE, "corr-events", 3).await;
    let mut job = store.job(&id).await.unwrap().unwrap();
    // A announces three transitions at once; the stored job stays as it was queued, so what B
    // reports can only come from the notifications.
    for status in [
        JobStatus::Pending,
        JobStatus::InProgress,
        JobStatus::Completed,
    ] {
        job.status = status;
        a.announce(&job, true);
    }
    let mut statuses = Vec::new();
    while statuses.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), heard.recv())
            .await
            .expect("B heard A's events")
            .unwrap();
        assert_eq!(event.job_id, id);
        assert_eq!(event.job["status"], event.status.as_str());
        statuses.push(event.status);
    }
    assert_eq!(
        statuses,
        [
            JobStatus::Pending,
            JobStatus::InProgress,
            JobStatus::Completed
        ]
    );
}
