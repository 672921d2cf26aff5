//! Sample inputs compiled into the binary, so a fresh install has something to try.

use anyhow::{Result, bail};

pub const LIVING_DOCUMENT_MD: &str = include_str!("../../../samples/living-document.md");
pub const LIVING_DOCUMENT_JSON: &str = include_str!("../../../samples/living-document.json");
pub const LIVING_DOCUMENT_TXT: &str = include_str!("../../../samples/living-document.txt");
pub const SESSION_JSON: &str = include_str!("../../../samples/session.json");

pub fn by_name(kind: &str) -> Result<&'static str> {
    Ok(match kind.trim().to_ascii_lowercase().as_str() {
        "markdown" | "md" => LIVING_DOCUMENT_MD,
        "json" => LIVING_DOCUMENT_JSON,
        "freeform" | "text" | "txt" => LIVING_DOCUMENT_TXT,
        "session" => SESSION_JSON,
        other => bail!("unknown sample '{other}'; samples: markdown, json, freeform, session"),
    })
}
