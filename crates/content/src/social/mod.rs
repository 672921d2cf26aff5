//! Counting and splitting for social networks (the per-network limits live in
//! [`crate::platform`]).

pub mod thread;
pub mod weighted_length;
