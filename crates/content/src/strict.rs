//! The earlier API's strict content objects — the `content` of `{"content": {...}}` on the v2
//! generate and validate routes (`UpdateContentStrict`, `BlogContentStrict`,
//! `AnnouncementContentStrict`; sessions are [`crate::session::SessionInput`]): their fields,
//! their rules, the warnings and figures the earlier validator gave, and the living document
//! one of them stands for, so that it is composed like any other document.

use crate::content_type;
use crate::model::{Channel, ContentType};
use crate::parse::category;
use crate::session::FieldError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The newsletter templates the earlier API named; ours are these less `announcement`.
const TEMPLATES: [&str; 4] = ["modern", "minimal", "breathscape", "plain"];
/// Channels the earlier API knew; `preview` asks for a preview only.
const CHANNELS: [&str; 4] = ["email", "web", "social", "preview"];
const URGENCIES: [&str; 4] = ["low", "medium", "high", "critical"];

/// An update, blog post or announcement, as the earlier API took it. Unknown fields are
/// refused, as they were; fields of another type are refused once the type is known.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StrictContent {
    /// `update`, `blog` or `announcement`; detected from the words when absent.
    #[serde(rename = "type", default)]
    #[schema(value_type = Option<String>, pattern = "^(update|blog|announcement)$")]
    pub kind: Option<String>,
    /// 1–200 characters.
    pub title: String,
    /// At least 10 characters and 3 words; Markdown links are kept.
    pub content: String,
    /// When it was written (RFC 3339; a value without an offset is UTC). Default: now.
    #[serde(default)]
    pub date: Option<String>,
    /// At most 100 characters.
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub published: bool,
    /// Needs `published` or `scheduled_for`; not with `dry_run`.
    #[serde(default)]
    pub featured: bool,
    /// Any of email, web, social, preview (preview: generate, publish nothing).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// 1 urgent … 5 archive; default 3.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Newsletter template: modern, minimal, breathscape or plain.
    #[serde(default)]
    pub template: Option<String>,
    /// In the future and at most a year ahead; needs `published`.
    #[serde(default)]
    pub scheduled_for: Option<String>,
    /// Generate a preview only.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// Update: at most 10; blog: at most 15; each at most 50 characters.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Update: at most 300 characters; blog: at most 500.
    #[serde(default)]
    pub excerpt: Option<String>,
    /// Blog (required): 1–100 characters.
    #[serde(default)]
    pub category: Option<String>,
    /// Blog: minutes, 1–120.
    #[serde(default)]
    pub reading_time: Option<i64>,
    /// Blog: 50–160 characters.
    #[serde(default)]
    pub seo_description: Option<String>,
    /// Blog: at most 5, each at most 100 characters.
    #[serde(default)]
    pub target_keywords: Option<Vec<String>>,
    /// Announcement: low, medium (default), high or critical.
    #[serde(default)]
    pub urgency: Option<String>,
    /// Announcement: in the future and at most a year ahead.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Announcement: at most 200 characters; ends the item's text.
    #[serde(default)]
    pub call_to_action: Option<String>,
    /// Announcement: at most 200 characters.
    #[serde(default)]
    pub media_contact: Option<String>,
    /// Announcement.
    #[serde(default)]
    pub press_release: Option<bool>,
}

/// What checking a strict content object found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Checked {
    /// `update`, `blog` or `announcement`.
    pub content_type: String,
    /// Rules broken, each naming its field (relative to the content object).
    pub errors: Vec<FieldError>,
    /// What the earlier validator advised (scheduling, length, featured items).
    pub warnings: Vec<String>,
    /// Word and character counts, reading time, complexity, SEO score, channels, best time.
    pub metadata: Value,
}

impl StrictContent {
    /// The content type: `type` when given, else detected from the title and text.
    pub fn content_type(&self) -> Result<ContentType, FieldError> {
        match &self.kind {
            None => Ok(content_type::detect(&self.title, &self.content)),
            Some(k) => match k.trim().parse::<ContentType>() {
                Ok(ContentType::Session) | Err(_) => Err(FieldError {
                    field: "type".into(),
                    message: format!(
                        "must be update, blog, announcement or session (a session has its own fields), not \"{k}\""
                    ),
                }),
                Ok(t) => Ok(t),
            },
        }
    }

    /// Checks every rule of its type at `now`.
    pub fn check(&self, now: DateTime<Utc>) -> Checked {
        let mut errors = Vec::new();
        let kind = match self.content_type() {
            Ok(k) => k,
            Err(e) => {
                errors.push(e);
                ContentType::Update
            }
        };
        let mut fail = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        self.check_base(now, &mut fail);
        self.check_foreign_fields(kind, &mut fail);
        match kind {
            ContentType::Blog => self.check_blog(&mut fail),
            ContentType::Announcement => self.check_announcement(now, &mut fail),
            _ => {
                check_list(&mut fail, "tags", self.tags.as_deref(), 10, 50);
                check_max(&mut fail, "excerpt", self.excerpt.as_deref(), 300);
            }
        }
        Checked {
            content_type: kind.as_str().to_string(),
            errors,
            warnings: self.warnings(kind, now),
            metadata: self.metadata_figures(kind),
        }
    }

    fn check_base(&self, now: DateTime<Utc>, fail: &mut impl FnMut(&str, String)) {
        let title = self.title.trim().chars().count();
        if !(1..=200).contains(&title) {
            fail("title", "must be 1–200 characters, not blank".into());
        }
        if self.content.trim().chars().count() < 10 || self.content.split_whitespace().count() < 3 {
            fail(
                "content",
                "must be at least 10 characters and 3 words".into(),
            );
        }
        if let Some(d) = &self.date
            && parse_time(d).is_none()
        {
            fail("date", format!("\"{d}\" is not a date and time (RFC 3339)"));
        }
        check_max(fail, "author", self.author.as_deref(), 100);
        for (i, c) in self.channels.iter().flatten().enumerate() {
            if !CHANNELS.contains(&c.trim().to_ascii_lowercase().as_str()) {
                fail(
                    &format!("channels[{i}]"),
                    format!("\"{c}\" is not one of email, web, social, preview"),
                );
            }
        }
        if let Some(p) = self.priority
            && !(1..=5).contains(&p)
        {
            fail(
                "priority",
                format!("must be 1 (urgent) to 5 (archive), not {p}"),
            );
        }
        if let Some(t) = &self.template
            && !TEMPLATES.contains(&t.trim().to_ascii_lowercase().as_str())
        {
            fail(
                "template",
                format!("\"{t}\" is not one of modern, minimal, breathscape, plain"),
            );
        }
        let scheduled = self.scheduled_for.is_some();
        if let Some(s) = &self.scheduled_for {
            check_future(fail, "scheduled_for", s, now);
        }
        if self.featured && !(self.published || scheduled) {
            fail(
                "featured",
                "featured content must be published or scheduled".into(),
            );
        }
        if scheduled && !self.published {
            fail(
                "scheduled_for",
                "scheduled content must have published: true".into(),
            );
        }
        if self.dry_run && self.featured {
            fail("dry_run", "a dry run cannot be featured".into());
        }
    }

    /// Fields another type owns are refused, as the earlier models refused extra fields.
    fn check_foreign_fields(&self, kind: ContentType, fail: &mut impl FnMut(&str, String)) {
        let present = [
            ("tags", self.tags.is_some(), "update or blog"),
            ("excerpt", self.excerpt.is_some(), "update or blog"),
            ("category", self.category.is_some(), "blog"),
            ("reading_time", self.reading_time.is_some(), "blog"),
            ("seo_description", self.seo_description.is_some(), "blog"),
            ("target_keywords", self.target_keywords.is_some(), "blog"),
            ("urgency", self.urgency.is_some(), "announcement"),
            ("expires_at", self.expires_at.is_some(), "announcement"),
            (
                "call_to_action",
                self.call_to_action.is_some(),
                "announcement",
            ),
            (
                "media_contact",
                self.media_contact.is_some(),
                "announcement",
            ),
            (
                "press_release",
                self.press_release.is_some(),
                "announcement",
            ),
        ];
        for (field, given, owners) in present {
            if given && !owners.split(" or ").any(|o| o == kind.as_str()) {
                fail(
                    field,
                    format!(
                        "not a field of {} {} (only of {owners})",
                        article(kind),
                        kind.as_str()
                    ),
                );
            }
        }
    }

    fn check_blog(&self, fail: &mut impl FnMut(&str, String)) {
        match self.category.as_deref().map(|c| c.trim().chars().count()) {
            None => fail("category", "a blog post needs a category".into()),
            Some(n) if !(1..=100).contains(&n) => {
                fail("category", "must be 1–100 characters".into())
            }
            Some(_) => {}
        }
        check_list(fail, "tags", self.tags.as_deref(), 15, 50);
        if let Some(r) = self.reading_time
            && !(1..=120).contains(&r)
        {
            fail("reading_time", format!("must be 1–120 minutes, not {r}"));
        }
        if let Some(d) = &self.seo_description
            && !(50..=160).contains(&d.chars().count())
        {
            fail(
                "seo_description",
                format!("must be 50–160 characters (it has {})", d.chars().count()),
            );
        }
        check_max(fail, "excerpt", self.excerpt.as_deref(), 500);
        check_list(
            fail,
            "target_keywords",
            self.target_keywords.as_deref(),
            5,
            100,
        );
    }

    fn check_announcement(&self, now: DateTime<Utc>, fail: &mut impl FnMut(&str, String)) {
        if let Some(u) = &self.urgency
            && !URGENCIES.contains(&u.trim().to_ascii_lowercase().as_str())
        {
            fail(
                "urgency",
                format!("\"{u}\" is not one of low, medium, high, critical"),
            );
        }
        if let Some(e) = &self.expires_at {
            check_future(fail, "expires_at", e, now);
        }
        check_max(fail, "call_to_action", self.call_to_action.as_deref(), 200);
        check_max(fail, "media_contact", self.media_contact.as_deref(), 200);
    }

    fn urgency(&self) -> Option<String> {
        self.urgency.as_ref().map(|u| u.trim().to_ascii_lowercase())
    }

    /// Priority and featured after the announcement rules: high urgency is priority 2 and
    /// featured, critical is priority 1 and featured.
    fn effective_priority_featured(&self, kind: ContentType) -> (i64, bool) {
        let priority = self.priority.unwrap_or(3);
        if kind != ContentType::Announcement {
            return (priority, self.featured);
        }
        match self.urgency().as_deref() {
            Some("critical") => (1, true),
            Some("high") => (2, true),
            _ => (priority, self.featured),
        }
    }

    fn channel_names(&self) -> Vec<String> {
        self.channels.clone().map_or_else(
            || vec!["email".into(), "web".into(), "social".into()],
            |cs| cs.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        )
    }

    /// Whether the content asks for a preview only (`dry_run`, or `preview` among its channels).
    pub fn preview_only(&self) -> bool {
        self.dry_run || self.channel_names().iter().any(|c| c == "preview")
    }

    /// The publishing channels it names (`preview` left out).
    pub fn channels(&self) -> Vec<Channel> {
        self.channel_names()
            .iter()
            .filter_map(|c| c.parse::<Channel>().ok())
            .collect()
    }

    fn warnings(&self, kind: ContentType, now: DateTime<Utc>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(at) = self.scheduled_for.as_deref().and_then(parse_time)
            && at > now
        {
            if !(8..17).contains(&at.hour()) {
                out.push(
                    "Content scheduled outside business hours may have lower engagement".into(),
                );
            }
            if matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                out.push("Weekend scheduling may result in reduced visibility".into());
            }
        }
        let words = self.content.split_whitespace().count();
        if kind == ContentType::Blog && words < 300 {
            out.push("Blog posts under 300 words may not perform well for SEO".into());
        }
        if kind == ContentType::Update && words > 500 {
            out.push("Update content over 500 words may be too long for some channels".into());
        }
        let (priority, featured) = self.effective_priority_featured(kind);
        if featured {
            out.push("Ensure max 3 featured items are active simultaneously".into());
        }
        if priority <= 2 && !self.channel_names().iter().any(|c| c == "email") {
            out.push("High priority content should include email distribution".into());
        }
        out
    }

    fn metadata_figures(&self, kind: ContentType) -> Value {
        let words = self.content.split_whitespace().count();
        let sentences = self
            .content
            .split(['.', '!', '?'])
            .filter(|s| !s.trim().is_empty())
            .count()
            .max(1);
        let per_sentence = words as f64 / sentences as f64;
        let complexity = if per_sentence > 25.0 {
            "complex"
        } else if per_sentence > 15.0 {
            "moderate"
        } else {
            "simple"
        };
        let title_len = self.title.trim().chars().count();
        let mut seo: i64 = 50;
        seo += if (30..=60).contains(&title_len) {
            15
        } else {
            -5
        };
        if kind == ContentType::Blog {
            if words >= 300 {
                seo += 20;
            } else if words < 150 {
                seo -= 10;
            }
            if self.seo_description.is_some() {
                seo += 15;
            }
        }
        if self.excerpt.is_some() {
            seo += 10;
        }
        if self.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            seo += 10;
        }
        let urgent = matches!(self.urgency().as_deref(), Some("high" | "critical"));
        let best_time = match kind {
            ContentType::Blog => "Tuesday-Thursday, 9-11 AM EST",
            ContentType::Announcement if urgent => "immediate",
            ContentType::Announcement => "Monday-Wednesday, 9 AM-12 PM EST",
            _ => "Tuesday-Thursday, 10 AM-2 PM EST",
        };
        json!({
            "word_count": words,
            "character_count": self.content.chars().count(),
            "estimated_read_time": (words / 200).max(1),
            "content_complexity": complexity,
            "seo_score": seo.clamp(0, 100),
            "recommended_channels": self.channel_names(),
            "optimal_publish_time": best_time,
        })
    }

    /// The living document (structured JSON) this content stands for: one item under the
    /// category its blog category or its words name. Call after [`StrictContent::check`]
    /// found no error.
    pub fn to_document(&self, now: DateTime<Utc>) -> Value {
        let kind = self.content_type().unwrap_or(ContentType::Update);
        let category = self
            .category
            .as_deref()
            .and_then(category::from_heading)
            .unwrap_or_else(|| category::from_text(&format!("{} {}", self.title, self.content)));
        let (priority, featured) = self.effective_priority_featured(kind);
        let date = self
            .date
            .as_deref()
            .and_then(parse_time)
            .unwrap_or(now)
            .date_naive();
        let mut text = self.content.trim().to_string();
        if let Some(cta) = self.call_to_action.as_deref().map(str::trim)
            && !cta.is_empty()
        {
            text.push_str("\n\n");
            text.push_str(cta);
        }
        if let Some(contact) = self.media_contact.as_deref().map(str::trim)
            && !contact.is_empty()
        {
            text.push_str("\n\nMedia contact: ");
            text.push_str(contact);
        }
        let mut item = json!({
            "title": self.title.trim(),
            "content": text,
            "date": date.format("%Y-%m-%d").to_string(),
            "type": kind.as_str(),
            "priority": priority,
            "featured": featured,
            "channels": self.channels().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        });
        let mut set = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                item[key] = v;
            }
        };
        set(
            "template",
            self.template
                .as_ref()
                .map(|t| json!(t.trim().to_ascii_lowercase())),
        );
        set(
            "scheduled_for",
            self.scheduled_for.as_ref().map(|s| json!(s)),
        );
        set("urgency", self.urgency().map(Value::String));
        set(
            "seo_description",
            self.seo_description.as_ref().map(|s| json!(s)),
        );
        set(
            "tags",
            self.tags
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| json!(dedupe_lower(t))),
        );
        json!({
            "title": self.title.trim(),
            "categories": { category.as_str(): [item] },
        })
    }
}

fn article(kind: ContentType) -> &'static str {
    match kind {
        ContentType::Update | ContentType::Announcement => "an",
        _ => "a",
    }
}

/// Tags lowercased and each kept once, as the earlier model stored them.
fn dedupe_lower(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn check_max(fail: &mut impl FnMut(&str, String), field: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value
        && v.chars().count() > max
    {
        fail(
            field,
            format!(
                "must be at most {max} characters (it has {})",
                v.chars().count()
            ),
        );
    }
}

fn check_list(
    fail: &mut impl FnMut(&str, String),
    field: &str,
    list: Option<&[String]>,
    most: usize,
    longest: usize,
) {
    let Some(list) = list else { return };
    if list.len() > most {
        fail(field, format!("at most {most} (it has {})", list.len()));
    }
    for (i, v) in list.iter().enumerate() {
        if v.chars().count() > longest {
            fail(
                &format!("{field}[{i}]"),
                format!("must be at most {longest} characters"),
            );
        }
    }
}

fn check_future(fail: &mut impl FnMut(&str, String), field: &str, value: &str, now: DateTime<Utc>) {
    match parse_time(value) {
        None => fail(
            field,
            format!("\"{value}\" is not a date and time (RFC 3339)"),
        ),
        Some(at) if at <= now => fail(field, "must be in the future".into()),
        Some(at) if at > now + Duration::days(365) => {
            fail(field, "must be at most a year ahead".into())
        }
        Some(_) => {}
    }
}

/// RFC 3339, or a date and time without an offset (UTC), or a bare date (midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_time("2026-03-02T10:00:00Z").unwrap()
    }

    fn content(v: Value) -> StrictContent {
        serde_json::from_value(v).unwrap()
    }

    fn fields(c: &Checked) -> Vec<&str> {
        c.errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn an_update_from_the_reference_passes_and_becomes_one_item() {
        let c = content(json!({
            "type": "update",
            "title": "Breathscape 2.1 ships guided sessions",
            "content": "The app now offers [guided sessions](https://example.com/guided) every morning.",
            "tags": ["App", "app", "Release"],
            "channels": ["email", "web"],
        }));
        let checked = c.check(now());
        assert!(checked.errors.is_empty(), "{:?}", checked.errors);
        assert_eq!(checked.content_type, "update");
        let doc = c.to_document(now());
        let item = &doc["categories"]["breathscape"][0];
        assert_eq!(item["title"], "Breathscape 2.1 ships guided sessions");
        assert_eq!(item["tags"], json!(["app", "release"]));
        assert_eq!(item["channels"], json!(["email", "web"]));
        assert_eq!(item["date"], "2026-03-02");
        assert!(
            item["content"]
                .as_str()
                .unwrap()
                .contains("(https://example.com/guided)")
        );
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let c = content(json!({
            "title": " ",
            "content": "too short",
            "priority": 9,
            "template": "announcement",
            "featured": true,
            "dry_run": true,
            "channels": ["email", "fax"],
            "scheduled_for": "2020-01-01T00:00:00",
        }));
        let checked = c.check(now());
        let f = fields(&checked);
        for want in [
            "title",
            "content",
            "priority",
            "template",
            "channels[1]",
            "scheduled_for",
            "dry_run",
        ] {
            assert!(f.contains(&want), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn a_blog_needs_a_category_and_an_update_refuses_blog_fields() {
        let blog = content(
            json!({"type": "blog", "title": "How to breathe", "content": "Breathe in for four counts, out for six."}),
        );
        assert_eq!(fields(&blog.check(now())), ["category"]);
        let update = content(
            json!({"type": "update", "title": "Update", "content": "One two three four five.", "category": "Tips", "urgency": "high"}),
        );
        let checked = update.check(now());
        assert_eq!(fields(&checked), ["category", "urgency"]);
        assert!(checked.errors[0].message.contains("only of blog"));
    }

    #[test]
    fn a_critical_announcement_is_featured_priority_one_with_its_call_to_action() {
        let c = content(json!({
            "title": "Announcing the Breathscape band",
            "content": "Our first wearable is here for everyone.",
            "urgency": "critical",
            "call_to_action": "Pre-order today.",
        }));
        let checked = c.check(now());
        assert!(checked.errors.is_empty(), "{:?}", checked.errors);
        assert_eq!(checked.content_type, "announcement");
        assert_eq!(checked.metadata["optimal_publish_time"], "immediate");
        let item = &c.to_document(now())["categories"];
        let item = item.as_object().unwrap().values().next().unwrap()[0].clone();
        assert_eq!(item["priority"], 1);
        assert_eq!(item["featured"], true);
        assert!(
            item["content"]
                .as_str()
                .unwrap()
                .ends_with("Pre-order today.")
        );
    }

    #[test]
    fn warnings_follow_the_earlier_validator() {
        let c = content(json!({
            "type": "blog", "category": "Science", "title": "Research on breathing",
            "content": "A short study of breath.", "priority": 1, "channels": ["web"],
            "published": true, "scheduled_for": "2026-03-07T20:00:00Z",
        }));
        let w = c.check(now()).warnings;
        assert_eq!(
            w,
            [
                "Content scheduled outside business hours may have lower engagement",
                "Weekend scheduling may result in reduced visibility",
                "Blog posts under 300 words may not perform well for SEO",
                "High priority content should include email distribution",
            ]
        );
    }

    #[test]
    fn times_without_an_offset_are_utc() {
        assert_eq!(
            parse_time("2026-03-02T10:00:00"),
            parse_time("2026-03-02T10:00:00+00:00")
        );
        assert_eq!(parse_time("2026-03-02"), parse_time("2026-03-02T00:00:00Z"));
        assert_eq!(parse_time("next week"), None);
    }
}
