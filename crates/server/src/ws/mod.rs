//! WebSocket endpoints: the dashboard's job stream (`jobs`) and Halcytone Live. Shared here:
//! the connection gauge, keep-alive timing and the size limit on what clients send.

pub mod jobs;
pub mod live;

use crate::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::time::Duration;

/// How often the server pings an idle connection.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection that has sent nothing (not even a pong) for this long is dropped.
pub const IDLE_LIMIT: Duration = Duration::from_secs(60);
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
