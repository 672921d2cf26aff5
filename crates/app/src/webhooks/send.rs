//! Where a webhook may go, and one attempt at sending it.
//!
//! An endpoint must be `http` or `https`. Private, loopback and other non-public addresses are
//! refused unless the host is listed in `WEBHOOK_ALLOW_HOSTS` — checked when the endpoint is
//! registered and again on every attempt, by the resolver the connection itself uses (so a
//! name cannot resolve to a public address when checked and a private one when used). In dry
//! run, webhooks go only to listed hosts: a rehearsal can be watched by a local listener and
//! reaches nothing else. Redirects are not followed.

use halcytone_sources::guard::forbidden_reason;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// The hosts webhooks may reach whatever their address, and whether only they may be reached.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// `WEBHOOK_ALLOW_HOSTS`, lower-cased.
    pub allow_hosts: Vec<String>,
    /// Dry run: only `allow_hosts`.
    pub dry_run: bool,
}

impl Reach {
    fn allows(&self, host: &str) -> bool {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        self.allow_hosts.contains(&host)
    }

    /// Checks an endpoint URL: its scheme, its host, and (for a name) every address it
    /// resolves to now. The message says which rule refused it and how to lift it.
    pub async fn check(&self, raw: &str) -> Result<Url, String> {
        let url = Url::parse(raw.trim()).map_err(|e| format!("'{raw}' is not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{url}: only http and https endpoints are allowed"));
        }
        if url.username() != "" || url.password().is_some() {
            return Err(format!(
                "{}: credentials in the URL are not allowed; the signature authenticates the sender",
                url.host_str().unwrap_or_default()
            ));
        }
        let Some(host) = url.host() else {
            return Err(format!("{url}: the URL has no host"));
        };
        let name = url.host_str().unwrap_or_default().to_string();
        let listed = self.allows(&name);
        if self.dry_run && !listed {
            return Err(format!(
                "{name} is not in WEBHOOK_ALLOW_HOSTS: in dry run webhooks go only to the hosts listed there"
            ));
        }
        if listed {
            return Ok(url);
        }
        let addresses: Vec<IpAddr> = match host {
            Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
            Host::Domain(d) => {
                let port = url.port_or_known_default().unwrap_or(443);
                tokio::net::lookup_host((d, port))
                    .await
                    .map_err(|e| format!("{d} does not resolve: {e}"))?
                    .map(|a| a.ip())
                    .collect()
            }
        };
        for ip in addresses {
            if let Some(reason) = forbidden_reason(ip) {
                return Err(refusal(&name, ip, reason));
            }
        }
        Ok(url)
    }
}

fn refusal(host: &str, ip: IpAddr, reason: &str) -> String {
    format!("{host} resolves to {ip}, {reason}; list the host in WEBHOOK_ALLOW_HOSTS to allow it")
}

/// The resolver of the webhook client: a host not listed must resolve to public addresses
/// only, and the addresses checked are the ones connected to.
#[derive(Debug, Clone)]
struct Resolver(Reach);

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !reach.allows(&host) {
                if reach.dry_run {
                    return Err(format!("{host} is not in WEBHOOK_ALLOW_HOSTS (dry run)").into());
                }
                for a in &addrs {
                    if let Some(reason) = forbidden_reason(a.ip()) {
                        return Err(refusal(&host, a.ip(), reason).into());
                    }
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The endpoint's answer, when it answered.
    pub status: Option<u16>,
    /// Why it is not delivered (`None` when delivered).
    pub error: Option<String>,
    /// How long the attempt took.
    pub ms: f64,
}

impl Sent {
    pub fn delivered(&self) -> bool {
        self.error.is_none()
    }
}

/// Sends webhooks: one client, bounded in time, following no redirect.
#[derive(Debug, Clone)]
pub struct Sender {
    http: reqwest::Client,
    reach: Reach,
}

impl Sender {
    pub fn new(reach: Reach, timeout: Duration) -> Result<Sender, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Halcytone-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Resolver(reach.clone())))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Sender { http, reach })
    }

    /// Posts `body` to `url` with the Standard Webhooks headers. A 2xx answer delivers it;
    /// anything else (another status, a refusal, a timeout) is an error to retry.
    pub async fn send(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signature: &str,
        body: &str,
    ) -> Sent {
        let started = Instant::now();
        let ms = || (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        // The URL is checked again: the rules (and dry run) may have changed since it was
        // registered. A name's addresses are checked by the resolver as it connects.
        if let Err(e) = self.check_literal(url) {
            return Sent {
                status: None,
                error: Some(e),
                ms: ms(),
            };
        }
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string())
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => Sent {
                status: Some(r.status().as_u16()),
                error: None,
                ms: ms(),
            },
            Ok(r) => Sent {
                status: Some(r.status().as_u16()),
                error: Some(format!("answered {}", r.status())),
                ms: ms(),
            },
            Err(e) => Sent {
                status: None,
                error: Some(describe(&e)),
                ms: ms(),
            },
        }
    }

    /// The checks that need no DNS: scheme, dry run, and an address written in the URL.
    fn check_literal(&self, raw: &str) -> Result<(), String> {
        let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
        let name = url.host_str().unwrap_or_default().to_string();
        if self.reach.allows(&name) {
            return Ok(());
        }
        if self.reach.dry_run {
            return Err(format!(
                "{name} is not in WEBHOOK_ALLOW_HOSTS: in dry run webhooks go only to the hosts listed there"
            ));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        match forbidden_reason(ip) {
            Some(reason) => Err(refusal(&name, ip, reason)),
            None => Ok(()),
        }
    }
}

/// A transport error in a few words, with its innermost cause (a refused address says why).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{kind}: {cause}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(allow: &[&str], dry_run: bool) -> Reach {
        Reach {
            allow_hosts: allow.iter().map(|h| h.to_string()).collect(),
            dry_run,
        }
    }

    #[tokio::test]
    async fn private_and_loopback_endpoints_need_listing() {
        let open = reach(&[], false);
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://localhost/x",
        ] {
            let e = open.check(url).await.unwrap_err();
            assert!(e.contains("WEBHOOK_ALLOW_HOSTS"), "{url}: {e}");
        }
        assert!(open.check("ftp://example.com/x").await.is_err());
        assert!(open.check("https://user:pw@example.com/x").await.is_err());
        let listed = reach(&["127.0.0.1", "localhost"], false);
        assert!(listed.check("http://127.0.0.1:9/x").await.is_ok());
        assert!(listed.check("http://LOCALHOST:9/x").await.is_ok());
    }

    #[tokio::test]
    async fn dry_run_reaches_listed_hosts_only() {
        let dry = reach(&["127.0.0.1"], true);
        assert!(dry.check("http://127.0.0.1:9/x").await.is_ok());
        let e = dry.check("https://93.184.215.14/x").await.unwrap_err();
        assert!(e.contains("dry run"), "{e}");
        let sender = Sender::new(dry, Duration::from_secs(1)).unwrap();
        let sent = sender
            .send("https://93.184.215.14/x", "m", 1, "v1,x", "{}")
            .await;
        assert!(sent.error.unwrap().contains("dry run"));
    }
}
