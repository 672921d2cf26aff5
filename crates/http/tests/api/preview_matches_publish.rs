//! One compose path: what a preview shows is what a dry-run publish sends. The newsletter
//! HTML of `preview_only` is compared byte for byte with the HTML the mock CRM captured for
//! the same document published as a job; the only differences allowed are the CRM's own
//! per-recipient merge fields, which it fills in at send time and which are named here.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

/// Merge tags the CRM fills per recipient (the newsletter carries them as written).
const MERGE_FIELDS: [&str; 2] = ["*|FIRST_NAME|*", "*|UNSUB|*"];

both_backends!(
    a_preview_is_byte_identical_to_what_the_crm_captures,
    |app: TestApp| async move {
        let preview = app
            .post(
                "/api/v2/generate-content",
                None,
                // The preview of this send: the email channel only, so "read more" links are
                // left out in both (no web post goes with it).
                r#"{"preview_only":true,"publish_web":false,"generate_social":false,"template_style":"minimal","tone":"encouraging"}"#,
            )
            .await;
        assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
        let shown = preview.body["newsletter"]["html"]
            .as_str()
            .expect("a preview carries the newsletter HTML")
            .to_string();
        let subject = preview.body["newsletter"]["subject"].clone();
        app.publish(r#"{"channels":["email"],"template_style":"minimal","tone":"encouraging"}"#)
            .await;
        let emails = app.captures(&app.crm, "email").await;
        assert!(!emails.is_empty(), "the CRM captured the send");
        for e in &emails {
            let sent = captured_html(e);
            assert_eq!(
                e["subject"], subject,
                "the subject a preview shows is the subject sent"
            );
            if sent != shown {
                let at = sent
                    .bytes()
                    .zip(shown.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(sent.len().min(shown.len()));
                let around = |s: &str| s[at.saturating_sub(80)..(at + 80).min(s.len())].to_string();
                panic!(
                    "preview and capture differ at byte {at} (merge fields allowed: {MERGE_FIELDS:?})\n  preview: {:?}\n  sent:    {:?}",
                    around(&shown),
                    around(&sent)
                );
            }
        }
    }
);

/// The HTML a capture holds: the request body the CRM received.
fn captured_html(capture: &Value) -> String {
    capture["request"]["html_content"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no request.html_content in the capture {}", capture["id"]))
}
