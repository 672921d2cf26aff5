//! Source settings, read from environment-style variables.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::SettingError;
use crate::gdocs::ServiceAccount;
use halcytone_content::vars;

/// Default Google Docs API root.
pub const DEFAULT_GOOGLE_DOCS_BASE_URL: &str = "https://docs.googleapis.com";
/// Default Notion API root.
pub const DEFAULT_NOTION_BASE_URL: &str = "https://api.notion.com";
/// The Notion API version we speak.
pub const DEFAULT_NOTION_VERSION: &str = "2022-06-28";
/// Default cap on a URL document: 2 MiB.
pub const DEFAULT_URL_MAX_BYTES: usize = 2 * 1024 * 1024;
/// Default time allowed for each HTTP call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

const REDACTED: &str = "<redacted>";

/// How to reach each kind of source. `Debug` hides the Google credentials and the Notion key.
#[derive(Clone)]
pub struct SourceSettings {
    /// `GOOGLE_CREDENTIALS_JSON`: service-account JSON text, or the path of such a file.
    pub google_credentials_json: Option<String>,
    /// `GOOGLE_TOKEN_URL`: where to exchange the signed assertion, instead of the
    /// credentials' `token_uri` (which stays the JWT audience).
    pub google_token_url: Option<String>,
    /// `GOOGLE_DOCS_BASE_URL`, default `https://docs.googleapis.com`.
    pub google_docs_base_url: String,
    /// `NOTION_API_KEY`: the integration token.
    pub notion_api_key: Option<String>,
    /// `NOTION_DATABASE_ID`: used when the reference id is empty or `default`.
    pub notion_database_id: Option<String>,
    /// `NOTION_BASE_URL`, default `https://api.notion.com`.
    pub notion_base_url: String,
    /// `NOTION_VERSION`, default `2022-06-28`.
    pub notion_version: String,
    /// `URL_SOURCE_ALLOW_PRIVATE`: let `url:` documents live on loopback and private networks.
    pub url_allow_private: bool,
    /// `URL_SOURCE_MAX_BYTES`, default 2 MiB.
    pub url_max_bytes: usize,
    /// `SOURCE_TIMEOUT_SECONDS`, default 15 s, for each HTTP call.
    pub timeout: Duration,
    /// `LIVING_DOC_DIR`: per-request `file:` paths must resolve inside it. `None` refuses
    /// per-request files.
    pub file_root: Option<PathBuf>,
}

impl Default for SourceSettings {
    fn default() -> Self {
        SourceSettings {
            google_credentials_json: None,
            google_token_url: None,
            google_docs_base_url: DEFAULT_GOOGLE_DOCS_BASE_URL.into(),
            notion_api_key: None,
            notion_database_id: None,
            notion_base_url: DEFAULT_NOTION_BASE_URL.into(),
            notion_version: DEFAULT_NOTION_VERSION.into(),
            url_allow_private: false,
            url_max_bytes: DEFAULT_URL_MAX_BYTES,
            timeout: DEFAULT_TIMEOUT,
            file_root: None,
        }
    }
}

impl std::fmt::Debug for SourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| if v.is_some() { Some(REDACTED) } else { None };
        f.debug_struct("SourceSettings")
            .field(
                "google_credentials_json",
                &secret(&self.google_credentials_json),
            )
            .field("google_token_url", &self.google_token_url)
            .field("google_docs_base_url", &self.google_docs_base_url)
            .field("notion_api_key", &secret(&self.notion_api_key))
            .field("notion_database_id", &self.notion_database_id)
            .field("notion_base_url", &self.notion_base_url)
            .field("notion_version", &self.notion_version)
            .field("url_allow_private", &self.url_allow_private)
            .field("url_max_bytes", &self.url_max_bytes)
            .field("timeout", &self.timeout)
            .field("file_root", &self.file_root)
            .finish()
    }
}

impl SourceSettings {
    /// Reads the settings through `get` (usually `std::env::var(..).ok()`). Unset and blank
    /// variables take their defaults. Secret values never appear in a [`SettingError`].
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<SourceSettings, SettingError> {
        let var = |name: &str| vars::text(&get, name);
        let mut s = SourceSettings::default();

        if let Some(creds) = var("GOOGLE_CREDENTIALS_JSON") {
            check_credentials(&creds)?;
            s.google_credentials_json = Some(creds);
        }
        if let Some(v) = var("GOOGLE_TOKEN_URL") {
            s.google_token_url = Some(http_url("GOOGLE_TOKEN_URL", &v)?);
        }
        if let Some(v) = var("GOOGLE_DOCS_BASE_URL") {
            s.google_docs_base_url = http_url("GOOGLE_DOCS_BASE_URL", &v)?;
        }
        s.notion_api_key = var("NOTION_API_KEY");
        if let Some(v) = var("NOTION_DATABASE_ID") {
            let id = crate::reference::notion_id(&v).map_err(|_| SettingError {
                name: "NOTION_DATABASE_ID",
                value: v.clone(),
                reason: "not a Notion database id (32 hexadecimal digits, dashes allowed)".into(),
            })?;
            s.notion_database_id = Some(id);
        }
        if let Some(v) = var("NOTION_BASE_URL") {
            s.notion_base_url = http_url("NOTION_BASE_URL", &v)?;
        }
        let version = |v: &str| is_notion_version(v).then(|| v.to_string());
        let reason = "must be a Notion API version date such as 2022-06-28";
        if let Some(v) = parsed(&var, "NOTION_VERSION", reason, version)? {
            s.notion_version = v;
        }
        let reason = "must be true or false";
        if let Some(allow) = parsed(&var, "URL_SOURCE_ALLOW_PRIVATE", reason, vars::truth)? {
            s.url_allow_private = allow;
        }
        let bytes = |v: &str| v.replace('_', "").parse::<usize>().ok().filter(|n| *n > 0);
        let reason = "must be a whole number of bytes greater than 0";
        if let Some(n) = parsed(&var, "URL_SOURCE_MAX_BYTES", reason, bytes)? {
            s.url_max_bytes = n;
        }
        let seconds = |v: &str| {
            let secs = v.parse::<f64>().ok()?;
            (secs > 0.0 && secs <= 600.0).then(|| Duration::from_secs_f64(secs))
        };
        let reason = "must be a number of seconds greater than 0 and at most 600";
        if let Some(timeout) = parsed(&var, "SOURCE_TIMEOUT_SECONDS", reason, seconds)? {
            s.timeout = timeout;
        }
        if let Some(v) = var("LIVING_DOC_DIR") {
            let err = |reason: String| SettingError {
                name: "LIVING_DOC_DIR",
                value: v.clone(),
                reason,
            };
            let dir = std::fs::canonicalize(&v).map_err(|e| err(e.to_string()))?;
            if !dir.is_dir() {
                return Err(err("is not a directory".into()));
            }
            s.file_root = Some(dir);
        }
        Ok(s)
    }
}

/// Checks that credentials are service-account JSON, inline or in a readable file.
fn check_credentials(value: &str) -> Result<(), SettingError> {
    const NAME: &str = "GOOGLE_CREDENTIALS_JSON";
    if value.starts_with('{') {
        return ServiceAccount::from_json(value)
            .map(|_| ())
            .map_err(|reason| SettingError {
                name: NAME,
                value: REDACTED.into(),
                reason,
            });
    }
    let err = |reason: String| SettingError {
        name: NAME,
        value: value.to_string(),
        reason,
    };
    let text = std::fs::read_to_string(value).map_err(|e| {
        err(format!(
            "neither service-account JSON nor a readable file ({e})"
        ))
    })?;
    ServiceAccount::from_json(&text)
        .map(|_| ())
        .map_err(|reason| err(format!("the file is not usable: {reason}")))
}

/// Reads `name` when it is set: `parse` makes the setting of its value, or refuses it
/// (`None`), which is an error giving `reason`.
fn parsed<T>(
    var: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    reason: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, SettingError> {
    vars::parsed(var, name, parse).map_err(|value| SettingError {
        name,
        value,
        reason: reason.into(),
    })
}

/// A Notion API version: a date written `YYYY-MM-DD`.
fn is_notion_version(v: &str) -> bool {
    v.len() == 10
        && v.chars().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn http_url(name: &'static str, value: &str) -> Result<String, SettingError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(value.trim_end_matches('/').to_string())
        }
        _ => Err(SettingError {
            name,
            value: value.to_string(),
            reason: "must be an http or https URL".into(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SourceSettings, SettingError> {
        SourceSettings::from_vars(vars::fixed_vars(pairs))
    }

    #[test]
    fn defaults() {
        let s = read(&[]).unwrap();
        assert_eq!(s.google_docs_base_url, "https://docs.googleapis.com");
        assert_eq!(s.notion_base_url, "https://api.notion.com");
        assert_eq!(s.notion_version, "2022-06-28");
        assert!(!s.url_allow_private);
        assert_eq!(s.url_max_bytes, 2 * 1024 * 1024);
        assert_eq!(s.timeout, Duration::from_secs(15));
        assert!(s.file_root.is_none() && s.notion_api_key.is_none());
    }

    #[test]
    fn reads_values() {
        let dir = tempfile::tempdir().unwrap();
        let s = read(&[
            ("NOTION_API_KEY", "ntn_secret_value"),
            ("NOTION_DATABASE_ID", "0123456789abcdef0123456789abcdef"),
            ("NOTION_BASE_URL", "http://127.0.0.1:9/"),
            ("URL_SOURCE_ALLOW_PRIVATE", "yes"),
            ("URL_SOURCE_MAX_BYTES", "1000"),
            ("SOURCE_TIMEOUT_SECONDS", "2.5"),
            ("LIVING_DOC_DIR", dir.path().to_str().unwrap()),
            ("GOOGLE_TOKEN_URL", "http://127.0.0.1:9/token"),
        ])
        .unwrap();
        assert_eq!(s.notion_api_key.as_deref(), Some("ntn_secret_value"));
        assert_eq!(s.notion_base_url, "http://127.0.0.1:9");
        assert!(s.url_allow_private);
        assert_eq!(s.url_max_bytes, 1000);
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.file_root, Some(dir.path().canonicalize().unwrap()));
        assert!(!format!("{s:?}").contains("ntn_secret_value"));
    }

    #[test]
    fn refuses_bad_values_naming_the_variable() {
        for (name, value) in [
            ("URL_SOURCE_ALLOW_PRIVATE", "maybe"),
            ("URL_SOURCE_MAX_BYTES", "0"),
            ("SOURCE_TIMEOUT_SECONDS", "-1"),
            ("NOTION_BASE_URL", "ftp://x"),
            ("NOTION_VERSION", "latest"),
            ("NOTION_DATABASE_ID", "../x"),
            ("LIVING_DOC_DIR", "/definitely/not/here"),
        ] {
            let e = read(&[(name, value)]).unwrap_err();
            assert_eq!(e.name, name);
            assert!(
                e.to_string().starts_with(&format!("{name}={value}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_credentials_never_echo_the_secret() {
        let json = r#"{"client_email": "a@b.c", "private_key": "SECRETKEYMATERIAL"}"#;
        let e = read(&[("GOOGLE_CREDENTIALS_JSON", json)]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("GOOGLE_CREDENTIALS_JSON=<redacted>: "),
            "{text}"
        );
        assert!(!text.contains("SECRETKEYMATERIAL"), "{text}");
        let e = read(&[("GOOGLE_CREDENTIALS_JSON", "/no/such/creds.json")]).unwrap_err();
        assert!(e.reason.contains("neither service-account JSON"), "{e}");
    }
}
