//! Link resolution for the checks: in a dry run a link is asked only of the hosts allowed
//! (the stack's own services and `LINK_CHECK_ALLOW_HOSTS`), never of the internet. Each
//! allowed URL is asked with `HEAD` (then `GET` when `HEAD` is refused), a few seconds at
//! most, and the answer remembered for a minute so a send to many recipients asks once.

use halcytone_mailcheck::LinkStatus;
use halcytone_mailcheck::report::LinkCheck;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// How long an answer is remembered.
const REMEMBERED: Duration = Duration::from_secs(60);
/// Answers remembered at most.
const MAX_REMEMBERED: usize = 2_000;
/// URLs asked per message at most; the rest stay unchecked.
const MAX_ASKED: usize = 50;
/// Requests in flight per message at most.
const PARALLEL: usize = 8;

/// A host a link may be resolved against: `host` (any port) or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    host: String,
    port: Option<u16>,
}

impl Allowed {
    fn parse(entry: &str) -> Option<Allowed> {
        let entry = entry.trim();
        let entry = entry.split_once("://").map_or(entry, |(_, rest)| rest);
        let entry = entry.split('/').next().unwrap_or("").to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if let Some((host, port)) = entry.rsplit_once(':')
            && (!host.contains(':') || host.ends_with(']'))
            && let Ok(port) = port.parse()
        {
            return Some(Allowed {
                host: host.to_string(),
                port: Some(port),
            });
        }
        Some(Allowed {
            host: entry,
            port: None,
        })
    }

    fn admits(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        host.eq_ignore_ascii_case(&self.host)
            && self
                .port
                .is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

/// What asking a URL found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    status: LinkStatus,
    http_status: Option<u16>,
    detail: String,
}

/// Resolves links against the allowed hosts.
#[derive(Debug, Clone)]
pub struct LinkResolver {
    allowed: Arc<Vec<Allowed>>,
    client: reqwest::Client,
    remembered: Arc<Mutex<HashMap<String, (Instant, Answer)>>>,
}

impl Default for LinkResolver {
    fn default() -> Self {
        LinkResolver::new(&[])
    }
}

impl LinkResolver {
    /// A resolver that may ask the hosts listed (`host` or `host:port`, a URL's scheme and
    /// path ignored).
    pub fn new(hosts: &[String]) -> LinkResolver {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent("halcytone-mock-link-check")
            .build()
            .unwrap_or_default();
        LinkResolver {
            allowed: Arc::new(hosts.iter().filter_map(|h| Allowed::parse(h)).collect()),
            client,
            remembered: Arc::default(),
        }
    }

    /// The hosts it may ask, as configured.
    pub fn hosts(&self) -> Vec<String> {
        self.allowed
            .iter()
            .map(|a| match a.port {
                Some(p) => format!("{}:{p}", a.host),
                None => a.host.clone(),
            })
            .collect()
    }

    fn allowed(&self, url: &url::Url) -> bool {
        matches!(url.scheme(), "http" | "https") && self.allowed.iter().any(|a| a.admits(url))
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Answer)>> {
        self.remembered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves the unchecked links of `links` that point at an allowed host; the others
    /// say why they were not asked.
    pub async fn resolve(&self, links: &mut [LinkCheck]) {
        let mut asked: Vec<String> = Vec::new();
        for l in links.iter_mut().filter(|l| l.needs_request()) {
            match url::Url::parse(l.url.trim()) {
                Ok(u) if self.allowed(&u) => {
                    if !asked.contains(&l.url) {
                        asked.push(l.url.clone());
                    }
                }
                _ => l.detail = "not checked: a dry run asks only the stack's own services and the hosts in LINK_CHECK_ALLOW_HOSTS".into(),
            }
        }
        let skipped: Vec<String> = asked.split_off(asked.len().min(MAX_ASKED));
        let answers = self.ask_all(asked).await;
        for l in links.iter_mut() {
            if let Some(a) = answers.get(&l.url) {
                l.resolved(a.status, a.http_status, a.detail.clone());
            } else if skipped.contains(&l.url) {
                l.detail =
                    format!("not checked: only {MAX_ASKED} distinct URLs are asked per message");
            }
        }
    }

    async fn ask_all(&self, urls: Vec<String>) -> HashMap<String, Answer> {
        let mut answers = HashMap::new();
        let now = Instant::now();
        let mut pending = Vec::new();
        {
            let remembered = self.remembered();
            for u in urls {
                match remembered.get(&u) {
                    Some((at, a)) if now.duration_since(*at) < REMEMBERED => {
                        answers.insert(u, a.clone());
                    }
                    _ => pending.push(u),
                }
            }
        }
        let mut tasks = tokio::task::JoinSet::new();
        let mut queue = pending.into_iter();
        loop {
            while tasks.len() < PARALLEL {
                let Some(u) = queue.next() else { break };
                let client = self.client.clone();
                tasks.spawn(async move {
                    let a = ask(&client, &u).await;
                    (u, a)
                });
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            if let Ok((u, a)) = done {
                let mut remembered = self.remembered();
                if remembered.len() >= MAX_REMEMBERED {
                    remembered.clear();
                }
                remembered.insert(u.clone(), (Instant::now(), a.clone()));
                answers.insert(u, a);
            }
        }
        answers
    }
}

async fn ask(client: &reqwest::Client, url: &str) -> Answer {
    let mut answer = client.head(url).send().await;
    if let Ok(r) = &answer
        && matches!(r.status().as_u16(), 405 | 501)
    {
        answer = client.get(url).send().await;
    }
    match answer {
        Ok(r) => {
            let code = r.status().as_u16();
            if code < 400 {
                Answer {
                    status: LinkStatus::Ok,
                    http_status: Some(code),
                    detail: format!("answered {code}"),
                }
            } else {
                Answer {
                    status: LinkStatus::Broken,
                    http_status: Some(code),
                    detail: format!("answered {code}"),
                }
            }
        }
        Err(e) => Answer {
            status: LinkStatus::Broken,
            http_status: None,
            detail: if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else if e.is_connect() {
                "no answer: the connection was refused or failed".into()
            } else {
                format!("no answer: {e}")
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_hosts_match_by_host_and_port() {
        let r = LinkResolver::new(&[
            "127.0.0.1:8002".into(),
            "http://Docs.Example/".into(),
            " ".into(),
        ]);
        assert_eq!(r.hosts(), vec!["127.0.0.1:8002", "docs.example"]);
        let ok = |u: &str| r.allowed(&url::Url::parse(u).unwrap());
        assert!(ok("http://127.0.0.1:8002/x"));
        assert!(!ok("http://127.0.0.1:8003/x"));
        assert!(ok("https://docs.example/a") && ok("http://DOCS.example:9/a"));
        assert!(!ok("https://evil.example/docs.example"));
        assert!(!ok("ftp://docs.example/a"));
    }
}
