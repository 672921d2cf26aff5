//! A job's delivery ledger: the publishers' [`DeliveryLedger`] port over the store's ledger.
//! Every recipient of a job's email target is one row, keyed by the send (the first job of a
//! retry chain, and the target) and the address; a row is begun only while this worker still
//! holds the job, so a worker that lost its lease stops instead of sending beside the one
//! that took the job over. Each ended message is counted in `halcytone_recipients_total`.

use crate::metrics::AppMetrics;
use crate::unsubscribe::{Claims, OneClick};
use halcytone_publish::deliveries::{Begin, DeliveryLedger, Ended, Entry};
use halcytone_store::Store;
use halcytone_store::ledger::{Addressed, Begun, Finish, Holder, SendKey};
use std::sync::Arc;

/// How far back a retry chain is followed to find the send it continues.
const MAX_RETRY_CHAIN: usize = 32;

#[derive(Debug)]
pub struct JobLedger {
    store: Arc<dyn Store>,
    metrics: Arc<AppMetrics>,
    /// The job that started the send (a retry continues its ledger).
    root: String,
    job_id: String,
    worker: String,
    one_click: Option<Arc<OneClick>>,
}

impl JobLedger {
    /// The ledger of `job`, held by `worker`; a retried job continues the first job's send.
    pub async fn for_job(
        store: Arc<dyn Store>,
        metrics: Arc<AppMetrics>,
        job: &halcytone_store::Job,
        worker: &str,
    ) -> Result<JobLedger, halcytone_store::StoreError> {
        let root = send_root(store.as_ref(), job).await?;
        Ok(JobLedger {
            store,
            metrics,
            root,
            job_id: job.id.clone(),
            worker: worker.to_string(),
            one_click: None,
        })
    }

    /// The ledger of a batch job: the send whose first job is `send` (the batch's parent),
    /// held by `worker` through the batch job itself.
    pub fn for_batch(
        store: Arc<dyn Store>,
        metrics: Arc<AppMetrics>,
        send: &str,
        job: &halcytone_store::Job,
        worker: &str,
    ) -> JobLedger {
        JobLedger {
            store,
            metrics,
            root: send.to_string(),
            job_id: job.id.clone(),
            worker: worker.to_string(),
            one_click: None,
        }
    }

    /// Gives each recipient a signed one-click unsubscribe link.
    pub fn with_one_click(mut self, one_click: Option<Arc<OneClick>>) -> JobLedger {
        self.one_click = one_click;
        self
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    fn send<'a>(&'a self, target: &'a str) -> SendKey<'a> {
        SendKey {
            job_id: &self.root,
            target,
        }
    }
}

/// The job whose send `job` continues: the first of its retry chain.
pub async fn send_root(
    store: &dyn Store,
    job: &halcytone_store::Job,
) -> Result<String, halcytone_store::StoreError> {
    let mut root = job.id.clone();
    let mut parent = job.retry_of.clone();
    for _ in 0..MAX_RETRY_CHAIN {
        let Some(id) = parent else { break };
        parent = store.job(&id).await?.and_then(|j| j.retry_of);
        root = id;
    }
    Ok(root)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[async_trait::async_trait]
impl DeliveryLedger for JobLedger {
    async fn begin(&self, e: &Entry<'_>) -> Begin {
        self.begin_many(std::slice::from_ref(e))
            .await
            .pop()
            .unwrap_or_else(|| {
                Begin::Stop("not attempted: the delivery ledger gave no answer".into())
            })
    }

    /// One statement for the round (its entries share a target, as the sender makes them).
    async fn begin_many(&self, entries: &[Entry<'_>]) -> Vec<Begin> {
        let Some(first) = entries.first() else {
            return Vec::new();
        };
        let each: Vec<Addressed<'_>> = entries
            .iter()
            .map(|e| Addressed {
                email: e.email,
                subscriber_id: e.subscriber_id,
                message_id: e.message_id,
            })
            .collect();
        let holder = Holder {
            job_id: &self.job_id,
            worker: &self.worker,
        };
        let begun = self
            .store
            .begin_deliveries(self.send(first.target), Some(holder), &each, now_ms())
            .await;
        let begun = match begun {
            Ok(b) => b,
            Err(err) => {
                let why = format!("not attempted: the delivery ledger cannot be written ({err})");
                return entries.iter().map(|_| Begin::Stop(why.clone())).collect();
            }
        };
        begun
            .into_iter()
            .map(|b| match b {
                Begun::Send { uncertain, .. } => Begin::Send { uncertain },
                Begun::Delivered => Begin::Delivered,
                Begun::Ended(halcytone_store::ledger::DeliveryState::Suppressed) => {
                    self.metrics.recipient("suppressed");
                    Begin::Suppressed
                }
                Begun::Ended(_) => Begin::Ended,
                Begun::NotHeld => Begin::Stop(format!(
                    "not attempted: job {} is no longer held by worker {} (its lease ran out and another worker took it over)",
                    self.job_id, self.worker
                )),
            })
            .collect()
    }

    async fn end(&self, e: &Entry<'_>, how: Ended<'_>) {
        self.end_many(&[(*e, how)]).await;
    }

    async fn end_many(&self, ended: &[(Entry<'_>, Ended<'_>)]) {
        let Some((first, _)) = ended.first() else {
            return;
        };
        let done: Vec<(&str, Finish<'_>)> = ended
            .iter()
            .map(|(e, how)| {
                let (finish, state) = match *how {
                    Ended::Delivered { provider_id } => {
                        (Finish::Delivered { provider_id }, "delivered")
                    }
                    Ended::Failed { reason, retryable } => {
                        (Finish::Failed { reason, retryable }, "failed")
                    }
                };
                self.metrics.recipient(state);
                (e.email, finish)
            })
            .collect();
        if let Err(err) = self
            .store
            .finish_deliveries(self.send(first.target), &done, now_ms())
            .await
        {
            // The rows stay `sending`: a later attempt sends them again, marked uncertain.
            tracing::warn!(job = %self.root, target = first.target, error = %err, "cannot record how deliveries ended");
        }
    }

    fn one_click_url(&self, e: &Entry<'_>) -> Option<String> {
        let claims = Claims {
            job_id: self.root.clone(),
            target: e.target.to_string(),
            email: halcytone_store::ledger::ledger_email(e.email),
        };
        self.one_click.as_ref().map(|o| o.url(&claims))
    }

    async fn refuse(&self, e: &Entry<'_>, reason: &str) {
        self.metrics.recipient("refused");
        if let Err(err) = self
            .store
            .refuse_delivery(
                self.send(e.target),
                e.email,
                e.subscriber_id,
                reason,
                now_ms(),
            )
            .await
        {
            tracing::warn!(job = %self.root, target = e.target, error = %err, "cannot record a refused recipient");
        }
    }
}

/// A job's recipients as its send's ledger counts them, for the job's JSON: `None` when the
/// job has no ledger rows (no email target, not run yet, or sent through the CRM's batches).
/// `rate_per_second` is the delivery rate of this job's run so far, while it runs.
pub async fn recipients(
    store: &dyn Store,
    job: &halcytone_store::Job,
) -> Result<Option<serde_json::Value>, halcytone_store::StoreError> {
    use halcytone_store::ledger::DeliveryState as S;
    if !job.channels.iter().any(|c| c.starts_with("email")) {
        return Ok(None);
    }
    let root = send_root(store, job).await?;
    let counts = store.job_delivery_counts(&root).await?;
    if counts.total == 0 {
        return Ok(None);
    }
    // Bounces and complaints came back after delivery: they were sent.
    let sent = counts.of(S::Delivered) + counts.of(S::Bounced) + counts.of(S::Complained);
    let running = job.status == halcytone_store::JobStatus::InProgress;
    let rate = job.started_ms.filter(|_| running).map(|started| {
        let seconds = ((now_ms() - started) as f64 / 1000.0).max(0.001);
        (sent as f64 / seconds * 10.0).round() / 10.0
    });
    // At the rate so far, how long the recipients not yet sent will take.
    let left = counts.of(S::Pending) + counts.of(S::Sending);
    let eta = rate
        .filter(|r| *r > 0.0 && left > 0)
        .map(|r| (left as f64 / r).ceil() as i64);
    Ok(Some(serde_json::json!({
        "total": counts.total,
        "sent": sent,
        "failed": counts.of(S::Failed),
        "refused": counts.of(S::Refused),
        "suppressed": counts.of(S::Suppressed),
        "bounced": counts.of(S::Bounced),
        "complained": counts.of(S::Complained),
        "pending": counts.of(S::Pending),
        "sending": counts.of(S::Sending),
        "uncertain": counts.uncertain,
        "rate_per_second": rate,
        "eta_seconds": eta,
        "send_of": root,
    })))
}

/// The publishers' shared send rate over the store's token buckets, so every replica on one
/// database takes from the same bucket.
#[derive(Debug)]
pub struct StoreRate(pub Arc<dyn Store>);

#[async_trait::async_trait]
impl halcytone_publish::rate_limit::SharedRate for StoreRate {
    async fn take(
        &self,
        name: &str,
        want: u32,
        rate: f64,
        burst: f64,
    ) -> Result<(u32, f64), String> {
        self.0
            .take_tokens(name, want, rate, burst, now_ms())
            .await
            .map(|g| (g.granted, g.left))
            .map_err(|e| e.to_string())
    }
}
