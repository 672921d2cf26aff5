//! The checks of one email put together: HTML support across clients, links, images, size
//! and spam score, each finding with a level, and the worst of them.

use crate::compat::{self, Compat};
use crate::document::{Document, Img};
use crate::spam::{self, Spam};
use serde::Serialize;

/// Gmail clips a message whose HTML is larger than this.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// How much a finding matters, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    /// The level a stored string names (`ok` for anything else).
    pub fn parse(s: &str) -> Level {
        match s {
            "info" => Level::Info,
            "warning" => Level::Warning,
            "error" => Level::Error,
            _ => Level::Ok,
        }
    }
}

/// What is known of a link's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// It resolved (an answer below 400, an in-page target that exists, a well-formed
    /// `mailto:` or `tel:`).
    Ok,
    /// It does not lead anywhere: an error answer, no answer, a malformed URL, an in-page
    /// target that does not exist, a relative link in a message with no base.
    Broken,
    /// A scheme no mail app should follow (`javascript:`, `data:`, …).
    BlockedScheme,
    /// Not resolved: a host the checker may not reach (in a dry run, anything but the mocks
    /// and the allowed hosts).
    Unchecked,
}

/// One link and what is known of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkCheck {
    pub url: String,
    pub element: String,
    /// The text a reader sees for it (at most 200 characters).
    pub text: String,
    pub status: LinkStatus,
    /// The HTTP status the target answered, when it was asked.
    pub http_status: Option<u16>,
    pub detail: String,
    pub level: Level,
}

impl LinkCheck {
    /// Records what resolving the link found.
    pub fn resolved(&mut self, status: LinkStatus, http_status: Option<u16>, detail: String) {
        self.status = status;
        self.http_status = http_status;
        self.detail = detail;
        self.level = link_level(status);
    }

    /// Whether the link waits for an HTTP answer to be resolved.
    pub fn needs_request(&self) -> bool {
        self.status == LinkStatus::Unchecked
    }
}

fn link_level(status: LinkStatus) -> Level {
    match status {
        LinkStatus::Ok => Level::Ok,
        LinkStatus::Unchecked => Level::Info,
        LinkStatus::Broken | LinkStatus::BlockedScheme => Level::Error,
    }
}

/// One image and its alt text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageCheck {
    pub src: String,
    /// The `alt` text; `null` when the attribute is missing.
    pub alt: Option<String>,
    pub alt_present: bool,
    pub width: Option<String>,
    pub height: Option<String>,
    /// Bytes of the image when the message holds it (`data:` URLs); remote images are not
    /// fetched.
    pub bytes: Option<usize>,
    pub remote: bool,
    pub detail: String,
    pub level: Level,
}

/// The sizes of the message against Gmail's clipping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizeCheck {
    pub html_bytes: usize,
    pub text_bytes: usize,
    /// The whole message as sent, when known.
    pub message_bytes: Option<usize>,
    pub gmail_clip_bytes: usize,
    pub gmail_clips: bool,
    pub level: Level,
}

/// The worst finding, in a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worst {
    pub level: Level,
    /// Which check: `html_compatibility`, `links`, `images`, `size_bytes` or `spam`.
    pub check: &'static str,
    pub message: String,
}

/// How many findings of each level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

/// Every check of one email.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub worst: Worst,
    pub counts: Counts,
    pub html_compatibility: Compat,
    pub links: Vec<LinkCheck>,
    pub images: Vec<ImageCheck>,
    pub size_bytes: SizeCheck,
    pub spam: Spam,
}

/// What is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Message<'a> {
    pub subject: Option<&'a str>,
    pub html: Option<&'a str>,
    pub text: Option<&'a str>,
    /// The size of the whole message as sent, when known.
    pub message_bytes: Option<usize>,
    /// Whether it has a `List-Unsubscribe` header; `None` when its headers are not known.
    pub list_unsubscribe: Option<bool>,
}

/// Checks `m`. Links to other hosts come back [`LinkStatus::Unchecked`]: a caller that may
/// reach them resolves them with [`LinkCheck::resolved`], then calls [`Report::settle`].
pub fn check(m: &Message<'_>) -> Report {
    let doc = m.html.map(Document::read);
    let (links, images) = match &doc {
        Some(d) => (
            d.anchors
                .iter()
                .map(|a| static_link(d, &a.link.element, &a.link.href, &a.text, a.link.blocked))
                .collect(),
            d.images.iter().map(image).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let html_bytes = m.html.map_or(0, str::len);
    let gmail_clips = html_bytes > GMAIL_CLIP_BYTES;
    let mut report = Report {
        worst: Worst {
            level: Level::Ok,
            check: "",
            message: String::new(),
        },
        counts: Counts::default(),
        html_compatibility: match &doc {
            Some(d) => compat::check(d),
            None => Compat {
                data: compat::data_info(),
                features_used: 0,
                findings: Vec::new(),
            },
        },
        links,
        images,
        size_bytes: SizeCheck {
            html_bytes,
            text_bytes: m.text.map_or(0, str::len),
            message_bytes: m.message_bytes,
            gmail_clip_bytes: GMAIL_CLIP_BYTES,
            gmail_clips,
            level: if gmail_clips {
                Level::Warning
            } else {
                Level::Ok
            },
        },
        spam: spam::score(
            doc.as_ref(),
            spam::Facts {
                subject: m.subject,
                text: m.text,
                list_unsubscribe: m.list_unsubscribe,
            },
        ),
    };
    report.settle();
    report
}

impl Report {
    /// Every finding above [`Level::Ok`], in the report's order (images, links, size, spam,
    /// HTML support), each in a line.
    pub fn findings(&self) -> Vec<Worst> {
        let mut out = Vec::new();
        let mut note = |level: Level, check: &'static str, message: &dyn Fn() -> String| {
            if level > Level::Ok {
                out.push(Worst {
                    level,
                    check,
                    message: message(),
                });
            }
        };
        for i in &self.images {
            note(i.level, "images", &|| format!("{} ({})", i.detail, i.src));
        }
        for l in &self.links {
            note(l.level, "links", &|| format!("{}: {}", l.detail, l.url));
        }
        let s = &self.size_bytes;
        note(s.level, "size_bytes", &|| {
            format!(
                "Gmail clips it: the HTML is {} bytes, over {}",
                s.html_bytes, s.gmail_clip_bytes
            )
        });
        let spam = &self.spam;
        note(spam.level, "spam", &|| {
            format!(
                "spam score {:.1} of {:.1} ({})",
                spam.score, spam.threshold, spam.verdict
            )
        });
        for f in &self.html_compatibility.findings {
            note(f.level, "html_compatibility", &|| {
                format!(
                    "{} is not supported by {} of {} clients checked",
                    f.title, f.unsupported, f.clients_checked
                )
            });
        }
        out
    }

    /// The findings at `min` or worse, worst first (at most `max`).
    pub fn worst_findings(&self, min: Level, max: usize) -> Vec<Worst> {
        let mut found: Vec<Worst> = self
            .findings()
            .into_iter()
            .filter(|f| f.level >= min)
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.level));
        found.truncate(max);
        found
    }

    /// Recounts the findings and picks the worst (after links were resolved).
    pub fn settle(&mut self) {
        let mut counts = Counts::default();
        let mut worst = Worst {
            level: Level::Ok,
            check: "",
            message: "no findings".into(),
        };
        for f in self.findings() {
            match f.level {
                Level::Error => counts.error += 1,
                Level::Warning => counts.warning += 1,
                Level::Info | Level::Ok => counts.info += 1,
            }
            if f.level > worst.level {
                worst = f;
            }
        }
        self.counts = counts;
        self.worst = worst;
    }
}

fn static_link(d: &Document, element: &str, href: &str, text: &str, blocked: bool) -> LinkCheck {
    let (status, detail) = classify(d, href, blocked);
    LinkCheck {
        url: href.to_string(),
        element: element.to_string(),
        text: text.trim().to_string(),
        status,
        http_status: None,
        detail,
        level: link_level(status),
    }
}

/// What can be said of a link without asking its host.
fn classify(d: &Document, href: &str, blocked: bool) -> (LinkStatus, String) {
    let href = href.trim();
    if blocked {
        return (LinkStatus::BlockedScheme, "a scheme mail apps block".into());
    }
    if href.is_empty() {
        return (LinkStatus::Broken, "an empty link".into());
    }
    if let Some(target) = href.strip_prefix('#') {
        return if target.is_empty() || target == "top" || d.targets.contains(target) {
            (LinkStatus::Ok, "a place in the message".into())
        } else {
            (
                LinkStatus::Broken,
                format!("no element in the message has the id '{target}'"),
            )
        };
    }
    match crate::links::scheme(href).as_deref() {
        Some("mailto") => {
            let to = href[7..].split('?').next().unwrap_or("");
            if to.contains('@') || href[7..].starts_with('?') {
                (LinkStatus::Ok, "an email address".into())
            } else {
                (LinkStatus::Broken, "a mailto: link with no address".into())
            }
        }
        Some("tel") => (LinkStatus::Ok, "a phone number".into()),
        Some("http" | "https") => match url::Url::parse(href) {
            Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => (
                LinkStatus::Unchecked,
                "not resolved: its host was not asked".into(),
            ),
            Ok(_) => (LinkStatus::Broken, "a URL with no host".into()),
            Err(e) => (LinkStatus::Broken, format!("not a valid URL: {e}")),
        },
        Some(_) => (
            LinkStatus::Unchecked,
            "a scheme the checker does not resolve".into(),
        ),
        None if href.starts_with("//") => (
            LinkStatus::Broken,
            "a protocol-relative link: a mail app has no page whose scheme it could take".into(),
        ),
        None if d.base => (
            LinkStatus::Unchecked,
            "relative to the message's <base>".into(),
        ),
        None => (
            LinkStatus::Broken,
            "a relative link: an email has no address for it to be relative to".into(),
        ),
    }
}

fn image(i: &Img) -> ImageCheck {
    let src = i.src.trim();
    let remote = matches!(crate::links::scheme(src).as_deref(), Some("http" | "https"))
        || src.starts_with("//");
    let bytes = src.strip_prefix("data:").and_then(data_url_size);
    let (level, detail) = match i.alt.as_deref().map(str::trim) {
        None => (
            Level::Error,
            "an image without alt text: screen readers and mail apps that block images show nothing for it".to_string(),
        ),
        Some("") => (
            Level::Ok,
            "empty alt: read as decorative and skipped by screen readers".into(),
        ),
        Some(alt) => (Level::Ok, format!("alt text \"{alt}\"")),
    };
    ImageCheck {
        src: if src.len() > 300 {
            format!("{}…", &src[..src.floor_char_boundary(300)])
        } else {
            src.to_string()
        },
        alt_present: i.alt.is_some(),
        alt: i.alt.clone(),
        width: i.width.clone(),
        height: i.height.clone(),
        bytes,
        remote,
        detail,
        level,
    }
}

/// The decoded size of a `data:` URL's payload (after `data:`).
fn data_url_size(rest: &str) -> Option<usize> {
    let (meta, payload) = rest.split_once(',')?;
    if meta.ends_with(";base64") {
        let clean = payload.bytes().filter(|b| !b.is_ascii_whitespace()).count();
        let pad = payload.bytes().rev().take_while(|b| *b == b'=').count();
        Some((clean * 3 / 4).saturating_sub(pad))
    } else {
        Some(payload.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(html: &str) -> Report {
        check(&Message {
            subject: Some("Weekly notes"),
            html: Some(html),
            text: Some("Weekly notes in text."),
            message_bytes: None,
            list_unsubscribe: None,
        })
    }

    #[test]
    fn an_image_without_alt_is_the_worst_finding() {
        let r = report(
            "<p>Hi</p><img src=\"https://cdn.example/hero.png\" width=600>\
             <img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\">",
        );
        assert_eq!(r.images.len(), 2);
        assert!(!r.images[0].alt_present && r.images[0].remote);
        assert_eq!(r.images[0].level, Level::Error);
        assert_eq!(r.images[1].bytes, Some(8));
        assert_eq!(r.images[1].level, Level::Ok);
        assert_eq!(r.worst.level, Level::Error);
        assert_eq!(r.worst.check, "images");
        assert!(r.worst.message.contains("hero.png"), "{:?}", r.worst);
    }

    #[test]
    fn links_are_classified_before_any_request() {
        let r = report(
            "<p id=top>x</p><a href=\"#top\">t</a><a href=\"#gone\">g</a>\
             <a href=\"mailto:\">m</a><a href=\"https://example.com/a\">e</a>\
             <a href=\"/relative\">r</a><a href=\"javascript:x()\">j</a><a href=\"http://\">h</a>",
        );
        let statuses: Vec<LinkStatus> = r.links.iter().map(|l| l.status).collect();
        assert_eq!(
            statuses,
            vec![
                LinkStatus::Ok,
                LinkStatus::Broken,
                LinkStatus::Broken,
                LinkStatus::Unchecked,
                LinkStatus::Broken,
                LinkStatus::BlockedScheme,
                LinkStatus::Broken,
            ]
        );
        assert_eq!(r.counts.error, 5, "{:?}", r.counts);
    }

    #[test]
    fn a_resolved_link_moves_the_worst_finding() {
        let mut r = report("<p>x</p><a href=\"https://example.com/missing\">e</a>");
        assert_eq!(r.worst.level, Level::Info);
        r.links[0].resolved(LinkStatus::Broken, Some(404), "answered 404".into());
        r.settle();
        assert_eq!(r.worst.level, Level::Error);
        assert_eq!(r.worst.check, "links");
        assert!(r.worst.message.contains("404"));
    }

    #[test]
    fn a_body_over_gmails_limit_is_clipped() {
        let big = format!("<p>{}</p>", "calm ".repeat(25_000));
        let r = report(&big);
        assert!(r.size_bytes.gmail_clips);
        assert_eq!(r.size_bytes.level, Level::Warning);
        assert!(report("<p>small</p>").size_bytes.level == Level::Ok);
    }

    #[test]
    fn a_text_only_message_is_checked_too() {
        let r = check(&Message {
            subject: Some("Hi"),
            text: Some("Plain"),
            ..Message::default()
        });
        assert!(r.links.is_empty() && r.images.is_empty());
        assert_eq!(r.size_bytes.html_bytes, 0);
    }
}
