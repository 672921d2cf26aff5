//! A job's delivery ledger: the publishers' [`DeliveryLedger`] port over the store's ledger.
//! Every recipient of a job's email target is one row, keyed by the send (the first job of a
//! retry chain, and the target) and the address; a row is begun only while this worker still
//! holds the job, so a worker that lost its lease stops instead of sending beside the one
//! that took the job over.

use halcytone_publish::deliveries::{Begin, DeliveryLedger, Ended, Entry};
use halcytone_store::Store;
use halcytone_store::ledger::{Begun, DeliveryStart, Finish, Holder};
use std::sync::Arc;

/// How far back a retry chain is followed to find the send it continues.
const MAX_RETRY_CHAIN: usize = 32;

#[derive(Debug)]
pub struct JobLedger {
    store: Arc<dyn Store>,
    /// The job that started the send (a retry continues its ledger).
    root: String,
    job_id: String,
    worker: String,
}

/// The ledger id of one target of a send.
pub fn send_id(root_job: &str, target: &str) -> String {
    format!("{root_job}/{target}")
}

impl JobLedger {
    /// The ledger of `job`, held by `worker`; a retried job continues the first job's send.
    pub async fn for_job(
        store: Arc<dyn Store>,
        job: &halcytone_store::Job,
        worker: &str,
    ) -> Result<JobLedger, halcytone_store::StoreError> {
        let mut root = job.id.clone();
        let mut parent = job.retry_of.clone();
        for _ in 0..MAX_RETRY_CHAIN {
            let Some(id) = parent else { break };
            parent = store.job(&id).await?.and_then(|j| j.retry_of);
            root = id;
        }
        Ok(JobLedger {
            store,
            root,
            job_id: job.id.clone(),
            worker: worker.to_string(),
        })
    }

    pub fn root(&self) -> &str {
        &self.root
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[async_trait::async_trait]
impl DeliveryLedger for JobLedger {
    async fn begin(&self, e: &Entry<'_>) -> Begin {
        let send = send_id(&self.root, e.target);
        let start = DeliveryStart {
            send_id: &send,
            email: e.email,
            subscriber_id: e.subscriber_id,
            message_id: e.message_id,
            holder: Some(Holder {
                job_id: &self.job_id,
                worker: &self.worker,
            }),
        };
        match self.store.begin_delivery(&start, now_ms()).await {
            Ok(Begun::Send { uncertain, .. }) => Begin::Send { uncertain },
            Ok(Begun::Delivered) => Begin::Delivered,
            Ok(Begun::Ended(_)) => Begin::Ended,
            Ok(Begun::NotHeld) => Begin::Stop(format!(
                "not attempted: job {} is no longer held by worker {} (its lease ran out and another worker took it over)",
                self.job_id, self.worker
            )),
            Err(err) => Begin::Stop(format!(
                "not attempted: the delivery ledger cannot be written ({err})"
            )),
        }
    }

    async fn end(&self, e: &Entry<'_>, how: Ended<'_>) {
        let send = send_id(&self.root, e.target);
        let finish = match how {
            Ended::Delivered { provider_id } => Finish::Delivered { provider_id },
            Ended::Failed { reason, retryable } => Finish::Failed { reason, retryable },
        };
        if let Err(err) = self
            .store
            .finish_delivery(&send, e.email, finish, now_ms())
            .await
        {
            // The row stays `sending`: a later attempt sends it again, marked uncertain.
            tracing::warn!(send = %send, error = %err, "cannot record how a delivery ended");
        }
    }

    async fn refuse(&self, e: &Entry<'_>, reason: &str) {
        let send = send_id(&self.root, e.target);
        if let Err(err) = self
            .store
            .refuse_delivery(&send, e.email, e.subscriber_id, reason, now_ms())
            .await
        {
            tracing::warn!(send = %send, error = %err, "cannot record a refused recipient");
        }
    }
}
