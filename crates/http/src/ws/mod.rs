//! WebSocket endpoints: the dashboard's job stream (`jobs`) and Halcytone Live. Shared here:
//! the connection gauge, keep-alive timing and the size limit on what clients send.

pub mod jobs;
pub mod live;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use std::time::Duration;

/// A WebSocket upgrade; a request that is not one gets the API's JSON error (400) naming
/// what is missing, not a plain-text rejection.
#[derive(Debug)]
pub struct Upgrade(pub WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(Upgrade)
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "this route speaks WebSocket: connect with a WebSocket client (GET with Upgrade: websocket); {}",
                    e.body_text()
                ))
            })
    }
}

/// Keep-alive of one connection: a ping every `WS_PING_SECONDS`; a connection that has sent
/// nothing, not even a pong, for `WS_IDLE_SECONDS` is closed (1001) with the reason.
#[derive(Debug)]
pub struct KeepAlive {
    ping: tokio::time::Interval,
    last_heard: tokio::time::Instant,
    idle: Duration,
}

impl KeepAlive {
    pub fn new(state: &AppState) -> KeepAlive {
        let every = state.config.ws_ping;
        KeepAlive {
            ping: tokio::time::interval_at(tokio::time::Instant::now() + every, every),
            last_heard: tokio::time::Instant::now(),
            idle: state.config.ws_idle,
        }
    }

    /// The client sent something.
    pub fn heard(&mut self) {
        self.last_heard = tokio::time::Instant::now();
    }

    /// Waits for the next ping time; returns whether the connection has gone idle.
    pub async fn due(&mut self) -> bool {
        self.ping.tick().await;
        self.last_heard.elapsed() > self.idle
    }

    /// Pings, or closes an idle connection; false when the connection is done.
    pub async fn act(&self, socket: &mut WebSocket, idle: bool) -> bool {
        if idle {
            let reason = format!("idle: no pong or message within {} s", self.idle.as_secs());
            close(socket, 1001, &reason).await;
            return false;
        }
        socket.send(Message::Ping(Vec::new().into())).await.is_ok()
    }
}
/// The largest message a client may send; a bigger one closes the connection (1009).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Counts an open connection in `halcytone_websocket_connections{endpoint}` while it lives.
#[derive(Debug)]
pub struct Gauge {
    state: AppState,
    endpoint: &'static str,
}

impl Gauge {
    pub fn open(state: &AppState, endpoint: &'static str) -> Gauge {
        state.app_metrics.websocket(endpoint, 1);
        Gauge {
            state: state.clone(),
            endpoint,
        }
    }
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.state.app_metrics.websocket(self.endpoint, -1);
    }
}

/// Sends a close frame with a code and reason (best effort).
pub async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string().into(),
        })))
        .await;
}
