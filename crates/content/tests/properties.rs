//! Property tests: parsers never panic, and every social post fits its network for any input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use halcytone_content::model::{Category, Item, LivingDocument, Section, SourceFormat};
use halcytone_content::{ComposeOptions, SourceFormat as Format, Templates, compose, parse};
use proptest::prelude::*;

/// Lines that look like the Markdown authoring format, mixed with noise.
fn markdownish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("## [Breathscape] Updates".to_string()),
        Just("## Company mission".to_string()),
        Just("### An item".to_string()),
        Just("- **Date:** 2026-11-18".to_string()),
        Just("- **Date:** 2026-99-99".to_string()),
        Just("- **Content:** Some words here.".to_string()),
        Just("- **Title:** Better title".to_string()),
        Just("<!-- type: announcement; featured: yes; priority: 7 -->".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("```".to_string()),
        Just(String::new()),
        "\\PC{0,80}",
    ];
    prop::collection::vec(line, 0..60).prop_map(|lines| lines.join("\n"))
}

fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>()
            .prop_map(|s| format!("{{\"categories\": {{\"tips\": [{{\"title\": {s:?}}}]}}}}")),
        "\\{[\\PC]{0,200}",
        Just("{\"categories\": []}".to_string()),
        Just("{\"tips\": [1, \"x\", {\"title\": 3, \"priority\": [1]}]}".to_string()),
        Just("[]".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in any::<String>()) {
        for format in [None, Some(Format::Markdown), Some(Format::Json), Some(Format::Freeform)] {
            let _ = parse(&text, format);
        }
    }

    #[test]
    fn parsers_never_panic_on_document_like_text(md in markdownish(), json in jsonish()) {
        let _ = parse(&md, None);
        let _ = parse(&md, Some(Format::Freeform));
        let _ = parse(&json, None);
    }

    #[test]
    fn composing_any_parsed_markdown_never_panics(md in markdownish()) {
        if let Ok(doc) = parse(&md, None) {
            let _ = compose(&doc, &ComposeOptions::new(common::now()), &Templates::defaults());
        }
    }
}

/// Text made of words, emoji, CJK, URLs and long runs — the hard cases for counting.
fn text(max_words: usize) -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => "[a-z]{1,12}",
        1 => Just("🫁".to_string()),
        1 => Just("👨‍👩‍👧".to_string()),
        1 => Just("呼吸法".to_string()),
        1 => Just("https://halcytone.com/updates/a-very-long-path-that-goes-on-and-on".to_string()),
        1 => Just("halcytone.com".to_string()),
        1 => "[A-Za-z]{30,90}",
        1 => Just("end.".to_string()),
    ];
    prop::collection::vec(word, 1..max_words).prop_map(|w| w.join(" "))
}

fn doc_from(items: Vec<(String, String, u8)>) -> LivingDocument {
    let mut doc = LivingDocument::empty(SourceFormat::Markdown);
    for (i, (title, content, cat)) in items.into_iter().enumerate() {
        let category = Category::ALL[usize::from(cat) % 4];
        let mut item = Item::new(title, content);
        item.flags.featured = Some(i == 0);
        match doc.sections.iter_mut().find(|s| s.category == category) {
            Some(s) => s.items.push(item),
            None => doc.sections.push(Section {
                heading: category.as_str().into(),
                category,
                category_explicit: true,
                line: 0,
                items: vec![item],
            }),
        }
    }
    doc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_social_post_fits_its_network(
        items in prop::collection::vec((text(40), text(700), 0u8..4), 1..10),
        tone in 0usize..4,
    ) {
        let doc = doc_from(items);
        let mut opts = ComposeOptions::new(common::now());
        opts.tone = halcytone_content::Tone::ALL.get(tone).copied();
        let bundle = compose(&doc, &opts, &Templates::defaults()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bundle.social.len(), 4);
        for post in &bundle.social {
            let spec = post.platform.spec();
            prop_assert!(!post.posts.is_empty());
            for i in 0..post.posts.len() {
                let published = post.published_text(i);
                let len = spec.length(&published);
                prop_assert!(len <= spec.max_length, "{} part {} is {} > {}: {:?}", post.platform, i + 1, len, spec.max_length, published);
                prop_assert_eq!(len, post.lengths[i]);
            }
        }
        if let Some(n) = &bundle.newsletter {
            let len = n.subject.chars().count();
            prop_assert!((10..=100).contains(&len), "subject {} chars: {:?}", len, n.subject);
            prop_assert!(n.preview_text.chars().count() <= 150);
        }
        if let Some(w) = &bundle.web {
            let len = w.meta_description.chars().count();
            prop_assert!((120..=160).contains(&len), "meta {} chars", len);
            prop_assert!(w.tags.len() <= 10);
            prop_assert!(w.seo.score <= 100);
        }
    }
}
