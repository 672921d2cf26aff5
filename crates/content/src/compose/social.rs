//! Social posts for X, LinkedIn, Facebook and Instagram: text within each network's limit,
//! hashtags in their own field, and an X thread of numbered posts when one post is not enough.

use super::Context;
use super::sections::{Picked, Plan, icon};
use crate::model::{Category, Channel, Item};
use crate::platform::{Platform, PlatformSpec};
use crate::social::thread;
use crate::text::{first_sentence, linked_paragraph, plain_paragraph, sentences, truncate_words};
use crate::tone::{self, Target, Tone};
use serde::Serialize;

/// Most news items an X thread or a LinkedIn list walks through.
const MAX_LISTED: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct SocialPost {
    pub platform: Platform,
    pub tone: Tone,
    /// "post", or "thread" when `posts` holds several numbered parts.
    pub kind: &'static str,
    /// Each part's text, without hashtags.
    pub posts: Vec<String>,
    /// Attached to the first part when published.
    pub hashtags: Vec<String>,
    /// Each part's length as the network counts it, hashtags included.
    pub lengths: Vec<usize>,
    pub limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl SocialPost {
    /// What part `index` looks like when published: the text, and the hashtags on the first part.
    pub fn published_text(&self, index: usize) -> String {
        let text = self
            .posts
            .get(index)
            .map(String::as_str)
            .unwrap_or_default();
        with_hashtags(text, if index == 0 { &self.hashtags } else { &[] })
    }

    pub fn is_thread(&self) -> bool {
        self.posts.len() > 1
    }
}

fn with_hashtags(text: &str, hashtags: &[String]) -> String {
    if hashtags.is_empty() {
        text.to_string()
    } else {
        format!("{text}\n\n{}", hashtags.join(" "))
    }
}

/// The separator-and-hashtags budget a first post must leave free.
fn hashtag_reserve(spec: &PlatformSpec, hashtags: &[String]) -> usize {
    if hashtags.is_empty() {
        0
    } else {
        spec.length(&format!("\n\n{}", hashtags.join(" ")))
    }
}

fn category_hashtags(category: Category) -> &'static [&'static str] {
    match category {
        Category::Breathscape => &[
            "#Breathscape",
            "#BreathingApp",
            "#DigitalWellbeing",
            "#Mindfulness",
        ],
        Category::Hardware => &[
            "#WearableTech",
            "#HealthTech",
            "#HardwareDesign",
            "#Sensors",
        ],
        Category::Tips => &[
            "#Breathwork",
            "#BreathingExercise",
            "#StressRelief",
            "#Calm",
        ],
        Category::Vision => &["#TechForGood", "#Wellbeing", "#FutureOfHealth"],
    }
}

fn tone_hashtags(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Professional => &["#ProductUpdate"],
        Tone::Encouraging => &["#SelfCare"],
        Tone::MedicalScientific => &["#HRV", "#BreathingResearch"],
    }
}

/// The brand tag, the lead item's category tags, the tone's, then other categories'.
fn hashtags(spec: &PlatformSpec, tone: Tone, lead: Category, others: &[Category]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let candidates = std::iter::once("#Halcytone")
        .chain(category_hashtags(lead).iter().take(2).copied())
        .chain(tone_hashtags(tone).iter().copied())
        .chain(category_hashtags(lead).iter().skip(2).copied())
        .chain(
            others
                .iter()
                .flat_map(|c| category_hashtags(*c).iter().copied()),
        );
    for tag in candidates {
        if tags.len() >= spec.hashtags {
            break;
        }
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

fn bullet(tone: Tone, platform: Platform, category: Category) -> String {
    if tone::allows_emoji(tone, Target::Social(platform)) {
        format!("{} ", icon(category))
    } else {
        "• ".to_string()
    }
}

/// An item's first paragraph as plain text, the author's links written out as addresses.
fn summary(p: &Picked<'_>) -> String {
    linked_paragraph(p.item.paragraphs().next().unwrap_or_default())
}

pub(crate) fn compose(ctx: &Context<'_>) -> Vec<SocialPost> {
    let mut plan = Plan::for_channel(ctx.doc, Channel::Social);
    // Round-ups speak of this period: earlier news is left out of them (not out of the lead).
    for group in &mut plan.groups {
        group.items.retain(|p| !p.item.is_earlier(ctx.opts.now));
    }
    plan.groups.retain(|g| !g.items.is_empty());
    let Some(lead) = plan.news().next().or(plan.vision.first()).copied() else {
        return Vec::new();
    };
    let others: Vec<Category> = plan.groups.iter().map(|g| g.category).collect();
    ctx.opts
        .platforms
        .iter()
        .map(|&platform| {
            let tone = ctx.tone(Target::Social(platform));
            let spec = platform.spec();
            let source = match platform {
                Platform::Instagram => plan
                    .news()
                    .find(|p| p.category == Category::Tips)
                    .copied()
                    .unwrap_or(lead),
                _ => lead,
            };
            let tags = hashtags(spec, tone, source.category, &others);
            let link = ctx.post_url.to_string();
            let posts = match platform {
                Platform::Twitter => x_posts(&plan, tone, &lead, &link, &tags),
                Platform::Linkedin => vec![linkedin(&plan, tone, &lead, &link, &tags)],
                Platform::Facebook => vec![facebook(&plan, tone, &lead, &link, &tags)],
                Platform::Instagram => vec![instagram(tone, &source, &tags)],
            };
            let lengths = posts
                .iter()
                .enumerate()
                .map(|(i, p)| spec.length(&with_hashtags(p, if i == 0 { &tags } else { &[] })))
                .collect();
            SocialPost {
                platform,
                tone,
                kind: if posts.len() > 1 { "thread" } else { "post" },
                posts,
                hashtags: tags,
                lengths,
                limit: spec.max_length,
                link: spec.links_clickable.then_some(link),
            }
        })
        .collect()
}

/// The call to action and the post's address, which ends the post: a disclaimer comes
/// before it, so no sentence runs on after the address.
fn closing(tone: Tone, platform: Platform, link: &str) -> String {
    let cta = tone::social_cta(tone, platform);
    let mut s = String::new();
    if tone == Tone::MedicalScientific {
        s.push_str(tone::MEDICAL_DISCLAIMER_SHORT);
        s.push(' ');
    }
    s.push_str(cta);
    if !link.is_empty() {
        s.push(' ');
        s.push_str(link);
    }
    s
}

/// A single post when the round-up fits; otherwise a numbered thread.
fn x_posts(
    plan: &Plan<'_>,
    tone: Tone,
    lead: &Picked<'_>,
    link: &str,
    tags: &[String],
) -> Vec<String> {
    let spec = Platform::Twitter.spec();
    let emoji = tone::allows_emoji(tone, Target::Social(Platform::Twitter));
    let mut segments = vec![format!(
        "{} {}\n\n{}",
        tone::social_opener(tone, emoji),
        plain_paragraph(&lead.item.title),
        first_sentence(&summary(lead))
    )];
    for p in plan.news().skip(1).take(MAX_LISTED) {
        segments.push(format!(
            "{}{}: {}",
            bullet(tone, Platform::Twitter, p.category),
            plain_paragraph(&p.item.title),
            first_sentence(&summary(p))
        ));
    }
    segments.push(closing(tone, Platform::Twitter, link));
    let reserve = hashtag_reserve(spec, tags);
    let single = segments.join("\n\n");
    if spec.length(&single) + reserve <= spec.max_length {
        return vec![single];
    }
    thread::split(&segments, spec.max_length, reserve)
}

/// An item's paragraphs as plain text, joined by `separator`; with `links`, the author's
/// links are written out as addresses (where the network makes them clickable).
fn plain_text(item: &Item, separator: &str, links: bool) -> String {
    item.paragraphs()
        .map(|p| {
            if links {
                linked_paragraph(p)
            } else {
                plain_paragraph(p)
            }
        })
        .collect::<Vec<_>>()
        .join(separator)
}

fn linkedin(plan: &Plan<'_>, tone: Tone, lead: &Picked<'_>, link: &str, tags: &[String]) -> String {
    let spec = Platform::Linkedin.spec();
    let body = plain_text(lead.item, "\n\n", true);
    let mut list = String::new();
    for p in plan.news().skip(1).take(MAX_LISTED) {
        list.push_str(&format!(
            "{}{} — {}\n",
            bullet(tone, Platform::Linkedin, p.category),
            plain_paragraph(&p.item.title),
            first_sentence(&summary(p))
        ));
    }
    let also = match tone {
        Tone::Professional => "Also in this update:",
        Tone::Encouraging => "More good things this month:",
        Tone::MedicalScientific => "Further items in this report:",
    };
    let head = format!(
        "{}\n\n{}",
        tone::social_opener(tone, false),
        plain_paragraph(&lead.item.title)
    );
    let tail = format!(
        "{}{}",
        if list.is_empty() {
            String::new()
        } else {
            format!("{also}\n{list}\n")
        },
        closing(tone, Platform::Linkedin, link)
    );
    fit_body(spec, &head, &body, &tail, tags)
}

fn facebook(plan: &Plan<'_>, tone: Tone, lead: &Picked<'_>, link: &str, tags: &[String]) -> String {
    let spec = Platform::Facebook.spec();
    let emoji = tone::allows_emoji(tone, Target::Social(Platform::Facebook));
    let greeting = match tone {
        Tone::Professional => "Here is what is new at Halcytone this month.",
        Tone::Encouraging if emoji => {
            "Hello, breathing community! 👋 Here is what we made for you this month."
        }
        Tone::Encouraging => "Hello, breathing community! Here is what we made for you this month.",
        Tone::MedicalScientific => "This month's Halcytone developments, in brief.",
    };
    let mut list = String::new();
    for p in plan.news().take(MAX_LISTED) {
        let mark = if emoji { "✅ " } else { "• " };
        list.push_str(&format!("{mark}{}\n", plain_paragraph(&p.item.title)));
    }
    let head = format!("{greeting}\n\n{}", list.trim_end());
    let body = summary(lead);
    let tail = format!(
        "{}\n\n{}",
        tone::social_question(tone),
        closing(tone, Platform::Facebook, link)
    );
    fit_body(spec, &head, &body, &tail, tags)
}

fn instagram(tone: Tone, source: &Picked<'_>, tags: &[String]) -> String {
    let spec = Platform::Instagram.spec();
    let emoji = tone::allows_emoji(tone, Target::Social(Platform::Instagram));
    let head = format!(
        "{}{}",
        if emoji {
            format!("{} ", icon(source.category))
        } else {
            String::new()
        },
        plain_paragraph(&source.item.title)
    );
    let text = plain_text(source.item, " ", false);
    let steps: Vec<String> = sentences(&text)
        .into_iter()
        .take(MAX_LISTED)
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    let save = match tone {
        Tone::Professional => "Save this post for reference.",
        Tone::Encouraging if emoji => {
            "Save this for your next pause 📌 and share it with someone who needs a breather."
        }
        Tone::Encouraging => {
            "Save this for your next pause and share it with someone who needs a breather."
        }
        Tone::MedicalScientific => "Save for reference. Stop if you feel dizzy or short of breath.",
    };
    let tail = format!("{save}\n\n{}", closing(tone, Platform::Instagram, ""));
    fit_body(spec, &head, &steps.join("\n"), &tail, tags)
}

/// `head`, `body` and `tail` joined by blank lines; only the body is shortened to fit.
fn fit_body(spec: &PlatformSpec, head: &str, body: &str, tail: &str, tags: &[String]) -> String {
    let join = |b: &str| {
        [head, b, tail]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim_end())
            .collect::<Vec<_>>()
            .join("\n\n")
    };
    let budget = spec.max_length.saturating_sub(hashtag_reserve(spec, tags));
    let full = join(body);
    if spec.length(&full) <= budget {
        return full;
    }
    let fixed = spec.length(&join(""));
    let room = budget.saturating_sub(fixed + 2);
    let shortened = join(&truncate_words(body, room));
    if spec.length(&shortened) <= budget {
        shortened
    } else {
        truncate_words(&shortened, budget)
    }
}
