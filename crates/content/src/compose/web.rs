//! The website post: Markdown and HTML bodies with a table of contents, and the search
//! metadata that goes with them.

use super::sections::{Plan, default_heading};
use super::{Context, html, seo};
use crate::model::{Category, Channel};
use crate::templates::{TemplateError, Templates};
use crate::text::{plain_paragraph, slugify, truncate_words, word_count};
use crate::tone::{self, Target, Tone};
use minijinja::Value;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct TocEntry {
    pub title: String,
    pub anchor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebPost {
    pub title: String,
    pub slug: String,
    pub url: String,
    pub tone: Tone,
    pub excerpt: String,
    pub meta_description: String,
    pub tags: Vec<String>,
    pub word_count: usize,
    pub reading_time_minutes: usize,
    pub table_of_contents: Vec<TocEntry>,
    pub markdown: String,
    /// The article body only.
    pub body_html: String,
    /// A complete standalone page (head metadata, JSON-LD, article).
    pub html: String,
    pub json_ld: serde_json::Value,
    pub seo: seo::SeoReport,
}

#[derive(Debug, Serialize)]
struct MdItem {
    title: String,
    /// The heading attribute that fixes its anchor (`{#anchor}`), which the newsletter's
    /// "read more" links point to.
    anchor_attr: String,
    date: Option<String>,
    body_markdown: String,
}

#[derive(Debug, Serialize)]
struct MdSection {
    heading: String,
    anchor: String,
    blurb: &'static str,
    items: Vec<MdItem>,
}

#[derive(Debug, Serialize)]
struct MdVision {
    heading: &'static str,
    text: String,
}

#[derive(Debug, Serialize)]
struct MdView<'a> {
    title: &'a str,
    published_date: String,
    reading_time_minutes: usize,
    intro: String,
    toc: &'a [TocEntry],
    sections: Vec<MdSection>,
    vision: Option<MdVision>,
    cta: tone::CallToAction,
    disclaimer: Option<&'static str>,
}

/// The anchor of each item's heading in the web post, by the item's position in the
/// document; unique within the page. Section, contents and vision headings keep the anchors
/// of their own words, so items take others when they share a name with one.
pub(crate) fn item_anchors(ctx: &Context<'_>) -> HashMap<usize, String> {
    let plan = Plan::for_channel(ctx.doc, Channel::Web);
    let sections = plan.sections();
    let mut used: HashSet<String> = ["Contents", default_heading(Category::Vision)]
        .into_iter()
        .chain(sections.iter().map(|g| g.title()))
        .map(html::anchor)
        .collect();
    let mut anchors = HashMap::new();
    for p in sections.iter().flat_map(|g| g.items.iter()) {
        let base = html::anchor(&plain_paragraph(&p.item.title));
        let mut id = base.clone();
        let mut n = 1;
        while used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        used.insert(id.clone());
        anchors.insert(p.order, id);
    }
    anchors
}

/// The web post's title, slug and address, which every channel links to.
pub(crate) fn address(ctx: &Context<'_>) -> (String, String, String) {
    let plan = Plan::for_channel(ctx.doc, Channel::Web);
    let title = title(ctx, &plan);
    let slug = slug(ctx, &title);
    let url = format!("{}/updates/{slug}", ctx.brand().website());
    (title, slug, url)
}

/// The first of "Brand Month Year: Lead", "Lead | Brand" and "Lead" that fits in 60
/// characters; a lead too long for any is cut at a word.
fn title(ctx: &Context<'_>, plan: &Plan<'_>) -> String {
    let base = format!("{} {}", ctx.brand().name, ctx.month_year());
    let Some(h) = plan.highlight else {
        return format!("{base} update");
    };
    let lead = plain_paragraph(&h.item.title);
    if h.content_type == crate::model::ContentType::Session {
        return truncate_words(&format!("Session summary: {lead}"), seo::TITLE_MAX);
    }
    [
        format!("{base}: {lead}"),
        format!("{lead} | {}", ctx.brand().name),
        lead.clone(),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= seo::TITLE_MAX)
    .unwrap_or_else(|| truncate_words(&lead, seo::TITLE_MAX))
}

/// The post's slug: its title, plus the month when the title does not name it, so each
/// issue gets its own address.
fn slug(ctx: &Context<'_>, title: &str) -> String {
    let month = ctx.month_year();
    let slug = if title.contains(&month) {
        slugify(title)
    } else {
        slugify(&format!("{title} {month}"))
    };
    let cut: String = slug.chars().take(90).collect();
    cut.trim_end_matches('-').to_string()
}

pub(crate) fn compose(
    ctx: &Context<'_>,
    templates: &Templates,
) -> Result<Option<WebPost>, TemplateError> {
    let Some((plan, tone)) = ctx.plan_and_tone(Channel::Web, Target::Web) else {
        return Ok(None);
    };
    let (title, slug, url) = address(ctx);

    // The highlight leads its own section.
    let sections: Vec<MdSection> = plan
        .sections()
        .iter()
        .map(|group| {
            let heading = group.title().to_string();
            MdSection {
                anchor: html::anchor(&heading),
                blurb: if group.heading.is_some() {
                    ""
                } else {
                    tone::section_blurb(tone, group.category)
                },
                items: group
                    .items
                    .iter()
                    .map(|p| MdItem {
                        title: p.item.title.trim().to_string(),
                        anchor_attr: ctx
                            .anchors
                            .get(&p.order)
                            .map(|a| format!("{{#{a}}}"))
                            .unwrap_or_default(),
                        date: ctx.shown_date(p.item),
                        body_markdown: p.item.content.trim().to_string(),
                    })
                    .collect(),
                heading,
            }
        })
        .collect();
    let vision = (!plan.vision.is_empty()).then(|| MdVision {
        heading: default_heading(Category::Vision),
        text: plan
            .vision
            .iter()
            .map(|p| p.item.content.trim())
            .collect::<Vec<_>>()
            .join("\n\n"),
    });
    let mut toc: Vec<TocEntry> = sections
        .iter()
        .map(|s| TocEntry {
            title: s.heading.clone(),
            anchor: s.anchor.clone(),
        })
        .collect();
    if let Some(v) = &vision {
        toc.push(TocEntry {
            title: v.heading.to_string(),
            anchor: html::anchor(v.heading),
        });
    }
    let words: usize = plan
        .news()
        .chain(plan.vision.iter())
        .map(|p| word_count(&plain_paragraph(&p.item.content)) + word_count(&p.item.title))
        .sum();
    let reading_time = seo::reading_time_minutes(words);
    let disclaimer = (tone == Tone::MedicalScientific).then_some(tone::MEDICAL_DISCLAIMER);
    let view = MdView {
        title: &title,
        published_date: ctx.long_date(),
        reading_time_minutes: reading_time,
        intro: tone::web_intro(tone, &ctx.brand().name, &ctx.month_year()),
        toc: &toc,
        sections,
        vision,
        cta: tone::newsletter_cta(tone, ctx.brand().website()),
        disclaimer,
    };
    let markdown = templates.render("web/post.md", &view)?;
    let body_html = html::render(&markdown);

    let lead = plan.news().next().or(plan.vision.first());
    let excerpt = lead
        .and_then(|p| p.item.paragraphs().next())
        .map(|p| seo::excerpt(&plain_paragraph(p)))
        .unwrap_or_default();
    let titles: Vec<String> = plan
        .news()
        .map(|p| plain_paragraph(&p.item.title))
        .collect();
    let meta_description = ctx
        .doc
        .flags
        .seo_description
        .clone()
        .or_else(|| {
            plan.news()
                .find_map(|p| p.item.flags.seo_description.clone())
        })
        .unwrap_or_else(|| seo::meta_description(&ctx.brand().name, &ctx.month_year(), &titles));
    let author_tags: Vec<String> = ctx
        .doc
        .flags
        .tags
        .iter()
        .chain(plan.news().flat_map(|p| p.item.flags.tags.iter()))
        .cloned()
        .collect();
    let categories: Vec<Category> = plan
        .groups
        .iter()
        .map(|g| g.category)
        .chain(plan.highlight.map(|h| h.category))
        .chain((!plan.vision.is_empty()).then_some(Category::Vision))
        .collect();
    let tags = seo::tags(&author_tags, &categories);
    let date = ctx.opts.now.format("%Y-%m-%d").to_string();
    let brand = ctx.brand();
    let json_ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": title,
        "description": meta_description,
        "datePublished": date,
        "dateModified": date,
        "url": url,
        "mainEntityOfPage": { "@type": "WebPage", "@id": url },
        "author": { "@type": "Organization", "name": brand.name, "url": brand.website() },
        "publisher": { "@type": "Organization", "name": brand.name, "url": brand.website() },
        "keywords": tags.join(", "),
        "wordCount": words,
        "articleSection": toc.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(),
    });
    let seo = seo::score(&seo::SeoInput {
        title: &title,
        meta_description: &meta_description,
        slug: &slug,
        word_count: words,
        tags: tags.len(),
        section_headings: toc.len(),
        excerpt: &excerpt,
        has_structured_data: true,
    });
    let page = templates.render(
        "web/page.html",
        minijinja::context! {
            title => &title,
            meta_description => &meta_description,
            canonical_url => &url,
            json_ld => Value::from_safe_string(seo::json_ld_for_script(&json_ld)),
            body_html => Value::from_safe_string(body_html.clone()),
            tags => &tags,
            brand => minijinja::value::Serde(brand),
            published_date_iso => &date,
            published_date => ctx.long_date(),
            reading_time_minutes => reading_time,
            disclaimer => disclaimer,
        },
    )?;
    Ok(Some(WebPost {
        title,
        slug,
        url,
        tone,
        excerpt,
        meta_description,
        tags,
        word_count: words,
        reading_time_minutes: reading_time,
        table_of_contents: toc,
        markdown,
        body_html,
        html: page,
        json_ld,
        seo,
    }))
}
