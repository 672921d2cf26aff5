//! `halcytone migrate` and `halcytone keys create|revoke`.

use crate::cli::{DatabaseArgs, KeysCommand};
use anyhow::{Context, Result, bail};
use halcytone_store::{Scope, Store};
use std::process::ExitCode;
use std::sync::Arc;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Opens (and thereby migrates) the store the URL names; the password is never printed.
pub async fn open(args: &DatabaseArgs) -> Result<Arc<dyn Store>> {
    halcytone_store::open(&args.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&args.database_url)))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

pub fn migrate(args: &DatabaseArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(args).await?;
        let versions = store.migrations().await?;
        println!(
            "{} database {} is at migration {} ({} applied)",
            store.backend(),
            redact(&args.database_url),
            versions.last().copied().unwrap_or(0),
            versions.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn keys(cmd: KeysCommand) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match cmd {
            KeysCommand::Create { name, scopes, db } => {
                let mut parsed = Vec::new();
                for s in &scopes {
                    match Scope::parse(s) {
                        Some(scope) => parsed.push(scope),
                        None => bail!("--scopes: unknown scope '{s}'; scopes: read, write, admin"),
                    }
                }
                if name.trim().is_empty() {
                    bail!("--name: must not be empty");
                }
                let store = open(&db).await?;
                let (key, secret) = store.create_api_key(name.trim(), &parsed, now_ms()).await?;
                store
                    .audit(
                        "cli",
                        "api_key_created",
                        &key.id,
                        &format!("{{\"name\":{:?}}}", key.name),
                        now_ms(),
                    )
                    .await?;
                eprintln!(
                    "created {} ({}) with scopes {}; the secret is shown only now:",
                    key.id,
                    key.name,
                    scopes.join(",")
                );
                println!("{secret}");
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::Revoke { id, db } => {
                let store = open(&db).await?;
                if store.revoke_api_key(&id, now_ms()).await? {
                    store
                        .audit("cli", "api_key_revoked", &id, "{}", now_ms())
                        .await?;
                    println!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                } else {
                    bail!("no active key with id '{id}'")
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
