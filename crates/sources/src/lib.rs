//! Living-document sources: where the team's running notes are read from.
//!
//! A [`SourceRef`] names the document (`file:`, `url:`, `gdocs:`, `notion:`); [`Sources`]
//! fetches it as text plus a format hint for the parser in `halcytone-content`:
//!
//! * **file**: UTF-8 text; per-request paths must stay inside `LIVING_DOC_DIR`.
//! * **url**: http(s) GET behind an SSRF guard (no loopback, private, link-local, CGNAT…
//!   addresses unless `URL_SOURCE_ALLOW_PRIVATE`), at most 3 re-checked redirects, and a
//!   size cap.
//! * **Google Docs**: service-account token (cached), `documents.get`, converted to Markdown.
//! * **Notion**: database query (all result pages), written in the Markdown authoring format.
//!
//! Failures are errors; nothing here ever substitutes sample content.
#![forbid(unsafe_code)]

mod error;
mod file;
pub mod gdocs;
pub mod guard;
pub mod notion;
mod reference;
mod settings;
mod web;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

pub use error::{SettingError, SourceError};
pub use reference::{SourceKind, SourceRef};
pub use settings::{
    DEFAULT_GOOGLE_DOCS_BASE_URL, DEFAULT_NOTION_BASE_URL, DEFAULT_NOTION_VERSION, DEFAULT_TIMEOUT,
    DEFAULT_URL_MAX_BYTES, SourceSettings,
};
pub use web::MAX_REDIRECTS;

/// The format a fetched text is in, as far as the source can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchedFormat {
    Markdown,
    Json,
    Text,
    /// Unknown: let the parser sniff.
    Auto,
}

impl FetchedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchedFormat::Markdown => "markdown",
            FetchedFormat::Json => "json",
            FetchedFormat::Text => "text",
            FetchedFormat::Auto => "auto",
        }
    }
}

/// A fetched living document.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// The reference it came from, as [`SourceRef::label`] writes it.
    pub label: String,
    pub text: String,
    pub format: FetchedFormat,
    pub fetched_at: DateTime<Utc>,
}

/// The fetchers, sharing settings, HTTP clients and the cached Google token. Cloning is
/// cheap (one `Arc`).
#[derive(Clone)]
pub struct Sources {
    inner: Arc<Inner>,
}

struct Inner {
    settings: SourceSettings,
    /// Google and Notion APIs: the configured endpoints, no redirects.
    api: reqwest::Client,
    /// `url:` documents: guarded DNS, no proxy, no automatic redirects.
    web: reqwest::Client,
    /// Held while a token is minted, so concurrent fetches share one.
    google_token: tokio::sync::Mutex<Option<gdocs::CachedToken>>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

const USER_AGENT: &str = concat!("halcytone-sources/", env!("CARGO_PKG_VERSION"));

impl Sources {
    /// Builds the HTTP clients. Fails only if the TLS backend cannot start.
    pub fn new(settings: SourceSettings) -> Result<Sources, SourceError> {
        let base = || {
            reqwest::Client::builder()
                .timeout(settings.timeout)
                .user_agent(USER_AGENT)
                .redirect(reqwest::redirect::Policy::none())
        };
        let api = base()
            .build()
            .map_err(|e| SourceError::Client(error::describe(&e)))?;
        let web = base()
            .no_proxy()
            .dns_resolver(Arc::new(guard::GuardedResolver {
                allow_private: settings.url_allow_private,
            }))
            .build()
            .map_err(|e| SourceError::Client(error::describe(&e)))?;
        Ok(Sources {
            inner: Arc::new(Inner {
                settings,
                api,
                web,
                google_token: tokio::sync::Mutex::new(None),
            }),
        })
    }

    pub fn settings(&self) -> &SourceSettings {
        &self.inner.settings
    }

    /// Fetches a living document. `configured = true` means the reference came from
    /// configuration (`LIVING_DOC_TYPE`/`LIVING_DOC_ID`), so a file path need not be inside
    /// `LIVING_DOC_DIR`.
    pub async fn fetch(&self, r: &SourceRef, configured: bool) -> Result<Fetched, SourceError> {
        let started = Instant::now();
        let label = r.label();
        let result = match r.kind {
            SourceKind::File => {
                file::read(&r.id, configured, self.inner.settings.file_root.as_deref()).await
            }
            SourceKind::Url => web::fetch(&self.inner.web, &self.inner.settings, &r.id).await,
            SourceKind::GoogleDocs => self
                .google_doc(&r.id)
                .await
                .map(|t| (t, FetchedFormat::Markdown)),
            SourceKind::Notion => notion::fetch(&self.inner.api, &self.inner.settings, &r.id)
                .await
                .map(|t| (t, FetchedFormat::Markdown)),
        };
        let ms = started.elapsed().as_millis() as u64;
        match result {
            Ok((text, format)) => {
                tracing::info!(
                    source = r.kind.as_str(),
                    id = %label,
                    bytes = text.len(),
                    format = format.as_str(),
                    ms,
                    "fetched living document"
                );
                Ok(Fetched {
                    label,
                    text,
                    format,
                    fetched_at: Utc::now(),
                })
            }
            Err(e) => {
                tracing::warn!(
                    source = r.kind.as_str(),
                    id = %label,
                    ms,
                    error = %e,
                    "living document fetch failed"
                );
                Err(e)
            }
        }
    }

    /// `documents.get` with the cached token; a 401 drops the token and retries once.
    async fn google_doc(&self, id: &str) -> Result<String, SourceError> {
        let settings = &self.inner.settings;
        let mut token = self.google_token(None).await?;
        for attempt in 0..2 {
            match gdocs::get_document(&self.inner.api, settings, &token, id).await? {
                gdocs::DocAnswer::Document(doc) => return Ok(gdocs::document_to_markdown(&doc)),
                gdocs::DocAnswer::Unauthorized(message) => {
                    if attempt == 1 {
                        return Err(SourceError::Upstream {
                            kind: SourceKind::GoogleDocs,
                            status: 401,
                            target: format!("document {id}"),
                            detail: format!("{message} (even with a freshly minted token)"),
                        });
                    }
                    tracing::info!("Google Docs refused the cached token; minting a new one");
                    token = self.google_token(Some(&token)).await?;
                }
            }
        }
        Err(SourceError::Upstream {
            kind: SourceKind::GoogleDocs,
            status: 401,
            target: format!("document {id}"),
            detail: "the token was refused".into(),
        })
    }

    /// The cached access token, minted when missing, close to expiry, or equal to `refused`.
    async fn google_token(&self, refused: Option<&str>) -> Result<String, SourceError> {
        let mut cached = self.inner.google_token.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.renew_at
            && refused != Some(t.access_token.as_str())
        {
            return Ok(t.access_token.clone());
        }
        *cached = None;
        let fresh = gdocs::mint_token(&self.inner.api, &self.inner.settings).await?;
        let token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(token)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: T) {}

    #[test]
    fn fetch_future_is_send_and_sources_is_shareable() {
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<Sources>();
        let sources = Sources::new(SourceSettings::default()).unwrap();
        let r = SourceRef::parse("file:x.md").unwrap();
        assert_send(sources.fetch(&r, false));
    }

    #[test]
    fn debug_hides_secrets() {
        let settings = SourceSettings {
            google_credentials_json: Some("{\"private_key\":\"PEMSECRET\"}".into()),
            notion_api_key: Some("ntn_TOPSECRET".into()),
            ..SourceSettings::default()
        };
        let sources = Sources::new(settings).unwrap();
        let text = format!("{sources:?}");
        assert!(
            !text.contains("PEMSECRET") && !text.contains("ntn_TOPSECRET"),
            "{text}"
        );
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn caller_errors() {
        assert!(SourceError::BadReference("x".into()).is_caller_error());
        assert!(SourceError::Forbidden("x".into()).is_caller_error());
        assert!(
            SourceError::NotConfigured {
                kind: SourceKind::Notion,
                reason: "x".into()
            }
            .is_caller_error()
        );
        let upstream = SourceError::Upstream {
            kind: SourceKind::GoogleDocs,
            status: 404,
            target: "document abc".into(),
            detail: "Requested entity was not found.".into(),
        };
        assert!(!upstream.is_caller_error());
        assert_eq!(
            upstream.to_string(),
            "Google Docs answered 404 for document abc: Requested entity was not found."
        );
        assert!(
            !SourceError::TooLarge {
                target: "u".into(),
                limit: 1
            }
            .is_caller_error()
        );
        assert!(
            !SourceError::Io {
                path: "p".into(),
                detail: "d".into()
            }
            .is_caller_error()
        );
    }

    #[test]
    fn format_names() {
        let names: Vec<_> = [
            FetchedFormat::Markdown,
            FetchedFormat::Json,
            FetchedFormat::Text,
            FetchedFormat::Auto,
        ]
        .iter()
        .map(|f| f.as_str())
        .collect();
        assert_eq!(names, ["markdown", "json", "text", "auto"]);
    }
}
