//! What the store holds: document snapshots, publish jobs, API keys and the audit log.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A living document as it was when a job used it; identical text is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentRecord {
    pub id: String,
    /// SHA-256 of the body, hex.
    pub hash: String,
    pub source: String,
    pub format: String,
    pub body: String,
    pub created_ms: i64,
}

/// Where a publish job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    InProgress,
    Completed,
    Partial,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Pending,
        JobStatus::InProgress,
        JobStatus::Completed,
        JobStatus::Partial,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::InProgress => "in_progress",
            JobStatus::Completed => "completed",
            JobStatus::Partial => "partial",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Partial | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown job status '{s}'; valid: {}",
                    Self::ALL.map(|x| x.as_str()).join(", ")
                )
            })
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub document_id: String,
    pub channels: Vec<String>,
    /// What the worker needs to run it (options, targets), as JSON.
    pub payload: Value,
    /// Not before this time (Unix ms).
    pub run_at_ms: i64,
    /// The time the user asked for, when scheduled.
    pub scheduled_ms: Option<i64>,
    pub max_attempts: i64,
    pub correlation_id: String,
    pub retry_of: Option<String>,
    /// The batch this job publishes an item of.
    pub batch_id: Option<String>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub document_id: String,
    pub channels: Vec<String>,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at_ms: i64,
    pub lease_until_ms: Option<i64>,
    pub worker: Option<String>,
    pub created_ms: i64,
    pub started_ms: Option<i64>,
    pub completed_ms: Option<i64>,
    pub scheduled_ms: Option<i64>,
    pub payload: Value,
    /// Per-channel results, as the worker recorded them.
    pub results: Value,
    pub errors: Vec<String>,
    pub last_error: Option<String>,
    pub correlation_id: String,
    pub retry_of: Option<String>,
    pub batch_id: Option<String>,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    /// Jobs that include this channel.
    pub channel: Option<String>,
    /// Created at or after this time (Unix ms).
    pub created_since_ms: Option<i64>,
    /// Created before this time (Unix ms).
    pub created_until_ms: Option<i64>,
    /// Jobs of this batch.
    pub batch_id: Option<String>,
    /// At most 10,000.
    pub limit: i64,
    pub offset: i64,
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A stored API key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it in lists.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
    /// This key's own request budgets, where it has them.
    pub limits: KeyLimits,
}

/// A key's own request budgets. `None` uses the service's setting (`RATE_LIMIT_*`); `Some(0)`
/// turns that budget off for the key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLimits {
    pub reads_per_second: Option<u32>,
    pub read_burst: Option<u32>,
    pub writes_per_minute: Option<u32>,
}

impl KeyLimits {
    pub fn is_empty(&self) -> bool {
        *self == KeyLimits::default()
    }
}

impl ApiKey {
    /// Admin implies write, write implies read.
    pub fn allows(&self, needed: Scope) -> bool {
        self.revoked_ms.is_none() && self.scopes.iter().any(|s| *s >= needed)
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// A batch of generated content items, each to be published at its own time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    pub id: String,
    pub created_ms: i64,
    pub period: String,
    pub channels: Vec<String>,
    pub dry_run: bool,
    /// The generated items, as the API returned them.
    pub items: Value,
    /// When the batch was scheduled (its jobs created); `None` until then.
    pub scheduled_ms: Option<i64>,
}

/// One publishable version of the content: a document snapshot composed with options.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentVersion {
    pub id: String,
    pub document_id: String,
    /// The document as the caller named it.
    pub label: String,
    pub content_hash: String,
    pub channels: Vec<String>,
    /// Tone, template and reference time it was composed with.
    pub options: Value,
    /// The publish job of this version, when there is one.
    pub job_id: Option<String>,
    pub created_ms: i64,
    /// Where it is in review: draft, in_review, approved, rejected, scheduled (handed to
    /// the publisher; the job's status says the rest).
    pub review_state: String,
    /// The review level it needs (L1–L4), once known.
    pub review_level: Option<String>,
    /// The review record: approvals (who, when), submission, rejection, forced publish.
    pub review: Value,
    pub updated_ms: i64,
    /// The schedule whose run made it.
    pub schedule_id: Option<String>,
}

/// A schedule: one run at `scheduled_for_ms`, or runs on a cron expression in a time zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub cron: Option<String>,
    pub timezone: String,
    pub scheduled_for_ms: Option<i64>,
    /// A source reference (`gdocs:…`), or `None` for the configured living document.
    pub document_id: Option<String>,
    pub channels: Vec<String>,
    /// Tone, template and other options for the generated content.
    pub options: Value,
    /// active, paused or completed.
    pub status: String,
    pub next_run_ms: Option<i64>,
    pub last_run_ms: Option<i64>,
    pub last_result: Option<Value>,
    pub created_by: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleRun {
    pub id: String,
    pub schedule_id: String,
    /// The occurrence it ran for.
    pub due_ms: i64,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// running, awaiting_approval, queued, unchanged, failed.
    pub status: String,
    pub version_id: Option<String>,
    pub job_id: Option<String>,
    pub detail: String,
}

/// One cache invalidation, as requested and as it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheInvalidation {
    pub seq: i64,
    pub at_ms: i64,
    pub request_id: String,
    pub actor: String,
    pub request: Value,
    pub result: Value,
}

/// An outbound credential as stored: sealed by the vault (the store never sees the value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCredential {
    /// What it is for: `crm_api_key`, `platform_api_key`, …
    pub name: String,
    /// `hv1:<key id>:<data>` (see halcytone-vault).
    #[serde(skip)]
    pub sealed: String,
    /// The encryption key that sealed it.
    pub key_id: String,
    /// Details that are not secret (who set it, a masked tail, expiry).
    pub meta: Value,
    /// Grows by one on every change; replacing needs the revision read.
    pub revision: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A named audience segment: a rule over subscriber attributes (see halcytone-audience).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub rule: String,
    pub description: Option<String>,
    /// Replaces the newsletter's introduction for this segment.
    pub intro: Option<String>,
    /// Replaces the call to action's text for this segment.
    pub cta_text: Option<String>,
    /// Replaces the call to action's link for this segment.
    pub cta_url: Option<String>,
    pub created_by: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// An A/B subject test: a test group split over the variants, then (after a wait) the
/// winner by open rate sent to the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbTest {
    pub id: String,
    /// The job that sends the variants.
    pub job_id: String,
    /// The job that picks the winner and sends it to the rest.
    pub remainder_job_id: Option<String>,
    pub segment_id: Option<String>,
    pub subjects: Vec<String>,
    /// Share of the audience in the test group, (0, 1].
    pub test_fraction: f64,
    /// Wait between the variants' send and the choice of the winner.
    pub decide_after_ms: i64,
    /// `testing`, `waiting`, `sending_winner`, `completed` or `failed`.
    pub status: String,
    /// Subscriber ids of the test group, one list per variant (fixed at the first send).
    #[serde(skip)]
    pub assignment: Option<Vec<Vec<String>>>,
    /// The winning variant (0-based).
    pub winner: Option<i64>,
    /// Per-variant figures and the decision.
    pub results: Value,
    pub reason: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub decided_ms: Option<i64>,
}

/// One email campaign sent (a plain send, an A/B variant or its remainder), with the last
/// figures pulled from the CRM.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct EmailCampaign {
    pub campaign_id: String,
    pub job_id: String,
    pub ab_test_id: Option<String>,
    /// `v1`, `v2`, … or `rest` within an A/B test.
    pub variant: Option<String>,
    pub subject: String,
    pub segment_id: Option<String>,
    /// Recipients we handed to the CRM.
    pub recipients: i64,
    pub stats: Option<CampaignStats>,
    /// When `stats` were pulled.
    pub fetched_ms: Option<i64>,
    pub created_ms: i64,
}

/// A campaign's figures as the CRM reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct CampaignStats {
    pub sent: i64,
    pub delivered: i64,
    pub opened: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
    pub bounced: i64,
}
