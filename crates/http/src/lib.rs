//! Halcytone's HTTP edge: routes by resource, extractors, auth, request budgets, errors
//! mapped to statuses in one place, OpenAPI, metrics, the web console and WebSockets. Each
//! handler parses a request, calls one use case of `halcytone_app` and maps its result; the
//! application's modules are re-exported here under their old paths.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod body;
pub mod cache;
pub mod console;
pub mod error;
pub mod http;
pub mod routes;
pub mod state;
pub mod ws;

pub use halcytone_app::settings as config;
pub use halcytone_app::{
    abtest, batch, calendar, campaigns, credentials, documents, events, generation, live, metrics,
    newsletter, personalization, publish, queue, review, schedules, segments, sends, social,
    targets, versions, worker,
};
pub use halcytone_telemetry::correlation;

pub use app::Application;
pub use config::{DocumentSource, ServerConfig};
pub use state::AppState;
