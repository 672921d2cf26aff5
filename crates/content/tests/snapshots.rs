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
