//! Publish jobs: what a job asks for ([`spec`]).

pub mod spec;
