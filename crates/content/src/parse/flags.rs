//! Content flags: `<!-- type: announcement; featured: true -->` comments and their JSON twins.

use crate::model::{Channel, ContentType, Flags, ParseNote, Urgency};

/// Flags the documentation of earlier tools mentions that generation does not use.
const IGNORED_FLAGS: [&str; 4] = ["published", "dry_run", "category", "author"];

/// Applies one `key: value` flag to `flags`, or returns a note saying why it was not applied.
pub fn apply(flags: &mut Flags, key: &str, value: &str, line: usize) -> Option<ParseNote> {
    let key = key.trim().to_ascii_lowercase().replace('-', "_");
    let value = value.trim();
    let note = |code: &'static str, message: String| {
        Some(ParseNote {
            line,
            code,
            message,
        })
    };
    match key.as_str() {
        "type" | "content_type" => match value.parse::<ContentType>() {
            Ok(t) => flags.content_type = Some(t),
            Err(e) => return note("invalid_flag", e.to_string()),
        },
        "channels" => {
            let mut list = Vec::new();
            for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if part.eq_ignore_ascii_case("preview") {
                    continue;
                }
                match part.parse::<Channel>() {
                    Ok(c) if !list.contains(&c) => list.push(c),
                    Ok(_) => {}
                    Err(e) => return note("invalid_flag", e.to_string()),
                }
            }
            flags.channels = Some(list);
        }
        "priority" => match value.parse::<u8>() {
            Ok(p @ 1..=5) => flags.priority = Some(p),
            _ => {
                return note(
                    "invalid_flag",
                    format!(
                        "priority '{value}' must be a whole number from 1 (urgent) to 5 (archive)"
                    ),
                );
            }
        },
        "featured" => match parse_bool(value) {
            Some(b) => flags.featured = Some(b),
            None => {
                return note(
                    "invalid_flag",
                    format!("featured '{value}' must be true or false"),
                );
            }
        },
        "template" => flags.template = Some(value.to_ascii_lowercase()),
        "tone" => flags.tone = Some(value.to_ascii_lowercase()),
        "scheduled_for" => flags.scheduled_for = Some(value.to_string()),
        "urgency" => match value.parse::<Urgency>() {
            Ok(u) => flags.urgency = Some(u),
            Err(e) => return note("invalid_flag", e.to_string()),
        },
        "seo_description" => flags.seo_description = Some(value.to_string()),
        "tags" => {
            for tag in value
                .split(',')
                .map(normalize_tag)
                .filter(|t| !t.is_empty())
            {
                if !flags.tags.contains(&tag) {
                    flags.tags.push(tag);
                }
            }
        }
        other if IGNORED_FLAGS.contains(&other) => {
            return note(
                "ignored_flag",
                format!("flag '{other}' is accepted but does not affect generation"),
            );
        }
        other => return note("unknown_flag", format!("unknown flag '{other}'")),
    }
    None
}

/// Lower-case, trimmed, without a leading '#', inner spaces as '-'.
pub fn normalize_tag(tag: &str) -> String {
    tag.trim()
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Some(true),
        "false" | "no" | "0" | "off" => Some(false),
        _ => None,
    }
}

/// Splits a comment body into `key: value` pairs (separated by `;` or new lines).
/// Returns `None` when the comment holds no pair at all (a plain comment, not flags).
pub fn pairs(body: &str) -> Option<Vec<(&str, &str)>> {
    let pairs: Vec<(&str, &str)> = body
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once(':'))
        .filter(|(k, _)| {
            let k = k.trim();
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .collect();
    if pairs.is_empty() { None } else { Some(pairs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_known_flags_and_reports_bad_ones() {
        let mut f = Flags::default();
        assert!(apply(&mut f, "type", "Announcement", 3).is_none());
        assert!(apply(&mut f, "channels", "email, web", 3).is_none());
        assert!(apply(&mut f, "priority", "1", 3).is_none());
        assert!(apply(&mut f, "tags", "#Sleep, deep focus", 3).is_none());
        assert_eq!(f.content_type, Some(ContentType::Announcement));
        assert_eq!(f.channels, Some(vec![Channel::Email, Channel::Web]));
        assert_eq!(f.priority, Some(1));
        assert_eq!(f.tags, vec!["sleep", "deep-focus"]);
        let note = apply(&mut f, "priority", "9", 7).expect("a note");
        assert_eq!(note.line, 7);
        assert!(note.message.contains("1 (urgent) to 5"));
        let note = apply(&mut f, "tone", "x", 7);
        assert!(
            note.is_none(),
            "tone is validated later, against the tone list"
        );
        assert_eq!(
            apply(&mut f, "colour", "red", 2).map(|n| n.code),
            Some("unknown_flag")
        );
    }

    #[test]
    fn plain_comments_are_not_flags() {
        assert!(pairs("just a note to self").is_none());
        assert_eq!(
            pairs("type: blog; featured: true").map(|p| p.len()),
            Some(2)
        );
        assert!(pairs("see http://x").is_none());
    }
}
