//! Posting to a connected account: the quota is checked first, the access token is refreshed
//! when it is about to expire (or once after a 401), a 429 waits for its reset when that is
//! short, and a refresh the network refuses marks the account "reconnect needed" without
//! touching its stored tokens.

use super::oauth::{self, RefreshError};
use super::quota::DAY_MS;
use super::{
    Account, AccountStatus, Network, Poster, Quota, SocialSettings, TokenStore, TokenStoreError,
    facebook, linkedin, x,
};
use crate::client::{CallError, HttpClient, RawAnswer};
use crate::report::{Outcome, TargetResult};
use chrono::{TimeZone, Utc};
use halcytone_content::Platform;
use halcytone_content::compose::social::SocialPost;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Refresh when the access token has less than this left.
const REFRESH_MARGIN_MS: i64 = 60_000;

/// What the metrics and the accounts route show about one network.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetworkHealth {
    pub connected: bool,
    pub reconnect_needed: bool,
    /// How long the next post would wait for the quota (or a 429 reset), in seconds.
    pub quota_wait_seconds: f64,
    pub posts: u64,
    pub refreshes: u64,
    pub refresh_failures: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

#[derive(Debug)]
pub struct LiveSocial {
    settings: SocialSettings,
    store: Arc<dyn TokenStore>,
    health: Mutex<HashMap<Network, NetworkHealth>>,
    /// One refresh at a time in this process (another process is handled by revisions).
    refreshing: tokio::sync::Mutex<()>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s < 90 {
        format!("{s} s")
    } else if s < 5400 {
        format!("{} min", s.div_ceil(60))
    } else {
        format!("{:.1} h", s as f64 / 3600.0)
    }
}

/// Why a post did not go out.
struct Failure {
    reason: String,
    retryable: bool,
    status: Option<u16>,
}

impl Failure {
    fn new(reason: impl Into<String>, retryable: bool) -> Self {
        Failure {
            reason: reason.into(),
            retryable,
            status: None,
        }
    }
}

impl From<TokenStoreError> for Failure {
    fn from(e: TokenStoreError) -> Self {
        Failure::new(e.to_string(), true)
    }
}

impl LiveSocial {
    pub fn new(settings: SocialSettings, store: Arc<dyn TokenStore>) -> Self {
        LiveSocial {
            settings,
            store,
            health: Mutex::default(),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn settings(&self) -> &SocialSettings {
        &self.settings
    }

    fn with_health<T>(&self, n: Network, f: impl FnOnce(&mut NetworkHealth) -> T) -> T {
        let mut h = self
            .health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(h.entry(n).or_default())
    }

    /// Every network's health, in a fixed order.
    pub fn health(&self) -> Vec<(Network, NetworkHealth)> {
        let h = self
            .health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Network::ALL
            .iter()
            .map(|n| (*n, h.get(n).cloned().unwrap_or_default()))
            .collect()
    }

    /// Reads every account's state from the store (at start, and after a connect).
    pub async fn refresh_health(&self) {
        for n in Network::ALL {
            match self.store.load(n).await {
                Ok(account) => self.note_account(n, account.as_ref()),
                Err(e) => tracing::warn!(network = %n, error = %e, "social account not readable"),
            }
        }
    }

    fn note_account(&self, n: Network, account: Option<&Account>) {
        self.with_health(n, |h| {
            h.connected = account.is_some();
            h.reconnect_needed =
                account.is_some_and(|a| a.info.status == AccountStatus::ReconnectNeeded);
            h.last_error = account.and_then(|a| a.info.last_error.clone());
        });
    }

    /// Posts `post` live when its network has a connected account. `None` when it has none
    /// (or the network has no live adapter): the caller sends it through the Platform.
    pub async fn publish(
        &self,
        client: &HttpClient,
        post: &SocialPost,
        key: &str,
        correlation_id: &str,
    ) -> Option<TargetResult> {
        let network = match post.platform {
            Platform::Twitter => Network::X,
            Platform::Linkedin => Network::Linkedin,
            Platform::Facebook => Network::Facebook,
            Platform::Instagram => return None,
        };
        let account = match self.store.load(network).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                self.note_account(network, None);
                return None;
            }
            Err(e) => {
                return Some(self.result(network, key, Err(Failure::from(e)), 0));
            }
        };
        self.note_account(network, Some(&account));
        let mut attempts = 0;
        let outcome = self
            .post_live(
                client,
                network,
                account,
                post,
                correlation_id,
                &mut attempts,
            )
            .await;
        if let Err(f) = &outcome {
            self.with_health(network, |h| h.last_error = Some(f.reason.clone()));
        }
        Some(self.result(network, key, outcome, attempts))
    }

    fn result(
        &self,
        network: Network,
        key: &str,
        outcome: Result<(String, String, usize), Failure>,
        attempts: u32,
    ) -> TargetResult {
        let target = format!("social:{}", network.platform_name());
        match outcome {
            Ok((id, url, _)) => TargetResult {
                channel: "social",
                target,
                outcome: Outcome::Succeeded,
                reason: None,
                retryable: false,
                upstream_status: Some(201),
                attempts,
                external_id: Some(id),
                url: Some(url),
                idempotency_key: key.to_string(),
                campaign: None,
                recipients: None,
            },
            Err(f) => TargetResult {
                channel: "social",
                target,
                outcome: Outcome::Failed,
                reason: Some(f.reason),
                retryable: f.retryable,
                upstream_status: f.status,
                attempts,
                external_id: None,
                url: None,
                idempotency_key: key.to_string(),
                campaign: None,
                recipients: None,
            },
        }
    }

    fn who(account: &Account) -> String {
        match &account.info.username {
            Some(u) => format!("{} account @{u}", account.info.network),
            None => format!(
                "{} account {}",
                account.info.network, account.info.account_id
            ),
        }
    }

    async fn post_live(
        &self,
        client: &HttpClient,
        network: Network,
        mut account: Account,
        post: &SocialPost,
        correlation_id: &str,
        attempts: &mut u32,
    ) -> Result<(String, String, usize), Failure> {
        if account.info.status == AccountStatus::ReconnectNeeded {
            return Err(Failure::new(
                format!(
                    "the {} needs reconnecting: {}",
                    Self::who(&account),
                    account
                        .info
                        .last_error
                        .as_deref()
                        .unwrap_or("its tokens no longer work")
                ),
                false,
            ));
        }
        let parts: Vec<String> = match network {
            Network::X => (0..post.posts.len())
                .map(|i| post.published_text(i))
                .collect(),
            // LinkedIn and Facebook have no threads: one post with the parts as paragraphs.
            Network::Linkedin | Network::Facebook => vec![
                (0..post.posts.len())
                    .map(|i| post.published_text(i))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            ],
        };
        if parts.is_empty() {
            return Err(Failure::new("the composed post has no text", false));
        }
        let wanted = parts.len() as u32;
        // The windows hold every process's posts (the store's), not only this one's.
        let now = now_ms();
        let sent = self.store.sent_since(network, now - DAY_MS).await?;
        let limits = self.settings.network(network);
        let quota = Quota::with_sent(limits.per_hour, limits.per_day, sent).wait_for(wanted, now);
        if let Err((wait, why)) = quota {
            let secs = if wait == Duration::MAX {
                f64::INFINITY
            } else {
                wait.as_secs_f64()
            };
            self.with_health(network, |h| h.quota_wait_seconds = secs);
            let when = if wait == Duration::MAX {
                "never in one run".to_string()
            } else {
                format!("in {}", minutes(wait))
            };
            return Err(Failure::new(
                format!(
                    "{} {why}; {wanted} post(s) fit {when} (nothing was sent)",
                    network.display_name()
                ),
                false,
            ));
        }
        self.with_health(network, |h| h.quota_wait_seconds = 0.0);
        if account
            .tokens
            .expires_at_ms
            .is_some_and(|t| t <= now_ms() + REFRESH_MARGIN_MS)
        {
            account = self
                .refresh(client, network, account, correlation_id)
                .await?;
        }
        let mut ids: Vec<String> = Vec::new();
        let mut refreshed_after_401 = false;
        let mut waited_for_reset = false;
        let mut index = 0;
        while index < parts.len() {
            *attempts += 1;
            let sent = self
                .send_part(
                    client,
                    network,
                    &account,
                    &parts[index],
                    ids.last().map(String::as_str),
                    post.link.as_deref(),
                    correlation_id,
                )
                .await;
            let answer = match sent {
                Ok(a) => a,
                Err(e) => {
                    return Err(Self::partial(
                        &ids,
                        parts.len(),
                        Failure {
                            retryable: e.is_retryable() && ids.is_empty(),
                            status: e.status(),
                            reason: e.to_string(),
                        },
                    ));
                }
            };
            let status = match network {
                Network::Facebook => facebook::effective_status(&answer),
                Network::X | Network::Linkedin => answer.status,
            };
            match status {
                200..=299 => {
                    let id = match network {
                        Network::X => x::post_id(&answer),
                        Network::Linkedin => linkedin::post_urn(&answer),
                        Network::Facebook => facebook::post_id(&answer),
                    };
                    let Some(id) = id else {
                        return Err(Self::partial(
                            &ids,
                            parts.len(),
                            Failure::new(
                                format!(
                                    "{network} answered {} without the new post's id",
                                    answer.status
                                ),
                                false,
                            ),
                        ));
                    };
                    if let Err(e) = self.store.record_sent(network, &id, now_ms()).await {
                        // The post is out; only the quota's memory of it is lost.
                        tracing::warn!(network = %network, post_id = %id, error = %e, "cannot record a sent post for the quota");
                    }
                    self.with_health(network, |h| h.posts += 1);
                    ids.push(id);
                    index += 1;
                }
                401 if !refreshed_after_401 => {
                    refreshed_after_401 = true;
                    account = self
                        .refresh(client, network, account, correlation_id)
                        .await
                        .map_err(|f| Self::partial(&ids, parts.len(), f))?;
                }
                401 => {
                    let reason = format!(
                        "{network} refused the refreshed access token too ({})",
                        answer.message()
                    );
                    self.mark(network, &account, &reason).await;
                    return Err(Self::partial(
                        &ids,
                        parts.len(),
                        Failure::new(reason, false),
                    ));
                }
                429 => {
                    let now = now_ms();
                    let reset = match network {
                        Network::X => x::reset_at_ms(&answer),
                        Network::Linkedin => linkedin::reset_at_ms(&answer, now),
                        // The Graph API names no reset time for its rate limits.
                        Network::Facebook => None,
                    };
                    let wait = reset.map(|r| Duration::from_millis((r - now).max(0) as u64));
                    self.with_health(network, |h| {
                        h.quota_wait_seconds = wait.map_or(0.0, |w| w.as_secs_f64())
                    });
                    match wait {
                        Some(w) if !waited_for_reset && w <= self.settings.max_rate_limit_wait => {
                            waited_for_reset = true;
                            tracing::info!(network = %network, wait_ms = w.as_millis() as u64, "rate limited; waiting for the reset");
                            tokio::time::sleep(w).await;
                            self.with_health(network, |h| h.quota_wait_seconds = 0.0);
                        }
                        _ => {
                            let until = reset.map_or("an unknown time".to_string(), iso);
                            return Err(Self::partial(
                                &ids,
                                parts.len(),
                                Failure {
                                    reason: format!(
                                        "{network} rate limit reached ({}: {}); it resets at {until}",
                                        answer.status,
                                        answer.message()
                                    ),
                                    retryable: ids.is_empty(),
                                    status: Some(answer.status),
                                },
                            ));
                        }
                    }
                }
                status => {
                    return Err(Self::partial(
                        &ids,
                        parts.len(),
                        Failure {
                            reason: format!(
                                "{network} refused the post ({status}): {}",
                                answer.message()
                            ),
                            retryable: status >= 500 && ids.is_empty(),
                            status: Some(status),
                        },
                    ));
                }
            }
        }
        let first = ids.first().cloned().unwrap_or_default();
        let url = match network {
            Network::X => x::url_of(account.info.username.as_deref(), &first),
            Network::Linkedin => linkedin::url_of(&first),
            Network::Facebook => facebook::url_of(&first),
        };
        Ok((first, url, ids.len()))
    }

    /// Adds what was already posted to a failure: a thread cut short is never retried
    /// blindly (that would post its first parts twice).
    fn partial(ids: &[String], total: usize, mut f: Failure) -> Failure {
        if !ids.is_empty() {
            f.reason = format!(
                "parts 1–{} of {total} were posted ({}); part {} failed: {}",
                ids.len(),
                ids.join(", "),
                ids.len() + 1,
                f.reason
            );
            f.retryable = false;
        }
        f
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_part(
        &self,
        client: &HttpClient,
        network: Network,
        account: &Account,
        text: &str,
        reply_to: Option<&str>,
        link: Option<&str>,
        correlation_id: &str,
    ) -> Result<RawAnswer, CallError> {
        let poster = Poster {
            client,
            upstream: network.as_str(),
            api_base: &self.settings.network(network).api_base,
            token: account.tokens.access_token.expose(),
            correlation_id,
        };
        let account_id = &account.info.account_id;
        match network {
            Network::X => x::post(&poster, text, reply_to).await,
            Network::Linkedin => {
                let version = &self.settings.linkedin_version;
                linkedin::post(&poster, version, account_id, text).await
            }
            Network::Facebook => {
                let version = &self.settings.facebook_version;
                facebook::post(&poster, version, account_id, text, link).await
            }
        }
    }

    async fn mark(&self, network: Network, account: &Account, reason: &str) {
        self.with_health(network, |h| {
            h.reconnect_needed = true;
            h.last_error = Some(reason.to_string());
        });
        tracing::error!(network = %network, reason, "social account needs reconnecting");
        if let Err(e) = self
            .store
            .mark_reconnect(network, account.revision, reason, now_ms())
            .await
        {
            tracing::error!(network = %network, error = %e, "could not record that the account needs reconnecting");
        }
    }

    /// New tokens for `account`. Another process may have refreshed first: then its tokens
    /// are used. A refusal marks the account; a network failure does not.
    async fn refresh(
        &self,
        client: &HttpClient,
        network: Network,
        account: Account,
        correlation_id: &str,
    ) -> Result<Account, Failure> {
        let _one = self.refreshing.lock().await;
        // Someone may have refreshed while we waited for the lock.
        let latest = self.store.load(network).await?.ok_or_else(|| {
            Failure::new(format!("the {network} account was disconnected"), false)
        })?;
        if latest.revision != account.revision
            && latest.tokens.access_token != account.tokens.access_token
            && latest
                .tokens
                .expires_at_ms
                .is_none_or(|t| t > now_ms() + REFRESH_MARGIN_MS)
        {
            return Ok(latest);
        }
        let settings = self.settings.network(network);
        match oauth::refresh(
            client,
            network,
            settings,
            &latest.tokens,
            correlation_id,
            now_ms(),
        )
        .await
        {
            Ok(tokens) => {
                self.with_health(network, |h| h.refreshes += 1);
                if self
                    .store
                    .save_refreshed(network, latest.revision, &tokens, now_ms())
                    .await?
                {
                    tracing::info!(network = %network, "access token refreshed");
                } else {
                    tracing::warn!(network = %network, "another process refreshed the tokens first; using theirs");
                }
                self.store.load(network).await?.ok_or_else(|| {
                    Failure::new(format!("the {network} account was disconnected"), false)
                })
            }
            Err(RefreshError::Unavailable(why)) => {
                self.with_health(network, |h| h.refresh_failures += 1);
                Err(Failure::new(
                    format!("the {network} token could not be refreshed now: {why}"),
                    true,
                ))
            }
            Err(RefreshError::Rejected(why) | RefreshError::Impossible(why)) => {
                self.with_health(network, |h| h.refresh_failures += 1);
                let reason = format!("{why}; connect the {network} account again");
                self.mark(network, &latest, &reason).await;
                Err(Failure::new(
                    format!("the {} needs reconnecting: {reason}", Self::who(&latest)),
                    false,
                ))
            }
        }
    }
}
