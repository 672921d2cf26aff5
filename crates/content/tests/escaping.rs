//! Text from a living document never reaches HTML unescaped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::bundle;
use halcytone_content::{EmailTemplate, Tone, parse};

const HOSTILE: &str = "## [Breathscape] Recent Updates\n\n### Release <script>alert(1)</script> notes\n<!-- featured: true -->\n- **Date:** 2026-11-20\n- **Content:** Details inside <img src=x onerror=alert(2)> and a [click](javascript:alert(3)) link.\n\n### Second item\n- **Content:** A calm and ordinary second item with enough words.\n";

#[test]
fn script_in_a_title_is_escaped_in_every_html_output() {
    let doc = parse(HOSTILE, None).unwrap_or_else(|e| panic!("{e}"));
    for template in EmailTemplate::ALL {
        for tone in Tone::ALL {
            let b = bundle(&doc, Some(tone), Some(template));
            let n = b.newsletter.unwrap_or_else(|| panic!("newsletter"));
            let w = b.web.unwrap_or_else(|| panic!("web"));
            for (what, html) in [
                ("newsletter", &n.html),
                ("web page", &w.html),
                ("web body", &w.body_html),
            ] {
                assert!(
                    !html.contains("<script>alert"),
                    "{what} {template}/{tone} has raw script"
                );
                assert!(
                    !html.contains("<img src=x"),
                    "{what} {template}/{tone} has raw img"
                );
                assert!(
                    !html.to_lowercase().contains("javascript:"),
                    "{what} {template}/{tone} has a javascript: link"
                );
                assert!(
                    html.contains("&lt;script&gt;alert(1)"),
                    "{what} {template}/{tone} shows the title escaped"
                );
            }
            // The JSON-LD block holds the title too, with '<' escaped for a script context.
            assert!(w.html.contains("\\u003cscript\\u003e"), "json-ld escaped");
        }
    }
}
