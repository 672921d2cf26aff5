//! Helpers shared by the publish crate's integration tests.

use chrono::TimeZone;
use halcytone_content::{Bundle, ComposeOptions, Templates, compose, parse};
use serde_json::Value;
use url::Url;

pub const SAMPLE: &str = include_str!("../../../../samples/living-document.md");

/// The sample document composed at a fixed time (2026-11-24 09:00 UTC).
pub fn bundle() -> Bundle {
    let doc = parse(SAMPLE, None).unwrap();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .unwrap();
    compose(&doc, &ComposeOptions::new(now), &Templates::defaults()).unwrap()
}

/// GET `path` under `url` as JSON.
pub async fn get(url: &Url, path: &str) -> Value {
    reqwest::get(url.join(path).unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
