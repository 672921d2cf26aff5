//! The API's response cache and everything that invalidates it: the in-process store of
//! rendered answers (`response`), key patterns (`pattern`), invalidation requests and their
//! targets — local, CDN — with history (`invalidation`), and signed inbound webhooks
//! (`signature`).

pub use halcytone_app::cache::{after_publish, invalidation};
pub mod encoded;
pub mod pattern;
pub mod response;
pub mod serve;
pub use halcytone_app::settings::cache as settings;
pub mod signature;

pub use response::{CacheCounts, Cached, ResponseCache};
