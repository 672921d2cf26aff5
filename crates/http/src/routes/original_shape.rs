//! The earlier API's request shapes on the v2 content routes, accepted beside ours: a body
//! with a `content` object (`ContentValidationRequest` on `POST /api/v2/generate-content`,
//! `ContentRequestStrict` on `POST /api/v2/validate-content`). The content object becomes the
//! living document of the request, so it is composed, validated and published like any
//! other; field errors name the field as the earlier shape spells it (`content.title`).

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use halcytone_content::session::{self, FieldError, SessionInput};
use halcytone_content::strict::StrictContent;
use serde::Deserialize;
use serde_json::{Value, json};

/// The content object: an update, blog post or announcement, or a Live session.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // for the schema: the object is read by its `type`, not through this
pub(super) enum OriginalContent {
    Strict(StrictContent),
    Session(SessionInput),
}

/// `POST /api/v2/generate-content` as the earlier API took it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OriginalGenerateBody {
    /// The content to generate from (it is the living document of this request).
    #[schema(value_type = OriginalContent)]
    content: Value,
    #[serde(default)]
    send_email: Option<bool>,
    #[serde(default)]
    publish_web: Option<bool>,
    #[serde(default)]
    generate_social: Option<bool>,
    #[serde(default)]
    #[schema(schema_with = halcytone_app::schema::tone)]
    tone: Option<String>,
    #[serde(default)]
    invalidate_cache: Option<bool>,
    #[serde(default)]
    preview_only: bool,
    #[serde(default)]
    include_preview: Option<bool>,
    /// `false` skips validation of the composed content (the content's own rules still apply).
    #[serde(default)]
    validate_before_publish: Option<bool>,
    /// Publish even when validation of the composed content reports errors.
    #[serde(default)]
    override_validation: bool,
}

/// `POST /api/v2/validate-content` as the earlier API took it (`ContentRequestStrict`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OriginalValidateBody {
    #[schema(value_type = OriginalContent)]
    content: Value,
    /// Accepted as the earlier API took it; validating is what this route does.
    #[serde(default)]
    #[allow(dead_code)]
    validate_before_publish: Option<bool>,
    /// Accepted; a validation answers, it publishes nothing to override.
    #[serde(default)]
    #[allow(dead_code)]
    override_validation: bool,
}

/// Whether a body is in the earlier shape: a JSON object with a `content` key that is not
/// null. Judged without reading any other field.
pub(super) fn is_original(raw: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        content: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(raw).is_ok_and(|p| p.content.is_some())
}

/// Whether an earlier-shape body asks only for a preview (`preview_only`, or the content's
/// `dry_run` or `preview` channel), judged before the caller's key is.
pub(super) fn asks_preview_only(raw: &[u8]) -> bool {
    serde_json::from_slice::<Value>(raw).is_ok_and(|v| {
        v.get("preview_only") == Some(&Value::Bool(true))
            || v.pointer("/content/dry_run") == Some(&Value::Bool(true))
            || v.pointer("/content/channels")
                .and_then(Value::as_array)
                .is_some_and(|cs| cs.iter().any(|c| c.as_str() == Some("preview")))
    })
}

/// A content object read and checked: the document it stands for and what checking found.
pub(super) struct Read {
    pub document: Value,
    pub content_type: &'static str,
    /// Rules broken, as `content.<field>: <why>`.
    pub issues: Vec<String>,
    pub warnings: Vec<String>,
    pub metadata: Value,
    pub preview_only: bool,
    /// Channels the content allows: email, web, social.
    pub channels: Vec<&'static str>,
    pub template: Option<String>,
}

impl Read {
    /// The first broken rule as a 422 naming its field; the message lists every one.
    fn refusal(&self, errors: &[FieldError]) -> ApiResult<()> {
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(ApiError::invalid(
                format!("content.{}", first.field),
                self.issues.join("; "),
            )),
        }
    }

    /// The earlier API's `validation_result` of content that passed its rules.
    pub fn validation_result(&self) -> Value {
        json!({
            "is_valid": true,
            "content_type": self.content_type,
            "issues": self.issues,
            "warnings": self.warnings,
            "enhanced_metadata": self.metadata,
        })
    }
}

/// Reads the content object by its `type`; wrong JSON types are a 422 naming the field.
fn read(content: Value, now: DateTime<Utc>) -> ApiResult<(Read, Vec<FieldError>)> {
    if !content.is_object() {
        return Err(ApiError::invalid(
            "content",
            "content: expected an object (an update, blog, announcement or session)",
        ));
    }
    if content.get("type").and_then(Value::as_str) == Some("session") {
        let s: SessionInput = nested(&content)?;
        let errors = session::check(&s, now);
        let channels = s.channels.clone().unwrap_or_default();
        let read = Read {
            document: content,
            content_type: "session",
            issues: issues(&errors),
            warnings: Vec::new(),
            metadata: json!({
                "word_count": s.content.split_whitespace().count(),
                "character_count": s.content.chars().count(),
                "participant_count": s.participant_count,
                "session_duration": s.session_duration,
            }),
            preview_only: s.dry_run == Some(true) || channels.iter().any(|c| c == "preview"),
            channels: allowed(&channels, s.channels.is_none()),
            template: s.template.clone(),
        };
        return Ok((read, errors));
    }
    let c: StrictContent = nested(&content)?;
    let checked = c.check(now);
    let kind = match checked.content_type.as_str() {
        "blog" => "blog",
        "announcement" => "announcement",
        _ => "update",
    };
    let names = c.channels.clone().unwrap_or_default();
    let read = Read {
        document: c.to_document(now),
        content_type: kind,
        issues: issues(&checked.errors),
        warnings: checked.warnings,
        metadata: checked.metadata,
        preview_only: c.preview_only(),
        channels: allowed(&names, c.channels.is_none()),
        template: c.template.as_ref().map(|t| t.trim().to_ascii_lowercase()),
    };
    Ok((read, checked.errors))
}

fn issues(errors: &[FieldError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| format!("content.{}: {}", e.field, e.message))
        .collect()
}

/// The publishing channels a content's `channels` names (all three when it names none).
fn allowed(names: &[String], all: bool) -> Vec<&'static str> {
    ["email", "web", "social"]
        .into_iter()
        .filter(|c| all || names.iter().any(|n| n.trim().eq_ignore_ascii_case(c)))
        .collect()
}

/// Deserialises the content object, naming a bad field by its place in the earlier shape.
fn nested<T: serde::de::DeserializeOwned>(content: &Value) -> ApiResult<T> {
    let bytes = serde_json::to_vec(content).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    crate::body::parse::<T>(&bytes).map_err(|e| match e {
        ApiError::Invalid { field, message } => {
            let field = if field == "body" {
                "content".to_string()
            } else {
                format!("content.{field}")
            };
            let message = message
                .split_once(": ")
                .map_or(message.clone(), |(_, why)| why.to_string());
            ApiError::invalid(field.clone(), format!("{field}: {message}"))
        }
        other => other,
    })
}

/// What a generate request in the earlier shape asks for.
pub(super) struct Generate {
    pub read: Read,
    pub preview_only: bool,
    pub send_email: bool,
    pub publish_web: bool,
    pub generate_social: bool,
    pub tone: Option<String>,
    pub include_preview: Option<bool>,
    pub force: bool,
    pub invalidate_cache: Option<bool>,
    pub validate: Option<bool>,
}

/// Reads a generate body in the earlier shape; a broken content rule is a 422.
pub(super) fn generate(raw: &[u8], now: DateTime<Utc>) -> ApiResult<Generate> {
    let body: OriginalGenerateBody = crate::body::parse(raw)?;
    let (read, errors) = read(body.content, now)?;
    read.refusal(&errors)?;
    let wants = |flag: Option<bool>, channel: &str| {
        flag.unwrap_or(true) && read.channels.contains(&channel)
    };
    Ok(Generate {
        preview_only: body.preview_only || read.preview_only,
        send_email: wants(body.send_email, "email"),
        publish_web: wants(body.publish_web, "web"),
        generate_social: wants(body.generate_social, "social"),
        tone: body.tone,
        include_preview: body.include_preview,
        force: body.override_validation,
        invalidate_cache: body.invalidate_cache,
        validate: body.validate_before_publish,
        read,
    })
}

/// Reads a validate body in the earlier shape; a broken content rule is a 422 naming its
/// field, as the earlier API's schema made it (the composed document's own findings are what
/// the answer's `is_valid` reports).
pub(super) fn validate(raw: &[u8], now: DateTime<Utc>) -> ApiResult<Read> {
    let body: OriginalValidateBody = crate::body::parse(raw)?;
    let (read, errors) = read(body.content, now)?;
    read.refusal(&errors)?;
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-02T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_content_key_marks_the_earlier_shape() {
        assert!(is_original(br#"{"content": {"title": "x"}}"#));
        assert!(!is_original(br#"{"content": null, "preview_only": true}"#));
        assert!(!is_original(br#"{"preview_only": true}"#));
        assert!(!is_original(b"not json"));
    }

    #[test]
    fn dry_run_content_is_a_preview() {
        assert!(asks_preview_only(br#"{"content": {"dry_run": true}}"#));
        assert!(asks_preview_only(
            br#"{"content": {"channels": ["preview"]}}"#
        ));
        assert!(!asks_preview_only(br#"{"content": {"dry_run": false}}"#));
    }

    #[test]
    fn a_wrong_type_names_the_field_in_the_earlier_shape() {
        let e = generate(
            br#"{"content": {"title": 5, "content": "one two three four"}}"#,
            now(),
        )
        .err()
        .unwrap();
        let ApiError::Invalid { field, message } = e else {
            panic!("{e:?}")
        };
        assert_eq!(field, "content.title");
        assert!(
            message.starts_with("content.title: invalid type"),
            "{message}"
        );
        let e = generate(
            br#"{"content": {"title": "T", "content": "one two three", "colour": 1}}"#,
            now(),
        )
        .err()
        .unwrap();
        let ApiError::Invalid { field, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(field, "content.colour");
        let e = generate(br#"{"content": "text"}"#, now()).err().unwrap();
        let ApiError::Invalid { field, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(field, "content");
    }

    #[test]
    fn a_broken_rule_refuses_a_generate_and_a_validate() {
        let raw = br#"{"content": {"type": "blog", "title": "Breathing guide", "content": "Breathe in slowly, then out."}}"#;
        for e in [
            generate(raw, now()).err().unwrap(),
            validate(raw, now()).err().unwrap(),
        ] {
            let ApiError::Invalid { field, message } = e else {
                panic!("{e:?}")
            };
            assert_eq!(field, "content.category");
            assert!(message.contains("needs a category"), "{message}");
        }
    }

    #[test]
    fn channels_narrow_what_is_generated() {
        let g = generate(
            br#"{"content": {"title": "Weekly notes", "content": "Small fixes across the app.", "channels": ["web"]}, "send_email": true}"#,
            now(),
        )
        .unwrap();
        assert!(!g.send_email && g.publish_web && !g.generate_social);
        assert!(!g.preview_only);
    }
}
