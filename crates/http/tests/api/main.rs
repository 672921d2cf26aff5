//! The API over HTTP: every route family, auth, errors and job semantics, on SQLite and on
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod ab_tests;
mod analytics;
mod audiences;
mod auth;
mod batch;
mod cache;
mod content;
mod credentials;
mod feeds;
mod health;
mod jobs;
mod limits;
mod live;
mod openapi;
mod original_shapes;
mod preview_matches_publish;
mod review;
mod scheduled_publish;
mod segments;
mod sns;
mod social;
mod sources;
mod suppressions;
mod ui;
mod webhooks;
mod ws_jobs;
