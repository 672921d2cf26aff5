//! Halcytone Live session summaries: a session record becomes a small living document
//! (overview, techniques, achievements, feedback) that every channel composes as usual.

use crate::model::{
    Category, ContentType, Flags, Item, ItemDate, ItemLines, LivingDocument, Section, SourceFormat,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const KNOWN_TECHNIQUES: [&str; 9] = [
    "Box Breathing",
    "4-7-8 Breathing",
    "Coherent Breathing",
    "Belly Breathing",
    "Alternate Nostril",
    "Breath of Fire",
    "Lions Breath",
    "Humming Bee",
    "Cooling Breath",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionType {
    Live,
    #[default]
    Guided,
    Practice,
    Workshop,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    pub comment: String,
    #[serde(default)]
    pub participant_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct FeedbackList {
    #[serde(default)]
    pub items: Vec<Feedback>,
}

/// A finished Live session, as the Breathscape platform reports it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub title: String,
    pub content: String,
    pub session_id: String,
    pub session_duration: u32,
    pub participant_count: u32,
    pub breathing_techniques: Vec<String>,
    #[serde(default)]
    pub average_hrv_improvement: Option<f64>,
    #[serde(default)]
    pub key_achievements: Vec<String>,
    #[serde(default)]
    pub session_type: SessionType,
    #[serde(default)]
    pub instructor_name: Option<String>,
    pub session_date: DateTime<Utc>,
    #[serde(default)]
    pub metrics_summary: Option<serde_json::Value>,
    #[serde(default)]
    pub participant_feedback: Option<FeedbackList>,
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// The fields every strict content object has (`ContentBaseStrict`), accepted so that
    /// a session written for the earlier API is read as it is; `author` is checked, the
    /// rest change nothing in a summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// One invalid field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("invalid session JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid session: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
}

/// Whether `text` looks like a session record rather than a living document.
pub fn looks_like_session(text: &str) -> bool {
    // Over the JSON limits: not read here; the document parser names the limit.
    if crate::parse::json_limits::check(text).is_err() {
        return false;
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("session_id").map(|_| ()))
        .is_some()
}

/// Reads and checks a session record; `now` bounds its date.
pub fn parse(text: &str, now: DateTime<Utc>) -> Result<SessionInput, SessionError> {
    if let Err(e) = crate::parse::json_limits::check(text) {
        return Err(SessionError::Json {
            line: e.line().unwrap_or(1),
            column: 1,
            message: e.to_string(),
        });
    }
    let input: SessionInput = serde_json::from_str(text)
        .or_else(|e| {
            if !crate::json_numbers::is_float_for_integer(&e) {
                return Err(e);
            }
            let mut v: serde_json::Value = serde_json::from_str(text)?;
            crate::json_numbers::whole_numbers(&mut v);
            serde_json::from_value(v)
        })
        .map_err(|e| SessionError::Json {
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })?;
    let errors = check(&input, now);
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(SessionError::Invalid(errors))
    }
}

/// Field rules of a session record.
pub fn check(s: &SessionInput, now: DateTime<Utc>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let chars = |v: &str| v.trim().chars().count();
    if let Some(k) = &s.kind
        && k != "session"
    {
        fail("type", format!("must be \"session\", not \"{k}\""));
    }
    if !(1..=200).contains(&chars(&s.title)) {
        fail("title", "must be 1–200 characters".into());
    }
    if chars(&s.content) < 10 || s.content.split_whitespace().count() < 3 {
        fail(
            "content",
            "must be at least 10 characters and 3 words".into(),
        );
    }
    if !(1..=100).contains(&chars(&s.session_id)) {
        fail("session_id", "must be 1–100 characters".into());
    }
    if !(1..=7200).contains(&s.session_duration) {
        fail("session_duration", "must be 1–7200 seconds".into());
    }
    if !(1..=1000).contains(&s.participant_count) {
        fail("participant_count", "must be 1–1000".into());
    }
    if !(1..=10).contains(&s.breathing_techniques.len()) {
        fail("breathing_techniques", "must list 1–10 techniques".into());
    }
    if s.breathing_techniques
        .iter()
        .any(|t| !(1..=100).contains(&chars(t)))
    {
        fail(
            "breathing_techniques",
            "each technique must be 1–100 characters".into(),
        );
    }
    if let Some(h) = s.average_hrv_improvement
        && !(-100.0..=200.0).contains(&h)
    {
        fail(
            "average_hrv_improvement",
            "must be between -100 and 200 (percent)".into(),
        );
    }
    if s.key_achievements.len() > 10 || s.key_achievements.iter().any(|a| chars(a) > 500) {
        fail(
            "key_achievements",
            "at most 10, each at most 500 characters".into(),
        );
    }
    if let Some(name) = &s.instructor_name
        && !(1..=100).contains(&chars(name))
    {
        fail("instructor_name", "must be 1–100 characters".into());
    }
    if s.session_type == SessionType::Live
        && s.instructor_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty())
    {
        fail(
            "instructor_name",
            "a live session needs an instructor".into(),
        );
    }
    if s.author.as_deref().is_some_and(|a| a.chars().count() > 100) {
        fail("author", "must be at most 100 characters".into());
    }
    if let Some(p) = s.priority
        && !(1..=5).contains(&p)
    {
        fail(
            "priority",
            format!("must be 1 (urgent) to 5 (archive), not {p}"),
        );
    }
    if s.session_type == SessionType::Workshop && s.participant_count < 5 {
        fail(
            "participant_count",
            "a workshop needs at least 5 participants".into(),
        );
    }
    let end_of_today = now
        .date_naive()
        .and_hms_opt(23, 59, 59)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    if s.session_date > end_of_today {
        fail("session_date", "cannot be in the future".into());
    } else if s.session_date < now - Duration::days(30) {
        fail("session_date", "is more than 30 days old".into());
    }
    errors
}

/// The technique's display name: known ones as they are, others as "Custom: …".
pub fn technique_name(raw: &str) -> String {
    let raw = raw.trim();
    KNOWN_TECHNIQUES
        .iter()
        .find(|k| k.eq_ignore_ascii_case(raw))
        .map_or_else(|| format!("Custom: {raw}"), |k| (*k).to_string())
}

fn technique_note(name: &str) -> &'static str {
    match name {
        "Box Breathing" => "Four equal counts: in, hold, out, hold. Steady and easy to remember.",
        "4-7-8 Breathing" => {
            "In for four, hold for seven, out slowly for eight; a long exhale that invites rest."
        }
        "Coherent Breathing" => {
            "About five to six breaths a minute, evenly paced, to settle the rhythm of the heart."
        }
        "Belly Breathing" => "Breathing low into the abdomen so the diaphragm does the work.",
        "Alternate Nostril" => {
            "Gently closing one nostril at a time to slow and balance the breath."
        }
        "Breath of Fire" => "Quick, rhythmic exhales from the belly; energising, best kept short.",
        "Lions Breath" => {
            "A wide-mouthed, audible exhale that releases tension in the face and jaw."
        }
        "Humming Bee" => "A soft hum on every exhale; the vibration helps attention settle.",
        "Cooling Breath" => {
            "Inhaling over a curled tongue or through the teeth for a cooling sensation."
        }
        _ => "A technique chosen by the instructor for this group.",
    }
}

/// Quality score 0–5 from the average HRV change.
pub fn quality_score(hrv: Option<f64>) -> f64 {
    match hrv {
        Some(h) if h > 10.0 => 5.0,
        Some(h) if h > 5.0 => 4.0,
        Some(h) if h > 0.0 => 3.0,
        _ => 0.0,
    }
}

fn item(title: String, content: String, date: &ItemDate, flags: Flags) -> Item {
    Item {
        title,
        content,
        date: Some(date.clone()),
        flags,
        lines: ItemLines::default(),
    }
}

/// The session as a living document whose lead item is the session itself.
pub fn to_document(s: &SessionInput) -> LivingDocument {
    let date = ItemDate::parse(&s.session_date.format("%Y-%m-%d").to_string());
    let minutes = s.session_duration.div_ceil(60);
    let kind = match s.session_type {
        SessionType::Live => "live",
        SessionType::Guided => "guided",
        SessionType::Practice => "practice",
        SessionType::Workshop => "workshop",
    };
    let mut overview = format!(
        "{} people joined a {minutes}-minute {kind} session",
        s.participant_count
    );
    if let Some(name) = s
        .instructor_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        overview.push_str(&format!(" led by {}", name.trim()));
    }
    overview.push('.');
    if let Some(h) = s.average_hrv_improvement.filter(|h| *h > 0.0) {
        overview.push_str(&format!(
            " Average heart-rate variability rose by {h:.1}% over the session."
        ));
    }
    let mut lead_flags = Flags {
        content_type: Some(ContentType::Session),
        featured: Some(s.average_hrv_improvement.is_some_and(|h| h > 15.0)),
        priority: Some(
            if matches!(s.session_type, SessionType::Live | SessionType::Workshop) {
                2
            } else {
                3
            },
        ),
        ..Flags::default()
    };
    lead_flags.tags = vec!["live-session".into(), "breathwork".into()];
    let mut news = vec![item(
        s.title.trim().to_string(),
        format!("{overview}\n\n{}", s.content.trim()),
        &date,
        lead_flags,
    )];
    if !s.key_achievements.is_empty() {
        let list = s
            .key_achievements
            .iter()
            .map(|a| format!("- {}", a.trim()))
            .collect::<Vec<_>>()
            .join("\n");
        news.push(item(
            "Key achievements".into(),
            list,
            &date,
            Flags::default(),
        ));
    }
    let feedback: Vec<String> = s
        .participant_feedback
        .iter()
        .flat_map(|f| f.items.iter().take(3))
        .map(|f| {
            match f
                .participant_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
            {
                Some(name) => format!("\"{}\" — {}", f.comment.trim(), name.trim()),
                None => format!("\"{}\"", f.comment.trim()),
            }
        })
        .collect();
    if !feedback.is_empty() {
        news.push(item(
            "What participants said".into(),
            feedback.join("\n\n"),
            &date,
            Flags::default(),
        ));
    }
    let techniques = s
        .breathing_techniques
        .iter()
        .map(|t| {
            let name = technique_name(t);
            let note = technique_note(&name);
            item(
                name,
                note.to_string(),
                &date,
                Flags {
                    content_type: Some(ContentType::Update),
                    ..Flags::default()
                },
            )
        })
        .collect();
    LivingDocument {
        title: Some(format!("Session summary: {}", s.title.trim())),
        format: SourceFormat::Json,
        flags: Flags::default(),
        sections: vec![
            Section {
                heading: "Session".into(),
                category: Category::Breathscape,
                category_explicit: true,
                line: 0,
                items: news,
            },
            Section {
                heading: "Techniques practised".into(),
                category: Category::Tips,
                category_explicit: true,
                line: 0,
                items: techniques,
            },
        ],
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::now;

    const SESSION: &str = r#"{"type":"session","title":"Evening wind-down","content":"We slowed the breath together before sleep.","session_id":"s-1","session_duration":1800,"participant_count":12,"breathing_techniques":["Box Breathing","Wave breathing"],"average_hrv_improvement":16.2,"key_achievements":["Everyone finished"],"session_type":"live","instructor_name":"Ana","session_date":"2026-11-20T19:00:00Z"}"#;

    #[test]
    fn becomes_a_document_with_the_session_first() {
        let s = parse(SESSION, now()).expect("valid");
        let doc = to_document(&s);
        let lead = &doc.sections[0].items[0];
        assert_eq!(lead.flags.content_type, Some(ContentType::Session));
        assert!(lead.featured());
        assert!(
            lead.content
                .starts_with("12 people joined a 30-minute live session led by Ana.")
        );
        assert_eq!(doc.sections[1].items[1].title, "Custom: Wave breathing");
        assert!(looks_like_session(SESSION));
    }

    #[test]
    fn rules_name_the_field() {
        let bad = SESSION
            .replace("\"instructor_name\":\"Ana\",", "")
            .replace("1800", "9000");
        let err = parse(&bad, now()).expect_err("invalid");
        let SessionError::Invalid(fields) = err else {
            panic!("wrong error")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, vec!["session_duration", "instructor_name"]);
        let old = SESSION.replace("2026-11-20", "2026-09-01");
        assert!(parse(&old, now()).is_err());
        assert_eq!(quality_score(Some(12.0)), 5.0);
    }
}
