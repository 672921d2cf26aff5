//! Publishing settings from configuration variables: dry run, where each upstream is, keys,
//! timeouts, retries, batch size and per-channel rates.

use crate::dkim::{DEFAULT_SELECTOR, DkimKey, DkimSettings, read_key_file, valid_name};
use crate::retry::RetryPolicy;
use crate::smtp::{EmailTransport, SmtpSettings, SmtpTls};
use halcytone_content::vars::{parsed, text, truth};
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
    /// CRM batches (default) or one SMTP message per subscriber (`EMAIL_TRANSPORT=smtp`).
    pub email_transport: EmailTransport,
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
    flag_or(get, name, false)
}

/// Reads a true/false variable, `default` when unset or blank.
pub fn flag_or(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, SettingError> {
    let Some(v) = text(get, name).map(|v| v.to_ascii_lowercase()) else {
        return Ok(default);
    };
    truth(&v).ok_or_else(|| SettingError {
        name,
        value: v,
        reason: "use true or false".into(),
    })
}

/// Reads an http(s) base URL (with a host), ending it with `/` so paths join under it.
pub(crate) fn base_url(
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
    let n = parsed(get, name, |v| v.parse::<T>().ok().filter(|n| valid(n)));
    match n {
        Ok(n) => Ok(n.unwrap_or(default)),
        Err(value) => Err(SettingError {
            name,
            value,
            reason: rule.into(),
        }),
    }
}

/// `REQUEST_TIMEOUT`, the time one request may take: a request to this service, and a call
/// it makes to an upstream (30 s by default).
pub fn request_timeout(get: &dyn Fn(&str) -> Option<String>) -> Result<Duration, SettingError> {
    number(
        get,
        "REQUEST_TIMEOUT",
        30.0f64,
        |s| *s > 0.0 && *s <= 600.0,
        "seconds, more than 0 and at most 600",
    )
    .map(Duration::from_secs_f64)
}

impl Settings {
    /// A dry run against mocks at `crm` and `platform` (an in-process rehearsal, a test):
    /// the only allowed hosts are the two mocks, calls time out after 5 s, a transient
    /// failure is tried once more after a millisecond, and pacing is out of the way.
    pub fn rehearsal(crm: &Url, platform: &Url) -> Settings {
        Settings {
            dry_run: true,
            crm_url: crm.clone(),
            platform_url: platform.clone(),
            mock_urls: vec![crm.clone(), platform.clone()],
            crm_api_key: None,
            platform_api_key: None,
            timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
            },
            email_batch_size: 500,
            email_rate: 10_000.0,
            web_rate: 10_000.0,
            social_rate: 10_000.0,
            email_transport: Default::default(),
        }
    }

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
            base_url(get, "MOCK_CRM_BASE_URL", Some("http://localhost:8001"))?,
            "MOCK_CRM_BASE_URL",
        )?;
        let mock_platform = required(
            base_url(get, "MOCK_PLATFORM_BASE_URL", Some("http://localhost:8002"))?,
            "MOCK_PLATFORM_BASE_URL",
        )?;
        let (crm_url, platform_url) = if dry_run {
            (mock_crm.clone(), mock_platform.clone())
        } else {
            let crm = base_url(get, "CRM_BASE_URL", None)?.ok_or_else(|| SettingError {
                name: "CRM_BASE_URL",
                value: String::new(),
                reason:
                    "required when dry run is off (set DRY_RUN_MODE=true to publish to the mocks)"
                        .into(),
            })?;
            let platform = base_url(get, "PLATFORM_BASE_URL", None)?.ok_or_else(|| {
                SettingError {
                name: "PLATFORM_BASE_URL",
                value: String::new(),
                reason:
                    "required when dry run is off (set DRY_RUN_MODE=true to publish to the mocks)"
                        .into(),
            }
            })?;
            (crm, platform)
        };
        let timeout = request_timeout(get)?;
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
        let email_transport = email_transport(get, dry_run, &mock_crm)?;
        Ok(Settings {
            dry_run,
            crm_url,
            platform_url,
            mock_urls: vec![mock_crm, mock_platform],
            crm_api_key: get("CRM_API_KEY").filter(|k| !k.is_empty()),
            platform_api_key: get("PLATFORM_API_KEY").filter(|k| !k.is_empty()),
            timeout,
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
            email_transport,
        })
    }
}

/// EMAIL_TRANSPORT and, for `smtp`, the SMTP_* variables. In dry run the relay is the mock
/// CRM's SMTP capture (host of MOCK_CRM_BASE_URL, port MOCK_SMTP_PORT, no TLS) whatever
/// SMTP_HOST says, and the real SMTP_PASSWORD is not sent to it.
fn email_transport(
    get: &dyn Fn(&str) -> Option<String>,
    dry_run: bool,
    mock_crm: &Url,
) -> Result<EmailTransport, SettingError> {
    let bad = |name: &'static str, value: String, reason: &str| SettingError {
        name,
        value,
        reason: reason.into(),
    };
    match text(get, "EMAIL_TRANSPORT")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("crm") => return Ok(EmailTransport::Crm),
        Some("smtp") => {}
        Some(other) => {
            return Err(bad(
                "EMAIL_TRANSPORT",
                other.to_string(),
                "use crm (the CRM sends) or smtp (one message per subscriber through SMTP_HOST)",
            ));
        }
    }
    let port = |name: &'static str, default: u16| {
        number(
            get,
            name,
            default,
            |p| *p > 0,
            "a port number from 1 to 65535",
        )
    };
    let from_raw = text(get, "SMTP_FROM").ok_or_else(|| {
        bad(
            "SMTP_FROM",
            String::new(),
            "required with EMAIL_TRANSPORT=smtp, e.g. \"Halcytone <newsletter@example.com>\"",
        )
    })?;
    let from = from_raw.parse::<lettre::message::Mailbox>().map_err(|e| {
        bad(
            "SMTP_FROM",
            from_raw.clone(),
            &format!("not a mailbox ({e}); e.g. \"Halcytone <newsletter@example.com>\""),
        )
    })?;
    let tls = match text(get, "SMTP_TLS")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(other) => {
            return Err(bad(
                "SMTP_TLS",
                other.to_string(),
                "use starttls (port 587), tls (port 465) or none",
            ));
        }
    };
    let timeout = number(
        get,
        "SMTP_TIMEOUT_SECONDS",
        30u64,
        |s| (1..=600).contains(s),
        "seconds, from 1 to 600",
    )?;
    let connections = number(
        get,
        "SMTP_CONNECTIONS",
        4usize,
        |n| (1..=64).contains(n),
        "connections, from 1 to 64",
    )?;
    let unsubscribe_raw =
        text(get, "UNSUBSCRIBE_URL").unwrap_or_else(|| "https://halcytone.com/unsubscribe".into());
    let unsubscribe_url = Url::parse(&unsubscribe_raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            bad(
                "UNSUBSCRIBE_URL",
                unsubscribe_raw.clone(),
                "must be an http:// or https:// URL (List-Unsubscribe needs it; one-click wants https)",
            )
        })?;
    let mock_host = mock_crm
        .host_str()
        .unwrap_or("localhost")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let smtp_port = port("SMTP_PORT", 587)?;
    let mock = (mock_host, port("MOCK_SMTP_PORT", 1025)?);
    let username = text(get, "SMTP_USERNAME");
    let dkim = dkim(get, Some(from.email.domain()))?;
    let settings = if dry_run {
        SmtpSettings {
            host: mock.0.clone(),
            port: mock.1,
            // The capture records the username; the real password stays out of dry run.
            password: username
                .as_ref()
                .map(|_| halcytone_vault::Secret::new("dry-run")),
            username,
            tls: SmtpTls::None,
            from,
            timeout: Duration::from_secs(timeout),
            connections,
            unsubscribe_url,
            mock,
            dkim,
        }
    } else {
        let host = text(get, "SMTP_HOST").ok_or_else(|| {
            bad(
                "SMTP_HOST",
                String::new(),
                "required with EMAIL_TRANSPORT=smtp when dry run is off",
            )
        })?;
        if host.contains(['/', ' ', '\t'])
            || (host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err())
        {
            return Err(bad(
                "SMTP_HOST",
                host,
                "a host name or address only; the port goes in SMTP_PORT",
            ));
        }
        let password = get("SMTP_PASSWORD")
            .filter(|p| !p.is_empty())
            .map(halcytone_vault::Secret::new);
        if password.is_some() && username.is_none() {
            return Err(bad(
                "SMTP_USERNAME",
                String::new(),
                "required when SMTP_PASSWORD is set",
            ));
        }
        SmtpSettings {
            host,
            port: smtp_port,
            username,
            password,
            tls,
            from,
            timeout: Duration::from_secs(timeout),
            connections,
            unsubscribe_url,
            mock,
            dkim,
        }
    };
    Ok(EmailTransport::Smtp(Box::new(settings)))
}

/// DKIM signing of SMTP mail: DKIM_PRIVATE_KEY (PEM) or DKIM_PRIVATE_KEY_FILE (a path to
/// one), DKIM_SELECTOR (`halcytone` by default) and DKIM_DOMAIN (the domain of SMTP_FROM by
/// default, `from_domain` here). Without a key, mail goes unsigned. A key's text is never put
/// in an error.
pub fn dkim(
    get: &dyn Fn(&str) -> Option<String>,
    from_domain: Option<&str>,
) -> Result<Option<DkimSettings>, SettingError> {
    let bad = |name: &'static str, value: String, reason: String| SettingError {
        name,
        value,
        reason,
    };
    let inline = get("DKIM_PRIVATE_KEY").filter(|v| !v.trim().is_empty());
    let file = text(get, "DKIM_PRIVATE_KEY_FILE");
    let selector = text(get, "DKIM_SELECTOR");
    let domain = text(get, "DKIM_DOMAIN");
    let hidden = |v: &str| format!("({} characters, hidden)", v.chars().count());
    let key = match (inline, file) {
        (None, None) => {
            return match selector.or(domain) {
                Some(v) => Err(bad(
                    "DKIM_PRIVATE_KEY",
                    String::new(),
                    format!(
                        "required when DKIM_SELECTOR or DKIM_DOMAIN is set ({v:?}): give the key as PEM, or its path in DKIM_PRIVATE_KEY_FILE (halcytone dkim generate makes one)"
                    ),
                )),
                None => Ok(None),
            };
        }
        (Some(pem), Some(_)) => {
            return Err(bad(
                "DKIM_PRIVATE_KEY",
                hidden(&pem),
                "set DKIM_PRIVATE_KEY or DKIM_PRIVATE_KEY_FILE, not both".into(),
            ));
        }
        (Some(pem), None) => DkimKey::from_pem(&pem)
            .map_err(|e| bad("DKIM_PRIVATE_KEY", hidden(&pem), e.to_string()))?,
        (None, Some(path)) => read_key_file(std::path::Path::new(&path))
            .map_err(|e| bad("DKIM_PRIVATE_KEY_FILE", path.clone(), e.to_string()))?,
    };
    let selector = selector.unwrap_or_else(|| DEFAULT_SELECTOR.to_string());
    if !valid_name(&selector) {
        return Err(bad(
            "DKIM_SELECTOR",
            selector,
            "a DNS label (letters, digits, hyphens; dots between labels), e.g. halcytone or news2025".into(),
        ));
    }
    let domain = domain
        .or(from_domain.map(str::to_string))
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
        .ok_or_else(|| {
            bad(
                "DKIM_DOMAIN",
                String::new(),
                "required: there is no SMTP_FROM to take the signing domain from".into(),
            )
        })?;
    if !valid_name(&domain) || !domain.contains('.') {
        return Err(bad(
            "DKIM_DOMAIN",
            domain,
            "a domain name such as example.com (by default the domain of SMTP_FROM)".into(),
        ));
    }
    Ok(Some(DkimSettings {
        selector,
        domain,
        key,
    }))
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

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        halcytone_content::vars::fixed_vars(pairs)
    }

    /// The settings read from `pairs`, and their SMTP transport (which they must have).
    fn smtp_of(pairs: &[(&str, &str)]) -> (Settings, SmtpSettings) {
        let s = Settings::from_vars(&vars(pairs), false).unwrap();
        let EmailTransport::Smtp(smtp) = &s.email_transport else {
            panic!("smtp expected");
        };
        let smtp = smtp.as_ref().clone();
        (s, smtp)
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
    fn email_transport_defaults_to_the_crm_and_smtp_is_read_and_checked() {
        let s = Settings::from_vars(&vars(&[("DRY_RUN_MODE", "true")]), false).unwrap();
        assert!(matches!(s.email_transport, EmailTransport::Crm));
        let live = [
            ("CRM_BASE_URL", "https://crm.example.com"),
            ("PLATFORM_BASE_URL", "https://cms.example.com"),
            ("EMAIL_TRANSPORT", "SMTP"),
            ("SMTP_HOST", "smtp.example.com"),
            ("SMTP_USERNAME", "apikey"),
            ("SMTP_PASSWORD", "s3cret"),
            ("SMTP_FROM", "Halcytone <newsletter@example.com>"),
        ];
        let (s, smtp) = smtp_of(&live);
        assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.example.com", 587));
        assert_eq!(smtp.tls, SmtpTls::StartTls);
        assert_eq!(smtp.timeout, Duration::from_secs(30));
        assert_eq!(smtp.from.email.to_string(), "newsletter@example.com");
        assert_eq!(smtp.password.as_ref().map(|p| p.expose()), Some("s3cret"));
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "the password never shows"
        );
        assert_eq!(smtp.mock, ("localhost".to_string(), 1025));

        // Dry run: the mock CRM's host and MOCK_SMTP_PORT, no TLS, whatever SMTP_HOST says.
        let mut dry = live.to_vec();
        dry.extend([
            ("DRY_RUN_MODE", "true"),
            ("MOCK_CRM_BASE_URL", "http://127.0.0.1:9001"),
            ("MOCK_SMTP_PORT", "2525"),
            ("SMTP_TLS", "tls"),
        ]);
        let (_, smtp) = smtp_of(&dry);
        assert_eq!((smtp.host.as_str(), smtp.port), ("127.0.0.1", 2525));
        assert_eq!(smtp.tls, SmtpTls::None);
        assert_eq!(smtp.username.as_deref(), Some("apikey"));
        assert_ne!(
            smtp.password.as_ref().map(|p| p.expose()),
            Some("s3cret"),
            "the real password is not sent to the mock"
        );

        for (name, value, wrong) in [
            ("EMAIL_TRANSPORT", "sendgrid", "EMAIL_TRANSPORT"),
            ("SMTP_TLS", "ssl", "SMTP_TLS"),
            ("SMTP_PORT", "0", "SMTP_PORT"),
            ("SMTP_PORT", "70000", "SMTP_PORT"),
            ("SMTP_TIMEOUT_SECONDS", "0", "SMTP_TIMEOUT_SECONDS"),
            ("SMTP_CONNECTIONS", "0", "SMTP_CONNECTIONS"),
            ("SMTP_CONNECTIONS", "65", "SMTP_CONNECTIONS"),
            ("SMTP_FROM", "not a mailbox", "SMTP_FROM"),
            ("SMTP_FROM", "", "SMTP_FROM"),
            ("SMTP_HOST", "", "SMTP_HOST"),
            ("SMTP_HOST", "smtp.example.com:587", "SMTP_HOST"),
            ("SMTP_USERNAME", "", "SMTP_USERNAME"),
            ("UNSUBSCRIBE_URL", "mailto:x@example.com", "UNSUBSCRIBE_URL"),
            ("MOCK_SMTP_PORT", "x", "MOCK_SMTP_PORT"),
        ] {
            let mut v: Vec<(&str, &str)> =
                live.iter().copied().filter(|(k, _)| *k != name).collect();
            v.push((name, value));
            let err = Settings::from_vars(&vars(&v), false).unwrap_err();
            assert_eq!(err.name, wrong, "{name}={value}: {err}");
        }
    }

    #[test]
    fn dkim_is_read_from_a_key_or_a_file_and_bad_keys_are_named_never_shown() {
        use crate::dkim::{DkimAlgorithm, DkimKey};
        let live = [
            ("CRM_BASE_URL", "https://crm.example.com"),
            ("PLATFORM_BASE_URL", "https://cms.example.com"),
            ("EMAIL_TRANSPORT", "smtp"),
            ("SMTP_HOST", "smtp.example.com"),
            ("SMTP_FROM", "Halcytone <newsletter@News.Example.com>"),
        ];
        let with = |extra: &[(&'static str, &str)]| {
            let mut v: Vec<(&str, &str)> = live.to_vec();
            v.extend_from_slice(extra);
            Settings::from_vars(&vars(&v), false)
        };
        let (_, smtp) = smtp_of(&live);
        assert!(smtp.dkim.is_none(), "no key: unsigned, as before");

        let (key, pem) = DkimKey::generate(DkimAlgorithm::Ed25519).unwrap();
        let s = with(&[("DKIM_PRIVATE_KEY", pem.expose())]).unwrap();
        let EmailTransport::Smtp(smtp) = &s.email_transport else {
            panic!("smtp expected")
        };
        let dkim = smtp.dkim.as_ref().unwrap();
        assert_eq!(dkim.selector, "halcytone");
        assert_eq!(dkim.domain, "news.example.com", "the From address's domain");
        assert_eq!(dkim.key.public_base64(), key.public_base64());
        assert!(
            !format!("{s:?}").contains(&pem.expose()[30..60]),
            "the key never shows"
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.pem");
        std::fs::write(&file, pem.expose()).unwrap();
        let path = file.to_str().unwrap();
        let s = with(&[
            ("DKIM_PRIVATE_KEY_FILE", path),
            ("DKIM_SELECTOR", "news2025"),
            ("DKIM_DOMAIN", "Example.com."),
        ])
        .unwrap();
        let EmailTransport::Smtp(smtp) = &s.email_transport else {
            panic!("smtp expected")
        };
        let dkim = smtp.dkim.as_ref().unwrap();
        assert_eq!(
            (dkim.selector.as_str(), dkim.domain.as_str()),
            ("news2025", "example.com")
        );
        assert_eq!(
            dkim.txt_record(),
            format!(
                "news2025._domainkey.example.com. IN TXT \"{}\"",
                key.record_value()
            )
        );

        let broken = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIsecretsecret\n-----END PRIVATE KEY-----";
        let missing = dir.path().join("missing.pem");
        for (extra, name) in [
            (vec![("DKIM_PRIVATE_KEY", broken)], "DKIM_PRIVATE_KEY"),
            (vec![("DKIM_PRIVATE_KEY", "not a key")], "DKIM_PRIVATE_KEY"),
            (
                vec![("DKIM_PRIVATE_KEY_FILE", missing.to_str().unwrap())],
                "DKIM_PRIVATE_KEY_FILE",
            ),
            (
                vec![
                    ("DKIM_PRIVATE_KEY", pem.expose()),
                    ("DKIM_PRIVATE_KEY_FILE", path),
                ],
                "DKIM_PRIVATE_KEY",
            ),
            (vec![("DKIM_SELECTOR", "news")], "DKIM_PRIVATE_KEY"),
            (
                vec![("DKIM_PRIVATE_KEY", pem.expose()), ("DKIM_SELECTOR", "a b")],
                "DKIM_SELECTOR",
            ),
            (
                vec![
                    ("DKIM_PRIVATE_KEY", pem.expose()),
                    ("DKIM_DOMAIN", "localhost"),
                ],
                "DKIM_DOMAIN",
            ),
        ] {
            let err = with(&extra).unwrap_err();
            assert_eq!(err.name, name, "{extra:?}: {err}");
            let shown = err.to_string();
            assert!(
                !shown.contains("secretsecret") && !shown.contains("MC4CAQAw"),
                "{shown}"
            );
        }
        let err = with(&[("DKIM_PRIVATE_KEY_FILE", missing.to_str().unwrap())]).unwrap_err();
        assert!(err.reason.contains("cannot read"), "{err}");
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
