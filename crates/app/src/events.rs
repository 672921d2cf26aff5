//! Job events: every transition of a publish job (queued, claimed, retried, finished,
//! cancelled) as one message on an in-process broadcast. The `/ws/jobs` stream sends them to
//! dashboards and the response cache drops what a finished publish made stale. A slow
//! listener misses old events (it is told how many) instead of holding anyone up.
//!
//! Across replicas (PostgreSQL): once [`JobEvents::relay`] runs, every event is also sent as
//! `NOTIFY halcytone_jobs` with the job's id and the status it moved to (sent in order by one
//! task), and events other processes send are read back from the store and broadcast here with
//! that status, so a dashboard on one replica sees each transition of the jobs another runs.

use crate::queue::job_json;
use chrono::{SecondsFormat, Utc};
use halcytone_store::{Job, JobStatus, Store};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};
use tokio::sync::broadcast;

/// The PostgreSQL channel job events travel on between replicas.
pub const CHANNEL: &str = "halcytone_jobs";

/// Events kept for listeners that have not read them yet.
const CAPACITY: usize = 1024;

/// One transition.
#[derive(Debug, Clone)]
pub struct JobEvent {
    /// `job_status_change` when the status moved, `job_update` otherwise (a retry scheduled,
    /// a new job queued).
    pub kind: &'static str,
    pub status: JobStatus,
    pub job_id: String,
    /// The job as `/api/v2/jobs/{id}` shows it.
    pub job: Value,
    pub timestamp: String,
}

impl JobEvent {
    /// The WebSocket message: `{type, job, timestamp}`.
    pub fn message(&self) -> Value {
        json!({ "type": self.kind, "job": self.job, "timestamp": self.timestamp })
    }
}

#[derive(Debug)]
pub struct JobEvents {
    tx: broadcast::Sender<JobEvent>,
    /// This process, as its notifications name it (its own come back and are skipped).
    origin: String,
    /// The queue of this process's notifications, once [`JobEvents::relay`] started: one task
    /// sends them in order, so other replicas hear a job's transitions in the order they
    /// happened.
    bus: OnceLock<tokio::sync::mpsc::Sender<String>>,
}

impl Default for JobEvents {
    fn default() -> Self {
        JobEvents {
            tx: broadcast::channel(CAPACITY).0,
            origin: uuid::Uuid::new_v4().simple().to_string(),
            bus: OnceLock::new(),
        }
    }
}

impl JobEvents {
    /// Announces `job` in its current state, here and (once relaying) to other replicas.
    pub fn announce(&self, job: &Job, status_changed: bool) {
        self.broadcast(job, status_changed);
        if let Some(bus) = self.bus.get() {
            let payload = json!({
                "origin": self.origin,
                "job_id": job.id,
                "status": job.status.as_str(),
                "changed": status_changed,
            })
            .to_string();
            if bus.try_send(payload).is_err() {
                tracing::warn!(job = %job.id, "too many job events waiting for the database; other replicas miss this one");
            }
        }
    }

    /// Relays events between the replicas sharing `store` (PostgreSQL; on SQLite there are no
    /// others and nothing starts). Started once; later calls do nothing.
    pub async fn relay(self: &Arc<Self>, store: Arc<dyn Store>) {
        if self.bus.get().is_some() {
            return;
        }
        let mut rx = match store.listen(CHANNEL).await {
            Ok(Some(rx)) => rx,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other replicas' job events");
                return;
            }
        };
        let (bus, mut outbox) = tokio::sync::mpsc::channel::<String>(CAPACITY);
        if self.bus.set(bus).is_err() {
            return;
        }
        let sender = store.clone();
        tokio::spawn(async move {
            while let Some(payload) = outbox.recv().await {
                if let Err(e) = sender.notify(CHANNEL, &payload).await {
                    tracing::warn!(error = %e, "cannot tell other replicas of a job event");
                }
            }
        });
        let events = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(payload) = rx.recv().await {
                let Some(events) = events.upgrade() else {
                    return;
                };
                let Ok(note) = serde_json::from_str::<Value>(&payload) else {
                    continue;
                };
                if note["origin"].as_str() == Some(events.origin.as_str()) {
                    continue;
                }
                let Some(id) = note["job_id"].as_str() else {
                    continue;
                };
                match store.job(id).await {
                    Ok(Some(mut job)) => {
                        // The transition as it happened there: the job may have moved on since.
                        if let Some(status) = note["status"].as_str().and_then(|s| s.parse().ok()) {
                            job.status = status;
                        }
                        events.broadcast(&job, note["changed"] == true);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(job = id, error = %e, "cannot read a relayed job"),
                }
            }
        });
    }

    /// Sends `job` to this process's listeners.
    fn broadcast(&self, job: &Job, status_changed: bool) {
        let event = JobEvent {
            kind: if status_changed {
                "job_status_change"
            } else {
                "job_update"
            },
            status: job.status,
            job_id: job.id.clone(),
            job: job_json(job),
            timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        };
        // No listener is not an error: nobody is watching.
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.tx.subscribe()
    }

    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// A listener of content changes: called with the cache tags of what changed.
type ChangeListener = Box<dyn Fn(&[&str]) + Send + Sync>;

/// Content changes (a version drafted, reviewed, scheduled), told synchronously to whoever
/// keeps derived copies — the edge's response cache — before the use case returns, so the
/// next read never sees a stale answer.
#[derive(Default)]
pub struct ContentChanges {
    listeners: std::sync::RwLock<Vec<ChangeListener>>,
}

impl std::fmt::Debug for ContentChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentChanges").finish_non_exhaustive()
    }
}

impl ContentChanges {
    pub fn listen(&self, listener: impl Fn(&[&str]) + Send + Sync + 'static) {
        self.listeners
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Box::new(listener));
    }

    /// Tells every listener that content under `tags` changed.
    pub fn changed(&self, tags: &[&str]) {
        for l in self
            .listeners
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            l(tags);
        }
    }
}
