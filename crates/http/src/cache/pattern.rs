//! Key patterns: `*` matches any run of characters (including none), everything else is
//! literal, and the whole key must match (`content/*` matches `content/cv_1`, not
//! `api/content/cv_1`).

/// Whether `key` matches `pattern`.
pub fn matches(pattern: &str, key: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == key;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some(mut tail) = key.strip_prefix(first) else {
        return false;
    };
    let last = rest.len() - 1;
    for (i, part) in rest.iter().enumerate() {
        if i == last {
            return tail.ends_with(part);
        }
        match tail.find(part) {
            Some(at) => tail = &tail[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn literal_patterns_match_whole_keys_only() {
        assert!(matches("templates", "templates"));
        assert!(!matches("templates", "templates/x"));
        assert!(!matches("", "a"));
    }

    #[test]
    fn wildcards_match_any_run() {
        assert!(matches("content/*", "content/cv_1"));
        assert!(matches("content/*", "content/"));
        assert!(!matches("content/*", "api/content/cv_1"));
        assert!(matches("*", "anything"));
        assert!(matches("preview:*:twitter", "preview:abc:twitter"));
        assert!(!matches("preview:*:twitter", "preview:abc:linkedin"));
        assert!(matches("*twitter*", "social-preview:twitter:1"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*c", "acb"));
        assert!(matches("a**", "a"));
    }

    #[test]
    fn the_last_literal_does_not_overlap_an_earlier_one() {
        // "ab*ba" must not accept "aba": the prefix and suffix would share the middle "b".
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("ab*ba", "abba"));
    }
}
