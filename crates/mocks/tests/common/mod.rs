//! Helpers shared by the mocks' integration tests.

#![allow(dead_code)]

use halcytone_mocks::state::MockState;

/// A mock's whole app served on 127.0.0.1 on a random port until the value is dropped.
pub struct Served {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// Dropping the sender ends the server's graceful-shutdown wait.
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Serves `state`'s app (service routes, captures API and console) on a random port.
pub async fn serve_app(state: MockState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(halcytone_mocks::serve(
        listener,
        halcytone_mocks::app(state),
        async {
            let _ = rx.await;
        },
    ));
    Served { base, _stop: tx }
}
