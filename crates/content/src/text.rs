//! Small text tools shared by the composers: slugs, sentences, word-safe cutting,
//! and reducing inline Markdown to plain words.

/// `Hello, World — 2026!` → `hello-world-2026`. Keeps ASCII letters and digits only.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// Reduces inline Markdown to plain text: `**b**` → `b`, `[t](u)` → `t`, `` `c` `` → `c`.
///
/// Linear in the input: a `[` looks for its `](` only up to the next `[`, and a missing `)`
/// is remembered, so runs of brackets (`[[[[…`) cost no more than other text.
pub fn plain_inline(md: &str) -> String {
    inline_text(md, false)
}

/// Like [`plain_inline`], but a link to a web or mail address keeps its address:
/// `[the guide](https://x.example/g)` → `the guide (https://x.example/g)`, and a link whose
/// text is its address is written once. For text parts and social posts, where the reader
/// needs the address itself.
pub fn linked_inline(md: &str) -> String {
    inline_text(md, true)
}

/// Whether a link target is an address a reader can follow from plain text.
fn followable(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

fn inline_text(md: &str, keep_urls: bool) -> String {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    // Offset in `md` from which on no `)` follows (found once, then remembered).
    let mut no_paren_from = usize::MAX;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let at = md.len() - rest.len();
            if let Some((text, url, len)) = inline_link(rest, at, &mut no_paren_from) {
                let url = url.trim();
                if keep_urls && followable(url) {
                    let address = url.strip_prefix("mailto:").unwrap_or(url);
                    if text.trim() == url || text.trim() == address {
                        out.push_str(address);
                    } else {
                        out.push_str(text);
                        out.push_str(" (");
                        out.push_str(address);
                        out.push(')');
                    }
                } else {
                    out.push_str(text);
                }
                rest = &rest[len..];
                continue;
            }
        }
        if rest.starts_with("**") || rest.starts_with("__") {
            rest = &rest[2..];
            continue;
        }
        if c == '`' {
            rest = &rest[1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `[text](url)` at the start of `rest` (which is at offset `at` of the whole text): the
/// link text, its target and the length of the whole link. The text may not contain `[`.
fn inline_link<'a>(
    rest: &'a str,
    at: usize,
    no_paren_from: &mut usize,
) -> Option<(&'a str, &'a str, usize)> {
    let bytes = rest.as_bytes();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match b {
            b'[' => return None,
            b']' if bytes.get(i + 1) == Some(&b'(') => {
                close = Some(i);
                break;
            }
            _ => {}
        }
    }
    let close = close?;
    let url_start = close + 2;
    if at + url_start >= *no_paren_from {
        return None;
    }
    match rest[url_start..].find(')') {
        Some(end) => Some((
            &rest[1..close],
            &rest[url_start..url_start + end],
            url_start + end + 1,
        )),
        None => {
            *no_paren_from = at + url_start;
            None
        }
    }
}

/// Plain text of a Markdown body: inline marks removed and lines joined with spaces.
pub fn plain_paragraph(md: &str) -> String {
    plain_inline(md)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plain text of a Markdown body with its links' addresses kept ([`linked_inline`]).
pub fn linked_paragraph(md: &str) -> String {
    linked_inline(md)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits prose into sentences, keeping their end punctuation.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | '\n') {
            let next = i + c.len_utf8();
            let at_break = c == '\n'
                || next >= bytes.len()
                || bytes.get(next).is_some_and(|b| b.is_ascii_whitespace());
            if at_break {
                let s = text[start..next].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = next;
            }
        }
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail);
    }
    out
}

/// The first sentence of `text` (or all of it when it has no sentence end).
pub fn first_sentence(text: &str) -> &str {
    sentences(text).into_iter().next().unwrap_or("")
}

/// Cuts `text` to at most `max` characters at a word boundary, adding `…` when cut.
pub fn truncate_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let limit = max.saturating_sub(1);
    let cut = text
        .char_indices()
        .nth(limit)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i * 10 >= cut * 6 => &head[..i],
        _ => head,
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:-—".contains(c));
    format!("{head}…")
}

/// Number of words (runs containing a letter or digit).
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Wraps `text` at `width` characters by words; existing line breaks are kept.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(1);
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut col = 0;
        for word in line.split_whitespace() {
            let len = word.chars().count();
            if col > 0 && col + 1 + len > width {
                out.push('\n');
                col = 0;
            } else if col > 0 {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += len;
        }
    }
    out
}

/// A stable 64-bit FNV-1a hash, for deterministic choices.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_text_keeps_web_and_mail_addresses() {
        assert_eq!(
            linked_paragraph(
                "Read the [guide](https://x.example/g) and [mail us](mailto:hi@x.example)."
            ),
            "Read the guide (https://x.example/g) and mail us (hi@x.example)."
        );
        assert_eq!(
            linked_paragraph(
                "See [https://x.example](https://x.example) or [top](#top) or [x](javascript:void)"
            ),
            "See https://x.example or top or x"
        );
        assert_eq!(
            plain_paragraph("the [guide](https://x.example/g)"),
            "the guide"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World — 2026!"), "hello-world-2026");
        assert_eq!(slugify("  --  "), "");
        assert_eq!(slugify("Café au lait"), "caf-au-lait");
    }

    #[test]
    fn inline_markdown_becomes_plain() {
        assert_eq!(
            plain_inline("Try **box** breathing, see [the guide](https://x.io) and `code`."),
            "Try box breathing, see the guide and code."
        );
        assert_eq!(plain_inline("a [b] c"), "a [b] c");
        assert_eq!(plain_inline("[a [b](u) c"), "[a b c");
        assert_eq!(plain_inline("[a](u [b](v)"), "a");
        assert_eq!(plain_inline("[a](u [b](v"), "[a](u [b](v");
        assert_eq!(plain_inline("[[[x]]]"), "[[[x]]]");
    }

    #[test]
    fn sentence_split() {
        assert_eq!(
            sentences("One. Two! Three? v1.2 stays. Last"),
            vec!["One.", "Two!", "Three?", "v1.2 stays.", "Last"]
        );
        assert_eq!(first_sentence(""), "");
    }

    #[test]
    fn truncation_respects_words_and_limit() {
        let t = truncate_words("the quick brown fox jumps over the lazy dog", 20);
        assert!(t.chars().count() <= 20, "{t}");
        assert!(t.ends_with('…'));
        assert_eq!(truncate_words("short", 20), "short");
        assert_eq!(truncate_words("abcdef", 1), "…");
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        let w = wrap("one two three four five six seven", 10);
        assert_eq!(w, "one two\nthree four\nfive six\nseven");
        assert_eq!(wrap("a\nb", 72), "a\nb");
        assert_eq!(wrap("", 10), "");
    }

    #[test]
    fn hashing_is_stable() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab"]), stable_hash(&["a", "b"]));
    }
}
