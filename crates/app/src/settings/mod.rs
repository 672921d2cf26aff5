//! The API service's own settings (publishing settings live in `halcytone_publish`): who it
//! is, where the living document comes from, and the limits every request meets.

pub mod cache;
pub mod mailing;
pub mod webhooks;

use cache::CacheConfig;
use halcytone_content::vars::text;
use halcytone_publish::SettingError;
use halcytone_publish::settings::{flag, flag_or, number, request_timeout};
use halcytone_publish::social::SocialSettings;
use halcytone_sources::{SourceRef, SourceSettings};
use halcytone_vault::{Keyring, VaultError};
use std::path::PathBuf;
use std::time::Duration;
pub use webhooks::WebhookSettings;

/// Where the configured living document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentSource {
    /// Read from this file on every use (`LIVING_DOC_TYPE=file`, `LIVING_DOC_ID=path`).
    File(PathBuf),
    /// Text held in memory (the bundled sample of `halcytone up`).
    Inline { label: String, text: String },
    /// Fetched from a URL, a Google Doc or a Notion database on use
    /// (`LIVING_DOC_TYPE=url|google_docs|notion`).
    Remote(SourceRef),
    /// Nothing configured: requests must send the document inline.
    None,
}

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub service_name: String,
    pub environment: String,
    pub version: String,
    /// The first admin key (`API_KEY`), compared in constant time; never logged.
    pub api_key: Option<String>,
    pub document: DocumentSource,
    pub cors: CorsOrigins,
    /// Write requests per minute per key (`RATE_LIMIT_PER_MINUTE`); 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Read requests (GET, HEAD) per second per key (`RATE_LIMIT_READS_PER_SECOND`, 300;
    /// 0 = off), with bursts of up to `read_burst` (`RATE_LIMIT_READ_BURST`, 600).
    pub read_rate_per_second: u32,
    pub read_burst: u32,
    pub max_concurrent_requests: usize,
    pub request_timeout: Duration,
    /// Body limit of routes that take no document (`MAX_BODY_BYTES`, 1 MiB).
    pub max_body_bytes: usize,
    /// Body limit of routes that carry a living document: generate, validate, sync, new
    /// versions, batches (`MAX_DOCUMENT_BYTES`, 2 MiB).
    pub max_document_bytes: usize,
    /// Body limit of inbound webhooks (`MAX_WEBHOOK_BYTES`, 64 KiB).
    pub max_webhook_bytes: usize,
    /// Body limit of CSV imports, which are streamed, never held whole (`MAX_IMPORT_BYTES`,
    /// 256 MiB).
    pub max_import_bytes: usize,
    /// Time budget of one content generation (`GENERATION_TIMEOUT_SECONDS`, 5): past it the
    /// work is stopped and the request answered 503 with `Retry-After`.
    pub generation_timeout: Duration,
    /// Generations run at once, on threads apart from the request executor
    /// (`GENERATION_CONCURRENCY`, default: the number of CPU cores).
    pub generation_concurrency: usize,
    /// Where `POST /api/v1/newsletter/send` with `test_mode` sends its one email.
    pub test_email: String,
    /// Attempts of a publish job before it fails for good.
    pub job_max_attempts: i64,
    /// Whether this process runs a job worker beside the API.
    pub run_worker: bool,
    /// How long a worker's claim on a job lasts without a heartbeat (a killed worker's jobs
    /// are taken over after this).
    pub job_lease: Duration,
    /// Recipients per batch job of an SMTP send (`SEND_BATCH_SIZE`, 1,000): a send is split
    /// into batches that any worker on any replica can claim.
    pub send_batch_size: usize,
    /// Outbound webhooks: hosts they may reach whatever their address, the retry schedule
    /// and the time one attempt may take.
    pub webhooks: WebhookSettings,
    /// Whether requests are counted and timed (`MONITORING_ENABLED`, default true).
    pub monitoring: bool,
    /// A second listener serving only `/metrics` (`METRICS_PORT`).
    pub metrics_port: Option<u16>,
    /// The response cache, its invalidation webhook and CDN.
    pub cache: CacheConfig,
    /// How remote living documents are reached (credentials, limits, `LIVING_DOC_DIR`).
    pub sources: SourceSettings,
    /// How long a fetched remote document is reused before it is fetched again.
    pub source_cache: Duration,
    /// Whether direct publishing (sync, generate-content, batches) needs approved content
    /// (`APPROVAL_REQUIRED`; on by default when ENVIRONMENT=production).
    pub approval_required: bool,
    /// Review levels whose approval needs a newsletter with no error-level check finding
    /// (`APPROVAL_EMAIL_CHECKS_LEVELS`: `L3,L4`, `all`, or empty for none, the default).
    pub email_checks_gate: Vec<halcytone_content::approval::Level>,
    /// WebSocket keep-alive: ping interval (`WS_PING_SECONDS`, 20) and the silence after
    /// which a connection is closed (`WS_IDLE_SECONDS`, 60).
    pub ws_ping: Duration,
    pub ws_idle: Duration,
    /// How often due schedules are looked for (`SCHEDULER_INTERVAL_SECONDS`); the scheduler
    /// runs beside the embedded worker.
    pub scheduler_interval: Duration,
    /// How often the figures of recent email campaigns are pulled from the CRM
    /// (`ANALYTICS_REFRESH_MINUTES`, 60; 0 = only on request), beside every worker.
    pub analytics_refresh: Option<Duration>,
    /// How far back a campaign counts as recent (`ANALYTICS_REFRESH_DAYS`, 14).
    pub analytics_refresh_days: i64,
    /// Seals stored outbound credentials (`API_KEY_ENCRYPTION_KEY`, with
    /// `API_KEY_ENCRYPTION_KEY_PREVIOUS` during a rotation); without it none can be stored.
    pub keyring: Option<Keyring>,
    /// The live X, LinkedIn and Facebook adapters: OAuth clients, API bases, quotas.
    pub social: SocialSettings,
    /// The time zone whose calendar days (and hours) analytics buckets follow
    /// (`ANALYTICS_TIME_ZONE`, else `TZ` when it names a zone, else UTC).
    pub analytics_time_zone: chrono_tz::Tz,
    /// The public URL, unsubscribe and email-event secrets.
    pub mailing: mailing::MailingSettings,
}

impl ServerConfig {
    /// Defaults for tests and `halcytone up`.
    pub fn local() -> ServerConfig {
        ServerConfig {
            service_name: "halcytone".into(),
            environment: "development".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_key: None,
            document: DocumentSource::None,
            cors: CorsOrigins::List(vec![
                "http://localhost:3000".into(),
                "http://127.0.0.1:3000".into(),
            ]),
            rate_limit_per_minute: 3000,
            read_rate_per_second: 300,
            read_burst: 600,
            max_concurrent_requests: 1024,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            max_document_bytes: 2 * 1024 * 1024,
            max_webhook_bytes: 64 * 1024,
            max_import_bytes: 256 * 1024 * 1024,
            generation_timeout: Duration::from_secs(5),
            generation_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            test_email: "dry-run-test@halcytone.example".into(),
            job_max_attempts: 3,
            run_worker: true,
            job_lease: Duration::from_secs(60),
            send_batch_size: 1_000,
            webhooks: WebhookSettings::default(),
            monitoring: true,
            metrics_port: None,
            cache: CacheConfig::default(),
            sources: SourceSettings::default(),
            source_cache: Duration::from_secs(30),
            scheduler_interval: Duration::from_secs(15),
            analytics_refresh: Some(Duration::from_secs(60 * 60)),
            analytics_refresh_days: 14,
            approval_required: false,
            email_checks_gate: Vec::new(),
            ws_ping: Duration::from_secs(20),
            ws_idle: Duration::from_secs(60),
            keyring: None,
            social: SocialSettings::default(),
            analytics_time_zone: chrono_tz::Tz::UTC,
            mailing: mailing::MailingSettings::default(),
        }
    }

    /// Reads the variables through `get` (the environment, `.env`, or a test map).
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<ServerConfig, SettingError> {
        let mut c = ServerConfig::local();
        let text = |name: &str| text(get, name);
        if let Some(v) = text("SERVICE_NAME") {
            c.service_name = v;
        }
        if let Some(v) = text("ENVIRONMENT") {
            c.environment = v;
        }
        if let Some(key) = text("API_KEY") {
            if key.len() < 16 {
                return Err(SettingError {
                    name: "API_KEY",
                    value: "(hidden)".into(),
                    reason: "must be at least 16 characters".into(),
                });
            }
            c.api_key = Some(key);
        }
        c.sources = SourceSettings::from_vars(get).map_err(|e| SettingError {
            name: e.name,
            value: e.value,
            reason: e.reason,
        })?;
        c.source_cache = Duration::from_secs(number(
            get,
            "SOURCE_CACHE_SECONDS",
            30u64,
            |s| *s <= 3600,
            "seconds, from 0 (fetch on every use) to 3600",
        )?);
        let doc_type = text("LIVING_DOC_TYPE").map(|t| t.to_ascii_lowercase());
        let doc_id = text("LIVING_DOC_ID");
        c.document = match (doc_type, doc_id) {
            (Some(t), None) if t == "notion" && c.sources.notion_database_id.is_some() => {
                DocumentSource::Remote(SourceRef::configured("notion", "default").map_err(|e| {
                    SettingError {
                        name: "LIVING_DOC_TYPE",
                        value: t.clone(),
                        reason: e.to_string(),
                    }
                })?)
            }
            (_, None) => DocumentSource::None,
            (None, Some(id)) => DocumentSource::File(PathBuf::from(id)),
            (Some(t), Some(id)) if t == "file" => DocumentSource::File(PathBuf::from(id)),
            (Some(t), Some(id)) => {
                let r = SourceRef::configured(&t, &id).map_err(|e| SettingError {
                    name: "LIVING_DOC_TYPE",
                    value: t.clone(),
                    reason: e.to_string(),
                })?;
                DocumentSource::Remote(r)
            }
        };
        c.mailing = mailing::MailingSettings::from_vars(get)?;
        if let Some(v) = text("CORS_ORIGINS") {
            c.cors = parse_origins(&v).map_err(|reason| SettingError {
                name: "CORS_ORIGINS",
                value: v.clone(),
                reason,
            })?;
        }
        c.rate_limit_per_minute = number(
            get,
            "RATE_LIMIT_PER_MINUTE",
            c.rate_limit_per_minute,
            |n| *n <= 1_000_000,
            "requests per minute per key, 0 (off) to 1000000",
        )?;
        c.max_concurrent_requests = number(
            get,
            "MAX_CONCURRENT_REQUESTS",
            c.max_concurrent_requests,
            |n| (1..=100_000).contains(n),
            "a whole number from 1 to 100000",
        )?;
        c.request_timeout = request_timeout(get)?;
        c.read_rate_per_second = number(
            get,
            "RATE_LIMIT_READS_PER_SECOND",
            c.read_rate_per_second,
            |n| *n <= 1_000_000,
            "read requests per second per key, 0 (off) to 1000000",
        )?;
        c.read_burst = number(
            get,
            "RATE_LIMIT_READ_BURST",
            c.read_burst.max(c.read_rate_per_second),
            |n| (1..=10_000_000).contains(n),
            "read requests one key may make at once, 1 to 10000000",
        )?;
        for (name, slot) in [
            ("MAX_BODY_BYTES", &mut c.max_body_bytes),
            ("MAX_DOCUMENT_BYTES", &mut c.max_document_bytes),
            ("MAX_WEBHOOK_BYTES", &mut c.max_webhook_bytes),
        ] {
            *slot = number(
                get,
                name,
                *slot,
                |n| (1024..=100 * 1024 * 1024).contains(n),
                "bytes, from 1024 to 104857600",
            )?;
        }
        c.max_import_bytes = number(
            get,
            "MAX_IMPORT_BYTES",
            c.max_import_bytes,
            |n| (1024..=4 * 1024 * 1024 * 1024).contains(n),
            "bytes, from 1024 to 4294967296",
        )?;
        c.generation_timeout = Duration::from_secs_f64(number(
            get,
            "GENERATION_TIMEOUT_SECONDS",
            c.generation_timeout.as_secs_f64(),
            |s| *s >= 0.001 && *s <= 600.0,
            "seconds, from 0.001 to 600",
        )?);
        if let Some(v) = text("ANALYTICS_TIME_ZONE") {
            c.analytics_time_zone = v.parse().map_err(|_| SettingError {
                name: "ANALYTICS_TIME_ZONE",
                value: v.clone(),
                reason: "must be an IANA time zone such as UTC or Europe/Berlin".into(),
            })?;
        } else if let Some(tz) = text("TZ").and_then(|v| v.trim_start_matches(':').parse().ok()) {
            // TZ may also be a POSIX rule or a file path; only a zone name is used here.
            c.analytics_time_zone = tz;
        }
        c.generation_concurrency = number(
            get,
            "GENERATION_CONCURRENCY",
            c.generation_concurrency,
            |n| (1..=1024).contains(n),
            "a whole number from 1 to 1024",
        )?;
        if let Some(v) = text("NEWSLETTER_TEST_EMAIL") {
            if !v.contains('@') {
                return Err(SettingError {
                    name: "NEWSLETTER_TEST_EMAIL",
                    value: v,
                    reason: "must be an email address".into(),
                });
            }
            c.test_email = v;
        }
        c.job_max_attempts = number(
            get,
            "JOB_MAX_ATTEMPTS",
            c.job_max_attempts,
            |n| (1..=20).contains(n),
            "a whole number from 1 to 20",
        )?;
        c.run_worker = !flag(get, "DISABLE_EMBEDDED_WORKER")?;
        c.monitoring = flag_or(get, "MONITORING_ENABLED", true)?;
        c.metrics_port = text("METRICS_PORT")
            .map(|v| {
                v.parse::<u16>().map_err(|_| SettingError {
                    name: "METRICS_PORT",
                    value: v.clone(),
                    reason: "a port number from 1 to 65535".into(),
                })
            })
            .transpose()?
            .filter(|p| *p != 0);
        c.job_lease = Duration::from_secs_f64(number(
            get,
            "JOB_LEASE_SECONDS",
            60.0f64,
            |s| (1.0..=3600.0).contains(s),
            "seconds, from 1 to 3600",
        )?);
        c.send_batch_size = number(
            get,
            "SEND_BATCH_SIZE",
            1_000usize,
            |n| (1..=100_000).contains(n),
            "recipients, from 1 to 100000",
        )?;
        c.webhooks = WebhookSettings::from_vars(get)?;
        c.cache = CacheConfig::from_vars(get)?;
        let production = c.environment.eq_ignore_ascii_case("production");
        c.approval_required = flag_or(get, "APPROVAL_REQUIRED", production)?;
        c.email_checks_gate = gated_levels(get, "APPROVAL_EMAIL_CHECKS_LEVELS")?;
        c.ws_ping = Duration::from_secs(number(
            get,
            "WS_PING_SECONDS",
            20u64,
            |s| (1..=300).contains(s),
            "seconds, from 1 to 300",
        )?);
        c.ws_idle = Duration::from_secs(number(
            get,
            "WS_IDLE_SECONDS",
            60u64,
            |s| (2..=3600).contains(s),
            "seconds, from 2 to 3600",
        )?);
        if c.ws_idle <= c.ws_ping {
            return Err(SettingError {
                name: "WS_IDLE_SECONDS",
                value: c.ws_idle.as_secs().to_string(),
                reason: "must be longer than WS_PING_SECONDS, or every connection is dropped"
                    .into(),
            });
        }
        c.scheduler_interval = Duration::from_secs(number(
            get,
            "SCHEDULER_INTERVAL_SECONDS",
            15u64,
            |s| (1..=3600).contains(s),
            "seconds, from 1 to 3600",
        )?);
        let minutes = number(
            get,
            "ANALYTICS_REFRESH_MINUTES",
            60u64,
            |m| (0..=1440).contains(m),
            "minutes, from 0 (only on request) to 1440",
        )?;
        c.analytics_refresh = (minutes > 0).then(|| Duration::from_secs(minutes * 60));
        c.analytics_refresh_days = number(
            get,
            "ANALYTICS_REFRESH_DAYS",
            14i64,
            |d| (1..=90).contains(d),
            "days, from 1 to 90",
        )?;
        c.social = SocialSettings::from_vars(get)?;
        c.keyring = Keyring::from_vars(get).map_err(|e| SettingError {
            name: match &e {
                VaultError::ShortKey { var, .. } => var,
                _ => "API_KEY_ENCRYPTION_KEY",
            },
            value: "(hidden)".into(),
            reason: e.to_string(),
        })?;
        Ok(c)
    }
}

fn parse_origins(v: &str) -> Result<CorsOrigins, String> {
    if v.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    // Accept a JSON list as the earlier implementation's .env files wrote it.
    let list: Vec<String> = if v.trim_start().starts_with('[') {
        serde_json::from_str(v).map_err(|e| format!("not a JSON list of origins: {e}"))?
    } else {
        v.split(',').map(|s| s.trim().to_string()).collect()
    };
    let mut out = Vec::new();
    for o in list.into_iter().filter(|o| !o.is_empty()) {
        if o == "*" {
            return Ok(CorsOrigins::Any);
        }
        let u = url::Url::parse(&o).map_err(|e| format!("'{o}' is not an origin: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(format!("'{o}' is not an http(s) origin"));
        }
        out.push(o.trim_end_matches('/').to_string());
    }
    Ok(CorsOrigins::List(out))
}

/// Reads a list of review levels (`L2,L4`), `all`, or `none`/empty.
fn gated_levels(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Vec<halcytone_content::approval::Level>, SettingError> {
    use halcytone_content::approval::Level;
    let raw = get(name).unwrap_or_default();
    let v = raw.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    if v.eq_ignore_ascii_case("all") {
        return Ok(vec![Level::L1, Level::L2, Level::L3, Level::L4]);
    }
    let mut levels = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let level = Level::parse(part).ok_or_else(|| SettingError {
            name,
            value: raw.clone(),
            reason: format!(
                "'{part}' is not a review level: use L1, L2, L3, L4 (comma-separated), all or none"
            ),
        })?;
        if !levels.contains(&level) {
            levels.push(level);
        }
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    use halcytone_content::vars::fixed_vars as vars;

    #[test]
    fn defaults_and_named_errors() {
        let c = ServerConfig::from_vars(&vars(&[])).unwrap();
        assert_eq!(c.document, DocumentSource::None);
        assert_eq!(c.rate_limit_per_minute, 3000);
        let e = ServerConfig::from_vars(&vars(&[("API_KEY", "short")])).unwrap_err();
        assert_eq!(e.name, "API_KEY");
        assert!(
            !e.to_string().contains("short"),
            "a key must never be echoed"
        );
        let e = ServerConfig::from_vars(&vars(&[("RATE_LIMIT_PER_MINUTE", "lots")])).unwrap_err();
        assert_eq!(e.name, "RATE_LIMIT_PER_MINUTE");
        let e = ServerConfig::from_vars(&vars(&[("CORS_ORIGINS", "not a url")])).unwrap_err();
        assert_eq!(e.name, "CORS_ORIGINS");
    }

    #[test]
    fn the_email_checks_gate_reads_levels_all_and_none() {
        use halcytone_content::approval::Level;
        let gate = |v: &str| {
            ServerConfig::from_vars(&vars(&[("APPROVAL_EMAIL_CHECKS_LEVELS", v)]))
                .map(|c| c.email_checks_gate)
        };
        assert!(
            ServerConfig::from_vars(&vars(&[]))
                .unwrap()
                .email_checks_gate
                .is_empty()
        );
        assert_eq!(gate("l3, L4,L3").unwrap(), vec![Level::L3, Level::L4]);
        assert_eq!(gate("all").unwrap().len(), 4);
        assert!(gate("none").unwrap().is_empty());
        let e = gate("L3,L9").unwrap_err();
        assert_eq!(e.name, "APPROVAL_EMAIL_CHECKS_LEVELS");
        assert!(e.reason.contains("'L9'"), "{e}");
    }

    #[test]
    fn analytics_refresh_is_hourly_by_default_and_zero_turns_it_off() {
        let c = ServerConfig::from_vars(&vars(&[])).unwrap();
        assert_eq!(c.analytics_refresh, Some(Duration::from_secs(3600)));
        assert_eq!(c.analytics_refresh_days, 14);
        let c = ServerConfig::from_vars(&vars(&[
            ("ANALYTICS_REFRESH_MINUTES", "0"),
            ("ANALYTICS_REFRESH_DAYS", "30"),
        ]))
        .unwrap();
        assert_eq!(c.analytics_refresh, None);
        assert_eq!(c.analytics_refresh_days, 30);
        for (name, bad) in [
            ("ANALYTICS_REFRESH_MINUTES", "1441"),
            ("ANALYTICS_REFRESH_MINUTES", "-5"),
            ("ANALYTICS_REFRESH_DAYS", "0"),
        ] {
            let e = ServerConfig::from_vars(&vars(&[(name, bad)])).unwrap_err();
            assert_eq!(e.name, name, "{bad}");
        }
    }

    #[test]
    fn monitoring_switch_and_metrics_port() {
        let c = ServerConfig::from_vars(&vars(&[])).unwrap();
        assert!(c.monitoring);
        assert_eq!(c.metrics_port, None);
        let c = ServerConfig::from_vars(&vars(&[
            ("MONITORING_ENABLED", "false"),
            ("METRICS_PORT", "9100"),
        ]))
        .unwrap();
        assert!(!c.monitoring);
        assert_eq!(c.metrics_port, Some(9100));
        let e = ServerConfig::from_vars(&vars(&[("METRICS_PORT", "ninety")])).unwrap_err();
        assert_eq!(e.name, "METRICS_PORT");
    }

    #[test]
    fn origins_accept_lists_json_and_star() {
        assert_eq!(parse_origins("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            parse_origins("http://a.example, https://b.example/"),
            Ok(CorsOrigins::List(vec![
                "http://a.example".into(),
                "https://b.example".into()
            ]))
        );
        assert_eq!(
            parse_origins(r#"["http://localhost:3000"]"#),
            Ok(CorsOrigins::List(vec!["http://localhost:3000".into()]))
        );
    }

    #[test]
    fn document_source_from_type_and_id() {
        let c = ServerConfig::from_vars(&vars(&[("LIVING_DOC_ID", "docs/living.md")])).unwrap();
        assert_eq!(c.document, DocumentSource::File("docs/living.md".into()));
        let c = ServerConfig::from_vars(&vars(&[
            ("LIVING_DOC_TYPE", "notion"),
            ("LIVING_DOC_ID", "0123456789abcdef0123456789abcdef"),
        ]))
        .unwrap();
        match &c.document {
            DocumentSource::Remote(r) => {
                assert_eq!(r.label(), "notion:0123456789abcdef0123456789abcdef")
            }
            other => panic!("{other:?}"),
        }
        let c = ServerConfig::from_vars(&vars(&[
            ("LIVING_DOC_TYPE", "google_docs"),
            ("LIVING_DOC_ID", "1AbCdEf"),
        ]))
        .unwrap();
        assert!(matches!(c.document, DocumentSource::Remote(_)));
        let e = ServerConfig::from_vars(&vars(&[
            ("LIVING_DOC_TYPE", "sharepoint"),
            ("LIVING_DOC_ID", "x"),
        ]))
        .unwrap_err();
        assert_eq!(e.name, "LIVING_DOC_TYPE");
        let e = ServerConfig::from_vars(&vars(&[("SOURCE_CACHE_SECONDS", "-1")])).unwrap_err();
        assert_eq!(e.name, "SOURCE_CACHE_SECONDS");
    }
}
