//! Shared fixtures for the content crate's integration tests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use halcytone_content::{
    Bundle, ComposeOptions, EmailTemplate, LivingDocument, Templates, Tone, compose, parse,
};

pub const SAMPLE: &str = include_str!("../../../samples/living-document.md");

/// The fixed reference time every snapshot is rendered at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

pub fn sample() -> LivingDocument {
    parse(SAMPLE, None).unwrap_or_else(|e| panic!("sample must parse: {e}"))
}

pub fn bundle(doc: &LivingDocument, tone: Option<Tone>, template: Option<EmailTemplate>) -> Bundle {
    let mut opts = ComposeOptions::new(now());
    opts.tone = tone;
    opts.template = template;
    compose(doc, &opts, &Templates::defaults()).unwrap_or_else(|e| panic!("compose: {e}"))
}
