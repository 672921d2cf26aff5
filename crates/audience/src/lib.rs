//! Audience rules for the email channel, with no I/O and no clock (callers pass "today"):
//!
//! - [`Subscriber`]: a subscriber as the CRM lists it (status, tags, sign-up date, engagement
//!   figures, free attributes);
//! - [`Rule`]: a segment rule such as
//!   `status = "active" and tags contains "beta" and engagement.opens_30d >= 2`, parsed with
//!   errors that point at the column, and evaluated against a subscriber;
//! - [`split`]: a deterministic A/B assignment (SHA-256 of test id and recipient id), and
//!   [`pick_winner`], the variant with the best open rate;
//! - [`merge`]: merge tags (`*|FIRST_NAME|*`) and each recipient's values, with a fallback.

mod abtest;
pub mod merge;
mod rules;
mod subscriber;

pub use abtest::{Assignment, VariantStats, Winner, pick_winner, split};
pub use rules::{Rule, RuleError};
pub use subscriber::Subscriber;
