//! The egress guard: while dry run is on, the HTTP client may only reach the mock services,
//! and the SMTP transport only the mock CRM's SMTP capture. Anything else is refused before
//! a connection is opened, and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use url::Url;

/// Hosts (with ports) requests may go to; `None` means live mode, where every host is allowed.
#[derive(Debug, Default)]
pub struct EgressGuard {
    allowed: Option<Vec<(String, u16)>>,
    /// SMTP endpoints (host, port) allowed in dry run.
    smtp: Vec<(String, u16)>,
    refused: AtomicU64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "dry run: refused to contact {host}:{port}; only the mock services ({allowed}) may be reached"
)]
pub struct EgressRefused {
    pub host: String,
    pub port: u16,
    pub allowed: String,
}

fn host_port(url: &Url) -> Option<(String, u16)> {
    Some((normal_host(url.host_str()?), url.port_or_known_default()?))
}

/// Lower case, with the loopback names folded into one.
fn normal_host(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.as_str() {
        "localhost" | "[::1]" | "::1" => "127.0.0.1".to_string(),
        _ => host,
    }
}

impl EgressGuard {
    /// Live mode: nothing is refused.
    pub fn open() -> Self {
        EgressGuard::default()
    }

    /// Dry run: only the given base URLs' hosts and ports.
    pub fn only(bases: &[&Url]) -> Self {
        EgressGuard {
            allowed: Some(bases.iter().filter_map(|u| host_port(u)).collect()),
            smtp: Vec::new(),
            refused: AtomicU64::new(0),
        }
    }

    /// Also lets SMTP reach `host:port` in dry run (the mock CRM's SMTP capture).
    pub fn allow_smtp(mut self, host: &str, port: u16) -> Self {
        self.smtp.push((normal_host(host), port));
        self
    }

    /// Checks an SMTP relay before connecting; in dry run only the allowed SMTP endpoints
    /// pass. A refusal is counted with the HTTP ones.
    pub fn check_smtp(&self, host: &str, port: u16) -> Result<(), EgressRefused> {
        if self.allowed.is_none() {
            return Ok(());
        }
        let target = (normal_host(host), port);
        if self.smtp.contains(&target) {
            return Ok(());
        }
        let allowed = self.smtp.iter().map(|(h, p)| format!("smtp {h}:{p}"));
        Err(self.refuse(target, "SMTP egress refused in dry run", allowed))
    }

    /// Counts and logs a refusal of `(host, port)`, listing what is allowed instead.
    fn refuse(
        &self,
        (host, port): (String, u16),
        log: &str,
        allowed: impl Iterator<Item = String>,
    ) -> EgressRefused {
        self.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(host = %host, port, "{log}");
        EgressRefused {
            host,
            port,
            allowed: allowed.collect::<Vec<_>>().join(", "),
        }
    }

    pub fn is_dry_run(&self) -> bool {
        self.allowed.is_some()
    }

    /// Checks a request URL; a refusal is counted.
    pub fn check(&self, url: &Url) -> Result<(), EgressRefused> {
        let Some(allowed) = &self.allowed else {
            return Ok(());
        };
        let target = host_port(url).unwrap_or_default();
        if allowed.contains(&target) {
            return Ok(());
        }
        let allowed = allowed.iter().map(|(h, p)| format!("{h}:{p}"));
        Err(self.refuse(target, "egress refused in dry run", allowed))
    }

    /// Requests refused so far (exported as `halcytone_egress_blocked_total`).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn only_mock_hosts_and_ports_pass_in_dry_run() {
        let crm = u("http://localhost:8001");
        let platform = u("http://127.0.0.1:8002");
        let g = EgressGuard::only(&[&crm, &platform]);
        assert!(
            g.check(&u("http://127.0.0.1:8001/api/v1/email/send"))
                .is_ok()
        );
        assert!(g.check(&u("http://localhost:8002/x")).is_ok());
        let err = g.check(&u("https://api.crm.example.com/send")).unwrap_err();
        assert!(err.to_string().contains("api.crm.example.com:443"));
        assert!(
            g.check(&u("http://127.0.0.1:9999/")).is_err(),
            "another port on the same host is refused"
        );
        assert_eq!(g.refused(), 2);
        assert!(
            EgressGuard::open()
                .check(&u("https://anywhere.example"))
                .is_ok()
        );
    }

    #[test]
    fn only_the_mock_smtp_capture_passes_in_dry_run() {
        let crm = u("http://localhost:8001");
        let g = EgressGuard::only(&[&crm]).allow_smtp("localhost", 1025);
        assert!(g.check_smtp("127.0.0.1", 1025).is_ok());
        assert!(g.check_smtp("LOCALHOST", 1025).is_ok());
        let err = g.check_smtp("smtp.example.com", 587).unwrap_err();
        assert!(err.to_string().contains("smtp.example.com:587"), "{err}");
        assert!(err.to_string().contains("smtp 127.0.0.1:1025"), "{err}");
        assert!(g.check_smtp("127.0.0.1", 25).is_err(), "another port");
        assert!(
            g.check(&u("http://127.0.0.1:1025/")).is_err(),
            "the SMTP allowance is not an HTTP one"
        );
        assert_eq!(g.refused(), 3);
        assert!(
            EgressGuard::open()
                .check_smtp("smtp.example.com", 587)
                .is_ok()
        );
    }
}
