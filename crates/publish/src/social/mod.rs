//! Live social adapters: X (API v2 `POST /2/tweets`, threads as a chain of replies),
//! LinkedIn (Posts API with the author URN) and Facebook Pages (Graph API `/{page}/feed`),
//! each with its token lifecycle and quota.
//!
//! Tokens live behind [`TokenStore`] (the server keeps them sealed in its database), so this
//! crate never sees storage. A network with a connected account is posted to directly;
//! without one the Platform path is used as before. Instagram has no live adapter (its API
//! publishes only images and videos, and the composed posts are text) and always goes through
//! the Platform.

use crate::client::{Auth, CallError, Exchange, HttpClient, RawAnswer};
use reqwest::Method;
use serde_json::Value;
use url::Url;

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

/// One post's request to a network's API: the client, the network's API base, the account's
/// access token (sent as a bearer) and the run's correlation id.
struct Poster<'a> {
    client: &'a HttpClient,
    upstream: &'static str,
    api_base: &'a Url,
    token: &'a str,
    correlation_id: &'a str,
}

impl Poster<'_> {
    /// POSTs to `path` under the API base, with extra headers and a JSON or form body.
    async fn send(
        &self,
        path: &str,
        headers: Vec<(&'static str, String)>,
        json: Option<&Value>,
        form: Option<&[(&str, &str)]>,
    ) -> Result<RawAnswer, CallError> {
        let api_base = self.api_base;
        let url = api_base
            .join(path)
            .map_err(|e| CallError::Url(format!("{api_base}{path}: {e}")))?;
        self.client
            .exchange(Exchange {
                upstream: self.upstream,
                method: Method::POST,
                url,
                headers,
                auth: Auth::Bearer(self.token),
                json,
                form,
                correlation_id: self.correlation_id,
            })
            .await
    }
}
