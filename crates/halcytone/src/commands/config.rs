//! `halcytone config check`: reads the configuration as `serve` would (environment and .env)
//! and explains every bad value — its name, the value (secrets hidden) and why — plus risky
//! ones (warnings). Production refuses placeholder secrets and dry-run-less publishing
//! without upstream keys.

use super::generate::brand;
use crate::cli::BrandArgs;
use crate::output::outln;
use anyhow::{Context, Result};
use halcytone_http::ServerConfig;
use halcytone_publish::{SettingError, Settings};
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

/// Variables whose values are never printed.
const SECRETS: [&str; 14] = [
    "API_KEY",
    "X_CLIENT_SECRET",
    "LINKEDIN_CLIENT_SECRET",
    "API_KEY_ENCRYPTION_KEY_PREVIOUS",
    "CRM_API_KEY",
    "PLATFORM_API_KEY",
    "JWT_SECRET_KEY",
    "API_KEY_ENCRYPTION_KEY",
    "DATABASE_URL",
    "CACHE_WEBHOOK_SECRET",
    "CDN_API_KEY",
    "NOTION_API_KEY",
    "GOOGLE_CREDENTIALS_JSON",
    // A PEM private key: the DKIM signing key of SMTP mail.
    "DKIM_PRIVATE_KEY",
];

/// Whether a variable holds a secret: listed, or named like one (`…_KEY`, `…_SECRET`,
/// `…_TOKEN`, `…PASSWORD…`, `…CREDENTIALS…`, a URL that may carry a password).
fn is_secret(name: &str) -> bool {
    SECRETS.contains(&name)
        || ["_KEY", "_SECRET", "_TOKEN"]
            .iter()
            .any(|end| name.ends_with(end))
        || ["PASSWORD", "CREDENTIALS", "SECRET_KEY", "REDIS_URL"]
            .iter()
            .any(|part| name.contains(part))
}

fn shown(name: &str, value: &str) -> String {
    if is_secret(name) && !value.is_empty() {
        format!("({} characters, hidden)", value.chars().count())
    } else {
        format!("{value:?}")
    }
}

/// Every variable the configuration readers look at, with its value when set: the readers
/// run with a getter that notes each name it is asked for.
fn settings_read() -> Vec<(String, Option<String>)> {
    let seen: std::cell::RefCell<std::collections::BTreeMap<String, Option<String>>> =
        std::cell::RefCell::default();
    let get = |name: &str| {
        let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        seen.borrow_mut().insert(name.to_string(), value.clone());
        value
    };
    let _ = Settings::from_vars(&get, false);
    let _ = ServerConfig::from_vars(&get);
    seen.into_inner().into_iter().collect()
}

/// The settings in force, one per line, secrets hidden; unset ones take their default.
fn print_settings() -> Result<()> {
    let all = settings_read();
    let set = all.iter().filter(|(_, v)| v.is_some()).count();
    outln!(
        "settings: {} read, {set} set (environment and .env), the rest default",
        all.len()
    );
    for (name, value) in &all {
        match value {
            Some(v) => outln!("  {name}={}", shown(name, v)),
            None => outln!("  {name} (default)"),
        }
    }
    Ok(())
}

/// Every error a reader reports, found by setting each bad variable aside in turn (a bad
/// value is hidden; a missing one is filled with a stand-in) and reading again.
fn all_errors<T>(
    read: impl Fn(&dyn Fn(&str) -> Option<String>) -> Result<T, SettingError>,
) -> Vec<SettingError> {
    let mut hidden: HashSet<&'static str> = HashSet::new();
    let mut filled: HashSet<&'static str> = HashSet::new();
    let mut found = Vec::new();
    for _ in 0..32 {
        let get = |name: &str| {
            if filled.contains(name) {
                Some("http://stand-in.invalid".to_string())
            } else if hidden.contains(name) {
                None
            } else {
                std::env::var(name).ok()
            }
        };
        let Err(e) = read(&get) else { break };
        if hidden.contains(e.name) || filled.contains(e.name) {
            break;
        }
        if e.value.is_empty() {
            filled.insert(e.name);
        } else {
            hidden.insert(e.name);
        }
        found.push(e);
    }
    found
}

fn looks_like_placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    [
        "change",
        "example",
        "placeholder",
        "your-",
        "your_",
        "secret",
        "password",
        "xxx",
        "todo",
        "dev-key",
    ]
    .iter()
    .any(|p| v.contains(p))
        || v.len() < 32
}

pub fn check(connect: bool, brand_args: &BrandArgs) -> Result<ExitCode> {
    let mut errors: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());

    errors.extend(crate::dotenv::problems().iter().cloned());
    let mut named: HashSet<&'static str> = HashSet::new();
    let found = all_errors(|get| Settings::from_vars(get, false))
        .into_iter()
        .chain(all_errors(ServerConfig::from_vars));
    for e in found {
        if named.insert(e.name) {
            let value = std::env::var(e.name).unwrap_or_default();
            errors.push(format!(
                "{}={}: {}",
                e.name,
                shown(e.name, &value),
                e.reason
            ));
        }
    }
    if let Err(e) = brand(brand_args) {
        errors.push(format!("{e}"));
    }
    let db = var("DATABASE_URL").unwrap_or_else(|| "sqlite://data/halcytone.db".into());
    if !(db.starts_with("sqlite:")
        || db.starts_with("postgres://")
        || db.starts_with("postgresql://"))
    {
        errors.push(format!(
            "DATABASE_URL={}: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB",
            shown("DATABASE_URL", &db)
        ));
    }
    if let Some(level) = var("LOG_LEVEL")
        && tracing_subscriber::EnvFilter::try_new(&level).is_err()
    {
        errors.push(format!("LOG_LEVEL={level:?}: not a level or filter (error, warn, info, debug, trace, or target=level,…)"));
    }
    let dry_run = Settings::from_vars(&|n| std::env::var(n).ok(), false).is_ok_and(|s| s.dry_run);
    let production = var("ENVIRONMENT").is_some_and(|e| e.eq_ignore_ascii_case("production"));
    if production {
        for name in [
            "API_KEY",
            "JWT_SECRET_KEY",
            "API_KEY_ENCRYPTION_KEY",
            "API_KEY_ENCRYPTION_KEY_PREVIOUS",
            "CACHE_WEBHOOK_SECRET",
            "CDN_API_KEY",
            "NOTION_API_KEY",
        ] {
            if let Some(v) = var(name)
                && looks_like_placeholder(&v)
            {
                errors.push(format!("{name}={}: looks like a placeholder (or is shorter than 32 characters); production needs a real secret", shown(name, &v)));
            }
        }
        if !dry_run {
            for name in ["CRM_API_KEY", "PLATFORM_API_KEY"] {
                if var(name).is_none() {
                    errors.push(format!(
                        "{name}: required in production when dry run is off"
                    ));
                }
            }
        }
        if var("CORS_ORIGINS").is_some_and(|c| c.trim() == "*") {
            errors.push("CORS_ORIGINS=\"*\": in production list the dashboard's origin; any web page could call the API from a browser".into());
        }
        if dry_run {
            errors.push("DRY_RUN_MODE (or DRY_RUN / USE_MOCK_SERVICES) is on: production publishes to CRM_BASE_URL and PLATFORM_BASE_URL, not the mock services".into());
        }
        if db.starts_with("sqlite:") {
            warnings.push(
                "DATABASE_URL is SQLite: fine for one replica; several replicas need PostgreSQL"
                    .into(),
            );
        }
    }
    if !dry_run && !production {
        warnings.push("dry run is off: publishing goes to CRM_BASE_URL and PLATFORM_BASE_URL for real (set DRY_RUN_MODE=true to rehearse)".into());
    }
    if var("API_KEY").is_none() {
        warnings.push("API_KEY is not set: only keys made with `halcytone keys create` will work (halcytone up makes one per run)".into());
    }

    if connect && errors.is_empty() {
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(async {
            match halcytone_store::open(&db).await {
                Ok(store) => {
                    match store.migrations().await {
                        Ok(v) => outln!(
                            "ok     database answers ({}; migrations {v:?})",
                            store.backend()
                        ),
                        Err(e) => errors.push(format!(
                            "DATABASE_URL: the database answers but its migrations cannot be read: {e}"
                        )),
                    }
                    check_stored_credentials(store.as_ref(), &mut errors, &mut warnings).await?;
                }
                Err(e) => errors.push(format!("DATABASE_URL: cannot open the database: {e}")),
            }
            if let Ok(settings) = Settings::from_vars(&|n| std::env::var(n).ok(), false)
                && let Ok(p) = halcytone_publish::Publishing::new(settings)
            {
                for u in [&p.crm, &p.platform] {
                    match p.client.probe(u, "health", Duration::from_secs(3)).await {
                        Ok(s) if (200..300).contains(&s) => {
                            outln!("ok     {} answers at {}", u.name, u.base)
                        }
                        Ok(s) => warnings
                            .push(format!("{} at {} answered {s} to /health", u.name, u.base)),
                        Err(e) => warnings.push(format!("{} at {}: {e}", u.name, u.base)),
                    }
                }
            }
            Ok::<(), std::io::Error>(())
        })?;
    }

    print_settings()?;
    outln!(
        "configuration: {} mode, dry run {}, database {}",
        if production {
            "production"
        } else {
            "non-production"
        },
        if dry_run { "on" } else { "off" },
        if db.starts_with("sqlite:") {
            "SQLite"
        } else if db.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "unknown"
        }
    );
    for w in &warnings {
        outln!("warn   {w}");
    }
    for e in &errors {
        outln!("error  {e}");
    }
    if errors.is_empty() {
        outln!("ok     no errors ({} warning(s))", warnings.len());
        Ok(ExitCode::SUCCESS)
    } else {
        outln!("{} error(s)", errors.len());
        Ok(ExitCode::from(1))
    }
}

/// With `--connect`: every stored credential must open with the configured keys; one sealed
/// with a key being retired is a warning until `halcytone credentials rotate` runs.
async fn check_stored_credentials(
    store: &dyn halcytone_store::Store,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> std::io::Result<()> {
    let rows = match store.credentials().await {
        Ok(rows) => rows,
        Err(e) => {
            errors.push(format!("stored credentials cannot be read: {e}"));
            return Ok(());
        }
    };
    if rows.is_empty() {
        return Ok(());
    }
    let ring = match halcytone_vault::Keyring::from_vars(|n| std::env::var(n).ok()) {
        Ok(Some(ring)) => ring,
        Ok(None) => {
            errors.push(format!(
                "API_KEY_ENCRYPTION_KEY is not set but {} credential(s) are stored encrypted; they cannot be used",
                rows.len()
            ));
            return Ok(());
        }
        Err(_) => return Ok(()), // reported with the other variables
    };
    for row in &rows {
        match ring.open(&row.name, &row.sealed) {
            Err(e) => errors.push(e.to_string()),
            Ok(_) if ring.needs_reseal(&row.sealed) => warnings.push(format!(
                "credential {} is sealed with key {}, not the current {}: run `halcytone credentials rotate`",
                row.name,
                row.key_id,
                ring.current_id()
            )),
            Ok(_) => outln!(
                "ok     credential {} opens (key {})",
                row.name, row.key_id
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_paths_are_not() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----";
        let shown = shown("DKIM_PRIVATE_KEY", pem);
        assert!(
            shown.contains("hidden") && !shown.contains("BEGIN"),
            "{shown}"
        );
        assert_eq!(
            super::shown("DKIM_PRIVATE_KEY_FILE", "dkim/halcytone.pem"),
            "\"dkim/halcytone.pem\""
        );
        assert_eq!(super::shown("DKIM_SELECTOR", "halcytone"), "\"halcytone\"");
    }
}
