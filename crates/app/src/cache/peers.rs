//! Invalidations that reach every replica: what one server drops from its in-process answers
//! it also announces on the store's notification channel (PostgreSQL `NOTIFY halcytone_cache`),
//! and every other server sharing the database drops the same entries from its own. On SQLite
//! one process owns the database, so there is nobody to tell.
//!
//! The payload names what to drop (keys, patterns, tags, or everything), never a cached answer.
//! A request too large for one notification (PostgreSQL takes under 8,000 bytes) is announced
//! as "drop everything": the others lose more than they had to, never less.

use super::LocalCache;
use halcytone_store::Store;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The notification channel of cache invalidations.
pub const CHANNEL: &str = "halcytone_cache";

/// The largest payload sent as it is.
const MAX_PAYLOAD: usize = 7_900;

/// What one invalidation asks every other replica to drop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// The server that dropped it first (it has nothing left to do).
    pub origin: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Everything.
    #[serde(default)]
    pub all: bool,
}

impl Dropped {
    /// The notification's text: `self`, or "everything" when `self` would not fit.
    pub fn payload(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        if text.len() <= MAX_PAYLOAD && !text.is_empty() {
            return text;
        }
        let everything = Dropped {
            origin: self.origin.clone(),
            all: true,
            ..Dropped::default()
        };
        serde_json::to_string(&everything).unwrap_or_default()
    }

    /// Drops it from `cache`; answers how many entries went.
    pub fn apply(&self, cache: &dyn LocalCache) -> usize {
        if self.all {
            return cache.clear();
        }
        let tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
        cache.invalidate_keys(&self.keys)
            + cache.invalidate_patterns(&self.patterns)
            + cache.invalidate_tags(&tags)
    }
}

/// Tells the other replicas to drop `dropped`; a store that cannot be reached is logged (the
/// others keep their answers until those expire).
pub async fn announce(store: &dyn Store, dropped: &Dropped) {
    if let Err(e) = store.notify(CHANNEL, &dropped.payload()).await {
        tracing::warn!(error = %e, "could not tell the other replicas about a cache invalidation");
    }
}

/// Drops from `cache` what the other replicas announce, until the process ends. `origin` is
/// this server's own name in announcements (its own are skipped). Nothing runs where the store
/// has no other processes to hear from (SQLite).
pub async fn spawn(
    store: Arc<dyn Store>,
    cache: Arc<dyn LocalCache>,
    origin: String,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut rx = match store.listen(CHANNEL).await {
        Ok(Some(rx)) => rx,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot hear the other replicas' cache invalidations");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        while let Some(payload) = rx.recv().await {
            match serde_json::from_str::<Dropped>(&payload) {
                Ok(d) if d.origin == origin => {}
                Ok(d) => {
                    let n = d.apply(cache.as_ref());
                    tracing::debug!(from = %d.origin, dropped = n, "cache invalidation from another replica");
                }
                Err(e) => {
                    // Not ours to read: drop everything rather than keep what may be stale.
                    tracing::warn!(error = %e, "unreadable cache invalidation from another replica; dropping every entry");
                    cache.clear();
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_too_large_for_one_notification_drops_everything() {
        let small = Dropped {
            origin: "a".into(),
            keys: vec!["/api/v1/preview".into()],
            ..Dropped::default()
        };
        let back: Dropped = serde_json::from_str(&small.payload()).unwrap();
        assert_eq!(back, small);
        let large = Dropped {
            origin: "a".into(),
            keys: (0..2_000).map(|i| format!("/key/{i}")).collect(),
            ..Dropped::default()
        };
        let text = large.payload();
        assert!(text.len() <= MAX_PAYLOAD, "{}", text.len());
        let back: Dropped = serde_json::from_str(&text).unwrap();
        assert!(back.all && back.keys.is_empty(), "{back:?}");
    }
}
