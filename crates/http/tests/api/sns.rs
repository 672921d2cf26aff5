//! Amazon SES bounces delivered by SNS: a message signed with the topic's key (here a key
//! and certificate made for the test, pinned as SNS_SIGNING_CERT_FILE pins one) suppresses its
//! recipient; a tampered message, an unsigned one or one signed by another key answers 401
//! and changes nothing.

use crate::helpers::{ADMIN_KEY, Backend, TestApp};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "sns-events-secret-0123456789";

/// A signing key and its self-signed certificate (DER).
fn topic_key() -> (RsaKeyPair, Vec<u8>) {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["sns.us-east-1.amazonaws.com".into()])
        .unwrap()
        .self_signed(&kp)
        .unwrap();
    let key = RsaKeyPair::from_pkcs8(&kp.serialize_der()).unwrap();
    (key, cert.der().to_vec())
}

fn bounce_of(email: &str) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": format!("sns-{email}"),
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-bounces",
        "Timestamp": "2026-12-08T00:00:00.000Z",
        "Message": json!({
            "notificationType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": email}]},
            "mail": {"messageId": "ses-1"}
        }).to_string(),
        "SignatureVersion": "2",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
    })
}

fn sign(key: &RsaKeyPair, body: &mut Value) {
    let text = halcytone_app::sns_signature::string_to_sign(body).unwrap();
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        text.as_bytes(),
        &mut sig,
    )
    .unwrap();
    body["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(sig));
}

async fn app_pinning(cert: Vec<u8>) -> TestApp {
    let mut c = crate::helpers::config();
    c.mailing.events_secret = Some(SECRET.into());
    c.mailing.sns_verify = true;
    c.mailing.sns_signing_cert = Some(cert);
    crate::helpers::spawn_app_with(Backend::Sqlite, c)
        .await
        .unwrap()
}

async fn deliver(app: &TestApp, body: &Value) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v2/email-events/sns?token={SECRET}"),
        None,
        &body.to_string(),
    )
    .await
}

async fn suppressed(app: &TestApp, email: &str) -> bool {
    app.get(&format!("/api/v2/suppressions/{email}"), Some(ADMIN_KEY))
        .await
        .status
        == StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_sns_bounce_suppresses_and_a_bad_signature_changes_nothing() {
    let (key, cert) = topic_key();
    let app = app_pinning(cert).await;

    let mut good = bounce_of("gone@example.com");
    sign(&key, &mut good);
    let a = deliver(&app, &good).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(suppressed(&app, "gone@example.com").await);

    // The same signature over another recipient: the message was changed on the way.
    let mut tampered = good.clone();
    tampered["Message"] = bounce_of("victim@example.com")["Message"].clone();
    let t = deliver(&app, &tampered).await;
    assert_eq!(t.status, StatusCode::UNAUTHORIZED, "{}", t.text);
    assert!(t.text.contains("does not match"), "{}", t.text);

    // No signature at all, and a signature by a key that is not the topic's.
    let unsigned = bounce_of("victim@example.com");
    let u = deliver(&app, &unsigned).await;
    assert_eq!(u.status, StatusCode::UNAUTHORIZED, "{}", u.text);
    assert!(u.text.contains("Signature: required"), "{}", u.text);
    let (other, _) = topic_key();
    let mut forged = bounce_of("victim@example.com");
    sign(&other, &mut forged);
    let f = deliver(&app, &forged).await;
    assert_eq!(f.status, StatusCode::UNAUTHORIZED, "{}", f.text);
    assert!(
        !suppressed(&app, "victim@example.com").await,
        "nothing changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_pinned_certificate_only_amazon_urls_are_fetched_and_a_dry_run_fetches_none() {
    let mut c = crate::helpers::config();
    c.mailing.events_secret = Some(SECRET.into());
    c.mailing.sns_verify = true;
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, c)
        .await
        .unwrap();
    let (key, _) = topic_key();
    let mut elsewhere = bounce_of("x@example.com");
    elsewhere["SigningCertURL"] = json!("https://attacker.example/cert.pem");
    sign(&key, &mut elsewhere);
    let e = deliver(&app, &elsewhere).await;
    assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{}", e.text);
    assert!(e.text.contains("SigningCertURL"), "{}", e.text);
    let mut amazon = bounce_of("x@example.com");
    sign(&key, &mut amazon);
    let d = deliver(&app, &amazon).await;
    assert_eq!(d.status, StatusCode::UNAUTHORIZED, "{}", d.text);
    assert!(d.text.contains("dry run fetches nothing"), "{}", d.text);
    assert!(!suppressed(&app, "x@example.com").await);
}
