//! Halcytone's service side: publish jobs and the worker that runs them (the HTTP API joins
//! here next).
#![forbid(unsafe_code)]

pub mod targets;
pub mod worker;
