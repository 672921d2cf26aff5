//! Markdown to safe HTML: raw HTML in the source is shown as text, link targets are limited
//! to web, mail and in-page addresses, and headings get stable `id`s for the table of contents.

use crate::text::slugify;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
use std::collections::{HashMap, HashSet};

/// Whether a link or image target is safe to emit.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // "path:with-colon" after a slash or '#' or '?' is not a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '#', '?']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// Replaces a link or image target that is not safe to emit with `replacement`.
fn neutralise(url: &mut CowStr<'_>, replacement: &'static str) {
    if !safe_url(url) {
        *url = CowStr::from(replacement);
    }
}

/// An anchor for a heading; the same rule the table of contents uses.
pub fn anchor(heading: &str) -> String {
    let slug = slugify(heading);
    if slug.is_empty() {
        "section".to_string()
    } else {
        slug
    }
}

/// Renders Markdown to HTML that cannot carry script.
pub fn render(markdown: &str) -> String {
    // Heading attributes let the composer give each item heading the anchor other channels
    // link to (`### Title {#anchor}`).
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, options)
        .map(|mut event| {
            match &mut event {
                Event::Start(Tag::Link { dest_url, .. }) => neutralise(dest_url, "#"),
                Event::Start(Tag::Image { dest_url, .. }) => neutralise(dest_url, ""),
                _ => {}
            }
            match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                other => other,
            }
        })
        .collect();
    add_heading_ids(&mut events);
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// One paragraph of an item as inline HTML for an email: emphasis, code and links kept
/// (targets limited as in [`render`]), raw HTML shown as text, images as their alt text, and
/// block structure (lists, quotes, headings) flattened to running text, so it fits inside the
/// layout's own `<p>`.
pub fn inline(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH;
    let mut in_image = 0usize;
    let events = Parser::new_ext(markdown, options).filter_map(|mut event| {
        if let Event::Start(Tag::Link { dest_url, .. }) = &mut event {
            neutralise(dest_url, "#");
        }
        match event {
            Event::Start(Tag::Image { .. }) => {
                in_image += 1;
                None
            }
            Event::End(TagEnd::Image) => {
                in_image = in_image.saturating_sub(1);
                None
            }
            Event::Text(t) | Event::Code(t) if in_image > 0 => Some(Event::Text(t)),
            Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
            Event::SoftBreak => Some(Event::Text(CowStr::from(" "))),
            Event::HardBreak => Some(Event::HardBreak),
            Event::Start(tag) => match tag {
                Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. } => {
                    Some(Event::Start(tag))
                }
                _ => None,
            },
            Event::End(end) => match end {
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                    Some(Event::End(end))
                }
                // Blocks become running text: one space where a block ended.
                TagEnd::Paragraph | TagEnd::Item | TagEnd::Heading(_) | TagEnd::CodeBlock => {
                    Some(Event::Text(CowStr::from(" ")))
                }
                _ => None,
            },
            other => Some(other),
        }
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out.trim().to_string()
}

/// Gives every h2, then every h3, an id made from its text, unique within the page.
/// Section headings (h2) are named first so the table of contents always finds them.
fn add_heading_ids(events: &mut [Event<'_>]) {
    // Ids already given, and for each base the next number to try (so a thousand
    // headings with one name cost a thousand steps, not half a million).
    // Ids written in the source (`{#id}`) are kept, and no other heading takes them.
    let mut used: HashSet<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let mut next_n: HashMap<String, usize> = HashMap::new();
    for wanted in [HeadingLevel::H2, HeadingLevel::H3] {
        let mut i = 0;
        while i < events.len() {
            if matches!(&events[i], Event::Start(Tag::Heading { level, id: None, .. }) if *level == wanted)
            {
                let mut text = String::new();
                let mut j = i + 1;
                while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                    if let Event::Text(t) | Event::Code(t) = &events[j] {
                        text.push_str(t);
                    }
                    j += 1;
                }
                let base = anchor(&text);
                let mut id = base.clone();
                let n = next_n.entry(base.clone()).or_insert(1);
                while used.contains(&id) {
                    id = format!("{base}-{n}");
                    *n += 1;
                }
                used.insert(id.clone());
                if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                    *slot = Some(CowStr::from(id));
                }
                i = j;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_escaped() {
        let out = render("### Release <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n");
        assert!(!out.contains("<script>"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }

    #[test]
    fn dangerous_links_are_neutralised() {
        let out = render(
            "[a](javascript:alert(1)) [b](https://ok.example/x) [c](#top) [d](JavaScript:x)",
        );
        assert!(!out.to_lowercase().contains("javascript:"), "{out}");
        assert!(out.contains("https://ok.example/x"));
        assert!(out.contains("href=\"#top\""));
    }

    #[test]
    fn inline_html_keeps_links_and_marks_and_nothing_else() {
        assert_eq!(
            inline("Read the **new** [guide](https://x.example/g?a=1&b=2)."),
            "Read the <strong>new</strong> <a href=\"https://x.example/g?a=1&amp;b=2\">guide</a>."
        );
        assert_eq!(
            inline("[x](javascript:alert(1)) <b>hi</b> ![alt text](https://x.example/i.png)"),
            "<a href=\"#\">x</a> &lt;b&gt;hi&lt;/b&gt; alt text"
        );
        assert_eq!(inline("- one\n- two"), "one two");
    }

    #[test]
    fn headings_get_unique_ids() {
        let out = render("## Tips\n\n### Our vision\n\n## Tips\n\n## Our vision\n");
        assert!(out.contains("<h2 id=\"tips\">"), "{out}");
        assert!(out.contains("<h2 id=\"tips-1\">"), "{out}");
        assert!(out.contains("<h2 id=\"our-vision\">"), "{out}");
        assert!(out.contains("<h3 id=\"our-vision-1\">"), "{out}");
    }
}
