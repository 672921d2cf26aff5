//! The living-document model: categories, items, flags and where each came from.
//!
//! Parsers produce a [`LivingDocument`]; composers and validators only read it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The four kinds of news a living document carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Breathscape,
    Hardware,
    Tips,
    Vision,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Breathscape,
        Category::Hardware,
        Category::Tips,
        Category::Vision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Breathscape => "breathscape",
            Category::Hardware => "hardware",
            Category::Tips => "tips",
            Category::Vision => "vision",
        }
    }

    /// Reads an explicit category name (`[Breathscape]`, `"tips"`, `Tip`).
    pub fn from_name(name: &str) -> Option<Category> {
        match name.trim().to_ascii_lowercase().as_str() {
            "breathscape" | "app" | "software" => Some(Category::Breathscape),
            "hardware" | "device" => Some(Category::Hardware),
            "tips" | "tip" => Some(Category::Tips),
            "vision" | "mission" => Some(Category::Vision),
            _ => None,
        }
    }
}

impl_display_by_name!(Category, Channel);

/// What an item is, which decides its required fields and how it is featured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Update,
    Blog,
    Announcement,
    Session,
}

impl ContentType {
    pub const ALL: [ContentType; 4] = [
        ContentType::Update,
        ContentType::Blog,
        ContentType::Announcement,
        ContentType::Session,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Update => "update",
            ContentType::Blog => "blog",
            ContentType::Announcement => "announcement",
            ContentType::Session => "session",
        }
    }
}

impl_from_str_by_name!(ContentType, "type");

/// The three outbound channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Web,
    Social,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Web, Channel::Social];
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Web => "web",
            Channel::Social => "social",
        }
    }
}

impl_from_str_by_name!(Channel, "channel");

/// Urgency of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Medium,
    High,
    Critical,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::Low,
        Urgency::Medium,
        Urgency::High,
        Urgency::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Medium => "medium",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }
}

impl_from_str_by_name!(Urgency, "urgency");

/// A value that is not one of the allowed names; the message lists them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {field} '{value}'; valid values: {}", allowed.join(", "))]
pub struct UnknownValue {
    pub field: &'static str,
    pub value: String,
    pub allowed: Vec<&'static str>,
}

impl UnknownValue {
    pub fn new(field: &'static str, value: &str, allowed: &[&'static str]) -> Self {
        UnknownValue {
            field,
            value: value.trim().to_string(),
            allowed: allowed.to_vec(),
        }
    }

    /// The one of `all` whose `name` is `wanted` (the text `s` as the caller normalised it),
    /// else the error for `s` naming `field` and listing every name.
    pub(crate) fn pick<T: Copy, const N: usize>(
        field: &'static str,
        s: &str,
        wanted: &str,
        all: [T; N],
        name: fn(T) -> &'static str,
    ) -> Result<T, UnknownValue> {
        all.into_iter()
            .find(|v| name(*v) == wanted)
            .ok_or_else(|| UnknownValue::new(field, s, &all.map(name)))
    }
}

/// The document format a parser understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    Markdown,
    Json,
    Freeform,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 3] = [
        SourceFormat::Markdown,
        SourceFormat::Json,
        SourceFormat::Freeform,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Markdown => "markdown",
            SourceFormat::Json => "json",
            SourceFormat::Freeform => "freeform",
        }
    }
}

impl FromStr for SourceFormat {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let lower = match lower.as_str() {
            "md" => "markdown",
            "text" | "txt" => "freeform",
            other => other,
        };
        UnknownValue::pick("format", s, lower, Self::ALL, Self::as_str)
    }
}

/// An item date as written, and its value when it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemDate {
    pub raw: String,
    pub value: Option<NaiveDate>,
}

impl ItemDate {
    /// Reads `2025-01-15` or an RFC 3339 timestamp; anything else keeps only `raw`.
    pub fn parse(raw: &str) -> ItemDate {
        let raw = raw.trim();
        let value = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().or_else(|| {
            DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|d| d.with_timezone(&Utc).date_naive())
        });
        ItemDate {
            raw: raw.to_string(),
            value,
        }
    }
}

/// Optional per-item (or per-document) settings from HTML-comment flags or JSON fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flags {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<Channel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seo_description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Where an item came from in its source text (1-based lines; 0 when unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ItemLines {
    pub start: usize,
    pub title: usize,
    pub date: usize,
    pub content: usize,
}

/// The days before its date that an issue covers; older items are earlier news.
pub const PERIOD_DAYS: i64 = 31;

/// One news item of a living document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub title: String,
    /// Body text; paragraphs are separated by one blank line. May hold inline Markdown.
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<ItemDate>,
    pub flags: Flags,
    pub lines: ItemLines,
}

impl Item {
    pub fn new(title: impl Into<String>, content: impl Into<String>) -> Item {
        Item {
            title: title.into(),
            content: content.into(),
            date: None,
            flags: Flags::default(),
            lines: ItemLines::default(),
        }
    }

    /// The item's paragraphs, trimmed, without empty ones.
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.content
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// Whether it is dated before the period an issue composed at `now` covers (the
    /// [`PERIOD_DAYS`] before it): such an item is shown as earlier news, with its date.
    pub fn is_earlier(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.date
            .as_ref()
            .and_then(|d| d.value)
            .is_some_and(|d| now.date_naive().signed_duration_since(d).num_days() > PERIOD_DAYS)
    }

    pub fn featured(&self) -> bool {
        self.flags.featured.unwrap_or(false)
    }

    /// Priority 1 (urgent) … 5 (archive); 3 when not given.
    pub fn priority(&self) -> u8 {
        self.flags.priority.unwrap_or(3)
    }

    /// Whether the item may appear on `channel` (all channels unless flags restrict them).
    pub fn allows(&self, channel: Channel) -> bool {
        self.flags
            .channels
            .as_ref()
            .is_none_or(|list| list.contains(&channel))
    }
}

/// A `##` section: a heading, the category it maps to, and its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub heading: String,
    pub category: Category,
    /// True when the category was written (`[Hardware]`), false when inferred from words.
    pub category_explicit: bool,
    pub line: usize,
    pub items: Vec<Item>,
}

/// A flag or field the parser read but could not use; validation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseNote {
    pub line: usize,
    pub code: &'static str,
    pub message: String,
}

/// A parsed living document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LivingDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub format: SourceFormat,
    /// Document-level flags (a comment before the first section, or top-level JSON fields).
    pub flags: Flags,
    pub sections: Vec<Section>,
    pub notes: Vec<ParseNote>,
}

impl LivingDocument {
    pub fn empty(format: SourceFormat) -> LivingDocument {
        LivingDocument {
            title: None,
            format,
            flags: Flags::default(),
            sections: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Every item with its category, in document order.
    pub fn items(&self) -> impl Iterator<Item = (Category, &Item)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s.category, i)))
    }

    /// Items of one category, in document order.
    pub fn items_in(&self, category: Category) -> impl Iterator<Item = &Item> {
        self.sections
            .iter()
            .filter(move |s| s.category == category)
            .flat_map(|s| s.items.iter())
    }

    pub fn item_count(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }
}
