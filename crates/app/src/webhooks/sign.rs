//! Standard Webhooks signing (<https://www.standardwebhooks.com>): a secret is `whsec_`
//! followed by base64 of random bytes; a message is signed with HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` under the decoded bytes, and sent as
//! `webhook-signature: v1,<base64>` — several signatures separated by spaces while a rotated
//! secret still signs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The prefix every secret carries.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// Why a secret cannot sign.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the webhook secret is not whsec_ followed by base64")]
pub struct BadSecret;

fn mac(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<Hmac<Sha256>, BadSecret> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|_| BadSecret)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(mac)
}

/// One signature: `v1,<base64 of the HMAC>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, BadSecret> {
    let tag = mac(secret, id, timestamp, body)?.finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Result<String, BadSecret> {
    let signatures: Result<Vec<String>, BadSecret> = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect();
    Ok(signatures?.join(" "))
}

/// Whether any `v1` signature of `header` is `secret`'s for this message (what a receiver
/// checks; compared in constant time).
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let Ok(expected) = sign(secret, id, timestamp, body) else {
        return false;
    };
    header
        .split(' ')
        .any(|sig| sig.as_bytes().ct_eq(expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn the_specifications_example_signs_alike() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_header_carries_one_signature_per_secret_and_verifies() {
        let (old, new) = (new_secret(), new_secret());
        assert!(new.starts_with("whsec_") && new != old);
        let h = header(&[&new, &old], "msg_1", 10, "{}").unwrap();
        assert_eq!(h.split(' ').count(), 2);
        assert!(verify(&old, "msg_1", 10, "{}", &h));
        assert!(verify(&new, "msg_1", 10, "{}", &h));
        assert!(
            !verify(&new, "msg_1", 11, "{}", &h),
            "the timestamp is signed"
        );
        assert!(!verify(&new, "msg_1", 10, "{ }", &h), "the body is signed");
        assert_eq!(sign("whsec_%%%", "m", 1, ""), Err(BadSecret));
    }
}
