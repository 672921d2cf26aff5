//! Tones must change the words, not just a label.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bundle, sample};
use halcytone_content::{Platform, Tone};

#[test]
fn each_tone_writes_a_different_newsletter_and_social_posts() {
    let doc = sample();
    let bundles: Vec<_> = Tone::ALL
        .iter()
        .map(|t| bundle(&doc, Some(*t), None))
        .collect();
    for (i, a) in bundles.iter().enumerate() {
        for b in &bundles[i + 1..] {
            let (na, nb) = (a.newsletter.as_ref(), b.newsletter.as_ref());
            assert_ne!(na.map(|n| &n.text), nb.map(|n| &n.text), "newsletter text");
            assert_ne!(na.map(|n| &n.html), nb.map(|n| &n.html), "newsletter html");
            assert_ne!(na.map(|n| &n.subject), nb.map(|n| &n.subject), "subject");
            for platform in Platform::ALL {
                let pa = a
                    .social
                    .iter()
                    .find(|p| p.platform == platform)
                    .map(|p| &p.posts);
                let pb = b
                    .social
                    .iter()
                    .find(|p| p.platform == platform)
                    .map(|p| &p.posts);
                assert!(pa.is_some() && pb.is_some(), "{platform} composed");
                assert_ne!(pa, pb, "{platform} posts");
            }
        }
    }
}

#[test]
fn medical_scientific_adds_disclaimers_and_drops_emoji() {
    let b = bundle(&sample(), Some(Tone::MedicalScientific), None);
    let n = b.newsletter.unwrap_or_else(|| panic!("newsletter"));
    assert!(n.text.contains("not medical advice"), "email disclaimer");
    let w = b.web.unwrap_or_else(|| panic!("web"));
    assert!(w.markdown.contains("not medical advice"), "web disclaimer");
    for post in &b.social {
        let all = post.posts.join(" ");
        assert!(
            all.contains("not medical advice"),
            "{} disclaimer",
            post.platform
        );
        assert!(
            !all.chars()
                .any(|c| ('\u{1F300}'..='\u{1FAFF}').contains(&c)),
            "{} has emoji",
            post.platform
        );
    }
}

#[test]
fn automatic_tones_follow_the_channel() {
    let b = bundle(&sample(), None, None);
    assert_eq!(b.newsletter.map(|n| n.tone), Some(Tone::Encouraging));
    assert_eq!(b.web.map(|w| w.tone), Some(Tone::Professional));
    let tone_of = |p: Platform| b.social.iter().find(|s| s.platform == p).map(|s| s.tone);
    assert_eq!(tone_of(Platform::Linkedin), Some(Tone::Professional));
    assert_eq!(tone_of(Platform::Twitter), Some(Tone::Encouraging));
}
