//! Shared state of one mock service.

use crate::faults::Faults;
use crate::journal::Journal;
use crate::seeded;
use crate::store::Store;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which mock this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MockKind {
    Crm,
    Platform,
}

impl MockKind {
    pub fn service_name(self) -> &'static str {
        match self {
            MockKind::Crm => "mock-crm",
            MockKind::Platform => "mock-platform",
        }
    }
    pub fn default_port(self) -> u16 {
        match self {
            MockKind::Crm => 8001,
            MockKind::Platform => 8002,
        }
    }
    pub fn database_file(self) -> &'static str {
        match self {
            MockKind::Crm => "mock-crm.db",
            MockKind::Platform => "mock-platform.db",
        }
    }
}

/// Settings of one mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Captures kept; older ones are deleted.
    pub retention: i64,
    /// Seed of every generated id and number.
    pub seed: u64,
    /// Delay of the "slow" trigger (the seeds: 2 s on the CRM, 3 s on the Platform).
    pub slow_delay: Duration,
    /// Port of the SMTP capture beside the mock CRM, when it runs (shown by `/health`).
    pub smtp_port: Option<u16>,
    /// Where the SMTP capture reports the bounces and complaints of seeded addresses.
    pub events: Option<crate::bounces::EventSink>,
    /// The DKIM key records the SMTP capture verifies signatures against (it does no DNS).
    pub dkim: crate::dkim::DkimKeys,
    /// What the SMTP capture does wrong on purpose at start (`MOCK_SMTP_*`).
    pub smtp_chaos: crate::smtp_chaos::SmtpChaos,
    /// Hosts the checks of captured emails may resolve links against (`host` or
    /// `host:port`): the stack's own services and `LINK_CHECK_ALLOW_HOSTS`. No other host is
    /// ever asked.
    pub link_hosts: Vec<String>,
}

impl MockConfig {
    pub fn new(kind: MockKind) -> Self {
        MockConfig {
            retention: 10_000,
            seed: 0,
            slow_delay: Duration::from_secs(match kind {
                MockKind::Crm => 2,
                MockKind::Platform => 3,
            }),
            smtp_port: None,
            events: None,
            dkim: crate::dkim::DkimKeys::default(),
            smtp_chaos: crate::smtp_chaos::SmtpChaos::default(),
            link_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub faults_injected: AtomicU64,
    pub simulated_errors: AtomicU64,
    pub ids: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct MockState {
    pub kind: MockKind,
    pub config: Arc<MockConfig>,
    pub store: Store,
    pub faults: Arc<Faults>,
    pub journal: Arc<Journal>,
    pub counters: Arc<Counters>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub started: Instant,
    /// Which start of the mock over its database this is (see `Store::start_run`).
    pub run: u64,
    /// Idempotency keys whose first request is still running.
    pub in_flight: Arc<Mutex<HashSet<String>>>,
    /// People brought from CSV (the CRM's), after its virtual subscribers.
    pub imported: Arc<tokio::sync::RwLock<crate::imported::Imported>>,
    /// What the SMTP capture does wrong on purpose now (`/api/v1/smtp/chaos`).
    pub smtp_chaos: Arc<tokio::sync::RwLock<crate::smtp_chaos::SmtpChaos>>,
    /// Messages that reached DATA, for the drop draw.
    pub smtp_data: Arc<crate::smtp_chaos::DataCount>,
    /// Resolves the links of captured emails against the allowed hosts.
    pub links: crate::checks::LinkResolver,
}

impl MockState {
    /// The next deterministic id of a kind.
    pub fn next_id(&self, kind: &str) -> String {
        let n = (self.run << 32) | (self.counters.ids.fetch_add(1, Ordering::Relaxed) + 1);
        seeded::id(self.config.seed, kind, n)
    }

    /// Marks `key` as in flight; false when another request already holds it.
    pub fn claim(&self, key: &str) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.to_string())
    }

    /// Hands back a key taken with [`MockState::claim`].
    pub fn release(&self, key: &str) {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    /// The stored record of `kind` with this id, or a 404 naming `what` ("Content", …).
    pub async fn record(
        &self,
        kind: &str,
        id: &str,
        what: &str,
    ) -> crate::error::MockResult<crate::store::Record> {
        self.store
            .get(Some(kind), id)
            .await?
            .ok_or_else(|| crate::error::MockError::not_found(what))
    }
}
