//! Halcytone's service side: the HTTP API (routes by resource, auth, errors, OpenAPI,
//! metrics), publish jobs and the worker that runs them.
#![forbid(unsafe_code)]

pub mod abtest;
pub mod app;
pub mod auth;
pub mod body;
pub mod cache;
pub mod campaigns;
pub mod console;
pub mod correlation;
pub mod credentials;
pub mod documents;
pub mod error;
pub mod events;
pub mod generation;
pub mod http;
pub mod live;
pub mod queue;
pub mod review;
pub mod routes;
pub mod schedules;
pub mod social;
pub mod state;
pub mod worker;
pub mod ws;

pub use halcytone_app::settings as config;
pub use halcytone_app::{calendar, metrics, targets};

pub use app::Application;
pub use config::{DocumentSource, ServerConfig};
pub use state::AppState;
