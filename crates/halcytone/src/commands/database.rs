//! `halcytone migrate` and `halcytone keys create|revoke|list`.

use crate::cli::{DatabaseArgs, KeysCommand};
use crate::output::{out, outln};
use anyhow::{Context, Result, bail};
use halcytone_store::{ApiKey, KeyLimits, Scope, Store};
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
        outln!(
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
            KeysCommand::Create {
                name,
                scopes,
                limits,
                db,
            } => {
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
                let limits = limits.limits();
                if !limits.is_empty() {
                    store.set_api_key_limits(&key.id, &limits).await?;
                }
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
                outln!("{secret}");
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::Limit { id, limits, db } => {
                let store = open(&db).await?;
                let limits = limits.limits();
                if !store.set_api_key_limits(&id, &limits).await? {
                    bail!("no key with id '{id}'");
                }
                let detail = serde_json::to_string(&limits).unwrap_or_default();
                store
                    .audit("cli", "api_key_limits_set", &id, &detail, now_ms())
                    .await?;
                outln!("{id}: {}", budgets(&limits));
                Ok(ExitCode::SUCCESS)
            }
            KeysCommand::Revoke { id, db } => {
                let store = open(&db).await?;
                if store.revoke_api_key(&id, now_ms()).await? {
                    store
                        .audit("cli", "api_key_revoked", &id, "{}", now_ms())
                        .await?;
                    outln!("revoked {id}");
                    Ok(ExitCode::SUCCESS)
                } else {
                    bail!("no active key with id '{id}'")
                }
            }
            KeysCommand::List { db } => {
                let store = open(&db).await?;
                let keys = store.api_keys().await?;
                if keys.is_empty() {
                    eprintln!(
                        "no stored keys; create one with `halcytone keys create --name NAME`"
                    );
                }
                out!("{}", key_table(&keys));
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// A UTC time to the second, from epoch milliseconds.
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// A key's own budgets in words (`service budgets` when it has none).
fn budgets(l: &KeyLimits) -> String {
    let mut parts = Vec::new();
    let per = |n: u32, what: &str| match n {
        0 => format!("{what} unlimited"),
        n => format!("{n} {what}"),
    };
    if let Some(n) = l.reads_per_second {
        parts.push(per(n, "reads/s"));
    }
    if let Some(n) = l.read_burst {
        parts.push(format!("burst {n}"));
    }
    if let Some(n) = l.writes_per_minute {
        parts.push(per(n, "writes/min"));
    }
    if parts.is_empty() {
        "service budgets".into()
    } else {
        parts.join(", ")
    }
}

/// The keys as aligned columns under a header, one line each.
fn key_table(keys: &[ApiKey]) -> String {
    let rows: Vec<[String; 7]> = keys
        .iter()
        .map(|k| {
            [
                k.id.clone(),
                k.name.clone(),
                format!("{}…", k.prefix),
                k.scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                utc(k.created_ms),
                budgets(&k.limits),
                k.revoked_ms
                    .map_or_else(|| "active".to_string(), |r| format!("revoked {}", utc(r))),
            ]
        })
        .collect();
    let header = [
        "ID", "NAME", "PREFIX", "SCOPES", "CREATED", "BUDGETS", "STATE",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{key_table, redact};
    use halcytone_store::{ApiKey, KeyLimits, Scope};

    #[test]
    fn keys_are_listed_in_columns_without_their_secrets() {
        let keys = [
            ApiKey {
                id: "key_1".into(),
                name: "dashboard".into(),
                prefix: "hk_0123456".into(),
                scopes: vec![Scope::Read, Scope::Write],
                created_ms: 1_796_112_000_000,
                revoked_ms: None,
                limits: KeyLimits::default(),
            },
            ApiKey {
                id: "key_22".into(),
                name: "ci".into(),
                prefix: "hk_abcdefg".into(),
                scopes: vec![Scope::Admin],
                created_ms: 1_796_112_000_000,
                revoked_ms: Some(1_796_115_600_000),
                limits: KeyLimits {
                    reads_per_second: Some(50),
                    read_burst: None,
                    writes_per_minute: Some(0),
                },
            },
        ];
        assert_eq!(
            key_table(&keys),
            "ID      NAME       PREFIX       SCOPES      CREATED               BUDGETS                           STATE\n\
             key_1   dashboard  hk_0123456…  read,write  2026-12-01 08:00:00Z  service budgets                   active\n\
             key_22  ci         hk_abcdefg…  admin       2026-12-01 08:00:00Z  50 reads/s, writes/min unlimited  revoked 2026-12-01 09:00:00Z\n"
        );
    }

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
