//! What recipients and email providers reach us at: the public address of the API (for the
//! one-click unsubscribe links in `List-Unsubscribe`), the secret those links are signed with,
//! and the secret provider events (bounces, complaints) are signed with.

use halcytone_content::vars::text;
use halcytone_publish::SettingError;
use url::Url;

/// The shortest secret accepted: 16 characters.
const MIN_SECRET: usize = 16;

#[derive(Clone, Default)]
pub struct MailingSettings {
    /// `PUBLIC_BASE_URL`: where recipients reach this API (`https://news.example.com`).
    pub public_base_url: Option<Url>,
    /// `UNSUBSCRIBE_SECRET`: signs one-click unsubscribe links. With the public URL, every
    /// SMTP message carries a link of its own; without either, the newsletter's link is used.
    pub unsubscribe_secret: Option<String>,
    /// `EMAIL_EVENTS_SECRET`: bounce and complaint events must be signed with it; without it
    /// the intake route refuses every event.
    pub events_secret: Option<String>,
}

impl std::fmt::Debug for MailingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "(hidden)");
        f.debug_struct("MailingSettings")
            .field(
                "public_base_url",
                &self.public_base_url.as_ref().map(Url::as_str),
            )
            .field("unsubscribe_secret", &hidden(&self.unsubscribe_secret))
            .field("events_secret", &hidden(&self.events_secret))
            .finish()
    }
}

impl MailingSettings {
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let secret = |name: &'static str| -> Result<Option<String>, SettingError> {
            match text(get, name) {
                Some(s) if s.chars().count() < MIN_SECRET => Err(SettingError {
                    name,
                    value: "(hidden)".into(),
                    reason: format!("must be at least {MIN_SECRET} characters"),
                }),
                other => Ok(other),
            }
        };
        let public_base_url = text(get, "PUBLIC_BASE_URL")
            .map(|raw| {
                let bad = |reason: &str| SettingError {
                    name: "PUBLIC_BASE_URL",
                    value: raw.clone(),
                    reason: reason.into(),
                };
                let url = Url::parse(&raw).map_err(|_| bad("must be an http(s) URL"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(bad("must be an http(s) URL with a host"));
                }
                Ok(url)
            })
            .transpose()?;
        Ok(MailingSettings {
            public_base_url,
            unsubscribe_secret: secret("UNSUBSCRIBE_SECRET")?,
            events_secret: secret("EMAIL_EVENTS_SECRET")?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<MailingSettings, SettingError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MailingSettings::from_vars(&|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn nothing_set_is_nothing_configured() {
        let m = read(&[]).unwrap();
        assert!(m.public_base_url.is_none() && m.unsubscribe_secret.is_none());
    }

    #[test]
    fn a_short_secret_and_a_bad_url_are_refused_by_name() {
        let e = read(&[("UNSUBSCRIBE_SECRET", "short")]).unwrap_err();
        assert_eq!(e.name, "UNSUBSCRIBE_SECRET");
        let e = read(&[("PUBLIC_BASE_URL", "ftp://x")]).unwrap_err();
        assert_eq!(e.name, "PUBLIC_BASE_URL");
        let m = read(&[
            ("PUBLIC_BASE_URL", "https://news.example.com"),
            ("EMAIL_EVENTS_SECRET", "0123456789abcdef"),
        ])
        .unwrap();
        assert!(!format!("{m:?}").contains("0123456789abcdef"));
    }
}
