//! Bounces and complaints the SMTP capture reports back, so a rehearsal exercises the whole
//! loop — a provider event, the suppression list, the address skipped at the next send —
//! without a real mailbox provider.
//!
//! Which recipients bounce is decided by their address, so a test list can seed them:
//! a local part that starts with `bounce` bounces for good (`bounce-7@example.com`), one that
//! starts with `softbounce` bounces for now, one that starts with `complaint` reports the
//! message as spam. Each event is sent once, signed the way the API's intake expects
//! (`X-Timestamp`, `X-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>")`), to the
//! configured [`EventSink`]; with none configured nothing is sent.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Where the capture reports events: the API's `/api/v2/email-events` and its secret.
#[derive(Clone)]
pub struct EventSink {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Whether an address is one of the seeded ones that bounce or complain.
pub fn seeded(address: &str) -> bool {
    fate(address).is_some()
}

/// What a recipient's address says will happen to the message.
fn fate(address: &str) -> Option<(&'static str, &'static str)> {
    let local = address.split('@').next()?.trim().to_ascii_lowercase();
    let local = local.trim_start_matches('<');
    if local.starts_with("softbounce") {
        Some(("bounce", "soft"))
    } else if local.starts_with("bounce") {
        Some(("bounce", "hard"))
    } else if local.starts_with("complaint") {
        Some(("complaint", ""))
    } else {
        None
    }
}

/// The events a captured message brings, one per seeded recipient: `message_id` is the
/// message's `Message-ID` header, `capture_id` the capture's own id.
pub fn events_for(rcpt_to: &[String], message_id: Option<&str>, capture_id: &str) -> Vec<Value> {
    rcpt_to
        .iter()
        .filter_map(|to| {
            let (kind, bounce_type) = fate(to)?;
            let mut e = json!({
                "id": format!("mock:{capture_id}:{}", to.to_ascii_lowercase()),
                "type": kind,
                "email": to,
                "message_id": message_id,
                "reason": match (kind, bounce_type) {
                    ("bounce", "hard") => "550 5.1.1 mailbox does not exist (mock SMTP capture)",
                    ("bounce", _) => "452 4.2.2 mailbox full (mock SMTP capture)",
                    _ => "reported as spam (mock SMTP capture)",
                },
            });
            if kind == "bounce" {
                e["bounce_type"] = json!(bounce_type);
            }
            Some(e)
        })
        .collect()
}

/// `sha256=<hex>` over `"<timestamp>.<body>"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Reports `events` to `sink` in the background (a few tries, a second apart); failures are
/// logged, never raised: the capture has already answered the sender.
pub fn report(sink: &EventSink, events: Vec<Value>) {
    if events.is_empty() {
        return;
    }
    let sink = sink.clone();
    tokio::spawn(async move {
        let body = json!({ "events": events }).to_string();
        let client = reqwest::Client::new();
        for attempt in 1..=3 {
            let ts = chrono::Utc::now().timestamp();
            let sent = client
                .post(&sink.url)
                .header("content-type", "application/json")
                .header("x-timestamp", ts.to_string())
                .header("x-signature", sign(&sink.secret, ts, body.as_bytes()))
                .body(body.clone())
                .timeout(std::time::Duration::from_secs(10))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    tracing::info!(
                        event = "mock_bounce_reported",
                        count = events.len(),
                        "mock SMTP capture: bounce/complaint events reported"
                    );
                    return;
                }
                Ok(r) => {
                    tracing::warn!(
                        status = r.status().as_u16(),
                        attempt,
                        "mock SMTP capture: the event intake refused the events"
                    );
                    if r.status().is_client_error() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "mock SMTP capture: cannot report events")
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_addresses_bounce_soft_bounce_or_complain_and_others_do_not() {
        let to = [
            "bounce-1@example.com".to_string(),
            "SoftBounce@example.com".to_string(),
            "complaint.7@example.com".to_string(),
            "ana@example.com".to_string(),
        ];
        let events = events_for(&to, Some("<m@x>"), "email_1");
        assert_eq!(events.len(), 3);
        assert_eq!(events[0]["type"], "bounce");
        assert_eq!(events[0]["bounce_type"], "hard");
        assert_eq!(events[1]["bounce_type"], "soft");
        assert_eq!(events[2]["type"], "complaint");
        assert_eq!(events[0]["message_id"], "<m@x>");
        assert_eq!(events[0]["id"], "mock:email_1:bounce-1@example.com");
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        let s = sign("key", 1, b"x");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_ne!(s, sign("key", 2, b"x"));
        assert_ne!(s, sign("other", 1, b"x"));
    }
}
