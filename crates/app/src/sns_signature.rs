//! Amazon SNS message signatures, as AWS documents their verification: the fields of the
//! message, in a fixed order, are signed with the topic's key (`SignatureVersion` 1:
//! RSA with SHA-1, 2: RSA with SHA-256), and `SigningCertURL` names the X.509 certificate
//! holding the public key. Only certificates served over https by `sns.<region>.amazonaws.com`
//! are fetched (bounded in bytes and time, remembered per URL); an operator can pin one
//! instead (`SNS_SIGNING_CERT_FILE`), which air-gapped servers and dry runs need: a dry run
//! never fetches anything.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// A certificate is fetched in this long at most.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A certificate is at most this many bytes.
const MAX_CERT_BYTES: usize = 64 * 1024;
/// Certificates remembered at most (one per signing key in use).
const MAX_REMEMBERED: usize = 32;

/// Why a message's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnsSignatureError {
    #[error("{0}: required to check the signature")]
    Missing(&'static str),
    #[error("SignatureVersion {0:?}: only 1 (SHA1withRSA) and 2 (SHA256withRSA) exist")]
    Version(String),
    #[error("Signature: not base64")]
    Encoding,
    #[error(
        "SigningCertURL {0:?}: only https://sns.<region>.amazonaws.com/… certificates are fetched"
    )]
    CertUrl(String),
    #[error("signing certificate: {0}")]
    Certificate(String),
    #[error("the signature does not match the message")]
    Mismatch,
}

/// The fields signed for each message type, in the order they are signed.
fn signed_fields(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Notification" => Some(&[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]),
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => Some(&[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]),
        _ => None,
    }
}

/// The text SNS signed: each present field's name and value, each on its own line. Only a
/// notification's `Subject` may be absent.
pub fn string_to_sign(body: &Value) -> Result<String, SnsSignatureError> {
    let kind = body["Type"]
        .as_str()
        .ok_or(SnsSignatureError::Missing("Type"))?;
    let fields = signed_fields(kind).ok_or(SnsSignatureError::Missing("Type"))?;
    let mut out = String::new();
    for field in fields {
        match body[*field].as_str() {
            Some(v) => {
                out.push_str(field);
                out.push('\n');
                out.push_str(v);
                out.push('\n');
            }
            None if *field == "Subject" => {}
            None => return Err(SnsSignatureError::Missing(field)),
        }
    }
    Ok(out)
}

/// Whether SNS could have served a signing certificate at `url`.
pub fn cert_url_allowed(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        })
        .unwrap_or("");
    u.scheme() == "https"
        && u.port().is_none()
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && u.path().ends_with(".pem")
}

/// The DER of the first certificate in `pem` (or `pem` itself when it is DER already).
pub fn certificate_der(pem: &[u8]) -> Result<Vec<u8>, SnsSignatureError> {
    if pem.first() == Some(&0x30) {
        return Ok(pem.to_vec());
    }
    x509_parser::pem::parse_x509_pem(pem)
        .map(|(_, p)| p.contents)
        .map_err(|e| SnsSignatureError::Certificate(format!("not a PEM certificate ({e})")))
}

/// Checks `body`'s signature against the certificate `cert_der`.
pub fn verify_with(body: &Value, cert_der: &[u8]) -> Result<(), SnsSignatureError> {
    let version = body["SignatureVersion"]
        .as_str()
        .ok_or(SnsSignatureError::Missing("SignatureVersion"))?;
    let algorithm: &'static dyn signature::VerificationAlgorithm = match version {
        "1" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
        other => return Err(SnsSignatureError::Version(other.chars().take(20).collect())),
    };
    let sig = body["Signature"]
        .as_str()
        .ok_or(SnsSignatureError::Missing("Signature"))?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig.trim())
        .map_err(|_| SnsSignatureError::Encoding)?;
    let text = string_to_sign(body)?;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| SnsSignatureError::Certificate(format!("not an X.509 certificate ({e})")))?;
    if !cert.validity().is_valid() {
        return Err(SnsSignatureError::Certificate(
            "outside its validity period".into(),
        ));
    }
    let key = &cert.public_key().subject_public_key.data;
    UnparsedPublicKey::new(algorithm, key.as_ref())
        .verify(text.as_bytes(), &sig)
        .map_err(|_| SnsSignatureError::Mismatch)
}

static FETCHED: LazyLock<Mutex<HashMap<String, Vec<u8>>>> = LazyLock::new(Mutex::default);

/// Checks `body`'s signature: against `pinned` when an operator pinned a certificate, else
/// against the certificate at its `SigningCertURL` (fetched once; never in a dry run).
pub async fn verify(
    body: &Value,
    pinned: Option<&[u8]>,
    dry_run: bool,
) -> Result<(), SnsSignatureError> {
    if let Some(der) = pinned {
        return verify_with(body, der);
    }
    let url = body["SigningCertURL"]
        .as_str()
        .or_else(|| body["SigningCertUrl"].as_str())
        .ok_or(SnsSignatureError::Missing("SigningCertURL"))?;
    if !cert_url_allowed(url) {
        return Err(SnsSignatureError::CertUrl(url.chars().take(200).collect()));
    }
    if dry_run {
        return Err(SnsSignatureError::Certificate(
            "a dry run fetches nothing; pin the certificate with SNS_SIGNING_CERT_FILE".into(),
        ));
    }
    let known = FETCHED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(url)
        .cloned();
    let der = match known {
        Some(der) => der,
        None => {
            let der = certificate_der(&fetch(url).await?)?;
            let mut fetched = FETCHED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if fetched.len() >= MAX_REMEMBERED {
                fetched.clear();
            }
            fetched.insert(url.to_string(), der.clone());
            der
        }
    };
    verify_with(body, &der)
}

async fn fetch(url: &str) -> Result<Vec<u8>, SnsSignatureError> {
    let failed = |e: String| SnsSignatureError::Certificate(format!("fetching {url}: {e}"));
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(failed(format!("answered {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| failed(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_CERT_BYTES {
            return Err(failed(format!("larger than {MAX_CERT_BYTES} bytes")));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_signed_text_follows_the_documented_order() {
        let n = json!({
            "Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:t",
            "Message": "{\"a\":1}", "Timestamp": "2026-12-08T00:00:00.000Z",
            "Signature": "x", "SignatureVersion": "2",
        });
        assert_eq!(
            string_to_sign(&n).unwrap(),
            "Message\n{\"a\":1}\nMessageId\nm-1\nTimestamp\n2026-12-08T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n"
        );
        let mut with_subject = n.clone();
        with_subject["Subject"] = json!("Bounce");
        assert!(
            string_to_sign(&with_subject)
                .unwrap()
                .contains("Subject\nBounce\nTimestamp")
        );
        let confirm = json!({"Type": "SubscriptionConfirmation", "Message": "m", "MessageId": "i",
            "Timestamp": "t", "TopicArn": "a"});
        assert_eq!(
            string_to_sign(&confirm),
            Err(SnsSignatureError::Missing("SubscribeURL"))
        );
        assert!(string_to_sign(&json!({"Type": "Other"})).is_err());
    }

    #[test]
    fn only_amazon_sns_certificate_urls_are_fetched() {
        assert!(cert_url_allowed(
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
        ));
        assert!(cert_url_allowed(
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"
        ));
        for bad in [
            "http://sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem",
            "https://sns..amazonaws.com/x.pem",
            "https://sns.eu-west-1.amazonaws.com:8443/x.pem",
            "https://sns.eu-west-1.amazonaws.com/x.txt",
            "https://s3.amazonaws.com/x.pem",
            "not a url",
        ] {
            assert!(!cert_url_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn junk_is_refused_with_a_reason_not_a_panic() {
        let body = json!({"Type": "Notification", "SignatureVersion": "3", "Signature": "x"});
        assert!(matches!(
            verify_with(&body, b"junk"),
            Err(SnsSignatureError::Version(_))
        ));
        let body = json!({"Type": "Notification", "SignatureVersion": "2", "Signature": "%%%"});
        assert_eq!(
            verify_with(&body, b"junk"),
            Err(SnsSignatureError::Encoding)
        );
        let body = json!({"Type": "Notification", "SignatureVersion": "2", "Signature": "AAAA",
            "Message": "m", "MessageId": "i", "Timestamp": "t", "TopicArn": "a"});
        assert!(matches!(
            verify_with(&body, b"junk"),
            Err(SnsSignatureError::Certificate(_))
        ));
        assert!(certificate_der(b"-----BEGIN nonsense").is_err());
    }
}
