//! Rules on the living document itself: fields, dates, schedules, duplicates, staleness,
//! suspicious text and brand language.

use super::{Issue, Location, Severity, has_phrase};
use crate::compose::EmailTemplate;
use crate::content_type;
use crate::model::PERIOD_DAYS;
use crate::model::{Category, Channel, ContentType, Item, LivingDocument, Section};
use crate::social::weighted_length::find_urls;
use crate::text::word_count;
use crate::tone::Tone;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};

pub const TITLE_MAX: usize = 200;
pub const CONTENT_MIN: usize = 10;
pub const CONTENT_SHORT: usize = 20;
pub const CONTENT_MAX: usize = 5000;
pub const STALE_DAYS: i64 = 90;
pub const MAX_URLS: usize = 5;
pub const MAX_FEATURED: usize = 3;

/// Phrases the brand never uses: medical claims, promises and exclusivity.
pub const PROHIBITED_PHRASES: [&str; 13] = [
    "diagnose",
    "cure",
    "treat",
    "medical condition",
    "guaranteed",
    "will cure",
    "100% effective",
    "miracle",
    "instant results",
    "overnight",
    "only for",
    "exclusive to",
    "elite members",
];
const SPAM_WORDS: [&str; 5] = ["viagra", "casino", "lottery", "winner", "congratulations"];

fn item_location(section: &Section, item: &Item, line: usize) -> Location {
    Location {
        line: (line > 0)
            .then_some(line)
            .or((item.lines.start > 0).then_some(item.lines.start)),
        section: Some(if section.heading.is_empty() {
            section.category.as_str().to_string()
        } else {
            section.heading.clone()
        }),
        item: Some(item.title.clone()),
        ..Location::default()
    }
}

pub fn check(doc: &LivingDocument, now: DateTime<Utc>) -> Vec<Issue> {
    let mut issues = Vec::new();
    for note in &doc.notes {
        let severity = match note.code {
            "invalid_flag" | "unclosed_comment" => Severity::Error,
            "ignored_flag" => Severity::Info,
            _ => Severity::Warning,
        };
        issues.push(Issue::new(
            severity,
            note.code,
            note.message.clone(),
            Location {
                line: (note.line > 0).then_some(note.line),
                ..Location::default()
            },
        ));
    }
    if doc.item_count() == 0 {
        issues.push(Issue::new(
            Severity::Error,
            "empty_document",
            "the document has no items: add '### Title' items under '## [Category] Heading' sections",
            Location::default(),
        ));
        return issues;
    }
    check_document_flags(doc, &mut issues);
    // A Live session summary is not a weekly document; it has no categories to miss.
    let is_session = doc
        .items()
        .any(|(_, i)| i.flags.content_type == Some(ContentType::Session));
    for category in [Category::Breathscape, Category::Hardware, Category::Tips] {
        if !is_session && doc.items_in(category).next().is_none() {
            issues.push(Issue::new(
                Severity::Warning,
                "missing_category",
                format!("no {category} items; that part of the newsletter will be left out"),
                Location::default(),
            ));
        }
    }
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut featured = 0;
    for section in &doc.sections {
        for item in &section.items {
            check_item(section, item, now, &mut issues);
            featured += usize::from(item.featured());
            let signature = format!(
                "{}:{}",
                item.title.trim().to_lowercase(),
                item.content
                    .trim()
                    .chars()
                    .take(100)
                    .collect::<String>()
                    .to_lowercase()
            );
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == signature) {
                issues.push(Issue::new(
                    Severity::Error,
                    "duplicate_item",
                    format!(
                        "duplicate item '{}': same title and content as the item at line {first}",
                        item.title
                    ),
                    item_location(section, item, item.lines.start),
                ));
            } else {
                seen.push((signature, item.lines.start));
            }
        }
    }
    if featured > MAX_FEATURED {
        issues.push(Issue::new(
            Severity::Warning,
            "too_many_featured",
            format!(
                "{featured} items are featured; keep at most {MAX_FEATURED} so each one stands out"
            ),
            Location::default(),
        ));
    }
    issues
}

fn check_document_flags(doc: &LivingDocument, issues: &mut Vec<Issue>) {
    let flags = &doc.flags;
    let unknown = [
        (
            "invalid_template",
            flags
                .template
                .as_ref()
                .map(|t| t.parse::<EmailTemplate>().err()),
        ),
        (
            "invalid_tone",
            flags.tone.as_ref().map(|t| t.parse::<Tone>().err()),
        ),
    ];
    for (code, error) in unknown {
        if let Some(Some(e)) = error {
            let at = Location::default();
            issues.push(Issue::new(Severity::Error, code, e.to_string(), at));
        }
    }
}

/// The Markdown images (`![alt](target)`) of `text` whose alt text is blank: each one's
/// byte offset and target.
fn images_without_alt(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("![").map(|p| from + p) {
        from = start + 2;
        let Some(close) = text[from..].find("](").map(|p| from + p) else {
            break;
        };
        let alt = &text[from..close];
        if alt.contains('\n') || alt.contains("![") {
            continue;
        }
        let rest = &text[close + 2..];
        let Some(end) = rest.find(')') else {
            break;
        };
        if alt.trim().is_empty() {
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            found.push((start, target.chars().take(200).collect()));
        }
        from = close + 2 + end;
    }
    found
}

fn check_item(section: &Section, item: &Item, now: DateTime<Utc>, issues: &mut Vec<Issue>) {
    let at = |line: usize| item_location(section, item, line);
    let mut push = |severity, code, message: String, line: usize| {
        issues.push(Issue::new(severity, code, message, at(line)));
    };
    let title_len = item.title.trim().chars().count();
    if title_len > TITLE_MAX {
        push(
            Severity::Error,
            "title_too_long",
            format!("title is {title_len} characters; the limit is {TITLE_MAX}"),
            item.lines.title,
        );
    }
    let kind = content_type::resolve(item);
    for missing in content_type::missing_fields(item, kind) {
        push(
            Severity::Error,
            "missing_field",
            missing.message,
            item.lines.start,
        );
    }
    let content = item.content.trim();
    let content_len = content.chars().count();
    let content_line = if item.lines.content > 0 {
        item.lines.content
    } else {
        item.lines.start
    };
    if !content.is_empty() {
        if content_len < CONTENT_MIN {
            push(
                Severity::Error,
                "content_too_short",
                format!("content is {content_len} characters; at least {CONTENT_MIN} are needed"),
                content_line,
            );
        } else if content_len < CONTENT_SHORT {
            push(
                Severity::Warning,
                "content_short",
                format!("content is only {content_len} characters; readers get little from it"),
                content_line,
            );
        }
        if content_len > CONTENT_MAX {
            push(
                Severity::Warning,
                "content_too_long",
                format!(
                    "content is {content_len} characters; over {CONTENT_MAX} is too long for a newsletter item"
                ),
                content_line,
            );
        }
    }
    check_language(item, content_line, &mut push);
    for (offset, target) in images_without_alt(&item.content) {
        push(
            Severity::Error,
            "image_without_alt",
            format!(
                "the image {target} has no alt text: screen readers, and mail apps that block images, show nothing for it; write ![what it shows]({target})"
            ),
            content_line + item.content[..offset].matches('\n').count(),
        );
    }
    if let Some(date) = &item.date {
        let line = if item.lines.date > 0 {
            item.lines.date
        } else {
            item.lines.start
        };
        match date.value {
            None => push(
                Severity::Error,
                "invalid_date",
                format!(
                    "date '{}' is not a valid date; write it as YYYY-MM-DD",
                    date.raw
                ),
                line,
            ),
            Some(d) => {
                let age = now.date_naive().signed_duration_since(d).num_days();
                let shown = "the newsletter and web post label it as earlier news with its date, and social round-ups leave it out";
                if age > STALE_DAYS {
                    push(
                        Severity::Warning,
                        "stale_item",
                        format!("dated {d}, {age} days ago; over {STALE_DAYS} days old: {shown}"),
                        line,
                    );
                } else if age > PERIOD_DAYS {
                    push(
                        Severity::Warning,
                        "before_period",
                        format!(
                            "dated {d}, {age} days ago; before the {PERIOD_DAYS} days this issue covers: {shown}"
                        ),
                        line,
                    );
                } else if age < -1 {
                    push(
                        Severity::Info,
                        "future_date",
                        format!("dated {d}, in the future"),
                        line,
                    );
                }
            }
        }
    }
    if let Some(raw) = &item.flags.scheduled_for {
        check_schedule(raw, now, item.lines.start, &mut push);
    }
    if let Some(t) = &item.flags.template
        && let Err(e) = t.parse::<EmailTemplate>()
    {
        push(
            Severity::Error,
            "invalid_template",
            e.to_string(),
            item.lines.start,
        );
    }
    if let Some(channels) = &item.flags.channels {
        if channels.is_empty() {
            push(
                Severity::Warning,
                "no_channels",
                "channels flag lists no channel; the item will not be published anywhere".into(),
                item.lines.start,
            );
        } else if item.priority() <= 2 && !channels.contains(&Channel::Email) {
            push(
                Severity::Warning,
                "priority_without_email",
                "high-priority items should go out by email too".into(),
                item.lines.start,
            );
        }
    }
    let words = word_count(content);
    if kind == ContentType::Blog && words < 300 && words > 0 {
        push(
            Severity::Info,
            "short_blog",
            format!("blog-style item of {words} words; 300 or more performs better in search"),
            item.lines.start,
        );
    }
    if kind == ContentType::Update && words > 500 {
        push(
            Severity::Info,
            "long_update",
            format!("update of {words} words; over 500 is long for email and social"),
            item.lines.start,
        );
    }
}

fn check_language(
    item: &Item,
    line: usize,
    push: &mut impl FnMut(Severity, &'static str, String, usize),
) {
    let text = format!("{} {}", item.title, item.content);
    let lower = text.to_lowercase();
    let urls = find_urls(&text).len();
    if urls > MAX_URLS {
        push(
            Severity::Warning,
            "suspicious_content",
            format!("{urls} links in one item; more than {MAX_URLS} looks like spam"),
            line,
        );
    }
    if let Some(word) = SPAM_WORDS.iter().find(|w| has_phrase(&lower, w)) {
        push(
            Severity::Warning,
            "suspicious_content",
            format!("'{word}' is a common spam-filter trigger"),
            line,
        );
    }
    // Shouting: ten or more capital letters in a row (case-sensitive on purpose).
    if let Some(run) = text
        .split(|c: char| !c.is_ascii_uppercase())
        .find(|run| run.len() >= 10)
    {
        push(
            Severity::Warning,
            "suspicious_content",
            format!("'{run}' reads as shouting"),
            line,
        );
    }
    let mut prev = None;
    let mut repeat = 0;
    for c in text.chars() {
        if Some(c) == prev && !c.is_whitespace() {
            repeat += 1;
            if repeat == 10 {
                push(
                    Severity::Warning,
                    "suspicious_content",
                    format!("'{c}' repeated more than ten times"),
                    line,
                );
                break;
            }
        } else {
            repeat = 0;
        }
        prev = Some(c);
    }
    for phrase in PROHIBITED_PHRASES {
        if has_phrase(&lower, phrase) {
            push(
                Severity::Warning,
                "brand_prohibited_phrase",
                format!("'{phrase}' makes a claim the brand does not make; rephrase it"),
                line,
            );
        }
    }
}

fn check_schedule(
    raw: &str,
    now: DateTime<Utc>,
    line: usize,
    push: &mut impl FnMut(Severity, &'static str, String, usize),
) {
    let parsed = DateTime::parse_from_rfc3339(raw.trim())
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(raw.trim(), f).ok())
                .map(|n| n.and_utc())
        });
    let Some(when) = parsed else {
        push(
            Severity::Error,
            "invalid_schedule",
            format!(
                "scheduled_for '{raw}' is not a date and time; use RFC 3339, e.g. 2026-12-01T15:00:00Z"
            ),
            line,
        );
        return;
    };
    if when <= now {
        push(
            Severity::Error,
            "schedule_in_past",
            format!("scheduled_for {when} is not in the future"),
            line,
        );
    } else if when > now + Duration::days(365) {
        push(
            Severity::Error,
            "schedule_too_far",
            format!("scheduled_for {when} is more than a year ahead"),
            line,
        );
    } else {
        use chrono::{Datelike, Timelike, Weekday};
        if !(8..17).contains(&when.hour()) {
            push(
                Severity::Info,
                "schedule_off_hours",
                "scheduled outside 08:00–17:00 UTC; engagement is usually lower".into(),
                line,
            );
        }
        if matches!(when.weekday(), Weekday::Sat | Weekday::Sun) {
            push(
                Severity::Info,
                "schedule_weekend",
                "scheduled on a weekend; visibility is usually lower".into(),
                line,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::markdown;
    use crate::test_support::now;

    fn codes(text: &str) -> Vec<(&'static str, Option<usize>)> {
        check(&markdown::parse(text), now())
            .into_iter()
            .map(|i| (i.code, i.location.line))
            .collect()
    }

    #[test]
    fn an_image_without_alt_text_is_an_error_naming_its_line() {
        let c = codes(
            "## [Tips] T\n### Pictures\n- **Date:** 2026-11-20\n- **Content:** Our new screen ![](https://cdn.example/a.png) and ![The timer](https://cdn.example/b.png) side by side.\n",
        );
        let images: Vec<_> = c
            .iter()
            .filter(|(code, _)| *code == "image_without_alt")
            .collect();
        assert_eq!(images, vec![&("image_without_alt", Some(4))], "{c:?}");
        let issues = check(
            &markdown::parse(
                "## [Tips] T\n### P\n- **Content:** A picture ![ ](x.png \"title\") here, with words.\n",
            ),
            now(),
        );
        let i = issues
            .iter()
            .find(|i| i.code == "image_without_alt")
            .unwrap();
        assert_eq!(i.severity, Severity::Error);
        assert!(
            i.message.contains("x.png") && !i.message.contains("title"),
            "{}",
            i.message
        );
        assert!(images_without_alt("![a](b) ![ (x) ![").is_empty());
    }

    #[test]
    fn long_words_are_not_shouting() {
        // The earlier implementation flagged any 10-letter word; only real capitals count.
        let c = codes(
            "## [Tips] T\n### Meditation\n- **Date:** 2026-11-20\n- **Content:** Personalized mindfulness meditation for everyone.\n",
        );
        assert!(
            !c.iter().any(|(code, _)| *code == "suspicious_content"),
            "{c:?}"
        );
        let c = codes("## [Tips] T\n### Loud\n- **Content:** THISISVERYLOUD indeed, friends.\n");
        assert!(c.contains(&("suspicious_content", Some(3))), "{c:?}");
    }

    #[test]
    fn dates_duplicates_and_titles_report_their_lines() {
        let long = "t".repeat(201);
        let text = format!(
            "## [Tips] T\n### A\n- **Date:** 2026-13-45\n- **Content:** Some fine content.\n### {long}\n- **Content:** Other fine content.\n### A\n- **Content:** Some fine content.\n"
        );
        let c = codes(&text);
        assert!(c.contains(&("invalid_date", Some(3))), "{c:?}");
        assert!(c.contains(&("title_too_long", Some(5))), "{c:?}");
        assert!(c.contains(&("duplicate_item", Some(7))), "{c:?}");
    }

    #[test]
    fn an_item_from_before_the_period_is_flagged() {
        // `codes` validates at 2026-11-24: 2026-10-10 is 45 days before, 2026-11-20 four.
        let c = codes(
            "## [Tips] T\n### Older\n- **Date:** 2026-10-10\n- **Content:** Some fine older content.\n### Fresh\n- **Date:** 2026-11-20\n- **Content:** Some fine fresh content.\n",
        );
        assert!(c.contains(&("before_period", Some(3))), "{c:?}");
        assert!(
            !c.iter()
                .any(|(code, line)| *code == "before_period" && *line == Some(6)),
            "{c:?}"
        );
    }

    #[test]
    fn staleness_is_relative_to_now() {
        let c = codes(
            "## [Tips] T\n### Old\n- **Date:** 2026-01-01\n- **Content:** Old but gold content.\n",
        );
        assert!(c.contains(&("stale_item", Some(3))), "{c:?}");
    }

    #[test]
    fn brand_and_schedule_rules() {
        let c = codes(
            "## [Tips] T\n### Claim\n<!-- scheduled_for: 2020-01-01T10:00:00Z -->\n- **Content:** This will cure your stress overnight.\n",
        );
        assert!(
            c.iter()
                .filter(|(code, _)| *code == "brand_prohibited_phrase")
                .count()
                >= 2,
            "{c:?}"
        );
        assert!(
            c.iter().any(|(code, _)| *code == "schedule_in_past"),
            "{c:?}"
        );
    }
}
