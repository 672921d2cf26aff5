//! The links of captured HTML: every `href` attribute, decoded as a browser would read it,
//! with its scheme checked. Only http, https, mailto, tel and relative links are safe; any
//! other scheme (`javascript:`, `data:`, `vbscript:`, …) is flagged "blocked scheme".
//!
//! A small tag scanner, not an HTML parser: it skips comments, `<script>` and `<style>`
//! content and reads quoted and unquoted attribute values. It never panics, whatever it reads.

use serde::Serialize;

/// Links listed at most.
pub const MAX_LINKS: usize = 500;

/// Schemes a link may use.
const SAFE_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

/// One `href` found in the HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The element that carries it (`a`, `area`, `link`, …).
    pub element: String,
    /// The value as a browser reads it (character references decoded).
    pub href: String,
    /// The scheme, lower-cased, when the link has one.
    pub scheme: Option<String>,
    /// The scheme is not one of http, https, mailto, tel.
    pub blocked: bool,
}

/// Every `href` in `html`, in document order (at most [`MAX_LINKS`]).
pub fn links(html: &str) -> Vec<Link> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() && out.len() < MAX_LINKS {
        let Some(lt) = find(bytes, i, b"<") else {
            break;
        };
        i = lt + 1;
        if bytes.get(i..).is_some_and(|rest| rest.starts_with(b"!--")) {
            i = find(bytes, i + 3, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let name_end = scan(bytes, i, |b| {
            b.is_ascii_whitespace() || b == b'>' || b == b'/'
        });
        let element = html
            .get(i..name_end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let (attrs, end) = attributes(html, name_end);
        for (name, value) in attrs {
            if name == "href" && out.len() < MAX_LINKS {
                out.push(link(&element, &value));
            }
        }
        i = end;
        // The text of these elements is not markup.
        if element == "script" || element == "style" {
            let close = format!("</{element}");
            i = find_ascii_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
        }
    }
    out
}

fn link(element: &str, raw: &str) -> Link {
    let href = decode_references(raw);
    let scheme = scheme(&href);
    let blocked = scheme
        .as_deref()
        .is_some_and(|s| !SAFE_SCHEMES.contains(&s));
    Link {
        element: element.to_string(),
        href,
        scheme,
        blocked,
    }
}

/// The scheme a URL parser would find: leading and trailing spaces and controls stripped,
/// tabs and line breaks anywhere removed, then letters, digits, `+`, `-`, `.` before a `:`.
pub fn scheme(href: &str) -> Option<String> {
    let cleaned: String = href
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let (head, _) = cleaned.split_once(':')?;
    let mut chars = head.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| head.to_ascii_lowercase())
}

/// The attributes of a tag whose name ends at `from`, and where the tag ends.
fn attributes(html: &str, from: usize) -> (Vec<(String, String)>, usize) {
    let bytes = html.as_bytes();
    let mut attrs = Vec::new();
    let mut i = from;
    loop {
        i = scan(bytes, i, |b| !(b.is_ascii_whitespace() || b == b'/'));
        match bytes.get(i) {
            None => return (attrs, bytes.len()),
            Some(b'>') => return (attrs, i + 1),
            Some(_) => {}
        }
        let name_end = scan(bytes, i + 1, |b| {
            b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/')
        });
        let name = html
            .get(i..name_end)
            .unwrap_or_default()
            .to_ascii_lowercase();
        i = scan(bytes, name_end, |b| !b.is_ascii_whitespace());
        if bytes.get(i) != Some(&b'=') {
            attrs.push((name, String::new()));
            continue;
        }
        i = scan(bytes, i + 1, |b| !b.is_ascii_whitespace());
        let value = match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let end = find(bytes, i + 1, &[q]).unwrap_or(bytes.len());
                let v = html.get(i + 1..end).unwrap_or_default();
                i = (end + 1).min(bytes.len());
                v
            }
            _ => {
                let end = scan(bytes, i, |b| b.is_ascii_whitespace() || b == b'>');
                let v = html.get(i..end).unwrap_or_default();
                i = end;
                v
            }
        };
        attrs.push((name, value.to_string()));
    }
}

/// The first index at or after `from` whose byte satisfies `stop` (or the length).
pub(super) fn scan(bytes: &[u8], from: usize, stop: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|b| stop(*b)))
        .map_or(bytes.len(), |p| from + p)
}

/// Where `needle` next stands at or after `from`.
pub(super) fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// [`find`] in any ASCII letter case.
pub(super) fn find_ascii_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// Decodes character references as a browser does in an attribute: numeric ones (with or
/// without `;`) and the named ones (with `;`) that can hide a scheme.
pub(crate) fn decode_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match reference(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference at the start of `s` (which starts with `&`) stands for, and its
/// length in bytes.
fn reference(s: &str) -> Option<(char, usize)> {
    let body = s.get(1..)?;
    if let Some(num) = body.strip_prefix('#') {
        let (digits, radix, skip) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 3),
            None => (num, 10, 2),
        };
        let len = digits
            .find(|c: char| !c.is_digit(radix))
            .unwrap_or(digits.len());
        if len == 0 {
            return None;
        }
        let value = u32::from_str_radix(&digits[..len], radix).unwrap_or(0xFFFD);
        let c = char::from_u32(value)
            .filter(|c| *c != '\0')
            .unwrap_or('\u{FFFD}');
        let semi = usize::from(digits[len..].starts_with(';'));
        return Some((c, skip + len + semi));
    }
    const NAMED: &[(&str, char)] = &[
        ("amp;", '&'),
        ("lt;", '<'),
        ("gt;", '>'),
        ("quot;", '"'),
        ("apos;", '\''),
        ("colon;", ':'),
        ("Tab;", '\t'),
        ("NewLine;", '\n'),
        ("sol;", '/'),
        ("nbsp;", '\u{A0}'),
    ];
    NAMED
        .iter()
        .find(|(name, _)| body.starts_with(name))
        .map(|(name, c)| (*c, 1 + name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(html: &str) -> Vec<(String, bool)> {
        links(html)
            .into_iter()
            .map(|l| (l.href, l.blocked))
            .collect()
    }

    #[test]
    fn finds_links_in_order_with_their_scheme_checked() {
        let html = r#"<p><a href="https://halcytone.com/a?x=1&amp;y=2">A</a>
            <a class=x href='mailto:hi@example.com'>B</a> <A HREF=/relative>C</A>
            <a href="javascript:alert(1)">x</a><area href="tel:+1"><link rel=stylesheet href="data:text/css,x">"#;
        assert_eq!(
            hrefs(html),
            vec![
                ("https://halcytone.com/a?x=1&y=2".into(), false),
                ("mailto:hi@example.com".into(), false),
                ("/relative".into(), false),
                ("javascript:alert(1)".into(), true),
                ("tel:+1".into(), false),
                ("data:text/css,x".into(), true),
            ]
        );
    }

    #[test]
    fn hidden_schemes_are_found() {
        for hostile in [
            "<a href=\" JAVASCRIPT:alert(1)\">",
            "<a href=\"java&#x09;script:alert(1)\">",
            "<a href=\"java\tscript:alert(1)\">",
            "<a href=\"&#106;avascript:alert(1)\">",
            "<a href=\"&#106avascript:alert(1)\">",
            "<a href=\"javascript&colon;alert(1)\">",
            "<a href=\"vbscript:msgbox\">",
            "<a\nhref=javascript:alert(1)>",
        ] {
            let found = links(hostile);
            assert_eq!(found.len(), 1, "{hostile}");
            assert!(found[0].blocked, "{hostile}: {found:?}");
        }
    }

    #[test]
    fn comments_scripts_and_junk_are_skipped_without_panicking() {
        let html = "<!-- <a href=\"javascript:x\"> --><script>var s = '<a href=\"javascript:y\">';</script><style>a{}</style><a href=\"#top\">t</a>";
        assert_eq!(hrefs(html), vec![("#top".into(), false)]);
        for junk in [
            "",
            "<",
            "<a",
            "<a href",
            "<a href=",
            "<a href=\"",
            "<a href='x",
            "&#",
            "<a href=\"&#x;&#99999999999;&\">",
            "<é href=x>",
            "<a hréf=\"é\" href=é>",
            "<!--",
            "<script>",
            "<a href=\"&#0;\">",
        ] {
            let _ = links(junk);
        }
        assert_eq!(links("<a href=\"&#99999999;\">")[0].href, "\u{FFFD}");
    }

    #[test]
    fn schemes_parse_like_a_url() {
        assert_eq!(scheme("HTTPS://x"), Some("https".into()));
        assert_eq!(scheme("/a:b"), None);
        assert_eq!(scheme("?x=a:b"), None);
        assert_eq!(scheme("1http:x"), None);
        assert_eq!(scheme("\u{1}javascript:x"), Some("javascript".into()));
    }
}
