//! Outbound webhook settings: `WEBHOOK_ALLOW_HOSTS`, `WEBHOOK_RETRY_SECONDS`,
//! `WEBHOOK_TIMEOUT_SECONDS`.

use halcytone_content::vars::text;
use halcytone_publish::SettingError;
use halcytone_publish::settings::number;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    /// `WEBHOOK_ALLOW_HOSTS` (comma-separated, lower-cased): hosts a webhook may reach even
    /// when they are private or loopback — and in dry run, the only hosts it may reach.
    pub allow_hosts: Vec<String>,
    /// `WEBHOOK_RETRY_SECONDS`: the wait before each retry after the first attempt fails
    /// (default `5,300,1800,7200,18000,36000,36000`, the schedule Standard Webhooks suggests);
    /// when it is used up, the message is given up and the endpoint marked failing.
    pub retry_after: Vec<Duration>,
    /// `WEBHOOK_TIMEOUT_SECONDS` (10): how long one attempt may take.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_hosts: Vec::new(),
            retry_after: [5, 300, 1800, 7200, 18_000, 36_000, 36_000]
                .map(Duration::from_secs)
                .to_vec(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookSettings {
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let mut s = WebhookSettings::default();
        if let Some(hosts) = text(get, "WEBHOOK_ALLOW_HOSTS") {
            s.allow_hosts = hosts
                .split(',')
                .map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
        }
        if let Some(list) = text(get, "WEBHOOK_RETRY_SECONDS") {
            let bad = |reason: &str| SettingError {
                name: "WEBHOOK_RETRY_SECONDS",
                value: list.clone(),
                reason: reason.into(),
            };
            let waits: Result<Vec<u64>, _> =
                list.split(',').map(|w| w.trim().parse::<u64>()).collect();
            let waits = waits.map_err(|_| {
                bad("must be seconds separated by commas (5,300,1800), each a whole number")
            })?;
            if waits.len() > 20 || waits.iter().any(|w| *w == 0 || *w > 7 * 86_400) {
                return Err(bad(
                    "at most 20 retries, each from 1 second to 7 days (604800)",
                ));
            }
            s.retry_after = waits.into_iter().map(Duration::from_secs).collect();
        }
        s.timeout = Duration::from_secs(number(
            get,
            "WEBHOOK_TIMEOUT_SECONDS",
            10u64,
            |t| (1..=60).contains(t),
            "seconds, from 1 to 60",
        )?);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<WebhookSettings, SettingError> {
        WebhookSettings::from_vars(&|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn hosts_and_the_retry_schedule_are_read() {
        let s = read(&[
            ("WEBHOOK_ALLOW_HOSTS", " LocalHost, 127.0.0.1 ,[::1],"),
            ("WEBHOOK_RETRY_SECONDS", "1, 2,3"),
        ])
        .unwrap();
        assert_eq!(s.allow_hosts, ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(s.retry_after, [1, 2, 3].map(Duration::from_secs));
        assert_eq!(read(&[]).unwrap().retry_after.len(), 7);
        for bad in ["5,x", "0", "1,2,99999999"] {
            let e = read(&[("WEBHOOK_RETRY_SECONDS", bad)]).unwrap_err();
            assert_eq!(e.name, "WEBHOOK_RETRY_SECONDS", "{bad}");
        }
    }
}
