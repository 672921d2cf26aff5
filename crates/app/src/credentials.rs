//! Outbound credentials kept in the database: the CRM and Platform API keys an operator
//! stores through `/api/v2/credentials` or `halcytone credentials set`. Values are sealed
//! by the vault (AES-256-GCM under `API_KEY_ENCRYPTION_KEY`) before they reach the store,
//! and opened only to hand them to the publishers. A stored key takes the place of the
//! environment's (`CRM_API_KEY`, `PLATFORM_API_KEY`); deleting it brings the environment's
//! back. Every API process and worker picks up a change before its next publish.

use halcytone_publish::Publishing;
use halcytone_publish::client::Upstream;
use halcytone_store::{Store, StoreError, StoredCredential};
use halcytone_vault::{Keyring, Secret, VaultError};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// A credential the product knows how to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub name: &'static str,
    pub description: &'static str,
    /// The variable it replaces.
    pub env_var: &'static str,
}

pub const KNOWN: &[Spec] = &[
    Spec {
        name: "crm_api_key",
        description: "API key sent to the CRM (X-API-Key) for newsletters",
        env_var: "CRM_API_KEY",
    },
    Spec {
        name: "platform_api_key",
        description: "API key sent to the web Platform (X-API-Key) for web and social posts",
        env_var: "PLATFORM_API_KEY",
    },
];

/// The longest value accepted.
pub const MAX_VALUE_CHARS: usize = 4096;

pub fn spec(name: &str) -> Option<&'static Spec> {
    KNOWN.iter().find(|s| s.name == name)
}

pub fn known_names() -> String {
    KNOWN.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Checks a value before it is sealed; the error says what is wrong with it.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(format!("at most {MAX_VALUE_CHARS} characters"));
    }
    if value.trim() != value {
        return Err("has leading or trailing whitespace (a copy-and-paste slip?)".into());
    }
    if value.chars().any(char::is_control) {
        return Err("contains control characters such as newlines".into());
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "API_KEY_ENCRYPTION_KEY is not set, so credentials and social tokens cannot be stored encrypted; set it (32 or more characters) and restart"
    )]
    NoKeyring,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What this process has applied to its publishers, and the environment's keys to fall
/// back on.
#[derive(Debug)]
pub struct Credentials {
    keyring: Option<Keyring>,
    env: HashMap<&'static str, Option<Secret>>,
    /// Stored revision in use per credential name.
    applied: Mutex<HashMap<&'static str, i64>>,
}

fn upstream<'a>(publishing: &'a Publishing, name: &str) -> Option<&'a Upstream> {
    match name {
        "crm_api_key" => Some(&publishing.crm),
        "platform_api_key" => Some(&publishing.platform),
        _ => None,
    }
}

impl Credentials {
    /// Remembers the publishers' keys as the environment gave them.
    pub fn new(keyring: Option<Keyring>, publishing: &Publishing) -> Self {
        let env = KNOWN
            .iter()
            .map(|s| {
                (
                    s.name,
                    upstream(publishing, s.name).and_then(Upstream::api_key),
                )
            })
            .collect();
        Credentials {
            keyring,
            env,
            applied: Mutex::default(),
        }
    }

    /// For listings outside a running service (the CLI): nothing applied, no environment
    /// keys known.
    pub fn without_publishers(keyring: Option<Keyring>) -> Self {
        Credentials {
            keyring,
            env: HashMap::new(),
            applied: Mutex::default(),
        }
    }

    pub fn keyring(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }

    fn applied(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, i64>> {
        self.applied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Brings the publishers' keys in line with the store: a new or changed stored key is
    /// opened and used; a deleted one gives way to the environment's. A stored key that does
    /// not open is logged and the key in use is kept (the next sync tries again).
    pub async fn sync(&self, store: &dyn Store, publishing: &Publishing) -> Result<(), StoreError> {
        let stored: HashMap<String, StoredCredential> = store
            .credentials()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        for spec in KNOWN {
            let Some(up) = upstream(publishing, spec.name) else {
                continue;
            };
            let current = self.applied().get(spec.name).copied();
            match stored.get(spec.name) {
                Some(row) if current != Some(row.revision) => match self.open(row) {
                    Ok(secret) => {
                        up.set_api_key(Some(secret));
                        self.applied().insert(spec.name, row.revision);
                        tracing::info!(
                            credential = spec.name,
                            revision = row.revision,
                            key_id = %row.key_id,
                            "using the stored credential"
                        );
                    }
                    Err(e) => tracing::error!(
                        credential = spec.name,
                        error = %e,
                        "a stored credential cannot be opened; keeping the key in use"
                    ),
                },
                Some(_) => {}
                None if current.is_some() => {
                    up.set_api_key(self.env.get(spec.name).cloned().flatten());
                    self.applied().remove(spec.name);
                    tracing::info!(
                        credential = spec.name,
                        "stored credential removed; back to {}",
                        spec.env_var
                    );
                }
                None => {}
            }
        }
        Ok(())
    }

    fn open(&self, row: &StoredCredential) -> Result<Secret, CredentialError> {
        let ring = self.keyring.as_ref().ok_or(CredentialError::NoKeyring)?;
        Ok(ring.open(&row.name, &row.sealed)?)
    }

    /// Seals and stores a value; returns the stored row.
    pub async fn put(
        &self,
        store: &dyn Store,
        spec: &Spec,
        value: &Secret,
        actor: &str,
        now_ms: i64,
    ) -> Result<StoredCredential, CredentialError> {
        let ring = self.keyring.as_ref().ok_or(CredentialError::NoKeyring)?;
        let sealed = ring.seal(spec.name, value)?;
        let meta = json!({ "masked": value.masked(), "set_by": actor });
        Ok(store
            .put_credential(spec.name, &sealed.text, &sealed.key_id, &meta, now_ms)
            .await?)
    }

    /// What the listing shows about one credential: where the key in use comes from, and
    /// whether the stored one opens. Never the value.
    pub fn describe(&self, spec: &Spec, row: Option<&StoredCredential>) -> Value {
        let env_set = self.env.get(spec.name).is_some_and(Option::is_some);
        let stored = row.map(|r| {
            let (readable, error) = match self.open(r) {
                Ok(_) => (true, None),
                Err(e) => (false, Some(e.to_string())),
            };
            json!({
                "key_id": r.key_id,
                "revision": r.revision,
                "masked": r.meta.get("masked"),
                "set_by": r.meta.get("set_by"),
                "created_at": crate::queue::iso(r.created_ms),
                "updated_at": crate::queue::iso(r.updated_ms),
                "readable": readable,
                "error": error,
                "needs_reseal": self.keyring.as_ref().is_some_and(|k| k.needs_reseal(&r.sealed)),
            })
        });
        let source = match (&stored, env_set) {
            (Some(s), _) if s["readable"] == true => "stored",
            (_, true) => "environment",
            _ => "none",
        };
        json!({
            "name": spec.name,
            "description": spec.description,
            "env_var": spec.env_var,
            "source": source,
            "environment_set": env_set,
            "stored": stored,
        })
    }

    /// The encryption settings, without any key material.
    pub fn encryption(&self) -> Value {
        match &self.keyring {
            Some(k) => json!({
                "configured": true,
                "algorithm": "AES-256-GCM",
                "key_id": k.current_id(),
                "previous_key_ids": k.previous_ids(),
            }),
            None => json!({ "configured": false, "algorithm": "AES-256-GCM" }),
        }
    }
}

/// What a rotation did.
#[derive(Debug, Default, Serialize)]
pub struct Rotation {
    pub key_id: String,
    pub resealed: Vec<String>,
    pub already_current: Vec<String>,
    pub failed: Vec<RotationFailure>,
}

#[derive(Debug, Serialize)]
pub struct RotationFailure {
    pub name: String,
    pub error: String,
}

/// Seals every stored credential again under the current key (run after moving the old key
/// to `API_KEY_ENCRYPTION_KEY_PREVIOUS`). Each row is replaced only at the revision read, so
/// a value changed meanwhile is never overwritten; a row that does not open is left as it is
/// and reported.
pub async fn rotate(
    store: &dyn Store,
    ring: &Keyring,
    now_ms: i64,
) -> Result<Rotation, StoreError> {
    let mut out = Rotation {
        key_id: ring.current_id().to_string(),
        ..Rotation::default()
    };
    for row in store.credentials().await? {
        if !ring.needs_reseal(&row.sealed) {
            out.already_current.push(row.name);
            continue;
        }
        let resealed = ring
            .open(&row.name, &row.sealed)
            .and_then(|plain| ring.seal(&row.name, &plain));
        let sealed = match resealed {
            Ok(s) => s,
            Err(e) => {
                out.failed.push(RotationFailure {
                    name: row.name,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if store
            .replace_credential(
                &row.name,
                row.revision,
                &sealed.text,
                &sealed.key_id,
                &row.meta,
                now_ms,
            )
            .await?
        {
            out.resealed.push(row.name);
        } else {
            out.failed.push(RotationFailure {
                name: row.name,
                error: "it changed while it was resealed; run the rotation again".into(),
            });
        }
    }
    Ok(out)
}

// Use cases over the stored credentials (the API's /api/v2/credentials routes).

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::queue::now_ms;

/// The credential a name means; an unknown name is not found, with the known ones.
pub fn known(name: &str) -> AppResult<&'static Spec> {
    spec(name).ok_or_else(|| {
        AppError::NotFound(format!(
            "no credential named {name}; known: {}",
            known_names()
        ))
    })
}

impl From<CredentialError> for AppError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NoKeyring => AppError::Conflict(e.to_string()),
            CredentialError::Store(s) => AppError::Store(s),
            CredentialError::Vault(v) => AppError::Internal(v.to_string()),
        }
    }
}

/// Every known credential: whether it is stored, its revision and where the key in use comes
/// from (never the value), and whether encryption is configured.
pub async fn list(state: &Core) -> AppResult<Value> {
    let rows = state.store.credentials().await?;
    let creds = &state.credentials;
    let items: Vec<Value> = KNOWN
        .iter()
        .map(|spec| creds.describe(spec, rows.iter().find(|r| r.name == spec.name)))
        .collect();
    Ok(json!({
        "encryption": creds.encryption(),
        "credentials": items,
    }))
}

/// Seals and stores a credential's value, audits it, and brings the publishers' keys up to
/// date.
pub async fn store(state: &Core, caller: &Caller, name: &str, value: String) -> AppResult<Value> {
    let spec = known(name)?;
    check_value(&value).map_err(|m| AppError::invalid("value", format!("value: {m}")))?;
    let actor = format!("api_key:{}", caller.key_id);
    let row = state
        .credentials
        .put(
            state.store.as_ref(),
            spec,
            &Secret::new(value),
            &actor,
            now_ms(),
        )
        .await?;
    state
        .store
        .audit(
            &actor,
            "credential.stored",
            spec.name,
            &json!({ "key_id": row.key_id, "revision": row.revision }).to_string(),
            now_ms(),
        )
        .await?;
    state
        .credentials
        .sync(state.store.as_ref(), &state.publishing)
        .await?;
    tracing::info!(
        credential = spec.name,
        revision = row.revision,
        "credential stored"
    );
    Ok(state.credentials.describe(spec, Some(&row)))
}

/// Deletes a stored credential (the environment's key, if any, is used again), audited.
pub async fn remove(state: &Core, caller: &Caller, name: &str) -> AppResult<Value> {
    let spec = known(name)?;
    if !state.store.delete_credential(spec.name).await? {
        return Err(AppError::NotFound(format!(
            "{} is not stored (the key in use, if any, comes from {})",
            spec.name, spec.env_var
        )));
    }
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(&actor, "credential.deleted", spec.name, "{}", now_ms())
        .await?;
    state
        .credentials
        .sync(state.store.as_ref(), &state.publishing)
        .await?;
    Ok(json!({
        "deleted": spec.name,
        "now": state.credentials.describe(spec, None),
    }))
}

/// Reseals every stored credential under the current key, audited.
pub async fn rotate_all(state: &Core, caller: &Caller) -> AppResult<Value> {
    let ring = state
        .credentials
        .keyring()
        .ok_or(CredentialError::NoKeyring)?;
    let done = rotate(state.store.as_ref(), ring, now_ms()).await?;
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(
            &actor,
            "credential.rotated",
            "*",
            &json!({ "key_id": done.key_id, "resealed": done.resealed, "failed": done.failed.len() })
                .to_string(),
            now_ms(),
        )
        .await?;
    Ok(serde_json::to_value(&done).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_before_sealing() {
        assert!(check_value("crm-key-123").is_ok());
        assert_eq!(check_value("").unwrap_err(), "must not be empty");
        assert!(check_value(" key").unwrap_err().contains("whitespace"));
        assert!(check_value("a\nb").unwrap_err().contains("control"));
        assert!(check_value(&"k".repeat(MAX_VALUE_CHARS + 1)).is_err());
        assert_eq!(known_names(), "crm_api_key, platform_api_key");
        assert_eq!(spec("crm_api_key").map(|s| s.env_var), Some("CRM_API_KEY"));
        assert!(spec("password").is_none());
    }
}
