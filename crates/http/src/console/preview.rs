//! `/ui/preview`: the configured living document in every channel before it is published —
//! the newsletter (subject, preview text, its HTML in a sandboxed iframe, the text part),
//! the web post (title, meta description against its limit, SEO score, HTML in a sandboxed
//! iframe), the social posts as each network would draw them (`halcytone_webpage::social`:
//! the brand's name and avatar, each part's length against the network's limit, and under a
//! post that links to the web post a card with that post's title, meta description and
//! domain), and every validation issue beside what it concerns, with its source line. The
//! same view shows a stored content version on the review pages (`super::reviews`).

use super::guard::Visit;
use super::page::UiError;
use super::params::{Params, href};
use super::sandboxed;
use crate::generation::{self, DocumentText, Request};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use halcytone_content::compose::newsletter::{PREVIEW_MAX, SUBJECT_MAX};
use halcytone_content::platform::LengthRule;
use halcytone_content::{
    Brand, Bundle, Channel, EmailTemplate, Issue, LivingDocument, Report, Tone,
};
use halcytone_webpage::social::{Author, Draft, LinkCard, Post, When};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

/// A web post's meta description should be 120–160 characters.
const META_MIN: usize = 120;
const META_MAX: usize = 160;

/// One validation issue as a page lists it.
#[derive(Debug, Serialize)]
pub struct IssueView {
    severity: String,
    code: &'static str,
    message: String,
    line: Option<usize>,
}

impl IssueView {
    fn of(i: &Issue) -> IssueView {
        IssueView {
            severity: i.severity.to_string(),
            code: i.code,
            message: i.message.clone(),
            line: i.location.line,
        }
    }
}

#[derive(Debug, Serialize)]
struct ItemView {
    title: String,
    line: Option<usize>,
    date: Option<String>,
    issues: Vec<IssueView>,
}

#[derive(Debug, Serialize)]
struct SectionView {
    heading: String,
    category: &'static str,
    line: Option<usize>,
    items: Vec<ItemView>,
}

#[derive(Debug, Serialize)]
struct DocumentView {
    title: Option<String>,
    format: &'static str,
    items: usize,
    sections: Vec<SectionView>,
    /// Issues of the document as a whole (or of an item no longer found).
    issues: Vec<IssueView>,
}

#[derive(Debug, Serialize)]
struct NewsletterView {
    subject: String,
    subject_length: usize,
    subject_max: usize,
    preview_text: String,
    preview_length: usize,
    preview_max: usize,
    template: &'static str,
    tone: &'static str,
    item_count: usize,
    text: String,
    src: String,
    issues: Vec<IssueView>,
}

#[derive(Debug, Serialize)]
struct SeoFactorView {
    name: &'static str,
    points: u32,
    max: u32,
    detail: String,
}

#[derive(Debug, Serialize)]
struct WebView {
    title: String,
    slug: String,
    url: String,
    tone: &'static str,
    excerpt: String,
    meta_description: String,
    meta_length: usize,
    meta_min: usize,
    meta_max: usize,
    meta_ok: bool,
    seo_score: u32,
    seo_factors: Vec<SeoFactorView>,
    tags: Vec<String>,
    reading_time: usize,
    word_count: usize,
    src: String,
    issues: Vec<IssueView>,
}

#[derive(Debug, Serialize)]
struct CardView {
    network_key: &'static str,
    kind: &'static str,
    tone: &'static str,
    /// The post as its network would draw it.
    post: Post,
    issues: Vec<IssueView>,
}

/// Everything the preview shows.
#[derive(Debug, Serialize)]
pub struct PreviewView {
    as_of: String,
    content_hash: String,
    errors: usize,
    warnings: usize,
    infos: usize,
    document: DocumentView,
    newsletter: Option<NewsletterView>,
    web: Option<WebView>,
    social: Vec<CardView>,
    /// Issues of the social channel not tied to one network.
    social_issues: Vec<IssueView>,
}

/// Where the sandboxed HTML of the newsletter and the web post is served.
#[derive(Debug, Clone)]
pub struct Frames {
    pub newsletter: String,
    pub web: String,
}

/// The document's sections and items, each with the issues that name it.
fn document_view(doc: &LivingDocument) -> DocumentView {
    let sections = doc
        .sections
        .iter()
        .map(|s| SectionView {
            heading: if s.heading.is_empty() {
                s.category.as_str().to_string()
            } else {
                s.heading.clone()
            },
            category: s.category.as_str(),
            line: (s.line > 0).then_some(s.line),
            items: s
                .items
                .iter()
                .map(|i| ItemView {
                    title: i.title.clone(),
                    line: [i.lines.start, i.lines.title].into_iter().find(|l| *l > 0),
                    date: i.date.as_ref().map(|d| d.raw.clone()),
                    issues: Vec::new(),
                })
                .collect(),
        })
        .collect();
    DocumentView {
        title: doc.title.clone(),
        format: doc.format.as_str(),
        items: doc.item_count(),
        sections,
        issues: Vec::new(),
    }
}

/// The card under a post linking to `link`: the web post's title, meta description and
/// domain when it is the web post of the same content (shown further up the page), else the
/// address's domain and path.
fn link_card(link: &str, web: Option<&halcytone_content::compose::WebPost>) -> Option<LinkCard> {
    let card = LinkCard::of(link)?;
    Some(match web.filter(|w| w.url == link) {
        Some(w) => card.page(
            w.title.clone(),
            Some(w.meta_description.clone()),
            Some("#web-heading".into()),
        ),
        None => card,
    })
}

/// Builds the view of a composed bundle, with every issue placed beside what it concerns;
/// social posts are shown as `brand`'s.
pub fn view(
    doc: &LivingDocument,
    bundle: &Bundle,
    report: &Report,
    frames: &Frames,
    brand: &Brand,
) -> PreviewView {
    let mut v = PreviewView {
        as_of: bundle.as_of.clone(),
        content_hash: bundle.document.content_hash.clone(),
        errors: report.errors,
        warnings: report.warnings,
        infos: report.infos,
        document: document_view(doc),
        newsletter: bundle.newsletter.as_ref().map(|n| NewsletterView {
            subject: n.subject.clone(),
            subject_length: n.subject.chars().count(),
            subject_max: SUBJECT_MAX,
            preview_text: n.preview_text.clone(),
            preview_length: n.preview_text.chars().count(),
            preview_max: PREVIEW_MAX,
            template: n.template.as_str(),
            tone: n.tone.as_str(),
            item_count: n.item_count,
            text: n.text.clone(),
            src: frames.newsletter.clone(),
            issues: Vec::new(),
        }),
        web: bundle.web.as_ref().map(|w| {
            let meta_length = w.meta_description.chars().count();
            WebView {
                title: w.title.clone(),
                slug: w.slug.clone(),
                url: w.url.clone(),
                tone: w.tone.as_str(),
                excerpt: w.excerpt.clone(),
                meta_description: w.meta_description.clone(),
                meta_length,
                meta_min: META_MIN,
                meta_max: META_MAX,
                meta_ok: (META_MIN..=META_MAX).contains(&meta_length),
                seo_score: w.seo.score,
                seo_factors: w
                    .seo
                    .factors
                    .iter()
                    .map(|f| SeoFactorView {
                        name: f.name,
                        points: f.points,
                        max: f.max,
                        detail: f.detail.clone(),
                    })
                    .collect(),
                tags: w.tags.clone(),
                reading_time: w.reading_time_minutes,
                word_count: w.word_count,
                src: frames.web.clone(),
                issues: Vec::new(),
            }
        }),
        social: bundle
            .social
            .iter()
            .map(|p| {
                let spec = p.platform.spec();
                let parts = (0..p.posts.len())
                    .map(|i| {
                        let length = p.lengths.get(i).copied().unwrap_or(0);
                        (p.published_text(i), length)
                    })
                    .collect();
                let post = Draft {
                    dom_id: format!("card-{}", p.platform.as_str()),
                    network_key: p.platform.as_str().to_string(),
                    network: spec.display_name.to_string(),
                    author: Author::named(&brand.name),
                    when: When::now(),
                    parts,
                    limit: Some(p.limit),
                    unit: match spec.length_rule {
                        LengthRule::Weighted => "weighted characters",
                        LengthRule::Chars => "characters",
                    },
                    link: p
                        .link
                        .as_deref()
                        .and_then(|l| link_card(l, bundle.web.as_ref())),
                    media: Vec::new(),
                }
                .post();
                CardView {
                    network_key: p.platform.as_str(),
                    kind: p.kind,
                    tone: p.tone.as_str(),
                    post,
                    issues: Vec::new(),
                }
            })
            .collect(),
        social_issues: Vec::new(),
    };
    for issue in &report.issues {
        place(&mut v, issue);
    }
    v
}

/// Puts one issue beside the channel, network or item it names; the rest go to the document.
fn place(v: &mut PreviewView, issue: &Issue) {
    let at = &issue.location;
    let shown = IssueView::of(issue);
    match at.channel.as_deref() {
        Some("email") => {
            if let Some(n) = v.newsletter.as_mut() {
                return n.issues.push(shown);
            }
        }
        Some("web") => {
            if let Some(w) = v.web.as_mut() {
                return w.issues.push(shown);
            }
        }
        Some("social") => {
            let card = at
                .platform
                .as_deref()
                .and_then(|p| v.social.iter_mut().find(|c| c.network_key == p));
            return match card {
                Some(c) => c.issues.push(shown),
                None => v.social_issues.push(shown),
            };
        }
        _ => {}
    }
    if let Some(title) = at.item.as_deref() {
        let item = v
            .document
            .sections
            .iter_mut()
            .filter(|s| {
                at.section
                    .as_deref()
                    .is_none_or(|h| h == s.heading || h == s.category)
            })
            .flat_map(|s| s.items.iter_mut())
            .find(|i| i.title == title);
        if let Some(i) = item {
            return i.issues.push(shown);
        }
    }
    v.document.issues.push(shown);
}

/// Parses, composes and validates `doc` as `req` asks, and builds the view.
pub async fn compose_view(
    state: &AppState,
    doc: &DocumentText,
    req: &Request,
    as_of: DateTime<Utc>,
    frames: &Frames,
) -> Result<PreviewView, UiError> {
    let req = Request {
        validate: true,
        ..req.clone()
    };
    let made = generation::produce(state, doc, &req, as_of).await?;
    Ok(view(
        &made.document,
        &made.bundle,
        &made.report.unwrap_or_default(),
        frames,
        &state.brand,
    ))
}

/// The HTML of one channel (newsletter or web post) of `doc`, for its sandboxed frame.
pub async fn channel_html(
    state: &AppState,
    doc: &DocumentText,
    req: &Request,
    as_of: DateTime<Utc>,
    channel: Channel,
) -> Result<Response, UiError> {
    let req = Request {
        channels: vec![channel],
        validate: false,
        ..req.clone()
    };
    let bundle = generation::produce(state, doc, &req, as_of).await?.bundle;
    let html = match channel {
        Channel::Email => bundle.newsletter.map(|n| n.html),
        Channel::Web => bundle.web.map(|w| w.html),
        Channel::Social => None,
    };
    html.map(sandboxed).ok_or_else(|| {
        UiError::not_found(format!(
            "This content has no {} to show.",
            match channel {
                Channel::Email => "newsletter",
                _ => "web post",
            }
        ))
    })
}

/// The tone and template a preview asks for (a bad value is a 400 page naming it).
#[derive(Debug, Clone, Copy, Default)]
struct Choice {
    tone: Option<Tone>,
    template: Option<EmailTemplate>,
}

impl Choice {
    fn read(params: &Params) -> Result<Choice, UiError> {
        let tones = Tone::ALL.map(Tone::as_str);
        let templates = EmailTemplate::ALL.map(EmailTemplate::as_str);
        let tone = params.choice("tone", &tones)?;
        let template = params.choice("template_style", &templates)?;
        Ok(Choice {
            tone: tone.and_then(|t| t.parse().ok()),
            template: template.and_then(|t| t.parse().ok()),
        })
    }

    fn request(self) -> Request {
        Request {
            tone: self.tone,
            template: self.template,
            ..Request::default()
        }
    }

    /// `path` with this choice in its query.
    fn link(self, path: &str) -> String {
        href(
            path,
            &[
                ("tone", self.tone.map(Tone::as_str)),
                ("template_style", self.template.map(EmailTemplate::as_str)),
            ],
        )
    }
}

/// `GET /ui/preview?tone=…&template_style=…`.
pub async fn page(State(state): State<AppState>, visit: Visit) -> Result<Response, UiError> {
    let choice = Choice::read(&visit.params)?;
    let doc = crate::documents::configured(&state).await?;
    let frames = Frames {
        newsletter: choice.link("/ui/preview/newsletter.html"),
        web: choice.link("/ui/preview/web.html"),
    };
    let preview = compose_view(
        &state,
        &doc,
        &choice.request(),
        generation::today(),
        &frames,
    )
    .await?;
    let ctx = context! {
        preview => Serde(&preview),
        source => doc.label,
        tones => Tone::ALL.map(Tone::as_str),
        templates => EmailTemplate::ALL.map(EmailTemplate::as_str),
        tone => choice.tone.map(Tone::as_str),
        template_style => choice.template.map(EmailTemplate::as_str),
    };
    visit.html("preview.html", "preview", "Preview", ctx)
}

async fn configured_html(
    state: &AppState,
    params: &Params,
    channel: Channel,
) -> Result<Response, UiError> {
    let choice = Choice::read(params)?;
    let doc = crate::documents::configured(state).await?;
    channel_html(state, &doc, &choice.request(), generation::today(), channel).await
}

/// `GET /ui/preview/newsletter.html`: the newsletter's HTML alone, sandboxed.
pub async fn newsletter_html(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, UiError> {
    configured_html(&state, &params, Channel::Email).await
}

/// `GET /ui/preview/web.html`: the web post's page alone, sandboxed.
pub async fn web_html(State(state): State<AppState>, params: Params) -> Result<Response, UiError> {
    configured_html(&state, &params, Channel::Web).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use halcytone_content::{ComposeOptions, Templates};

    const SAMPLE: &str = include_str!("../../../../samples/living-document.md");

    /// The sample document composed on a fixed day, and its preview.
    fn composed() -> (LivingDocument, Bundle, Report) {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
        let doc = halcytone_content::parse(SAMPLE, None).unwrap();
        let bundle =
            halcytone_content::compose(&doc, &ComposeOptions::new(now), &Templates::defaults())
                .unwrap();
        let report = halcytone_content::validate(&doc, Some(&bundle), now);
        (doc, bundle, report)
    }

    /// The social section of the preview of `bundle`, as the page shows it.
    fn social_html(doc: &LivingDocument, bundle: &Bundle, report: &Report) -> String {
        let frames = Frames {
            newsletter: "/ui/preview/newsletter.html".into(),
            web: "/ui/preview/web.html".into(),
        };
        let preview = view(doc, bundle, report, &frames, &Brand::default());
        super::super::page::render(
            "social_cards.html",
            "preview",
            "Preview",
            None,
            &Default::default(),
            context! { preview => Serde(&preview) },
        )
        .unwrap()
    }

    #[test]
    fn every_network_draws_its_card_with_the_web_post_as_its_link_card() {
        let (doc, bundle, report) = composed();
        let html = social_html(&doc, &bundle, &report);
        for network in ["twitter", "linkedin", "facebook", "instagram"] {
            assert!(
                html.contains(&format!("card social-card card-{network}")),
                "{network}: {html}"
            );
        }
        let web = bundle.web.as_ref().unwrap();
        let title = format!(
            "<p class=\"link-card-title\"><a href=\"#web-heading\">{}</a></p>",
            web.title
        );
        assert!(html.contains(&title), "{title}\n{html}");
        assert!(html.contains(&web.meta_description), "{html}");
        assert!(html.contains("<p class=\"link-card-domain\">halcytone.com</p>"));
        assert!(html.contains("<strong class=\"post-name\">Halcytone</strong>"));
        assert!(!html.contains("over by"), "{html}");
        insta::assert_snapshot!(html);
    }

    #[test]
    fn a_post_over_its_limit_says_by_how_much() {
        let (doc, mut bundle, report) = composed();
        let x = bundle
            .social
            .iter_mut()
            .find(|p| p.platform == halcytone_content::Platform::Twitter)
            .unwrap();
        x.lengths[0] = x.limit + 17;
        let html = social_html(&doc, &bundle, &report);
        assert!(html.contains("over by 17"), "{html}");
        assert!(html.contains("<span class=\"badge badge-bad\">over limit</span>"));
        assert_eq!(html.matches("over by").count(), 1);
    }

    #[test]
    fn hostile_post_text_is_escaped_and_never_linked() {
        let (doc, mut bundle, report) = composed();
        let linkedin = bundle
            .social
            .iter_mut()
            .find(|p| p.platform == halcytone_content::Platform::Linkedin)
            .unwrap();
        linkedin.posts[0] =
            "<script>window.pwned=1</script> tap javascript:alert(1) or <a href=\"javascript:alert(2)\">here</a>".into();
        linkedin.link = Some("javascript:alert(3)".into());
        let html = social_html(&doc, &bundle, &report);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<a href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(
            html.contains(
                "&lt;script&gt;window.pwned=1&lt;&#x2f;script&gt; tap javascript:alert(1)"
            ),
            "{html}"
        );
        let card = html.split("card-linkedin").nth(1).unwrap();
        let card = card.split("</article>").next().unwrap();
        assert!(
            !card.contains("link-card"),
            "no card for a javascript: link: {card}"
        );
    }
}
