//! Checks of an email before anyone signs it off, as a mail tester runs them: HTML and CSS
//! support across email clients (against the vendored caniemail.com data), links, images and
//! their alt text, size against Gmail's clipping, and a spam score from a small built-in rule
//! set. Pure: it reads the message and asks no host; a caller that may reach a link's host
//! resolves it and settles the report ([`report::Report::settle`]).
//!
//! - [`markup`]: the tolerant HTML scanner everything reads with;
//! - [`links`]: the `href`s of HTML with their schemes checked;
//! - [`css`], [`document`]: what a message's HTML uses and holds, in one pass;
//! - [`compat`], [`spam`], [`report`]: the checks and the report with its worst finding.
#![forbid(unsafe_code)]

pub mod compat;
pub mod css;
pub mod document;
pub mod links;
pub mod markup;
pub mod report;
pub mod spam;

pub use report::{Level, LinkStatus, Message, Report, check};
