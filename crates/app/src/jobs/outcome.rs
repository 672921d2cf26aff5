//! What an attempt of a job came to, typed: one [`Outcome`] per requested target, and the
//! [`Attempt`] they add up to. Stored as the job's `results` in the shape the dashboard reads
//! (`{"email": {"status": "success" | "failed", "content_id", "url", "error", "timestamp"}}`)
//! with the typed outcome beside it, so the store can keep a delivered result whatever a later
//! attempt reports (`halcytone_store::results`).

use chrono::{DateTime, SecondsFormat, Utc};
use halcytone_store::JobStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// What one target came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The provider accepted it; `provider_id` is its id for the send (campaign, post).
    Delivered {
        provider_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// It did not go out; `retryable` when a later attempt may succeed.
    Failed { reason: String, retryable: bool },
    /// Nothing was sent and nothing needed sending.
    Skipped { reason: String },
}

impl Outcome {
    /// The word the dashboard reads as the channel's `status`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Delivered { .. } => "success",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
        }
    }
}

/// One target's result: its outcome, where it can be seen, and each upstream call behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelResult {
    pub outcome: Outcome,
    pub url: Option<String>,
    /// A word for the reader (why nothing was sent this time).
    pub note: Option<String>,
    /// The upstream calls: target line, outcome, ids, status codes, attempts.
    pub publishes: Vec<Value>,
}

impl ChannelResult {
    pub fn new(outcome: Outcome) -> ChannelResult {
        ChannelResult {
            outcome,
            url: None,
            note: None,
            publishes: Vec::new(),
        }
    }

    /// The stored form: the dashboard's fields and the typed outcome.
    pub fn to_value(&self) -> Value {
        let mut v = json!({ "status": self.outcome.status(), "outcome": self.outcome });
        match &self.outcome {
            Outcome::Delivered { provider_id, at } => {
                v["content_id"] = json!(provider_id);
                v["timestamp"] = json!(at.to_rfc3339_opts(SecondsFormat::Millis, true));
            }
            Outcome::Failed { reason, .. } | Outcome::Skipped { reason } => {
                v["error"] = json!(reason);
            }
        }
        if let Some(url) = &self.url {
            v["url"] = json!(url);
        }
        if let Some(note) = &self.note {
            v["note"] = json!(note);
        }
        if !self.publishes.is_empty() {
            v["publishes"] = Value::Array(self.publishes.clone());
        }
        v
    }
}

/// One attempt of a job: every requested target's result, in the order asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attempt {
    pub results: Vec<(String, ChannelResult)>,
    /// The job was cancelled while it ran (a send stopped partway): it ends `cancelled`
    /// whatever its targets came to, and is not tried again.
    pub cancelled: bool,
}

impl Attempt {
    /// Every target met the same outcome.
    pub fn all(targets: impl IntoIterator<Item = String>, outcome: &Outcome) -> Attempt {
        Attempt {
            results: targets
                .into_iter()
                .map(|t| (t, ChannelResult::new(outcome.clone())))
                .collect(),
            cancelled: false,
        }
    }

    /// Completed when every target was delivered (or had nothing to send), failed when none
    /// was, partial otherwise.
    pub fn status(&self) -> JobStatus {
        if self.cancelled {
            return JobStatus::Cancelled;
        }
        let failed = self
            .results
            .iter()
            .filter(|(_, r)| matches!(r.outcome, Outcome::Failed { .. }))
            .count();
        match failed {
            0 => JobStatus::Completed,
            n if n == self.results.len() => JobStatus::Failed,
            _ => JobStatus::Partial,
        }
    }

    /// `target: reason` for every failed target.
    pub fn errors(&self) -> Vec<String> {
        self.results
            .iter()
            .filter_map(|(name, r)| match &r.outcome {
                Outcome::Failed { reason, .. } => Some(format!("{name}: {reason}")),
                _ => None,
            })
            .collect()
    }

    /// Whether a failure may pass on a later attempt.
    pub fn retryable(&self) -> bool {
        !self.cancelled
            && self.results.iter().any(|(_, r)| {
                matches!(
                    r.outcome,
                    Outcome::Failed {
                        retryable: true,
                        ..
                    }
                )
            })
    }

    /// The stored `results`: an object keyed by target name.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.results
                .iter()
                .map(|(name, r)| (name.clone(), r.to_value()))
                .collect::<Map<String, Value>>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
    }

    #[test]
    fn the_stored_form_is_what_the_dashboard_reads_and_what_the_store_keeps() {
        let mut sent = ChannelResult::new(Outcome::Delivered {
            provider_id: Some("cmp_1".into()),
            at: at(),
        });
        sent.url = Some("https://example.com/p".into());
        let v = sent.to_value();
        assert_eq!(v["status"], "success");
        assert_eq!(v["content_id"], "cmp_1");
        assert_eq!(v["timestamp"], "2026-12-01T10:00:00.000Z");
        assert_eq!(v["outcome"]["outcome"], "delivered");
        assert!(halcytone_store::results::delivered(&v));
        let failed = ChannelResult::new(Outcome::Failed {
            reason: "circuit open for crm".into(),
            retryable: true,
        })
        .to_value();
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["error"], "circuit open for crm");
        assert!(!halcytone_store::results::delivered(&failed));
    }

    #[test]
    fn an_attempt_adds_up_its_targets() {
        let delivered = Outcome::Delivered {
            provider_id: None,
            at: at(),
        };
        let transient = Outcome::Failed {
            reason: "503".into(),
            retryable: true,
        };
        let mut a = Attempt::all(["email".to_string()], &delivered);
        assert_eq!(a.status(), JobStatus::Completed);
        a.results
            .push(("website".into(), ChannelResult::new(transient.clone())));
        assert_eq!(a.status(), JobStatus::Partial);
        assert_eq!(a.errors(), ["website: 503"]);
        assert!(a.retryable());
        let all_failed = Attempt::all(["email".into(), "web".into()], &transient);
        assert_eq!(all_failed.status(), JobStatus::Failed);
        assert_eq!(Attempt::default().status(), JobStatus::Completed);
        assert_eq!(
            a.to_value()["website"]["status"],
            "failed",
            "keyed by the target names the caller wrote"
        );
    }
}
