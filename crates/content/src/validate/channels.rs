//! Checks each channel's composed content the way its publisher would before sending.

use super::{Issue, Location, Severity, has_phrase};
use crate::compose::seo::{META_MAX, META_MIN, TITLE_MAX as SEO_TITLE_MAX};
use crate::compose::{Bundle, Newsletter, SocialPost, WebPost};
use crate::platform::Platform;

pub const SUBJECT_MIN: usize = 10;
pub const SUBJECT_MAX: usize = 100;
pub const PREVIEW_MAX: usize = 150;
pub const HTML_MAX: usize = 500_000;
pub const TEXT_MIN: usize = 50;
pub const WEB_TITLE_MAX: usize = 200;
pub const WEB_BODY_MAX: usize = 100_000;
pub const EXCERPT_MAX: usize = 500;
pub const SLUG_MAX: usize = 100;
pub const TAGS_MAX: usize = 10;
const SPAM_SUBJECT: [&str; 6] = [
    "free",
    "urgent",
    "act now",
    "limited time",
    "click here",
    "!!!",
];
const CASUAL_WORDS: [&str; 4] = ["lol", "omg", "wtf", "tbh"];

fn at_channel(channel: &str) -> Location {
    Location {
        channel: Some(channel.to_string()),
        ..Location::default()
    }
}

pub fn check(bundle: &Bundle) -> Vec<Issue> {
    let mut issues = Vec::new();
    if let Some(n) = &bundle.newsletter {
        email(n, &mut issues);
    }
    if let Some(w) = &bundle.web {
        web(w, &mut issues);
    }
    for post in &bundle.social {
        social(post, &mut issues);
    }
    issues
}

fn email(n: &Newsletter, issues: &mut Vec<Issue>) {
    let mut push =
        |s, code, msg: String| issues.push(Issue::new(s, code, msg, at_channel("email")));
    let len = n.subject.chars().count();
    if n.subject.trim().is_empty() {
        push(
            Severity::Error,
            "subject_missing",
            "newsletter subject is empty".into(),
        );
    } else if len > SUBJECT_MAX {
        push(
            Severity::Error,
            "subject_too_long",
            format!("subject is {len} characters; the limit is {SUBJECT_MAX}"),
        );
    } else if len < SUBJECT_MIN {
        push(
            Severity::Warning,
            "subject_too_short",
            format!("subject is {len} characters; use at least {SUBJECT_MIN}"),
        );
    }
    let lower = n.subject.to_lowercase();
    for word in SPAM_SUBJECT {
        let hit = if word.chars().all(char::is_alphanumeric) || word.contains(' ') {
            has_phrase(&lower, word)
        } else {
            lower.contains(word)
        };
        if hit {
            push(
                Severity::Warning,
                "spam_risk",
                format!("subject contains '{word}', which spam filters penalise"),
            );
        }
    }
    if n.preview_text.chars().count() > PREVIEW_MAX {
        push(
            Severity::Warning,
            "preview_too_long",
            format!("preview text is over {PREVIEW_MAX} characters"),
        );
    }
    if n.html.trim().is_empty() {
        push(
            Severity::Error,
            "html_missing",
            "newsletter HTML is empty".into(),
        );
    } else if n.html.len() > HTML_MAX {
        push(
            Severity::Error,
            "html_too_large",
            format!(
                "newsletter HTML is {} bytes; mail clients clip over {HTML_MAX}",
                n.html.len()
            ),
        );
    }
    let text_len = n.text.trim().chars().count();
    if text_len == 0 {
        push(
            Severity::Warning,
            "text_missing",
            "a plain-text part improves deliverability".into(),
        );
    } else if text_len < TEXT_MIN {
        push(
            Severity::Warning,
            "text_too_short",
            format!("plain-text part is only {text_len} characters"),
        );
    }
}

fn web(w: &WebPost, issues: &mut Vec<Issue>) {
    let mut push = |s, code, msg: String| issues.push(Issue::new(s, code, msg, at_channel("web")));
    let title_len = w.title.chars().count();
    if w.title.trim().is_empty() {
        push(
            Severity::Error,
            "title_missing",
            "web post title is empty".into(),
        );
    } else if title_len > WEB_TITLE_MAX {
        push(
            Severity::Error,
            "title_too_long",
            format!("web title is {title_len} characters; the limit is {WEB_TITLE_MAX}"),
        );
    } else if title_len > SEO_TITLE_MAX {
        push(
            Severity::Info,
            "seo_title_length",
            format!(
                "web title is {title_len} characters; search results show about {SEO_TITLE_MAX}"
            ),
        );
    }
    if w.markdown.trim().is_empty() {
        push(
            Severity::Error,
            "body_missing",
            "web post body is empty".into(),
        );
    } else if w.markdown.len() > WEB_BODY_MAX {
        push(
            Severity::Error,
            "body_too_long",
            format!("web post body is over {WEB_BODY_MAX} characters"),
        );
    }
    let excerpt = w.excerpt.chars().count();
    if excerpt == 0 {
        push(
            Severity::Warning,
            "excerpt_missing",
            "an excerpt is recommended for search and link previews".into(),
        );
    } else if excerpt > EXCERPT_MAX {
        push(
            Severity::Error,
            "excerpt_too_long",
            format!("excerpt is {excerpt} characters; the limit is {EXCERPT_MAX}"),
        );
    }
    if w.slug.len() > SLUG_MAX {
        push(
            Severity::Error,
            "slug_too_long",
            format!(
                "slug is {} characters; the limit is {SLUG_MAX}",
                w.slug.len()
            ),
        );
    }
    if !w
        .slug
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_/".contains(c))
    {
        push(
            Severity::Warning,
            "slug_characters",
            "slug should hold only letters, digits, '-', '_' and '/'".into(),
        );
    }
    if w.tags.len() > TAGS_MAX {
        push(
            Severity::Warning,
            "too_many_tags",
            format!("{} tags; at most {TAGS_MAX}", w.tags.len()),
        );
    }
    let meta = w.meta_description.chars().count();
    if !(META_MIN..=META_MAX).contains(&meta) {
        push(
            Severity::Warning,
            "meta_description_length",
            format!(
                "meta description is {meta} characters; search engines show {META_MIN}–{META_MAX}"
            ),
        );
    }
}

fn social(post: &SocialPost, issues: &mut Vec<Issue>) {
    let spec = post.platform.spec();
    let mut push = |s, code, msg: String| {
        issues.push(Issue::new(
            s,
            code,
            msg,
            Location {
                channel: Some("social".into()),
                platform: Some(post.platform.as_str().into()),
                ..Location::default()
            },
        ));
    };
    if post.posts.iter().all(|p| p.trim().is_empty()) {
        push(
            Severity::Error,
            "post_empty",
            format!("{} post is empty", spec.display_name),
        );
    }
    for i in 0..post.posts.len() {
        let len = spec.length(&post.published_text(i));
        if len > spec.max_length {
            push(
                Severity::Error,
                "post_too_long",
                format!(
                    "{} post {} is {len} characters; the limit is {}",
                    spec.display_name,
                    i + 1,
                    spec.max_length
                ),
            );
        }
    }
    if post.hashtags.len() > spec.max_hashtags {
        push(
            Severity::Warning,
            "too_many_hashtags",
            format!(
                "{} hashtags; {} allows {} before reach drops",
                post.hashtags.len(),
                spec.display_name,
                spec.max_hashtags
            ),
        );
    }
    for tag in &post.hashtags {
        let ok = tag
            .strip_prefix('#')
            .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if !ok {
            push(
                Severity::Warning,
                "hashtag_format",
                format!(
                    "hashtag '{tag}' must start with '#' and hold only letters, digits and '_'"
                ),
            );
        }
    }
    let all = post.posts.join("\n").to_lowercase();
    match post.platform {
        Platform::Linkedin => {
            if let Some(w) = CASUAL_WORDS.iter().find(|w| has_phrase(&all, w)) {
                push(
                    Severity::Warning,
                    "tone_warning",
                    format!("'{w}' is too casual for LinkedIn"),
                );
            }
        }
        Platform::Twitter => {
            if has_phrase(&all, "twitter") || has_phrase(&all, "tweet") {
                push(
                    Severity::Info,
                    "platform_specific",
                    "the post names the platform; the network is called X now".into(),
                );
            }
        }
        Platform::Facebook => {
            if !all.contains('?') {
                push(
                    Severity::Info,
                    "engagement_tip",
                    "a question invites comments on Facebook".into(),
                );
            }
        }
        Platform::Instagram => {
            push(
                Severity::Info,
                "visual_recommendation",
                "Instagram posts need an image or video; attach one when publishing".into(),
            );
        }
    }
}
