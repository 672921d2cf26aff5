//! Signed inbound webhooks. The sender puts the Unix time in seconds in `X-Timestamp` and
//! `X-Signature: sha256=<hex>` where the hex is HMAC-SHA256(secret, "<timestamp>.<body>").
//! A signature is accepted once, within five minutes either side of our clock; the check
//! is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;

/// How far a timestamp may be from our clock, seconds.
pub const WINDOW_SECONDS: i64 = 300;

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("X-Signature is required: this server has a webhook secret configured")]
    Missing,
    #[error(
        "X-Timestamp is required with X-Signature (Unix seconds; the signature covers \"<timestamp>.<body>\")"
    )]
    MissingTimestamp,
    #[error("X-Timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error(
        "X-Timestamp is {0} s away from the server's clock; signed webhooks are accepted within 300 s"
    )]
    Stale(i64),
    #[error("X-Signature is not hex (expected sha256=<64 hex digits>)")]
    Malformed,
    #[error("X-Signature does not match the body")]
    Mismatch,
    #[error("this signature was already used; webhooks cannot be replayed")]
    Replayed,
}

/// Computes the signature header value a sender would send.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable_key(),
    }
}

#[cold]
fn unreachable_key() -> Hmac<Sha256> {
    // An empty key is also valid for HMAC; used only if the library ever refused a length.
    <Hmac<Sha256> as KeyInit>::new(&Default::default())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Checks signatures and remembers the ones used inside the window.
#[derive(Debug, Default)]
pub struct Verifier {
    seen: Mutex<HashMap<Vec<u8>, i64>>,
}

impl Verifier {
    /// Verifies one webhook at `now` (Unix seconds) and remembers its signature.
    pub fn verify(
        &self,
        secret: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        self.check(secret, signature, timestamp, body, now, true)
    }

    /// Checks a signature; `record` false leaves it usable (the signature test route).
    pub fn check(
        &self,
        secret: &[u8],
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
        record: bool,
    ) -> Result<(), SignatureError> {
        let signature = signature
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or(SignatureError::Missing)?;
        let ts: i64 = timestamp
            .ok_or(SignatureError::MissingTimestamp)?
            .trim()
            .parse()
            .map_err(|_| SignatureError::BadTimestamp)?;
        let skew = now.saturating_sub(ts);
        if skew.abs() > WINDOW_SECONDS {
            return Err(SignatureError::Stale(skew));
        }
        let given = signature.strip_prefix("sha256=").unwrap_or(signature);
        let given = unhex(given).ok_or(SignatureError::Malformed)?;
        let mut mac = mac(secret);
        mac.update(ts.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&given)
            .map_err(|_| SignatureError::Mismatch)?;
        if !record {
            return Ok(());
        }
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|_, at| now.saturating_sub(*at) <= WINDOW_SECONDS * 2);
        if seen.insert(given, ts).is_some() {
            return Err(SignatureError::Replayed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-webhook-secret";

    #[test]
    fn a_fresh_signature_is_accepted_once() {
        let v = Verifier::default();
        let body = br#"{"event":"content_updated"}"#;
        let sig = sign(SECRET, 1_000, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("1000"), body, 1_010),
            Ok(())
        );
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("1000"), body, 1_011),
            Err(SignatureError::Replayed)
        );
    }

    #[test]
    fn the_bare_hex_form_is_accepted() {
        let sig = sign(SECRET, 50, b"x");
        let bare = sig.trim_start_matches("sha256=");
        assert_eq!(
            Verifier::default().verify(SECRET, Some(bare), Some("50"), b"x", 50),
            Ok(())
        );
    }

    #[test]
    fn refusals_name_their_reason() {
        let v = Verifier::default();
        let sig = sign(SECRET, 1_000, b"body");
        assert_eq!(
            v.verify(SECRET, None, Some("1000"), b"body", 1_000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            v.verify(SECRET, Some(&sig), None, b"body", 1_000),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("soon"), b"body", 1_000),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("1000"), b"body", 1_301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("1000"), b"bodY", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v.verify(b"other", Some(&sig), Some("1000"), b"body", 1_000),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed too: moving it breaks the signature.
        assert_eq!(
            v.verify(SECRET, Some(&sig), Some("1001"), b"body", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v.verify(SECRET, Some("sha256=zz"), Some("1000"), b"body", 1_000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            v.verify(SECRET, Some("sha256=é1"), Some("1000"), b"body", 1_000),
            Err(SignatureError::Malformed)
        );
    }
}
