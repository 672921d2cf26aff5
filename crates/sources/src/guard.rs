//! SSRF guard for `url:` documents: which addresses may be fetched, a DNS resolver that
//! refuses the others (so the checked address is the one connected to), and the redirect
//! re-check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::error::SourceError;

/// Why `ip` must not be fetched from a `url:` reference, or `None` when it is public.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("an unspecified (0.0.0.0/8) address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        Some("a private-network address")
    } else if a == 169 && b == 254 {
        Some("a link-local address")
    } else if a == 100 && (64..=127).contains(&b) {
        Some("a carrier-grade NAT (100.64.0.0/10) address")
    } else if ip.is_broadcast() {
        Some("the broadcast address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if a >= 240 {
        Some("a reserved (240.0.0.0/4) address")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        return v4_reason(Ipv4Addr::new(a, b, c, d));
    }
    if ip.is_unspecified() {
        Some("the unspecified IPv6 address")
    } else if ip.is_loopback() {
        Some("the IPv6 loopback address")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("an IPv6 link-local address")
    } else if seg[0] & 0xffc0 == 0xfec0 {
        Some("an IPv6 site-local address")
    } else if seg[0] & 0xfe00 == 0xfc00 {
        Some("an IPv6 unique-local address")
    } else if ip.is_multicast() {
        Some("an IPv6 multicast address")
    } else if seg[..6] == [0, 0, 0, 0, 0, 0] {
        // Deprecated IPv4-compatible addresses (::a.b.c.d).
        let [a, b] = seg[6].to_be_bytes();
        let [c, d] = seg[7].to_be_bytes();
        v4_reason(Ipv4Addr::new(a, b, c, d)).or(Some("an IPv4-compatible IPv6 address"))
    } else {
        None
    }
}

/// The message of a refusal, naming the setting that lifts it.
pub(crate) fn refusal(url: &Url, ip: IpAddr, reason: &str) -> String {
    format!(
        "refusing to fetch {}: {ip} is {reason}; url: documents must be on the public internet (set URL_SOURCE_ALLOW_PRIVATE=true to allow private addresses)",
        redacted(url)
    )
}

/// Checks what can be checked without DNS: the scheme, and the host when it is an IP
/// literal. Host names are checked by [`GuardedResolver`] when the connection is made.
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), SourceError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SourceError::Forbidden(format!(
            "refusing to fetch {}: only http and https are allowed",
            redacted(url)
        )));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(_)) => return Ok(()),
        None => {
            return Err(SourceError::Forbidden(format!(
                "refusing to fetch {}: the URL has no host",
                redacted(url)
            )));
        }
    };
    match forbidden_reason(ip) {
        Some(reason) if !allow_private => Err(SourceError::Forbidden(refusal(url, ip, reason))),
        _ => Ok(()),
    }
}

/// Resolves a redirect's `Location` against the current URL and checks the target like the
/// first one. The target's host name, if any, is checked again on connection.
pub fn redirect_target(
    current: &Url,
    location: &str,
    allow_private: bool,
) -> Result<Url, SourceError> {
    let next = current
        .join(location.trim())
        .map_err(|e| SourceError::Malformed {
            kind: crate::SourceKind::Url,
            target: redacted(current),
            detail: format!("the redirect Location '{location}' is not a URL ({e})"),
        })?;
    check_url(&next, allow_private)?;
    Ok(next)
}

/// A URL for messages, without its password.
pub(crate) fn redacted(url: &Url) -> String {
    if url.password().is_some() {
        let mut u = url.clone();
        let _ = u.set_password(Some("***"));
        u.to_string()
    } else {
        url.to_string()
    }
}

/// The refusal a [`GuardedResolver`] returns; found again in the reqwest error chain.
#[derive(Debug)]
pub(crate) struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub reason: &'static str,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to {}, {}", self.host, self.ip, self.reason)
    }
}

impl std::error::Error for Refused {}

/// Finds a [`Refused`] in an error's cause chain.
pub(crate) fn find_refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

/// The DNS resolver of the `url:` client: resolves with the system resolver and refuses the
/// name when ANY of its addresses is non-public. The addresses it returns are the ones the
/// connection uses, so a second lookup cannot swap in a private address (DNS rebinding).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private {
                for a in &addrs {
                    if let Some(reason) = forbidden_reason(a.ip()) {
                        return Err(Box::new(Refused {
                            host,
                            ip: a.ip(),
                            reason,
                        })
                            as Box<dyn std::error::Error + Send + Sync>);
                    }
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn blocked(s: &str) -> bool {
        forbidden_reason(s.parse().unwrap()).is_some()
    }

    #[test]
    fn ipv4_ranges() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
        ] {
            assert!(blocked(ip), "{ip} should be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.0.1",
            "11.0.0.1",
            "93.184.216.34",
        ] {
            assert!(!blocked(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn reasons_name_the_range() {
        let r = |s: &str| forbidden_reason(s.parse().unwrap()).unwrap();
        assert!(r("127.0.0.1").contains("loopback"));
        assert!(r("10.1.2.3").contains("private"));
        assert!(r("169.254.169.254").contains("link-local"));
        assert!(r("100.100.100.100").contains("carrier-grade NAT"));
        assert!(r("fd00::1").contains("unique-local"));
    }

    #[test]
    fn ipv6_ranges() {
        for ip in [
            "::",
            "::1",
            "fe80::1",
            "febf:ffff::1",
            "fc00::1",
            "fdff:ffff::1",
            "ff02::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:192.168.1.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "::10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(blocked(ip), "{ip} should be refused");
        }
        for ip in [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "fbff::1",
            "fe00::1",
        ] {
            assert!(!blocked(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn check_url_refuses_literal_private_hosts_unless_allowed() {
        for u in [
            "http://127.0.0.1/doc.md",
            "http://10.1.2.3/doc.md",
            "http://[::1]:8080/x",
            "http://[::ffff:7f00:1]/x",
            "http://2130706433/x", // 127.0.0.1 written as one number
            "http://0x7f.1/x",
        ] {
            let url = Url::parse(u).unwrap();
            match check_url(&url, false) {
                Err(SourceError::Forbidden(m)) => {
                    assert!(m.contains("URL_SOURCE_ALLOW_PRIVATE"), "{m}")
                }
                other => panic!("{u}: {other:?}"),
            }
            assert!(check_url(&url, true).is_ok(), "{u} with allow_private");
        }
        assert!(check_url(&Url::parse("https://example.com/x").unwrap(), false).is_ok());
        assert!(check_url(&Url::parse("http://93.184.216.34/x").unwrap(), false).is_ok());
    }

    #[test]
    fn redirects_are_checked_again() {
        let start = Url::parse("https://docs.example.com/team/doc.md").unwrap();
        let refused = |loc: &str, allow_private: bool| {
            matches!(
                redirect_target(&start, loc, allow_private),
                Err(SourceError::Forbidden(_))
            )
        };
        // A relative redirect stays on the checked host.
        let next = redirect_target(&start, "/raw/doc.md", false).unwrap();
        assert_eq!(next.as_str(), "https://docs.example.com/raw/doc.md");
        // Redirects into private space are refused.
        for loc in [
            "http://127.0.0.1:8000/admin",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd12::1]/x",
            "//10.0.0.5/x",
        ] {
            assert!(refused(loc, false), "{loc}");
            assert!(redirect_target(&start, loc, true).is_ok(), "{loc} allowed");
        }
        // Other schemes are refused even when private addresses are allowed.
        for loc in [
            "file:///etc/passwd",
            "gopher://example.com/",
            "ftp://example.com/x",
        ] {
            assert!(refused(loc, true), "{loc}");
        }
    }

    #[tokio::test]
    async fn resolver_refuses_names_that_resolve_to_loopback() {
        let r = GuardedResolver {
            allow_private: false,
        };
        let err = match r.resolve("localhost".parse().unwrap()).await {
            Err(e) => e,
            Ok(_) => panic!("localhost must be refused"),
        };
        let refused = find_refusal(err.as_ref()).expect("a Refused error");
        assert!(refused.ip.is_loopback());
        assert_eq!(refused.host, "localhost");

        let open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
