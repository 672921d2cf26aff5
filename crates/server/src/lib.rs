//! Halcytone's service side: the HTTP API (routes by resource, auth, errors, OpenAPI,
//! metrics), publish jobs and the worker that runs them.
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
    newsletter, publish, queue, review, schedules, segments, sends, social, targets, versions,
    worker,
};
pub use halcytone_telemetry::correlation;

pub use app::Application;
pub use config::{DocumentSource, ServerConfig};
pub use state::AppState;
