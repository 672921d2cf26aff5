use crate::publishers::BoxFuture;
use halcytone_vault::Secret;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A network with a live adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    X,
    Linkedin,
    /// A Facebook Page, posted to with a Page access token (Graph API).
    Facebook,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::X, Network::Linkedin, Network::Facebook];

    pub fn as_str(self) -> &'static str {
        match self {
            Network::X => "x",
            Network::Linkedin => "linkedin",
            Network::Facebook => "facebook",
        }
    }

    /// `x` (or `twitter`), `linkedin` and `facebook`, any letter case.
    pub fn parse(s: &str) -> Option<Network> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x" | "twitter" => Some(Network::X),
            "linkedin" => Some(Network::Linkedin),
            "facebook" => Some(Network::Facebook),
            _ => None,
        }
    }

    /// The name its tokens are stored under.
    pub fn credential_name(self) -> &'static str {
        match self {
            Network::X => "social:x",
            Network::Linkedin => "social:linkedin",
            Network::Facebook => "social:facebook",
        }
    }

    /// How the platform names itself in composed posts.
    pub fn platform_name(self) -> &'static str {
        match self {
            Network::X => "twitter",
            Network::Linkedin => "linkedin",
            Network::Facebook => "facebook",
        }
    }

    /// How the network is called in messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Network::X => "X",
            Network::Linkedin => "LinkedIn",
            Network::Facebook => "Facebook",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account's OAuth tokens (never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// When the access token stops working (ms since the epoch); unknown when `None`.
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Connected,
    /// The tokens no longer work and cannot be refreshed: an operator must connect again.
    ReconnectNeeded,
}

/// What is known about a connected account besides its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub network: Network,
    /// X: the numeric user id; LinkedIn: the author URN (`urn:li:organization:…` or
    /// `urn:li:person:…`); Facebook: the numeric Page id.
    pub account_id: String,
    #[serde(default)]
    pub username: Option<String>,
    pub status: AccountStatus,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    pub connected_ms: i64,
    #[serde(default)]
    pub refreshed_ms: Option<i64>,
}

/// An account as loaded: details, tokens, and the stored revision a write must match.
#[derive(Debug, Clone)]
pub struct Account {
    pub info: AccountInfo,
    pub tokens: Tokens,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("social account storage: {0}")]
pub struct TokenStoreError(pub String);

/// Where accounts and their tokens are kept, and the posts each account sent. Every token
/// write names the revision it read, so two processes refreshing at once never overwrite each
/// other's rotated refresh token; the sent posts are shared, so quotas hold across processes.
pub trait TokenStore: Send + Sync + fmt::Debug {
    fn load(&self, network: Network) -> BoxFuture<'_, Result<Option<Account>, TokenStoreError>>;
    /// Stores refreshed tokens if the account is still at `revision`; `false` when another
    /// process changed it first (the caller loads it again).
    fn save_refreshed<'a>(
        &'a self,
        network: Network,
        revision: i64,
        tokens: &'a Tokens,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>>;
    /// Marks the account "reconnect needed" with the reason, keeping its tokens.
    fn mark_reconnect<'a>(
        &'a self,
        network: Network,
        revision: i64,
        reason: &'a str,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>>;
    /// When each post to `network` after `since_ms` went out, from every process, oldest first.
    fn sent_since(
        &self,
        network: Network,
        since_ms: i64,
    ) -> BoxFuture<'_, Result<Vec<i64>, TokenStoreError>>;
    /// Records one post (`post_id`) that went out to `network` at `sent_ms`.
    fn record_sent<'a>(
        &'a self,
        network: Network,
        post_id: &'a str,
        sent_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_name_themselves() {
        assert_eq!(Network::parse("Twitter"), Some(Network::X));
        assert_eq!(Network::parse(" x "), Some(Network::X));
        assert_eq!(Network::parse("LinkedIn"), Some(Network::Linkedin));
        assert_eq!(Network::parse("myspace"), None);
        assert_eq!(Network::X.credential_name(), "social:x");
        assert_eq!(Network::Linkedin.platform_name(), "linkedin");
        assert_eq!(Network::parse("Facebook"), Some(Network::Facebook));
        assert_eq!(Network::parse("instagram"), None);
        assert_eq!(Network::Facebook.credential_name(), "social:facebook");
    }
}
