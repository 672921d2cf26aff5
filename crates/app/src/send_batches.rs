//! A newsletter send over SMTP split into batch jobs that any worker on any replica can claim.
//!
//! The send's job lists every recipient in the delivery ledger first (`pending`, each with its
//! batch number and the subscriber as the list gave it), then queues one batch job per
//! `SEND_BATCH_SIZE` recipients. Each batch job composes the same content (the send's fixed
//! reference time) and sends its slice through the ledger's begin/finish rule, so a recipient
//! marked delivered is never sent again, whichever worker runs the batch or retries it. The
//! send's own outcome is read from the ledger once every batch job has ended: what was
//! delivered, failed or never sent, not what the last attempt believed.

use crate::jobs::spec::{BatchRef, JobSpec, PublishSpec};
use halcytone_publish::{Outcome, TargetResult};
use halcytone_store::ledger::{DeliveryState, SendKey};
use halcytone_store::send_batches::Planned;
use halcytone_store::{Job, JobStatus, NewJob, Store, StoreError};
use serde_json::Value;

/// The ledger target of a batched send.
pub const TARGET: &str = "email";

/// Recipients written to the ledger per statement while a send is listed.
const PLAN_CHUNK: usize = 2_000;

/// The ledger of the send whose first job is `root`.
pub fn send_key(root: &str) -> SendKey<'_> {
    SendKey {
        job_id: root,
        target: TARGET,
    }
}

/// The id of batch `index` of the send whose first job is `root`.
pub fn batch_id(root: &str, index: i64) -> String {
    format!("{root}.b{index:05}")
}

/// Lists one page of the send's list in its ledger, `size` recipients a batch, in the order
/// given; `start` is the place of the page's first recipient in the whole list. An address
/// given twice is listed once (its first place).
pub async fn plan(
    store: &dyn Store,
    root: &str,
    list: &[Value],
    start: usize,
    size: usize,
    now_ms: i64,
) -> Result<(), StoreError> {
    let size = size.max(1);
    for (n, chunk) in list.chunks(PLAN_CHUNK).enumerate() {
        let texts: Vec<(String, Option<String>, String)> = chunk
            .iter()
            .map(|r| {
                let email = r.get("email").and_then(Value::as_str).unwrap_or_default();
                let id = r.get("id").map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                (email.to_string(), id, r.to_string())
            })
            .collect();
        let rows: Vec<Planned<'_>> = texts
            .iter()
            .enumerate()
            .map(|(i, (email, id, recipient))| Planned {
                email,
                subscriber_id: id.as_deref(),
                recipient,
                batch: ((start + n * PLAN_CHUNK + i) / size) as i64,
            })
            .collect();
        store.plan_deliveries(send_key(root), &rows, now_ms).await?;
    }
    Ok(())
}

/// Queues the send's batch jobs that are not queued yet: each the send's spec for email alone,
/// naming its batch. Answers how many were queued now.
pub async fn enqueue(
    store: &dyn Store,
    root: &str,
    parent: &Job,
    spec: &PublishSpec,
    batches: i64,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let mut queued = 0;
    for index in 0..batches {
        let batch = PublishSpec {
            targets: vec![TARGET.to_string()],
            ab_test: None,
            batch: Some(BatchRef {
                send: root.to_string(),
                index,
            }),
            ..spec.clone()
        };
        let job = NewJob {
            document_id: parent.document_id.clone(),
            channels: vec![TARGET.to_string()],
            payload: JobSpec::Publish(Box::new(batch)).to_payload(),
            run_at_ms: now_ms,
            scheduled_ms: None,
            max_attempts: parent.max_attempts,
            correlation_id: parent.correlation_id.clone(),
            retry_of: None,
            batch_id: None,
        };
        if store
            .enqueue_batch(&batch_id(root, index), root, &job, now_ms)
            .await?
        {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Whether every batch job of the send has ended (none pending or running).
pub async fn all_ended(store: &dyn Store, root: &str) -> Result<bool, StoreError> {
    let counts = store.batch_counts(root).await?;
    let open = [JobStatus::Pending, JobStatus::InProgress]
        .iter()
        .map(|s| counts.get(s).copied().unwrap_or(0))
        .sum::<i64>();
    Ok(open == 0)
}

/// The send's email line, read from its ledger: delivered when no recipient failed (or was
/// refused) or was left unsent, else failed with the counts; its `external_id` holds the
/// figures (`smtp:sent=…,failed=…`). `campaign` names the send at the provider.
pub async fn outcome(
    store: &dyn Store,
    root: &str,
    campaign: String,
) -> Result<TargetResult, StoreError> {
    let c = store.delivery_counts(send_key(root)).await?;
    let delivered = c.of(DeliveryState::Delivered)
        + c.of(DeliveryState::Bounced)
        + c.of(DeliveryState::Complained);
    let failed = c.of(DeliveryState::Failed) + c.of(DeliveryState::Refused);
    let unsent = c.of(DeliveryState::Pending) + c.of(DeliveryState::Sending);
    // The figures an unbatched SMTP send reports, read from the ledger.
    let mut figures = format!("smtp:sent={delivered},failed={failed}");
    if c.uncertain > 0 {
        figures.push_str(&format!(",uncertain={}", c.uncertain));
    }
    let suppressed = c.of(DeliveryState::Suppressed);
    if suppressed > 0 {
        figures.push_str(&format!(",suppressed={suppressed}"));
    }
    let (outcome, reason) = if failed == 0 && unsent == 0 {
        (Outcome::Succeeded, None)
    } else {
        let mut why = format!("{failed} of {} recipients failed", c.total);
        if unsent > 0 {
            why.push_str(&format!(
                "; {unsent} were not sent (their batch ended without them)"
            ));
        }
        (Outcome::Failed, Some(why))
    };
    Ok(TargetResult {
        channel: "email",
        target: TARGET.to_string(),
        outcome,
        reason,
        // Each batch job retried its own failures; the send's are final.
        retryable: false,
        upstream_status: None,
        attempts: 1,
        external_id: Some(figures),
        url: None,
        idempotency_key: String::new(),
        campaign: Some(campaign),
        recipients: Some(delivered.max(0) as usize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_sort_in_batch_order() {
        assert_eq!(batch_id("job_1", 7), "job_1.b00007");
        assert!(batch_id("job_1", 9) < batch_id("job_1", 10));
    }
}
