//! One pass over an email's HTML that gathers what every check reads: the elements,
//! attributes and CSS it uses, its images, its links with their text, the ids links can point
//! at, and its visible text.

use crate::css::{self, CssUse};
use crate::links::{Link, MAX_LINKS};
use crate::markup::{Token, attr, decode_references, walk};
use std::collections::BTreeSet;

/// Images kept at most.
pub const MAX_IMAGES: usize = 500;
/// Visible text kept at most, in bytes (the rest is counted, not kept).
const MAX_TEXT: usize = 256 * 1024;
/// Link text kept at most, in characters.
const MAX_LINK_TEXT: usize = 200;

/// An `<img>` (or `<input type=image>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Img {
    pub src: String,
    /// `None` when the element has no `alt` attribute; `Some("")` when it is empty.
    pub alt: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
}

/// A link and the text a reader sees for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub link: Link,
    pub text: String,
}

/// What an email's HTML uses and holds.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Element names, lower-cased.
    pub elements: BTreeSet<String>,
    /// Attribute names, lower-cased.
    pub attributes: BTreeSet<String>,
    /// `type` of `<input>` elements (`text` when absent) and of `<button>` (`submit`).
    pub input_types: BTreeSet<String>,
    pub button_types: BTreeSet<String>,
    /// `name` of `<meta>` elements, lower-cased.
    pub meta_names: BTreeSet<String>,
    pub comments: bool,
    pub doctype: bool,
    /// Formats of images by their file extension or `data:` type (`png`, `svg`, …).
    pub image_formats: BTreeSet<String>,
    pub css: CssUse,
    pub images: Vec<Img>,
    pub anchors: Vec<Anchor>,
    /// Every `id` and `name` an in-page link (`#x`) can reach.
    pub targets: BTreeSet<String>,
    /// The visible text, whitespace collapsed (at most 256 KiB kept).
    pub text: String,
    /// Characters of visible text in all (also beyond what is kept).
    pub text_chars: usize,
    /// A `<base href>`: relative links then have somewhere to go.
    pub base: bool,
}

/// Elements whose text a reader does not see.
const UNSEEN: &[&str] = &["head", "title", "script", "style", "template"];

impl Document {
    /// Reads `html` in one pass.
    pub fn read(html: &str) -> Document {
        let mut d = Document::default();
        // The open link whose text is being gathered, and how deep into unseen elements we are.
        let mut open_link: Option<usize> = None;
        let mut unseen = 0usize;
        walk(html, |t| match t {
            Token::Start { name, attrs } => d.start(&name, &attrs, &mut open_link, &mut unseen),
            Token::End(name) => {
                if name == "a" {
                    open_link = None;
                }
                if UNSEEN.contains(&name.as_str()) {
                    unseen = unseen.saturating_sub(1);
                }
            }
            Token::Text(text) => {
                if unseen == 0 {
                    d.add_text(text, open_link);
                }
            }
            Token::Comment(_) => d.comments = true,
            Token::Declaration(decl) => {
                if decl
                    .get(..7)
                    .is_some_and(|s| s.eq_ignore_ascii_case("doctype"))
                {
                    d.doctype = true;
                }
            }
            Token::Raw { element, text } => {
                if element == "style" {
                    css::sheet(text, &mut d.css);
                }
            }
        });
        d
    }

    fn start(
        &mut self,
        name: &str,
        attrs: &[(String, String)],
        open_link: &mut Option<usize>,
        unseen: &mut usize,
    ) {
        self.elements.insert(name.to_string());
        for (a, value) in attrs {
            self.attributes.insert(a.clone());
            if a == "style" {
                css::declarations(&decode_references(value), &mut self.css);
            }
            if a == "id" || (a == "name" && name == "a") {
                self.targets.insert(decode_references(value));
            }
        }
        if UNSEEN.contains(&name) {
            *unseen += 1;
        }
        match name {
            "input" => {
                let kind = attr(attrs, "type").unwrap_or_else(|| "text".into());
                let kind = kind.trim().to_ascii_lowercase();
                if kind == "image" {
                    self.image(attrs);
                }
                self.input_types.insert(kind);
            }
            "button" => {
                let kind = attr(attrs, "type").unwrap_or_else(|| "submit".into());
                self.button_types.insert(kind.trim().to_ascii_lowercase());
            }
            "meta" => {
                if let Some(n) = attr(attrs, "name") {
                    self.meta_names.insert(n.trim().to_ascii_lowercase());
                }
            }
            "img" => self.image(attrs),
            "base" => self.base |= attr(attrs, "href").is_some(),
            _ => {}
        }
        if let Some(href) = attrs.iter().find(|(a, _)| a == "href").map(|(_, v)| v)
            && self.anchors.len() < MAX_LINKS
        {
            self.anchors.push(Anchor {
                link: crate::links::link(name, href),
                text: String::new(),
            });
            if name == "a" {
                *open_link = Some(self.anchors.len() - 1);
            }
        }
        if name == "img"
            && let Some(i) = *open_link
            && let Some(alt) = attr(attrs, "alt")
        {
            // An image link reads as its alt text.
            push_text(&mut self.anchors[i].text, &alt, MAX_LINK_TEXT);
        }
    }

    fn image(&mut self, attrs: &[(String, String)]) {
        let src = attr(attrs, "src").unwrap_or_default();
        if let Some(format) = image_format(&src) {
            self.image_formats.insert(format);
        }
        if self.images.len() < MAX_IMAGES {
            self.images.push(Img {
                src,
                alt: attr(attrs, "alt"),
                width: attr(attrs, "width"),
                height: attr(attrs, "height"),
            });
        }
    }

    fn add_text(&mut self, raw: &str, open_link: Option<usize>) {
        let text = decode_references(raw);
        let visible = text.trim();
        if visible.is_empty() {
            if !self.text.ends_with(' ') && !self.text.is_empty() {
                self.text.push(' ');
            }
            return;
        }
        self.text_chars += visible.chars().filter(|c| !c.is_whitespace()).count();
        if self.text.len() < MAX_TEXT {
            push_text(&mut self.text, &text, MAX_TEXT);
        }
        if let Some(i) = open_link {
            push_text(&mut self.anchors[i].text, &text, MAX_LINK_TEXT);
        }
    }
}

/// Appends `text` to `out` with runs of whitespace as one space, up to `max` (bytes of `out`
/// for the document, characters for a link; both are bounds, not exact cuts).
fn push_text(out: &mut String, text: &str, max: usize) {
    for word in text.split_whitespace() {
        if out.len() >= max {
            return;
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(word);
    }
    if text.ends_with(char::is_whitespace) && !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

/// The format of an image from its `data:` type or its file extension.
pub fn image_format(src: &str) -> Option<String> {
    let src = src.trim();
    if let Some(data) = src.strip_prefix("data:") {
        let kind = data.split([';', ',']).next()?.to_ascii_lowercase();
        let sub = kind.strip_prefix("image/")?;
        return Some(normalise_format(sub.trim_end_matches("+xml")));
    }
    let path = src.split(['?', '#']).next()?;
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    (!ext.is_empty() && ext.len() <= 5 && !ext.contains('/')).then(|| normalise_format(&ext))
}

fn normalise_format(f: &str) -> String {
    match f {
        "jpeg" | "jpe" => "jpg".into(),
        "tif" => "tiff".into(),
        "heic" => "heif".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_gathers_what_the_checks_read() {
        let d = Document::read(
            "<!doctype html><html><head><title>T</title><style>p{color:red}</style></head>\
             <body><p id=top style=\"margin:0\">Hello&nbsp;<b>reader</b></p>\
             <a href=\"https://x.example/a\">Read <em>more</em></a> \
             <a href=\"#top\"><img src=\"/i/logo.PNG?v=2\" alt=\"Logo\"></a>\
             <img src=\"data:image/svg+xml;base64,AAAA\"><!-- x --></body></html>",
        );
        assert!(d.doctype && d.comments && !d.base);
        assert!(d.elements.contains("p") && d.elements.contains("img"));
        assert!(d.attributes.contains("style"));
        assert!(d.css.properties.contains("color") && d.css.properties.contains("margin"));
        assert_eq!(d.anchors.len(), 2);
        assert_eq!(d.anchors[0].text, "Read more");
        assert_eq!(d.anchors[1].text, "Logo");
        assert!(d.targets.contains("top"));
        assert_eq!(d.images.len(), 2);
        assert_eq!(d.images[1].alt, None);
        assert_eq!(
            d.image_formats,
            ["png", "svg"].map(String::from).into_iter().collect()
        );
        assert!(
            !d.text.contains('T'),
            "the title is not visible text: {}",
            d.text
        );
        assert!(d.text.starts_with("Hello reader"), "{}", d.text);
    }
}
