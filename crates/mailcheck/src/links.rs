//! The links of an email's HTML: every `href` attribute, decoded as a browser would read it,
//! with its scheme checked. Only http, https, mailto, tel and relative links are safe; any
//! other scheme (`javascript:`, `data:`, `vbscript:`, …) is flagged "blocked scheme".
//!
//! Read with [`crate::markup`]: comments and the text of `<script>` and `<style>` are skipped.
//! It never panics, whatever it reads.

use crate::markup::{Token, decode_references, walk};
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
    let mut out = Vec::new();
    walk(html, |t| {
        if let Token::Start { name, attrs } = t {
            for (attr, value) in attrs {
                if attr == "href" && out.len() < MAX_LINKS {
                    out.push(link(&name, &value));
                }
            }
        }
    });
    out
}

pub(crate) fn link(element: &str, raw: &str) -> Link {
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
