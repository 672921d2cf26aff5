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

/// Captures `message` as the SMTP capture would, from one sender to `subscriber1@example.com`;
/// the new capture's id.
#[allow(dead_code)] // not every test file captures over SMTP
pub async fn capture_smtp(state: &MockState, message: &str) -> String {
    let captured = halcytone_mocks::smtp::capture(state, &smtp_envelope(), message.as_bytes())
        .await
        .unwrap();
    let halcytone_mocks::smtp::Captured::New(id) = captured else {
        panic!("{captured:?}");
    };
    id
}

/// The envelope of the test messages captured over SMTP.
#[allow(dead_code)]
pub fn smtp_envelope() -> halcytone_mocks::smtp::Envelope {
    halcytone_mocks::smtp::Envelope {
        mail_from: "bounce@example.com".into(),
        rcpt_to: vec!["subscriber1@example.com".into()],
        helo: Some("client.example".into()),
        auth_username: None,
        peer: "127.0.0.1:5555".into(),
    }
}

/// Sends `body` to the mock CRM at `base` (`POST /api/v1/email/send`), which must accept it;
/// the new message's id.
pub async fn send_email(http: &reqwest::Client, base: &str, body: &serde_json::Value) -> String {
    let resp = http
        .post(format!("{base}/api/v1/email/send"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    resp.json::<serde_json::Value>().await.unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_string()
}
