//! Snapshot tests of generated content: every newsletter layout in every tone, the text part,
//! the web post and each network's posts. Review changes with `cargo insta review`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bundle, sample};
use halcytone_content::{EmailTemplate, Tone};

#[test]
fn newsletter_html_for_every_template_and_tone() {
    let doc = sample();
    for template in EmailTemplate::ALL {
        for tone in Tone::ALL {
            let b = bundle(&doc, Some(tone), Some(template));
            let n = b
                .newsletter
                .unwrap_or_else(|| panic!("newsletter for {template}/{tone}"));
            assert!(
                n.html.contains("</html>"),
                "{template}/{tone} is a whole document"
            );
            insta::assert_snapshot!(format!("newsletter_{template}_{tone}"), n.html);
        }
    }
}

#[test]
fn newsletter_text_and_subject_per_tone() {
    let doc = sample();
    for tone in Tone::ALL {
        let n = bundle(&doc, Some(tone), None)
            .newsletter
            .unwrap_or_else(|| panic!("newsletter"));
        let shown = format!(
            "Subject: {}\nPreview: {}\n\n{}",
            n.subject, n.preview_text, n.text
        );
        insta::assert_snapshot!(format!("newsletter_text_{tone}"), shown);
    }
}

#[test]
fn web_post_per_tone() {
    let doc = sample();
    for tone in Tone::ALL {
        let w = bundle(&doc, Some(tone), None)
            .web
            .unwrap_or_else(|| panic!("web post"));
        insta::assert_snapshot!(format!("web_markdown_{tone}"), w.markdown);
        let meta = serde_json::json!({
            "title": w.title,
            "slug": w.slug,
            "url": w.url,
            "excerpt": w.excerpt,
            "meta_description": w.meta_description,
            "tags": w.tags,
            "word_count": w.word_count,
            "reading_time_minutes": w.reading_time_minutes,
            "table_of_contents": w.table_of_contents,
            "json_ld": w.json_ld,
            "seo": w.seo,
        });
        insta::assert_json_snapshot!(format!("web_meta_{tone}"), meta);
    }
    let w = bundle(&doc, None, None)
        .web
        .unwrap_or_else(|| panic!("web post"));
    insta::assert_snapshot!("web_page_default", w.html);
}

#[test]
fn social_posts_per_platform_and_tone() {
    let doc = sample();
    for tone in Tone::ALL {
        for post in bundle(&doc, Some(tone), None).social {
            let parts: Vec<String> = (0..post.posts.len())
                .map(|i| {
                    format!(
                        "[{} of {}] length {}/{}\n{}",
                        i + 1,
                        post.posts.len(),
                        post.lengths[i],
                        post.limit,
                        post.published_text(i)
                    )
                })
                .collect();
            insta::assert_snapshot!(
                format!("social_{}_{tone}", post.platform),
                parts.join("\n\n---\n\n")
            );
        }
    }
}

/// A document as authors write them: inline links, a section whose heading names no
/// category, and an item from before the issue's period — in every layout and on every
/// channel.
#[test]
fn an_authored_document_over_every_template_and_channel() {
    let doc = halcytone_content::parse(include_str!("fixtures/authored.md"), None).unwrap();
    for template in EmailTemplate::ALL {
        let b = bundle(&doc, None, Some(template));
        let n = b.newsletter.unwrap();
        let web = b.web.unwrap();
        // The author's links: as links in HTML, as addresses in text.
        assert!(
            n.html
                .contains(r#"<a href="https://example.com/guide">session guide</a>"#),
            "{template}"
        );
        // The text part wraps lines; its words are compared with single spaces.
        let words = n.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("session guide (https://example.com/guide)"),
            "{template}"
        );
        assert!(words.contains("the team (team@example.com)"), "{template}");
        // The uncategorised section keeps its heading and its items' titles.
        assert!(n.html.contains("Community corner"), "{template}");
        assert!(
            words.to_lowercase().contains("community corner"),
            "{template}"
        );
        assert!(words.contains("Meetup in Lisbon") && words.contains("Picnic in the park"));
        // Earlier news says so, with its date.
        assert!(
            words.contains("Earlier news, September 20, 2026"),
            "{template}:\n{}",
            n.text
        );
        // Every "read more" points at a heading of the web post published with it.
        let links: Vec<&str> = n
            .text
            .split_whitespace()
            .filter(|w| w.starts_with(&format!("{}#", web.url)))
            .collect();
        assert_eq!(
            links.len(),
            5,
            "{template}: one per item but vision:\n{}",
            n.text
        );
        for link in links {
            let anchor = link.rsplit('#').next().unwrap();
            assert!(
                web.body_html.contains(&format!("id=\"{anchor}\"")),
                "{template}: no heading #{anchor} in the web post"
            );
        }
        insta::assert_snapshot!(
            format!("authored_newsletter_{template}"),
            format!("{}\n\n----- text part -----\n\n{}", n.html, n.text)
        );
    }
    let b = bundle(&doc, None, None);
    insta::assert_snapshot!("authored_web", b.web.unwrap().markdown);
    let social: Vec<String> = b
        .social
        .iter()
        .map(|post| {
            assert!(
                post.lengths.iter().all(|l| *l <= post.limit),
                "{} fits",
                post.platform
            );
            format!(
                "== {} (lengths {:?} of {})\n{}",
                post.platform,
                post.lengths,
                post.limit,
                post.posts.join("\n--\n")
            )
        })
        .collect();
    let social = social.join("\n\n");
    assert!(
        !social.contains("Strap sensor fix"),
        "round-ups leave earlier news out"
    );
    insta::assert_snapshot!("authored_social", social);
}

/// A newsletter sent without its web post links to nothing that is not published.
#[test]
fn without_a_web_post_the_newsletter_has_no_read_more() {
    let doc = halcytone_content::parse(include_str!("fixtures/authored.md"), None).unwrap();
    let mut opts = halcytone_content::ComposeOptions::new(common::now());
    opts.channels = vec![halcytone_content::Channel::Email];
    let b =
        halcytone_content::compose(&doc, &opts, &halcytone_content::Templates::defaults()).unwrap();
    let n = b.newsletter.unwrap();
    assert!(!n.text.contains("Read more"), "{}", n.text);
    assert!(!n.html.contains("/updates/"), "{}", n.html);
}
