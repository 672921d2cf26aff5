//! Composition: one living document in, every channel's content out.
//!
//! Pure and deterministic: the caller passes "now", templates and brand settings; the same
//! inputs always give byte-identical output.

pub mod html;
pub mod newsletter;
pub mod sections;
pub mod seo;
pub mod social;
pub mod web;

use crate::model::{Channel, LivingDocument, UnknownValue};
use crate::platform::Platform;
use crate::templates::{TemplateError, Templates};
use crate::tone::{self, Target, Tone};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use newsletter::Newsletter;
pub use social::SocialPost;
pub use web::WebPost;

/// The newsletter layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailTemplate {
    Modern,
    Minimal,
    Plain,
    Breathscape,
}

impl EmailTemplate {
    pub const ALL: [EmailTemplate; 4] = [
        EmailTemplate::Modern,
        EmailTemplate::Minimal,
        EmailTemplate::Plain,
        EmailTemplate::Breathscape,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTemplate::Modern => "modern",
            EmailTemplate::Minimal => "minimal",
            EmailTemplate::Plain => "plain",
            EmailTemplate::Breathscape => "breathscape",
        }
    }
    /// The template file that renders this layout's plain-text part.
    pub fn text_template_name(self) -> &'static str {
        match self {
            EmailTemplate::Modern => "newsletter/modern.txt",
            EmailTemplate::Minimal => "newsletter/minimal.txt",
            EmailTemplate::Plain => "newsletter/plain.txt",
            EmailTemplate::Breathscape => "newsletter/breathscape.txt",
        }
    }

    /// The template file that renders this layout.
    pub fn template_name(self) -> &'static str {
        match self {
            EmailTemplate::Modern => "newsletter/modern.html",
            EmailTemplate::Minimal => "newsletter/minimal.html",
            EmailTemplate::Plain => "newsletter/plain.html",
            EmailTemplate::Breathscape => "newsletter/breathscape.html",
        }
    }
}

impl_display_by_name!(EmailTemplate);
impl_from_str_by_name!(EmailTemplate, "template");

/// Links and names printed in every piece of content; from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brand {
    pub name: String,
    pub tagline: String,
    pub website_url: String,
    pub unsubscribe_url: String,
    pub preferences_url: String,
    pub postal_address: String,
}

impl Default for Brand {
    fn default() -> Self {
        Brand {
            name: "Halcytone".into(),
            tagline: "Calm, one breath at a time".into(),
            website_url: "https://halcytone.com".into(),
            unsubscribe_url: "https://halcytone.com/unsubscribe".into(),
            preferences_url: "https://halcytone.com/preferences".into(),
            postal_address: "Halcytone, 100 Example Street, Portland, OR 97201, USA".into(),
        }
    }
}

impl Brand {
    pub fn website(&self) -> &str {
        self.website_url.trim_end_matches('/')
    }
}

/// What to compose and how.
#[derive(Debug, Clone)]
pub struct ComposeOptions {
    /// The moment of composition; dates, months and staleness are relative to it.
    pub now: DateTime<Utc>,
    pub channels: Vec<Channel>,
    pub platforms: Vec<Platform>,
    /// One tone for every channel; `None` picks per channel (document flag, then automatic).
    pub tone: Option<Tone>,
    /// Newsletter layout; `None` uses the document's `template` flag, else `modern`.
    pub template: Option<EmailTemplate>,
    pub brand: Brand,
    /// Per-reader and per-segment words in the newsletter; `None` writes to everyone alike.
    pub personalization: Option<Personalization>,
    /// Set by the caller to abandon the work (checked between channels and posts).
    pub stop: crate::Stop,
}

/// How a newsletter speaks to its readers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Personalization {
    /// Greet each reader by first name: the greeting carries the merge tag `*|FIRST_NAME|*`,
    /// which the CRM (or the SMTP transport) fills per recipient, with a fallback.
    pub first_name: bool,
    /// Replaces the tone's introduction (a segment's own words).
    pub intro: Option<String>,
    /// Replaces the call to action's text.
    pub cta_text: Option<String>,
    /// Replaces the call to action's link.
    pub cta_url: Option<String>,
}

impl ComposeOptions {
    pub fn new(now: DateTime<Utc>) -> Self {
        ComposeOptions {
            now,
            channels: Channel::ALL.to_vec(),
            platforms: Platform::ALL.to_vec(),
            tone: None,
            template: None,
            brand: Brand::default(),
            personalization: None,
            stop: crate::Stop::default(),
        }
    }
}

/// Why composition could not run.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the document has no items to compose")]
    NoItems,
    #[error(transparent)]
    InvalidOption(#[from] UnknownValue),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("composition was stopped before it finished")]
    Stopped,
}

/// Every channel's content for one document.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// The reference time the content was composed for (the caller's "now").
    pub as_of: String,
    pub document: DocumentSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newsletter: Option<Newsletter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebPost>,
    pub social: Vec<SocialPost>,
}

/// What was composed from.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub format: &'static str,
    pub items: usize,
    pub sections: usize,
    /// SHA-256 of the canonical JSON of the parsed document.
    pub content_hash: String,
}

/// The document hash: identical content gives an identical hash whatever the source format.
pub fn content_hash(doc: &LivingDocument) -> String {
    use sha2::{Digest, Sha256};
    let canonical: Vec<_> = doc
        .items()
        .map(|(c, i)| {
            (
                c.as_str(),
                &i.title,
                &i.content,
                i.date.as_ref().map(|d| &d.raw),
                &i.flags,
            )
        })
        .collect();
    let json = serde_json::to_string(&canonical).unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What every composer reads: the document, the options and the document's own tone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub doc: &'a LivingDocument,
    pub opts: &'a ComposeOptions,
    pub doc_tone: Option<Tone>,
    /// Address of the web post; items link to their heading in it.
    pub post_url: &'a str,
    /// Each item's anchor in the web post, by its position in the document.
    pub anchors: &'a std::collections::HashMap<usize, String>,
}

impl<'a> Context<'a> {
    /// What `channel` carries of the document, with the tone for `target`; `None` when it
    /// carries nothing.
    pub fn plan_and_tone(
        &self,
        channel: Channel,
        target: Target,
    ) -> Option<(sections::Plan<'a>, Tone)> {
        let plan = sections::Plan::for_channel(self.doc, channel);
        (!plan.is_empty()).then(|| (plan, self.tone(target)))
    }
}

impl Context<'_> {
    pub fn tone(&self, target: Target) -> Tone {
        tone::select(self.opts.tone, self.doc_tone, target)
    }

    /// "November 2026".
    pub fn month_year(&self) -> String {
        self.opts.now.format("%B %Y").to_string()
    }

    /// "November 24, 2026".
    pub fn long_date(&self) -> String {
        self.opts.now.format("%B %-d, %Y").to_string()
    }

    pub fn brand(&self) -> &Brand {
        &self.opts.brand
    }

    /// Where an item can be read in full: its heading in the web post, when the web post is
    /// composed (and so published) with this content and carries the item; else `None`.
    pub fn item_url(&self, order: usize) -> Option<String> {
        if !self.opts.channels.contains(&Channel::Web) {
            return None;
        }
        self.anchors
            .get(&order)
            .map(|a| format!("{}#{a}", self.post_url))
    }
}

impl Context<'_> {
    /// The date an item is shown with; an item from before the period is labelled
    /// as earlier news, so it is never presented as this month's.
    pub fn shown_date(&self, item: &crate::model::Item) -> Option<String> {
        let date = display_date(item.date.as_ref())?;
        Some(if item.is_earlier(self.opts.now) {
            format!("Earlier news, {date}")
        } else {
            date
        })
    }
}

/// Display form of an item date: "November 18, 2026", or the text as written.
pub(crate) fn display_date(date: Option<&crate::model::ItemDate>) -> Option<String> {
    let d = date?;
    Some(match d.value {
        Some(v) => v.format("%B %-d, %Y").to_string(),
        None => d.raw.clone(),
    })
}

/// Composes every requested channel of `doc`.
pub fn compose(
    doc: &LivingDocument,
    opts: &ComposeOptions,
    templates: &Templates,
) -> Result<Bundle, ComposeError> {
    if doc.item_count() == 0 {
        return Err(ComposeError::NoItems);
    }
    let checkpoint = || {
        if opts.stop.is_stopped() {
            Err(ComposeError::Stopped)
        } else {
            Ok(())
        }
    };
    checkpoint()?;
    let doc_tone = doc
        .flags
        .tone
        .as_deref()
        .map(str::parse::<Tone>)
        .transpose()?;
    let template = match (opts.template, doc.flags.template.as_deref()) {
        (Some(t), _) => t,
        (None, Some(name)) => name.parse()?,
        (None, None) => EmailTemplate::Modern,
    };
    let no_anchors = std::collections::HashMap::new();
    let ctx = Context {
        doc,
        opts,
        doc_tone,
        post_url: "",
        anchors: &no_anchors,
    };
    let (_, _, post_url) = web::address(&ctx);
    let anchors = web::item_anchors(&ctx);
    let ctx = Context {
        post_url: &post_url,
        anchors: &anchors,
        ..ctx
    };
    let newsletter = opts
        .channels
        .contains(&Channel::Email)
        .then(|| newsletter::compose(&ctx, template, templates))
        .transpose()?
        .flatten();
    checkpoint()?;
    let web = opts
        .channels
        .contains(&Channel::Web)
        .then(|| web::compose(&ctx, templates))
        .transpose()?
        .flatten();
    checkpoint()?;
    let social = if opts.channels.contains(&Channel::Social) {
        social::compose(&ctx)
    } else {
        Vec::new()
    };
    checkpoint()?;
    Ok(Bundle {
        as_of: opts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        document: DocumentSummary {
            title: doc.title.clone(),
            format: doc.format.as_str(),
            items: doc.item_count(),
            sections: doc.sections.len(),
            content_hash: content_hash(doc),
        },
        newsletter,
        web,
        social,
    })
}
