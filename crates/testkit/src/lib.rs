//! Helpers shared by the integration tests of several Halcytone crates. A dev-dependency only:
//! nothing here is part of the service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod http;
pub mod json;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod text;
