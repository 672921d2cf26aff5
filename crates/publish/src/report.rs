//! What a publish did, per target.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Skipped,
}

/// One target: `email`, `email:batch-2`, `web`, `social:twitter`…
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub channel: &'static str,
    pub target: String,
    pub outcome: Outcome,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether trying again later may succeed (5xx, 408, 429, unreachable, breaker open).
    #[serde(default)]
    pub retryable: bool,
    /// The upstream's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub idempotency_key: String,
    /// The email campaign this line belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// Recipients the line was for (email batches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<usize>,
}

/// Every target of one publish.
#[derive(Debug, Clone, Serialize)]
pub struct PublishReport {
    pub dry_run: bool,
    pub correlation_id: String,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    pub targets: Vec<TargetResult>,
    /// Time spent on each channel that was published, in seconds (for metrics).
    #[serde(skip)]
    pub channel_seconds: Vec<(&'static str, f64)>,
}

impl PublishReport {
    pub fn new(dry_run: bool, correlation_id: String, targets: Vec<TargetResult>) -> Self {
        let count = |o| targets.iter().filter(|t| t.outcome == o).count();
        PublishReport {
            dry_run,
            correlation_id,
            succeeded: count(Outcome::Succeeded),
            failed: count(Outcome::Failed),
            skipped: count(Outcome::Skipped),
            targets,
            channel_seconds: Vec::new(),
        }
    }

    /// True when nothing failed.
    pub fn all_succeeded(&self) -> bool {
        self.failed == 0
    }
}
