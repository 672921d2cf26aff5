//! Publishing composed content: email to the CRM, web posts and social posts to the Platform,
//! through one guarded HTTP client. In dry run the client can reach only the mock services.
#![forbid(unsafe_code)]

pub mod breaker;
pub mod client;
pub mod deliveries;
pub mod dkim;
pub mod egress;
pub mod group_ledger;
pub mod publishers;
pub mod rate_limit;
pub mod report;
pub mod retry;
pub mod settings;
pub mod smtp;
pub mod social;

pub use publishers::{
    AbGroup, AbSend, Audience, CampaignFigures, DEFAULT_FIRST_NAME_FALLBACK, DirectNewsletter,
    Members, Publisher, Publishing, SegmentFilter, merge_vars,
};
pub use report::{Outcome, PublishReport, TargetResult};
pub use settings::{SettingError, Settings};
