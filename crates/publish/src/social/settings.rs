//! Configuration of the live social adapters. Quota defaults, from the networks' published
//! limits (tiers differ; set the variables to yours):
//! - X: `POST /2/tweets` allows 100 posts per 24 hours per user on the Basic tier; we pace at
//!   50 per hour below the app-wide 15-minute and 3-hour windows.
//! - LinkedIn: 150 member posts per day; we pace at 25 per hour.
//! - Facebook Pages: Meta publishes no post count, only call budgets (the Pages rate limit,
//!   4,800 calls per engaged user per day); we pace at 25 posts per hour and 200 per day.

use crate::settings::{SettingError, base_url, number};
use halcytone_content::vars::text;
use halcytone_vault::Secret;
use std::time::Duration;
use url::Url;

/// One network's client and limits.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The OAuth client id; without it tokens cannot be refreshed.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub api_base: Url,
    pub token_url: Url,
    pub per_hour: u32,
    pub per_day: u32,
}

#[derive(Debug, Clone)]
pub struct SocialSettings {
    pub x: NetworkSettings,
    pub linkedin: NetworkSettings,
    /// A Page token is not refreshed, so its client id, secret and token URL go unused.
    pub facebook: NetworkSettings,
    /// `LinkedIn-Version` header (YYYYMM).
    pub linkedin_version: String,
    /// The Graph API version in the path (`v21.0`).
    pub facebook_version: String,
    /// The longest wait for a 429's reset before the post fails instead.
    pub max_rate_limit_wait: Duration,
}

fn url(v: &str) -> Url {
    Url::parse(v).unwrap_or_else(|_| unreachable!("built-in URL {v}"))
}

impl Default for SocialSettings {
    fn default() -> Self {
        SocialSettings {
            x: NetworkSettings {
                client_id: None,
                client_secret: None,
                api_base: url("https://api.x.com/"),
                token_url: url("https://api.x.com/2/oauth2/token"),
                per_hour: 50,
                per_day: 100,
            },
            linkedin: NetworkSettings {
                client_id: None,
                client_secret: None,
                api_base: url("https://api.linkedin.com/"),
                token_url: url("https://www.linkedin.com/oauth/v2/accessToken"),
                per_hour: 25,
                per_day: 150,
            },
            facebook: NetworkSettings {
                client_id: None,
                client_secret: None,
                api_base: url("https://graph.facebook.com/"),
                token_url: url("https://graph.facebook.com/oauth/access_token"),
                per_hour: 25,
                per_day: 200,
            },
            linkedin_version: "202501".into(),
            facebook_version: "v21.0".into(),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

fn parse_url(name: &'static str, value: &str) -> Result<Url, SettingError> {
    match Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(SettingError {
            name,
            value: value.to_string(),
            reason: "an absolute http(s) URL".into(),
        }),
    }
}

/// The environment variables that configure one network.
struct NetworkVars {
    /// Client id and secret, for networks whose tokens are refreshed.
    client: Option<(&'static str, &'static str)>,
    api_base: &'static str,
    /// `None` where no token endpoint is called (a Facebook Page token is never refreshed).
    token_url: Option<&'static str>,
    per_hour: &'static str,
    per_day: &'static str,
}

impl NetworkVars {
    const X: Self = Self {
        client: Some(("X_CLIENT_ID", "X_CLIENT_SECRET")),
        api_base: "X_API_BASE_URL",
        token_url: Some("X_TOKEN_URL"),
        per_hour: "X_POSTS_PER_HOUR",
        per_day: "X_POSTS_PER_DAY",
    };
    const LINKEDIN: Self = Self {
        client: Some(("LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET")),
        api_base: "LINKEDIN_API_BASE_URL",
        token_url: Some("LINKEDIN_TOKEN_URL"),
        per_hour: "LINKEDIN_POSTS_PER_HOUR",
        per_day: "LINKEDIN_POSTS_PER_DAY",
    };
    const FACEBOOK: Self = Self {
        client: None,
        api_base: "FACEBOOK_API_BASE_URL",
        token_url: None,
        per_hour: "FACEBOOK_POSTS_PER_HOUR",
        per_day: "FACEBOOK_POSTS_PER_DAY",
    };
}

impl SocialSettings {
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let mut s = SocialSettings::default();
        let text = |name: &str| text(get, name);
        for (names, n) in [
            (NetworkVars::X, &mut s.x),
            (NetworkVars::LINKEDIN, &mut s.linkedin),
            (NetworkVars::FACEBOOK, &mut s.facebook),
        ] {
            if let Some((id, secret)) = names.client {
                n.client_id = text(id);
                n.client_secret = text(secret).map(Secret::new);
            }
            if let Some(u) = base_url(get, names.api_base, None)? {
                n.api_base = u;
            }
            if let Some((name, v)) = names.token_url.and_then(|name| Some((name, text(name)?))) {
                n.token_url = parse_url(name, &v)?;
            }
            n.per_hour = number(
                get,
                names.per_hour,
                n.per_hour,
                |v| (1..=10_000).contains(v),
                "posts, 1 to 10000",
            )?;
            n.per_day = number(
                get,
                names.per_day,
                n.per_day,
                |v| (1..=100_000).contains(v),
                "posts, 1 to 100000",
            )?;
        }
        if let Some(v) = text("LINKEDIN_VERSION") {
            if v.len() != 6 || !v.chars().all(|c| c.is_ascii_digit()) {
                return Err(SettingError {
                    name: "LINKEDIN_VERSION",
                    value: v,
                    reason: "the API version as YYYYMM, e.g. 202501".into(),
                });
            }
            s.linkedin_version = v;
        }
        if let Some(v) = text("FACEBOOK_GRAPH_VERSION") {
            let digits = v.strip_prefix('v').unwrap_or_default();
            let ok = digits.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            });
            if !ok {
                return Err(SettingError {
                    name: "FACEBOOK_GRAPH_VERSION",
                    value: v,
                    reason: "the Graph API version as vMAJOR.MINOR, e.g. v21.0".into(),
                });
            }
            s.facebook_version = v;
        }
        s.max_rate_limit_wait = Duration::from_secs(number(
            get,
            "SOCIAL_RATE_LIMIT_MAX_WAIT_SECONDS",
            60u64,
            |v| *v <= 900,
            "seconds, 0 to 900",
        )?);
        Ok(s)
    }

    pub fn network(&self, n: super::Network) -> &NetworkSettings {
        match n {
            super::Network::X => &self.x,
            super::Network::Linkedin => &self.linkedin,
            super::Network::Facebook => &self.facebook,
        }
    }

    /// Points every network at `base` (the mock Platform in dry run), keeping the paths.
    pub fn routed_to(&self, base: &Url) -> SocialSettings {
        let mut s = self.clone();
        let join = |p: &str| base.join(p).unwrap_or_else(|_| base.clone());
        s.x.api_base = base.clone();
        s.x.token_url = join("2/oauth2/token");
        s.linkedin.api_base = base.clone();
        s.linkedin.token_url = join("oauth/v2/accessToken");
        s.facebook.api_base = base.clone();
        s.facebook.token_url = join("oauth/access_token");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        halcytone_content::vars::fixed_vars(pairs)
    }

    #[test]
    fn defaults_and_overrides() {
        let s = SocialSettings::from_vars(&vars(&[])).unwrap_or_default();
        assert_eq!(s.x.api_base.as_str(), "https://api.x.com/");
        assert_eq!((s.x.per_hour, s.x.per_day), (50, 100));
        assert_eq!((s.linkedin.per_hour, s.linkedin.per_day), (25, 150));
        assert_eq!((s.facebook.per_hour, s.facebook.per_day), (25, 200));
        assert_eq!(s.facebook_version, "v21.0");
        let s = SocialSettings::from_vars(&vars(&[
            ("X_CLIENT_ID", "abc"),
            ("X_API_BASE_URL", "http://127.0.0.1:9/x"),
            ("LINKEDIN_POSTS_PER_DAY", "10"),
            ("LINKEDIN_TOKEN_URL", "http://127.0.0.1:9/token"),
            (
                "FACEBOOK_CLIENT_ID",
                "ignored: Page tokens are not refreshed",
            ),
        ]))
        .unwrap_or_default();
        assert_eq!(s.x.client_id.as_deref(), Some("abc"));
        assert_eq!(s.x.api_base.as_str(), "http://127.0.0.1:9/x/");
        assert_eq!(s.linkedin.per_day, 10);
        assert_eq!(s.linkedin.token_url.as_str(), "http://127.0.0.1:9/token");
        assert_eq!(s.facebook.client_id, None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (pairs, name) in [
            (&[("X_API_BASE_URL", "ftp://x")][..], "X_API_BASE_URL"),
            (&[("LINKEDIN_VERSION", "2025-01")][..], "LINKEDIN_VERSION"),
            (
                &[("FACEBOOK_GRAPH_VERSION", "21")][..],
                "FACEBOOK_GRAPH_VERSION",
            ),
            (
                &[("FACEBOOK_POSTS_PER_DAY", "0")][..],
                "FACEBOOK_POSTS_PER_DAY",
            ),
            (&[("X_POSTS_PER_HOUR", "0")][..], "X_POSTS_PER_HOUR"),
            (
                &[("SOCIAL_RATE_LIMIT_MAX_WAIT_SECONDS", "9999")][..],
                "SOCIAL_RATE_LIMIT_MAX_WAIT_SECONDS",
            ),
        ] {
            let owned: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let get = move |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let e = SocialSettings::from_vars(&get).err().map(|e| e.name);
            assert_eq!(e, Some(name));
        }
    }
}
