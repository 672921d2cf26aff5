//! Search metadata for the web post: meta description, excerpt, tags, reading time,
//! schema.org JSON-LD, and a 0–100 score that lists the factors behind it.

use crate::model::Category;
use crate::text::truncate_words;
use serde::Serialize;

pub const META_MIN: usize = 120;
pub const META_MAX: usize = 160;
pub const TITLE_MAX: usize = 60;
pub const EXCERPT_MAX: usize = 200;
pub const MAX_TAGS: usize = 10;
/// Words read per minute, for reading time.
pub const WORDS_PER_MINUTE: usize = 225;

/// Sentences used to lengthen a short meta description, in order.
const META_FILLERS: [&str; 3] = [
    "Read the latest news from the team.",
    "App releases, hardware progress and breathing techniques, in one place.",
    "Practical guidance for calmer, steadier breathing every day.",
];

/// A description of 120–160 characters: the author's when given, else built from the titles.
pub fn meta_description(brand: &str, month_year: &str, titles: &[String]) -> String {
    let mut text = format!("{brand} news for {month_year}:");
    let mut first = true;
    for t in titles.iter().take(4) {
        let candidate = format!("{text}{} {}", if first { "" } else { ";" }, t.trim());
        if candidate.chars().count() > META_MAX - 1 {
            break;
        }
        text = candidate;
        first = false;
    }
    text.push('.');
    for filler in META_FILLERS {
        if text.chars().count() >= META_MIN {
            break;
        }
        text = format!("{text} {filler}");
    }
    truncate_words(&text, META_MAX)
}

/// First paragraph text, cut to 200 characters at a word.
pub fn excerpt(first_paragraph: &str) -> String {
    truncate_words(first_paragraph, EXCERPT_MAX)
}

/// Tags: the author's first, then each present category's, at most ten, unique.
pub fn tags(author_tags: &[String], categories: &[Category]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut add = |t: &str| {
        if !t.is_empty() && !tags.iter().any(|x| x == t) && tags.len() < MAX_TAGS {
            tags.push(t.to_string());
        }
    };
    for t in author_tags {
        add(t);
    }
    add("halcytone");
    for c in categories {
        match c {
            Category::Breathscape => ["breathscape", "breathing-app"].iter().for_each(|t| add(t)),
            Category::Hardware => ["wearables", "health-tech"].iter().for_each(|t| add(t)),
            Category::Tips => ["breathwork", "stress-relief"].iter().for_each(|t| add(t)),
            Category::Vision => add("company-news"),
        }
    }
    tags
}

pub fn reading_time_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// One line of the SEO score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeoFactor {
    pub name: &'static str,
    pub points: u32,
    pub max: u32,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeoReport {
    pub score: u32,
    pub factors: Vec<SeoFactor>,
}

/// What the score looks at.
#[derive(Debug, Clone, Copy)]
pub struct SeoInput<'a> {
    pub title: &'a str,
    pub meta_description: &'a str,
    pub slug: &'a str,
    pub word_count: usize,
    pub tags: usize,
    pub section_headings: usize,
    pub excerpt: &'a str,
    pub has_structured_data: bool,
}

/// Scores 0–100 from seven factors; every factor says why it got its points.
pub fn score(input: &SeoInput<'_>) -> SeoReport {
    let title_len = input.title.chars().count();
    let meta_len = input.meta_description.chars().count();
    let mut factors = vec![
        factor(
            "title_length",
            20,
            match title_len {
                30..=60 => (20, format!("{title_len} characters, within 30–60")),
                10..=29 | 61..=70 => (
                    10,
                    format!("{title_len} characters; 30–60 shows best in results"),
                ),
                _ => (0, format!("{title_len} characters; aim for 30–60")),
            },
        ),
        factor(
            "meta_description",
            20,
            match meta_len {
                META_MIN..=META_MAX => (20, format!("{meta_len} characters, within 120–160")),
                80..=119 | 161..=200 => (10, format!("{meta_len} characters; aim for 120–160")),
                _ => (0, format!("{meta_len} characters; aim for 120–160")),
            },
        ),
        factor(
            "content_length",
            20,
            match input.word_count {
                300.. => (20, format!("{} words", input.word_count)),
                150..=299 => (
                    10,
                    format!("{} words; 300 or more ranks better", input.word_count),
                ),
                _ => (0, format!("{} words; thin content", input.word_count)),
            },
        ),
        factor(
            "headings",
            10,
            match input.section_headings {
                2.. => (
                    10,
                    format!(
                        "{} sections with a table of contents",
                        input.section_headings
                    ),
                ),
                1 => (5, "one section heading".to_string()),
                _ => (0, "no section headings".to_string()),
            },
        ),
        factor(
            "tags",
            10,
            match input.tags {
                3..=8 => (10, format!("{} tags", input.tags)),
                1..=2 | 9..=10 => (5, format!("{} tags; 3–8 is ideal", input.tags)),
                _ => (0, format!("{} tags", input.tags)),
            },
        ),
        factor("slug", 10, {
            let len = input.slug.len();
            if (1..=75).contains(&len)
                && input
                    .slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                (
                    10,
                    format!("{len} characters, lower-case words and hyphens"),
                )
            } else {
                (
                    0,
                    format!("{len} characters; keep it short, lower-case and hyphenated"),
                )
            }
        }),
        factor("excerpt_and_schema", 10, {
            let excerpt = !input.excerpt.trim().is_empty();
            match (excerpt, input.has_structured_data) {
                (true, true) => (
                    10,
                    "excerpt and BlogPosting structured data present".to_string(),
                ),
                (true, false) | (false, true) => {
                    (5, "only one of excerpt / structured data".to_string())
                }
                (false, false) => (0, "no excerpt, no structured data".to_string()),
            }
        }),
    ];
    factors.shrink_to_fit();
    SeoReport {
        score: factors.iter().map(|f| f.points).sum::<u32>().min(100),
        factors,
    }
}

fn factor(name: &'static str, max: u32, (points, detail): (u32, String)) -> SeoFactor {
    SeoFactor {
        name,
        points: points.min(max),
        max,
        detail,
    }
}

/// JSON for a `<script type="application/ld+json">` block, with `<`, `>` and `&` escaped so
/// no document text can close the script element.
pub fn json_ld_for_script(value: &serde_json::Value) -> String {
    let raw = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_string());
    raw.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_description_is_always_in_range() {
        for titles in [
            vec![],
            vec!["A".to_string()],
            vec!["A fairly long title about the new sensor and its battery".to_string(); 6],
            vec!["x".repeat(400)],
        ] {
            let m = meta_description("Halcytone", "November 2026", &titles);
            let n = m.chars().count();
            assert!((META_MIN..=META_MAX).contains(&n), "{n}: {m}");
        }
    }

    #[test]
    fn score_lists_its_factors_and_sums_them() {
        let r = score(&SeoInput {
            title: "Halcytone November 2026: sleep sessions arrive",
            meta_description: &"m".repeat(130),
            slug: "halcytone-november-2026",
            word_count: 320,
            tags: 5,
            section_headings: 3,
            excerpt: "x",
            has_structured_data: true,
        });
        assert_eq!(r.score, 100);
        assert_eq!(r.factors.iter().map(|f| f.max).sum::<u32>(), 100);
        let weak = score(&SeoInput {
            title: "Hi",
            meta_description: "",
            slug: "Bad Slug",
            word_count: 10,
            tags: 0,
            section_headings: 0,
            excerpt: "",
            has_structured_data: false,
        });
        assert_eq!(weak.score, 0);
    }

    #[test]
    fn json_ld_cannot_close_the_script() {
        let v = serde_json::json!({"headline": "</script><script>alert(1)</script>"});
        let s = json_ld_for_script(&v);
        assert!(!s.contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn reading_time_rounds_up() {
        assert_eq!(reading_time_minutes(0), 1);
        assert_eq!(reading_time_minutes(226), 2);
        assert_eq!(
            tags(&["sleep".into()], &[Category::Tips, Category::Hardware]).len(),
            6
        );
    }
}
