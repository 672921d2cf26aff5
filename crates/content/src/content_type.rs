//! Content types: detecting what an item is, and which fields each type requires.

use crate::model::{Category, ContentType, Item, Urgency};
use crate::words::{has_any_phrase, has_phrase};

const ANNOUNCEMENT_WORDS: [&str; 8] = [
    "announcement",
    "announcing",
    "launch",
    "release",
    "new partnership",
    "urgent",
    "breaking",
    "press release",
];
const BLOG_WORDS: [&str; 9] = [
    "science",
    "technique",
    "guide",
    "how to",
    "tips",
    "benefits",
    "research",
    "study",
    "article",
];

/// An item's type: its `type` flag, else detected from its words.
pub fn resolve(item: &Item) -> ContentType {
    item.flags
        .content_type
        .unwrap_or_else(|| detect(&item.title, &item.content))
}

/// Announcement when the title announces, blog when the text teaches, update otherwise.
pub fn detect(title: &str, content: &str) -> ContentType {
    let title_l = title.to_lowercase();
    if title.contains('🎉') || has_any_phrase(&title_l, &ANNOUNCEMENT_WORDS) {
        return ContentType::Announcement;
    }
    let all = format!("{title_l} {}", content.to_lowercase());
    if has_any_phrase(&all, &BLOG_WORDS) {
        return ContentType::Blog;
    }
    ContentType::Update
}

/// A missing field a content type needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField {
    pub field: &'static str,
    pub message: String,
}

/// The fields `content_type` needs that `item` lacks.
pub fn missing_fields(item: &Item, content_type: ContentType) -> Vec<MissingField> {
    let mut missing = Vec::new();
    let mut need = |field: &'static str, present: bool| {
        if !present {
            missing.push(MissingField {
                field,
                message: format!("a {} item needs a {field}", content_type.as_str()),
            });
        }
    };
    need("title", !item.title.trim().is_empty());
    need("content", !item.content.trim().is_empty());
    if content_type == ContentType::Session {
        need("date", item.date.is_some());
    }
    missing
}

/// Urgency of an announcement: the flag, else from its words.
pub fn urgency(item: &Item) -> Urgency {
    if let Some(u) = item.flags.urgency {
        return u;
    }
    let text = format!("{} {}", item.title, item.content).to_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| has_phrase(&text, w));
    if any(&["urgent", "critical", "immediate", "breaking"]) {
        Urgency::Critical
    } else if any(&["important", "major", "significant"]) {
        Urgency::High
    } else if any(&["minor", "small", "routine"]) {
        Urgency::Low
    } else {
        Urgency::Medium
    }
}

/// The blog category shown for an item, from its words (falls back to the document category).
pub fn blog_category(item: &Item, category: Category) -> &'static str {
    let text = format!("{} {}", item.title, item.content).to_lowercase();
    let rules: [(&[&str], &str); 5] = [
        (
            &["breath", "breathing", "technique", "exercise"],
            "Breathing Techniques",
        ),
        (
            &["science", "research", "study", "data"],
            "Science & Research",
        ),
        (
            &["wellness", "health", "mindfulness", "meditation"],
            "Wellness",
        ),
        (&["technology", "app", "device", "hardware"], "Technology"),
        (&["community", "story", "testimonial", "user"], "Community"),
    ];
    rules
        .iter()
        .find(|(words, _)| words.iter().any(|w| has_phrase(&text, w)))
        .map_or(
            match category {
                Category::Vision => "Community",
                _ => "General",
            },
            |(_, name)| name,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_rules() {
        assert_eq!(
            detect("Launch day for Sleep mode", "x"),
            ContentType::Announcement
        );
        assert_eq!(detect("🎉 Big day", "x"), ContentType::Announcement);
        assert_eq!(detect("Box breathing", "A short guide"), ContentType::Blog);
        assert_eq!(detect("Battery life", "Lasts longer"), ContentType::Update);
        // "releases" inside another word does not count as "release".
        assert_eq!(detect("Prereleased builds", "x"), ContentType::Update);
    }

    #[test]
    fn flags_win_and_required_fields() {
        let mut item = Item::new("", "body");
        item.flags.content_type = Some(ContentType::Session);
        assert_eq!(resolve(&item), ContentType::Session);
        let missing: Vec<_> = missing_fields(&item, ContentType::Session)
            .into_iter()
            .map(|m| m.field)
            .collect();
        assert_eq!(missing, vec!["title", "date"]);
    }

    #[test]
    fn urgency_from_words() {
        assert_eq!(urgency(&Item::new("Breaking news", "")), Urgency::Critical);
        assert_eq!(urgency(&Item::new("A major change", "")), Urgency::High);
        assert_eq!(urgency(&Item::new("Hello", "")), Urgency::Medium);
    }
}
