//! The per-recipient record a send keeps (a port): before a message goes to the provider the
//! sender asks [`DeliveryLedger::begin`] whether to send it, and after it says how it ended.
//! The application backs it with the store's delivery ledger, so a retry, a crash or another
//! replica never sends a delivered recipient the same message again; [`MemoryLedger`] keeps
//! the same promise within one process for publishes that have no job.

use async_trait::async_trait;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// What to do with one recipient's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Send it; `uncertain` when an earlier attempt was left in flight (it may have arrived).
    Send { uncertain: bool },
    /// It was delivered before: count it, do not send.
    Delivered,
    /// It ended before without delivery (refused, or failed for good): do not send.
    Ended,
    /// The address is on the suppression list: skip it and count it, it is not a failure.
    Suppressed,
    /// Stop the whole send (the job was taken over, or the ledger cannot be written): the
    /// reason is reported for every recipient not yet sent.
    Stop(String),
}

/// One recipient of one send, as the ledger knows it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The report target (`email`, `email:v1` for an A/B group): one send per target.
    pub target: &'a str,
    /// The content version (part of every Message-ID).
    pub version: &'a str,
    pub email: &'a str,
    pub subscriber_id: Option<&'a str>,
    pub message_id: &'a str,
}

/// How a begun message ended.
#[derive(Debug, Clone, Copy)]
pub enum Ended<'a> {
    Delivered { provider_id: &'a str },
    Failed { reason: &'a str, retryable: bool },
}

#[async_trait]
pub trait DeliveryLedger: Send + Sync + std::fmt::Debug {
    /// Before the provider call: whether to send.
    async fn begin(&self, entry: &Entry<'_>) -> Begin;
    /// After the provider call.
    async fn end(&self, entry: &Entry<'_>, how: Ended<'_>);
    /// [`DeliveryLedger::begin`] for the recipients of one round (one target, one version,
    /// distinct addresses), one answer each in order. A ledger in a database answers them in
    /// one round trip.
    async fn begin_many(&self, entries: &[Entry<'_>]) -> Vec<Begin> {
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            out.push(self.begin(e).await);
        }
        out
    }
    /// [`DeliveryLedger::end`] for the messages of one round.
    async fn end_many(&self, ended: &[(Entry<'_>, Ended<'_>)]) {
        for (e, how) in ended {
            self.end(e, *how).await;
        }
    }
    /// A recipient that cannot be sent to (no usable address), recorded with the reason.
    async fn refuse(&self, entry: &Entry<'_>, reason: &str);
    /// The one-click unsubscribe URL of this recipient of this send (RFC 8058), when the
    /// ledger can make one: a signed link that suppresses the address on `POST`.
    fn one_click_url(&self, _entry: &Entry<'_>) -> Option<String> {
        None
    }
}

/// Deliveries remembered in this process, for the last [`REMEMBERED_VERSIONS`] content
/// versions: what a publish without a job (and so without a ledger in the store) relies on.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    inner: Mutex<Remembered>,
}

#[derive(Debug, Default)]
struct Remembered {
    versions: VecDeque<String>,
    /// version → target → addresses delivered.
    sent: HashMap<String, HashMap<String, std::collections::HashSet<String>>>,
}

/// How many content versions [`MemoryLedger`] keeps.
pub const REMEMBERED_VERSIONS: usize = 8;

impl MemoryLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl DeliveryLedger for MemoryLedger {
    async fn begin(&self, e: &Entry<'_>) -> Begin {
        let known = self
            .lock()
            .sent
            .get(e.version)
            .and_then(|t| t.get(e.target))
            .is_some_and(|s| s.contains(&e.email.trim().to_lowercase()));
        if known {
            Begin::Delivered
        } else {
            Begin::Send { uncertain: false }
        }
    }

    async fn end(&self, e: &Entry<'_>, how: Ended<'_>) {
        if !matches!(how, Ended::Delivered { .. }) {
            return;
        }
        let mut r = self.lock();
        if !r.sent.contains_key(e.version) {
            r.versions.push_back(e.version.to_string());
            while r.versions.len() > REMEMBERED_VERSIONS {
                if let Some(old) = r.versions.pop_front() {
                    r.sent.remove(&old);
                }
            }
        }
        r.sent
            .entry(e.version.to_string())
            .or_default()
            .entry(e.target.to_string())
            .or_default()
            .insert(e.email.trim().to_lowercase());
    }

    async fn refuse(&self, _: &Entry<'_>, _: &str) {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry<'a>(version: &'a str, target: &'a str, email: &'a str) -> Entry<'a> {
        Entry {
            target,
            version,
            email,
            subscriber_id: None,
            message_id: "<m@x>",
        }
    }

    #[tokio::test]
    async fn memory_remembers_deliveries_of_recent_versions_per_target() {
        let m = MemoryLedger::default();
        let a = entry("v1", "email", "Ana@x.org");
        assert_eq!(m.begin(&a).await, Begin::Send { uncertain: false });
        m.end(
            &a,
            Ended::Failed {
                reason: "busy",
                retryable: true,
            },
        )
        .await;
        assert_eq!(m.begin(&a).await, Begin::Send { uncertain: false });
        m.end(&a, Ended::Delivered { provider_id: "ok" }).await;
        assert_eq!(
            m.begin(&entry("v1", "email", "ana@x.org")).await,
            Begin::Delivered
        );
        assert_eq!(
            m.begin(&entry("v1", "email:v2", "ana@x.org")).await,
            Begin::Send { uncertain: false }
        );
        for v in 2..=REMEMBERED_VERSIONS + 1 {
            let version = format!("v{v}");
            m.end(
                &entry(&version, "email", "bo@x.org"),
                Ended::Delivered { provider_id: "ok" },
            )
            .await;
        }
        assert_eq!(
            m.begin(&a).await,
            Begin::Send { uncertain: false },
            "v1 forgotten"
        );
    }
}
