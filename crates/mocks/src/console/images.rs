//! Remote images in captured HTML, blocked until the reader asks for them (as mail apps do, so
//! opening a message tells no tracker it was read).
//!
//! Two layers: the frame's policy ([`BLOCKED_CSP`]) lets no image, font or style load from
//! anywhere, which is the guarantee; and the HTML is rewritten so each remote `src`, `srcset`,
//! `poster` or `background` shows a blank image rather than a broken one, which also counts
//! them. CSS `url(…)` references are counted and left to the policy.

use halcytone_mailcheck::markup::{decode_references, find, find_ascii_ci, scan};

/// The policy of captured HTML with its remote images blocked: the sandbox of
/// `halcytone_webpage::SANDBOX_CSP`, with images and fonts from `data:` only.
pub const BLOCKED_CSP: &str =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";

/// What a blocked image becomes: a transparent 1×1 GIF (no quote, space or `>` in it, so it
/// fits quoted and unquoted attributes alike).
const BLANK: &str =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

/// Captured HTML with its remote images counted (and, when blocked, replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub html: String,
    /// Remote image references: attributes of elements, and CSS `url(…)`s.
    pub remote: usize,
}

/// Whether a URL would be fetched from another host.
fn is_remote(url: &str) -> bool {
    let url = url.trim_matches(|c: char| c <= ' ');
    url.starts_with("//")
        || halcytone_mailcheck::links::scheme(url).is_some_and(|s| s == "http" || s == "https")
}

/// Whether an attribute value refers to a remote image.
fn remote_value(name: &str, value: &str) -> bool {
    let value = decode_references(value);
    if name == "srcset" {
        value
            .split(',')
            .any(|candidate| candidate.split_whitespace().next().is_some_and(is_remote))
    } else {
        is_remote(&value)
    }
}

/// Whether the attribute `name` of `element` loads an image.
fn loads_image(element: &str, name: &str) -> bool {
    match name {
        "src" => matches!(element, "img" | "input"),
        "srcset" => matches!(element, "img" | "source"),
        "poster" => element == "video",
        "background" => true,
        _ => false,
    }
}

/// Counts the remote images of `html`, and replaces them with a blank image when `block`.
/// Linear in the input; never panics.
pub fn remote_images(html: &str, block: bool) -> Images {
    let bytes = html.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut remote = 0;
    let mut i = 0;
    while let Some(lt) = bytes
        .get(i..)
        .and_then(|r| r.iter().position(|b| *b == b'<'))
    {
        i += lt + 1;
        if bytes.get(i..).is_some_and(|r| r.starts_with(b"!--")) {
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
        i = name_end;
        // Attributes, with where each value lies.
        loop {
            i = scan(bytes, i, |b| !(b.is_ascii_whitespace() || b == b'/'));
            match bytes.get(i) {
                None => break,
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(_) => {}
            }
            let attr_end = scan(bytes, i + 1, |b| {
                b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/')
            });
            let attr = html
                .get(i..attr_end)
                .unwrap_or_default()
                .to_ascii_lowercase();
            i = scan(bytes, attr_end, |b| !b.is_ascii_whitespace());
            if bytes.get(i) != Some(&b'=') {
                continue;
            }
            i = scan(bytes, i + 1, |b| !b.is_ascii_whitespace());
            let (start, end) = match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = find(bytes, i + 1, &[q]).unwrap_or(bytes.len());
                    let span = (i + 1, end);
                    i = (end + 1).min(bytes.len());
                    span
                }
                _ => {
                    let end = scan(bytes, i, |b| b.is_ascii_whitespace() || b == b'>');
                    let span = (i, end);
                    i = end;
                    span
                }
            };
            let value = html.get(start..end).unwrap_or_default();
            if loads_image(&element, &attr) && remote_value(&attr, value) {
                remote += 1;
                spans.push((start, end));
            }
        }
        if element == "script" || element == "textarea" || element == "title" {
            let close = format!("</{element}");
            i = find_ascii_ci(bytes, i, close.as_bytes()).unwrap_or(bytes.len());
        }
    }
    remote += css_urls(html);
    if !block || spans.is_empty() {
        return Images {
            html: html.to_string(),
            remote,
        };
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for (start, end) in spans {
        out.push_str(html.get(from..start).unwrap_or_default());
        out.push_str(BLANK);
        from = end;
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Images { html: out, remote }
}

/// How many CSS `url(…)` references in `html` point at another host.
fn css_urls(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    lower
        .match_indices("url(")
        .filter(|(at, _)| {
            let rest = lower.get(at + 4..).unwrap_or_default();
            let rest = rest.trim_start_matches([' ', '\t', '\n', '\r', '"', '\'']);
            rest.starts_with("http:") || rest.starts_with("https:") || rest.starts_with("//")
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_images_are_counted_and_blanked() {
        let html = r#"<p><img src="https://track.example/open.gif" alt="x"><IMG SRC=http://cdn.example/a.png>
            <img src="data:image/png;base64,AAAA"><img src="/local.png"><img srcset="a.png 1x, //cdn.example/b.png 2x">
            <td background='https://cdn.example/bg.jpg'><div style="background:url('https://cdn.example/c.png')">
            <a href="https://halcytone.com">link</a><!-- <img src="https://hidden.example/x"> --></p>"#;
        let shown = remote_images(html, false);
        assert_eq!(shown.remote, 5);
        assert_eq!(shown.html, html);
        let blocked = remote_images(html, true);
        assert_eq!(blocked.remote, 5);
        for gone in [
            "track.example",
            "cdn.example/a.png",
            "cdn.example/b.png",
            "bg.jpg",
        ] {
            assert!(!blocked.html.contains(gone), "{gone}: {}", blocked.html);
        }
        for kept in [
            "data:image/png;base64,AAAA",
            "/local.png",
            "https://halcytone.com",
            "hidden.example",
        ] {
            assert!(blocked.html.contains(kept), "{kept}");
        }
        assert_eq!(blocked.html.matches(BLANK).count(), 4);
    }

    #[test]
    fn entity_hidden_urls_count_and_junk_does_not_panic() {
        assert_eq!(
            remote_images("<img src=\"&#104;ttps://x.example/a\">", true).remote,
            1
        );
        for junk in [
            "",
            "<",
            "<img",
            "<img src",
            "<img src=",
            "<img src=\"",
            "<img src='http",
            "<!--",
            "url(",
            "<é src=é>",
        ] {
            let _ = remote_images(junk, true);
        }
    }
}
