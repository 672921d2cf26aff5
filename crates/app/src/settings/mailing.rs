//! What recipients and email providers reach us at: the public address of the API (for the
//! one-click unsubscribe links in `List-Unsubscribe`), the secret those links are signed with,
//! and the secret provider events (bounces, complaints) are signed with.

use halcytone_content::vars::text;
use halcytone_publish::SettingError;
use url::Url;

/// The shortest secret accepted: 16 characters.
const MIN_SECRET: usize = 16;

#[derive(Clone)]
pub struct MailingSettings {
    /// `PUBLIC_BASE_URL`: where recipients reach this API (`https://news.example.com`).
    pub public_base_url: Option<Url>,
    /// `UNSUBSCRIBE_SECRET`: signs one-click unsubscribe links. With the public URL, every
    /// SMTP message carries a link of its own; without either, the newsletter's link is used.
    pub unsubscribe_secret: Option<String>,
    /// `EMAIL_EVENTS_SECRET`: bounce and complaint events must be signed with it; without it
    /// the intake route refuses every event.
    pub events_secret: Option<String>,
    /// `SNS_VERIFY_SIGNATURES` (on by default): SNS deliveries must carry a valid SNS message
    /// signature besides the URL's token.
    pub sns_verify: bool,
    /// `SNS_SIGNING_CERT_FILE`: the SNS signing certificate (PEM or DER), pinned, as DER; without
    /// it the certificate at each message's `SigningCertURL` is fetched from Amazon.
    pub sns_signing_cert: Option<Vec<u8>>,
}

impl Default for MailingSettings {
    fn default() -> Self {
        MailingSettings {
            public_base_url: None,
            unsubscribe_secret: None,
            events_secret: None,
            sns_verify: true,
            sns_signing_cert: None,
        }
    }
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
            .field("sns_verify", &self.sns_verify)
            .field(
                "sns_signing_cert",
                &self.sns_signing_cert.as_ref().map(Vec::len),
            )
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
        let sns_signing_cert = text(get, "SNS_SIGNING_CERT_FILE")
            .map(|path| {
                let bad = |reason: String| SettingError {
                    name: "SNS_SIGNING_CERT_FILE",
                    value: path.clone(),
                    reason,
                };
                let bytes =
                    std::fs::read(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
                crate::sns_signature::certificate_der(&bytes).map_err(|e| bad(e.to_string()))
            })
            .transpose()?;
        Ok(MailingSettings {
            public_base_url,
            unsubscribe_secret: secret("UNSUBSCRIBE_SECRET")?,
            events_secret: secret("EMAIL_EVENTS_SECRET")?,
            sns_verify: halcytone_publish::settings::flag_or(get, "SNS_VERIFY_SIGNATURES", true)?,
            sns_signing_cert,
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
        assert!(m.sns_verify, "SNS signatures are checked unless turned off");
        assert!(m.sns_signing_cert.is_none());
    }

    #[test]
    fn a_pinned_sns_certificate_must_be_a_readable_certificate() {
        let e = read(&[("SNS_SIGNING_CERT_FILE", "/nonexistent/sns.pem")]).unwrap_err();
        assert_eq!(e.name, "SNS_SIGNING_CERT_FILE");
        assert!(e.reason.contains("cannot read"), "{e}");
        let dir = std::env::temp_dir().join(format!("sns-cert-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate").unwrap();
        let e = read(&[("SNS_SIGNING_CERT_FILE", dir.to_str().unwrap())]).unwrap_err();
        let _ = std::fs::remove_file(&dir);
        assert!(e.reason.contains("PEM"), "{e}");
        assert!(
            !read(&[("SNS_VERIFY_SIGNATURES", "false")])
                .unwrap()
                .sns_verify
        );
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
