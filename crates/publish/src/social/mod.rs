//! Live social adapters: X (API v2 `POST /2/tweets`, threads as a chain of replies) and
//! LinkedIn (Posts API with the author URN), each with its OAuth token lifecycle and quota.
//!
//! Tokens live behind [`TokenStore`] (the server keeps them sealed in its database), so this
//! crate never sees storage. A network with a connected account is posted to directly;
//! without one the Platform path is used as before. Facebook and Instagram have no live
//! adapter and always go through the Platform.

mod accounts;
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
