//! Cross-cutting HTTP layers: request limits, per-key rate limits, request metrics, CORS.

pub mod cors;
pub mod edge;
pub mod limits;
pub mod metrics;
pub mod query;
pub mod rate_limit;
