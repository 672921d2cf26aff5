//! Cache invalidation as the application sees it: recorded invalidation requests and their
//! targets — the edge's in-process answers and a CDN — with history, and the invalidation
//! that follows a publish. The answers themselves live at the edge, behind [`LocalCache`].

pub mod after_publish;
pub mod invalidation;
pub mod peers;

/// The edge's in-process store of rendered answers, as invalidation reaches it. Each call
/// answers how many entries it removed.
pub trait LocalCache: Send + Sync + std::fmt::Debug {
    fn clear(&self) -> usize;
    fn invalidate_keys(&self, keys: &[String]) -> usize;
    fn invalidate_patterns(&self, patterns: &[String]) -> usize;
    fn invalidate_tags(&self, tags: &[&str]) -> usize;
}
