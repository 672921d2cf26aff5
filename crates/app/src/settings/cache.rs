//! Cache settings: the response cache's size and lifetime, the webhook secret, and the CDN
//! whose purge endpoint an invalidation calls. Names follow the earlier implementation's
//! `.env` (`ENABLE_CACHE`, `CACHE_TTL`, `CACHE_WEBHOOK_SECRET`, `CDN_*`, …).

use halcytone_content::vars::text;
use halcytone_publish::SettingError;
use halcytone_publish::settings::{flag, flag_or, number};
use std::time::Duration;

/// A CDN purge target (Cloudflare's API shape: `POST {base}/zones/{zone}/purge_cache`).
#[derive(Clone)]
pub struct CdnConfig {
    pub kind: String,
    pub base_url: url::Url,
    pub zone_id: String,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for CdnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdnConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.base_url.as_str())
            .field("zone_id", &self.zone_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

#[derive(Clone)]
pub struct CacheConfig {
    /// `ENABLE_CACHE` (default true).
    pub enabled: bool,
    /// `CACHE_TTL`: how long an answer is kept, seconds (default 300).
    pub ttl: Duration,
    /// `CACHE_MAX_SIZE`: entries kept before the oldest goes (default 1000).
    pub max_entries: usize,
    /// `CACHE_MAX_BYTES`: what the kept answers may weigh together (default 64 MiB); an
    /// answer heavier than an eighth of it is not kept.
    pub max_bytes: usize,
    /// `CACHE_INVALIDATION_ENABLED`: drop affected entries (and purge the CDN) after each publish.
    pub invalidate_on_publish: bool,
    /// `CACHE_WEBHOOK_SECRET`: when set, `/api/v1/cache/webhook` requires a valid signature.
    pub webhook_secret: Option<String>,
    /// `CACHE_MAX_HISTORY`: invalidations listed by `/api/v1/cache/history` at most.
    pub max_history: i64,
    /// `CDN_ENABLED` with `CDN_BASE_URL`, `CDN_ZONE_ID`, `CDN_API_KEY`, `CDN_TYPE`.
    pub cdn: Option<CdnConfig>,
}

impl std::fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheConfig")
            .field("enabled", &self.enabled)
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .field("invalidate_on_publish", &self.invalidate_on_publish)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "(hidden)"),
            )
            .field("max_history", &self.max_history)
            .field("cdn", &self.cdn)
            .finish()
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            ttl: Duration::from_secs(300),
            max_entries: 1000,
            max_bytes: 64 * 1024 * 1024,
            invalidate_on_publish: true,
            webhook_secret: None,
            max_history: 1000,
            cdn: None,
        }
    }
}

impl CacheConfig {
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<CacheConfig, SettingError> {
        let text = |name: &str| text(get, name);
        let mut c = CacheConfig {
            enabled: flag_or(get, "ENABLE_CACHE", true)?,
            invalidate_on_publish: flag_or(get, "CACHE_INVALIDATION_ENABLED", true)?,
            ..CacheConfig::default()
        };
        c.ttl = Duration::from_secs(number(
            get,
            "CACHE_TTL",
            300u64,
            |s| (1..=86_400).contains(s),
            "seconds, from 1 to 86400",
        )?);
        c.max_entries = number(
            get,
            "CACHE_MAX_SIZE",
            1000usize,
            |n| (1..=1_000_000).contains(n),
            "entries, from 1 to 1000000",
        )?;
        c.max_bytes = number(
            get,
            "CACHE_MAX_BYTES",
            c.max_bytes,
            |n| (64 * 1024..=64 * 1024 * 1024 * 1024).contains(n),
            "bytes, from 65536 to 68719476736",
        )?;
        c.max_history = number(
            get,
            "CACHE_MAX_HISTORY",
            1000i64,
            |n| (1..=100_000).contains(n),
            "entries, from 1 to 100000",
        )?;
        if let Some(secret) = text("CACHE_WEBHOOK_SECRET") {
            if secret.len() < 16 {
                return Err(SettingError {
                    name: "CACHE_WEBHOOK_SECRET",
                    value: "(hidden)".into(),
                    reason: "must be at least 16 characters".into(),
                });
            }
            c.webhook_secret = Some(secret);
        }
        if flag(get, "CDN_ENABLED")? {
            let kind = text("CDN_TYPE").unwrap_or_else(|| "cloudflare".into());
            if kind != "cloudflare" {
                return Err(SettingError {
                    name: "CDN_TYPE",
                    value: kind,
                    reason: "only cloudflare's purge API is supported".into(),
                });
            }
            let raw = text("CDN_BASE_URL")
                .unwrap_or_else(|| "https://api.cloudflare.com/client/v4".into());
            let mut base_url = url::Url::parse(&raw).map_err(|e| SettingError {
                name: "CDN_BASE_URL",
                value: raw.clone(),
                reason: format!("not a URL: {e}"),
            })?;
            if !base_url.path().ends_with('/') {
                let p = format!("{}/", base_url.path());
                base_url.set_path(&p);
            }
            let zone_id = text("CDN_ZONE_ID").ok_or_else(|| SettingError {
                name: "CDN_ZONE_ID",
                value: String::new(),
                reason: "required when CDN_ENABLED is true".into(),
            })?;
            c.cdn = Some(CdnConfig {
                kind,
                base_url,
                zone_id,
                api_key: text("CDN_API_KEY"),
            });
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halcytone_content::vars::fixed_vars;

    fn read(pairs: &[(&str, &str)]) -> Result<CacheConfig, SettingError> {
        CacheConfig::from_vars(&fixed_vars(pairs))
    }

    #[test]
    fn defaults() {
        let c = read(&[]).unwrap_or_default();
        assert!(c.enabled && c.invalidate_on_publish);
        assert_eq!(c.ttl, Duration::from_secs(300));
        assert!(c.cdn.is_none() && c.webhook_secret.is_none());
    }

    #[test]
    fn bad_values_are_named() {
        let e = read(&[("CACHE_TTL", "0")]).err().map(|e| e.name);
        assert_eq!(e, Some("CACHE_TTL"));
        let e = read(&[("CACHE_WEBHOOK_SECRET", "short")])
            .err()
            .map(|e| e.name);
        assert_eq!(e, Some("CACHE_WEBHOOK_SECRET"));
        let e = read(&[("CDN_ENABLED", "true")]).err().map(|e| e.name);
        assert_eq!(e, Some("CDN_ZONE_ID"));
        let e = read(&[("ENABLE_CACHE", "maybe")]).err().map(|e| e.name);
        assert_eq!(e, Some("ENABLE_CACHE"));
    }

    #[test]
    fn a_cdn_and_a_secret_are_read_and_hidden_from_debug() {
        let c = read(&[
            ("CDN_ENABLED", "true"),
            ("CDN_ZONE_ID", "zone1"),
            ("CDN_API_KEY", "cdn-secret-key"),
            ("CDN_BASE_URL", "http://127.0.0.1:9/client/v4"),
            ("CACHE_WEBHOOK_SECRET", "0123456789abcdef-secret"),
        ])
        .unwrap_or_default();
        let cdn = c.cdn.clone().unwrap_or_else(|| unreachable!());
        assert_eq!(cdn.base_url.as_str(), "http://127.0.0.1:9/client/v4/");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("cdn-secret-key") && !dbg.contains("0123456789abcdef"));
    }
}
