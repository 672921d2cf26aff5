//! Helpers shared by the sources' integration tests.

#![allow(dead_code)]

use halcytone_content::{Category, LivingDocument};
use halcytone_sources::{SourceError, SourceKind, SourceRef, Sources};

/// Each section's category with the titles of its items, in document order.
pub fn section_titles(doc: &LivingDocument) -> Vec<(Category, Vec<&str>)> {
    doc.sections
        .iter()
        .map(|s| {
            (
                s.category,
                s.items.iter().map(|i| i.title.as_str()).collect(),
            )
        })
        .collect()
}

/// Asserts that `err` says the `kind` source is not configured, naming `mentions` (the
/// missing setting), and that it is the caller's to fix.
#[track_caller]
pub fn assert_not_configured(err: &SourceError, kind: SourceKind, mentions: &str) {
    match err {
        SourceError::NotConfigured { kind: k, reason } => {
            assert_eq!(*k, kind);
            assert!(reason.contains(mentions), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_caller_error());
}

/// Fetches `reference` (e.g. `gdocs:doc-123`) without the cache, expecting it to fail.
pub async fn fetch_error(sources: &Sources, reference: &str) -> SourceError {
    sources
        .fetch(&SourceRef::parse(reference).unwrap(), false)
        .await
        .unwrap_err()
}
