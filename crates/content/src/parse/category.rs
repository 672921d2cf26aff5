//! Keyword rules that place a heading, paragraph or stray item into a category.

use crate::model::Category;

/// Words in a section heading that point at a category, checked in this order.
const HEADING_KEYWORDS: [(Category, &[&str]); 4] = [
    (
        Category::Breathscape,
        &[
            "breathscape",
            "app",
            "software",
            "update",
            "updates",
            "release",
        ],
    ),
    (
        Category::Hardware,
        &["hardware", "device", "sensor", "prototype", "wearable"],
    ),
    (
        Category::Tips,
        &[
            "tip",
            "tips",
            "wellness",
            "breathing",
            "technique",
            "techniques",
        ],
    ),
    (
        Category::Vision,
        &["vision", "mission", "about", "company", "values"],
    ),
];

/// Words that count towards a category when scoring free text.
const BODY_KEYWORDS: [(Category, &[&str]); 4] = [
    (
        Category::Breathscape,
        &[
            "app",
            "software",
            "algorithm",
            "ml",
            "model",
            "feature",
            "update",
            "release",
            "version",
            "breathscape",
            "analysis",
            "pattern",
            "detection",
            "tracking",
            "mobile",
            "ios",
            "android",
        ],
    ),
    (
        Category::Hardware,
        &[
            "sensor",
            "device",
            "prototype",
            "circuit",
            "hardware",
            "battery",
            "design",
            "component",
            "testing",
            "manufacturing",
            "pcb",
            "firmware",
            "bluetooth",
            "wireless",
            "wearable",
        ],
    ),
    (
        Category::Tips,
        &[
            "tip",
            "technique",
            "exercise",
            "practice",
            "breathing",
            "wellness",
            "health",
            "meditation",
            "stress",
            "relaxation",
            "mindfulness",
            "guide",
            "how to",
            "benefit",
            "improve",
            "inhale",
            "exhale",
        ],
    ),
    (
        Category::Vision,
        &[
            "vision",
            "mission",
            "believe",
            "goal",
            "company",
            "future",
            "commitment",
            "values",
            "purpose",
            "philosophy",
            "community",
            "impact",
            "transform",
            "empower",
        ],
    ),
];

/// Lower-cased words of `text` (letters and digits), plus the text itself for phrases.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn count_matches(words: &[String], lower_text: &str, keywords: &[&str]) -> usize {
    keywords
        .iter()
        .map(|k| {
            if k.contains(' ') {
                lower_text.matches(k).count()
            } else {
                words.iter().filter(|w| w.as_str() == *k).count()
            }
        })
        .sum()
}

/// The category a section heading names by its words, if any.
pub fn from_heading(heading: &str) -> Option<Category> {
    let words = words(heading);
    HEADING_KEYWORDS
        .iter()
        .find(|(_, keys)| words.iter().any(|w| keys.contains(&w.as_str())))
        .map(|(c, _)| *c)
}

/// The category whose keywords occur most often in `text`; Breathscape on a tie at zero.
pub fn from_text(text: &str) -> Category {
    let lower = text.to_lowercase();
    let words = words(&lower);
    let mut best = (Category::Breathscape, 0usize);
    for (category, keys) in BODY_KEYWORDS {
        let n = count_matches(&words, &lower, keys);
        if n > best.1 {
            best = (category, n);
        }
    }
    best.0
}

/// A heading's category: its `[Bracket]` name, else its words, else its items' text.
/// Returns the category, whether it was explicit, and the heading without the bracket.
pub fn classify_heading(heading: &str) -> (Option<Category>, bool, String) {
    let trimmed = heading.trim();
    if let Some(rest) = trimmed.strip_prefix('[')
        && let Some(end) = rest.find(']')
    {
        let name = &rest[..end];
        let remainder = rest[end + 1..].trim().to_string();
        let remainder = if remainder.is_empty() {
            name.trim().to_string()
        } else {
            remainder
        };
        if let Some(c) = Category::from_name(name) {
            return (Some(c), true, remainder);
        }
        return (
            from_heading(name).or_else(|| from_heading(&remainder)),
            false,
            remainder,
        );
    }
    (from_heading(trimmed), false, trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_names_win() {
        let (c, explicit, rest) = classify_heading("[Hardware] Development Progress");
        assert_eq!(c, Some(Category::Hardware));
        assert!(explicit);
        assert_eq!(rest, "Development Progress");
    }

    #[test]
    fn heading_words_infer_a_category() {
        assert_eq!(from_heading("Company Mission"), Some(Category::Vision));
        assert_eq!(from_heading("Sensor lab notes"), Some(Category::Hardware));
        assert_eq!(from_heading("Breathing Techniques"), Some(Category::Tips));
        assert_eq!(from_heading("Miscellany"), None);
    }

    #[test]
    fn body_keywords_count_whole_words_only() {
        // "html" must not count as the "ml" keyword.
        assert_eq!(from_text("html html html battery"), Category::Hardware);
        assert_eq!(
            from_text("Try this breathing exercise: inhale, exhale"),
            Category::Tips
        );
        assert_eq!(from_text("nothing matching"), Category::Breathscape);
        assert_eq!(from_text("a guide on how to relax"), Category::Tips);
    }
}
