//! Live social adapters: X (API v2 `POST /2/tweets`, threads as a chain of replies),
//! LinkedIn (Posts API with the author URN) and Facebook Pages (Graph API `/{page}/feed`),
//! each with its token lifecycle and quota.
//!
//! Tokens live behind [`TokenStore`] (the server keeps them sealed in its database), so this
//! crate never sees storage. A network with a connected account is posted to directly;
//! without one the Platform path is used as before. Instagram has no live adapter (its API
//! publishes only images and videos, and the composed posts are text) and always goes through
//! the Platform.

mod accounts;
mod facebook;
mod linkedin;
mod live;
mod oauth;
mod quota;
mod settings;
mod x;

pub use accounts::{
    Account, AccountInfo, AccountStatus, Network, TokenStore, TokenStoreError, Tokens,
};
pub use live::{LiveSocial, NetworkHealth};
pub use quota::Quota;
pub use settings::{NetworkSettings, SocialSettings};
