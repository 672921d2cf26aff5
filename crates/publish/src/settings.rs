//! Publishing settings from configuration variables: dry run, where each upstream is, keys,
//! timeouts, retries, batch size and per-channel rates.

use crate::retry::RetryPolicy;
use std::time::Duration;
use url::Url;

#[derive(Debug, Clone)]
pub struct Settings {
    pub dry_run: bool,
    /// Where email goes (the mock CRM in dry run).
    pub crm_url: Url,
    /// Where web and social go (the mock Platform in dry run).
    pub platform_url: Url,
    /// The only hosts reachable in dry run.
    pub mock_urls: Vec<Url>,
    pub crm_api_key: Option<String>,
    pub platform_api_key: Option<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub email_batch_size: usize,
    /// Requests per second, per channel.
    pub email_rate: f64,
    pub web_rate: f64,
    pub social_rate: f64,
}

/// A variable with a bad value, named with the value and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// Reads a true/false variable (unset is false).
pub fn flag(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<bool, SettingError> {
    match get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) => match v.as_str() {
            "" | "0" | "false" | "no" | "off" => Ok(false),
            "1" | "true" | "yes" | "on" => Ok(true),
            _ => Err(SettingError {
                name,
                value: v,
                reason: "use true or false".into(),
            }),
        },
    }
}

fn url(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: Option<&str>,
) -> Result<Option<Url>, SettingError> {
    let Some(raw) = get(name)
        .filter(|v| !v.trim().is_empty())
        .or(default.map(str::to_string))
    else {
        return Ok(None);
    };
    let mut parsed = Url::parse(raw.trim()).map_err(|e| SettingError {
        name,
        value: raw.clone(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SettingError {
            name,
            value: raw,
            reason: "must be an http:// or https:// URL with a host".into(),
        });
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(Some(parsed))
}

/// Reads a number, `default` when unset; `rule` explains a bad value.
pub fn number<T: std::str::FromStr>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    valid: impl Fn(&T) -> bool,
    rule: &str,
) -> Result<T, SettingError> {
    match get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if valid(&n) => Ok(n),
            _ => Err(SettingError {
                name,
                value: v,
                reason: rule.into(),
            }),
        },
    }
}

impl Settings {
    /// Reads the variables through `get` (the environment, a `.env` file, or a test map).
    /// `force_dry_run` is the command line's `--dry-run`.
    pub fn from_vars(
        get: &dyn Fn(&str) -> Option<String>,
        force_dry_run: bool,
    ) -> Result<Settings, SettingError> {
        let dry_run = force_dry_run
            || flag(get, "DRY_RUN_MODE")?
            || flag(get, "DRY_RUN")?
            || flag(get, "USE_MOCK_SERVICES")?;
        let mock_crm = required(
            url(get, "MOCK_CRM_BASE_URL", Some("http://localhost:8001"))?,
            "MOCK_CRM_BASE_URL",
        )?;
        let mock_platform = required(
            url(get, "MOCK_PLATFORM_BASE_URL", Some("http://localhost:8002"))?,
            "MOCK_PLATFORM_BASE_URL",
        )?;
        let (crm_url, platform_url) = if dry_run {
            (mock_crm.clone(), mock_platform.clone())
        } else {
            let crm = url(get, "CRM_BASE_URL", None)?.ok_or_else(|| SettingError {
                name: "CRM_BASE_URL",
                value: String::new(),
                reason:
                    "required when dry run is off (set DRY_RUN_MODE=true to publish to the mocks)"
                        .into(),
            })?;
            let platform = url(get, "PLATFORM_BASE_URL", None)?.ok_or_else(|| SettingError {
                name: "PLATFORM_BASE_URL",
                value: String::new(),
                reason:
                    "required when dry run is off (set DRY_RUN_MODE=true to publish to the mocks)"
                        .into(),
            })?;
            (crm, platform)
        };
        let timeout = number(
            get,
            "REQUEST_TIMEOUT",
            30.0f64,
            |s| *s > 0.0 && *s <= 600.0,
            "seconds, more than 0 and at most 600",
        )?;
        let attempts = number(
            get,
            "PUBLISH_MAX_ATTEMPTS",
            3u32,
            |n| (1..=10).contains(n),
            "a whole number from 1 to 10",
        )?;
        let base_ms = number(
            get,
            "PUBLISH_RETRY_BASE_MS",
            250u64,
            |n| *n <= 60_000,
            "milliseconds, at most 60000",
        )?;
        Ok(Settings {
            dry_run,
            crm_url,
            platform_url,
            mock_urls: vec![mock_crm, mock_platform],
            crm_api_key: get("CRM_API_KEY").filter(|k| !k.is_empty()),
            platform_api_key: get("PLATFORM_API_KEY").filter(|k| !k.is_empty()),
            timeout: Duration::from_secs_f64(timeout),
            retry: RetryPolicy {
                max_attempts: attempts,
                base_delay: Duration::from_millis(base_ms),
                max_delay: Duration::from_secs(10),
            },
            email_batch_size: number(
                get,
                "EMAIL_BATCH_SIZE",
                500usize,
                |n| (1..=1000).contains(n),
                "a whole number from 1 to 1000",
            )?,
            email_rate: number(
                get,
                "EMAIL_RATE_PER_SECOND",
                20.0f64,
                |r| *r > 0.0,
                "a positive number",
            )?,
            web_rate: number(
                get,
                "WEB_RATE_PER_SECOND",
                10.0f64,
                |r| *r > 0.0,
                "a positive number",
            )?,
            social_rate: number(
                get,
                "SOCIAL_RATE_PER_SECOND",
                5.0f64,
                |r| *r > 0.0,
                "a positive number",
            )?,
        })
    }
}

fn required(value: Option<Url>, name: &'static str) -> Result<Url, SettingError> {
    value.ok_or_else(|| SettingError {
        name,
        value: String::new(),
        reason: "must be set".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn dry_run_flags_route_to_the_mocks() {
        for flag in ["DRY_RUN_MODE", "DRY_RUN", "USE_MOCK_SERVICES"] {
            let s = Settings::from_vars(
                &vars(&[(flag, "true"), ("CRM_BASE_URL", "https://crm.example.com")]),
                false,
            )
            .unwrap();
            assert!(s.dry_run, "{flag}");
            assert_eq!(s.crm_url.as_str(), "http://localhost:8001/");
            assert_eq!(s.platform_url.as_str(), "http://localhost:8002/");
        }
        let s = Settings::from_vars(
            &vars(&[
                ("DRY_RUN_MODE", "true"),
                ("MOCK_CRM_BASE_URL", "http://mock-crm:9001/base"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(s.crm_url.as_str(), "http://mock-crm:9001/base/");
    }

    #[test]
    fn live_mode_needs_real_urls_and_bad_values_are_named() {
        let err = Settings::from_vars(&vars(&[]), false).unwrap_err();
        assert_eq!(err.name, "CRM_BASE_URL");
        let err = Settings::from_vars(&vars(&[("DRY_RUN_MODE", "maybe")]), false).unwrap_err();
        assert_eq!(err.name, "DRY_RUN_MODE");
        let err = Settings::from_vars(
            &vars(&[("DRY_RUN", "1"), ("MOCK_PLATFORM_BASE_URL", "ftp://x")]),
            false,
        )
        .unwrap_err();
        assert_eq!(err.name, "MOCK_PLATFORM_BASE_URL");
        let err = Settings::from_vars(&vars(&[("DRY_RUN", "1"), ("REQUEST_TIMEOUT", "-3")]), false)
            .unwrap_err();
        assert_eq!(err.name, "REQUEST_TIMEOUT");
        let s = Settings::from_vars(
            &vars(&[
                ("CRM_BASE_URL", "https://crm.example.com"),
                ("PLATFORM_BASE_URL", "https://cms.example.com"),
            ]),
            false,
        )
        .unwrap();
        assert!(!s.dry_run);
        assert!(
            Settings::from_vars(&vars(&[]), true).unwrap().dry_run,
            "--dry-run forces it"
        );
    }
}
