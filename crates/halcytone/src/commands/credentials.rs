//! `halcytone credentials …`: outbound credentials stored encrypted in the database, for
//! operators who prefer the command line to `/api/v2/credentials`. A value is read from
//! standard input, never from the command line.

use super::database::open;
use crate::cli::{CredentialsCommand, DatabaseArgs};
use crate::output::outln;
use anyhow::{Context, Result, anyhow, bail};
use halcytone_http::credentials::{self, Credentials, KNOWN};
use halcytone_vault::{Keyring, Secret};
use std::io::Read;
use std::process::ExitCode;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn keyring() -> Result<Option<Keyring>> {
    Keyring::from_vars(|k| std::env::var(k).ok()).map_err(|e| anyhow!("{e}"))
}

fn required(ring: Option<Keyring>) -> Result<Keyring> {
    ring.ok_or_else(|| anyhow!("{}", credentials::CredentialError::NoKeyring))
}

/// Reads one value from standard input; only the final line break is dropped.
fn read_value(name: &str) -> Result<Secret> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the value from standard input")?;
    let value = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    credentials::check_value(value).map_err(|m| anyhow!("{name}: the value {m}"))?;
    Ok(Secret::new(value))
}

pub fn run(cmd: CredentialsCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        match cmd {
            CredentialsCommand::List { db } => list(&db).await,
            CredentialsCommand::Set { name, db } => {
                let spec = credentials::spec(&name).ok_or_else(|| {
                    anyhow!("no credential named {name}; known: {}", credentials::known_names())
                })?;
                let ring = required(keyring()?)?;
                let value = read_value(spec.name)?;
                let store = open(&db).await?;
                let sealed = ring.seal(spec.name, &value).map_err(|e| anyhow!("{e}"))?;
                let meta = serde_json::json!({ "masked": value.masked(), "set_by": "cli" });
                let row = store
                    .put_credential(spec.name, &sealed.text, &sealed.key_id, &meta, now_ms())
                    .await?;
                store
                    .audit(
                        "cli",
                        "credential.stored",
                        spec.name,
                        &serde_json::json!({ "key_id": row.key_id, "revision": row.revision })
                            .to_string(),
                        now_ms(),
                    )
                    .await?;
                outln!(
                    "stored {} ({}) sealed with key {}, revision {}; it replaces {} from the next publish",
                    spec.name,
                    value.masked(),
                    row.key_id,
                    row.revision,
                    spec.env_var
                );
                Ok(ExitCode::SUCCESS)
            }
            CredentialsCommand::Delete { name, db } => {
                let spec = credentials::spec(&name).ok_or_else(|| {
                    anyhow!("no credential named {name}; known: {}", credentials::known_names())
                })?;
                let store = open(&db).await?;
                if !store.delete_credential(spec.name).await? {
                    bail!("{} is not stored", spec.name);
                }
                store
                    .audit("cli", "credential.deleted", spec.name, "{}", now_ms())
                    .await?;
                outln!("deleted {}; {} is used again where set", spec.name, spec.env_var);
                Ok(ExitCode::SUCCESS)
            }
            CredentialsCommand::Rotate { db } => {
                let ring = required(keyring()?)?;
                let store = open(&db).await?;
                let done = credentials::rotate(store.as_ref(), &ring, now_ms()).await?;
                store
                    .audit(
                        "cli",
                        "credential.rotated",
                        "*",
                        &serde_json::json!({ "key_id": done.key_id, "resealed": done.resealed, "failed": done.failed.len() })
                            .to_string(),
                        now_ms(),
                    )
                    .await?;
                outln!(
                    "key {}: resealed {} ({}), already current {}",
                    done.key_id,
                    done.resealed.len(),
                    done.resealed.join(", "),
                    done.already_current.len()
                );
                for f in &done.failed {
                    eprintln!("not resealed: {}: {}", f.name, f.error);
                }
                Ok(if done.failed.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
        }
    })
}

async fn list(db: &DatabaseArgs) -> Result<ExitCode> {
    let ring = keyring()?;
    let store = open(db).await?;
    let rows = store.credentials().await?;
    match &ring {
        Some(k) => outln!(
            "encryption key {} (previous: {})",
            k.current_id(),
            if k.previous_ids().is_empty() {
                "none".to_string()
            } else {
                k.previous_ids().join(", ")
            }
        ),
        None => outln!("API_KEY_ENCRYPTION_KEY is not set: stored credentials cannot be opened"),
    }
    let publishing_free = Credentials::without_publishers(ring);
    let mut unreadable = 0;
    for spec in KNOWN {
        let d = publishing_free.describe(spec, rows.iter().find(|r| r.name == spec.name));
        let stored = &d["stored"];
        if stored.is_null() {
            outln!(
                "{:<18} not stored ({} is used where set)",
                spec.name,
                spec.env_var
            );
            continue;
        }
        let state = if stored["readable"] == true {
            if stored["needs_reseal"] == true {
                "opens; sealed with an older key (run `halcytone credentials rotate`)".to_string()
            } else {
                "opens".to_string()
            }
        } else {
            unreadable += 1;
            format!("DOES NOT OPEN: {}", stored["error"].as_str().unwrap_or("?"))
        };
        outln!(
            "{:<18} {} key {} revision {} updated {} by {}: {state}",
            spec.name,
            stored["masked"].as_str().unwrap_or("****"),
            stored["key_id"].as_str().unwrap_or("?"),
            stored["revision"],
            stored["updated_at"].as_str().unwrap_or("?"),
            stored["set_by"].as_str().unwrap_or("?"),
        );
    }
    Ok(if unreadable == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
