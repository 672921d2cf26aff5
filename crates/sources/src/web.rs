//! `url:` documents: an SSRF-guarded GET with manual, re-checked redirects and a size cap.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use url::Url;

use crate::error::{SourceError, send_failure, snippet};
use crate::guard::{self, check_url, find_refusal, redirect_target};
use crate::{FetchedFormat, SourceKind, SourceSettings};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

/// Fetches `raw` with `client`, which must use [`guard::GuardedResolver`], no proxy and no
/// automatic redirects.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    settings: &SourceSettings,
    raw: &str,
) -> Result<(String, FetchedFormat), SourceError> {
    let allow = settings.url_allow_private;
    let mut url = Url::parse(raw)
        .map_err(|e| SourceError::BadReference(format!("'{raw}' is not a URL: {e}")))?;
    check_url(&url, allow)?;
    let mut redirects = 0;
    loop {
        let mut resp = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| send_error(&e, &url, settings))?;
        let status = resp.status();
        if status.is_redirection() {
            let target = guard::redacted(&url);
            if redirects == MAX_REDIRECTS {
                return Err(SourceError::Upstream {
                    kind: SourceKind::Url,
                    status: status.as_u16(),
                    target,
                    detail: format!("more than {MAX_REDIRECTS} redirects"),
                });
            }
            let Some(location) = resp.headers().get(LOCATION).and_then(|v| v.to_str().ok()) else {
                return Err(SourceError::Upstream {
                    kind: SourceKind::Url,
                    status: status.as_u16(),
                    target,
                    detail: "a redirect without a usable Location header".into(),
                });
            };
            url = redirect_target(&url, location, allow)?;
            redirects += 1;
            continue;
        }
        if !status.is_success() {
            let body = read_capped(&mut resp, 1024, &url, settings)
                .await
                .unwrap_or_default();
            return Err(SourceError::Upstream {
                kind: SourceKind::Url,
                status: status.as_u16(),
                target: guard::redacted(&url),
                detail: snippet(&String::from_utf8_lossy(&body)),
            });
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let format = format_for(&content_type).ok_or_else(|| SourceError::Malformed {
            kind: SourceKind::Url,
            target: guard::redacted(&url),
            detail: "the address serves HTML (a web page); point it at the raw Markdown, text or JSON document instead".into(),
        })?;
        let limit = settings.url_max_bytes;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(SourceError::TooLarge {
                target: guard::redacted(&url),
                limit,
            });
        }
        let body = read_capped(&mut resp, limit, &url, settings).await?;
        if body.len() > limit {
            return Err(SourceError::TooLarge {
                target: guard::redacted(&url),
                limit,
            });
        }
        let text = String::from_utf8(body).map_err(|e| SourceError::Malformed {
            kind: SourceKind::Url,
            target: guard::redacted(&url),
            detail: format!(
                "the document is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        return Ok((text, format));
    }
}

/// Reads the body until it ends or exceeds `limit` (then returns `limit + 1`-ish bytes so
/// the caller can tell).
async fn read_capped(
    resp: &mut reqwest::Response,
    limit: usize,
    url: &Url,
    settings: &SourceSettings,
) -> Result<Vec<u8>, SourceError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| send_error(&e, url, settings))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            break;
        }
    }
    Ok(body)
}

/// The document format announced by a Content-Type; `None` for HTML.
pub(crate) fn format_for(content_type: &str) -> Option<FetchedFormat> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => None,
        "text/markdown" | "text/x-markdown" => Some(FetchedFormat::Markdown),
        "application/json" => Some(FetchedFormat::Json),
        e if e.ends_with("+json") => Some(FetchedFormat::Json),
        _ => Some(FetchedFormat::Auto),
    }
}

fn send_error(e: &reqwest::Error, url: &Url, settings: &SourceSettings) -> SourceError {
    if let Some(r) = find_refusal(e) {
        return SourceError::Forbidden(guard::refusal(url, r.ip, r.reason));
    }
    send_failure(SourceKind::Url, e, guard::redacted(url), settings.timeout)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            format_for("text/markdown; charset=utf-8"),
            Some(FetchedFormat::Markdown)
        );
        assert_eq!(format_for("application/json"), Some(FetchedFormat::Json));
        assert_eq!(
            format_for("application/vnd.api+json"),
            Some(FetchedFormat::Json)
        );
        assert_eq!(format_for("text/plain"), Some(FetchedFormat::Auto));
        assert_eq!(format_for(""), Some(FetchedFormat::Auto));
        assert_eq!(format_for("TEXT/HTML; charset=UTF-8"), None);
    }
}
