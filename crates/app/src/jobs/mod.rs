//! Publish jobs: what a job asks for ([`spec`]) and what an attempt came to ([`outcome`]).

pub mod email_checks;
pub mod outcome;
pub mod reports;
pub mod spec;
