//! What a job asks for, typed: one variant per kind of job, stored as the job's JSON payload
//! with a format version (`{"v": 2, "kind": "publish", …}`). Payloads written before the
//! version existed (no `v`; `kind` absent or `"newsletter"`) are read as version 1, so jobs
//! queued by an older build still run. A payload from a newer build is refused with a reason
//! rather than half understood.

use halcytone_content::{EmailTemplate, SourceFormat, Tone};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::str::FromStr;

/// The payload format this build writes.
pub const VERSION: u64 = 2;

/// One job's work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Compose the stored living document at `as_of_ms` and publish it to the targets.
    Publish(Box<PublishSpec>),
    /// Send a hand-written newsletter (the stored document is its JSON) as written.
    Newsletter(NewsletterSpec),
}

/// A living document composed and published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishSpec {
    /// Target names as the caller wrote them (`email`, `website`, `social_twitter`, …); the
    /// job's results are keyed by them.
    pub targets: Vec<String>,
    #[serde(default, deserialize_with = "by_name")]
    pub tone: Option<Tone>,
    #[serde(default, deserialize_with = "by_name")]
    pub template: Option<EmailTemplate>,
    /// Forced document format, when detection should not decide.
    #[serde(default, deserialize_with = "by_name")]
    pub format: Option<SourceFormat>,
    /// Reference time of composition, fixed when the job was created, so a retry composes
    /// identical content.
    pub as_of_ms: i64,
    /// The document as the caller named it (`doc-weekly`, `file:…`), for listings.
    #[serde(default)]
    pub document_label: Option<String>,
    /// The segment the newsletter is limited to (its rule as it was when the job was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentRef>,
    /// The audience (`POST /api/v2/audiences`) the newsletter goes to instead of the CRM's list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_id: Option<String>,
    /// Greet each reader by first name (merge tag `*|FIRST_NAME|*`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub personalize: bool,
    /// Written where a reader has no first name (default "there").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name_fallback: Option<String>,
    /// The A/B subject test this job sends part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab_test: Option<AbRef>,
    /// The trace of the request that queued the job, so its run joins that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The batch of a larger send this job sends, when it is a batch job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchRef>,
}

/// One batch of a send: the send's job (the first of its retry chain), whose delivery ledger
/// lists the batch's recipients, and the batch's number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BatchRef {
    pub send: String,
    pub index: i64,
}

impl PublishSpec {
    /// The targets composed at `as_of_ms` with every option at its default.
    pub fn new(targets: Vec<String>, as_of_ms: i64) -> PublishSpec {
        PublishSpec {
            targets,
            tone: None,
            template: None,
            format: None,
            as_of_ms,
            document_label: None,
            segment: None,
            audience_id: None,
            personalize: false,
            first_name_fallback: None,
            ab_test: None,
            traceparent: None,
            batch: None,
        }
    }
}

/// A hand-written newsletter, sent as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsletterSpec {
    pub targets: Vec<String>,
    pub as_of_ms: i64,
    #[serde(default)]
    pub document_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A segment as a job carries it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SegmentRef {
    pub id: String,
    pub name: String,
    pub rule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cta_url: Option<String>,
}

/// The A/B subject test a job takes part in, and which part.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbRef {
    pub id: String,
    pub phase: AbPhase,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AbPhase {
    /// Send each variant to its share of the test group.
    Test,
    /// Pick the winner from the CRM's open rates and send it to everyone else.
    Remainder,
}

/// Why a stored payload is not a job this build can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error(
        "job payload version {0} was written by a newer Halcytone; this build reads up to {VERSION}"
    )]
    TooNew(u64),
    #[error("job payload is not a publish job: {0}")]
    Malformed(String),
}

impl JobSpec {
    /// Reads a stored payload, of this version or an earlier one.
    pub fn from_payload(payload: &Value) -> Result<JobSpec, SpecError> {
        let version = payload.get("v").and_then(Value::as_u64).unwrap_or(1);
        if version > VERSION {
            return Err(SpecError::TooNew(version));
        }
        let mut body = payload.clone();
        if let Some(o) = body.as_object_mut() {
            // Version 1 wrote no kind for a composed publish.
            if !o.get("kind").is_some_and(Value::is_string) {
                o.insert("kind".into(), Value::from("publish"));
            }
        }
        serde_json::from_value(body).map_err(|e| SpecError::Malformed(e.to_string()))
    }

    /// The payload to store: this spec with the format version.
    pub fn to_payload(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("v".into(), Value::from(VERSION));
        }
        v
    }

    /// The word stored as the payload's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            JobSpec::Publish(_) => "publish",
            JobSpec::Newsletter(_) => "newsletter",
        }
    }

    pub fn targets(&self) -> &[String] {
        match self {
            JobSpec::Publish(p) => &p.targets,
            JobSpec::Newsletter(n) => &n.targets,
        }
    }

    pub fn as_of_ms(&self) -> i64 {
        match self {
            JobSpec::Publish(p) => p.as_of_ms,
            JobSpec::Newsletter(n) => n.as_of_ms,
        }
    }

    pub fn document_label(&self) -> Option<&str> {
        match self {
            JobSpec::Publish(p) => p.document_label.as_deref(),
            JobSpec::Newsletter(n) => n.document_label.as_deref(),
        }
    }

    pub fn traceparent(&self) -> Option<&str> {
        match self {
            JobSpec::Publish(p) => p.traceparent.as_deref(),
            JobSpec::Newsletter(n) => n.traceparent.as_deref(),
        }
    }

    /// The composition options, for a publish job.
    pub fn publish(&self) -> Option<&PublishSpec> {
        match self {
            JobSpec::Publish(p) => Some(p),
            JobSpec::Newsletter(_) => None,
        }
    }
}

/// Reads an optional tone, template or format by any spelling its parser accepts, as a
/// version-1 payload stored the caller's own spelling (`Professional`, `medical-scientific`).
fn by_name<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: std::fmt::Display,
{
    Option::<String>::deserialize(d)?
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse::<T>().map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn publish() -> PublishSpec {
        PublishSpec {
            targets: vec!["email".into(), "social_twitter".into()],
            tone: Some(Tone::Encouraging),
            template: Some(EmailTemplate::Minimal),
            format: None,
            as_of_ms: 1_795_500_000_000,
            document_label: Some("doc-weekly".into()),
            segment: None,
            audience_id: None,
            personalize: true,
            first_name_fallback: None,
            ab_test: Some(AbRef {
                id: "ab_1".into(),
                phase: AbPhase::Test,
            }),
            traceparent: None,
            batch: None,
        }
    }

    #[test]
    fn a_spec_round_trips_with_its_version_and_kind() {
        let spec = JobSpec::Publish(Box::new(publish()));
        let payload = spec.to_payload();
        assert_eq!(payload["v"], json!(VERSION));
        assert_eq!(payload["kind"], json!("publish"));
        assert_eq!(payload["tone"], json!("encouraging"));
        assert_eq!(JobSpec::from_payload(&payload).unwrap(), spec);
        let letter = JobSpec::Newsletter(NewsletterSpec {
            targets: vec!["email".into()],
            as_of_ms: 5,
            document_label: None,
            traceparent: None,
        });
        let payload = letter.to_payload();
        assert_eq!(payload["kind"], json!("newsletter"));
        assert_eq!(JobSpec::from_payload(&payload).unwrap(), letter);
    }

    #[test]
    fn version_one_payloads_still_run() {
        let old = json!({
            "targets": ["email"], "tone": "Medical-Scientific", "template": null,
            "format": "markdown", "as_of_ms": 7, "document_label": "file:a.md"
        });
        let JobSpec::Publish(p) = JobSpec::from_payload(&old).unwrap() else {
            panic!("a version-1 payload without a kind is a publish");
        };
        assert_eq!(p.tone, Some(Tone::MedicalScientific));
        assert_eq!(p.format, Some(SourceFormat::Markdown));
        let old = json!({ "targets": ["email"], "as_of_ms": 7, "kind": "newsletter" });
        assert_eq!(JobSpec::from_payload(&old).unwrap().kind(), "newsletter");
    }

    #[test]
    fn newer_and_broken_payloads_are_refused_with_a_reason() {
        let newer = json!({ "v": VERSION + 1, "kind": "publish", "targets": [], "as_of_ms": 0 });
        assert_eq!(
            JobSpec::from_payload(&newer),
            Err(SpecError::TooNew(VERSION + 1))
        );
        let wrong = json!({ "targets": ["email"], "as_of_ms": 0, "tone": "grumpy" });
        let err = JobSpec::from_payload(&wrong).unwrap_err().to_string();
        assert!(err.contains("grumpy"), "{err}");
        let unknown = json!({ "v": 2, "kind": "telegram", "targets": [], "as_of_ms": 0 });
        assert!(JobSpec::from_payload(&unknown).is_err());
    }
}
