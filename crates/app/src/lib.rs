//! Halcytone's application: what the service does, apart from how it is asked. Use cases
//! over the store — generate, publish, review, schedules, campaigns, A/B tests, credentials,
//! documents, jobs and the worker loop — take their dependencies (store, publishers, clock,
//! settings) explicitly and answer with [`AppError`]. Nothing here knows HTTP: the edge
//! (`halcytone-http`) parses a request, calls one use case and maps its result to a status.
#![forbid(unsafe_code)]

pub mod abtest;
pub mod audiences;
pub mod batch;
pub mod cache;
pub mod calendar;
pub mod caller;
pub mod campaigns;
pub mod core;
pub mod credentials;
pub mod deliveries;
pub mod documents;
pub mod error;
pub mod events;
pub mod feed;
pub mod generation;
pub mod health;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod newsletter;
pub mod personalization;
pub mod publish;
pub mod queue;
pub mod review;
pub mod schedules;
pub mod schema;
pub mod segments;
pub mod send_batches;
pub mod sends;
pub mod settings;
pub mod sns_signature;
pub mod social;
pub mod suppressions;
pub mod targets;
pub mod unsubscribe;
pub mod versions;
pub mod webhooks;
pub mod worker;

pub use core::Core;
pub use error::AppError;
pub use jobs::spec::JobSpec;
