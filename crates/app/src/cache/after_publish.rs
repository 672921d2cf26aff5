//! After a publish: every job transition drops the cached content-version answers (their
//! status changed); a finished publish also runs a recorded invalidation — local entries
//! tagged `content`, and the CDN (the published pages' URLs) when one is configured.

use super::invalidation::Invalidator;
use super::invalidation::Request;
use crate::events::JobEvent;
use crate::events::JobEvents;
use halcytone_store::JobStatus;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// URLs a job's results report (the web posts it published).
fn published_urls(job: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(results) = job.get("results").and_then(Value::as_object) {
        for r in results.values() {
            if let Some(u) = r.get("url").and_then(Value::as_str)
                && (u.starts_with("http://") || u.starts_with("https://"))
            {
                out.push(u.to_string());
            }
        }
    }
    out
}

async fn handle(invalidator: &Invalidator, on_publish: bool, event: &JobEvent) {
    invalidator.cache.invalidate_tags(&["content"]);
    let finished = matches!(event.status, JobStatus::Completed | JobStatus::Partial);
    if !finished || !on_publish || event.kind != "job_status_change" {
        return;
    }
    let mut targets = vec!["local".to_string()];
    if invalidator.configured("cdn") {
        targets.push("cdn".into());
    }
    let keys = published_urls(&event.job);
    let req = Request {
        targets,
        tags: vec!["content".into()],
        keys,
        reason: Some(format!("published by job {}", event.job_id)),
        here_only: true,
        ..Request::default()
    };
    let correlation = event.job["correlation_id"]
        .as_str()
        .unwrap_or("")
        .to_string();
    invalidator
        .run(&req, &format!("publish:{}", event.job_id), &correlation)
        .await;
}

/// Listens to job events until the process ends; `on_publish` runs the recorded invalidation
/// after a finished publish (`CACHE_INVALIDATE_ON_PUBLISH`).
pub fn spawn(
    invalidator: Arc<Invalidator>,
    events: &JobEvents,
    on_publish: bool,
) -> tokio::task::JoinHandle<()> {
    let mut rx = events.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => handle(&invalidator, on_publish, &event).await,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "cache invalidation fell behind job events");
                    invalidator.cache.invalidate_tags(&["content"]);
                }
                Err(RecvError::Closed) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_come_from_the_results() {
        let job = json!({"results": {
            "website": {"status": "success", "url": "https://halcytone.com/updates/x"},
            "email": {"status": "success"},
            "social_twitter": {"url": "javascript:alert(1)"},
        }});
        assert_eq!(
            published_urls(&job),
            vec!["https://halcytone.com/updates/x"]
        );
        assert!(published_urls(&json!({})).is_empty());
    }
}
