//! The email newsletter: subject, preview text, HTML in a chosen layout and a text part
//! rendered from the same data.

use super::sections::{Picked, Plan, default_heading, icon};
use super::{Context, EmailTemplate};
use crate::model::{Category, Channel, ContentType, Urgency};
use crate::templates::{TemplateError, Templates};
use crate::text::{linked_paragraph, plain_paragraph, stable_hash, truncate_words};
use crate::tone::{self, Target, Tone};
use serde::Serialize;

/// Subject lines must be 10–100 characters; preview text at most 150.
pub const SUBJECT_MAX: usize = 100;
pub const PREVIEW_MAX: usize = 150;

#[derive(Debug, Clone, Serialize)]
pub struct Newsletter {
    pub subject: String,
    pub preview_text: String,
    pub template: EmailTemplate,
    pub tone: Tone,
    pub html: String,
    pub text: String,
    pub item_count: usize,
}

#[derive(Debug, Serialize)]
struct ItemView {
    title: String,
    /// Plain text, links written as `text (address)`: for the text part.
    paragraphs: Vec<String>,
    /// Inline HTML with the author's links and emphasis: for the HTML layouts (`|safe`).
    paragraphs_html: Vec<String>,
    date: Option<String>,
    /// The item's heading in the web post published with this newsletter; `None` when no
    /// web post carries it, and the layouts then leave "read more" out.
    url: Option<String>,
    badge: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct SectionView {
    key: &'static str,
    heading: String,
    blurb: &'static str,
    icon: &'static str,
    items: Vec<ItemView>,
}

#[derive(Debug, Serialize)]
struct Stat {
    value: String,
    label: &'static str,
}

#[derive(Debug, Serialize)]
struct Vision {
    heading: &'static str,
    text: String,
}

#[derive(Debug, Serialize)]
struct Issue {
    date: String,
    month_year: String,
}

#[derive(Debug, Serialize)]
struct View<'a> {
    subject: &'a str,
    preview_text: &'a str,
    template: &'static str,
    tone: &'static str,
    brand: &'a super::Brand,
    issue: Issue,
    voice: tone::NewsletterVoice,
    stats: Vec<Stat>,
    highlight: Option<ItemView>,
    sections: Vec<SectionView>,
    vision: Option<Vision>,
    cta: tone::CallToAction,
}

fn badge(p: &Picked<'_>) -> Option<&'static str> {
    if p.content_type == ContentType::Announcement {
        Some(match crate::content_type::urgency(p.item) {
            Urgency::Critical | Urgency::High => "Important announcement",
            Urgency::Medium | Urgency::Low => "Announcement",
        })
    } else if p.item.featured() {
        Some("Featured")
    } else {
        None
    }
}

fn item_view(ctx: &Context<'_>, p: &Picked<'_>) -> ItemView {
    ItemView {
        title: p.item.title.trim().to_string(),
        paragraphs: p.item.paragraphs().map(linked_paragraph).collect(),
        paragraphs_html: p.item.paragraphs().map(super::html::inline).collect(),
        date: ctx.shown_date(p.item),
        url: ctx.item_url(p.order),
        badge: badge(p),
    }
}

/// A subject from a fixed set of patterns, chosen by a hash of the document's titles so the
/// same document always gets the same subject. Always 10–100 characters.
pub(crate) fn subject(ctx: &Context<'_>, tone: Tone, plan: &Plan<'_>) -> String {
    let brand = &ctx.brand().name;
    let month = ctx.opts.now.format("%B").to_string();
    let titles: Vec<&str> = plan.news().map(|p| p.item.title.as_str()).collect();
    let lead = plan
        .highlight
        .map(|h| plain_paragraph(&h.item.title))
        .unwrap_or_else(|| format!("{month} news"));
    let patterns: [&dyn Fn(&str) -> String; 3] = match tone {
        Tone::Professional => [
            &|h| format!("{brand} {month} update: {h}"),
            &|h| format!("{h} — and more from {brand}"),
            &|h| format!("In this {month} issue: {h}"),
        ],
        Tone::Encouraging => [
            &|h| format!("Breathe in: {h}"),
            &|h| format!("{h} (and a calmer {month})"),
            &|h| format!("Something new for your breath: {h}"),
        ],
        Tone::MedicalScientific => [
            &|h| format!("{brand} bulletin, {month}: {h}"),
            &|h| format!("{month} research and product notes: {h}"),
            &|h| format!("Evidence and updates: {h}"),
        ],
    };
    if let Some(h) = plan
        .highlight
        .filter(|h| h.content_type == ContentType::Session)
    {
        let title = truncate_words(&plain_paragraph(&h.item.title), SUBJECT_MAX - 17);
        return format!("Session summary: {title}");
    }
    let pick = (stable_hash(&titles) % patterns.len() as u64) as usize;
    let pattern = patterns[pick];
    let frame = pattern("").chars().count();
    let lead = truncate_words(&lead, SUBJECT_MAX.saturating_sub(frame));
    let mut subject = pattern(&lead);
    if subject.chars().count() < 10 {
        subject = format!("{brand} {month} newsletter");
    }
    subject
}

/// The other items' titles, as a teaser of at most 150 characters.
fn preview_text(plan: &Plan<'_>, tone: Tone) -> String {
    let titles: Vec<String> = plan
        .news()
        .skip(1)
        .map(|p| plain_paragraph(&p.item.title))
        .collect();
    let lead = match tone {
        Tone::Professional => "Also in this issue: ",
        Tone::Encouraging => "Inside: ",
        Tone::MedicalScientific => "Also reported: ",
    };
    let body = if titles.is_empty() {
        plan.highlight
            .map(|h| plain_paragraph(h.item.paragraphs().next().unwrap_or_default()))
            .unwrap_or_default()
    } else {
        titles.join(" · ")
    };
    truncate_words(&format!("{lead}{body}"), PREVIEW_MAX)
}

pub(crate) fn compose(
    ctx: &Context<'_>,
    template: EmailTemplate,
    templates: &Templates,
) -> Result<Option<Newsletter>, TemplateError> {
    let Some((plan, tone)) = ctx.plan_and_tone(Channel::Email, Target::Email) else {
        return Ok(None);
    };
    let voice = tone::newsletter_voice(
        tone,
        &ctx.brand().name,
        &ctx.month_year(),
        plan.news().count(),
    );
    let mut voice = voice;
    let mut cta = tone::newsletter_cta(tone, ctx.brand().website());
    if let Some(p) = &ctx.opts.personalization {
        if p.first_name {
            voice.greeting = tone::personal_greeting(tone);
        }
        // A text given but blank keeps the tone's own.
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        if let Some(intro) = given(&p.intro) {
            voice.intro = intro;
        }
        if let Some(text) = given(&p.cta_text) {
            cta.text = text;
        }
        if let Some(url) = given(&p.cta_url) {
            cta.url = url;
        }
    }
    let use_emoji = voice.use_emoji;
    let subject = subject(ctx, tone, &plan);
    let preview = preview_text(&plan, tone);
    let is_session = plan
        .highlight
        .is_some_and(|h| h.content_type == ContentType::Session);
    let stats: Vec<Stat> = [
        (Category::Breathscape, "app update", "app updates"),
        (Category::Hardware, "hardware note", "hardware notes"),
        (Category::Tips, "technique to try", "techniques to try"),
    ]
    .into_iter()
    .filter_map(|(c, one, many)| {
        let n = plan.count(c);
        (n > 0 && !is_session).then(|| Stat {
            value: n.to_string(),
            label: if n == 1 { one } else { many },
        })
    })
    .collect();
    // An uncategorised section keeps its own heading, with no category blurb or icon.
    let sections = plan
        .groups
        .iter()
        .map(|g| SectionView {
            key: if g.heading.is_some() {
                "section"
            } else {
                g.category.as_str()
            },
            heading: g.title().to_string(),
            blurb: if g.heading.is_some() {
                ""
            } else {
                tone::section_blurb(tone, g.category)
            },
            icon: if use_emoji && g.heading.is_none() {
                icon(g.category)
            } else {
                ""
            },
            items: g.items.iter().map(|p| item_view(ctx, p)).collect(),
        })
        .collect();
    let vision = (!plan.vision.is_empty()).then(|| Vision {
        heading: default_heading(Category::Vision),
        text: plan
            .vision
            .iter()
            .flat_map(|p| p.item.paragraphs().map(plain_paragraph))
            .collect::<Vec<_>>()
            .join(" "),
    });
    let view = View {
        subject: &subject,
        preview_text: &preview,
        template: template.as_str(),
        tone: tone.as_str(),
        brand: ctx.brand(),
        issue: Issue {
            date: ctx.long_date(),
            month_year: ctx.month_year(),
        },
        voice,
        stats,
        highlight: plan.highlight.as_ref().map(|h| item_view(ctx, h)),
        sections,
        vision,
        cta,
    };
    let html = templates.render(template.template_name(), &view)?;
    let text = templates.render(template.text_template_name(), &view)?;
    Ok(Some(Newsletter {
        subject,
        preview_text: preview,
        template,
        tone,
        html,
        text,
        item_count: plan.news().count() + plan.vision.len(),
    }))
}
