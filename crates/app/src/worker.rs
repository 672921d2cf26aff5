//! The job worker: claims a due job, composes the stored document as the job asks, publishes
//! it, and records what every target did. Content is composed at the job's fixed reference
//! time, so a retry produces identical content and identical idempotency keys — a crash or a
//! retry never sends twice.

use crate::core::Core;
use crate::error::AppError;
use crate::generation::{self, DocumentText};
use crate::jobs::outcome::{Attempt, ChannelResult, Outcome};
use crate::targets::{self, Target};
use chrono::{TimeZone, Utc};
use halcytone_publish::{DirectNewsletter, Outcome as PublishOutcome, TargetResult};
use halcytone_store::{Job, JobStatus, StoreError};

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

pub use crate::jobs::spec::{AbPhase, AbRef, BatchRef, JobSpec, PublishSpec, SegmentRef};

/// A claimed job's run: its id and the status it was left in.
type RunResult = Result<Option<(String, JobStatus)>, WorkerError>;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs jobs from the store, composing through the same path as previews
/// ([`crate::generation`]) and publishing through the core's publishers.
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
    /// Store, publishers, templates, brand, credentials, metrics and job events.
    pub core: Core,
    /// How long a claim holds a job before another worker may take it over.
    pub lease: Duration,
    /// First wait before a job-level retry; doubles per attempt.
    pub retry_base: Duration,
    /// Notified when a job is queued in this process, so an idle worker starts at once.
    pub wake: Arc<tokio::sync::Notify>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Members read per page of an audience while a send is listed.
const PAGE: i64 = 2_000;

/// A send's list read a page at a time.
enum ListPages {
    Audience(crate::audiences::ActiveSubscribers),
    Crm { offset: usize, done: bool },
}

/// Why a page of the list could not be read.
enum ListError {
    App(AppError),
    /// The CRM did not answer (a later attempt may).
    Crm(String),
}

impl ListPages {
    /// The next page, or `None` at the end of the list.
    async fn next(
        &mut self,
        worker: &Worker,
        correlation_id: &str,
    ) -> Result<Option<Vec<serde_json::Value>>, ListError> {
        match self {
            ListPages::Audience(pages) => pages.next_page().await.map_err(ListError::App),
            ListPages::Crm { offset, done } => {
                if *done {
                    return Ok(None);
                }
                let (page, total) = worker
                    .core
                    .publishing
                    .subscribers_page(correlation_id, *offset)
                    .await
                    .map_err(|e| {
                        ListError::Crm(format!("the CRM's subscriber list could not be read: {e}"))
                    })?;
                *offset += page.len();
                *done = page.is_empty() || *offset >= total;
                Ok((!page.is_empty()).then_some(page))
            }
        }
    }
}

/// What executing a claimed job came to.
enum Execution {
    /// It ran: what each requested target came to.
    Ran(Attempt),
    /// It cannot run at all (no retry helps): why.
    Unrunnable(String),
}

impl Worker {
    /// A worker on the core's store, publishers and signals, holding claims for the
    /// configured lease (`JOB_LEASE_SECONDS`).
    pub fn new(core: &Core, id: String, retry_base: Duration) -> Worker {
        Worker {
            id,
            core: core.clone(),
            lease: core.config.job_lease,
            retry_base,
            wake: core.job_queued.clone(),
        }
    }

    /// Claims and runs one due job; returns its id and the status it was left in.
    pub async fn run_once(&self) -> Result<Option<(String, JobStatus)>, WorkerError> {
        let Some(job) = self
            .core
            .store
            .claim(&self.id, now_ms(), self.lease.as_millis() as i64)
            .await?
        else {
            return Ok(None);
        };
        let span =
            tracing::info_span!("job", job_id = %job.id, correlation_id = %job.correlation_id);
        let parent = JobSpec::from_payload(&job.payload).ok().and_then(|s| {
            s.traceparent()
                .and_then(halcytone_telemetry::TraceContext::parse)
        });
        let out = match halcytone_telemetry::start(
            "job run",
            halcytone_telemetry::Kind::Internal,
            parent,
        ) {
            None => self.run_claimed(job).instrument(span).await,
            Some(mut trace) => {
                trace.set("job.id", job.id.as_str());
                trace.set("job.attempt", job.attempts);
                trace.set("correlation_id", job.correlation_id.as_str());
                let ctx = trace.context();
                let out =
                    halcytone_telemetry::scope(ctx, self.run_claimed(job).instrument(span)).await;
                match &out {
                    Ok(Some((_, status))) => trace.set("job.status", status.as_str()),
                    Ok(None) => {}
                    Err(e) => trace.fail(e.to_string()),
                }
                trace.end();
                out
            }
        };
        // The job's run, its span included, is over before anyone hears it ended.
        if let Ok(Some((id, _))) = &out {
            self.announce(id, true).await;
        }
        out
    }

    /// Announces the job's stored state.
    async fn announce(&self, id: &str, status_changed: bool) {
        match self.core.store.job(id).await {
            Ok(Some(job)) => self.announce_job(&job, status_changed).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the job to announce it"),
        }
    }

    /// Announces a job; for a batch job, the send it belongs to (whose recipients moved), so
    /// watchers follow sends, not their batches.
    async fn announce_job(&self, job: &Job, status_changed: bool) {
        let send = JobSpec::from_payload(&job.payload)
            .ok()
            .and_then(|s| s.publish().and_then(|p| p.batch.clone()));
        let Some(batch) = send else {
            self.core.job_events.announce(job, status_changed);
            if status_changed && job.status.is_terminal() {
                crate::webhooks::job_finished(&self.core, job).await;
            }
            return;
        };
        match self.core.store.job(&batch.send).await {
            Ok(Some(parent)) => self.core.job_events.announce(&parent, false),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the send to announce it"),
        }
    }

    async fn run_claimed(&self, job: Job) -> RunResult {
        tracing::info!(attempt = job.attempts, "running job");
        self.announce_job(&job, true).await;
        // A key stored since the last run (by any replica) is used from this run on.
        self.core
            .credentials
            .sync(self.core.store.as_ref(), &self.core.publishing)
            .await?;
        let status = match self.execute_with_heartbeat(&job).await? {
            Execution::Unrunnable(reason) => {
                let results = json!({ "error": reason });
                self.core
                    .store
                    .finish(
                        &job.id,
                        &self.id,
                        JobStatus::Failed,
                        &results,
                        std::slice::from_ref(&reason),
                        now_ms(),
                    )
                    .await?;
                JobStatus::Failed
            }
            Execution::Ran(attempt) => {
                let (status, results, errors) =
                    (attempt.status(), attempt.to_value(), attempt.errors());
                if attempt.retryable() && job.attempts < job.max_attempts {
                    let wait = self
                        .retry_base
                        .saturating_mul(1u32 << (job.attempts.clamp(1, 16) - 1) as u32);
                    let reason = errors.join("; ");
                    // What the store recorded: pending, or, with attempts gone, what the
                    // results (this attempt's and earlier deliveries) add up to.
                    self.core
                        .store
                        .release(
                            &job.id,
                            &self.id,
                            &results,
                            &reason,
                            now_ms() + wait.as_millis() as i64,
                            now_ms(),
                        )
                        .await?
                        .unwrap_or(JobStatus::Pending)
                } else {
                    self.core
                        .store
                        .finish(&job.id, &self.id, status, &results, &errors, now_ms())
                        .await?
                        .unwrap_or(status)
                }
            }
        };
        tracing::info!(status = %status, "job done");
        Ok(Some((job.id, status)))
    }

    /// Runs jobs until `shutdown` resolves, polling every `idle` when the queue is empty.
    pub async fn run(self, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let worked = match self.run_once().await {
                Ok(done) => done.is_some(),
                Err(e) => {
                    tracing::error!(error = %e, "worker could not reach the store");
                    false
                }
            };
            if worked {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(idle) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Counts a publish in the metrics: each target's outcome and retries, each channel's time.
    fn record(&self, report: &halcytone_publish::PublishReport) {
        for t in &report.targets {
            let outcome = match t.outcome {
                PublishOutcome::Succeeded => "success",
                PublishOutcome::Failed => "failed",
                PublishOutcome::Skipped => "skipped",
            };
            self.core
                .app_metrics
                .published(t.channel, outcome, t.attempts);
            // One line per publisher action (the runbooks grep for `publisher_action`).
            tracing::info!(
                event = "publisher_action",
                channel = t.channel,
                target = %t.target,
                outcome,
                attempts = t.attempts,
                dry_run = self.core.publishing.settings.dry_run,
                "publisher action"
            );
        }
        for (channel, seconds) in &report.channel_seconds {
            self.core.app_metrics.publish_took(channel, *seconds);
        }
    }

    /// Runs the job while extending its lease every third of the lease, so a long publish is
    /// never taken over by another worker while this one is alive.
    async fn execute_with_heartbeat(&self, job: &Job) -> Result<Execution, WorkerError> {
        let every = (self.lease / 3).max(Duration::from_millis(100));
        let work = self.execute(job);
        tokio::pin!(work);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = ticks.tick() => {
                    let until = now_ms() + self.lease.as_millis() as i64;
                    match self.core.store.heartbeat(&job.id, &self.id, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!("lease lost: another worker took the job over"),
                        Err(e) => tracing::warn!(error = %e, "cannot extend the lease"),
                    }
                }
            }
        }
    }

    /// The job's delivery ledger, held by this worker: a batch job's is its send's.
    async fn ledger(
        &self,
        job: &Job,
        batch: Option<&BatchRef>,
    ) -> Result<crate::deliveries::JobLedger, WorkerError> {
        let (store, metrics) = (self.core.store.clone(), self.core.app_metrics.clone());
        let ledger = match batch {
            Some(b) => {
                crate::deliveries::JobLedger::for_batch(store, metrics, &b.send, job, &self.id)
            }
            None => crate::deliveries::JobLedger::for_job(store, metrics, job, &self.id).await?,
        };
        Ok(ledger.with_one_click(self.core.one_click.clone()))
    }

    /// Whether this job's newsletter goes out in batch jobs: an SMTP send that is not itself a
    /// batch and not an A/B test (whose groups are split in one job).
    fn sends_in_batches(&self, spec: &PublishSpec, wanted: &[(String, Target)]) -> bool {
        spec.batch.is_none()
            && spec.ab_test.is_none()
            && matches!(
                self.core.publishing.settings.email_transport,
                halcytone_publish::smtp::EmailTransport::Smtp(_)
            )
            && wanted.iter().any(|(_, t)| matches!(t, Target::Email))
    }

    /// The send's list, a page at a time: the chosen audience's active members, or the CRM's
    /// active, opted-in subscribers.
    async fn send_pages(&self, spec: &PublishSpec) -> Result<ListPages, AppError> {
        Ok(match &spec.audience_id {
            Some(id) => ListPages::Audience(
                crate::audiences::ActiveSubscribers::open(self.core.store.clone(), id, PAGE)
                    .await?,
            ),
            None => ListPages::Crm {
                offset: 0,
                done: false,
            },
        })
    }

    /// Lists the send's recipients in its ledger page by page (never the whole list in
    /// memory), filtered by the segment; answers the batches planned, or the email line when
    /// there is nobody to send to or the list cannot be read.
    async fn plan_send(
        &self,
        job: &Job,
        spec: &PublishSpec,
        audience: &halcytone_publish::Audience,
        root: &str,
    ) -> Result<Result<i64, TargetResult>, WorkerError> {
        let store = self.core.store.clone();
        let unreadable = |e: AppError| match e {
            AppError::Store(e) => Err(WorkerError::Store(e)),
            e => Ok(Err(email_line(
                PublishOutcome::Failed,
                e.to_string(),
                false,
            ))),
        };
        let mut pages = match self.send_pages(spec).await {
            Ok(p) => p,
            Err(e) => return unreadable(e),
        };
        let (mut read, mut listed) = (0usize, 0usize);
        loop {
            let page = match pages.next(self, &job.correlation_id).await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(ListError::App(e)) => return unreadable(e),
                Err(ListError::Crm(why)) => {
                    return Ok(Err(email_line(PublishOutcome::Failed, why, true)));
                }
            };
            read += page.len();
            let page: Vec<serde_json::Value> = match &audience.segment {
                None => page,
                Some(seg) => page.into_iter().filter(|r| seg.admits(r)).collect(),
            };
            crate::send_batches::plan(
                store.as_ref(),
                root,
                &page,
                listed,
                self.core.config.send_batch_size,
                now_ms(),
            )
            .await?;
            listed += page.len();
        }
        if listed == 0 {
            let why = match &audience.segment {
                Some(seg) if read > 0 => format!(
                    "segment {} ({}) matches none of the {read} active, opted-in subscribers",
                    seg.segment_name, seg.segment_id
                ),
                _ => "the list has no active, opted-in subscribers".to_string(),
            };
            return Ok(Err(email_line(PublishOutcome::Skipped, why, false)));
        }
        // A list of a million rows written since the planner last looked would be taken for an
        // empty table, and every batch's statements would walk the whole ledger.
        store.ledger_grew().await?;
        Ok(Ok(store
            .planned_batches(crate::send_batches::send_key(root))
            .await?))
    }

    /// Sends the newsletter of `job` in batch jobs: lists the recipients in the ledger and
    /// queues the batches (once per send, whichever attempt gets there), then runs the
    /// send's batches that no other worker has claimed and waits for the rest. Answers the
    /// email line as the ledger tells it.
    async fn send_in_batches(
        &self,
        job: &Job,
        spec: &PublishSpec,
        audience: &halcytone_publish::Audience,
        campaign: String,
    ) -> Result<(TargetResult, bool), WorkerError> {
        let store = self.core.store.clone();
        let root = crate::deliveries::send_root(store.as_ref(), job).await?;
        // A send retried (a new job repeating it, on its first run): its batches that were
        // cancelled or failed run again; the ledger keeps whom they reached.
        if job.retry_of.is_some() && job.attempts <= 1 {
            let reopened = store.reopen_batches(&root, now_ms()).await?;
            if reopened > 0 {
                tracing::info!(send = %root, reopened, "send retried: its unfinished batches are queued again");
            }
        }
        let listed = store.batch_counts(&root).await?;
        let batches = if listed.is_empty() {
            match self.plan_send(job, spec, audience, &root).await? {
                Ok(batches) => batches,
                Err(line) => return Ok((line, false)),
            }
        } else {
            store
                .planned_batches(crate::send_batches::send_key(&root))
                .await?
        };
        // Every batch queued already (a later attempt of the send): nothing to queue.
        let queued = if listed.values().sum::<i64>() < batches {
            crate::send_batches::enqueue(store.as_ref(), &root, job, spec, batches, now_ms())
                .await?
        } else {
            0
        };
        if queued > 0 {
            tracing::info!(send = %root, batches, queued, "send split into batch jobs");
            self.wake.notify_waiters();
        }
        let pause = Duration::from_millis(200);
        loop {
            let claimed = store
                .claim_batch(&root, &self.id, now_ms(), self.lease.as_millis() as i64)
                .await?;
            if let Some(batch) = claimed {
                if let Some((id, _)) = run_batch(self.clone(), batch).await? {
                    self.announce(&id, true).await;
                }
                continue;
            }
            if crate::send_batches::all_ended(store.as_ref(), &root).await? {
                break;
            }
            tokio::time::sleep(pause).await;
        }
        let line = crate::send_batches::outcome(store.as_ref(), &root, campaign).await?;
        let cancelled = store
            .batch_counts(&root)
            .await?
            .get(&JobStatus::Cancelled)
            .is_some_and(|n| *n > 0);
        Ok((line, cancelled))
    }

    async fn execute(&self, job: &Job) -> Result<Execution, WorkerError> {
        let spec = match JobSpec::from_payload(&job.payload) {
            Ok(s) => s,
            Err(e) => return Ok(Execution::Unrunnable(e.to_string())),
        };
        let mut wanted = Vec::new();
        for name in spec.targets() {
            // A target an earlier attempt delivered is not sent again; the store keeps its
            // result whatever this attempt reports.
            if job
                .results
                .get(name)
                .is_some_and(halcytone_store::results::delivered)
            {
                tracing::info!(target = %name, "delivered by an earlier attempt; not sent again");
                continue;
            }
            match targets::parse(name) {
                Ok(t) => wanted.push((name.clone(), t)),
                Err(e) => return Ok(Execution::Unrunnable(e)),
            }
        }
        if wanted.is_empty() && !spec.targets().is_empty() {
            return Ok(Execution::Ran(Attempt::default()));
        }
        let Some(doc) = self.core.store.document(&job.document_id).await? else {
            return Ok(Execution::Unrunnable(format!(
                "document {} is no longer stored",
                job.document_id
            )));
        };
        let spec = match spec {
            JobSpec::Publish(p) => p,
            JobSpec::Newsletter(_) => {
                let newsletter: DirectNewsletter = match serde_json::from_str(&doc.body) {
                    Ok(n) => n,
                    Err(e) => {
                        return Ok(Execution::Unrunnable(format!(
                            "document {} is not a newsletter: {e}",
                            doc.id
                        )));
                    }
                };
                let ledger = self.ledger(job, None).await?;
                let report = self
                    .core
                    .publishing
                    .send_newsletter(&newsletter, &job.correlation_id, Some(&ledger))
                    .await;
                self.record(&report);
                let sent = crate::campaigns::Sent {
                    job_id: job.id.clone(),
                    ab_test_id: None,
                    segment_id: None,
                };
                crate::campaigns::record(
                    self.core.store.as_ref(),
                    &sent,
                    &report.targets,
                    |_| newsletter.subject.clone(),
                    now_ms(),
                )
                .await?;
                return Ok(Execution::Ran(summarize(&wanted, &report.targets)));
            }
        };
        // The one compose path: the same parse (session records included), options and
        // time budget as a preview, off the async executor.
        let as_of = Utc
            .timestamp_millis_opt(spec.as_of_ms)
            .single()
            .unwrap_or_else(Utc::now);
        let text = DocumentText {
            label: doc.source.clone(),
            text: doc.body,
            format: spec.format,
        };
        let (channels, platforms) =
            targets::plan(&wanted.iter().map(|(_, t)| *t).collect::<Vec<_>>());
        let request = compose_request(&spec, channels.clone(), platforms);
        let bundle = match generation::produce(&self.core, &text, &request, as_of).await {
            Ok(made) => made.bundle,
            Err(e @ AppError::GenerationTimeout { .. }) => {
                // A busy moment, not a bad document: the job is retried later.
                let failed = Outcome::Failed {
                    reason: e.to_string(),
                    retryable: true,
                };
                return Ok(Execution::Ran(Attempt::all(names(&wanted), &failed)));
            }
            Err(e) => return Ok(Execution::Unrunnable(format!("document {}: {e}", doc.id))),
        };
        let segment = match &spec.segment {
            None => None,
            Some(seg) => match halcytone_audience::Rule::parse(&seg.rule) {
                Ok(rule) => Some(halcytone_publish::SegmentFilter {
                    segment_id: seg.id.clone(),
                    segment_name: seg.name.clone(),
                    rule,
                    today: as_of.date_naive(),
                }),
                Err(e) => {
                    return Ok(Execution::Unrunnable(format!(
                        "segment {} rule does not parse: {e}",
                        seg.id
                    )));
                }
            },
        };
        let mut audience = halcytone_publish::Audience {
            segment,
            first_name_fallback: spec.first_name_fallback.clone().unwrap_or_default(),
            ab: None,
            subscribers: None,
        };
        // A batched send reads its list once, when it is listed; a batch reads its slice.
        let listed_later = spec.batch.is_some() || self.sends_in_batches(&spec, &wanted);
        if let Some(id) = &spec.audience_id
            && wanted.iter().any(|(_, t)| matches!(t, Target::Email))
            && !listed_later
        {
            // The audience's active members instead of the CRM's list, as they are now.
            // An audience with no active member left skips the newsletter, like an empty list.
            match crate::audiences::active_subscribers(self.core.store.clone(), id).await {
                Ok(list) => audience.subscribers = Some(list),
                Err(crate::error::AppError::Store(e)) => return Err(e.into()),
                Err(e) => return Ok(Execution::Unrunnable(e.to_string())),
            }
        }
        if let Some(b) = &spec.batch {
            // A batch job: its slice of the send's list, as the ledger holds it.
            let rows = self
                .core
                .store
                .batch_recipients(crate::send_batches::send_key(&b.send), b.index)
                .await?;
            audience.subscribers = Some(
                rows.iter()
                    .filter_map(|r| serde_json::from_str(r).ok())
                    .collect(),
            );
        }
        let mut ab = None;
        if let Some(r) = &spec.ab_test {
            let prepared = crate::abtest::prepare(
                self.core.store.as_ref(),
                &self.core.publishing,
                r,
                audience.segment.as_ref(),
                &job.correlation_id,
            )
            .await?;
            match prepared {
                crate::abtest::Prepared::Send(t, send, fetched) => {
                    audience.ab = Some(send);
                    audience.subscribers = fetched;
                    ab = Some((*t, r.phase));
                }
                crate::abtest::Prepared::Done(note) => {
                    // An earlier job of the test sent it: nothing goes out again.
                    let mut attempt = Attempt::all(
                        names(&wanted),
                        &Outcome::Delivered {
                            provider_id: None,
                            at: Utc::now(),
                        },
                    );
                    for (_, r) in &mut attempt.results {
                        r.note = Some(note.clone());
                    }
                    return Ok(Execution::Ran(attempt));
                }
                crate::abtest::Prepared::Stop(reason, retry) => {
                    if !retry || job.attempts >= job.max_attempts {
                        crate::abtest::fail(self.core.store.as_ref(), &r.id, &reason).await?;
                    }
                    let failed = Outcome::Failed {
                        reason,
                        retryable: retry,
                    };
                    return Ok(Execution::Ran(Attempt::all(names(&wanted), &failed)));
                }
            }
        }
        let mut lines = Vec::new();
        let mut send_cancelled = false;
        let channels = if self.sends_in_batches(&spec, &wanted) {
            let version: String = bundle.document.content_hash.chars().take(16).collect();
            let campaign = match &spec.segment {
                Some(seg) => format!("halcytone-{version}-{}", seg.id),
                None => format!("halcytone-{version}"),
            };
            let (line, cancelled) = self
                .send_in_batches(job, &spec, &audience, campaign)
                .await?;
            lines.push(line);
            send_cancelled = cancelled;
            channels
                .into_iter()
                .filter(|c| *c != halcytone_content::Channel::Email)
                .collect()
        } else {
            channels
        };
        if !channels.is_empty() {
            let ledger = self.ledger(job, spec.batch.as_ref()).await?;
            let report = self
                .core
                .publishing
                .publish_to(
                    &bundle,
                    &channels,
                    &job.correlation_id,
                    Some(&audience),
                    Some(&ledger),
                )
                .await;
            self.record(&report);
            lines.extend(report.targets);
        }
        let mut attempt = summarize(&wanted, &lines);
        attempt.cancelled = send_cancelled;
        if let Some(post) = &bundle.web
            && lines.iter().any(|l| {
                l.channel == "web" && l.outcome == halcytone_publish::report::Outcome::Succeeded
            })
        {
            crate::feed::record_published(&self.core, &job.id, post).await;
        }
        let subject = bundle
            .newsletter
            .as_ref()
            .map(|n| n.subject.clone())
            .unwrap_or_default();
        let subject_of = |variant: Option<&str>| -> String {
            let Some((t, _)) = &ab else {
                return subject.clone();
            };
            let i = match variant {
                Some("rest") => t.winner.unwrap_or(0).max(0) as usize,
                Some(v) => v
                    .trim_start_matches('v')
                    .parse::<usize>()
                    .unwrap_or(1)
                    .saturating_sub(1),
                None => return subject.clone(),
            };
            t.subjects
                .get(i)
                .cloned()
                .unwrap_or_else(|| subject.clone())
        };
        let sent = crate::campaigns::Sent {
            job_id: job.id.clone(),
            ab_test_id: spec.ab_test.as_ref().map(|r| r.id.clone()),
            segment_id: spec.segment.as_ref().map(|s| s.id.clone()),
        };
        if spec.batch.is_none() {
            // A batched send's campaign is recorded once, by the send's job, from its ledger.
            crate::campaigns::record(
                self.core.store.as_ref(),
                &sent,
                &lines,
                subject_of,
                now_ms(),
            )
            .await?;
        }
        if let Some((t, phase)) = ab {
            let last = !attempt.retryable() || job.attempts >= job.max_attempts;
            crate::abtest::after_publish(
                self.core.store.as_ref(),
                job,
                &spec,
                t,
                phase,
                &lines,
                last,
            )
            .await?;
        }
        Ok(Execution::Ran(attempt))
    }
}

fn names(wanted: &[(String, Target)]) -> impl Iterator<Item = String> + '_ {
    wanted.iter().map(|(name, _)| name.clone())
}

/// What a publish job composes: its channels and networks, tone, template and the
/// newsletter's per-reader and per-segment words. Validation is the preview's business.
pub(crate) fn compose_request(
    spec: &PublishSpec,
    channels: Vec<halcytone_content::Channel>,
    platforms: Vec<halcytone_content::Platform>,
) -> generation::Request {
    let seg = spec.segment.as_ref();
    let personal = halcytone_content::Personalization {
        first_name: spec.personalize,
        intro: seg.and_then(|s| s.intro.clone()),
        cta_text: seg.and_then(|s| s.cta_text.clone()),
        cta_url: seg.and_then(|s| s.cta_url.clone()),
    };
    let mut request = generation::Request {
        channels,
        tone: spec.tone,
        template: spec.template,
        validate: false,
        personalization: (personal != halcytone_content::Personalization::default())
            .then_some(personal),
        ..generation::Request::default()
    };
    if !platforms.is_empty() {
        request.platforms = platforms;
    }
    request
}

/// Per requested target: delivered when every matching publish line succeeded, else failed
/// with the reasons (retryable when any failure was transient). A target no line covers had
/// nothing to publish, which is a failure too.
fn summarize(wanted: &[(String, Target)], lines: &[TargetResult]) -> Attempt {
    let mut attempt = Attempt::default();
    for (name, target) in wanted {
        let mine: Vec<&TargetResult> = lines
            .iter()
            .filter(|l| target.covers(&l.target) && l.outcome != PublishOutcome::Skipped)
            .collect();
        let failures: Vec<&&TargetResult> = mine
            .iter()
            .filter(|l| l.outcome == PublishOutcome::Failed)
            .collect();
        let outcome = if mine.is_empty() {
            Outcome::Failed {
                reason: lines
                    .iter()
                    .find(|l| target.covers(&l.target))
                    .and_then(|l| l.reason.clone())
                    .unwrap_or_else(|| "nothing to publish for this channel".into()),
                retryable: false,
            }
        } else if failures.is_empty() {
            Outcome::Delivered {
                provider_id: mine.iter().find_map(|l| l.external_id.clone()),
                at: Utc::now(),
            }
        } else {
            Outcome::Failed {
                reason: failures
                    .iter()
                    .filter_map(|l| l.reason.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                retryable: failures.iter().any(|l| l.retryable),
            }
        };
        let mut result = ChannelResult::new(outcome);
        result.url = mine.iter().find_map(|l| l.url.clone());
        result.publishes = mine
            .iter()
            .map(|l| json!({ "target": l.target, "outcome": l.outcome, "external_id": l.external_id, "url": l.url, "upstream_status": l.upstream_status, "reason": l.reason, "attempts": l.attempts }))
            .collect();
        attempt.results.push((name.clone(), result));
    }
    attempt
}

/// Runs a claimed batch job. A named function with a boxed future, because the send that
/// runs its own batches is itself a job run: the future cannot hold itself unboxed.
fn run_batch(
    worker: Worker,
    job: Job,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = RunResult> + Send>> {
    Box::pin(async move { worker.run_claimed(job).await })
}

/// The email line of a send that ended before any batch was queued.
fn email_line(outcome: PublishOutcome, reason: String, retryable: bool) -> TargetResult {
    TargetResult {
        channel: "email",
        target: crate::send_batches::TARGET.to_string(),
        outcome,
        reason: Some(reason),
        retryable,
        upstream_status: None,
        attempts: 1,
        external_id: None,
        url: None,
        idempotency_key: String::new(),
        campaign: None,
        recipients: None,
    }
}
