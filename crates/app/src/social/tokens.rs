//! [`TokenStore`] over the credentials table: the tokens are sealed JSON
//! (`{access_token, refresh_token}`), the account's details (`AccountInfo`) are the row's
//! meta, and every write is revision-checked so a rotated refresh token is never lost to a
//! concurrent writer. Sent posts go to the `social_posts` table under the mode (`live` or
//! `dry_run`), so a rehearsal never uses up the live quota.

use halcytone_publish::publishers::BoxFuture;
use halcytone_publish::social::{
    Account, AccountInfo, AccountStatus, Network, TokenStore, TokenStoreError, Tokens,
};
use halcytone_store::{Store, StoredCredential};
use halcytone_vault::{Keyring, Secret};
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct StoreTokens {
    store: Arc<dyn Store>,
    keyring: Option<Keyring>,
    /// Which quota the posts count against: `live`, or `dry_run` for rehearsals.
    mode: &'static str,
}

fn err(e: impl std::fmt::Display) -> TokenStoreError {
    TokenStoreError(e.to_string())
}

/// The sealed part of an account.
pub fn sealed_json(tokens: &Tokens) -> String {
    json!({
        "access_token": tokens.access_token.expose(),
        "refresh_token": tokens.refresh_token.as_ref().map(Secret::expose),
    })
    .to_string()
}

impl StoreTokens {
    pub fn new(store: Arc<dyn Store>, keyring: Option<Keyring>) -> Self {
        StoreTokens {
            store,
            keyring,
            mode: "live",
        }
    }

    /// Counts sent posts as a rehearsal's (`dry_run`) rather than live ones.
    pub fn rehearsal(mut self, dry_run: bool) -> Self {
        self.mode = if dry_run { "dry_run" } else { "live" };
        self
    }

    fn ring(&self) -> Result<&Keyring, TokenStoreError> {
        self.keyring.as_ref().ok_or_else(|| {
            err("API_KEY_ENCRYPTION_KEY is not set, so social tokens cannot be stored or read")
        })
    }

    /// Opens a stored account.
    pub fn open(&self, row: &StoredCredential) -> Result<Account, TokenStoreError> {
        let plain = self.ring()?.open(&row.name, &row.sealed).map_err(err)?;
        let v: Value = serde_json::from_str(plain.expose())
            .map_err(|e| err(format!("{}: the sealed tokens are not JSON: {e}", row.name)))?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(Secret::new)
        };
        let access_token = text("access_token")
            .ok_or_else(|| err(format!("{}: no access token is stored", row.name)))?;
        let info: AccountInfo = serde_json::from_value(row.meta.clone()).map_err(|e| {
            err(format!(
                "{}: the account details are unreadable: {e}",
                row.name
            ))
        })?;
        Ok(Account {
            tokens: Tokens {
                access_token,
                refresh_token: text("refresh_token"),
                expires_at_ms: info.expires_at_ms,
            },
            info,
            revision: row.revision,
        })
    }

    /// Stores a newly connected account (replacing any earlier one).
    pub async fn connect(
        &self,
        info: &AccountInfo,
        tokens: &Tokens,
        now_ms: i64,
    ) -> Result<StoredCredential, TokenStoreError> {
        let name = info.network.credential_name();
        let sealed = self
            .ring()?
            .seal(name, &Secret::new(sealed_json(tokens)))
            .map_err(err)?;
        let meta = serde_json::to_value(info).map_err(err)?;
        self.store
            .put_credential(name, &sealed.text, &sealed.key_id, &meta, now_ms)
            .await
            .map_err(err)
    }

    /// Stored account details (without opening the tokens).
    pub async fn info(
        &self,
        network: Network,
    ) -> Result<Option<(AccountInfo, StoredCredential)>, TokenStoreError> {
        let Some(row) = self
            .store
            .credential(network.credential_name())
            .await
            .map_err(err)?
        else {
            return Ok(None);
        };
        let info = serde_json::from_value(row.meta.clone()).map_err(err)?;
        Ok(Some((info, row)))
    }
}

impl TokenStore for StoreTokens {
    fn load(&self, network: Network) -> BoxFuture<'_, Result<Option<Account>, TokenStoreError>> {
        Box::pin(async move {
            match self
                .store
                .credential(network.credential_name())
                .await
                .map_err(err)?
            {
                Some(row) => self.open(&row).map(Some),
                None => Ok(None),
            }
        })
    }

    fn save_refreshed<'a>(
        &'a self,
        network: Network,
        revision: i64,
        tokens: &'a Tokens,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        Box::pin(async move {
            let name = network.credential_name();
            let Some(row) = self.store.credential(name).await.map_err(err)? else {
                return Ok(false);
            };
            if row.revision != revision {
                return Ok(false);
            }
            let mut info: AccountInfo = serde_json::from_value(row.meta.clone()).map_err(err)?;
            info.expires_at_ms = tokens.expires_at_ms;
            info.refreshed_ms = Some(now_ms);
            info.status = AccountStatus::Connected;
            info.last_error = None;
            let sealed = self
                .ring()?
                .seal(name, &Secret::new(sealed_json(tokens)))
                .map_err(err)?;
            let meta = serde_json::to_value(&info).map_err(err)?;
            self.store
                .replace_credential(name, revision, &sealed.text, &sealed.key_id, &meta, now_ms)
                .await
                .map_err(err)
        })
    }

    fn mark_reconnect<'a>(
        &'a self,
        network: Network,
        revision: i64,
        reason: &'a str,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            let name = network.credential_name();
            let Some(row) = self.store.credential(name).await.map_err(err)? else {
                return Ok(());
            };
            if row.revision != revision {
                // Someone reconnected or refreshed meanwhile: their state stands.
                return Ok(());
            }
            let mut info: AccountInfo = serde_json::from_value(row.meta.clone()).map_err(err)?;
            info.status = AccountStatus::ReconnectNeeded;
            info.last_error = Some(reason.to_string());
            let meta = serde_json::to_value(&info).map_err(err)?;
            // The sealed tokens stay exactly as they were.
            let replaced = self
                .store
                .replace_credential(name, revision, &row.sealed, &row.key_id, &meta, now_ms)
                .await
                .map_err(err)?;
            if replaced {
                let data = serde_json::json!({
                    "network": network.as_str(),
                    "reason": reason,
                    "account_id": info.account_id,
                });
                let subject = format!("{}:{revision}", network.as_str());
                if let Err(e) = crate::webhooks::owe(
                    self.store.as_ref(),
                    "account.reconnect_needed",
                    &subject,
                    data,
                )
                .await
                {
                    tracing::warn!(error = %e, "webhook event not recorded");
                }
            }
            Ok(())
        })
    }

    fn sent_since(
        &self,
        network: Network,
        since_ms: i64,
    ) -> BoxFuture<'_, Result<Vec<i64>, TokenStoreError>> {
        Box::pin(async move {
            self.store
                .social_posts_since(network.as_str(), self.mode, since_ms)
                .await
                .map_err(err)
        })
    }

    fn record_sent<'a>(
        &'a self,
        network: Network,
        post_id: &'a str,
        sent_ms: i64,
    ) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        Box::pin(async move {
            self.store
                .record_social_post(network.as_str(), self.mode, post_id, sent_ms)
                .await
                .map_err(err)
        })
    }
}
