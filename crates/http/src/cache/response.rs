//! Rendered answers of the read-heavy GET routes (templates, previews, social previews,
//! content versions), kept in memory by key with tags and a time to live. Composition is
//! deterministic, so a hit is byte-identical to what a miss would produce; every entry also
//! carries tags (`preview`, `document:<hash>`, `content`, …) so a publish can drop exactly
//! what it made stale. Bounded twice: at most `CACHE_MAX_SIZE` entries and `CACHE_MAX_BYTES`
//! bytes (each entry weighed as its body, key and tags plus a fixed overhead); an answer
//! heavier than an eighth of the byte bound is not kept at all. Full: the oldest entry goes
//! first. Expired: dropped when next read.

use super::pattern;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One cached answer, with its compressed copies once a client asked for them.
#[derive(Debug, Clone)]
pub struct Cached {
    pub body: Bytes,
    pub content_type: &'static str,
    pub variants: super::encoded::Variants,
}

impl Cached {
    pub fn new(body: Bytes, content_type: &'static str) -> Cached {
        Cached {
            body,
            content_type,
            variants: super::encoded::Variants::default(),
        }
    }
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    value: Cached,
    tags: Vec<String>,
    inserted: Instant,
    ttl: Duration,
    /// What the entry is counted as in the byte bound.
    weight: usize,
}

/// Bookkeeping an entry costs beside its body, key and tags (map slots, order index, times).
const ENTRY_OVERHEAD: usize = 160;

fn weight(key: &str, value: &Cached, tags: &[String]) -> usize {
    value.body.len()
        + super::encoded::reserve(value.body.len())
        + 2 * key.len()
        + tags.iter().map(String::len).sum::<usize>()
        + ENTRY_OVERHEAD
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Insertion order: sequence number → key.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    bytes: usize,
}

impl Inner {
    fn remove(&mut self, key: &str) -> bool {
        match self.entries.remove(key) {
            Some(e) => {
                self.order.remove(&e.seq);
                self.bytes -= e.weight;
                true
            }
            None => false,
        }
    }
}

#[derive(Debug)]
pub struct ResponseCache {
    enabled: bool,
    capacity: usize,
    max_bytes: usize,
    default_ttl: Duration,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
    invalidated: AtomicU64,
    bypassed: AtomicU64,
    too_large: AtomicU64,
}

/// Counters for `/metrics` and the cache statistics routes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CacheCounts {
    pub enabled: bool,
    pub hits: u64,
    pub misses: u64,
    /// Entries dropped to make room or because they expired.
    pub evictions: u64,
    pub expirations: u64,
    /// Entries removed by invalidation.
    pub invalidated: u64,
    /// Requests that skipped the lookup (`Cache-Control: no-cache`) and were computed afresh.
    pub bypassed: u64,
    /// Answers not kept because they weigh more than an eighth of `max_bytes`.
    pub too_large: u64,
    pub entries: usize,
    /// Weight of the live entries (bodies, keys, tags and bookkeeping), never above `max_bytes`.
    pub bytes: usize,
    pub capacity: usize,
    pub max_bytes: usize,
    /// Mean time to live of the live entries, whole seconds.
    pub avg_ttl_seconds: u64,
    /// Age of the oldest live entry, whole seconds.
    pub oldest_age_seconds: u64,
}

impl CacheCounts {
    /// Hits over the requests the cache could have answered (lookups and bypasses), 0–1
    /// (0 before any).
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses + self.bypassed;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }

    /// Misses and bypasses over the same requests, 0–1 (0 before any).
    pub fn miss_rate(&self) -> f64 {
        if self.hits + self.misses + self.bypassed == 0 {
            0.0
        } else {
            1.0 - self.hit_rate()
        }
    }
}

impl ResponseCache {
    /// A cache of at most `capacity` entries weighing at most `max_bytes`, each kept
    /// `default_ttl` unless put with its own. A disabled cache stores nothing and counts
    /// every lookup as a miss.
    pub fn new(enabled: bool, capacity: usize, max_bytes: usize, default_ttl: Duration) -> Self {
        ResponseCache {
            enabled,
            capacity: capacity.max(1),
            max_bytes,
            default_ttl,
            inner: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            expirations: AtomicU64::new(0),
            invalidated: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
            too_large: AtomicU64::new(0),
        }
    }

    /// Counts a request that skipped the lookup (`Cache-Control: no-cache`).
    pub fn note_bypass(&self) {
        self.bypassed.fetch_add(1, Ordering::Relaxed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    pub fn get(&self, key: &str) -> Option<Cached> {
        let found = {
            let mut inner = self.lock();
            match inner.entries.get(key) {
                Some(e) if e.inserted.elapsed() < e.ttl => Some(e.value.clone()),
                Some(_) => {
                    inner.remove(key);
                    self.expirations.fetch_add(1, Ordering::Relaxed);
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                    None
                }
                None => None,
            }
        };
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    /// Stores an answer under `key` with `tags`, for `ttl` (the default when `None`).
    pub fn put(&self, key: String, value: Cached, tags: Vec<String>, ttl: Option<Duration>) {
        if !self.enabled {
            return;
        }
        let w = weight(&key, &value, &tags);
        let mut inner = self.lock();
        // A stale answer under this key must not outlive a newer one that is not kept.
        inner.remove(&key);
        if w > self.max_bytes / 8 {
            self.too_large.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.bytes += w;
        inner.order.insert(seq, key.clone());
        inner.entries.insert(
            key,
            Entry {
                seq,
                value,
                tags,
                inserted: Instant::now(),
                ttl: ttl.unwrap_or(self.default_ttl),
                weight: w,
            },
        );
        while inner.entries.len() > self.capacity || inner.bytes > self.max_bytes {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.weight;
            }
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn remove_where(&self, pred: impl Fn(&str, &Entry) -> bool) -> usize {
        let mut inner = self.lock();
        let doomed: Vec<String> = inner
            .entries
            .iter()
            .filter(|(k, e)| pred(k, e))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &doomed {
            inner.remove(k);
        }
        self.invalidated
            .fetch_add(doomed.len() as u64, Ordering::Relaxed);
        doomed.len()
    }

    /// Removes the entries with exactly these keys; returns how many there were.
    pub fn invalidate_keys(&self, keys: &[String]) -> usize {
        self.remove_where(|k, _| keys.iter().any(|x| x == k))
    }

    /// Removes the entries whose key matches any pattern (`*` wildcard).
    pub fn invalidate_patterns(&self, patterns: &[String]) -> usize {
        self.remove_where(|k, _| patterns.iter().any(|p| pattern::matches(p, k)))
    }

    /// Removes the entries carrying any of the tags.
    pub fn invalidate_tags(&self, tags: &[&str]) -> usize {
        self.remove_where(|_, e| e.tags.iter().any(|t| tags.contains(&t.as_str())))
    }

    /// Removes every entry; returns how many there were.
    pub fn clear(&self) -> usize {
        self.remove_where(|_, _| true)
    }

    pub fn keys(&self) -> Vec<String> {
        let inner = self.lock();
        inner.order.values().cloned().collect()
    }

    pub fn counts(&self) -> CacheCounts {
        let inner = self.lock();
        let n = inner.entries.len();
        let avg_ttl_seconds = if n == 0 {
            0
        } else {
            let total: u128 = inner.entries.values().map(|e| e.ttl.as_millis()).sum();
            ((total / n as u128 + 500) / 1000) as u64
        };
        let oldest_age_seconds = inner
            .order
            .first_key_value()
            .and_then(|(_, k)| inner.entries.get(k))
            .map_or(0, |e| e.inserted.elapsed().as_secs());
        CacheCounts {
            enabled: self.enabled,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            expirations: self.expirations.load(Ordering::Relaxed),
            invalidated: self.invalidated.load(Ordering::Relaxed),
            bypassed: self.bypassed.load(Ordering::Relaxed),
            too_large: self.too_large.load(Ordering::Relaxed),
            entries: n,
            bytes: inner.bytes,
            capacity: self.capacity,
            max_bytes: self.max_bytes,
            avg_ttl_seconds,
            oldest_age_seconds,
        }
    }
}

impl halcytone_app::cache::LocalCache for ResponseCache {
    fn clear(&self) -> usize {
        ResponseCache::clear(self)
    }
    fn invalidate_keys(&self, keys: &[String]) -> usize {
        ResponseCache::invalidate_keys(self, keys)
    }
    fn invalidate_patterns(&self, patterns: &[String]) -> usize {
        ResponseCache::invalidate_patterns(self, patterns)
    }
    fn invalidate_tags(&self, tags: &[&str]) -> usize {
        ResponseCache::invalidate_tags(self, tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &'static str) -> Cached {
        Cached::new(Bytes::from_static(s.as_bytes()), "application/json")
    }

    fn cache(capacity: usize) -> ResponseCache {
        ResponseCache::new(true, capacity, 64 << 20, Duration::from_secs(60))
    }

    fn w(key: &str, body: &str) -> usize {
        weight(key, &v_owned(body), &[])
    }

    fn v_owned(s: &str) -> Cached {
        Cached::new(Bytes::copy_from_slice(s.as_bytes()), "application/json")
    }

    #[test]
    fn hits_misses_and_oldest_first_eviction() {
        let c = cache(2);
        assert!(c.get("a").is_none());
        c.put("a".into(), v("1"), vec![], None);
        c.put("b".into(), v("2"), vec![], None);
        assert_eq!(c.get("a").map(|x| x.body), Some(Bytes::from_static(b"1")));
        c.put("c".into(), v("3"), vec![], None);
        assert!(c.get("a").is_none(), "oldest entry evicted");
        let n = c.counts();
        assert_eq!((n.hits, n.misses, n.evictions, n.entries), (1, 2, 1, 2));
        assert_eq!(n.bytes, w("b", "2") + w("c", "3"));
        assert!((n.hit_rate() - 1.0 / 3.0).abs() < 1e-9);
        assert!((n.miss_rate() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(c.clear(), 2);
        assert_eq!(c.counts().bytes, 0);
    }

    #[test]
    fn replacing_a_key_keeps_one_entry_and_renews_its_place() {
        let c = cache(2);
        c.put("a".into(), v("1"), vec![], None);
        c.put("b".into(), v("2"), vec![], None);
        c.put("a".into(), v("11"), vec![], None);
        c.put("c".into(), v("3"), vec![], None);
        assert!(c.get("b").is_none(), "b is now the oldest");
        assert_eq!(c.get("a").map(|x| x.body.len()), Some(2));
        assert_eq!(c.counts().entries, 2);
        assert_eq!(c.counts().bytes, w("a", "11") + w("c", "3"));
    }

    #[test]
    fn expired_entries_miss_and_count_as_evictions() {
        let c = cache(4);
        c.put("a".into(), v("1"), vec![], Some(Duration::ZERO));
        assert!(c.get("a").is_none());
        let n = c.counts();
        assert_eq!((n.expirations, n.evictions, n.entries), (1, 1, 0));
    }

    #[test]
    fn invalidation_by_key_pattern_and_tag() {
        let c = cache(10);
        c.put("templates".into(), v("t"), vec!["static".into()], None);
        c.put(
            "preview:abc".into(),
            v("p"),
            vec!["preview".into(), "document:abc".into()],
            None,
        );
        c.put(
            "social-preview:twitter:abc".into(),
            v("s"),
            vec!["preview".into(), "document:abc".into()],
            None,
        );
        c.put("content:list".into(), v("l"), vec!["content".into()], None);
        c.put("content:cv_1".into(), v("c"), vec!["content".into()], None);
        assert_eq!(c.invalidate_keys(&["templates".into(), "nope".into()]), 1);
        assert_eq!(c.invalidate_patterns(&["content:*".into()]), 2);
        assert_eq!(c.invalidate_tags(&["document:abc"]), 2);
        assert_eq!(c.counts().entries, 0);
        assert_eq!(c.counts().invalidated, 5);
    }

    #[test]
    fn a_disabled_cache_stores_nothing() {
        let c = ResponseCache::new(false, 10, 1 << 20, Duration::from_secs(60));
        c.put("a".into(), v("1"), vec![], None);
        assert!(c.get("a").is_none());
        assert_eq!(c.counts().entries, 0);
        assert!(!c.counts().enabled);
    }

    #[test]
    fn a_20_mb_answer_is_not_kept_and_bytes_stay_under_the_bound() {
        let max = 64 << 20;
        let c = ResponseCache::new(true, 1_000_000, max, Duration::from_secs(60));
        let big = Cached::new(Bytes::from(vec![b'x'; 20_000_000]), "application/json");
        c.put("big".into(), big, vec![], None);
        assert!(c.get("big").is_none());
        assert_eq!(c.counts().too_large, 1);
        assert_eq!(c.counts().bytes, 0);
        // Mixed answers, from tiny to just under an eighth of the bound, fill it.
        for i in 0..2_000_usize {
            let len = [10, 1_000, 100_000, 1_000_000, 8_000_000][i % 5];
            let body = Cached::new(Bytes::from(vec![b'y'; len]), "application/json");
            c.put(format!("k{i}"), body, vec!["preview".into()], None);
            let n = c.counts();
            assert!(n.bytes <= max, "{} bytes after {i} puts", n.bytes);
        }
        assert!(c.counts().evictions > 0);
        assert!(c.counts().bytes > max / 2, "the cache is used, not emptied");
    }

    #[test]
    fn bypassed_requests_count_against_the_hit_rate() {
        let c = cache(10);
        c.put("a".into(), v("1"), vec![], None);
        assert!(c.get("a").is_some());
        c.note_bypass();
        let n = c.counts();
        assert_eq!((n.hits, n.misses, n.bypassed), (1, 0, 1));
        assert!((n.hit_rate() - 0.5).abs() < 1e-9);
        assert!((n.miss_rate() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn ages_are_whole_seconds() {
        let c = cache(10);
        c.put(
            "a".into(),
            v("1"),
            vec![],
            Some(Duration::from_millis(2_600)),
        );
        let n = c.counts();
        assert_eq!(n.avg_ttl_seconds, 3);
        assert_eq!(n.oldest_age_seconds, 0);
    }
}
