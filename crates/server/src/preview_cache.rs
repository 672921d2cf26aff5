//! Generated previews, kept by document hash and options. Composition is deterministic, so
//! the same document with the same options always produces the same answer; the cache
//! holds the serialized answer and counts hits, misses and evictions (oldest entry first).

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Bytes>,
    order: VecDeque<String>,
}

#[derive(Debug)]
pub struct PreviewCache {
    capacity: usize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

/// Counters for `/metrics` and the cache statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub entries: usize,
    pub bytes: usize,
}

impl CacheCounts {
    /// Hits over lookups, 0–1 (0 before any lookup).
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

impl PreviewCache {
    pub fn new(capacity: usize) -> Self {
        PreviewCache {
            capacity: capacity.max(1),
            inner: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        let found = self.lock().entries.get(key).cloned();
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    pub fn put(&self, key: String, value: Bytes) {
        let mut inner = self.lock();
        if inner.entries.insert(key.clone(), value).is_none() {
            inner.order.push_back(key);
        }
        while inner.entries.len() > self.capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            inner.entries.remove(&old);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut inner = self.lock();
        let n = inner.entries.len();
        inner.entries.clear();
        inner.order.clear();
        n
    }

    pub fn counts(&self) -> CacheCounts {
        let inner = self.lock();
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: inner.entries.len(),
            bytes: inner.entries.values().map(Bytes::len).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_misses_and_oldest_first_eviction() {
        let c = PreviewCache::new(2);
        assert!(c.get("a").is_none());
        c.put("a".into(), Bytes::from_static(b"1"));
        c.put("b".into(), Bytes::from_static(b"2"));
        assert_eq!(c.get("a").as_deref(), Some(&b"1"[..]));
        c.put("c".into(), Bytes::from_static(b"3"));
        assert!(c.get("a").is_none(), "oldest entry evicted");
        let n = c.counts();
        assert_eq!((n.hits, n.misses, n.evictions, n.entries), (1, 2, 1, 2));
        assert!((n.hit_rate() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(c.clear(), 2);
    }
}
