//! Where a request's living document comes from: the configured source (a file, the bundled
//! sample, or a URL, Google Doc or Notion database fetched through `halcytone_sources`), or
//! a per-request `document_id` with a source prefix (`gdocs:`, `notion:`, `url:`, `file:`).
//! A remote document is reused for `SOURCE_CACHE_SECONDS` so a burst of previews makes one
//! fetch. A source that fails is an error with its reason; nothing falls back to sample text.

use crate::core::Core;
use crate::error::{AppError, Found};
use crate::generation::DocumentText;
use crate::settings::DocumentSource;
use halcytone_content::SourceFormat;
use halcytone_sources::{Fetched, FetchedFormat, SourceError, SourceRef};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The configured file's text, kept while the file's length and modification time stay
/// the same: a preview then costs one `stat` instead of an open, a read and a trip to the
/// blocking pool. Scheduled runs read the file afresh.
#[derive(Debug, Default)]
pub struct FileMemo {
    last: Mutex<Option<(FileStamp, DocumentText)>>,
}

/// What says a file may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    path: std::path::PathBuf,
}

impl FileStamp {
    /// A `stat` of a local file: microseconds, done in place.
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            path: path.to_path_buf(),
        })
    }
}

impl FileMemo {
    fn get(&self, stamp: &FileStamp) -> Option<DocumentText> {
        let last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        last.as_ref()
            .filter(|(s, _)| s == stamp && s.modified.is_some())
            .map(|(_, d)| d.clone())
    }
    fn put(&self, stamp: FileStamp, doc: DocumentText) {
        *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((stamp, doc));
    }
}

/// Recently fetched remote documents, by label.
#[derive(Debug, Default)]
pub struct FetchMemo {
    entries: Mutex<HashMap<String, (Instant, DocumentText)>>,
}

impl FetchMemo {
    fn get(&self, label: &str, ttl: Duration) -> Option<DocumentText> {
        let map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(label)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, d)| d.clone())
    }

    fn put(&self, doc: &DocumentText) {
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= 64 {
            map.clear();
        }
        map.insert(doc.label.clone(), (Instant::now(), doc.clone()));
    }

    /// Forgets every fetched document (the next use fetches again).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// A source failure as the API answers it: the caller's mistake (a bad prefix, a private
/// address, an unconfigured source) is a 422 on `field`; the source's own failure a 502.
pub fn source_error(field: &str, e: &SourceError) -> AppError {
    if e.is_caller_error() {
        AppError::invalid(field, format!("{field}: {e}"))
    } else {
        AppError::Upstream(e.to_string())
    }
}

fn text_of(f: Fetched) -> DocumentText {
    let format = match f.format {
        FetchedFormat::Markdown => Some(SourceFormat::Markdown),
        FetchedFormat::Json => Some(SourceFormat::Json),
        FetchedFormat::Text => Some(SourceFormat::Freeform),
        FetchedFormat::Auto => None,
    };
    DocumentText {
        label: f.label,
        text: f.text,
        format,
    }
}

async fn fetch(
    state: &Core,
    r: &SourceRef,
    configured: bool,
    field: &str,
    fresh: bool,
) -> Result<DocumentText, AppError> {
    let ttl = state.config.source_cache;
    let label = r.label();
    if !fresh
        && !ttl.is_zero()
        && let Some(d) = state.fetched.get(&label, ttl)
    {
        return Ok(d);
    }
    let doc = state
        .sources
        .fetch(r, configured)
        .await
        .map(text_of)
        .map_err(|e| source_error(field, &e))?;
    if !ttl.is_zero() {
        state.fetched.put(&doc);
    }
    Ok(doc)
}

/// The configured living document.
pub async fn configured(state: &Core) -> Result<DocumentText, AppError> {
    configured_fresh(state, false).await
}

/// The configured living document; `fresh` skips the reuse window (scheduled runs).
pub async fn configured_fresh(state: &Core, fresh: bool) -> Result<DocumentText, AppError> {
    match &state.config.document {
        DocumentSource::File(path) => {
            let stamp = (!fresh).then(|| FileStamp::of(path)).flatten();
            if let Some(doc) = stamp.as_ref().and_then(|s| state.file_document.get(s)) {
                return Ok(doc);
            }
            let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                AppError::Unavailable(format!(
                    "the living document {} cannot be read: {e}",
                    path.display()
                ))
            })?;
            let doc = DocumentText {
                label: format!("file:{}", path.display()),
                text,
                format: None,
            };
            // Kept only when the file did not change while it was read.
            if let Some(stamp) = stamp
                && FileStamp::of(path).as_ref() == Some(&stamp)
            {
                state.file_document.put(stamp, doc.clone());
            }
            Ok(doc)
        }
        DocumentSource::Inline { label, text } => Ok(DocumentText {
            label: label.clone(),
            text: text.clone(),
            format: None,
        }),
        DocumentSource::Remote(r) => fetch(state, r, true, "document", fresh).await,
        DocumentSource::None => Err(AppError::invalid(
            "document",
            "no living document is configured (set LIVING_DOC_TYPE and LIVING_DOC_ID); send one inline as \"document\" or name one with document_id (gdocs:, notion:, url:, file:)",
        )),
    }
}

/// The document a request names — the one resolution every use case shares (preview,
/// generate, validate, publish, review, schedules): inline (`document`, with its format); a
/// stored snapshot (`doc_…`, as jobs list them); fetched from the source `document_id` names
/// (`gdocs:`, `notion:`, `url:`, `file:`); or, with neither, the configured one. Any other
/// `document_id` is an error naming the field, never a silent fall-back to the configured
/// document.
pub async fn requested(
    document: Option<&serde_json::Value>,
    format: Option<&str>,
    document_id: Option<&str>,
    state: &Core,
) -> Result<DocumentText, AppError> {
    // A format is checked even when no inline document comes with it: a wrong value is the
    // caller's mistake whatever else the request holds.
    crate::generation::parse_format(format)?;
    match (document, document_id.map(str::trim)) {
        (Some(v), _) if !v.is_null() => crate::generation::inline(v, format),
        (_, Some(id)) if !id.is_empty() => {
            if is_snapshot_id(id) {
                return snapshot(state, id).await;
            }
            if !has_source_prefix(id) {
                return Err(AppError::invalid(
                    "document_id",
                    format!(
                        "document_id: '{id}' names no document; name a stored snapshot (doc_…) or a source with its prefix: gdocs:<id>, notion:<database id>, url:<https URL> or file:<path under LIVING_DOC_DIR>"
                    ),
                ));
            }
            by_reference(state, id).await
        }
        _ => configured(state).await,
    }
}

/// Whether an id names a stored document snapshot (`doc_…`).
pub fn is_snapshot_id(id: &str) -> bool {
    id.len() > 4 && id.starts_with("doc_")
}

/// A stored document snapshot, labelled with the source it was read from.
async fn snapshot(state: &Core, id: &str) -> Result<DocumentText, AppError> {
    let d = state
        .store
        .document(id)
        .await?
        .found("document snapshot", id)?;
    Ok(DocumentText {
        label: d.source,
        format: d.format.parse::<SourceFormat>().ok(),
        text: d.body,
    })
}

/// Whether an id names a source (`gdocs:…`, `notion:…`, `url:…`, `file:…`).
pub fn has_source_prefix(id: &str) -> bool {
    let id = id.trim();
    ["gdocs:", "notion:", "url:", "file:", "google_docs:"]
        .iter()
        .any(|p| {
            id.len() > p.len()
                && id
                    .get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p))
        })
}

/// The document a per-request `document_id` names (reused within the window).
pub async fn by_reference(state: &Core, id: &str) -> Result<DocumentText, AppError> {
    by_reference_fresh(state, id, false).await
}

/// The document a `document_id` names; `fresh` fetches it whatever was fetched recently.
pub async fn by_reference_fresh(
    state: &Core,
    id: &str,
    fresh: bool,
) -> Result<DocumentText, AppError> {
    let r = SourceRef::parse(id).map_err(|e| source_error("document_id", &e))?;
    fetch(state, &r, false, "document_id", fresh).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_check_never_cuts_a_character() {
        // Found by the schema fuzzer: a 4-byte character straddling the prefix length.
        assert!(!has_source_prefix("0\u{10000}"));
        assert!(!has_source_prefix("gdoc\u{e9}:x"));
        assert!(has_source_prefix("GDOCS:abc"));
    }

    #[test]
    fn a_kept_file_is_given_back_only_while_it_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.md");
        std::fs::write(&path, "# One\n").unwrap();
        let memo = FileMemo::default();
        let first = FileStamp::of(&path).unwrap();
        let doc = |text: &str| DocumentText {
            label: "file:doc.md".into(),
            text: text.into(),
            format: None,
        };
        memo.put(first.clone(), doc("# One\n"));
        assert_eq!(memo.get(&first).unwrap().text, "# One\n");
        // Same length, new contents and modification time: not the kept text.
        std::fs::write(&path, "# Two\n").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        let second = FileStamp::of(&path).unwrap();
        assert_ne!(first, second);
        assert!(memo.get(&second).is_none());
        // Another file of the same length and time is another stamp.
        let other = FileStamp {
            path: dir.path().join("other.md"),
            ..first.clone()
        };
        assert!(memo.get(&other).is_none());
        assert!(FileStamp::of(&dir.path().join("missing.md")).is_none());
    }

    #[test]
    fn prefixes_are_recognised() {
        assert!(has_source_prefix("gdocs:1AbC"));
        assert!(has_source_prefix("NOTION:abc"));
        assert!(has_source_prefix(" url:https://example.com/doc.md"));
        assert!(has_source_prefix("file:notes.md"));
        assert!(!has_source_prefix("gdocs:"));
        assert!(!has_source_prefix("weekly-update"));
        assert!(!has_source_prefix("doc_123"));
    }

    #[test]
    fn caller_mistakes_are_422_and_source_failures_502() {
        let bad = SourceError::BadReference("no prefix".into());
        assert!(matches!(
            source_error("document_id", &bad),
            AppError::Invalid { field, .. } if field == "document_id"
        ));
        let down = SourceError::Transport {
            kind: halcytone_sources::SourceKind::Url,
            target: "x".into(),
            detail: "refused".into(),
        };
        assert!(matches!(
            source_error("document_id", &down),
            AppError::Upstream(_)
        ));
    }
}
