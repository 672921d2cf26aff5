//! Whole-word phrase matching, shared by content-type detection and validation.

/// Whether one of `needles` (each starting with a letter) stands in `haystack` as whole
/// words: no letter or digit just before or just after it. One pass over the text, trying
/// the needles only where a word starts (a preview runs this for every item and channel).
pub(crate) fn has_any_phrase(haystack: &str, needles: &[&str]) -> bool {
    let mut prev: Option<char> = None;
    for (i, c) in haystack.char_indices() {
        let word_start = c.is_alphanumeric() && !prev.is_some_and(char::is_alphanumeric);
        prev = Some(c);
        if !word_start {
            continue;
        }
        let rest = &haystack[i..];
        if needles.iter().any(|needle| {
            rest.starts_with(needle)
                && !rest[needle.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        }) {
            return true;
        }
    }
    false
}

/// Whether `needle` (starting with a letter) stands in `haystack` as whole words.
pub(crate) fn has_phrase(haystack: &str, needle: &str) -> bool {
    has_any_phrase(haystack, &[needle])
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOG: [&str; 3] = ["tips", "study", "how to"];

    #[test]
    fn words_match_whole_at_any_word_start() {
        assert!(has_any_phrase("a how to guide", &["how to"]));
        assert!(has_any_phrase("tips", &BLOG));
        assert!(has_any_phrase("(tips)", &BLOG));
        assert!(has_any_phrase("é tips é", &BLOG));
        assert!(!has_any_phrase("tipsy", &BLOG));
        assert!(!has_any_phrase("xtips", &BLOG));
        assert!(!has_any_phrase("how  to", &["how to"]));
        assert!(!has_any_phrase("", &BLOG));
        // A word start found inside an earlier needle's miss is still tried.
        assert!(has_any_phrase("studying study", &BLOG));
    }
}
