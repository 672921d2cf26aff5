//! Job events: every transition of a publish job (queued, claimed, retried, finished,
//! cancelled) as one message on an in-process broadcast. The `/ws/jobs` stream sends them to
//! dashboards and the response cache drops what a finished publish made stale. A slow
//! listener misses old events (it is told how many) instead of holding anyone up.

use crate::queue::job_json;
use chrono::{SecondsFormat, Utc};
use halcytone_store::{Job, JobStatus};
use serde_json::{Value, json};
use tokio::sync::broadcast;

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
}

impl Default for JobEvents {
    fn default() -> Self {
        JobEvents {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl JobEvents {
    /// Announces `job` in its current state.
    pub fn announce(&self, job: &Job, status_changed: bool) {
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
