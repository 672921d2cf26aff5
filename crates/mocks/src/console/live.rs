//! `/console/events`: a Server-Sent Events stream that says how many captures were stored
//! after the page was rendered, so `/console/live.js` can offer "N new messages — refresh".
//!
//! Each stream polls the store's newest capture `seq` every 500 ms (every capture path, HTTP,
//! SMTP or the X/LinkedIn endpoints, writes through the store, so nothing is missed) and ends
//! after 10 s; the browser's `EventSource` reconnects by itself with the same `after`. A short
//! stream keeps a mock's graceful shutdown, which waits for open responses, from hanging on
//! an open console tab.

use super::page::ConsoleError;
use super::params::Params;
use crate::state::MockState;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// How often a stream looks for new captures.
const POLL: Duration = Duration::from_millis(500);

/// How long one stream lasts before the browser reconnects.
const LIFETIME: Duration = Duration::from_secs(10);

/// How long the browser waits before it reconnects.
const RETRY: Duration = Duration::from_secs(1);

struct Poll {
    state: MockState,
    kind: Option<String>,
    after: i64,
    /// The count last sent (none yet: the first poll always sends).
    sent: Option<i64>,
    until: Instant,
}

/// `GET /console/events?after=SEQ&kind=email|content|social`: `captures` events whose data is
/// `{"new": N, "after": SEQ}`, N counting captures (of `kind`) stored after `SEQ`.
pub async fn events(
    State(state): State<MockState>,
    params: Params,
) -> Result<Response, ConsoleError> {
    let kind = params.choice("kind", &["email", "content", "social"])?;
    let after = match params.count("after")? {
        Some(a) => a,
        None => state.store.latest_capture_seq(kind.as_deref()).await?,
    };
    let start = Poll {
        state,
        kind,
        after,
        sent: None,
        until: Instant::now() + LIFETIME,
    };
    let stream = futures_util::stream::unfold(start, |mut p| async move {
        loop {
            if p.sent.is_some() {
                if Instant::now() + POLL > p.until {
                    return None;
                }
                tokio::time::sleep(POLL).await;
            }
            let n = match p
                .state
                .store
                .captures_after(p.kind.as_deref(), p.after)
                .await
            {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "console events: the capture store failed");
                    return None;
                }
            };
            if p.sent != Some(n) {
                let first = p.sent.is_none();
                p.sent = Some(n);
                let mut event = Event::default()
                    .event("captures")
                    .data(format!("{{\"new\":{n},\"after\":{}}}", p.after));
                if first {
                    event = event.retry(RETRY);
                }
                return Some((Ok::<_, Infallible>(event), p));
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
        .into_response())
}
